/*
 * source_video.c - video files, network streams and V4L2 cameras (run.h's source interface),
 * read with loader/video.h. Every selected frame becomes a FRAME item: its RGB pixels, its
 * frame number in the stream and its time in seconds.
 *
 * Which inputs are videos: a name ending in a video container's extension (VIDEO_EXTENSIONS
 * below, any case), a URL ("rtsp://...", "http://..."), or a path starting with /dev/video; and
 * --camera DEV. Going by the name keeps images, which the image decoders read, away from
 * FFmpeg, and says up front what will happen to an input.
 *
 * A video that cannot be opened, or fails in the middle, gives one failed item with FFmpeg's
 * reason (the frames before it stand); damaged packets that were skipped are reported once the
 * video ends. A video is only opened when its turn comes, so a long list of clips does not
 * hold every decoder at once. Ctrl-C (run_interrupted) ends a video or camera at the next
 * frame; a camera otherwise runs until then.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "video.h"

/* The source's settings, from its options. */
static long g_every = 1;
static int g_every_given; /* --every 1 and --fps are refused as any other --every and --fps */
static double g_fps;
static const char *g_camera;

static const char *const VIDEO_EXTENSIONS[] = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts",  ".mts",
    ".m2ts", ".wmv", ".flv", ".3gp", ".ogv", ".nut", ".y4m", ".h264", ".264", NULL};

typedef struct video_state {
    char *path;        /* as given: names every item */
    int camera;
    int opened, done;
    sn_video *v;
    sn_video_options opt;
} video_state;

static int video_set_option(const char *name, const char *value, char *why, size_t size) {
    if (!strcmp(name, "--every")) {
        if (g_fps > 0) {
            snprintf(why, size, "--every and --fps cannot be combined");
            return -1;
        }
        if (run_parse_long(value, 1, 1000000000, &g_every) == 0) {
            g_every_given = 1;
            return 0;
        }
        snprintf(why, size, "--every must be an integer in 1..1000000000, not '%s'", value);
        return -1;
    }
    if (!strcmp(name, "--fps")) {
        if (g_every_given) {
            snprintf(why, size, "--every and --fps cannot be combined");
            return -1;
        }
        char *end;
        errno = 0;
        double f = strtod(value, &end);
        if (!errno && end != value && !*end && isfinite(f) && f > 0 && f <= 1e6) {
            g_fps = f;
            return 0;
        }
        snprintf(why, size, "--fps must be a number of frames per second above 0, not '%s'",
                 value);
        return -1;
    }
    if (g_camera) {
        snprintf(why, size, "--camera given twice ('%s' and '%s'); one camera per run", g_camera,
                 value);
        return -1;
    }
    g_camera = value;
    return 0;
}

static int video_claims(const char *arg) {
    if (strstr(arg, "://") || !strncmp(arg, "/dev/video", 10)) return 1;
    for (int i = 0; VIDEO_EXTENSIONS[i]; i++)
        if (run_has_ext(arg, VIDEO_EXTENSIONS[i])) return 1;
    return 0;
}

static int video_option_input(void) { return g_camera != NULL; }

static int video_interrupt(void *unused) {
    (void)unused;
    return run_interrupted();
}

static int video_open(const char *arg, const run_context *ctx, void **state) {
    const char *path = arg ? arg : g_camera;
    if (!sn_video_supported()) {
        sn_error err = {0};
        sn_video *v;
        sn_video_open(path, NULL, &v, &err); /* for the message, which says what to install */
        run_say("error: %s: %s", path, err.message);
        return -1;
    }
    if (!ctx->io->image_ok) {
        run_say("error: %s: %s", path, ctx->io->no_images);
        return -1;
    }
    sn_video_set_ffmpeg_log(0); /* damaged packets are counted and reported below */
    video_state *s = run_xcalloc(1, sizeof *s);
    s->path = run_xstrdup(path);
    s->camera = arg == NULL;
    s->opt = (sn_video_options)SN_VIDEO_OPTIONS_INIT;
    s->opt.every = g_every;
    s->opt.fps = g_fps;
    s->opt.max_pixels = ctx->o->max_pixels;
    s->opt.source = s->camera ? SN_VIDEO_SOURCE_CAMERA : SN_VIDEO_SOURCE_AUTO;
    s->opt.interrupt = video_interrupt;
    *state = s;
    return 0;
}

static void fail_item(video_state *s, run_item *it, const char *why) {
    it->kind = RUN_ITEM_IMAGE; /* a failed input, as a bad image is: no frame to name */
    it->name = run_xstrdup(s->path);
    it->error = run_xstrdup(why);
}

/* Once a video has ended: say how many damaged packets were skipped, if any. */
static void finish(video_state *s) {
    sn_video_info info;
    sn_video_get_info(s->v, &info);
    if (info.decode_errors > 0)
        run_say("warning: %s: %lld damaged packet%s skipped (%lld frames decoded; last: %s)",
                s->path, (long long)info.decode_errors, info.decode_errors > 1 ? "s" : "",
                (long long)info.decoded, info.last_decode_error);
    sn_video_destroy(s->v);
    s->v = NULL;
    s->done = 1;
}

static int video_next(void *state, run_item *it) {
    video_state *s = state;
    if (s->done || run_interrupted()) return 0;
    sn_error err = {0};
    if (!s->opened) {
        s->opened = 1;
        if (sn_video_open(s->path, &s->opt, &s->v, &err) != SN_OK) {
            s->done = 1;
            if (run_interrupted()) return 0;
            fail_item(s, it, err.message);
            return 1;
        }
    }
    sn_video_frame fr;
    sn_status st = sn_video_next(s->v, &fr, &err);
    if (st != SN_OK) {
        finish(s);
        fail_item(s, it, err.message);
        return 1;
    }
    if (fr.end) {
        finish(s);
        return 0;
    }
    it->kind = RUN_ITEM_FRAME;
    it->name = run_xstrdup(s->path);
    it->path = run_xstrdup(s->path);
    it->pixels = fr.image; /* handed over: freed with the item */
    it->frame = fr.index;
    it->time = fr.timestamp;
    return 1;
}

static int64_t video_count(void *state) {
    (void)state;
    return -1; /* known only once decoded: containers' frame counts are often missing or wrong */
}

static void video_close(void *state) {
    video_state *s = state;
    if (!s) return;
    sn_video_destroy(s->v);
    free(s->path);
    free(s);
}

static const char *const video_options[] = {"--every", "--fps", "--camera", NULL};

const run_source_ops run_source_video = {
    .name = "video",
    .usage_inputs =
        "  VIDEO             a video file (.mp4 .mkv .avi .mov .webm .ts ...), a URL\n"
        "                    (rtsp://, http://...) or /dev/videoN: one result per frame\n"
        "  --camera DEV      frames from a V4L2 camera (e.g. /dev/video0) until Ctrl-C\n",
    .usage_options =
        "  --every N         videos and cameras: frames 0, N, 2N, ... (default: every frame)\n"
        "  --fps F           videos and cameras: at most F frames per second of video time\n",
    .options = video_options,
    .set_option = video_set_option,
    .claims = video_claims,
    .option_input = video_option_input,
    .open = video_open,
    .next = video_next,
    .count = video_count,
    .close = video_close,
};
