/*
 * builder.h - the helpers the zoo's model definitions are written with.
 *
 * A model definition reads like the architecture it builds (torchvision's module names, one
 * call per layer), so the builder keeps the first failure and every later call becomes a no-op
 * that returns -1: a definition checks sn_zb_finish() once at the end instead of after each of
 * its hundreds of layers.
 *
 * Weights are deterministic: a splitmix64 stream seeded from the model name and seed, turned
 * into values with IEEE basic operations and sqrt only (no libm transcendentals, whose last bit
 * may differ between C libraries), so the same name and seed give the same bytes on every
 * machine. Convolutions and dense layers get He-uniform weights (variance 2/fan_in, which keeps
 * activations near unit scale through deep ReLU stacks); BatchNorm layers get statistics that
 * are deliberately not the identity, so a pass that folds them has something to get wrong.
 *
 * Every node's output tensor is named after the node; its constants are "<node>.weight",
 * "<node>.bias", "<node>.running_mean" and "<node>.running_var".
 */
#ifndef SN_ZOO_BUILDER_H
#define SN_ZOO_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"

#define SN_ZB_NAME_SIZE 128
#define SN_ZB_NAME_SLOTS 4

typedef struct sn_zb {
    sn_graph *g;
    uint64_t rng;     /* splitmix64 state */
    sn_status status; /* the first failure; SN_OK while building */
    sn_error *err;    /* where that failure's message goes (may be NULL) */
    char names[SN_ZB_NAME_SLOTS][SN_ZB_NAME_SIZE];
    int next_name;
} sn_zb;

/* Start building into an empty graph; the weight stream depends on model and seed. */
void sn_zb_begin(sn_zb *b, sn_graph *g, const char *model, uint64_t seed, sn_error *err);
/* The builder's status after the last call (SN_OK or the first failure). */
sn_status sn_zb_finish(sn_zb *b);

/* Format a node name into one of a few rotating buffers (valid for the next few calls), so a
 * call can take two formatted names. */
const char *sn_zb_name(sn_zb *b, const char *fmt, ...) SN_PRINTF(2, 3);

/* The graph input: f32 [N,c,h,w] NCHW with a dynamic batch. Returns the tensor index. */
int sn_zb_input(sn_zb *b, const char *name, int c, int h, int w);
/* Mark a tensor as a graph output. */
void sn_zb_output(sn_zb *b, int x);

/* Layers. Each returns its output tensor (-1 after a failure). sn_zb_conv has no bias input. */
int sn_zb_conv(sn_zb *b, const char *name, int x, int cin, int cout, int k, int stride, int pad,
               int group);
/* Conv with its bias as a third input (SqueezeNet, squeeze-excitation layers). */
int sn_zb_conv_biased(sn_zb *b, const char *name, int x, int cin, int cout, int k, int stride,
                      int pad, int group);
int sn_zb_bias_add(sn_zb *b, const char *name, int x, int c);
int sn_zb_batchnorm(sn_zb *b, const char *name, int x, int c);
int sn_zb_relu(sn_zb *b, const char *name, int x);
int sn_zb_relu6(sn_zb *b, const char *name, int x);           /* Clip min 0 max 6 */
int sn_zb_unary(sn_zb *b, sn_op op, const char *name, int x); /* attribute-free activations */
int sn_zb_hard_sigmoid(sn_zb *b, const char *name, int x, float alpha, float beta);
int sn_zb_binary(sn_zb *b, sn_op op, const char *name, int x, int y); /* Add, Mul... */
int sn_zb_max_pool(sn_zb *b, const char *name, int x, int k, int stride, int pad, bool ceil_mode);
int sn_zb_global_avg_pool(sn_zb *b, const char *name, int x);
int sn_zb_concat(sn_zb *b, const char *name, const int *xs, int n, int axis);
/* out_name names the output tensor (NULL: the node's name). */
int sn_zb_flatten(sn_zb *b, const char *name, const char *out_name, int x);
/* Gemm with transB=1 (torchvision's Linear layout [out,in]) and a bias; out_name names the
 * output tensor (NULL: the node's name). */
int sn_zb_dense(sn_zb *b, const char *name, const char *out_name, int x, int in, int out);

/* Conv (no bias) then BatchNormalization, torchvision's conv/bn pair. */
int sn_zb_conv_bn(sn_zb *b, const char *conv_name, const char *bn_name, int x, int cin, int cout,
                  int k, int stride, int pad, int group);
/* The same with the weights' standard deviation times `scale`: the last conv of a residual
 * branch uses 1/sqrt(blocks) (as Fixup initialisation does), so the sum over the blocks grows
 * the activations by a bounded factor instead of doubling their variance at every block -
 * ResNet-50 would otherwise reach ~1e4, past what fp16 comparisons tolerate. */
int sn_zb_conv_bn_scaled(sn_zb *b, const char *conv_name, const char *bn_name, int x, int cin,
                         int cout, int k, int stride, int pad, int group, double scale);

/* Metadata: n_classes labels "class_<i>", ImageNet preprocessing (224x224 crop of the image
 * resized to shorter side 256, RGB, ImageNet mean/std), and producer/model/seed properties. */
void sn_zb_imagenet_metadata(sn_zb *b, const char *model, uint64_t seed, int n_classes,
                             const char *description);

#endif
