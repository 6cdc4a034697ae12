/*
 * test_cli_run_input.c - sentinel-run's input pipeline end to end, through the built programs:
 * a folder of generated JPEG and PNG images with bad files mixed in (empty, truncated,
 * corrupt, another format, random bytes, over the pixel limit, a FIFO, a dangling link,
 * unreadable), each named with its reason while every good image gets its result; JSON Lines
 * complete and in input order; the same results whatever the number of decoding threads or
 * the batch size; --stats' decoding and idle lines; and Ctrl-C (SIGINT, sent from the test) in
 * the middle of a run, which must leave a valid JSON Lines file with every finished record.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "cli_support.h"
#include "jsonl.h"
#include "test_support.h"

typedef struct fixture {
    char *dir;
    char model[4096], img[4096];
} fixture;

/* A seed-cnn model (224x224 input, shorter side to 256) and `images` generated images of
 * every kind, `size` WxH or the generator's own sizes when NULL. */
static void setup(fixture *f, int images, const char *size) {
    f->dir = sn_test_cli_workdir(f->model, sizeof f->model);
    snprintf(f->img, sizeof f->img, "%s/img", f->dir);
    sn_test_cli_mkimages(f->img, images, sn_test_fresh_seed("cli_input_images") % 1000, size);
}

static void teardown(fixture *f) {
    sn_test_rmtree(f->dir);
    free(f->dir);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *n) {
    size_t l = strlen(n);
    return (l > 4 && (!strcasecmp(n + l - 4, ".jpg") || !strcasecmp(n + l - 4, ".png"))) ||
           (l > 5 && !strcasecmp(n + l - 5, ".jpeg"));
}

/* The folder's image files (by name, as sentinel-run lists a folder), sorted, full paths. */
static char **listing(const char *dir, int *n) {
    DIR *d = opendir(dir);
    cr_assert(d);
    char **names = calloc(4096, sizeof *names);
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && is_image_name(e->d_name)) {
            cr_assert_lt(k, 4096);
            names[k] = malloc(strlen(dir) + strlen(e->d_name) + 2);
            sprintf(names[k++], "%s/%s", dir, e->d_name);
        }
    closedir(d);
    qsort(names, (size_t)k, sizeof *names, cmp_str);
    *n = k;
    return names;
}

static void free_listing(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static void put_be32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* A PNG whose IHDR (with a valid CRC) declares w x h. */
static void write_png_header(const char *path, uint32_t w, uint32_t h) {
    uint8_t png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *ihdr = png + 8;
    put_be32(ihdr, 13);
    memcpy(ihdr + 4, "IHDR", 4);
    put_be32(ihdr + 8, w);
    put_be32(ihdr + 12, h);
    ihdr[16] = 8;
    ihdr[17] = 2;
    put_be32(ihdr + 21, (uint32_t)crc32(0, ihdr + 4, 17));
    uint8_t *iend = ihdr + 25;
    put_be32(iend, 0);
    memcpy(iend + 4, "IEND", 4);
    put_be32(iend + 8, (uint32_t)crc32(0, iend + 4, 4));
    cr_assert_eq(sn_test_write_file(path, png, sizeof png), 0);
}

typedef struct bad_file {
    const char *name, *reason;
} bad_file;

/* Writes the bad files into the image folder; returns how many. */
static int write_bad_files(const fixture *f, bad_file *bad) {
    char path[4200], src[4200];
    size_t size;
    int n = 0;
    snprintf(path, sizeof path, "%s/b-empty.jpg", f->img);
    cr_assert_eq(sn_test_write_file(path, "", 0), 0);
    bad[n++] = (bad_file){"b-empty.jpg", "the file is empty"};

    sn_test_cli_image_path(f->img, "000-", src, sizeof src); /* a baseline JPEG */
    uint8_t *jpg = sn_test_read_file(src, &size);
    cr_assert(jpg && size > 200);
    snprintf(path, sizeof path, "%s/b-cut.jpg", f->img);
    cr_assert_eq(sn_test_write_file(path, jpg, size / 2), 0);
    bad[n++] = (bad_file){"b-cut.jpg", "truncated JPEG"};
    for (size_t i = 2; i + 10 < size; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
            jpg[i + 9] = 0; /* zero components */
            break;
        }
    snprintf(path, sizeof path, "%s/b-corrupt.jpg", f->img);
    cr_assert_eq(sn_test_write_file(path, jpg, size), 0);
    bad[n++] = (bad_file){"b-corrupt.jpg", "corrupt JPEG"};
    free(jpg);

    sn_test_cli_image_path(f->img, "004-", src, sizeof src); /* an RGB PNG */
    uint8_t *png = sn_test_read_file(src, &size);
    cr_assert(png && size > 200);
    snprintf(path, sizeof path, "%s/b-cut.png", f->img);
    cr_assert_eq(sn_test_write_file(path, png, size - 30), 0);
    bad[n++] = (bad_file){"b-cut.png", "truncated PNG"};
    snprintf(path, sizeof path, "%s/b-head.png", f->img); /* cut in its first chunks */
    cr_assert_eq(sn_test_write_file(path, png, 200), 0);
    bad[n++] = (bad_file){"b-head.png", "truncated PNG"};
    free(png);

    snprintf(path, sizeof path, "%s/b-gif.png", f->img);
    cr_assert_eq(sn_test_write_file(path, "GIF89a\x01\x00\x01\x00\x00\x00\x00", 13), 0);
    bad[n++] = (bad_file){"b-gif.png", "unsupported format: GIF"};

    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("cli_input_noise"));
    uint8_t noise[777];
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)sn_rng_u64(&r);
    if (noise[0] == 0xff || noise[0] == 0x89) noise[0] = 0; /* no JPEG or PNG signature */
    snprintf(path, sizeof path, "%s/b-noise.jpg", f->img);
    cr_assert_eq(sn_test_write_file(path, noise, sizeof noise), 0);
    bad[n++] = (bad_file){"b-noise.jpg", "unsupported format"};

    snprintf(path, sizeof path, "%s/b-huge.png", f->img);
    write_png_header(path, 100000, 100000);
    bad[n++] = (bad_file){"b-huge.png", "image is 100000x100000, over the 67108864-pixel limit "
                                        "(--max-pixels raises it)"};

    snprintf(path, sizeof path, "%s/b-fifo.jpg", f->img);
    cr_assert_eq(mkfifo(path, 0644), 0);
    bad[n++] = (bad_file){"b-fifo.jpg", "not a regular file"};

    snprintf(path, sizeof path, "%s/b-link.png", f->img);
    cr_assert_eq(symlink("/nonexistent/cat.png", path), 0);
    bad[n++] = (bad_file){"b-link.png", "cannot open: No such file or directory"};

    if (geteuid() != 0) { /* root reads anything */
        snprintf(path, sizeof path, "%s/b-locked.jpg", f->img);
        cr_assert_eq(sn_test_write_file(path, "\xff\xd8\xff\xe0", 4), 0);
        cr_assert_eq(chmod(path, 0), 0);
        bad[n++] = (bad_file){"b-locked.jpg", "cannot open: Permission denied"};
    }
    return n;
}

Test(cli_run_input, bad_files_are_named_and_the_rest_run) {
    fixture f;
    setup(&f, 23, NULL);
    bad_file bad[16];
    int n_bad = write_bad_files(&f, bad);
    char jsonl[4200];
    snprintf(jsonl, sizeof jsonl, "%s/out.jsonl", f.dir);
    char *out = NULL;
    int rc = sn_test_cli_run(
        &out, "'%s' '%s' '%s' -o '%s' --top 2 --batch 5 --decode-threads 3 --device cpu",
        sn_test_bin("sentinel-run"), f.model, f.img, jsonl);
    cr_assert_eq(rc, 1, "exit status %d:\n%s", rc, out);
    for (int i = 0; i < n_bad; i++) {
        char want[4600];
        snprintf(want, sizeof want, "%s/%s: %s", f.img, bad[i].name, bad[i].reason);
        cr_assert(strstr(out, want), "no '%s' in:\n%s", want, out);
    }
    char summary[128];
    snprintf(summary, sizeof summary, "%d inputs: 23 succeeded, %d failed", 23 + n_bad, n_bad);
    cr_assert(strstr(out, summary), "no '%s' in:\n%s", summary, out);
    cr_assert(strstr(out, "images/s"), "%s", out);

    /* Every input has one record, in the folder's sorted order; the good ones have results
     * (and a line on stdout), the bad ones their reason. */
    int n_files, n;
    char **files = listing(f.img, &n_files);
    char **recs = sn_test_jsonl_records(jsonl, &n);
    cr_assert_eq(n_files, 23 + n_bad);
    cr_assert_eq(n, n_files, "%d records for %d files", n, n_files);
    int good = 0;
    for (int i = 0; i < n; i++) {
        char input[4200], error[512];
        double index;
        cr_assert_eq(sn_test_json_get_string(recs[i], "input", input, sizeof input), 0);
        cr_assert_str_eq(input, files[i], "record %d", i);
        cr_assert_eq(sn_test_json_get_number(recs[i], "index", &index), 0);
        cr_assert_eq((int)index, i, "%s", recs[i]);
        const char *base = strrchr(input, '/') + 1;
        if (!strncmp(base, "b-", 2)) {
            cr_assert_eq(sn_test_json_get_string(recs[i], "error", error, sizeof error), 0,
                         "%s", recs[i]);
            for (int k = 0; k < n_bad; k++)
                if (!strcmp(base, bad[k].name))
                    cr_assert(strstr(error, bad[k].reason), "%s: '%s'", base, error);
        } else {
            good++;
            cr_assert(strstr(recs[i], "\"top\":[{\"class\":"), "%s", recs[i]);
            char line[4300];
            snprintf(line, sizeof line, "%s\n", input);
            cr_assert_eq(sn_test_count_of(out, line), 1, "%s printed %d times", input,
                         sn_test_count_of(out, line));
        }
    }
    cr_assert_eq(good, 23);
    sn_test_jsonl_free(recs, n);
    free_listing(files, n_files);
    free(out);

    /* The pixel limit is ours to set: a good image over --max-pixels 100 is refused, and
     * passes the default. */
    char big[4200];
    sn_test_cli_image_path(f.img, "004-", big, sizeof big);
    rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --max-pixels 100 --quiet",
                         sn_test_bin("sentinel-run"), f.model, big);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "over the 100-pixel limit (--max-pixels raises it)"), "%s", out);
    cr_assert(strstr(out, "1 inputs: 0 succeeded, 1 failed"), "%s", out);
    free(out);
    rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --quiet", sn_test_bin("sentinel-run"), f.model, big);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    teardown(&f);
}

/* Top classes and scores of every record, in order, for comparing runs. */
typedef struct scores {
    int n;
    char input[64][512];
    int cls[64][3];
    double score[64][3];
} scores;

static void read_scores(const char *path, scores *s) {
    int n;
    char **recs = sn_test_jsonl_records(path, &n);
    cr_assert(n <= 64);
    s->n = n;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(sn_test_json_get_string(recs[i], "input", s->input[i], 512), 0);
        const char *p = recs[i];
        for (int k = 0; k < 3; k++) {
            p = strstr(p, "{\"class\":");
            cr_assert(p, "record %d has fewer than 3 classes: %s", i, recs[i]);
            cr_assert_eq(sscanf(p, "{\"class\":%d,\"label\":\"%*[^\"]\",\"score\":%lf",
                                &s->cls[i][k], &s->score[i][k]), 2, "%s", p);
            p++;
        }
    }
    sn_test_jsonl_free(recs, n);
}

Test(cli_run_input, results_do_not_depend_on_threads_or_batch) {
    fixture f;
    /* 600x450: larger than the 256 the model resizes to, so JPEGs decode at a reduced scale. */
    setup(&f, 21, "600x450");
    char j[4][4200];
    const char *args[4] = {"--decode-threads 1 --batch 4", "--decode-threads 4 --batch 4",
                           "--decode-threads 4 --batch 1", "--decode-threads 2 --batch 7"};
    for (int r = 0; r < 4; r++) {
        snprintf(j[r], sizeof j[r], "%s/o%d.jsonl", f.dir, r);
        char *out = NULL;
        int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' -o '%s' --top 3 --quiet --device cpu %s",
                                 sn_test_bin("sentinel-run"), f.model, f.img, j[r], args[r]);
        cr_assert_eq(rc, 0, "%s: %s", args[r], out);
        free(out);
    }
    /* The number of decoding threads changes nothing, to the byte. */
    size_t s0, s1;
    char *a = sn_test_read_file(j[0], &s0), *b = sn_test_read_file(j[1], &s1);
    cr_assert(a && b);
    cr_assert(s0 == s1 && !memcmp(a, b, s0), "1 and 4 decoding threads differ:\n%s\n---\n%s", a,
              b);
    free(a);
    free(b);
    /* Other batch sizes: the same classes, scores equal to float rounding. */
    static scores ref, other;
    read_scores(j[0], &ref);
    cr_assert_eq(ref.n, 21);
    for (int r = 2; r < 4; r++) {
        read_scores(j[r], &other);
        cr_assert_eq(other.n, ref.n);
        for (int i = 0; i < ref.n; i++) {
            cr_assert_str_eq(other.input[i], ref.input[i]);
            for (int k = 0; k < 3; k++) {
                cr_assert_eq(other.cls[i][k], ref.cls[i][k], "%s: %s: class %d vs %d", args[r],
                             ref.input[i], other.cls[i][k], ref.cls[i][k]);
                cr_assert(fabs(other.score[i][k] - ref.score[i][k]) <= 1e-5,
                          "%s: %s: score %.9g vs %.9g", args[r], ref.input[i],
                          other.score[i][k], ref.score[i][k]);
            }
        }
    }
    teardown(&f);
}

Test(cli_run_input, stats_show_decoding_and_idle_share) {
    fixture f;
    setup(&f, 10, "500x400");
    char *out = NULL;
    int rc = sn_test_cli_run(
        &out, "'%s' '%s' '%s' --stats --quiet --batch 4 --decode-threads 2 --device cpu",
        sn_test_bin("sentinel-run"), f.model, f.img);
    cr_assert_eq(rc, 0, "%s", out);
    int files, threads;
    double mb, rate;
    const char *d = strstr(out, "stats: decode: ");
    cr_assert(d, "%s", out);
    cr_assert_eq(sscanf(d, "stats: decode: %d image files (%lf MB) on %d threads: %lf images/s",
                        &files, &mb, &threads, &rate), 4, "%s", d);
    cr_assert(files == 10 && threads == 2 && mb > 0 && rate > 0, "%s", d);
    double pct;
    const char *idle = strstr(out, "engine idle waiting for decoded input: ");
    cr_assert(idle, "%s", out);
    cr_assert_eq(sscanf(idle, "engine idle waiting for decoded input: %lf%%", &pct), 1);
    cr_assert(pct >= 0 && pct <= 100, "%g", pct);
    cr_assert(strstr(out, "stats: per batch: 0.00 uploads"), "%s", out);
    cr_assert(strstr(out, "3 of 3 batches sent as 8-bit images"), "%s", out);
    double create_ms = 0;
    const char *cr = strstr(out, "stats: engine created in ");
    cr_assert(cr && sscanf(cr, "stats: engine created in %lf ms", &create_ms) == 1 &&
                  create_ms > 0, "%s", out);
    free(out);
    teardown(&f);
}

/* Result names in what sentinel-run printed: whole lines that do not start with a space (the
 * class lines under each name do). */
static int count_names(const char *buf, size_t len) {
    int count = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl) break;
        if (buf[i] != ' ') count++;
        i = (size_t)(nl - buf) + 1;
    }
    return count;
}

/* Reads the child's stdout until `names` names have come (names < 0: until the end), failing
 * after `seconds` without output; returns the number of names, or -1 at an early end. */
static int read_names(int fd, char **buf, size_t *len, size_t *cap, int names, int seconds) {
    for (;;) {
        int count = count_names(*buf, *len);
        if (names >= 0 && count >= names) return count;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, seconds * 1000);
        cr_assert(r > 0, "no output from sentinel-run within %d s", seconds);
        if (*cap - *len < 4096) {
            *cap = *cap * 2 + 8192;
            *buf = realloc(*buf, *cap);
            cr_assert(*buf);
        }
        ssize_t got = read(fd, *buf + *len, *cap - *len - 1);
        if (got < 0 && errno == EINTR) continue;
        cr_assert(got >= 0, "read: %s", strerror(errno));
        if (got == 0) return names < 0 ? count : -1;
        *len += (size_t)got;
        (*buf)[*len] = '\0';
    }
}

Test(cli_run_input, ctrl_c_writes_every_finished_record) {
    fixture f;
    setup(&f, 12, NULL);
    char jsonl[4200], errpath[4200];
    snprintf(jsonl, sizeof jsonl, "%s/out.jsonl", f.dir);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", f.dir);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* The images, then random samples without end (a million): only Ctrl-C stops it. */
        dup2(fds[1], 1);
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(e, 2);
        close(fds[0]);
        close(fds[1]);
        execl(sn_test_bin("sentinel-run"), "sentinel-run", f.model, f.img, "--random",
              "1000000", "--batch", "2", "--top", "1", "-o", jsonl, "--device", "cpu",
              "--decode-threads", "2", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    /* Past the images, into the random samples. */
    int seen = read_names(fds[0], &buf, &len, &cap, 20, 60);
    cr_assert(seen >= 20, "sentinel-run ended early:\n%s", buf);
    cr_assert_eq(kill(pid, SIGINT), 0);
    int total = read_names(fds[0], &buf, &len, &cap, -1, 60);
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    size_t esize;
    char *err = sn_test_read_file(errpath, &esize);
    cr_assert(WIFEXITED(status), "killed by signal %d; stderr:\n%s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, err);
    cr_assert_eq(WEXITSTATUS(status), 130, "exit status %d; stderr:\n%s", WEXITSTATUS(status),
                 err);
    char want[128];
    snprintf(want, sizeof want, "interrupted: %d inputs done (%d succeeded, 0 failed)", total,
             total);
    cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
    cr_assert(total < 1000000 && total >= seen);

    /* Every result printed has its record, in order: the images, then random:0, 1, ... */
    int n, n_files;
    char **recs = sn_test_jsonl_records(jsonl, &n);
    char **files = listing(f.img, &n_files);
    cr_assert_eq(n, total, "%d records, %d results printed", n, total);
    for (int i = 0; i < n; i++) {
        char input[4200], name[64];
        double index;
        cr_assert_eq(sn_test_json_get_string(recs[i], "input", input, sizeof input), 0);
        cr_assert_eq(sn_test_json_get_number(recs[i], "index", &index), 0);
        cr_assert_eq((int)index, i);
        cr_assert(strstr(recs[i], "\"top\":[{\"class\":"), "%s", recs[i]);
        if (i < n_files) {
            cr_assert_str_eq(input, files[i]);
        } else {
            snprintf(name, sizeof name, "random:%d", i - n_files);
            cr_assert_str_eq(input, name);
        }
    }
    sn_test_jsonl_free(recs, n);
    free_listing(files, n_files);
    /* No temporary file left behind. */
    DIR *d = opendir(f.dir);
    struct dirent *e;
    while ((e = readdir(d))) cr_assert(!strstr(e->d_name, ".tmp."), "left %s", e->d_name);
    closedir(d);
    free(err);
    free(buf);
    teardown(&f);
}
