/*
 * mobilenetv3.c - MobileNetV3-Small as torchvision builds it, with its layer names.
 *
 * features.0:      conv 3x3/2 3->16 + BN + HardSwish
 * features.1..11:  inverted residual blocks from the table below: an expanding 1x1 conv + BN +
 *                  act (when the expansion differs from the input), a depthwise kxk conv + BN +
 *                  act, an optional squeeze-excitation (GlobalAveragePool, 1x1 conv + Relu,
 *                  1x1 conv + HardSigmoid, Mul with the block's activations), then a linear
 *                  1x1 projection + BN; Add(input) when the stride is 1 and the width is kept
 * features.12:     conv 1x1 96->576 + BN + HardSwish
 * classifier:      GlobalAveragePool, Flatten, Gemm 576->1024 + HardSwish, Gemm 1024->1000
 * act is Relu ("RE") or HardSwish ("HS"); torch's Hardsigmoid is relu6(x+3)/6, i.e.
 * HardSigmoid with alpha 1/6 and beta 0.5 (not the ONNX default alpha 0.2).
 */
#include <stdbool.h>
#include <stdio.h>

#include "builder.h"
#include "zoo.h"

typedef struct sn__bneck {
    int cin, k, expanded, cout;
    bool se, hswish;
    int stride;
} sn__bneck;

/* torchvision's _make_divisible(v, 8): round to a multiple of 8, never down by over 10%. */
static int sn__divisible8(int v) {
    int r = (v + 4) / 8 * 8;
    if (r < 8) r = 8;
    if (r * 10 < v * 9) r += 8;
    return r;
}

static int sn__act(sn_zb *b, bool hswish, const char *name, int x) {
    return sn_zb_unary(b, hswish ? SN_OP_HARD_SWISH : SN_OP_RELU, name, x);
}

/* "<p>.0" conv, "<p>.1" BN, "<p>.2" activation. */
static int sn__conv_bn_act(sn_zb *b, const char *p, int x, int cin, int cout, int k, int stride,
                           int group, bool hswish) {
    x = sn_zb_conv_bn(b, sn_zb_name(b, "%s.0", p), sn_zb_name(b, "%s.1", p), x, cin, cout, k,
                      stride, (k - 1) / 2, group);
    return sn__act(b, hswish, sn_zb_name(b, "%s.2", p), x);
}

static int sn__squeeze_excite(sn_zb *b, const char *p, int x, int c) {
    int sq = sn__divisible8(c / 4);
    int s = sn_zb_global_avg_pool(b, sn_zb_name(b, "%s.avgpool", p), x);
    s = sn_zb_conv_biased(b, sn_zb_name(b, "%s.fc1", p), s, c, sq, 1, 1, 0, 1);
    s = sn_zb_relu(b, sn_zb_name(b, "%s.relu", p), s);
    s = sn_zb_conv_biased(b, sn_zb_name(b, "%s.fc2", p), s, sq, c, 1, 1, 0, 1);
    s = sn_zb_hard_sigmoid(b, sn_zb_name(b, "%s.scale_activation", p), s, 1.0f / 6.0f, 0.5f);
    return sn_zb_binary(b, SN_OP_MUL, sn_zb_name(b, "%s.scale", p), x, s);
}

static int sn__block(sn_zb *b, int index, int x, const sn__bneck *c) {
    char p[48];
    int y = x, j = 0;
    if (c->expanded != c->cin) {
        snprintf(p, sizeof p, "features.%d.block.%d", index, j++);
        y = sn__conv_bn_act(b, p, y, c->cin, c->expanded, 1, 1, 1, c->hswish);
    }
    snprintf(p, sizeof p, "features.%d.block.%d", index, j++);
    y = sn__conv_bn_act(b, p, y, c->expanded, c->expanded, c->k, c->stride, c->expanded, c->hswish);
    if (c->se) {
        snprintf(p, sizeof p, "features.%d.block.%d", index, j++);
        y = sn__squeeze_excite(b, p, y, c->expanded);
    }
    snprintf(p, sizeof p, "features.%d.block.%d", index, j);
    y = sn_zb_conv_bn(b, sn_zb_name(b, "%s.0", p), sn_zb_name(b, "%s.1", p), y, c->expanded,
                      c->cout, 1, 1, 0, 1);
    if (c->stride == 1 && c->cin == c->cout)
        y = sn_zb_binary(b, SN_OP_ADD, sn_zb_name(b, "features.%d.add", index), y, x);
    return y;
}

sn_status sn_zoo_build_mobilenetv3_small(sn_graph *g, uint64_t seed, sn_error *err) {
    static const sn__bneck blocks[11] = {
        {16, 3, 16, 16, true, false, 2},  {16, 3, 72, 24, false, false, 2},
        {24, 3, 88, 24, false, false, 1}, {24, 5, 96, 40, true, true, 2},
        {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
        {40, 5, 120, 48, true, true, 1},  {48, 5, 144, 48, true, true, 1},
        {48, 5, 288, 96, true, true, 2},  {96, 5, 576, 96, true, true, 1},
        {96, 5, 576, 96, true, true, 1},
    };
    sn_zb b;
    sn_zb_begin(&b, g, "mobilenetv3_small", seed, err);
    int x = sn_zb_input(&b, "input", 3, 224, 224);
    x = sn__conv_bn_act(&b, "features.0", x, 3, 16, 3, 2, 1, true);
    for (int i = 0; i < 11; i++) x = sn__block(&b, i + 1, x, &blocks[i]);
    x = sn__conv_bn_act(&b, "features.12", x, 96, 576, 1, 1, 1, true);
    x = sn_zb_global_avg_pool(&b, "avgpool", x);
    x = sn_zb_flatten(&b, "flatten", NULL, x);
    x = sn_zb_dense(&b, "classifier.0", NULL, x, 576, 1024);
    x = sn_zb_unary(&b, SN_OP_HARD_SWISH, "classifier.1", x);
    x = sn_zb_dense(&b, "classifier.3", "logits", x, 1024, 1000);
    sn_zb_output(&b, x);
    sn_zb_imagenet_metadata(&b, "mobilenetv3_small", seed, 1000,
                            "MobileNetV3-Small (random weights)");
    return sn_zb_finish(&b);
}
