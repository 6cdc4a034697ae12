/*
 * test_cli_video.c - sentinel-run on videos, end to end through the built programs: a seed-cnn
 * model from sentinel-zoo and clips generated here (tests/support/video_fixtures.c). --every
 * and --fps runs checked in the JSON Lines records (frame numbers, times, order, a result per
 * frame) and on stdout; videos among other inputs keep their order; a garbage "video", a
 * missing file and a missing camera give precise errors and a non-zero exit; bad flag values
 * and combinations are usage errors; Ctrl-C during a stream that has stalled stops the run
 * with every finished result written. Every run is checked for a crash (a signal).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_support.h"
#include "test_support.h"

#ifndef SENTINEL_HAVE_FFMPEG

Test(cli_video, without_ffmpeg_one_clear_line) {
    char model[4096], *out = NULL;
    char *dir = sn_test_cli_workdir(model, sizeof model);
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s/clip.mp4'", sn_test_bin("sentinel-run"), model,
                             dir);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "clip.mp4: this build of Sentinel has no video support"), "%s", out);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}

#else

#include "jsonl.h"
#include "video_fixtures.h"

typedef struct fixture {
    char *dir;
    char model[4096], clip[4096], jsonl[4096];
} fixture;

/* A model and a clip of `frames` frames at 25 frames per second (128x96, MPEG-4 in .mp4). */
static void setup(fixture *f, int frames) {
    f->dir = sn_test_cli_workdir(f->model, sizeof f->model);
    snprintf(f->clip, sizeof f->clip, "%s/clip.mp4", f->dir);
    snprintf(f->jsonl, sizeof f->jsonl, "%s/out.jsonl", f->dir);
    sn_test_video spec = {f->clip, "mpeg4", "yuv420p", 128, 96, frames, 25, 1, NULL};
    char msg[512];
    cr_assert_eq(sn_test_video_write(&spec, msg, sizeof msg), 0, "%s", msg);
}

static void teardown(fixture *f) {
    sn_test_rmtree(f->dir);
    free(f->dir);
}

/* --- reading the JSON Lines records -------------------------------------------------------- */

typedef struct record {
    char input[4096];
    long index;
    long frame; /* -1 when the record has none */
    double time;
    int has_top, has_error;
} record;

/* The records of a JSON Lines file, each checked to be one JSON object (jsonl.h). */
static int read_records(const char *path, record *recs, int max) {
    int n;
    char **lines = sn_test_jsonl_records(path, &n);
    cr_assert_leq(n, max, "%d records, room for %d", n, max);
    for (int i = 0; i < n; i++) {
        const char *line = lines[i];
        record *r = &recs[i];
        double v;
        cr_assert_eq(sn_test_json_get_string(line, "input", r->input, sizeof r->input), 0, "%s",
                     line);
        cr_assert_eq(sn_test_json_get_number(line, "index", &v), 0, "%s", line);
        r->index = (long)v;
        r->frame = -1;
        if (sn_test_json_get_number(line, "frame", &v) == 0) {
            r->frame = (long)v;
            cr_assert_eq(sn_test_json_get_number(line, "time", &r->time), 0,
                         "a frame without a time: %s", line);
        }
        r->has_top = strstr(line, "\"top\":") != NULL;
        r->has_error = strstr(line, "\"error\":") != NULL;
    }
    sn_test_jsonl_free(lines, n);
    return n;
}

/* --- tests --------------------------------------------------------------------------------- */

Test(cli_video, every_5_frames_and_times_in_jsonl) {
    fixture f;
    setup(&f, 23);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --every 5 --top 3 --device cpu -o '%s'",
                             sn_test_bin("sentinel-run"), f.model, f.clip, f.jsonl);
    cr_assert_eq(rc, 0, "%s", out);
    record recs[64];
    int n = read_records(f.jsonl, recs, 64);
    cr_assert_eq(n, 5, "frames 0, 5, 10, 15, 20 of 23: %d records", n);
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(recs[i].input, f.clip);
        cr_assert_eq(recs[i].index, i);
        cr_assert_eq(recs[i].frame, 5 * i);
        cr_assert(fabs(recs[i].time - 5 * i / 25.0) < 1e-6, "frame %ld at %f s", recs[i].frame,
                  recs[i].time);
        cr_assert(recs[i].has_top && !recs[i].has_error);
        /* stdout names the frame and its time, then its top classes */
        char line[4200];
        snprintf(line, sizeof line, "%s frame %d at %.3f s\n", f.clip, 5 * i, 5 * i / 25.0);
        cr_assert(strstr(out, line), "no line '%s' in:\n%s", line, out);
    }
    /* One video: the summary counts its frames' results, not inputs. */
    cr_assert(strstr(out, "5 results (5 video frames): all succeeded"), "%s", out);
    free(out);
    teardown(&f);
}

Test(cli_video, fps_selects_by_time) {
    fixture f;
    setup(&f, 23);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --fps 10 --quiet --device cpu -o '%s'",
                             sn_test_bin("sentinel-run"), f.model, f.clip, f.jsonl);
    cr_assert_eq(rc, 0, "%s", out);
    /* 25 frames a second, at most 10 kept: the first frame of each 0.1 s slot, i.e. frame
     * ceil(2.5 * slot) for slots 0..8 (frame 22 at 0.88 s is still in slot 8). */
    record recs[64];
    int n = read_records(f.jsonl, recs, 64);
    cr_assert_eq(n, 9, "%d records", n);
    for (int i = 0; i < n; i++) {
        long want = (long)ceil(2.5 * i);
        cr_assert_eq(recs[i].frame, want, "record %d: frame %ld, want %ld", i, recs[i].frame,
                     want);
        cr_assert(fabs(recs[i].time - want / 25.0) < 1e-6);
    }
    free(out);
    teardown(&f);
}

Test(cli_video, bad_videos_among_good_inputs) {
    fixture f;
    setup(&f, 7);
    char garbage[4200], missing[4200];
    snprintf(garbage, sizeof garbage, "%s/garbage.mkv", f.dir);
    snprintf(missing, sizeof missing, "%s/missing.avi", f.dir);
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("cli_video::bad_videos_among_good_inputs"));
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)sn_rng_u64(&r);
    cr_assert_eq(sn_test_write_file(garbage, junk, sizeof junk), 0);
    char *out = NULL;
    int rc =
        sn_test_cli_run(&out, "'%s' '%s' '%s' '%s' '%s' --every 3 --quiet --device cpu -o '%s'",
                        sn_test_bin("sentinel-run"), f.model, f.clip, garbage, missing, f.jsonl);
    cr_assert_eq(rc, 1, "some inputs failed, so the exit status is 1:\n%s", out);
    char want[4400];
    snprintf(want, sizeof want, "%s: cannot open: avformat_open_input: No such file or directory",
             missing);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "%s: cannot open: avformat_open_input: ", garbage);
    cr_assert(strstr(out, want), "%s", out);
    /* A video that cannot be opened is one failed result, not a frame. */
    cr_assert(strstr(out, "5 results (3 video frames): 3 succeeded, 2 failed"), "%s", out);
    /* In input order: frames 0, 3, 6 of the clip, then one error record per bad video. */
    record recs[16];
    int n = read_records(f.jsonl, recs, 16);
    cr_assert_eq(n, 5, "%d records", n);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(recs[i].input, f.clip);
        cr_assert_eq(recs[i].frame, 3 * i);
    }
    cr_assert_str_eq(recs[3].input, garbage);
    cr_assert(recs[3].has_error && !recs[3].has_top);
    cr_assert_str_eq(recs[4].input, missing);
    cr_assert(recs[4].has_error);
    for (int i = 0; i < n; i++) cr_assert_eq(recs[i].index, i);
    free(out);
    teardown(&f);
}

Test(cli_video, missing_camera) {
    fixture f;
    setup(&f, 2);
    struct stat st;
    if (stat("/dev/video99", &st) == 0) cr_skip_test("/dev/video99 exists on this machine");
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' --camera /dev/video99 --device cpu",
                             sn_test_bin("sentinel-run"), f.model);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "error: /dev/video99: cannot open the camera: "
                          "avformat_open_input(video4linux2): No such file or directory"),
              "%s", out);
    free(out);
    teardown(&f);
}

Test(cli_video, usage_errors) {
    fixture f;
    setup(&f, 2);
    static const char *const bad[][2] = {
        {"--every 2 --fps 5", "--every and --fps cannot be combined"},
        {"--fps 4 --every 3", "--every and --fps cannot be combined"},
        {"--every 1 --fps 5", "--every and --fps cannot be combined"},
        {"--fps 5 --every 1", "--every and --fps cannot be combined"},
        {"--every 0", "--every must be an integer"},
        {"--every x", "--every must be an integer"},
        {"--fps 0", "--fps must be a number"},
        {"--fps -2", "--fps must be a number"},
        {"--fps nan", "--fps must be a number"},
        {"--camera /dev/video98 --camera /dev/video99", "--camera given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' %s", sn_test_bin("sentinel-run"), f.model,
                                 f.clip, bad[i][0]);
        cr_assert_eq(rc, 2, "%s: %s", bad[i][0], out);
        cr_assert(strstr(out, bad[i][1]), "%s: %s", bad[i][0], out);
        free(out);
    }
    teardown(&f);
}

/* --- Ctrl-C ------------------------------------------------------------------------------- */

/* Feeds the first half of a clip into a FIFO, then holds it open without writing (a stream
 * that has stalled, as a camera or network stream can) until told to go on, then writes the
 * rest and closes it. */
typedef struct feeder {
    const char *fifo;
    const uint8_t *bytes;
    size_t half, size;
    volatile int go_on;
} feeder;

static int write_all(int fd, const uint8_t *p, size_t n) {
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

static void *feed(void *arg) {
    feeder *f = arg;
    signal(SIGPIPE, SIG_IGN); /* the reader may be gone: write fails with EPIPE instead */
    int fd = open(f->fifo, O_WRONLY);
    if (fd < 0) return NULL;
    if (write_all(fd, f->bytes, f->half) == 0) {
        for (int i = 0; i < 3000 && !f->go_on; i++) usleep(10000);
        write_all(fd, f->bytes + f->half, f->size - f->half);
    }
    close(fd);
    return NULL;
}

static int count_in_file(const char *path, const char *needle) {
    char *text = sn_test_read_file(path, NULL);
    int n = text ? sn_test_count_of(text, needle) : 0;
    free(text);
    return n;
}

Test(cli_video, ctrl_c_on_a_stalled_stream_keeps_every_result) {
    fixture f;
    setup(&f, 2);
    /* 120 frames, 60 of them sent: the run shows results for them, then waits for more. */
    char clip[4200], fifo[4200], out_txt[4200], err_txt[4200];
    snprintf(clip, sizeof clip, "%s/long.mkv", f.dir);
    snprintf(fifo, sizeof fifo, "%s/live.mkv", f.dir);
    snprintf(out_txt, sizeof out_txt, "%s/stdout.txt", f.dir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr.txt", f.dir);
    sn_test_video spec = {clip, "mpeg4", "yuv420p", 64, 48, 120, 25, 1, NULL};
    char msg[512];
    cr_assert_eq(sn_test_video_write(&spec, msg, sizeof msg), 0, "%s", msg);
    size_t size;
    uint8_t *bytes = sn_test_read_file(clip, &size);
    cr_assert(bytes);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    feeder fd = {fifo, bytes, size / 2, size, 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, feed, &fd), 0);

    char run_bin[4096];
    snprintf(run_bin, sizeof run_bin, "%s", sn_test_bin("sentinel-run"));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out_txt, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_txt, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(99);
        execl(run_bin, run_bin, f.model, fifo, "--batch", "1", "--device", "cpu", "-o", f.jsonl,
              (char *)NULL);
        _exit(98);
    }
    /* Wait for results to show up, and for them to stop (the stream has stalled). */
    int seen = 0;
    for (int i = 0, last = -1, still = 0; i < 2000 && still < 30; i++) {
        usleep(10000);
        seen = count_in_file(out_txt, " frame ");
        still = seen > 0 && seen == last ? still + 1 : 0;
        last = seen;
    }
    cr_assert_gt(seen, 0, "no results before the stall");
    /* No more data comes until the run has ended: the decoding thread blocked in its read of
     * the pipe must be woken by the stop itself, within seconds (the feeder would go on after
     * 30 s, too late for this check). */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fd.go_on = 1;
    pthread_join(t, NULL);
    cr_assert_lt(took, 10.0, "sentinel-run took %.1f s to stop after Ctrl-C on a stalled stream",
                 took);
    free(bytes);
    size_t esize;
    char *err = sn_test_read_file(err_txt, &esize);
    cr_assert(WIFEXITED(status), "sentinel-run was killed by signal %d: %s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, err);
    cr_assert_eq(WEXITSTATUS(status), 130, "Ctrl-C exits with 130: %s", err);
    /* Every result shown is in the JSON Lines file, complete and in order. */
    record recs[128];
    int n = read_records(f.jsonl, recs, 128);
    cr_assert_geq(n, seen, "%d records, %d results shown", n, seen);
    cr_assert_lt(n, 120);
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(recs[i].input, fifo);
        cr_assert_eq(recs[i].frame, i);
        cr_assert(fabs(recs[i].time - i / 25.0) < 1e-3);
        cr_assert(recs[i].has_top);
    }
    char want[128];
    snprintf(want, sizeof want, "interrupted: %d results (%d video frames) done (%d succeeded, "
             "0 failed)", n, n, n);
    cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
    /* Woken, not left behind: a read from a pipe returns when interrupted. */
    cr_assert(!strstr(err, "still blocked"), "%s", err);
    free(err);
    teardown(&f);
}

#endif
