/*
 * test_export_zoo_resnet50.c - ResNet-50 through sentinel-export and the real runtimes, with
 * the checks of test_export_zoo.c; alone in its file since at ~4 GFLOP per image its
 * calibration and comparisons take about a minute on 2 cores. Its logits are better separated
 * than the smaller networks' (median top-2 gap 0.29 of their spread), and its int8 export
 * keeps the 95% top-1: 0.982 on 500 held-out images with 24 calibration images, 0.986
 * with 64 (ONNX Runtime's quantize_static: MinMax 0.982, Percentile 99.99 0.992;
 * tests/export/int8_study.py).
 */
#include <criterion/criterion.h>

#include "export_support.h"

Test(export_zoo, resnet50, .timeout = 900) { sn_export_zoo_case("resnet50", 24, 24, 0.95); }
Test(export_zoo_prototypes, resnet50, .timeout = 900) {
    sn_export_zoo_prototypes_case("resnet50", 24, 24);
}
