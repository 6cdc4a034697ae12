/*
 * video_fixtures.h - short test videos written with FFmpeg's libraries, whose frames say which
 * frame they are, for the video reader's tests (test_video.c) and the CLI's (test_cli_video.c).
 *
 * Frame k of a clip is sn_test_video_pattern(k): eight vertical stripes, stripe i reddish when
 * bit i of k is set and bluish when not, with a texture that varies per pixel and per frame.
 * The bits survive lossy coding (sn_test_video_read_index reads them back from the stripes'
 * mean red and blue), and a lossless codec (ffv1 with bgr0) gives back the exact pixels.
 * Only built with FFmpeg.
 */
#ifndef SN_VIDEO_FIXTURES_H
#define SN_VIDEO_FIXTURES_H

#ifdef SENTINEL_HAVE_FFMPEG

#include <stddef.h>
#include <stdint.h>

/* Frames are numbered with 8 bits. */
#define SN_TEST_VIDEO_MAX_FRAMES 256

typedef struct sn_test_video {
    const char *path;    /* the container is chosen from the extension (.mp4 .avi .mkv .nut) */
    const char *codec;   /* an FFmpeg encoder: "mpeg4", "mjpeg", "ffv1", ... */
    const char *pix_fmt; /* what the encoder is fed: "yuv420p", "yuvj420p", "bgr0", ... */
    int width, height;   /* at least 16 x 2 */
    int frames;          /* 1..SN_TEST_VIDEO_MAX_FRAMES */
    int rate_num, rate_den; /* the frame rate as a fraction, e.g. 25/1 or 30000/1001 */
    /* Optional: each frame's time in seconds (a variable frame rate, written with a
     * millisecond time base); NULL: frame k at k * rate_den / rate_num. */
    const double *times;
} sn_test_video;

/* Writes the clip; 0 on success, else -1 with the failing call and FFmpeg's reason in msg. */
int sn_test_video_write(const sn_test_video *spec, char *msg, size_t msg_size);

/* Writes seconds of a 440 Hz tone as 16-bit PCM (.wav): a file with no video stream. */
int sn_test_audio_write(const char *path, double seconds, char *msg, size_t msg_size);

/* The RGB24 pixels of frame `index` of a width x height clip. */
void sn_test_video_pattern(int index, int width, int height, uint8_t *rgb);

/* The frame number the stripes of a decoded frame carry. */
int sn_test_video_read_index(const uint8_t *rgb, int width, int height);

#endif
#endif
