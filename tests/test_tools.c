/*
 * test_tools.c - sentinel-zoo and sentinel-inspect end to end, as built programs: every zoo
 * model is written to a file that inspect reads back with the right node counts, parameters
 * and FLOPs; usage errors exit 2 with a message; bad files exit 1 with the reader's message
 * and never crash.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_support.h"

typedef struct tool_case {
    const char *name;
    long long params;
    int nodes;
    const char *ops;    /* inspect's "nodes" line, after the count */
    double macs;        /* conv + dense multiply-adds per image, from the architecture */
    double slack;       /* what BN, activations, adds and pools may add on top of 2*macs */
    const char *output; /* the logits shape */
} tool_case;

/* MACs: seed-cnn 16*56*56*27 + 32*14*14*144 + 6272*10; the others are the sums of
 * cout*H*W*cin/group*k*k over the torchvision layers (test_zoo.c computes them from the
 * architecture and checks them against torchvision's published 1.81, 4.09, 0.30, 0.35 and
 * 0.06 GMACs). */
static const tool_case cases[] = {
    {"seed-cnn", 67818, 8, "Conv 2, BiasAdd 2, Relu 2, Flatten 1, Gemm 1", 2320640, 0.05, "[N,10]"},
    {"resnet18", 11689512, 69,
     "Conv 20, BatchNormalization 20, Relu 17, Add 8, MaxPool 1, GlobalAveragePool 1, Flatten 1, "
     "Gemm 1",
     1814073344, 0.03, "[N,1000]"},
    {"resnet50", 25557032, 175,
     "Conv 53, BatchNormalization 53, Relu 49, Add 16, MaxPool 1, GlobalAveragePool 1, "
     "Flatten 1, Gemm 1",
     4089184256, 0.03, "[N,1000]"},
    {"mobilenetv2", 3504872, 152,
     "Conv 52, BatchNormalization 52, Clip 35, Add 10, GlobalAveragePool 1, Flatten 1, Gemm 1",
     300774272, 0.12, "[N,1000]"},
    {"squeezenet1_1", 1235496, 65,
     "Conv 26, Relu 26, MaxPool 3, GlobalAveragePool 1, Concat 8, Flatten 1", 349151936, 0.05,
     "[N,1000]"},
    {"mobilenetv3_small", 2542856, 156,
     "Conv 52, BatchNormalization 34, Relu 14, HardSigmoid 9, HardSwish 19, Add 6, Mul 9, "
     "GlobalAveragePool 10, Flatten 1, Gemm 2",
     56510400, 0.15, "[N,1000]"},
};

static char *tmpdir;
static void setup(void) { cr_assert_not_null(tmpdir = sn_test_mkdtemp()); }
static void teardown(void) {
    sn_test_rmtree(tmpdir);
    free(tmpdir);
}

/* Run a command line; returns the exit status and the output (caller frees). */
static int run(char **out, const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int sig = 0;
    int rc = sn_test_run(cmd, out, &sig);
    cr_assert_eq(sig, 0, "'%s' was killed by signal %d:\n%s", cmd, sig, *out ? *out : "");
    cr_assert_not_null(*out);
    return rc;
}

/* The number after `key` on its line, with thousands separators dropped; -1 if absent. */
static double number_after(const char *text, const char *key) {
    const char *p = strstr(text, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == ' ') p++;
    char digits[64];
    size_t n = 0;
    for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
        if (*p != ',' && n + 1 < sizeof digits) digits[n++] = *p;
    digits[n] = '\0';
    return n ? strtod(digits, NULL) : -1;
}

static void write_model(const char *name, const char *path, const char *seed) {
    char *out = NULL;
    int rc = run(&out, "%s %s -o %s --seed %s", sn_test_bin("sentinel-zoo"), name, path, seed);
    cr_assert_eq(rc, 0, "sentinel-zoo %s: %s", name, out);
    free(out);
}

Test(tools, zoo_models_round_trip_through_inspect, .init = setup, .fini = teardown) {
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const tool_case *k = &cases[c];
        char path[512], *out = NULL;
        snprintf(path, sizeof path, "%s/%s.sgraph", tmpdir, k->name);
        int rc = run(&out, "%s %s -o %s --seed 5", sn_test_bin("sentinel-zoo"), k->name, path);
        cr_assert_eq(rc, 0, "sentinel-zoo %s: %s", k->name, out);
        /* One summary line: model, parameters, bytes, path. */
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        char want[256], pbuf[32], bbuf[32];
        snprintf(pbuf, sizeof pbuf, "%lld", k->params);
        snprintf(bbuf, sizeof bbuf, "%lld", (long long)st.st_size);
        cr_assert(strncmp(out, k->name, strlen(k->name)) == 0, "summary: %s", out);
        cr_assert_eq(number_after(out, ":"), (double)k->params, "summary: %s (want %s)", out, pbuf);
        cr_assert_eq(number_after(out, "parameters,"), (double)st.st_size, "summary: %s (%s)", out,
                     bbuf);
        cr_assert(strstr(out, path), "summary: %s", out);
        cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);
        free(out);

        rc = run(&out, "%s %s", sn_test_bin("sentinel-inspect"), path);
        cr_assert_eq(rc, 0, "inspect %s: %s", k->name, out);
        snprintf(want, sizeof want, "nodes        %d (%s)\n", k->nodes, k->ops);
        cr_assert(strstr(out, want), "%s: want '%s' in:\n%s", k->name, want, out);
        cr_assert_eq(number_after(out, "\n  parameters"), (double)k->params, "%s", k->name);
        cr_assert(strstr(out, "[N,3,224,224] NCHW"), "%s: input shape", k->name);
        snprintf(want, sizeof want, "logits           f32  %s\n", k->output);
        cr_assert(strstr(out, want), "%s: want '%s'", k->name, want);
        cr_assert(strstr(out, "format       .sgraph 1."), "%s", k->name);
        cr_assert(strstr(out, "property     model = "), "%s", k->name);
        cr_assert(strstr(out, "resize shorter side to 256"), "%s", k->name);
        double flops = number_after(out, "flops/image"), lo = 2 * k->macs;
        cr_assert(flops >= lo && flops <= lo * (1 + k->slack), "%s: %.0f FLOPs, want %.0f..%.0f",
                  k->name, flops, lo, lo * (1 + k->slack));
        /* One row per node: count the lines that end in a FLOPs figure under "nodes". */
        const char *rows = strstr(out, "\nnodes\n"), *end = strstr(out, "\ntotals\n");
        cr_assert(rows && end && rows < end);
        int lines = -1; /* the column header's line */
        for (const char *p = rows + 7; p <= end; p++) lines += *p == '\n';
        cr_assert_eq(lines, k->nodes, "%s: %d node rows", k->name, lines);
        free(out);
    }
}

Test(tools, resnet50_rows_show_shapes_and_attributes, .init = setup, .fini = teardown) {
    char path[512], *out = NULL;
    snprintf(path, sizeof path, "%s/r50.sgraph", tmpdir);
    write_model("resnet50", path, "1");
    cr_assert_eq(run(&out, "%s %s", sn_test_bin("sentinel-inspect"), path), 0, "%s", out);
    cr_assert(strstr(out, "conv1"), "%s", out);
    cr_assert(strstr(out, "[N,3,224,224] -> [N,64,112,112]"));
    cr_assert(strstr(out, "k7x7 s2 p3,3,3,3"));
    cr_assert(strstr(out, "[N,64,112,112] -> [N,64,56,56]"), "maxpool row");
    cr_assert(strstr(out, "k3x3 s2 p1,1,1,1"), "maxpool / strided conv attributes");
    cr_assert(strstr(out, "[N,256,56,56] [N,256,56,56] -> [N,256,56,56]"), "residual add");
    cr_assert(strstr(out, "[N,2048] -> [N,1000]"), "fc row");
    cr_assert(strstr(out, "transB=1"));
    cr_assert(strstr(out, "(plus 53,120 BatchNormalization running statistics)"));
    cr_assert(strstr(out, "labels       1000 (class_0 ... class_999)"));
    free(out);
}

Test(tools, mobilenetv2_shows_groups_and_relu6, .init = setup, .fini = teardown) {
    char path[512], *out = NULL;
    snprintf(path, sizeof path, "%s/m.sgraph", tmpdir);
    write_model("mobilenetv2", path, "2");
    cr_assert_eq(run(&out, "%s %s", sn_test_bin("sentinel-inspect"), path), 0, "%s", out);
    cr_assert(strstr(out, "k3x3 p1,1,1,1 g32"), "first depthwise conv");
    cr_assert(strstr(out, "k3x3 s2 p1,1,1,1 g96"), "strided depthwise conv");
    cr_assert(strstr(out, "min=0 max=6"), "ReLU6 as Clip");
    free(out);
}

Test(tools, inspect_json, .init = setup, .fini = teardown) {
    char path[512], *out = NULL;
    snprintf(path, sizeof path, "%s/s.sgraph", tmpdir);
    write_model("seed-cnn", path, "0");
    cr_assert_eq(run(&out, "%s %s --json", sn_test_bin("sentinel-inspect"), path), 0, "%s", out);
    cr_assert_eq(out[0], '{');
    cr_assert(strstr(out, "\"parameters\":67818"), "%s", out);
    cr_assert(strstr(out, "\"nodes_by_op\":{\"Conv\":2,\"BiasAdd\":2,\"Relu\":2,\"Flatten\":1,"
                          "\"Gemm\":1}"),
              "%s", out);
    cr_assert(strstr(out, "\"shape\":[\"N\",3,224,224]"), "%s", out);
    cr_assert(strstr(out, "\"labels\":10"), "%s", out);
    double flops = number_after(out, "\"flops_per_image\":");
    cr_assert(flops >= 2 * 2320640.0 && flops <= 2 * 2320640.0 * 1.05, "%.0f", flops);
    /* Balanced braces and brackets (no string in this model holds one). */
    int depth = 0;
    for (const char *p = out; *p; p++) {
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
        cr_assert_geq(depth, 0);
    }
    cr_assert_eq(depth, 0);
    free(out);
}

Test(tools, zoo_files_are_deterministic, .init = setup, .fini = teardown) {
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/a.sgraph", tmpdir);
    snprintf(b, sizeof b, "%s/b.sgraph", tmpdir);
    snprintf(c, sizeof c, "%s/c.sgraph", tmpdir);
    write_model("resnet18", a, "77");
    write_model("resnet18", b, "77");
    write_model("resnet18", c, "78");
    size_t na, nb, nc;
    void *da = sn_test_read_file(a, &na), *db = sn_test_read_file(b, &nb),
         *dc = sn_test_read_file(c, &nc);
    cr_assert(da && db && dc);
    cr_assert(na == nb && memcmp(da, db, na) == 0, "same seed, different files");
    cr_assert(na == nc && memcmp(da, dc, na) != 0, "different seeds, same file");
    free(da);
    free(db);
    free(dc);
}

/* --- usage errors: exit 2 with a message ------------------------------------------------ */

static void expect_usage_error(const char *program, const char *args, const char *message) {
    char *out = NULL;
    int rc = run(&out, "%s %s", sn_test_bin(program), args);
    cr_assert_eq(rc, 2, "%s %s: exit %d:\n%s", program, args, rc, out);
    cr_assert(strstr(out, message), "%s %s: want '%s' in:\n%s", program, args, message, out);
    free(out);
}

Test(tools, zoo_usage_errors, .init = setup, .fini = teardown) {
    char args[1024];
    expect_usage_error("sentinel-zoo", "", "no model name");
    expect_usage_error("sentinel-zoo", "resnet18", "no output file");
    expect_usage_error("sentinel-zoo", "resnet18 -o", "-o needs a file name");
    expect_usage_error("sentinel-zoo", "--frobnicate", "unknown option '--frobnicate'");
    expect_usage_error("sentinel-zoo", "seed-cnn resnet18 -o x.sgraph", "more than one model");
    snprintf(args, sizeof args, "vgg16 -o %s/v.sgraph", tmpdir);
    expect_usage_error("sentinel-zoo", args, "unknown model 'vgg16'");
    expect_usage_error("sentinel-zoo", args, "mobilenetv2"); /* lists the known ones */
    const char *bad_seeds[] = {"-1", "12abc", "''", "99999999999999999999999", "0x", "' 5'", "1.5"};
    for (size_t i = 0; i < sizeof bad_seeds / sizeof bad_seeds[0]; i++) {
        snprintf(args, sizeof args, "seed-cnn -o %s/s.sgraph --seed %s", tmpdir, bad_seeds[i]);
        expect_usage_error("sentinel-zoo", args, "bad seed");
    }
    snprintf(args, sizeof args, "seed-cnn -o %s/s.sgraph --seed", tmpdir);
    expect_usage_error("sentinel-zoo", args, "--seed needs a value");
    /* None of the failures above wrote anything. */
    char path[512];
    snprintf(path, sizeof path, "%s/s.sgraph", tmpdir);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "a usage error left a file behind");
    snprintf(path, sizeof path, "%s/v.sgraph", tmpdir);
    cr_assert_neq(stat(path, &st), 0, "a usage error left a file behind");

    expect_usage_error("sentinel-inspect", "", "no file given");
    expect_usage_error("sentinel-inspect", "a.sgraph b.sgraph", "more than one file");
    expect_usage_error("sentinel-inspect", "--tree a.sgraph", "unknown option '--tree'");
}

Test(tools, help_and_list_exit_0) {
    char *out = NULL;
    cr_assert_eq(run(&out, "%s --list", sn_test_bin("sentinel-zoo")), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert(strstr(out, cases[i].name), "--list lacks %s:\n%s", cases[i].name, out);
    free(out);
    cr_assert_eq(run(&out, "%s --help", sn_test_bin("sentinel-zoo")), 0);
    cr_assert(strstr(out, "usage: sentinel-zoo"));
    free(out);
    cr_assert_eq(run(&out, "%s --help", sn_test_bin("sentinel-inspect")), 0);
    cr_assert(strstr(out, "usage: sentinel-inspect"));
    free(out);
}

Test(tools, zoo_write_failure_exits_1, .init = setup, .fini = teardown) {
    char *out = NULL;
    int rc =
        run(&out, "%s seed-cnn -o %s/no/such/dir/x.sgraph", sn_test_bin("sentinel-zoo"), tmpdir);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "sentinel-zoo: writing"), "%s", out);
    free(out);
}

/* --- bad files: exit 1 with the reader's message, never a crash ---------------------------- */

static void expect_bad_file(const char *path, const char *message) {
    char *out = NULL;
    int rc = run(&out, "%s %s", sn_test_bin("sentinel-inspect"), path);
    cr_assert_eq(rc, 1, "inspect %s: exit %d:\n%s", path, rc, out);
    cr_assert(strstr(out, "sentinel-inspect: "), "%s", out);
    if (message) cr_assert(strstr(out, message), "want '%s' in: %s", message, out);
    cr_assert_null(strstr(out, "nodes\n"), "a bad file printed a report:\n%s", out);
    free(out);
}

Test(tools, inspect_rejects_bad_files, .init = setup, .fini = teardown) {
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/good.sgraph", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.sgraph", tmpdir);
    write_model("seed-cnn", good, "3");
    size_t size;
    unsigned char *data = sn_test_read_file(good, &size);
    cr_assert(data && size > 4096);

    /* Truncated at a spread of points: inside the header, the directory, the tables, the
     * weights, and one byte short. */
    size_t cuts[] = {1, 7, 8, 31, 32, 40, 100, 1000, size / 2, size - 64, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        cr_assert_eq(sn_test_write_file(bad, data, cuts[i]), 0);
        expect_bad_file(bad, "offset");
    }
    /* Garbage of the right size, and a file with one flipped byte in each region. */
    uint64_t seed = sn_test_fresh_seed("tools.inspect_rejects_bad_files");
    sn_rng rng;
    sn_rng_seed(&rng, seed);
    unsigned char *junk = malloc(size);
    cr_assert_not_null(junk);
    for (size_t i = 0; i < size; i++) junk[i] = (unsigned char)sn_rng_u64(&rng);
    cr_assert_eq(sn_test_write_file(bad, junk, size), 0);
    expect_bad_file(bad, "offset");
    size_t flips[] = {0, 9, 20, 33, 200, size / 2, size - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(junk, data, size);
        junk[flips[i]] ^= (unsigned char)(1u + (sn_rng_u64(&rng) % 255u));
        cr_assert_eq(sn_test_write_file(bad, junk, size), 0);
        expect_bad_file(bad, "offset");
    }
    free(junk);
    free(data);

    cr_assert_eq(sn_test_write_file(bad, "", 0), 0);
    expect_bad_file(bad, NULL);
    expect_bad_file(tmpdir, NULL); /* a directory */
    snprintf(bad, sizeof bad, "%s/missing.sgraph", tmpdir);
    expect_bad_file(bad, "missing.sgraph");
}
