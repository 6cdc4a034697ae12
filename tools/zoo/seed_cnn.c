/*
 * seed_cnn.c - "seed-cnn", the small network the project's seed examples use: two strided
 * convolutions and a dense layer on a 3x224x224 image, 10 classes.
 *
 * Conv, BiasAdd and Relu are separate nodes on purpose: the fusion pass must turn them into
 * exactly two FusedConv nodes and one dense Gemm. Stride 4 twice keeps the dense layer small:
 * 224 -> 56 -> 14, so it reads 32x14x14 = 6272 features.
 */
#include "builder.h"
#include "zoo.h"

sn_status sn_zoo_build_seed_cnn(sn_graph *g, uint64_t seed, sn_error *err) {
    sn_zb b;
    sn_zb_begin(&b, g, "seed-cnn", seed, err);
    int x = sn_zb_input(&b, "input", 3, 224, 224);
    x = sn_zb_conv(&b, "conv1", x, 3, 16, 3, 4, 1, 1);
    x = sn_zb_bias_add(&b, "conv1.bias_add", x, 16);
    x = sn_zb_relu(&b, "relu1", x);
    x = sn_zb_conv(&b, "conv2", x, 16, 32, 3, 4, 1, 1);
    x = sn_zb_bias_add(&b, "conv2.bias_add", x, 32);
    x = sn_zb_relu(&b, "relu2", x);
    x = sn_zb_flatten(&b, "flatten", NULL, x);
    x = sn_zb_dense(&b, "fc", "logits", x, 32 * 14 * 14, 10);
    sn_zb_output(&b, x);
    sn_zb_imagenet_metadata(&b, "seed-cnn", seed, 10,
                            "two conv layers and a dense layer (random weights)");
    return sn_zb_finish(&b);
}
