/*
 * test_tools_optimize.c - optimisation through the built programs: `sentinel-inspect
 * --optimize` shows the fused graphs (ResNet-50 with no BatchNormalization, BiasAdd, Relu or Add
 * left and every conv a FusedConv, MobileNetV2 with no Clip or BatchNormalization, seed-cnn as
 * exactly two FusedConvs and one Gemm) with a per-pass summary; `sentinel-run` gives the same
 * outputs (--save-npy, within 1e-5 of max(|ref|, rms(ref))) with --no-optimize, by default and
 * with --layout nhwc; `sentinel-optimize` writes a file sentinel-inspect and sentinel-run read
 * back; bad arguments exit 2 and write nothing. Every run is checked for a crash.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"
#include "test_support.h"

static int run(char **out, const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int sig = 0;
    char *o = NULL;
    int rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(sig, 0, "'%s' died of signal %d:\n%s", cmd, sig, o ? o : "");
    if (out)
        *out = o;
    else
        free(o);
    return rc;
}

static int count_of(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* A zoo model written into dir; its path in buf. */
static void zoo(const char *dir, const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s.sgraph", dir, name);
    char *out = NULL;
    int rc = run(&out, "'%s' %s -o '%s'", sn_test_bin("sentinel-zoo"), name, buf);
    cr_assert_eq(rc, 0, "sentinel-zoo %s: %s", name, out);
    free(out);
}

/* sentinel-inspect --json [extra] of a model: the output (caller frees). */
static char *inspect_json(const char *model, const char *extra) {
    char *out = NULL;
    int rc = run(&out, "'%s' '%s' --json %s", sn_test_bin("sentinel-inspect"), model, extra);
    cr_assert_eq(rc, 0, "sentinel-inspect %s: %s", extra, out);
    return out;
}

Test(tools_optimize, inspect_resnet50_is_all_fused_convs) {
    char *dir = sn_test_mkdtemp(), model[4200];
    zoo(dir, "resnet50", model, sizeof model);
    char *j = inspect_json(model, "--optimize");
    static const char *const gone[] = {"\"op\":\"BatchNormalization\"", "\"op\":\"BiasAdd\"",
                                       "\"op\":\"Relu\"", "\"op\":\"Add\"", "\"op\":\"Conv\"",
                                       "\"op\":\"Flatten\""};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        cr_expect_eq(count_of(j, gone[i]), 0, "%s left", gone[i]);
    cr_expect_eq(count_of(j, "\"op\":\"FusedConv\""), 53);
    /* Every conv but the 4 downsampling ones ends in a ReLU; 16 take the residual. */
    cr_expect_eq(count_of(j, "act=relu"), 49);
    cr_expect(strstr(j, "\"nodes_by_op\":{\"FusedConv\":53,\"MaxPool\":1,"
                        "\"GlobalAveragePool\":1,\"Gemm\":1}"),
              "%.300s", strstr(j, "\"totals\""));
    cr_expect(strstr(j, "folded 53 BatchNormalization into convs"), "no fold_batchnorm detail");
    cr_expect(strstr(j, "16 residual adds"), "no residual fusion detail");
    cr_expect(strstr(j, "\"pass\":\"total\",\"nodes_before\":175,\"nodes_after\":56"),
              "%.400s", strstr(j, "\"optimization\""));
    free(j);
    /* The table form has the same summary, one row per pass. */
    char *out = NULL;
    cr_assert_eq(run(&out, "'%s' '%s' --optimize", sn_test_bin("sentinel-inspect"), model), 0);
    cr_expect(strstr(out, "  nodes        56 (FusedConv 53, MaxPool 1, GlobalAveragePool 1, "
                          "Gemm 1)"),
              "%s", out);
    const char *summary = strstr(out, "\noptimisation\n");
    cr_assert(summary, "no summary:\n%s", out);
    static const char *const rows[] = {"\n  simplify ", "\n  fold_constants ", "\n  cse ",
                                       "\n  fold_batchnorm ", "\n  fuse_conv ", "\n  dce ",
                                       "\n  total "};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect(strstr(summary, rows[i]), "no row%s", rows[i]);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}

Test(tools_optimize, inspect_mobilenetv2_and_seed_cnn) {
    char *dir = sn_test_mkdtemp(), model[4200];
    zoo(dir, "mobilenetv2", model, sizeof model);
    char *j = inspect_json(model, "--optimize");
    cr_expect_eq(count_of(j, "\"op\":\"Clip\""), 0);
    cr_expect_eq(count_of(j, "\"op\":\"BatchNormalization\""), 0);
    cr_expect_eq(count_of(j, "\"op\":\"Add\""), 0);
    cr_expect_eq(count_of(j, "\"op\":\"FusedConv\""), 52);
    cr_expect_eq(count_of(j, "act=relu6"), 35);
    free(j);
    /* NHWC: the same, plus the one Transpose after the input, every conv NHWC */
    j = inspect_json(model, "--layout nhwc");
    cr_expect_eq(count_of(j, "\"op\":\"Transpose\""), 1);
    cr_expect_eq(count_of(j, "\"op\":\"FusedConv\""), 52);
    cr_expect_eq(count_of(j, "\"attributes\":\"nhwc"), 52 + 1 + 1, "convs, pool and Gemm");
    cr_expect(strstr(j, "\"pass\":\"layout\""));
    free(j);

    zoo(dir, "seed-cnn", model, sizeof model);
    j = inspect_json(model, "--optimize");
    cr_expect(strstr(j, "\"totals\":{\"nodes\":3,\"nodes_by_op\":{\"FusedConv\":2,\"Gemm\":1}"),
              "%.200s", strstr(j, "\"totals\""));
    free(j);
    /* Only some passes: no fusion without fuse_conv */
    j = inspect_json(model, "--passes simplify,dce");
    cr_expect_eq(count_of(j, "\"op\":\"FusedConv\""), 0);
    cr_expect_eq(count_of(j, "\"op\":\"Flatten\""), 0, "simplify hands the Flatten to the Gemm");
    cr_expect_eq(count_of(j, "\"pass\":"), 3, "two passes and the total");
    free(j);
    /* Without --optimize nothing changes and there is no summary */
    j = inspect_json(model, "");
    cr_expect_eq(count_of(j, "\"op\":\"BiasAdd\""), 2);
    cr_expect_null(strstr(j, "\"optimization\""));
    free(j);
    sn_test_rmtree(dir);
    free(dir);
}

/* The saved output of one sample of a run ("<dir>/in_<k>.npy"), as floats. */
static float *saved(const char *dir, int k, size_t *n) {
    char path[4400];
    snprintf(path, sizeof path, "%s/in_%d.npy", dir, k);
    sn_npy a;
    sn_error err = {0};
    cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s: %s", path, err.message);
    *n = a.count;
    return a.data;
}

/* Worst |got - want| / max(|want|, rms(want)) over the samples of two --save-npy folders. */
static double compare_dirs(const char *want_dir, const char *got_dir, int samples) {
    double worst = 0;
    for (int k = 0; k < samples; k++) {
        size_t nw, ng;
        float *w = saved(want_dir, k, &nw), *g = saved(got_dir, k, &ng);
        cr_assert_eq(nw, ng);
        double ss = 0;
        for (size_t i = 0; i < nw; i++) ss += (double)w[i] * w[i];
        double rms = sqrt(ss / (double)nw);
        for (size_t i = 0; i < nw; i++) {
            double e = fabs((double)g[i] - w[i]) / fmax(fabs(w[i]), rms);
            cr_assert(isfinite(e), "sample %d element %zu: %g vs %g", k, i, g[i], w[i]);
            worst = fmax(worst, e);
        }
        free(w);
        free(g);
    }
    return worst;
}

/* Runs model on the .npy batch with extra options, saving outputs to dir/<tag>. */
static void run_saved(const char *model, const char *npy, const char *dir, const char *tag,
                      const char *extra, char *outdir, size_t size) {
    snprintf(outdir, size, "%s/%s", dir, tag);
    char *out = NULL;
    int rc = run(&out, "'%s' '%s' '%s' --save-npy '%s' --device cpu --batch 2 --quiet %s",
                 sn_test_bin("sentinel-run"), model, npy, outdir, extra);
    cr_assert_eq(rc, 0, "sentinel-run %s: %s", extra, out);
    free(out);
}

static void same_outputs(const char *name, uint64_t seed) {
    char *dir = sn_test_mkdtemp(), model[4200], npy[4200];
    zoo(dir, name, model, sizeof model);
    snprintf(npy, sizeof npy, "%s/in.npy", dir);
    enum { S = 3 };
    size_t sample = 3 * 224 * 224;
    float *x = malloc(S * sample * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_rng_fill(&r, x, S * sample, -2.0f, 2.0f);
    int64_t dims[4] = {S, 3, 224, 224};
    sn_error err = {0};
    cr_assert_eq(sn_npy_write_file(npy, x, 4, dims, &err), SN_OK, "%s", err.message);
    free(x);
    char plain[4400], opt[4400], nhwc[4400], file[4400], ofile[4400];
    run_saved(model, npy, dir, "plain", "--no-optimize", plain, sizeof plain);
    run_saved(model, npy, dir, "opt", "", opt, sizeof opt);
    run_saved(model, npy, dir, "nhwc", "--layout nhwc", nhwc, sizeof nhwc);
    /* sentinel-optimize ahead of time: the file runs as loaded and agrees too */
    snprintf(ofile, sizeof ofile, "%s/%s.nhwc.sgraph", dir, name);
    char *out = NULL;
    int rc = run(&out, "'%s' '%s' -o '%s' --layout nhwc", sn_test_bin("sentinel-optimize"),
                 model, ofile);
    cr_assert_eq(rc, 0, "sentinel-optimize: %s", out);
    cr_expect(strstr(out, "\n  layout "), "no layout row: %s", out);
    free(out);
    run_saved(ofile, npy, dir, "file", "--no-optimize", file, sizeof file);
    double e1 = compare_dirs(plain, opt, S), e2 = compare_dirs(plain, nhwc, S),
           e3 = compare_dirs(plain, file, S);
    fprintf(stderr, "[tools_optimize] %s: optimised %.3g, NHWC %.3g, NHWC file %.3g\n", name, e1,
            e2, e3);
    cr_expect(e1 <= 1e-5, "%s: optimised vs --no-optimize: %.3g", name, e1);
    cr_expect(e2 <= 1e-5, "%s: --layout nhwc vs --no-optimize: %.3g", name, e2);
    cr_expect(e3 <= 1e-5, "%s: sentinel-optimize's file vs --no-optimize: %.3g", name, e3);
    /* The optimised file reads back: one Transpose, every conv fused and NHWC */
    char *j = inspect_json(ofile, "");
    cr_expect_eq(count_of(j, "\"op\":\"Transpose\""), 1);
    cr_expect_eq(count_of(j, "\"op\":\"Conv\""), 0);
    free(j);
    sn_test_rmtree(dir);
    free(dir);
}

Test(tools_optimize, run_optimised_matches_as_loaded_seed_cnn) {
    same_outputs("seed-cnn", sn_test_fresh_seed("tools_optimize.seed"));
}

Test(tools_optimize, run_optimised_matches_as_loaded_resnet18) {
    same_outputs("resnet18", sn_test_fresh_seed("tools_optimize.resnet18"));
}

static void expect_usage(const char *what, const char *cmd_fmt, const char *arg1,
                         const char *needle) {
    char *out = NULL;
    int rc = run(&out, cmd_fmt, arg1);
    cr_expect_eq(rc, 2, "%s: exit %d: %s", what, rc, out);
    cr_expect(strstr(out, needle), "%s: no '%s' in: %s", what, needle, out);
    free(out);
}

Test(tools_optimize, bad_arguments_exit_2_and_write_nothing) {
    char *dir = sn_test_mkdtemp(), model[4200], cmd[16000], dst[4200];
    zoo(dir, "seed-cnn", model, sizeof model);
    snprintf(dst, sizeof dst, "%s/out.sgraph", dir);
    const char *opt = sn_test_bin("sentinel-optimize");
    char o[4200];
    snprintf(o, sizeof o, "%s", opt);
    expect_usage("no args", "'%s'", o, "no input file");
    snprintf(cmd, sizeof cmd, "'%%s' '%s'", model);
    expect_usage("no -o", cmd, o, "no output file");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' -o '%s' --layout nhcw", model, dst);
    expect_usage("bad layout", cmd, o, "nchw or nhwc");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' -o '%s' --passes simplify,fuse", model, dst);
    expect_usage("bad pass", cmd, o, "unknown pass 'fuse'");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' -o '%s' --max-iterations 0", model, dst);
    expect_usage("bad iterations", cmd, o, "1..1000");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' -o '%s' --frobnicate", model, dst);
    expect_usage("unknown option", cmd, o, "unknown option");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' '%s' -o '%s'", model, model, dst);
    expect_usage("two inputs", cmd, o, "more than one input");
    struct stat sb;
    cr_expect_neq(stat(dst, &sb), 0, "a usage error wrote %s", dst);
    /* Not a model: exit 1, nothing written */
    char *out = NULL;
    int rc = run(&out, "'%s' '%s' -o '%s'", opt, dst, dst);
    cr_expect_eq(rc, 1, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s/junk.sgraph", dir);
    cr_assert_eq(sn_test_write_file(cmd, "not a model", 11), 0);
    rc = run(&out, "'%s' '%s' -o '%s'", opt, cmd, dst);
    cr_expect_eq(rc, 1, "%s", out);
    free(out);
    cr_expect_neq(stat(dst, &sb), 0, "a failed run wrote %s", dst);
    /* --quiet prints nothing; the output replaces its own input atomically */
    snprintf(cmd, sizeof cmd, "%s/copy.sgraph", dir);
    rc = run(&out, "cp '%s' '%s' && '%s' '%s' -o '%s' --quiet", model, cmd, opt, cmd, cmd);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect_str_eq(out, "");
    free(out);
    char *j = inspect_json(cmd, "");
    cr_expect_eq(count_of(j, "\"op\":\"FusedConv\""), 2);
    free(j);

    const char *ins = sn_test_bin("sentinel-inspect");
    snprintf(o, sizeof o, "%s", ins);
    snprintf(cmd, sizeof cmd, "'%%s' '%s' --layout abc", model);
    expect_usage("inspect bad layout", cmd, o, "nchw or nhwc");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' --passes nope", model);
    expect_usage("inspect bad pass", cmd, o, "unknown pass 'nope'");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' --passes", model);
    expect_usage("inspect missing value", cmd, o, "needs a value");

    const char *rn = sn_test_bin("sentinel-run");
    snprintf(o, sizeof o, "%s", rn);
    snprintf(cmd, sizeof cmd, "'%%s' '%s' --random 1 --layout chwn", model);
    expect_usage("run bad layout", cmd, o, "nchw or nhwc");
    snprintf(cmd, sizeof cmd, "'%%s' '%s' --random 1 --layout nhwc --no-optimize", model);
    expect_usage("run nhwc without optimising", cmd, o, "--no-optimize");
    /* --stats says how the graph ran */
    rc = run(&out, "'%s' '%s' --random 2 --stats --quiet --device cpu", rn, model);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "stats: graph 3 nodes, optimised for NCHW"), "%s", out);
    free(out);
    rc = run(&out, "'%s' '%s' --random 2 --stats --quiet --no-optimize --device cpu", rn, model);
    cr_expect(strstr(out, "stats: graph 8 nodes, run as loaded"), "%s", out);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}
