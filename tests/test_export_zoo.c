/*
 * test_export_zoo.c - the seeds' three models (seed-cnn, ResNet-18, MobileNetV2) exported by
 * sentinel-export (after its default optimisation, as users run it) to model.onnx,
 * model.tflite, fp16 and int8 TFLite, then run in the real runtimes by
 * tests/export/check_export.py against Sentinel's CPU backend (support: export_zoo_case.c):
 *   ONNX Runtime and float TFLite within 1e-4 of the largest output, fp16 within 1e-2;
 *   int8: cosine similarity above 0.98 (per sample, averaged), and a top-1 agreement rate not
 *   significantly below the model's floor (one-sided binomial test at p < 0.001: the images
 *   are fresh each run, so the rate is estimated from a few dozen of them).
 * Inputs are synthetic images from sentinel-mkimages preprocessed by the model's metadata; the
 * int8 model is calibrated on one set and compared on another.
 *
 * Why the int8 top-1 floors are below the 95% for ResNet-18 and MobileNetV2, measured
 * by tests/export/int8_study.py on the zoo models (seed 0), 64 calibration images (two sets,
 * A and B), 500 held-out images; docs/export.md has the commands and the full tables:
 *
 *   top-1 agreement, 1 - cos   Sentinel int8      ONNX Runtime quantize_static (QDQ, per-channel)
 *                                                 MinMax           Percentile 99.99
 *   seed-cnn                   0.984  1.39e-4     0.982  1.47e-4   0.980
 *   resnet18      (A)          0.854  1.31e-4     0.874  1.61e-4   0.904
 *                 (B)          0.878  1.44e-4     0.864  1.79e-4   0.888
 *   mobilenetv2   (A)          0.816  1.55e-3     0.826  1.83e-3   0.820
 *                 (B)          0.832  1.55e-3     0.778  1.86e-3   0.818
 *
 * The random-weight classifiers have 1000 nearly tied logits: the median gap between the top
 * two is 0.06 (ResNet-18) and 0.08 (MobileNetV2) of the logits' spread (check_export.py logs
 * it as ref_top1_margin on each run's images; --verbose shows it), and for a third of
 * ResNet-18's images less than one step of the int8 output grid (0.039). Full-integer int8
 * must round the logits to that grid, and rounding the float model's own logits to it -
 * nothing else quantized - already gives only 0.87-0.90 top-1 agreement on ResNet-18
 * (depending on where the grid falls) and 0.94-0.96 on MobileNetV2, whose int8 input image
 * alone costs it 7% more (this random network amplifies input noise). No int8 model can reach
 * 95% on these inputs; ONNX Runtime's quantizer lands in the same place, and another
 * calibration set moves top-1 by 0.01-0.05 for every quantizer. Where the reference's top two
 * are 2 or more output steps apart, Sentinel's int8 ResNet-18 agrees on every such image (all
 * 208 of set A and 180 of set B, docs/export.md). So the floors are ONNX Runtime's lowest MinMax result minus 0.03 (ResNet-18 0.83,
 * MobileNetV2 0.74), or the 95% where that is lower (seed-cnn, which reaches it); the
 * cosine bound is the 0.98 (measured: > 0.998). The same networks with a prototype
 * head (well-separated classes) must keep 95% top-1: export_zoo_prototypes below.
 *
 * The zoo models are sentinel-zoo's (seed 0); the images are fresh each run. Skips, saying
 * why, when the Python venv with the runtimes is missing. The other zoo models are in
 * test_export_zoo_more.c and test_export_zoo_resnet50.c.
 */
#include <criterion/criterion.h>

#include "export_support.h"

/* Calibration and compared images per model; more calibration where a model is cheap to run. */

Test(export_zoo, seed_cnn, .timeout = 600) { sn_export_zoo_case("seed-cnn", 64, 64, 0.95); }
Test(export_zoo, resnet18, .timeout = 600) { sn_export_zoo_case("resnet18", 48, 48, 0.83); }
Test(export_zoo, mobilenetv2, .timeout = 600) { sn_export_zoo_case("mobilenetv2", 64, 64, 0.74); }

/* The network with its classifier replaced by a prototype head: classes are compared images
 * chosen far apart in the network's last feature map, so the scores are well separated and
 * int8 must keep top-1 on >= 95% (19 of the 20 prototype images). Their scores are centred
 * projections, whose cosine is not a meaningful measure, so it is only logged. */
Test(export_zoo_prototypes, seed_cnn, .timeout = 600) {
    sn_export_zoo_prototypes_case("seed-cnn", 64, 32);
}
Test(export_zoo_prototypes, resnet18, .timeout = 600) {
    sn_export_zoo_prototypes_case("resnet18", 48, 32);
}
Test(export_zoo_prototypes, mobilenetv2, .timeout = 600) {
    sn_export_zoo_prototypes_case("mobilenetv2", 64, 32);
}
