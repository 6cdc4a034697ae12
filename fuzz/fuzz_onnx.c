/*
 * fuzz_onnx.c - libFuzzer target for the ONNX importer (loader/onnx/). Any bytes must give a
 * status, never a crash, hang, leak or sanitizer report. Imported from memory there is no folder
 * for external data, so no file is ever opened. A model that imports must also serialise to
 * .sgraph and read back (the importer never produces a graph the rest of Sentinel rejects).
 *
 * Build and run with scripts/fuzz.sh 60 onnx (clang, ASan+UBSan, seeds in fuzz/corpus/onnx:
 * small models written by tests/onnx/make_models.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"
#include "sgraph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    /* Exactly `size` bytes, so ASan sees any read past the end. */
    uint8_t *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sn_graph *g = NULL;
    sn_error err;
    sn_onnx_report rep;
    if (sn_onnx_import_memory(buf, size, NULL, &g, &rep, &err) == SN_OK) {
        void *bytes = NULL, *al = NULL;
        size_t n = 0;
        sn_graph *back = NULL;
        if (sn_sgraph_write_memory(g, &bytes, &n, &err) != SN_OK) abort();
        if (posix_memalign(&al, 64, n) != 0) abort();
        memcpy(al, bytes, n);
        if (sn_sgraph_read(al, n, &back, &err) != SN_OK) abort();
        sn_graph_destroy(back);
        free(al);
        free(bytes);
    }
    sn_graph_destroy(g);
    sn_onnx_report_free(&rep);
    free(buf);
    return 0;
}
