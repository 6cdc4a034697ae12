/*
 * test_video.c - the video reader (loader/video.h) on clips generated here with FFmpeg's
 * libraries (tests/support/video_fixtures.c), whose frames carry their own frame number: every
 * frame read back in order with the right index, timestamp and content; --every and --fps
 * selection (fps on a variable-frame-rate clip, so selection by count would fail); odd sizes;
 * exact pixels through a lossless codec and the YUV->RGB conversion within rounding; a damaged
 * packet skipped and counted; a truncated file; garbage, empty, audio-only and missing inputs;
 * a missing camera; the pixel limit; option checks; the interrupt flag, including a read
 * blocked on a pipe.
 *
 * No camera exists on the test machines, so V4L2 capture itself is not exercised; only the
 * missing-device error is.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"
#include "video.h"

#ifndef SENTINEL_HAVE_FFMPEG

Test(video, without_ffmpeg_says_so) {
    sn_video *v = (sn_video *)1;
    sn_error err = {0};
    cr_assert_eq(sn_video_supported(), 0);
    cr_assert_eq(sn_video_open("clip.mp4", NULL, &v, &err), SN_ERR_UNSUPPORTED);
    cr_assert_null(v);
    cr_assert(strstr(err.message, "no video support"), "%s", err.message);
}

#else

#include "video_fixtures.h"

static char *g_dir;

static void setup(void) {
    g_dir = sn_test_mkdtemp();
    cr_assert(g_dir);
    sn_video_set_ffmpeg_log(0);
}

static void teardown(void) {
    sn_test_rmtree(g_dir);
    free(g_dir);
}

TestSuite(video, .init = setup, .fini = teardown);

static const char *tmp_path(const char *name) {
    static char buf[8][4096];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static void make_clip(const sn_test_video *spec) {
    char msg[512];
    cr_assert_eq(sn_test_video_write(spec, msg, sizeof msg), 0, "writing %s: %s", spec->path, msg);
}

/* What came back from one read of a whole clip. */
typedef struct got_frame {
    int64_t index;
    double ts;
    int estimated, content, width, height;
} got_frame;

typedef struct got {
    got_frame f[SN_TEST_VIDEO_MAX_FRAMES];
    int n;
    sn_status end_status; /* SN_OK for a clean end */
    sn_error err;
    sn_video_info info;
} got;

/* Reads every selected frame of path; the open must succeed. */
static void read_all(const char *path, const sn_video_options *opt, got *g) {
    memset(g, 0, sizeof *g);
    sn_video *v = NULL;
    sn_error err = {0};
    sn_status s = sn_video_open(path, opt, &v, &err);
    cr_assert_eq(s, SN_OK, "opening %s: %s (%s)", path, sn_status_string(s), err.message);
    for (;;) {
        sn_video_frame fr;
        s = sn_video_next(v, &fr, &g->err);
        if (s != SN_OK || fr.end) {
            cr_assert(fr.end, "a failed read must say end");
            cr_assert_null(fr.image.pixels);
            g->end_status = s;
            break;
        }
        cr_assert_lt(g->n, SN_TEST_VIDEO_MAX_FRAMES, "more frames than were written");
        /* A frame is an image in full and as stored (image.h's fields say so). */
        cr_assert(fr.image.full_width == fr.image.width &&
                      fr.image.full_height == fr.image.height && fr.image.scale_num == 8 &&
                      fr.image.orientation == 1,
                  "frame %lld: full %dx%d of %dx%d, scale %d/8, orientation %d",
                  (long long)fr.index, fr.image.full_width, fr.image.full_height,
                  fr.image.width, fr.image.height, fr.image.scale_num, fr.image.orientation);
        got_frame *f = &g->f[g->n++];
        f->index = fr.index;
        f->ts = fr.timestamp;
        f->estimated = fr.timestamp_estimated;
        f->width = fr.image.width;
        f->height = fr.image.height;
        f->content = sn_test_video_read_index(fr.image.pixels, fr.image.width, fr.image.height);
        sn_video_frame_free(&fr);
        cr_assert_null(fr.image.pixels);
    }
    /* The end is sticky: asking again gives the end again, without error. */
    sn_video_frame fr;
    cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK);
    cr_assert(fr.end);
    sn_video_get_info(v, &g->info);
    sn_video_destroy(v);
}

static sn_status open_error(const char *path, const sn_video_options *opt, sn_error *err) {
    sn_video *v = (sn_video *)1;
    sn_status s = sn_video_open(path, opt, &v, err);
    if (s != SN_OK) cr_assert_null(v, "a failed open leaves no handle");
    sn_video_destroy(s == SN_OK ? v : NULL);
    return s;
}

/* --- reading whole clips ------------------------------------------------------------------ */

/* Writes the clip, reads it whole into g, and checks every frame and the information. */
static void check_all_frames(const sn_test_video *spec, double ts_tol, got *g) {
    make_clip(spec);
    read_all(spec->path, NULL, g);
    cr_assert_eq(g->end_status, SN_OK, "%s", g->err.message);
    cr_assert_eq(g->n, spec->frames, "%s: %d of %d frames", spec->path, g->n, spec->frames);
    double period = (double)spec->rate_den / spec->rate_num;
    for (int k = 0; k < g->n; k++) {
        const got_frame *f = &g->f[k];
        cr_assert_eq(f->index, k, "%s: frame %d has index %lld", spec->path, k,
                     (long long)f->index);
        cr_assert_eq(f->content, k, "%s: frame %d shows frame %d", spec->path, k, f->content);
        cr_assert_eq(f->width, spec->width);
        cr_assert_eq(f->height, spec->height);
        cr_assert_eq(f->estimated, 0);
        cr_assert(fabs(f->ts - k * period) <= ts_tol, "%s: frame %d at %.6f s, want %.6f s",
                  spec->path, k, f->ts, k * period);
        if (k) cr_assert_gt(f->ts, g->f[k - 1].ts, "timestamps must increase");
    }
    cr_assert_eq(g->info.decoded, spec->frames);
    cr_assert_eq(g->info.returned, spec->frames);
    cr_assert_eq(g->info.decode_errors, 0, "%s", g->info.last_decode_error);
    cr_assert_eq(g->info.interrupted, 0);
    cr_assert_eq(g->info.width, spec->width);
    cr_assert_eq(g->info.height, spec->height);
    cr_assert_eq(g->info.camera, 0);
    cr_assert(fabs(g->info.frame_rate - 1.0 / period) < 1e-3 * (1.0 / period),
              "frame rate %f, want %f", g->info.frame_rate, 1.0 / period);
}

Test(video, mp4_mpeg4_every_frame) {
    sn_test_video spec = {tmp_path("clip.mp4"), "mpeg4", "yuv420p", 160, 96, 40, 25, 1, NULL};
    got g;
    check_all_frames(&spec, 1e-6, &g);
    cr_assert_str_eq(g.info.codec, "mpeg4");
    cr_assert(strstr(g.info.container, "mp4"), "%s", g.info.container);
    cr_assert(fabs(g.info.duration - 40 / 25.0) < 0.05, "duration %f", g.info.duration);
}

Test(video, avi_mjpeg_every_frame) {
    sn_test_video spec = {tmp_path("clip.avi"), "mjpeg", "yuvj420p", 128, 64, 30, 30, 1, NULL};
    got g;
    check_all_frames(&spec, 1e-6, &g);
}

Test(video, ntsc_rate_timestamps) {
    /* 30000/1001 frames per second: timestamps are k * 1001/30000 s, not k/30. */
    sn_test_video spec = {tmp_path("ntsc.mkv"), "mpeg4", "yuv420p", 96, 64, 61, 30000, 1001,
                          NULL};
    got g;
    check_all_frames(&spec, 1e-3, &g); /* Matroska stores milliseconds */
}

Test(video, odd_size_lossy) {
    /* Odd sizes with 4:2:0 chroma: the last chroma column and row cover one pixel. */
    sn_test_video spec = {tmp_path("odd.mkv"), "mpeg4", "yuv420p", 97, 61, 12, 25, 1, NULL};
    got g;
    check_all_frames(&spec, 1e-3, &g);
}

Test(video, odd_size_lossless_exact_pixels) {
    /* ffv1 on bgr0 is lossless: every decoded RGB byte must be the one drawn, which checks
     * channel order, row stride and odd widths exactly. */
    const int w = 97, h = 61, n = 6;
    sn_test_video spec = {tmp_path("exact.mkv"), "ffv1", "bgr0", w, h, n, 10, 1, NULL};
    make_clip(&spec);
    sn_video *v;
    sn_error err = {0};
    cr_assert_eq(sn_video_open(spec.path, NULL, &v, &err), SN_OK, "%s", err.message);
    uint8_t *want = malloc((size_t)w * h * 3);
    cr_assert(want);
    for (int k = 0; k < n; k++) {
        sn_video_frame fr;
        cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK, "%s", err.message);
        cr_assert_eq(fr.end, 0);
        cr_assert_eq(fr.image.width, w);
        cr_assert_eq(fr.image.height, h);
        sn_test_video_pattern(k, w, h, want);
        for (size_t i = 0; i < (size_t)w * h * 3; i++)
            cr_assert_eq(fr.image.pixels[i], want[i], "frame %d byte %zu (x %zu y %zu c %zu)", k,
                         i, i / 3 % w, i / 3 / w, i % 3);
        sn_video_frame_free(&fr);
    }
    sn_video_frame fr;
    cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK);
    cr_assert(fr.end);
    free(want);
    sn_video_destroy(v);
}

Test(video, yuv444_conversion_within_rounding) {
    /* ffv1 keeps the YUV planes exactly, so the only error left is RGB -> 8-bit YUV -> RGB
     * rounding (a wrong matrix or range would be off by tens). */
    const int w = 64, h = 48;
    sn_test_video spec = {tmp_path("yuv444.mkv"), "ffv1", "yuv444p", w, h, 3, 10, 1, NULL};
    make_clip(&spec);
    sn_video *v;
    sn_error err = {0};
    cr_assert_eq(sn_video_open(spec.path, NULL, &v, &err), SN_OK, "%s", err.message);
    uint8_t *want = malloc((size_t)w * h * 3);
    cr_assert(want);
    for (int k = 0; k < 3; k++) {
        sn_video_frame fr;
        cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK, "%s", err.message);
        cr_assert_eq(fr.end, 0);
        sn_test_video_pattern(k, w, h, want);
        int worst = 0;
        double sum = 0;
        for (size_t i = 0; i < (size_t)w * h * 3; i++) {
            int d = abs((int)fr.image.pixels[i] - (int)want[i]);
            if (d > worst) worst = d;
            sum += d;
        }
        double mean = sum / ((double)w * h * 3);
        cr_assert_leq(worst, 3, "frame %d: a channel is off by %d", k, worst);
        cr_assert_leq(mean, 1.0, "frame %d: mean error %.3f", k, mean);
        sn_video_frame_free(&fr);
    }
    free(want);
    sn_video_destroy(v);
}

/* --- frame selection ---------------------------------------------------------------------- */

Test(video, every_5) {
    sn_test_video spec = {tmp_path("every.mp4"), "mpeg4", "yuv420p", 128, 64, 33, 25, 1, NULL};
    make_clip(&spec);
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.every = 5;
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.end_status, SN_OK, "%s", g.err.message);
    cr_assert_eq(g.n, 7, "frames 0,5,...,30: got %d", g.n);
    for (int i = 0; i < g.n; i++) {
        cr_assert_eq(g.f[i].index, 5 * i);
        cr_assert_eq(g.f[i].content, 5 * i, "kept frame %d shows %d", i, g.f[i].content);
        cr_assert(fabs(g.f[i].ts - 5 * i / 25.0) < 1e-6);
    }
    cr_assert_eq(g.info.decoded, 33, "every frame is decoded, only the kept are converted");
    cr_assert_eq(g.info.returned, 7);
}

Test(video, every_n_random) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("video::every_n_random"));
    int frames = 20 + (int)(sn_rng_u64(&r) % 60), every = 2 + (int)(sn_rng_u64(&r) % 9);
    sn_test_video spec = {tmp_path("every.avi"), "mjpeg", "yuvj420p", 64, 32, frames, 24, 1,
                          NULL};
    make_clip(&spec);
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.every = every;
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.n, (frames + every - 1) / every, "%d frames every %d: got %d", frames, every,
                 g.n);
    for (int i = 0; i < g.n; i++) {
        cr_assert_eq(g.f[i].index, (int64_t)every * i);
        cr_assert_eq(g.f[i].content, every * i);
    }
}

/* Reference for fps selection: for each 1/fps-second slot, the first frame whose time lies in
 * it. Written as a search per slot, unlike the reader's running comparison. */
static int expected_fps_frames(const double *t, int n, double fps, int *keep) {
    int count = 0;
    int64_t last_slot = (int64_t)floor(t[n - 1] * fps + 1e-6);
    for (int64_t slot = 0; slot <= last_slot; slot++) {
        for (int k = 0; k < n; k++)
            if (t[k] >= slot / fps - 1e-6 / fps && t[k] < (slot + 1) / fps - 1e-6 / fps) {
                keep[count++] = k;
                break;
            }
    }
    return count;
}

Test(video, fps_selection_by_timestamps) {
    /* A variable frame rate: frames 10 to 80 ms apart, so F frames per second of stream time
     * is not every Nth frame. */
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("video::fps_selection_by_timestamps"));
    const int n = 90;
    double t[90];
    t[0] = 0;
    for (int k = 1; k < n; k++) t[k] = t[k - 1] + 0.001 * (double)(10 + sn_rng_u64(&r) % 71);
    const double rates[] = {2.0, 5.0, 7.5, 12.0};
    double fps = rates[sn_rng_u64(&r) % 4];
    /* times in whole milliseconds, as the file stores them */
    for (int k = 0; k < n; k++) t[k] = round(t[k] * 1000.0) / 1000.0;
    sn_test_video spec = {tmp_path("vfr.mkv"), "ffv1", "yuv420p", 64, 32, n, 25, 1, t};
    make_clip(&spec);
    int keep[90];
    int want = expected_fps_frames(t, n, fps, keep);

    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.fps = fps;
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.end_status, SN_OK, "%s", g.err.message);
    cr_assert_eq(g.n, want, "fps %.1f over %.3f s: %d frames, want %d", fps, t[n - 1], g.n, want);
    for (int i = 0; i < g.n; i++) {
        cr_assert_eq(g.f[i].index, keep[i], "kept #%d: frame %lld, want %d", i,
                     (long long)g.f[i].index, keep[i]);
        cr_assert_eq(g.f[i].content, keep[i]);
        cr_assert(fabs(g.f[i].ts - t[keep[i]]) < 1e-6, "frame %d at %f s, want %f s", keep[i],
                  g.f[i].ts, t[keep[i]]);
    }
    /* The promise itself: no two kept frames within one slot, i.e. at most F per second. */
    for (int i = 1; i < g.n; i++)
        cr_assert_gt(floor(g.f[i].ts * fps + 1e-6), floor(g.f[i - 1].ts * fps + 1e-6));
}

Test(video, fps_above_the_frame_rate_keeps_all) {
    sn_test_video spec = {tmp_path("all.mp4"), "mpeg4", "yuv420p", 64, 32, 20, 10, 1, NULL};
    make_clip(&spec);
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.fps = 30;
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.n, 20);
    for (int i = 0; i < g.n; i++) cr_assert_eq(g.f[i].content, i);
}

/* --- damaged and wrong inputs ------------------------------------------------------------- */

Test(video, truncated_file) {
    /* Matroska keeps frames in order as it goes, so a cut file still holds its first frames. */
    sn_test_video spec = {tmp_path("cut.mkv"), "mpeg4", "yuv420p", 128, 64, 60, 25, 1, NULL};
    make_clip(&spec);
    size_t size;
    void *bytes = sn_test_read_file(spec.path, &size);
    cr_assert(bytes);
    const char *cut = tmp_path("truncated.mkv");
    cr_assert_eq(sn_test_write_file(cut, bytes, size * 11 / 20), 0);
    free(bytes);
    got g;
    read_all(cut, NULL, &g);
    cr_assert_gt(g.n, 5, "frames before the cut must come back (got %d)", g.n);
    cr_assert_lt(g.n, 60);
    for (int k = 0; k < g.n; k++) {
        cr_assert_eq(g.f[k].index, k);
        cr_assert_eq(g.f[k].content, k, "frame %d shows %d", k, g.f[k].content);
    }
    /* Then either a clean end or a precise error naming the call. */
    if (g.end_status != SN_OK)
        cr_assert(strstr(g.err.message, "av_read_frame"), "%s", g.err.message);
    cr_log_info("truncated: %d frames, end %s %s, %lld decode errors (%s)", g.n,
                sn_status_string(g.end_status), g.err.message, (long long)g.info.decode_errors,
                g.info.last_decode_error);
}

/* A copy of the payload of frame k's video packet (read with libavformat). */
static uint8_t *packet_bytes(const char *path, int k, int *size);

Test(video, damaged_packet_is_skipped_and_counted) {
    const int n = 20, bad = 7;
    sn_test_video spec = {tmp_path("damaged.avi"), "mjpeg", "yuvj420p", 128, 64, n, 25, 1,
                          NULL};
    make_clip(&spec);
    int psize;
    uint8_t *payload = packet_bytes(spec.path, bad, &psize);
    size_t size;
    uint8_t *bytes = sn_test_read_file(spec.path, &size);
    cr_assert(bytes);
    uint8_t *at = memmem(bytes, size, payload, (size_t)psize);
    cr_assert(at, "frame %d's packet is not in the file", bad);
    memset(at, 0, (size_t)psize); /* no JPEG markers left in frame 7; the container intact */
    cr_assert_eq(sn_test_write_file(spec.path, bytes, size), 0);
    free(bytes);
    free(payload);

    got g;
    read_all(spec.path, NULL, &g);
    cr_assert_eq(g.end_status, SN_OK, "one bad packet must not end the video: %s", g.err.message);
    cr_assert_eq(g.n, n - 1, "%d frames", g.n);
    cr_assert_eq(g.info.decode_errors, 1);
    cr_assert(strstr(g.info.last_decode_error, "after 7 frames"), "%s", g.info.last_decode_error);
    /* Indices count decoded frames, so they stay consecutive; the content skips frame 7. */
    for (int i = 0; i < g.n; i++) {
        cr_assert_eq(g.f[i].index, i);
        cr_assert_eq(g.f[i].content, i < bad ? i : i + 1);
    }
}

Test(video, garbage_file) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("video::garbage_file"));
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)sn_rng_u64(&r);
    const char *path = tmp_path("garbage.mp4");
    cr_assert_eq(sn_test_write_file(path, junk, sizeof junk), 0);
    sn_error err = {0};
    sn_status s = open_error(path, NULL, &err);
    cr_assert_neq(s, SN_OK, "random bytes opened as a video");
    cr_assert(s == SN_ERR_FORMAT || s == SN_ERR_UNSUPPORTED, "%s: %s", sn_status_string(s),
              err.message);
    cr_assert(strstr(err.message, "avformat_open_input") || strstr(err.message, "no video stream"),
              "%s", err.message);

    const char text[] = "this is a text file, not a video\n";
    path = tmp_path("text.mp4");
    cr_assert_eq(sn_test_write_file(path, text, sizeof text - 1), 0);
    s = open_error(path, NULL, &err);
    cr_assert_eq(s, SN_ERR_FORMAT, "%s: %s", sn_status_string(s), err.message);
    cr_assert_str_eq(err.message,
                     "cannot open: avformat_open_input: Invalid data found when processing input");
}

Test(video, empty_file) {
    const char *path = tmp_path("empty.mkv");
    cr_assert_eq(sn_test_write_file(path, "", 0), 0);
    sn_error err = {0};
    sn_status s = open_error(path, NULL, &err);
    cr_assert_neq(s, SN_OK);
    cr_assert(strstr(err.message, "avformat_"), "%s", err.message);
}

Test(video, audio_only_file) {
    const char *path = tmp_path("tone.wav");
    char msg[512];
    cr_assert_eq(sn_test_audio_write(path, 0.5, msg, sizeof msg), 0, "%s", msg);
    sn_error err = {0};
    cr_assert_eq(open_error(path, NULL, &err), SN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert_str_eq(err.message, "no video stream (the wav input holds 1 audio stream)");
}

Test(video, missing_file) {
    sn_error err = {0};
    cr_assert_eq(open_error(tmp_path("nothing-here.mp4"), NULL, &err), SN_ERR_IO);
    cr_assert_str_eq(err.message, "cannot open: avformat_open_input: No such file or directory");
}

Test(video, missing_camera) {
    /* /dev/video99 is taken as a V4L2 camera from its name; none exists on test machines. */
    struct stat st;
    if (stat("/dev/video99", &st) == 0) cr_skip_test("/dev/video99 exists on this machine");
    sn_error err = {0};
    cr_assert_eq(open_error("/dev/video99", NULL, &err), SN_ERR_IO, "%s", err.message);
    cr_assert_str_eq(err.message, "cannot open the camera: avformat_open_input(video4linux2): "
                                  "No such file or directory");
}

Test(video, camera_source_forced_on_a_file) {
    /* A regular file is not a V4L2 device: the camera path must fail cleanly, not hang. */
    sn_test_video spec = {tmp_path("notcam.mp4"), "mpeg4", "yuv420p", 64, 32, 2, 25, 1, NULL};
    make_clip(&spec);
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.source = SN_VIDEO_SOURCE_CAMERA;
    sn_error err = {0};
    cr_assert_neq(open_error(spec.path, &opt, &err), SN_OK);
    cr_assert(strstr(err.message, "cannot open the camera: avformat_open_input(video4linux2): "),
              "%s", err.message);
}

Test(video, pixel_limit) {
    sn_test_video spec = {tmp_path("big.mp4"), "mpeg4", "yuv420p", 160, 96, 3, 25, 1, NULL};
    make_clip(&spec);
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.max_pixels = 160 * 96 - 1;
    sn_error err = {0};
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_OUT_OF_MEMORY, "%s", err.message);
    cr_assert_str_eq(err.message, "the video is 160x96, over the limit of 15359 pixels");
    opt.max_pixels = 160 * 96;
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.n, 3);
}

Test(video, bad_options) {
    sn_test_video spec = {tmp_path("opt.mp4"), "mpeg4", "yuv420p", 64, 32, 2, 25, 1, NULL};
    make_clip(&spec);
    sn_error err = {0};
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.every = 0;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "every is 0"), "%s", err.message);
    opt.every = 1;
    opt.fps = -1;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    opt.fps = NAN;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    opt.fps = INFINITY;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    opt.fps = 5;
    opt.every = 2;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "cannot both"), "%s", err.message);
    opt = (sn_video_options)SN_VIDEO_OPTIONS_INIT;
    opt.size = 0;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    opt = (sn_video_options)SN_VIDEO_OPTIONS_INIT;
    opt.source = (sn_video_source)7;
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_INVALID_ARGUMENT);
    /* An older, smaller options struct: fields past its size keep their defaults. */
    opt = (sn_video_options)SN_VIDEO_OPTIONS_INIT;
    opt.size = offsetof(sn_video_options, fps);
    opt.fps = -5; /* not part of the caller's struct, so not read */
    got g;
    read_all(spec.path, &opt, &g);
    cr_assert_eq(g.n, 2);
    sn_video *v = NULL;
    cr_assert_eq(sn_video_open("", NULL, &v, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_video_open(NULL, NULL, &v, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_video_open(spec.path, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    sn_video_frame fr;
    cr_assert_eq(sn_video_next(NULL, &fr, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(fr.end);
}

/* --- the interrupt flag ------------------------------------------------------------------- */

/* The flags are atomics: the pipe test raises them from another thread than the reader's. */
static int flag_raised(void *flag) {
    return atomic_load((atomic_int *)flag) != 0;
}

Test(video, interrupt_flag_ends_the_stream) {
    sn_test_video spec = {tmp_path("stop.mp4"), "mpeg4", "yuv420p", 64, 32, 10, 25, 1, NULL};
    make_clip(&spec);
    atomic_int stop = 0;
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.interrupt = flag_raised;
    opt.interrupt_opaque = &stop;
    sn_video *v;
    sn_error err = {0};
    cr_assert_eq(sn_video_open(spec.path, &opt, &v, &err), SN_OK, "%s", err.message);
    sn_video_frame fr;
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK);
        cr_assert_eq(fr.end, 0);
        sn_video_frame_free(&fr);
    }
    stop = 1;
    cr_assert_eq(sn_video_next(v, &fr, &err), SN_OK);
    cr_assert(fr.end);
    sn_video_info info;
    sn_video_get_info(v, &info);
    cr_assert_eq(info.interrupted, 1);
    cr_assert_eq(info.returned, 3);
    sn_video_destroy(v);
    /* Raised before the open: the open itself gives up. */
    cr_assert_eq(open_error(spec.path, &opt, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "interrupted"), "%s", err.message);
}

/* A reader blocked on a FIFO that has no more data must come back when the flag is raised and
 * a signal (installed without SA_RESTART, as a program's SIGINT handler would be) arrives. */
typedef struct pipe_test {
    const char *fifo;
    const uint8_t *bytes;
    size_t size;
    atomic_int stop, frames_read, reader_done, writer_quit;
    int interrupted;
    sn_status status;
} pipe_test;

static void *pipe_writer(void *arg) {
    pipe_test *t = arg;
    int fd = open(t->fifo, O_WRONLY);
    if (fd < 0) return NULL;
    size_t done = 0;
    while (done < t->size) {
        ssize_t w = write(fd, t->bytes + done, t->size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    /* Hold the pipe open without writing, so the reader blocks; give up after 20 s so that a
     * broken interrupt fails the test (the reader would see EOF) instead of hanging it. */
    for (int i = 0; i < 2000 && !t->writer_quit; i++) usleep(10000);
    close(fd);
    return NULL;
}

static void *pipe_reader(void *arg) {
    pipe_test *t = arg;
    sn_video_options opt = SN_VIDEO_OPTIONS_INIT;
    opt.interrupt = flag_raised;
    opt.interrupt_opaque = &t->stop;
    sn_video *v;
    sn_error err = {0};
    t->status = sn_video_open(t->fifo, &opt, &v, &err);
    if (t->status == SN_OK) {
        for (;;) {
            sn_video_frame fr;
            t->status = sn_video_next(v, &fr, &err);
            if (t->status != SN_OK || fr.end) break;
            sn_video_frame_free(&fr);
            t->frames_read++;
        }
        sn_video_info info;
        sn_video_get_info(v, &info);
        t->interrupted = info.interrupted;
        sn_video_destroy(v);
    }
    t->reader_done = 1;
    return NULL;
}

static void on_usr1(int sig) {
    (void)sig;
}

Test(video, interrupt_unblocks_a_pipe_read) {
    sn_test_video spec = {tmp_path("stream.mkv"), "ffv1", "yuv420p", 64, 32, 120, 25, 1, NULL};
    make_clip(&spec);
    size_t size;
    uint8_t *bytes = sn_test_read_file(spec.path, &size);
    cr_assert(bytes);
    pipe_test t = {.fifo = tmp_path("fifo"), .bytes = bytes, .size = size / 2};
    cr_assert_eq(mkfifo(t.fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART: a blocked read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    pthread_t wt, rt;
    cr_assert_eq(pthread_create(&wt, NULL, pipe_writer, &t), 0);
    cr_assert_eq(pthread_create(&rt, NULL, pipe_reader, &t), 0);
    /* Wait until the reader has had frames and drained what was written. */
    for (int i = 0; i < 1500 && !t.reader_done && t.frames_read < 40; i++) usleep(10000);
    usleep(300000);
    t.stop = 1;
    for (int i = 0; i < 500 && !t.reader_done; i++) {
        pthread_kill(rt, SIGUSR1); /* repeated: the first may land before the read blocks */
        usleep(10000);
    }
    int came_back = t.reader_done;
    t.writer_quit = 1;
    pthread_join(rt, NULL);
    pthread_join(wt, NULL);
    free(bytes);
    cr_assert(came_back, "the reader did not return within 5 s of the interrupt");
    cr_assert_eq(t.status, SN_OK);
    cr_assert_gt(t.frames_read, 10, "frames before the stall must come back (%d)",
                 t.frames_read);
    cr_assert_lt(t.frames_read, 120);
    cr_assert_eq(t.interrupted, 1, "the stream must end as interrupted, not at EOF");
}

/* --- helpers ------------------------------------------------------------------------------ */

#include <libavformat/avformat.h>

static uint8_t *packet_bytes(const char *path, int k, int *size) {
    AVFormatContext *fmt = NULL;
    cr_assert_geq(avformat_open_input(&fmt, path, NULL, NULL), 0);
    cr_assert_geq(avformat_find_stream_info(fmt, NULL), 0);
    AVPacket *pkt = av_packet_alloc();
    cr_assert(pkt);
    uint8_t *copy = NULL;
    int seen = 0;
    while (!copy && av_read_frame(fmt, pkt) >= 0) {
        if (fmt->streams[pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            seen++ == k && pkt->size > 0) {
            copy = malloc((size_t)pkt->size);
            cr_assert(copy);
            memcpy(copy, pkt->data, (size_t)pkt->size);
            *size = pkt->size;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    cr_assert(copy, "no packet %d in %s", k, path);
    return copy;
}

#endif
