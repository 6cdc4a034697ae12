/*
 * video.h - frames from video files, network streams and V4L2 cameras, through FFmpeg's
 * libraries (libavformat demuxes, libavcodec decodes, libavdevice opens cameras, libswscale
 * converts to RGB).
 *
 * A sn_video reads one video stream (the best one FFmpeg finds) and hands out its frames as
 * packed 8-bit RGB, the same pixels the image loader produces, each with its frame index (the
 * decoder's frame number, from 0) and timestamp (seconds from the start of the stream). Frame
 * selection happens here, before the RGB conversion, so skipped frames cost only their decode:
 *   every = N   frames 0, N, 2N, ... by index;
 *   fps = F     at most F frames per second of stream time, chosen by timestamp: time is cut into
 *               slots of 1/F seconds and the first frame of each slot is kept, so a variable or
 *               drifting frame rate still gives F frames a second.
 *
 * Bad input: a file FFmpeg cannot open or parse is a precise error from sn_video_open (the call
 * and FFmpeg's reason). Once open, a packet the decoder rejects is skipped and counted
 * (sn_video_info.decode_errors, with the last reason), so one damaged frame does not end a
 * long video. A read error in the middle of a file (a truncated or damaged container) first
 * lets the decoder hand out every frame it still holds, then is returned as an error.
 *
 * Cameras: "/dev/video*" (or SN_VIDEO_SOURCE_CAMERA) opens a V4L2 device through libavdevice,
 * in non-blocking mode, so that the interrupt flag stops a wait for the next frame within a few
 * milliseconds (FFmpeg's blocking V4L2 read retries through signals and cannot be interrupted).
 * The same flag aborts blocking reads of files, pipes and network streams through FFmpeg's
 * AVIOInterruptCB; a signal handler that sets it should be installed without SA_RESTART so that
 * a read blocked on a pipe returns.
 *
 * Built without FFmpeg (SENTINEL_HAVE_FFMPEG unset), sn_video_open returns SN_ERR_UNSUPPORTED
 * saying so (video_none.c), and everything else still builds.
 */
#ifndef SN_VIDEO_H
#define SN_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "sentinel.h"

typedef struct sn_video sn_video;

typedef enum sn_video_source {
    SN_VIDEO_SOURCE_AUTO = 0, /* a path starting with "/dev/video" is a camera, else a file */
    SN_VIDEO_SOURCE_FILE = 1, /* a file or URL, whatever FFmpeg's probing finds in it */
    SN_VIDEO_SOURCE_CAMERA = 2 /* a V4L2 device (libavdevice's video4linux2 input) */
} sn_video_source;

typedef struct sn_video_options {
    size_t size;         /* sizeof(sn_video_options): set by SN_VIDEO_OPTIONS_INIT */
    int64_t every;       /* keep frames whose index is a multiple of every (1: all) */
    double fps;          /* > 0: at most fps frames per second of stream time; 0: no limit */
    uint64_t max_pixels; /* refuse frames over width*height; 0: SN_IMAGE_DEFAULT_MAX_PIXELS */
    sn_video_source source;
    int threads; /* decoder threads; 0: FFmpeg's choice (one per core) */
    /* The interrupt flag, read through a function so that any flag will do (a signal handler's
     * volatile sig_atomic_t, an atomic): when non-NULL it is polled during reads, waits and
     * blocking I/O, and once it returns non-zero the stream ends as interrupted
     * (sn_video_info.interrupted). It must be cheap and must not call back into the video. */
    int (*interrupt)(void *opaque);
    void *interrupt_opaque;
} sn_video_options;

#define SN_VIDEO_OPTIONS_INIT                                                                   \
    {sizeof(sn_video_options), 1, 0.0, 0, SN_VIDEO_SOURCE_AUTO, 0, NULL, NULL}

/* One selected frame. sn_video_next fills it; the caller owns image.pixels and releases them
 * with sn_video_frame_free (frames may be kept past the next call, e.g. to fill a batch). */
typedef struct sn_video_frame {
    sn_image image;          /* width x height packed RGB24, rows top to bottom */
    int64_t index;           /* the decoder's frame number, from 0 (skipped frames count) */
    double timestamp;        /* seconds from the start of the stream */
    int timestamp_estimated; /* 1 when the stream gave no time for this frame (see video.c) */
    int end;                 /* 1: no frame: the stream ended, was interrupted or failed */
} sn_video_frame;

/* What is known about an open video, and what reading it has met so far. */
typedef struct sn_video_info {
    int camera;              /* opened as a V4L2 camera */
    int width, height;       /* as the stream declares them (frames may change size) */
    double frame_rate;       /* the stream's average (or nominal) rate; 0 when unknown */
    double duration;         /* seconds; < 0 when unknown (cameras, live streams) */
    char container[64];      /* FFmpeg's demuxer name, e.g. "matroska,webm", "video4linux2,v4l2" */
    char codec[64];          /* the decoder's name, e.g. "mpeg4", "h264" */
    int64_t decoded;         /* frames out of the decoder so far */
    int64_t returned;        /* frames handed out by sn_video_next */
    int64_t decode_errors;   /* packets or frames the decoder rejected, skipped */
    char last_decode_error[256]; /* the last, e.g. "after 7 frames: avcodec_send_packet: ..." */
    int interrupted;         /* the interrupt flag ended the stream */
} sn_video_info;

/* Open a file, URL or camera. opt may be NULL (SN_VIDEO_OPTIONS_INIT). Errors, with FFmpeg's
 * call and reason in the message (which does not repeat the path; callers print it beside):
 * SN_ERR_INVALID_ARGUMENT for bad options (every < 1, fps < 0 or not finite, every and fps
 * both given), SN_ERR_IO when the path cannot be opened or read (a missing camera included),
 * SN_ERR_FORMAT for data FFmpeg cannot parse, SN_ERR_UNSUPPORTED for no video stream, no
 * decoder or a build without FFmpeg, SN_ERR_OUT_OF_MEMORY for a frame size over max_pixels. */
sn_status sn_video_open(const char *path, const sn_video_options *opt, sn_video **out,
                        sn_error *err);

/* The next selected frame. SN_OK with out->end == 0 is a frame; SN_OK with out->end == 1 is the
 * end of the stream (or an interrupt: see sn_video_info). A failure (a read error mid-stream
 * after the decoder was drained, a frame over the pixel limit, out of memory) returns its status
 * with out->end == 1; later calls return the end. */
sn_status sn_video_next(sn_video *v, sn_video_frame *out, sn_error *err);

void sn_video_get_info(const sn_video *v, sn_video_info *out);

void sn_video_frame_free(sn_video_frame *f);

void sn_video_destroy(sn_video *v);

/* FFmpeg writes its own warnings (e.g. about each damaged packet) to stderr through a
 * process-wide log, which this library leaves alone. Programs that report errors themselves
 * call this once: 0 silences FFmpeg's log, 1 keeps its errors and warnings. A no-op without
 * FFmpeg. */
void sn_video_set_ffmpeg_log(int verbose);

/* 1 when this build reads video (it was built with FFmpeg). */
int sn_video_supported(void);

#endif
