/*
 * video_none.c - the video API in a build without FFmpeg: opening fails with a message that
 * says why and what to install, so programs can offer video input unconditionally. See video.h.
 */
#ifndef SENTINEL_HAVE_FFMPEG

#include <string.h>

#include "error.h"
#include "video.h"

sn_status sn_video_open(const char *path, const sn_video_options *opt, sn_video **out,
                        sn_error *err) {
    (void)path;
    (void)opt;
    if (out) *out = NULL;
    return sn_errorf(err, SN_ERR_UNSUPPORTED,
                     "this build of Sentinel has no video support (it was built without "
                     "FFmpeg's libraries: install libavformat-dev libavcodec-dev "
                     "libavdevice-dev libavutil-dev libswscale-dev and rebuild)");
}

sn_status sn_video_next(sn_video *v, sn_video_frame *out, sn_error *err) {
    (void)v;
    if (out) {
        memset(out, 0, sizeof *out);
        out->end = 1;
    }
    return sn_errorf(err, SN_ERR_UNSUPPORTED, "this build of Sentinel has no video support");
}

void sn_video_get_info(const sn_video *v, sn_video_info *out) {
    (void)v;
    if (out) memset(out, 0, sizeof *out);
}

void sn_video_frame_free(sn_video_frame *f) {
    if (f) sn_image_free(&f->image);
}

void sn_video_destroy(sn_video *v) {
    (void)v;
}

void sn_video_set_ffmpeg_log(int verbose) {
    (void)verbose;
}

int sn_video_supported(void) {
    return 0;
}

#endif
