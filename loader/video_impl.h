/*
 * video_impl.h - the sn_video handle, shared by video.c (opening, options, information,
 * teardown) and video_decode.c (reading, decoding, frame selection, RGB conversion). Private to
 * those two files; only built with FFmpeg.
 */
#ifndef SN_VIDEO_IMPL_H
#define SN_VIDEO_IMPL_H

#ifdef SENTINEL_HAVE_FFMPEG

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "video.h"

struct sn_video {
    sn_video_options opt; /* validated; max_pixels resolved */
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *st;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int pkt_pending;         /* pkt holds a packet the decoder refused with EAGAIN */
    int draining;            /* the demuxer is done; the decoder was sent its flush */
    int finished;            /* the end (or a failure) has been returned */
    double frame_period;     /* 1 / frame rate in seconds; 0 when unknown */
    int64_t start_pts;       /* timestamps count from here (AV_NOPTS_VALUE: first frame's) */
    double last_ts;          /* the previous frame's timestamp, for estimates */
    int have_last_ts;
    int64_t last_slot;       /* fps selection: the slot of the last kept frame */
    int have_slot;
    sn_error read_error;     /* a read error held back until the decoder is drained */
    sn_video_info info;
};

/* Fill err from an FFmpeg error code: "<what>: <call>: <av_strerror text>", with a status for
 * the kind of failure (SN_ERR_FORMAT for invalid data, SN_ERR_OUT_OF_MEMORY for ENOMEM, ...). */
sn_status sn__video_av_error(sn_error *err, int averr, const char *what, const char *call);

/* Whether the caller's interrupt flag is raised. */
int sn__video_interrupted(const sn_video *v);

#endif
#endif
