/*
 * test_export_zoo_resnet50.c - ResNet-50 through sentinel-export and the real runtimes, with
 * the checks of test_export_zoo.c; alone in its file since at ~4 GFLOP per image its
 * calibration and comparisons take about a minute on 2 cores.
 */
#include <criterion/criterion.h>

#include "export_support.h"

Test(export_zoo, resnet50, .timeout = 900) { sn_export_zoo_case("resnet50", 24, 24, true); }
