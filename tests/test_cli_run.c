/*
 * test_cli_run.c - sentinel-run end to end, through the built programs: a seed-cnn model from
 * sentinel-zoo and images from sentinel-mkimages in a temporary folder; top-k lines on stdout,
 * JSON Lines records (checked by a JSON parser), --save-npy files, .npy and --random inputs,
 * --stats, argument errors, --device gpu without a GPU. Bad images among good ones:
 * test_cli_run_input.c. Every run is checked for a crash (a signal).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_support.h"
#include "graph.h"
#include "jsonl.h"
#include "npy.h"
#include "sentinel.h"
#include "sgraph.h"
#include "test_support.h"

typedef struct fixture {
    char *dir;
    char model[4096], img[4096];
} fixture;

static void setup(fixture *f, int images) {
    f->dir = sn_test_cli_workdir(f->model, sizeof f->model);
    snprintf(f->img, sizeof f->img, "%s/img", f->dir);
    if (images) sn_test_cli_mkimages(f->img, images, 5, NULL);
}

static void teardown(fixture *f) {
    sn_test_rmtree(f->dir);
    free(f->dir);
}

/* --- tests ------------------------------------------------------------------------------- */

Test(cli_run, top_k_lines_for_every_image) {
    fixture f;
    setup(&f, 9);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --top 3 --device cpu",
                             sn_test_bin("sentinel-run"), f.model, f.img);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(sn_test_count_of(out, f.img), 9, "%s", out);
    /* Each image line is followed by 3 score lines, highest first, labels from metadata. */
    for (char *p = strstr(out, f.img); p; p = strstr(p + 1, f.img)) {
        char *line = strchr(p, '\n');
        double prev = 2.0;
        for (int k = 0; k < 3; k++) {
            cr_assert(line);
            double score;
            int cls;
            char label[64];
            cr_assert_eq(sscanf(line + 1, " %lf %63s (class %d)", &score, label, &cls), 3,
                         "bad score line after %.60s", p);
            cr_assert(score > 0 && score <= 1 && score <= prev, "score %g after %g", score, prev);
            cr_assert(!strncmp(label, "class_", 6));
            prev = score;
            line = strchr(line + 1, '\n');
        }
    }
    cr_assert(strstr(out, "9 inputs: all succeeded"), "%s", out);
    free(out);
    teardown(&f);
}

Test(cli_run, jsonl_save_npy_and_npy_inputs) {
    fixture f;
    setup(&f, 5);
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("cli_npy"));
    /* A batch of 3 samples and a single sample equal to the batch's second. */
    size_t sample = 3 * 224 * 224;
    float *x = malloc(3 * sample * sizeof(float));
    sn_rng_fill(&r, x, 3 * sample, -2.0f, 2.0f);
    char batch[4200], single[4200], jsonl[4200], npydir[4200];
    snprintf(batch, sizeof batch, "%s/b.npy", f.dir);
    snprintf(single, sizeof single, "%s/s.npy", f.dir);
    snprintf(jsonl, sizeof jsonl, "%s/out.jsonl", f.dir);
    snprintf(npydir, sizeof npydir, "%s/saved", f.dir);
    int64_t bd[4] = {3, 3, 224, 224};
    sn_error err = {0};
    cr_assert_eq(sn_npy_write_file(batch, x, 4, bd, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_npy_write_file(single, x + sample, 3, bd + 1, &err), SN_OK);

    char *out = NULL;
    int rc =
        sn_test_cli_run(&out, "'%s' '%s' '%s' '%s' '%s' -o '%s' --save-npy '%s' --batch 3 --quiet",
                        sn_test_bin("sentinel-run"), f.model, f.img, batch, single, jsonl, npydir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(out[0], '\0', "--quiet printed: %s", out);
    free(out);

    int n;
    char **recs = sn_test_jsonl_records(jsonl, &n);
    cr_assert_eq(n, 5 + 3 + 1);
    char top_b1[256] = "", top_s[256] = "";
    for (int i = 0; i < n; i++) {
        char input[4200], want_index[32];
        cr_assert_eq(sn_test_json_get_string(recs[i], "input", input, sizeof input), 0, "%s",
                     recs[i]);
        snprintf(want_index, sizeof want_index, "\"index\":%d,", i);
        cr_assert(strstr(recs[i], want_index), "record %d: %s", i, recs[i]);
        cr_assert(strstr(recs[i], "\"scores\":\"softmax\""), "%s", recs[i]);
        cr_assert_eq(sn_test_count_of(recs[i], "\"class\":"), 5, "%s", recs[i]);
        const char *top = strstr(recs[i], "\"top\":");
        if (i == 6) snprintf(top_b1, sizeof top_b1, "%.120s", top);
        if (i == 8) snprintf(top_s, sizeof top_s, "%.120s", top);
        if (i >= 5 && i < 8) {
            char want[4300];
            snprintf(want, sizeof want, "%s[%d]", batch, i - 5);
            cr_assert_str_eq(input, want);
        }
        /* The saved logits: [1,10], and their argmax is the record's first class. */
        const char *base = strrchr(input, '/') + 1;
        char stem[256], path[4600];
        snprintf(stem, sizeof stem, "%s", base);
        char *bracket = strchr(stem, '[');
        if (bracket) {
            int k = atoi(bracket + 1);
            *bracket = '\0';
            *strrchr(stem, '.') = '\0';
            snprintf(stem + strlen(stem), sizeof stem - strlen(stem), "_%d", k);
        } else {
            *strrchr(stem, '.') = '\0';
        }
        snprintf(path, sizeof path, "%s/%s.npy", npydir, stem);
        sn_npy a;
        cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s: %s", path, err.message);
        cr_assert(a.rank == 2 && a.dims[0] == 1 && a.dims[1] == 10, "%s: rank %d", path,
                  a.rank);
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (a.data[c] > a.data[best]) best = c;
        char want_top[64];
        snprintf(want_top, sizeof want_top, "\"top\":[{\"class\":%d,", best);
        cr_assert(strstr(recs[i], want_top), "%s: argmax %d but %s", path, best, recs[i]);
        sn_npy_free(&a);
    }
    /* The same sample alone or inside a batch gives the same classes. */
    char *cut_b = strstr(top_b1, "\"score\""), *cut_s = strstr(top_s, "\"score\"");
    cr_assert(cut_b && cut_s);
    *cut_b = *cut_s = '\0';
    cr_assert_str_eq(top_b1, top_s);
    sn_test_jsonl_free(recs, n);
    free(x);
    teardown(&f);
}

Test(cli_run, random_inputs_with_stats) {
    fixture f;
    setup(&f, 0);
    char *out = NULL, *again = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' --random 10 --batch 4 --seed 7 --stats --top 2",
                             sn_test_bin("sentinel-run"), f.model);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "random:0\n") && strstr(out, "random:9\n"), "%s", out);
    cr_assert(strstr(out, "10 images in 3 batches"), "%s", out);
    cr_assert(strstr(out, "images/s"), "%s", out);
    double p50, p90, p99;
    const char *lat = strstr(out, "p50");
    cr_assert(lat, "%s", out);
    cr_assert_eq(sscanf(lat, "p50 %lf ms, p90 %lf ms, p99 %lf ms", &p50, &p90, &p99), 3, "%s",
                 out);
    cr_assert(p50 > 0 && p50 <= p90 && p90 <= p99, "%g %g %g", p50, p90, p99);
    cr_assert(strstr(out, "activations") && strstr(out, "weights") && strstr(out, "max RSS"),
              "%s", out);
    /* Seeded: the same seed gives the same classes, whatever the batch size. */
    rc = sn_test_cli_run(&again, "'%s' '%s' --random 10 --batch 1 --seed 7 --top 2 --device cpu",
                         sn_test_bin("sentinel-run"), f.model);
    cr_assert_eq(rc, 0, "%s", again);
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "random:%d\n", i);
        int c1a, c1b;
        const char *a = strstr(out, name), *b = strstr(again, name);
        cr_assert(a && b);
        cr_assert_eq(sscanf(strchr(a, '\n') + 1, " %*f class_%*d (class %d)", &c1a), 1);
        cr_assert_eq(sscanf(strchr(b, '\n') + 1, " %*f class_%*d (class %d)", &c1b), 1);
        cr_assert_eq(c1a, c1b, "%s: class %d with batch 4, %d with batch 1", name, c1a, c1b);
    }
    free(again);
    free(out);
    teardown(&f);
}

Test(cli_run, names_are_escaped_in_json) {
    fixture f;
    setup(&f, 5);
    char odd[4200], src[4200], jsonl[4200], *out = NULL;
    /* A quote, a backslash, a tab and a non-ASCII letter in one file name. */
    snprintf(odd, sizeof odd, "%s/we\"ird\\n\tame\xc3\xa9.png", f.dir);
    sn_test_cli_image_path(f.img, "004-", src, sizeof src);
    size_t size;
    char *b = sn_test_read_file(src, &size);
    cr_assert(b, "cannot read %s", src);
    cr_assert_eq(sn_test_write_file(odd, b, size), 0);
    free(b);
    snprintf(jsonl, sizeof jsonl, "%s/o.jsonl", f.dir);
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' -o '%s' --quiet", sn_test_bin("sentinel-run"),
                             f.model, odd, jsonl);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    int n;
    char **recs = sn_test_jsonl_records(jsonl, &n);
    cr_assert_eq(n, 1);
    char input[4200];
    cr_assert_eq(sn_test_json_get_string(recs[0], "input", input, sizeof input), 0);
    cr_assert_str_eq(input, odd);
    sn_test_jsonl_free(recs, n);
    teardown(&f);
}

Test(cli_run, bad_arguments_exit_2) {
    fixture f;
    setup(&f, 1);
    char notmodel[4200];
    sn_test_cli_image_path(f.img, "000-", notmodel, sizeof notmodel);
    struct {
        const char *args, *needle;
    } cases[] = {
        {"M I --bogus", "unknown option '--bogus'"},
        {"M I --batch 0", "--batch must be an integer in 1..4096, not '0'"},
        {"M I --batch abc", "--batch must be an integer"},
        {"M I --batch 8x", "--batch must be an integer"},
        {"M I --top -1", "--top must be an integer in 1..1000, not '-1'"},
        {"M I --threads -2", "--threads"},
        {"M I --random 0", "--random"},
        {"M I --batch", "option --batch needs a value"},
        {"M I --device tpu", "--device must be auto, cpu or gpu"},
        {"M I --seed -5", "--seed"},
        {"M I --decode-threads 300", "--decode-threads must be an integer in 0..256, not '300'"},
        {"M I --decode-threads=x", "--decode-threads must be an integer"},
        {"", "no model given"},
        {"M", "no inputs given"},
        {"NOSUCH I", "cannot load model"},
        {"NOTMODEL I", "cannot load model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char args[9000] = "";
        for (const char *p = cases[i].args; *p; p++) {
            size_t n = strlen(args);
            if (*p == 'M')
                snprintf(args + n, sizeof args - n, "'%s'", f.model);
            else if (*p == 'I')
                snprintf(args + n, sizeof args - n, "'%s'", f.img);
            else if (!strncmp(p, "NOSUCH", 6))
                snprintf(args + n, sizeof args - n, "'%s/none.sgraph'", f.dir), p += 5;
            else if (!strncmp(p, "NOTMODEL", 8))
                snprintf(args + n, sizeof args - n, "'%s'", notmodel), p += 7;
            else
                args[n] = *p, args[n + 1] = '\0';
        }
        char *out = NULL;
        int rc = sn_test_cli_run(&out, "'%s' %s", sn_test_bin("sentinel-run"), args);
        cr_assert_eq(rc, 2, "'%s' exited %d:\n%s", cases[i].args, rc, out);
        cr_assert(strstr(out, cases[i].needle), "'%s': no '%s' in:\n%s", cases[i].args,
                  cases[i].needle, out);
        free(out);
    }
    char *out = NULL;
    cr_assert_eq(sn_test_cli_run(&out, "'%s' --help", sn_test_bin("sentinel-run")), 0);
    cr_assert(strstr(out, "usage: sentinel-run"), "%s", out);
    free(out);
    cr_assert_eq(sn_test_cli_run(&out, "'%s' --version", sn_test_bin("sentinel-run")), 0);
    cr_assert(strstr(out, sn_version_string()), "%s", out);
    free(out);
    /* --output into a missing folder: refused before running, nothing written. */
    cr_assert_eq(sn_test_cli_run(&out, "'%s' '%s' '%s' -o '%s/no/o.jsonl'",
                                 sn_test_bin("sentinel-run"), f.model, f.img, f.dir),
                 2);
    cr_assert(strstr(out, "cannot write"), "%s", out);
    free(out);
    teardown(&f);
}

Test(cli_run, device_gpu_fails_clearly_without_a_gpu) {
    int count = 0;
    sn_error perr = {0};
    if (sn_gpu_probe(&count, &perr) == SN_OK && count > 0)
        cr_skip_test("a GPU is present here; this test is about machines without one");
    fixture f;
    setup(&f, 1);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --device gpu", sn_test_bin("sentinel-run"),
                             f.model, f.img);
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "GPU"), "%s", out);
    cr_assert(strstr(out, perr.message), "the reason '%s' is not in:\n%s", perr.message, out);
    free(out);
    /* auto falls back to the CPU and says so in exactly one line. */
    rc = sn_test_cli_run(&out, "'%s' '%s' '%s' --device auto", sn_test_bin("sentinel-run"), f.model,
                         f.img);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(sn_test_count_of(out, "running on the CPU"), 1, "%s", out);
    free(out);
    teardown(&f);
}

/* A model with two outputs and no metadata: softmax probabilities over 3 classes, and a
 * feature map that is not class scores. */
static void write_two_output_model(const char *path) {
    sn_graph *g = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int64_t dims[4] = {SN_DIM_BATCH, 3, 8, 8};
    sn_shape s = sn_shape_make(4, dims);
    int x, pooled, flat, probs, feature;
    cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &s, &x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "pooled", SN_DTYPE_F32, NULL, &pooled), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "flat", SN_DTYPE_F32, NULL, &flat), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "probs", SN_DTYPE_F32, NULL, &probs), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "feature", SN_DTYPE_F32, NULL, &feature), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_GLOBAL_AVG_POOL, "gap", &x, 1, &pooled, 1, NULL, 0,
                                   NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_FLATTEN, "flatten", &pooled, 1, &flat, 1, NULL, 0,
                                   NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_SOFTMAX, "softmax", &flat, 1, &probs, 1, NULL, 0,
                                   NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_RELU, "relu", &x, 1, &feature, 1, NULL, 0, NULL),
                 SN_OK);
    cr_assert_eq(sn_graph_add_output(g, probs), SN_OK);
    cr_assert_eq(sn_graph_add_output(g, feature), SN_OK);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_sgraph_write_file(g, path, &err), SN_OK, "%s", err.message);
    sn_graph_destroy(g);
}

Test(cli_run, probabilities_and_tensor_summaries) {
    fixture f;
    setup(&f, 3);
    char model[4200], jsonl[4200], saved[4200], img[4200];
    snprintf(model, sizeof model, "%s/two.sgraph", f.dir);
    snprintf(jsonl, sizeof jsonl, "%s/o.jsonl", f.dir);
    snprintf(saved, sizeof saved, "%s/saved", f.dir);
    write_two_output_model(model);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' -o '%s' --save-npy '%s'",
                             sn_test_bin("sentinel-run"), model, f.img, jsonl, saved);
    cr_assert_eq(rc, 0, "%s", out);
    /* No labels in the model: class indices; --top 5 of 3 classes shows 3. */
    cr_assert_eq(sn_test_count_of(out, "  class "), 9, "%s", out);
    cr_assert_eq(sn_test_count_of(out, "shape [1,3,8,8]"), 3, "%s", out);
    free(out);
    int n;
    char **recs = sn_test_jsonl_records(jsonl, &n);
    cr_assert_eq(n, 3);
    for (int i = 0; i < n; i++) {
        cr_assert(strstr(recs[i], "\"outputs\":[{\"name\":\"probs\",\"top\":["), "%s", recs[i]);
        cr_assert(strstr(recs[i], "\"scores\":\"probabilities\""), "%s", recs[i]);
        cr_assert(!strstr(recs[i], "\"label\""), "%s", recs[i]);
        cr_assert_eq(sn_test_count_of(recs[i], "\"class\":"), 3, "%s", recs[i]);
        const char *feat = strstr(recs[i], "{\"name\":\"feature\",\"shape\":[1,3,8,8],\"min\":");
        cr_assert(feat, "%s", recs[i]);
        double mn, mx, mean;
        cr_assert_eq(sscanf(strstr(feat, "\"min\":"), "\"min\":%lf,\"max\":%lf,\"mean\":%lf",
                            &mn, &mx, &mean), 3, "%s", feat);
        /* relu(pixel/255) of the image stretched to 8x8, read back from --save-npy. */
        char input[4200], path[9000];
        cr_assert_eq(sn_test_json_get_string(recs[i], "input", input, sizeof input), 0);
        snprintf(img, sizeof img, "%s", strrchr(input, '/') + 1);
        *strrchr(img, '.') = '\0';
        snprintf(path, sizeof path, "%s/%s.feature.npy", saved, img);
        sn_npy a;
        sn_error err = {0};
        cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s: %s", path, err.message);
        cr_assert(a.rank == 4 && a.dims[0] == 1 && a.dims[1] == 3 && a.count == 192);
        double amin = 1e9, amax = -1e9, sum = 0;
        for (size_t k = 0; k < a.count; k++) {
            amin = fmin(amin, a.data[k]);
            amax = fmax(amax, a.data[k]);
            sum += a.data[k];
        }
        cr_assert(amin >= 0 && amax <= 1, "%g..%g", amin, amax);
        cr_assert(fabs(amin - mn) < 1e-6 && fabs(amax - mx) < 1e-6 &&
                  fabs(sum / 192 - mean) < 1e-6, "summary %g %g %g vs file %g %g %g", mn, mx,
                  mean, amin, amax, sum / 192);
        sn_npy_free(&a);
        snprintf(path, sizeof path, "%s/%s.probs.npy", saved, img);
        cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s: %s", path, err.message);
        cr_assert(a.rank == 2 && a.dims[1] == 3);
        cr_assert(fabs(a.data[0] + a.data[1] + a.data[2] - 1) < 1e-5);
        sn_npy_free(&a);
    }
    sn_test_jsonl_free(recs, n);
    /* No temporary files are left behind. */
    DIR *d = opendir(f.dir);
    struct dirent *e;
    while ((e = readdir(d))) cr_assert(!strstr(e->d_name, ".tmp."), "left %s", e->d_name);
    closedir(d);
    teardown(&f);
}

/* --save-npy that cannot write one item's second output (a folder sits where its file goes):
 * that item is a failed item everywhere - an error record, not a result, its first output's
 * file removed, counted in the summary and the exit status - and the others are written. */
Test(cli_run, save_npy_failure_fails_the_item_whole) {
    fixture f;
    setup(&f, 3);
    char model[4200], jsonl[4200], saved[4200], img[4200], blocker[9000], path[9100];
    snprintf(model, sizeof model, "%s/two.sgraph", f.dir);
    snprintf(jsonl, sizeof jsonl, "%s/o.jsonl", f.dir);
    snprintf(saved, sizeof saved, "%s/saved", f.dir);
    write_two_output_model(model);
    sn_test_cli_image_path(f.img, "001-", img, sizeof img);
    char stem[4200];
    snprintf(stem, sizeof stem, "%s", strrchr(img, '/') + 1);
    *strrchr(stem, '.') = '\0';
    cr_assert_eq(mkdir(saved, 0755), 0);
    snprintf(blocker, sizeof blocker, "%s/%s.feature.npy", saved, stem);
    cr_assert_eq(mkdir(blocker, 0755), 0);
    snprintf(path, sizeof path, "%s/keep", blocker); /* a non-empty folder: rename cannot replace it */
    cr_assert_eq(sn_test_write_file(path, "x", 1), 0);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' '%s' -o '%s' --save-npy '%s' --quiet",
                             sn_test_bin("sentinel-run"), model, f.img, jsonl, saved);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "3 inputs: 2 succeeded, 1 failed"), "%s", out);
    cr_assert(strstr(out, stem) && strstr(out, "could not save its output"), "%s", out);
    free(out);
    int n;
    char **recs = sn_test_jsonl_records(jsonl, &n);
    cr_assert_eq(n, 3);
    int errors = 0;
    for (int i = 0; i < n; i++) {
        int failed = strstr(recs[i], "\"error\":") != NULL;
        errors += failed;
        cr_assert_eq(failed, strstr(recs[i], stem) != NULL, "%s", recs[i]);
        cr_assert_eq(failed, strstr(recs[i], "\"outputs\"") == NULL, "%s", recs[i]);
    }
    cr_assert_eq(errors, 1);
    sn_test_jsonl_free(recs, n);
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.probs.npy", saved, stem);
    cr_assert_neq(stat(path, &sb), 0, "the failed item's first output was left: %s", path);
    int files = 0;
    DIR *d = opendir(saved);
    struct dirent *e;
    while ((e = readdir(d))) {
        cr_assert(!strstr(e->d_name, ".tmp."), "left %s", e->d_name);
        files += strstr(e->d_name, ".npy") && strcmp(e->d_name, strrchr(blocker, '/') + 1);
    }
    closedir(d);
    cr_assert_eq(files, 4, "the two good items' outputs");
    teardown(&f);
}

Test(cli_run, vector_model_takes_npy_and_random_not_images) {
    fixture f;
    setup(&f, 1);
    char model[4200], good[4200], bad[4200];
    snprintf(model, sizeof model, "%s/vec.sgraph", f.dir);
    snprintf(good, sizeof good, "%s/good.npy", f.dir);
    snprintf(bad, sizeof bad, "%s/bad.npy", f.dir);
    sn_graph *g = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int64_t dims[2] = {SN_DIM_BATCH, 4};
    sn_shape s = sn_shape_make(2, dims);
    int x, y;
    cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &s, &x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "y", SN_DTYPE_F32, NULL, &y), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_IDENTITY, "id", &x, 1, &y, 1, NULL, 0, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_output(g, y), SN_OK);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_sgraph_write_file(g, model, &err), SN_OK, "%s", err.message);
    sn_graph_destroy(g);
    /* Logits 0, 3, 1, 2 for one sample: softmax ranks class 1 first. */
    float v[8] = {0, 3, 1, 2, 5, 4, 3, 2};
    int64_t one[1] = {4}, two[2] = {2, 4}, wrong[1] = {5};
    cr_assert_eq(sn_npy_write_file(good, v, 1, one, &err), SN_OK);
    char *out = NULL;
    int rc =
        sn_test_cli_run(&out, "'%s' '%s' '%s' --top 2", sn_test_bin("sentinel-run"), model, good);
    cr_assert_eq(rc, 0, "%s", out);
    double p1, p2;
    int c1, c2;
    const char *at = strstr(out, "good.npy\n");
    cr_assert(at, "%s", out);
    cr_assert_eq(sscanf(at + 9, " %lf class %d %lf class %d", &p1, &c1, &p2, &c2), 4, "%s", out);
    double z = exp(0) + exp(3) + exp(1) + exp(2);
    cr_assert(c1 == 1 && c2 == 3, "%s", out);
    cr_assert(fabs(p1 - exp(3) / z) < 1e-5 && fabs(p2 - exp(2) / z) < 1e-5, "%s", out);
    free(out);
    /* A batch file, a wrong shape, and random samples. */
    cr_assert_eq(sn_npy_write_file(good, v, 2, two, &err), SN_OK);
    cr_assert_eq(sn_npy_write_file(bad, v, 1, wrong, &err), SN_OK);
    rc = sn_test_cli_run(&out, "'%s' '%s' '%s' '%s' --random 2", sn_test_bin("sentinel-run"), model,
                         good, bad);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "good.npy[0]\n") && strstr(out, "good.npy[1]\n"), "%s", out);
    cr_assert(strstr(out, "random:1\n"), "%s", out);
    cr_assert(strstr(out, "bad.npy: the array is [5]; the model input is [N,4]"), "%s", out);
    cr_assert(strstr(out, "5 inputs: 4 succeeded, 1 failed"), "%s", out);
    free(out);
    /* Images cannot feed it: a usage error, said before anything runs. */
    rc = sn_test_cli_run(&out, "'%s' '%s' '%s'", sn_test_bin("sentinel-run"), model, f.img);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "is not a 3-channel image"), "%s", out);
    free(out);
    teardown(&f);
}
