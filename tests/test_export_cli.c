/*
 * test_export_cli.c - sentinel-export as a program, and refusals. Graphs a format cannot
 * express are refused by the library with SN_ERR_UNSUPPORTED and a message naming the node and
 * op, and by the program with exit status 1, that message, and no output file (an existing one
 * is left as it was). Usage errors exit 2; a good export prints the file size. Also: ONNX
 * models are accepted as input (through the importer). Needs no Python.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "export_support.h"
#include "npy.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

static char exe[4096];

/* Whether DIR/A and DIR/B both exist with the same size; *same says whether their bytes are
 * equal too. */
static bool same_size(const char *dir, const char *a, const char *b, bool *same) {
    char pa[4400], pb[4400];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    size_t na = 0, nb = 0;
    char *fa = sn_test_read_file(pa, &na), *fb = sn_test_read_file(pb, &nb);
    bool ok = fa && fb && na == nb;
    *same = ok && !memcmp(fa, fb, na);
    free(fa);
    free(fb);
    return ok;
}

static void setup(void) { snprintf(exe, sizeof exe, "%s", sn_test_bin("sentinel-export")); }

/* input [N,8,9,9] -> one node of `op` -> output; W [8, 8/group, 3, 3] for a conv. */
static sn_graph *one_node(sn_op op, const sn_attr *a, int n_a, int group) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int64_t d[4] = {SN_DIM_BATCH, 8, 9, 9}, wd[4] = {8, 8 / group, 3, 3};
    sn_shape s = sn_shape_make(4, d), ws = sn_shape_make(4, wd);
    int x, y, w = -1;
    cr_assert_eq(sn_graph_add_tensor(g, "input", SN_DTYPE_F32, &s, &x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "output", SN_DTYPE_F32, NULL, &y), SN_OK);
    int in[2] = {x, x};
    if (op == SN_OP_CONV) {
        float *wv = calloc((size_t)(8 * 8 / group * 9), sizeof(float));
        cr_assert(wv);
        wv[0] = 1.0f;
        cr_assert_eq(sn_graph_add_const(g, "weight", SN_DTYPE_F32, &ws, wv,
                                        sizeof(float) * (size_t)(8 * 8 / group * 9), true, &w),
                     SN_OK);
        free(wv);
        in[1] = w;
    }
    int n_in = op == SN_OP_CONV || op == SN_OP_DIV ? 2 : 1;
    cr_assert_eq(sn_graph_add_node(g, op, "the_node", in, n_in, &y, 1, a, n_a, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_output(g, y), SN_OK);
    sn_error err = {0};
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    return g;
}

static void refused_tflite(sn_graph *g, sn_tflite_quant q, const char *why) {
    sn_error err = {0};
    void *data = (void *)1;
    size_t size = 1;
    sn_calibration cal = {
        .count = 2, .sample_floats = 8 * 81, .data = calloc(2 * 8 * 81, sizeof(float))};
    sn_tflite_options o = SN_TFLITE_OPTIONS_INIT;
    o.quant = q;
    o.calibration = &cal;
    cr_assert_eq(sn_export_tflite(g, &o, &data, &size, &err), SN_ERR_UNSUPPORTED, "%s",
                 err.message);
    cr_assert(data == NULL && size == 0);
    cr_assert(strstr(err.message, "the_node"), "the message names no node: %s", err.message);
    cr_assert(strstr(err.message, why), "'%s' does not say '%s'", err.message, why);
    sn_calibration_free(&cal);
    sn_graph_destroy(g);
}

Test(export_refuse, tflite_what_it_cannot_express) {
    sn_attr grouped = sn_attr_int("group", 2);
    refused_tflite(one_node(SN_OP_CONV, &grouped, 1, 2), SN_TFLITE_FLOAT, "grouped convolution");
    static const int64_t pads[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    sn_attr edge[2] = {sn_attr_ints("pads", pads, 8), sn_attr_int("mode", 2)};
    refused_tflite(one_node(SN_OP_PAD, edge, 2, 1), SN_TFLITE_FLOAT, "edge padding");
    static const int64_t sizes[4] = {0, 0, 20, 20};
    sn_attr rs[4] = {sn_attr_int("mode", 0), sn_attr_int("coord_mode", 1),
                     sn_attr_int("nearest_mode", 0), sn_attr_ints("sizes", sizes, 4)};
    refused_tflite(one_node(SN_OP_RESIZE, rs, 4, 1), SN_TFLITE_FLOAT, "nearest-neighbour");
    sn_attr sm = sn_attr_int("axis", 2);
    refused_tflite(one_node(SN_OP_SOFTMAX, &sm, 1, 1), SN_TFLITE_FLOAT, "SOFTMAX");
    static const int64_t st[1] = {1}, en[1] = {5}, ax[1] = {0};
    sn_attr sl[3] = {sn_attr_ints("starts", st, 1), sn_attr_ints("ends", en, 1),
                     sn_attr_ints("axes", ax, 1)};
    refused_tflite(one_node(SN_OP_SLICE, sl, 3, 1), SN_TFLITE_FLOAT, "dynamic batch");
    /* x / x: a division by an activation has a float kernel but no int8 one. */
    refused_tflite(one_node(SN_OP_DIV, NULL, 0, 1), SN_TFLITE_INT8, "int8 DIV");
}

Test(export_refuse, nhwc_layout_nodes) {
    /* The layout pass's NHWC nodes are not exported by either format. */
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int64_t d[4] = {SN_DIM_BATCH, 9, 9, 8};
    sn_shape s = sn_shape_make(4, d);
    int x, y;
    cr_assert_eq(sn_graph_add_tensor(g, "input", SN_DTYPE_F32, &s, &x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "output", SN_DTYPE_F32, NULL, &y), SN_OK);
    static const int64_t k[2] = {3, 3};
    sn_attr a[2] = {sn_attr_ints("kernel_shape", k, 2), sn_attr_int("layout", SN_LAYOUT_NHWC)};
    cr_assert_eq(sn_graph_add_node(g, SN_OP_MAX_POOL, "the_node", &x, 1, &y, 1, a, 2, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_output(g, y), SN_OK);
    sn_error err = {0};
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(sn_export_onnx(g, NULL, &data, &size, &err), SN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.message, "the_node") && strstr(err.message, "NHWC"), "%s", err.message);
    refused_tflite(g, SN_TFLITE_FLOAT, "NHWC");
}

Test(export_refuse, bad_options) {
    sn_graph *g = one_node(SN_OP_RELU, NULL, 0, 1);
    sn_error err = {0};
    void *data = NULL;
    size_t size = 0;
    sn_onnx_export_options oo = SN_ONNX_EXPORT_OPTIONS_INIT;
    oo.opset = 12;
    cr_assert_eq(sn_export_onnx(g, &oo, &data, &size, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "12"), "%s", err.message);
    sn_tflite_options to = SN_TFLITE_OPTIONS_INIT;
    to.quant = SN_TFLITE_INT8; /* without calibration samples */
    cr_assert_eq(sn_export_tflite(g, &to, &data, &size, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "calibration"), "%s", err.message);
    cr_assert_eq(sn_export_tflite(NULL, NULL, &data, &size, &err), SN_ERR_INVALID_ARGUMENT);
    sn_graph_destroy(g);
}

Test(export_cli, usage_errors, .init = setup) {
    char *dir = sn_test_mkdtemp();
    sn_graph *g = one_node(SN_OP_RELU, NULL, 0, 1);
    char model[4200];
    snprintf(model, sizeof model, "%s/m.sgraph", dir);
    sn_error err = {0};
    cr_assert_eq(sn_sgraph_write_file(g, model, &err), SN_OK, "%s", err.message);
    sn_graph_destroy(g);
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"", "no output file"},
        {"-o %s/x.txt", "must end in .onnx or .tflite"},
        {"-o %s/x.onnx --quantize fp16", "apply to .tflite"},
        {"-o %s/x.tflite --opset 17", "applies to .onnx"},
        {"-o %s/x.tflite --quantize int8", "needs --calibration"},
        {"-o %s/x.tflite --quantize int4", "fp16 or int8"},
        {"-o %s/x.onnx --opset 22", "13..21"},
        {"-o %s/x.onnx --bogus", "unknown option"},
        {"-o %s/x.tflite --calibration-ranges minmax", "only used with --quantize int8"},
        {"-o %s/x.tflite --save-calibration c.npy", "only used with --quantize int8"},
        {"-o %s/x.tflite --quantize int8 --calibration . --calibration-ranges p99",
         "mse or minmax"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[4300];
        snprintf(args, sizeof args, bad[i].args, dir);
        char *out = sn_export_sh(2, "'%s' '%s' %s", exe, model, args);
        cr_assert(strstr(out, bad[i].says), "`%s`: %s", args, out);
        free(out);
    }
    char *out = sn_export_sh(2, "'%s'", exe);
    cr_assert(strstr(out, "no model"), "%s", out);
    free(out);
    out = sn_export_sh(0, "'%s' --help", exe);
    cr_assert(strstr(out, "--calibration"), "%s", out);
    free(out);
    out = sn_export_sh(1, "'%s' '%s/missing.sgraph' -o '%s/x.onnx'", exe, dir, dir);
    cr_assert(strstr(out, "missing.sgraph"), "%s", out);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}

Test(export_cli, refusal_keeps_the_old_file, .init = setup) {
    char *dir = sn_test_mkdtemp();
    sn_attr grouped = sn_attr_int("group", 2);
    sn_graph *g = one_node(SN_OP_CONV, &grouped, 1, 2);
    char model[4200], out_path[4200];
    snprintf(model, sizeof model, "%s/grouped.sgraph", dir);
    snprintf(out_path, sizeof out_path, "%s/grouped.tflite", dir);
    sn_error err = {0};
    cr_assert_eq(sn_sgraph_write_file(g, model, &err), SN_OK, "%s", err.message);
    sn_graph_destroy(g);
    cr_assert_eq(sn_test_write_file(out_path, "old", 3), 0);
    char *out = sn_export_sh(1, "'%s' '%s' -o '%s'", exe, model, out_path);
    cr_assert(strstr(out, "the_node") && strstr(out, "grouped convolution"), "%s", out);
    free(out);
    size_t n = 0;
    char *kept = sn_test_read_file(out_path, &n);
    cr_assert(kept && n == 3 && !memcmp(kept, "old", 3), "the old file was touched");
    free(kept);
    /* ONNX has grouped convolutions: the same model exports, replacing the file. */
    snprintf(out_path, sizeof out_path, "%s/grouped.onnx", dir);
    out = sn_export_sh(0, "'%s' '%s' -o '%s' --opset 13", exe, model, out_path);
    cr_assert(strstr(out, "bytes"), "%s", out);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}

/* sentinel-export reads ONNX too: an exported model imported back exports to TFLite; the size
 * printed is the file's; int8 calibration reads .npy tensors (single samples and batches). */
Test(export_cli, onnx_input_and_sizes, .init = setup) {
    char *dir = sn_test_mkdtemp();
    sn_error err = {0};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("seed-cnn", 1, &g, &err), SN_OK, "%s", err.message);
    char model[4200];
    snprintf(model, sizeof model, "%s/seed.sgraph", dir);
    cr_assert_eq(sn_sgraph_write_file(g, model, &err), SN_OK, "%s", err.message);
    sn_graph_destroy(g);
    char *out = sn_export_sh(0, "'%s' '%s' -o '%s/seed.onnx'", exe, model, dir);
    cr_assert(strstr(out, "seed.onnx") && strstr(out, "bytes"), "%s", out);
    free(out);
    out = sn_export_sh(0, "'%s' '%s/seed.onnx' -o '%s/seed.tflite' --quantize fp16", exe, dir, dir);
    cr_assert(strstr(out, "fp16"), "%s", out);
    free(out);
    /* The size printed is the file's. */
    char path[4400];
    snprintf(path, sizeof path, "%s/seed.tflite", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    char want[64];
    snprintf(want, sizeof want, "%lld bytes", (long long)st.st_size);
    out = sn_export_sh(0, "'%s' '%s/seed.onnx' -o '%s' --quantize fp16 --no-optimize", exe, dir,
                       path);
    free(out);
    out = sn_export_sh(0, "'%s' '%s/seed.onnx' -o '%s' --quantize fp16", exe, dir, path);
    cr_assert(strstr(out, want), "'%s' does not say %s", out, want);
    free(out);
    /* int8 calibrated on .npy tensors: one sample [3,224,224] and a batch [2,3,224,224]. */
    char npy[4200];
    snprintf(npy, sizeof npy, "%s/npy", dir);
    cr_assert_eq(mkdir(npy, 0755), 0);
    size_t per = 3 * 224 * 224;
    float *xs = malloc(sizeof(float) * per * 2);
    cr_assert(xs);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("export_cli_npy"));
    sn_rng_fill(&rng, xs, per * 2, -2.0f, 2.0f);
    int64_t one[3] = {3, 224, 224}, two[4] = {2, 3, 224, 224};
    snprintf(path, sizeof path, "%s/a.npy", npy);
    cr_assert_eq(sn_npy_write_file(path, xs, 3, one, &err), SN_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/b.npy", npy);
    cr_assert_eq(sn_npy_write_file(path, xs, 4, two, &err), SN_OK, "%s", err.message);
    free(xs);
    out = sn_export_sh(0, "'%s' '%s' -o '%s/q.tflite' --quantize int8 --calibration '%s'", exe,
                       model, dir, npy);
    cr_assert(strstr(out, "3 sample(s)") && strstr(out, "int8"), "%s", out);
    free(out);
    out = sn_export_sh(0, "'%s' '%s' -o '%s/q.tflite' --quantize int8 --calibration '%s' "
                       "--calibration-max 2", exe, model, dir, npy);
    cr_assert(strstr(out, "2 sample(s)"), "%s", out);
    free(out);
    /* Min/max ranges instead of the default MSE ones: another valid file (the check of its
     * numbers is in the runtimes, test_export_zoo.c's measurements in docs/export.md). */
    out = sn_export_sh(0, "'%s' '%s' -o '%s/q.minmax.tflite' --quantize int8 --calibration '%s' "
                       "--calibration-max 2 --calibration-ranges minmax", exe, model, dir, npy);
    free(out);
    bool same = true;
    cr_assert(same_size(dir, "q.tflite", "q.minmax.tflite", &same) && !same,
              "--calibration-ranges minmax wrote the same file as mse");
    /* --save-calibration writes the samples as calibration saw them: calibrating on that file
     * gives the same model, byte for byte. */
    char saved[4300];
    snprintf(saved, sizeof saved, "%s/saved", dir);
    cr_assert_eq(mkdir(saved, 0755), 0);
    free(sn_export_sh(0, "'%s' '%s' -o '%s/q.a.tflite' --quantize int8 --calibration '%s' "
                      "--calibration-max 2 --save-calibration '%s/cal.npy'", exe, model, dir, npy,
                      saved));
    out = sn_export_sh(0, "'%s' '%s' -o '%s/q.b.tflite' --quantize int8 --calibration '%s'", exe,
                       model, dir, saved);
    cr_assert(strstr(out, "2 sample(s)"), "%s", out);
    free(out);
    cr_assert(same_size(dir, "q.a.tflite", "q.b.tflite", &same) && same,
              "calibrating on the saved samples gave another model");
    /* int8 with a folder of .npy calibration tensors of the wrong shape: a precise refusal. */
    char cal[4200];
    snprintf(cal, sizeof cal, "%s/cal", dir);
    cr_assert_eq(mkdir(cal, 0755), 0);
    float bad[12] = {1};
    int64_t dims[2] = {3, 4};
    snprintf(path, sizeof path, "%s/a.npy", cal);
    cr_assert_eq(sn_npy_write_file(path, bad, 2, dims, &err), SN_OK);
    out = sn_export_sh(1, "'%s' '%s' -o '%s/q.tflite' --quantize int8 --calibration '%s'", exe,
                       model, dir, cal);
    cr_assert(strstr(out, "a.npy") && strstr(out, "shape"), "%s", out);
    free(out);
    sn_test_rmtree(dir);
    free(dir);
}
