/*
 * test_export_zoo_more.c - SqueezeNet 1.1 (Concat, ceil-mode pools, a conv classifier) and
 * MobileNetV3-Small (HardSwish, HardSigmoid, squeeze-excitation) through sentinel-export and
 * the real runtimes, with the checks of test_export_zoo.c. MobileNetV3's squeeze-excitation
 * vectors (one value per channel and image) need more calibration images than feature maps
 * before their maxima settle: with 32, held-out images clip them often enough to matter.
 */
#include <criterion/criterion.h>

#include "export_support.h"

Test(export_zoo, squeezenet1_1, .timeout = 600) {
    sn_export_zoo_case("squeezenet1_1", 64, 32, true);
}
Test(export_zoo, mobilenetv3_small, .timeout = 600) {
    sn_export_zoo_case("mobilenetv3_small", 96, 32, true);
}
