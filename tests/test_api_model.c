/*
 * test_api_model.c - models through the public API: input/output info, labels and
 * preprocessing; graphs that fail validation; loading from memory (copied and borrowed) and from
 * files, with missing, directory, empty and truncated files; graphs with fixed shapes and with
 * outputs that are inputs or constants; a convolution end to end.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_net.h"
#include "sgraph.h"

/* --- models ------------------------------------------------------------------------------- */

Test(api_model, model_info_labels_and_preprocess) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.model_info"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    cr_assert_eq(sn_model_input_count(m), 1);
    cr_assert_eq(sn_model_output_count(m), 2);
    sn_tensor_info ti;
    ok(sn_model_input_info(m, 0, &ti), NULL);
    cr_assert_str_eq(ti.name, "x");
    cr_assert_eq(ti.dtype, SN_DTYPE_F32);
    cr_assert_eq(ti.rank, 2);
    cr_assert_eq(ti.dims[0], SN_DIM_BATCH);
    cr_assert_eq(ti.dims[1], IN);
    ok(sn_model_output_info(m, 0, &ti), NULL);
    cr_assert_str_eq(ti.name, "f");
    cr_assert_eq(ti.rank, 2);
    cr_assert_eq(ti.dims[0], SN_DIM_BATCH);
    cr_assert_eq(ti.dims[1], OUT);
    ok(sn_model_output_info(m, 1, &ti), NULL);
    cr_assert_str_eq(ti.name, "b");
    cr_assert_eq(ti.dims[0], SN_DIM_BATCH);
    cr_assert_eq(sn_model_input_info(m, 1, &ti), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_input_info(m, -1, &ti), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_output_info(m, 2, &ti), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_input_info(m, 0, NULL), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_input_info(NULL, 0, &ti), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_label_count(m), OUT);
    cr_assert_str_eq(sn_model_label(m, 2), "owl");
    cr_assert_null(sn_model_label(m, OUT));
    cr_assert_null(sn_model_label(m, -1));
    sn_preprocess pp;
    ok(sn_model_preprocess(m, &pp), NULL);
    cr_assert_eq(pp.present, 0);
    cr_assert_eq(sn_model_preprocess(m, NULL), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_input_count(NULL), 0);
    cr_assert_eq(sn_model_label_count(NULL), 0);
    cr_assert_null(sn_model_label(NULL, 0));
    sn_model_destroy(m);
    sn_model_destroy(NULL);
}

Test(api_model, model_from_graph_rejects_bad_graphs) {
    sn_error err = {0};
    sn_model *m = (sn_model *)1;
    cr_assert_eq(sn_model_from_graph(NULL, &m, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_null(m);
    /* A Gemm whose inner dimensions disagree fails shape inference; the graph is freed. */
    sn_graph *g;
    ok(sn_graph_create(&g), NULL);
    int64_t xd[2] = {SN_DIM_BATCH, 3}, wd[2] = {4, 5};
    float wv[20] = {0};
    int x = tensor(g, "x", 2, xd), wt = constant(g, "w", 2, wd, wv), y = tensor(g, "y", 0, NULL);
    ok(sn_graph_add_input(g, x), NULL);
    int in[2] = {x, wt};
    ok(sn_graph_add_node(g, SN_OP_GEMM, "fc", in, 2, &y, 1, NULL, 0, NULL), NULL);
    ok(sn_graph_add_output(g, y), NULL);
    sn_status st = sn_model_from_graph(g, &m, &err);
    cr_assert(st == SN_ERR_SHAPE || st == SN_ERR_GRAPH, "%s: %s", sn_status_string(st),
              err.message);
    cr_assert(strstr(err.message, "fc"), "message does not name the node: %s", err.message);
    cr_assert_null(m);
}

/* --- loading ------------------------------------------------------------------------------ */

static void serialise(const net_w *w, void **data, size_t *size) {
    sn_graph *g = build_net(w);
    sn_error err = {0};
    ok(sn_graph_validate(g, &err), &err);
    ok(sn_graph_infer_shapes(g, &err), &err);
    ok(sn_sgraph_write_memory(g, data, size, &err), &err);
    sn_graph_destroy(g);
}

Test(api_model, load_memory_copy_and_borrow) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.load_memory_copy_and_borrow"));
    random_net(&r, &w);
    void *data;
    size_t size;
    serialise(&w, &data, &size);
    sn_error err = {0};
    sn_model *copied, *borrowed;
    ok(sn_model_load_memory(data, size, 0, &copied, &err), &err);
    ok(sn_model_load_memory(data, size, SN_MODEL_LOAD_BORROW, &borrowed, &err), &err);
    sn_engine *eb = cpu_engine(borrowed, 3, 1);
    run_and_check(eb, &w, &r, 3);
    sn_engine_destroy(eb);
    sn_model_destroy(borrowed);
    /* The copy no longer needs the caller's bytes. */
    memset(data, 0xFF, size);
    free(data);
    sn_engine *e = cpu_engine(copied, 3, 1);
    run_and_check(e, &w, &r, 3);
    run_and_check(e, &w, &r, 1);
    cr_assert_eq(sn_model_label_count(copied), OUT);
    cr_assert_str_eq(sn_model_label(copied, 4), "yak");
    sn_engine_destroy(e);
    sn_model_destroy(copied);
}

Test(api_model, load_memory_errors) {
    sn_error err = {0};
    sn_model *m = (sn_model *)1;
    char junk[64];
    memset(junk, 'x', sizeof junk);
    cr_assert_eq(sn_model_load_memory(NULL, 10, 0, &m, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "NULL data"), "%s", err.message);
    cr_assert_null(m);
    cr_assert_eq(sn_model_load_memory(junk, 0, 0, &m, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "size is 0"), "%s", err.message);
    cr_assert_eq(sn_model_load_memory(junk, sizeof junk, 0, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_load_memory(junk, sizeof junk, 6, &m, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "unknown flags 0x6"), "%s", err.message);
    sn_status st = sn_model_load_memory(junk, sizeof junk, 0, &m, &err);
    cr_assert(st == SN_ERR_FORMAT || st == SN_ERR_VERSION, "%s", sn_status_string(st));
    cr_assert_null(m);
    cr_assert_neq(err.message[0], '\0');
}

Test(api_model, load_file_and_file_errors) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.load_file_and_file_errors"));
    random_net(&r, &w);
    void *data;
    size_t size;
    serialise(&w, &data, &size);
    char *dir = sn_test_mkdtemp();
    cr_assert_not_null(dir);
    char path[512], missing[512], empty[512], trunc[512];
    snprintf(path, sizeof path, "%s/net.sgraph", dir);
    snprintf(missing, sizeof missing, "%s/missing.sgraph", dir);
    snprintf(empty, sizeof empty, "%s/empty.sgraph", dir);
    snprintf(trunc, sizeof trunc, "%s/trunc.sgraph", dir);
    cr_assert_eq(sn_test_write_file(path, data, size), 0);
    cr_assert_eq(sn_test_write_file(empty, data, 0), 0);
    cr_assert_eq(sn_test_write_file(trunc, data, size / 2), 0);
    free(data);

    sn_error err = {0};
    sn_model *m;
    ok(sn_model_load_file(path, &m, &err), &err);
    sn_engine *e = cpu_engine(m, 2, 2);
    run_and_check(e, &w, &r, 2);
    sn_engine_destroy(e);
    sn_model_destroy(m);

    const char *bad[] = {missing, dir, empty, trunc};
    for (size_t i = 0; i < 4; i++) {
        m = (sn_model *)1;
        sn_status st = sn_model_load_file(bad[i], &m, &err);
        cr_assert_neq(st, SN_OK, "%s loaded", bad[i]);
        cr_assert_null(m);
        cr_assert_eq(err.status, st);
        cr_assert(strstr(err.message, bad[i]), "message '%s' does not name %s", err.message,
                  bad[i]);
        /* Named once: the loader's own messages already carry the path. */
        cr_assert_null(strstr(strstr(err.message, bad[i]) + 1, bad[i]), "%s", err.message);
        cr_log_info("%s -> %s: %s", bad[i], sn_status_string(st), err.message);
    }
    cr_assert_eq(sn_model_load_file(missing, &m, &err), SN_ERR_NOT_FOUND);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    cr_assert_eq(sn_model_load_file(NULL, &m, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_model_load_file(path, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    sn_test_rmtree(dir);
    free(dir);
}

/* --- other graph shapes ------------------------------------------------------------------- */

Test(api_model, fixed_shape_model_and_pass_through_outputs) {
    /* x[2,3] with no batch dimension: y = Relu(x); outputs y, x itself and a constant. Buffers
     * hold one whole tensor whatever the batch. */
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.fixed_shape_model"));
    sn_graph *g;
    ok(sn_graph_create(&g), NULL);
    int64_t xd[2] = {2, 3};
    float cv[6];
    sn_rng_fill(&r, cv, 6, -1, 1);
    int x = tensor(g, "x", 2, xd), y = tensor(g, "y", 0, NULL), c = constant(g, "c", 2, xd, cv);
    ok(sn_graph_add_input(g, x), NULL);
    node(g, SN_OP_RELU, "relu", x, -1, -1, y);
    ok(sn_graph_add_output(g, y), NULL);
    ok(sn_graph_add_output(g, x), NULL);
    ok(sn_graph_add_output(g, c), NULL);
    sn_model *m;
    sn_error err = {0};
    ok(sn_model_from_graph(g, &m, &err), &err);
    sn_tensor_info ti;
    ok(sn_model_input_info(m, 0, &ti), NULL);
    cr_assert_eq(ti.dims[0], 2);
    ok(sn_model_output_info(m, 0, &ti), NULL);
    cr_assert_eq(ti.dims[0], 2);
    sn_engine *e = cpu_engine(m, 3, 1);
    for (int i = 0; i < 3; i++) cr_assert_eq(sn_engine_output_bytes(e, i), 6 * sizeof(float));
    cr_assert_eq(sn_engine_input_bytes(e, 0), 6 * sizeof(float));
    for (int batch = 1; batch <= 3; batch++) {
        float in[6], out[3][12];
        sn_rng_fill(&r, in, 6, -1, 1);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 12; i++) out[k][i] = NAN;
        const void *ins[1] = {in};
        void *outs[3] = {out[0], out[1], out[2]};
        ok(sn_engine_run(e, batch, ins, outs, &err), &err);
        for (int i = 0; i < 6; i++) {
            cr_assert_eq(out[0][i], in[i] > 0 ? in[i] : 0.0f);
            cr_assert_eq(out[1][i], in[i]);
            cr_assert_eq(out[2][i], cv[i]);
        }
        for (int k = 0; k < 3; k++)
            for (int i = 6; i < 12; i++) cr_assert(isnan(out[k][i]), "wrote past one tensor");
    }
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

Test(api_model, conv_relu_matches_reference) {
    /* x[N,2,5,5] -> Conv(W[3,2,3,3], B[3], pads 1) -> Relu -> y[N,3,5,5] */
    enum { C = 2, M = 3, H = 5, K = 3 };
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.conv_relu_matches_reference"));
    float wv[M * C * K * K], bv[M];
    sn_rng_fill(&r, wv, M * C * K * K, -1, 1);
    sn_rng_fill(&r, bv, M, -1, 1);
    sn_graph *g;
    ok(sn_graph_create(&g), NULL);
    int64_t xd[4] = {SN_DIM_BATCH, C, H, H}, wd[4] = {M, C, K, K}, bd[1] = {M};
    int x = tensor(g, "x", 4, xd), wt = constant(g, "w", 4, wd, wv);
    int bt = constant(g, "b", 1, bd, bv);
    int cv = tensor(g, "conv", 0, NULL), y = tensor(g, "y", 0, NULL);
    ok(sn_graph_add_input(g, x), NULL);
    int64_t pads[4] = {1, 1, 1, 1};
    sn_attr attrs[1] = {sn_attr_ints("pads", pads, 4)};
    int in[3] = {x, wt, bt};
    ok(sn_graph_add_node(g, SN_OP_CONV, "conv", in, 3, &cv, 1, attrs, 1, NULL), NULL);
    node(g, SN_OP_RELU, "relu", cv, -1, -1, y);
    ok(sn_graph_add_output(g, y), NULL);
    sn_model *m;
    sn_error err = {0};
    ok(sn_model_from_graph(g, &m, &err), &err);
    /* As loaded, optimised (one FusedConv) and optimised for NHWC: the same numbers. */
    for (int variant = 0; variant < 3; variant++) {
        sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
        o.device = SN_DEVICE_CPU;
        o.max_batch = 3;
        o.threads = 2;
        o.optimize = variant > 0;
        o.layout = variant == 2 ? SN_LAYOUT_NHWC : SN_LAYOUT_ANY;
        sn_engine *e;
        ok(sn_engine_create(m, &o, &e, &err), &err);
        cr_assert_eq(sn_engine_output_bytes(e, 0), M * H * H * sizeof(float));
        for (int batch = 1; batch <= 3; batch += 2) {
            float xs[3 * C * H * H], ys[3 * M * H * H];
            double want[3 * M * H * H];
            sn_rng_fill(&r, xs, (size_t)batch * C * H * H, -1, 1);
            for (int i = 0; i < 3 * M * H * H; i++) ys[i] = NAN;
            const void *ins[1] = {xs};
            void *outs[1] = {ys};
            ok(sn_engine_run(e, batch, ins, outs, &err), &err);
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < M; o++)
                    for (int i = 0; i < H; i++)
                        for (int j = 0; j < H; j++) {
                            double acc = bv[o];
                            for (int c = 0; c < C; c++)
                                for (int ki = 0; ki < K; ki++)
                                    for (int kj = 0; kj < K; kj++) {
                                        int ii = i + ki - 1, jj = j + kj - 1;
                                        if (ii < 0 || jj < 0 || ii >= H || jj >= H) continue;
                                        acc += (double)wv[((o * C + c) * K + ki) * K + kj] *
                                               xs[((n * C + c) * H + ii) * H + jj];
                                    }
                            want[((n * M + o) * H + i) * H + j] = acc > 0 ? acc : 0;
                        }
            check_close(ys, want, (size_t)batch * M * H * H, "y");
            for (int i = batch * M * H * H; i < 3 * M * H * H; i++) cr_assert(isnan(ys[i]));
        }
        sn_engine_stats st = SN_ENGINE_STATS_INIT;
        ok(sn_engine_get_stats(e, &st), NULL);
        cr_assert_eq(st.weight_bytes, sizeof wv + sizeof bv);
        if (variant == 0) { /* conv, relu: one intermediate */
            cr_assert_eq(st.nodes, 2);
            cr_assert_eq(st.layout, SN_LAYOUT_ANY);
            cr_assert_eq(st.optimize_ms, 0.0);
            cr_assert_eq(st.naive_bytes, (3 * M * H * H * sizeof(float) + 63) / 64 * 64);
        } else if (variant == 1) { /* one FusedConv writes y: no intermediate */
            cr_assert_eq(st.nodes, 1);
            cr_assert_eq(st.layout, SN_LAYOUT_NCHW);
            cr_assert_gt(st.optimize_ms, 0.0);
            cr_assert_eq(st.naive_bytes, 0);
        } else { /* Transpose in, FusedConv NHWC, Transpose out */
            cr_assert_eq(st.nodes, 3);
            cr_assert_eq(st.layout, SN_LAYOUT_NHWC);
        }
        sn_engine_destroy(e);
    }
    sn_model_destroy(m);
}

