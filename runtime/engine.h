/*
 * engine.h - the sn_engine handle, private to the runtime: engine.c (creation, device choice,
 * sn_engine_run) and engine_images.c (sn_engine_run_images) share it. Everything a backend
 * owns stays behind `state` (backend.h).
 */
#ifndef SN_ENGINE_H
#define SN_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "graph.h"
#include "sentinel.h"

struct sn_engine {
    const sn_model *model;
    const sn_graph *g;   /* the graph the backend runs: the model's, or `own` */
    sn_graph *own;       /* the optimised copy, or NULL */
    sn_layout layout;    /* the layout g computes in */
    double optimize_ms;
    double create_ms; /* all of sn_engine_create */
    const sn_backend_ops *ops;
    void *state;
    pthread_mutex_t lock; /* held across runs; also guards the counters and backend stats */
    int max_batch, threads;
    size_t *in_bytes, *out_bytes; /* one sample (batch 1) of each input / output */
    bool *in_batched, *out_batched; /* whether the buffer holds `batch` samples or one tensor */
    uint64_t runs;
    const char *fallback; /* points into fallback_buf, or NULL */
    char fallback_buf[SN_ERROR_MESSAGE_SIZE];

    /* sn_engine_run_images (engine_images.c) */
    bool img_ok;                          /* the model takes images */
    char img_why[SN_ERROR_MESSAGE_SIZE];  /* why not, when !img_ok */
    sn_preprocess img_pre;                /* resolved and validated */
    sn_layout img_layout;                 /* NCHW or NHWC: the model input's */
    float *img_stage;                     /* the host path's f32 batch */
    size_t img_stage_bytes;
    uint64_t image_runs, images;
};

/* Pointers present, and no output overlapping another output or an input. with_inputs: the
 * caller passes the graph's inputs (false for sn_engine_run_images, whose input the engine
 * fills; `inputs` is then ignored). `fn` names the API function in messages. */
sn_status sn__engine_check_buffers(const sn_engine *e, int batch, bool with_inputs,
                                   const void *const *inputs, void *const *outputs,
                                   const char *fn, sn_error *err);

/* engine_images.c: decide whether the model takes images (e->img_*), and fill the image
 * fields of the backend's configuration. Never fails: a model that takes no images only
 * records why. */
void sn__engine_describe_images(sn_engine *e, sn_backend_config *cfg);
/* Frees what run_images allocated on the engine. */
void sn__engine_images_free(sn_engine *e);

#endif
