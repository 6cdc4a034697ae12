/*
 * mobilenetv2.c - MobileNetV2 (width 1.0) as torchvision builds it, with its layer names
 * ("features.<i>.conv.<j>").
 *
 * features.0:      conv 3x3/2 3->32 + BN + ReLU6
 * features.1..17:  inverted residual blocks from the (t, c, n, s) table below: an expanding
 *                  1x1 conv (when t != 1) + BN + ReLU6, a depthwise 3x3 (group = channels, the
 *                  block's stride) + BN + ReLU6, then a linear 1x1 projection + BN (no
 *                  activation); Add(input) when the stride is 1 and the width does not change
 * features.18:     conv 1x1 320->1280 + BN + ReLU6
 * classifier:      GlobalAveragePool, Flatten, Gemm 1280->1000 (dropout is a no-op at inference)
 * ReLU6 is Clip(min 0, max 6), as ONNX exports it.
 */
#include <stdio.h>

#include "builder.h"
#include "zoo.h"

/* One ConvBNActivation: "<p>.0" conv, "<p>.1" BN, "<p>.2" ReLU6 (when relu6). */
static int sn__conv_bn(sn_zb *b, const char *p, int x, int cin, int cout, int k, int stride,
                       int group, bool relu6) {
    x = sn_zb_conv_bn(b, sn_zb_name(b, "%s.0", p), sn_zb_name(b, "%s.1", p), x, cin, cout, k,
                      stride, (k - 1) / 2, group);
    return relu6 ? sn_zb_relu6(b, sn_zb_name(b, "%s.2", p), x) : x;
}

static int sn__inverted_residual(sn_zb *b, int index, int x, int cin, int cout, int stride, int t) {
    int hidden = cin * t, y = x, j = 0;
    char p[48];
    if (t != 1) {
        snprintf(p, sizeof p, "features.%d.conv.%d", index, j++);
        y = sn__conv_bn(b, p, y, cin, hidden, 1, 1, 1, true);
    }
    snprintf(p, sizeof p, "features.%d.conv.%d", index, j++);
    y = sn__conv_bn(b, p, y, hidden, hidden, 3, stride, hidden, true);
    /* The linear bottleneck: torchvision's conv.<j> (1x1) and conv.<j+1> (BN), no activation. */
    y = sn_zb_conv_bn(b, sn_zb_name(b, "features.%d.conv.%d", index, j),
                      sn_zb_name(b, "features.%d.conv.%d", index, j + 1), y, hidden, cout, 1, 1, 0,
                      1);
    if (stride == 1 && cin == cout)
        y = sn_zb_binary(b, SN_OP_ADD, sn_zb_name(b, "features.%d.add", index), y, x);
    return y;
}

sn_status sn_zoo_build_mobilenetv2(sn_graph *g, uint64_t seed, sn_error *err) {
    static const int settings[7][4] = {
        /* t, c, n, s */
        {1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
    };
    sn_zb b;
    sn_zb_begin(&b, g, "mobilenetv2", seed, err);
    int x = sn_zb_input(&b, "input", 3, 224, 224);
    x = sn__conv_bn(&b, "features.0", x, 3, 32, 3, 2, 1, true);
    int cin = 32, index = 1;
    for (int s = 0; s < 7; s++)
        for (int i = 0; i < settings[s][2]; i++) {
            int cout = settings[s][1], stride = i == 0 ? settings[s][3] : 1;
            x = sn__inverted_residual(&b, index++, x, cin, cout, stride, settings[s][0]);
            cin = cout;
        }
    char last[32];
    snprintf(last, sizeof last, "features.%d", index);
    x = sn__conv_bn(&b, last, x, cin, 1280, 1, 1, 1, true);
    x = sn_zb_global_avg_pool(&b, "avgpool", x);
    x = sn_zb_flatten(&b, "flatten", NULL, x);
    x = sn_zb_dense(&b, "classifier.1", "logits", x, 1280, 1000);
    sn_zb_output(&b, x);
    sn_zb_imagenet_metadata(&b, "mobilenetv2", seed, 1000, "MobileNetV2 (random weights)");
    return sn_zb_finish(&b);
}
