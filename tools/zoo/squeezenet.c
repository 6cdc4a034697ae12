/*
 * squeezenet.c - SqueezeNet 1.1 as torchvision builds it: convolutions with biases and no
 * BatchNorm, Fire modules whose two expand branches meet in a Concat, MaxPool with ceil_mode,
 * and a classifier that is a 1x1 conv to 1000 channels + Relu + GlobalAveragePool (no Gemm).
 *
 * features.0:  conv 3x3/2 3->64 (no padding) + Relu           224 -> 111
 * features.2:  MaxPool 3x3/2 ceil                              111 -> 55
 * features.3,4: Fire(64|128 -> 16 -> 64+64)
 * features.5:  MaxPool 3x3/2 ceil                              55 -> 27
 * features.6,7: Fire(128|256 -> 32 -> 128+128)
 * features.8:  MaxPool 3x3/2 ceil                              27 -> 13
 * features.9..12: Fire(256 -> 48 -> 192+192), Fire(384 -> 48 -> 192+192),
 *                 Fire(384 -> 64 -> 256+256), Fire(512 -> 64 -> 256+256)
 * classifier.1: conv 1x1 512->1000 + Relu, then GlobalAveragePool, Flatten (dropout: no-op)
 */
#include <stdio.h>

#include "builder.h"
#include "zoo.h"

static int sn__fire(sn_zb *b, int index, int x, int cin, int squeeze, int expand) {
    char p[32];
    snprintf(p, sizeof p, "features.%d", index);
    int s = sn_zb_conv_biased(b, sn_zb_name(b, "%s.squeeze", p), x, cin, squeeze, 1, 1, 0, 1);
    s = sn_zb_relu(b, sn_zb_name(b, "%s.squeeze_activation", p), s);
    int e[2];
    e[0] = sn_zb_conv_biased(b, sn_zb_name(b, "%s.expand1x1", p), s, squeeze, expand, 1, 1, 0, 1);
    e[0] = sn_zb_relu(b, sn_zb_name(b, "%s.expand1x1_activation", p), e[0]);
    e[1] = sn_zb_conv_biased(b, sn_zb_name(b, "%s.expand3x3", p), s, squeeze, expand, 3, 1, 1, 1);
    e[1] = sn_zb_relu(b, sn_zb_name(b, "%s.expand3x3_activation", p), e[1]);
    return sn_zb_concat(b, sn_zb_name(b, "%s.concat", p), e, 2, 1);
}

sn_status sn_zoo_build_squeezenet1_1(sn_graph *g, uint64_t seed, sn_error *err) {
    /* Per Fire module: features index, input channels, squeeze, expand (each branch). */
    static const int fires[8][4] = {{3, 64, 16, 64},    {4, 128, 16, 64},  {6, 128, 32, 128},
                                    {7, 256, 32, 128},  {9, 256, 48, 192}, {10, 384, 48, 192},
                                    {11, 384, 64, 256}, {12, 512, 64, 256}};
    sn_zb b;
    sn_zb_begin(&b, g, "squeezenet1_1", seed, err);
    int x = sn_zb_input(&b, "input", 3, 224, 224);
    x = sn_zb_conv_biased(&b, "features.0", x, 3, 64, 3, 2, 0, 1);
    x = sn_zb_relu(&b, "features.1", x);
    x = sn_zb_max_pool(&b, "features.2", x, 3, 2, 0, true);
    for (int i = 0; i < 8; i++) {
        x = sn__fire(&b, fires[i][0], x, fires[i][1], fires[i][2], fires[i][3]);
        /* Pools follow the second and fourth Fire modules (features.5 and features.8). */
        if (i == 1 || i == 3)
            x = sn_zb_max_pool(&b, sn_zb_name(&b, "features.%d", fires[i][0] + 1), x, 3, 2, 0,
                               true);
    }
    x = sn_zb_conv_biased(&b, "classifier.1", x, 512, 1000, 1, 1, 0, 1);
    x = sn_zb_relu(&b, "classifier.2", x);
    x = sn_zb_global_avg_pool(&b, "classifier.3", x);
    x = sn_zb_flatten(&b, "flatten", "logits", x); /* no dense layer: Flatten makes the logits */
    sn_zb_output(&b, x);
    sn_zb_imagenet_metadata(&b, "squeezenet1_1", seed, 1000, "SqueezeNet 1.1 (random weights)");
    return sn_zb_finish(&b);
}
