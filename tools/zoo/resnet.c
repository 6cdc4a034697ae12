/*
 * resnet.c - ResNet-18 and ResNet-50 as torchvision builds them (v1.5: a Bottleneck block
 * strides in its 3x3 conv), with torchvision's layer names.
 *
 * stem:   conv1 7x7/2 + bn1 + relu, maxpool 3x3/2 pad 1             224 -> 56
 * stages: layer1..layer4 with 64, 128, 256, 512 planes; the first block of layer2..4 strides 2
 *         and, like any block whose shape changes, has a projection shortcut
 *         (downsample.0 = 1x1 conv with the block's stride, downsample.1 = BatchNorm)
 * head:   GlobalAveragePool, Flatten, fc (Gemm) -> 1000 logits
 * Each block ends in Add(residual, shortcut) then Relu; all layers are left unfused. The last
 * conv of each residual branch has its He weights scaled by 1/sqrt(blocks) (builder.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "builder.h"
#include "zoo.h"

/* BasicBlock: conv3x3(stride) bn relu conv3x3 bn, + shortcut, relu. Expansion 1. */
static int sn__basic_block(sn_zb *b, const char *p, int x, int inplanes, int planes, int stride,
                           double scale) {
    int y = sn_zb_conv_bn(b, sn_zb_name(b, "%s.conv1", p), sn_zb_name(b, "%s.bn1", p), x, inplanes,
                          planes, 3, stride, 1, 1);
    y = sn_zb_relu(b, sn_zb_name(b, "%s.relu1", p), y);
    y = sn_zb_conv_bn_scaled(b, sn_zb_name(b, "%s.conv2", p), sn_zb_name(b, "%s.bn2", p), y, planes,
                             planes, 3, 1, 1, 1, scale);
    int shortcut = x;
    if (stride != 1 || inplanes != planes)
        shortcut = sn_zb_conv_bn(b, sn_zb_name(b, "%s.downsample.0", p),
                                 sn_zb_name(b, "%s.downsample.1", p), x, inplanes, planes, 1,
                                 stride, 0, 1);
    y = sn_zb_binary(b, SN_OP_ADD, sn_zb_name(b, "%s.add", p), y, shortcut);
    return sn_zb_relu(b, sn_zb_name(b, "%s.relu2", p), y);
}

/* Bottleneck: conv1x1 bn relu, conv3x3(stride) bn relu, conv1x1 (x4) bn, + shortcut, relu. */
static int sn__bottleneck(sn_zb *b, const char *p, int x, int inplanes, int planes, int stride,
                          double scale) {
    int out = planes * 4;
    int y = sn_zb_conv_bn(b, sn_zb_name(b, "%s.conv1", p), sn_zb_name(b, "%s.bn1", p), x, inplanes,
                          planes, 1, 1, 0, 1);
    y = sn_zb_relu(b, sn_zb_name(b, "%s.relu1", p), y);
    y = sn_zb_conv_bn(b, sn_zb_name(b, "%s.conv2", p), sn_zb_name(b, "%s.bn2", p), y, planes,
                      planes, 3, stride, 1, 1);
    y = sn_zb_relu(b, sn_zb_name(b, "%s.relu2", p), y);
    y = sn_zb_conv_bn_scaled(b, sn_zb_name(b, "%s.conv3", p), sn_zb_name(b, "%s.bn3", p), y, planes,
                             out, 1, 1, 0, 1, scale);
    int shortcut = x;
    if (stride != 1 || inplanes != out)
        shortcut =
            sn_zb_conv_bn(b, sn_zb_name(b, "%s.downsample.0", p),
                          sn_zb_name(b, "%s.downsample.1", p), x, inplanes, out, 1, stride, 0, 1);
    y = sn_zb_binary(b, SN_OP_ADD, sn_zb_name(b, "%s.add", p), y, shortcut);
    return sn_zb_relu(b, sn_zb_name(b, "%s.relu3", p), y);
}

static sn_status sn__resnet(sn_graph *g, const char *model, uint64_t seed, bool bottleneck,
                            const int blocks[4], const char *description, sn_error *err) {
    sn_zb b;
    sn_zb_begin(&b, g, model, seed, err);
    int x = sn_zb_input(&b, "input", 3, 224, 224);
    x = sn_zb_conv_bn(&b, "conv1", "bn1", x, 3, 64, 7, 2, 3, 1);
    x = sn_zb_relu(&b, "relu", x);
    x = sn_zb_max_pool(&b, "maxpool", x, 3, 2, 1, false);
    int inplanes = 64, expansion = bottleneck ? 4 : 1;
    /* The last conv of every residual branch starts small (see sn_zb_conv_bn_scaled). */
    double scale = 1.0 / sqrt((double)(blocks[0] + blocks[1] + blocks[2] + blocks[3]));
    for (int stage = 0; stage < 4; stage++) {
        int planes = 64 << stage;
        for (int i = 0; i < blocks[stage]; i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d", stage + 1, i);
            int stride = (stage > 0 && i == 0) ? 2 : 1;
            x = bottleneck ? sn__bottleneck(&b, prefix, x, inplanes, planes, stride, scale)
                           : sn__basic_block(&b, prefix, x, inplanes, planes, stride, scale);
            inplanes = planes * expansion;
        }
    }
    x = sn_zb_global_avg_pool(&b, "avgpool", x);
    x = sn_zb_flatten(&b, "flatten", NULL, x);
    x = sn_zb_dense(&b, "fc", "logits", x, 512 * expansion, 1000);
    sn_zb_output(&b, x);
    sn_zb_imagenet_metadata(&b, model, seed, 1000, description);
    return sn_zb_finish(&b);
}

sn_status sn_zoo_build_resnet18(sn_graph *g, uint64_t seed, sn_error *err) {
    static const int blocks[4] = {2, 2, 2, 2};
    return sn__resnet(g, "resnet18", seed, false, blocks, "ResNet-18 (random weights)", err);
}

sn_status sn_zoo_build_resnet50(sn_graph *g, uint64_t seed, sn_error *err) {
    static const int blocks[4] = {3, 4, 6, 3};
    return sn__resnet(g, "resnet50", seed, true, blocks, "ResNet-50 v1.5 (random weights)", err);
}
