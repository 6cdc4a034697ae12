/*
 * sentinel-run - run a .sgraph or ONNX model on images, videos, cameras, .npy tensors or
 * random inputs.
 *
 *   sentinel-run MODEL.sgraph [inputs...] [options]      (sentinel-run --help for the options)
 *
 * Inputs are JPEG/PNG files (format from the bytes), folders of them (sorted, not recursive,
 * only *.jpg *.jpeg *.png), videos, streams and cameras (one result per frame, docs/video.md),
 * .npy tensors (one sample [C,H,W] or a batch [N,C,H,W] matching the model input) and
 * --random N seeded samples. Images are decoded and preprocessed as the
 * model's metadata says (loader/preprocess.h), then run in batches through the public engine
 * API. Per input: the top-k classes on stdout (or a tensor summary for outputs that are not
 * class scores), a JSON Lines record with --output, .npy files with --save-npy. The engine runs
 * an optimised copy of the graph (--layout nhwc converts it to channels-last) unless
 * --no-optimize asks for the graph exactly as loaded, for comparison.
 *
 * Image files are decoded on a pool of threads (--decode-threads), a few batches ahead of the
 * engine, and handed to it as 8-bit pixels (sn_engine_run_images), which preprocesses them; a
 * JPEG much larger than the model needs is decoded at a reduced scale.
 *
 * A bad input is reported on stderr by name and reason and skipped; the rest still run.
 * Exit status: 0 when every input succeeded, 1 when some failed, 2 for a usage error or a model
 * or device that cannot be used, 130 when Ctrl-C stopped the run (after writing every result
 * computed by then).
 *
 * This file is main(): it loads the model, opens the inputs and the engine and hands them to
 * the batch loop. The parts live in tools/run/ (run.h says which file holds what).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "run.h"

int main(int argc, char **argv) {
    run_options o = {0};
    int rc = run_parse_args(argc, argv, &o);
    if (rc >= 0) {
        free(o.inputs);
        return rc;
    }
    sn_model *model = NULL;
    sn_engine *engine = NULL;
    run_io io = {0};
    run_sources *src = NULL;
    run_writers w = {0};
    run_state r = {0};
    sn_error err = {0};
    rc = EXIT_USAGE;
    run_signals_install();

    /* A .sgraph file, or an ONNX model converted on the fly. */
    sn_onnx_report rep;
    sn_status loaded = sn_model_load_any_report(o.model, &model, &rep, &err);
    for (int i = 0; !o.quiet && i < rep.n_warnings; i++)
        run_say("warning: %s: %s", o.model, rep.warnings[i]);
    sn_onnx_report_free(&rep);
    if (loaded != SN_OK) {
        run_say("error: cannot load model %s: %s", o.model, err.message);
        goto done;
    }
    if (run_describe_model(model, o.model, &io) != 0) goto done;
    run_context ctx = {&o, &io};
    if (run_sources_open(&ctx, &src) != 0) goto done;
    if (o.save_dir) {
        struct stat st;
        if (mkdir(o.save_dir, 0755) != 0 && errno != EEXIST) {
            run_say("error: cannot create --save-npy folder %s: %s", o.save_dir,
                    strerror(errno));
            goto done;
        }
        if (stat(o.save_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            run_say("error: --save-npy %s is not a folder", o.save_dir);
            goto done;
        }
    }

    int64_t count = run_sources_count(src);
    r.batch = (int)o.batch;
    if (io.fixed_batch && r.batch > 1) {
        if (o.batch_given && !o.quiet)
            run_say("note: the model's batch is fixed at 1; running one input at a time");
        r.batch = 1;
    }
    if (count >= 0 && r.batch > count) r.batch = count ? (int)count : 1;
    sn_engine_options eo = SN_ENGINE_OPTIONS_INIT;
    eo.device = o.device;
    eo.threads = (int)o.threads;
    eo.max_batch = r.batch;
    eo.optimize = !o.no_optimize;
    eo.layout = o.layout;
    eo.precision = o.precision;
    if (sn_engine_create(model, &eo, &engine, &err) != SN_OK) {
        run_say("error: cannot create an engine on the %s: %s",
                o.device == SN_DEVICE_GPU ? "GPU" : o.device == SN_DEVICE_CPU ? "CPU" : "device",
                err.message);
        goto done;
    }
    if (o.device == SN_DEVICE_AUTO && sn_engine_fallback_reason(engine) && !o.quiet)
        run_say("note: no usable GPU, running on the CPU: %s", sn_engine_fallback_reason(engine));
    if (sn_engine_input_bytes(engine, 0) != io.sample_floats * sizeof(float)) {
        run_say("error: the engine sizes input '%s' at %zu bytes, expected %zu", io.in.name,
                sn_engine_input_bytes(engine, 0), io.sample_floats * sizeof(float));
        goto done;
    }
    for (int k = 0; k < io.n_out; k++)
        io.out_floats[k] = sn_engine_output_bytes(engine, k) / sizeof(float);
    w.o = &o;
    w.model = model;
    w.io = &io;
    r.o = &o;
    r.model = model;
    r.engine = engine;
    r.io = &io;
    r.src = src;
    r.w = &w;
    if (o.output && !(w.jsonl = run_jsonl_open(o.output))) goto done;
    r.progress = !o.quiet && isatty(STDERR_FILENO) &&
                 (count < 0 || (count + r.batch - 1) / r.batch > 4);
    r.decode_threads = (int)o.decode_threads;
    if (r.decode_threads == 0) {
        /* A GPU engine leaves the cores to decoding. A CPU engine runs on all of them itself
         * (OpenMP), and decoding threads competing with its parallel regions slow both: half
         * the cores then, still ample for reduced-scale decoding (docs/run.md). */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        if (cores < 1) cores = 1;
        if (sn_engine_device(engine) != SN_DEVICE_GPU) cores = cores / 2 > 0 ? cores / 2 : 1;
        r.decode_threads = cores > RUN_MAX_DEFAULT_DECODE_THREADS ? RUN_MAX_DEFAULT_DECODE_THREADS
                                                                  : (int)cores;
    }

    run_all(&r);
    double wall = run_now() - r.t_start;
    rc = r.interrupted ? EXIT_INTERRUPTED : w.failed ? EXIT_SOME_FAILED : 0;
    if (w.jsonl) {
        /* Kept when interrupted too: it holds every record computed, in order. */
        int kept = run_jsonl_close(w.jsonl, o.output, 1);
        w.jsonl = NULL;
        if (kept != 0 && rc == 0) rc = EXIT_SOME_FAILED;
    }
    if (o.stats) run_print_stats(&r, wall);
    fflush(stdout);
    double rate = wall > 0 ? (double)w.ok / wall : 0.0;
    /* What was counted: one result per input, except that a video gives one per frame. */
    char done_what[96];
    if (w.frames)
        snprintf(done_what, sizeof done_what, "%zu results (%zu video frames)", r.n_items,
                 w.frames);
    else
        snprintf(done_what, sizeof done_what, "%zu inputs", r.n_items);
    if (r.interrupted)
        run_say("interrupted: %s done (%zu succeeded, %zu failed), the rest not run; "
                "%.1f images/s", done_what, w.ok, w.failed, rate);
    else if (w.failed)
        run_say("%s: %zu succeeded, %zu failed; %.1f images/s", done_what, w.ok, w.failed,
                rate);
    else if (!o.quiet)
        run_say("%s: all succeeded; %.1f images/s", done_what, rate);

done:
    if (w.jsonl) run_jsonl_close(w.jsonl, o.output, 0);
    run_name_set_free(&w.saved);
    if (!r.pool_abandoned) run_sources_close(src); /* else a decoding thread is still in it */
    run_state_free(&r);
    run_io_free(&io);
    sn_engine_destroy(engine);
    sn_model_destroy(model);
    free(o.inputs);
    return rc;
}
