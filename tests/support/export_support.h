/*
 * export_support.h - helpers of the export tests (tests/test_export_*.c): the Python venv that
 * holds onnx, onnxruntime and ai-edge-litert (the real runtimes the exported files must run in),
 * Sentinel's reference outputs, and "case folders" that tests/export/check_export.py checks.
 */
#ifndef SN_EXPORT_SUPPORT_H
#define SN_EXPORT_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"
#include "onnx.h"

/* Fewer samples under AddressSanitizer, where calibration and the CPU engine are ~4x slower. */
#if defined(__SANITIZE_ADDRESS__)
#define SN_EXPORT_ASAN 1
#else
#define SN_EXPORT_ASAN 0
#endif

/* The venv's python with onnx, onnxruntime, numpy and ai_edge_litert importable; skips the
 * calling test (visibly, with the reason) when there is none. Static storage. */
const char *sn_export_python(void);

/* Sentinel's CPU outputs (the graph's first output) for n samples x: malloc'ed, *per_sample
 * floats each. The graph is not modified. */
float *sn_export_reference(const sn_graph *g, const float *x, int n, size_t *per_sample);

/* A case folder for check_export.py: x.npy ([n, sample shape] of the first input), y.npy
 * (Sentinel's outputs), case.json (the JSON text given). */
void sn_export_case_write(const char *dir, const sn_graph *g, const float *x, int n,
                          const char *case_json);

/* Runs tests/export/SCRIPT with the venv's python and the given arguments; fails the test with
 * its messages unless it exits 0, and logs its JSON lines. */
void sn_export_run_script(const char *script, const char *const *args, int n);

/* Runs check_export.py on the folders; fails the test with the checker's messages unless every
 * check passes, and logs the measurements (one JSON line per case). */
void sn_export_check(const char *const *dirs, int n);

/* One zoo model through sentinel-export, ONNX Runtime and LiteRT (export_zoo_case.c): int8
 * calibrated on n_cal images and compared on n_eval others, its top-1 agreement rate not
 * significantly below top1_min (check_export.py's "top1_min"). Under ASan the sets shrink (a
 * third, and 20). */
void sn_export_zoo_case(const char *name, int n_cal, int n_eval, double top1_min);
/* The same network with a prototype head (well-separated classes), int8 only: top-1 agreement
 * >= 95% on the 20 prototype images (logged only under ASan, where the sets shrink). */
void sn_export_zoo_prototypes_case(const char *name, int n_cal, int n_eval);

/* sn_export_onnx at `opset` (0: the default), which must succeed: the bytes (malloc'ed). */
void *sn_export_onnx_bytes(const sn_graph *g, int opset, size_t *size);
/* sn_onnx_import_memory, which must succeed (the failure names the first unsupported node).
 * The report, when rep is not NULL, is the caller's to free. */
sn_graph *sn_export_import_bytes(const void *data, size_t size, sn_onnx_report *rep);
/* a's and b's labels and preprocessing are identical, bit for bit. */
void sn_export_same_labels_preprocess(const sn_graph *a, const sn_graph *b, const char *what);

/* The ONNX parity suite's folder (the onnx_models CTest fixture writes it;
 * SN_EXPORT_ONNX_MODELS overrides it); skips the calling test, saying why, when it is missing. */
const char *sn_export_parity_dir(void);
/* fn(name, graph, ctx) for each of its .onnx models that Sentinel imports (the parity tests
 * judge the importer; these only what imports). Returns how many imported; *not_imported (may
 * be NULL) counts the others. */
int sn_export_each_parity_model(void (*fn)(const char *name, const sn_graph *g, void *ctx),
                                void *ctx, int *not_imported);

/* Runs a shell command; fails the test with its output unless it exits with `want`. Returns the
 * output (malloc'ed). */
char *sn_export_sh(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
