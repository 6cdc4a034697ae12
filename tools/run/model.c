/*
 * model.c - what sentinel-run can feed a model and read back: one float32 input with a batch
 * dimension (dynamic, or a fixed 1), an image input when it is [N,3,H,W] or [N,H,W,3] with
 * usable preprocessing metadata, and float32 outputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"
#include "run.h"

char *run_format_dims(const int64_t *d, int rank, int batch_first) {
    char buf[256];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "[");
    for (int i = 0; i < rank && n < sizeof buf; i++) {
        if (i == 0 && batch_first)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "N");
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld", i ? "," : "",
                                  (long long)d[i]);
    }
    if (n < sizeof buf) snprintf(buf + n, sizeof buf - n, "]");
    return run_xstrdup(buf);
}

int run_describe_model(const sn_model *m, const char *path, run_io *io) {
    int nin = sn_model_input_count(m);
    if (nin != 1) {
        run_say("error: %s has %d inputs; " PROG " feeds models with exactly one", path, nin);
        return -1;
    }
    sn_model_input_info(m, 0, &io->in);
    if (io->in.dtype != SN_DTYPE_F32) {
        run_say("error: %s: input '%s' is %s; " PROG " feeds float32 inputs only", path,
                io->in.name, sn_dtype_name(io->in.dtype));
        return -1;
    }
    if (io->in.rank < 1 || (io->in.dims[0] != SN_DIM_BATCH && io->in.dims[0] != 1)) {
        char *s = run_format_dims(io->in.dims, io->in.rank, 0);
        run_say("error: %s: input '%s' %s has no batch dimension (dynamic or 1)", path,
                io->in.name, s);
        free(s);
        return -1;
    }
    io->fixed_batch = io->in.dims[0] != SN_DIM_BATCH;
    io->sample_rank = io->in.rank - 1;
    io->sample_floats = 1;
    for (int i = 1; i < io->in.rank; i++) {
        io->sample_dims[i - 1] = io->in.dims[i];
        io->sample_floats *= (size_t)io->in.dims[i];
    }
    io->layout = io->in.layout == SN_LAYOUT_NHWC ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    int64_t c = -1, h = 0, w = 0;
    if (io->in.rank == 4) {
        if (io->layout == SN_LAYOUT_NHWC)
            h = io->in.dims[1], w = io->in.dims[2], c = io->in.dims[3];
        else
            c = io->in.dims[1], h = io->in.dims[2], w = io->in.dims[3];
    }
    io->image_ok = c == 3;
    if (io->image_ok) {
        sn_preprocess meta;
        sn_error err = {0};
        if (sn_model_preprocess(m, &meta) != SN_OK) meta.present = 0;
        /* Fatal only when images are given: .npy and --random inputs need no preprocessing. */
        if (sn_preprocess_resolve(&meta, h, w, &io->pre, &err) != SN_OK) {
            io->image_ok = 0;
            snprintf(io->no_images, sizeof io->no_images, "the model's preprocessing metadata "
                     "is unusable: %s", err.message);
        }
    } else {
        char *s = run_format_dims(io->in.dims, io->in.rank, !io->fixed_batch);
        snprintf(io->no_images, sizeof io->no_images,
                 "the model input %s is not a 3-channel image; give .npy files or --random", s);
        free(s);
    }
    io->n_out = sn_model_output_count(m);
    io->out = run_xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *io->out);
    io->out_floats = run_xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *io->out_floats);
    for (int k = 0; k < io->n_out; k++) {
        sn_model_output_info(m, k, &io->out[k]);
        if (io->out[k].dtype != SN_DTYPE_F32) {
            run_say("error: %s: output '%s' is %s; " PROG " reads float32 outputs only", path,
                    io->out[k].name, sn_dtype_name(io->out[k].dtype));
            return -1;
        }
    }
    return 0;
}

void run_io_free(run_io *io) {
    free(io->out);
    free(io->out_floats);
    io->out = NULL;
    io->out_floats = NULL;
}
