/*
 * test_export_zoo_more.c - SqueezeNet 1.1 (Concat, ceil-mode pools, a conv classifier) and
 * MobileNetV3-Small (HardSwish, HardSigmoid, squeeze-excitation) through sentinel-export and
 * the real runtimes, with the checks of test_export_zoo.c. MobileNetV3's squeeze-excitation
 * vectors (one value per channel and image) need more calibration images than feature maps
 * before their maxima settle: with 32, held-out images clip them often enough to matter.
 *
 * int8 top-1 floors (ONNX Runtime's lowest MinMax result minus 0.03, as in test_export_zoo.c),
 * from tests/export/int8_study.py: 500 held-out images, 64 calibration images (two sets for
 * MobileNetV3-Small):
 *   squeezenet1_1      Sentinel 0.928 (1-cos 5.4e-5); ONNX Runtime MinMax 0.924 (9.8e-5),
 *                      Percentile 99.999 0.906, 99.99 0.858: floor 0.89
 *   mobilenetv3_small  Sentinel 0.904 / 0.924 (0.944 with 96 calibration images); ONNX Runtime
 *                      MinMax 0.916 / 0.930, Percentile 99.99 0.942 / 0.926: floor 0.88
 * Both have near-tied random logits like ResNet-18's (test_export_zoo.c explains why that
 * keeps any int8 model below 95%).
 */
#include <criterion/criterion.h>

#include "export_support.h"

Test(export_zoo, squeezenet1_1, .timeout = 600) {
    sn_export_zoo_case("squeezenet1_1", 64, 48, 0.89);
}
Test(export_zoo, mobilenetv3_small, .timeout = 600) {
    sn_export_zoo_case("mobilenetv3_small", 96, 48, 0.88);
}
Test(export_zoo_prototypes, squeezenet1_1, .timeout = 600) {
    sn_export_zoo_prototypes_case("squeezenet1_1", 64, 32);
}
Test(export_zoo_prototypes, mobilenetv3_small, .timeout = 600) {
    sn_export_zoo_prototypes_case("mobilenetv3_small", 96, 32);
}
