/*
 * fuzz_sgraph.c - libFuzzer target for the .sgraph reader. Any bytes must give a status, never a
 * crash, hang, leak or sanitizer report. Each input is read twice: as given (mutations almost
 * always die at a CRC check), then with every checksum recomputed, so mutations reach the
 * structural checks behind them. A file that reads must write, read back and write again to
 * identical bytes (the writer never produces what the reader rejects).
 *
 * Build and run with scripts/fuzz.sh (clang, ASan+UBSan, seeds in fuzz/corpus/sgraph).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sgraph.h"
#include "sgraph_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Recompute the CRC of every section whose range lies in the file, then the header's. */
static void fix_crcs(uint8_t *p, size_t size) {
    if (size < SN_SG_HEADER_SIZE) return;
    uint32_t n = sn__sg_get32(p + SN_SG_HDR_SECTION_COUNT);
    if (n > SN_SG_MAX_SECTIONS || SN_SG_HEADER_SIZE + (uint64_t)n * SN_SG_DIR_ENTRY_SIZE > size)
        n = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = p + SN_SG_HEADER_SIZE + i * SN_SG_DIR_ENTRY_SIZE;
        uint64_t off = sn__sg_get64(e + SN_SG_DIR_OFFSET), len = sn__sg_get64(e + SN_SG_DIR_SIZE);
        if (off <= size && len <= size - off)
            sn__sg_put32(e + SN_SG_DIR_CRC, (uint32_t)crc32_z(0, p + off, (z_size_t)len));
    }
    uLong crc = crc32_z(0, p, SN_SG_HDR_CRC);
    crc = crc32_z(crc, p + SN_SG_HEADER_SIZE, (z_size_t)n * SN_SG_DIR_ENTRY_SIZE);
    sn__sg_put32(p + SN_SG_HDR_CRC, (uint32_t)crc);
}

static void round_trip(const sn_graph *g) {
    void *a = NULL, *b = NULL, *al = NULL;
    size_t na = 0, nb = 0;
    sn_graph *g2 = NULL;
    sn_error err;
    if (sn_sgraph_write_memory(g, &a, &na, &err) != SN_OK) abort();
    if (posix_memalign(&al, 64, na) != 0) abort();
    memcpy(al, a, na);
    if (sn_sgraph_read(al, na, &g2, &err) != SN_OK) abort();
    if (sn_sgraph_write_memory(g2, &b, &nb, &err) != SN_OK) abort();
    if (na != nb || memcmp(a, b, na) != 0) abort();
    sn_graph_destroy(g2);
    free(al);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Exactly `size` bytes (so ASan sees any read past the end), 64-byte aligned like an mmap so
     * op inference may read constants as their dtype. */
    void *buf = NULL;
    if (posix_memalign(&buf, 64, size ? size : 1) != 0) return 0;
    if (size) memcpy(buf, data, size);
    for (int pass = 0; pass < 2; pass++) {
        if (pass) fix_crcs(buf, size);
        sn_graph *g = NULL;
        sn_error err;
        if (sn_sgraph_read(buf, size, &g, &err) == SN_OK) round_trip(g);
        sn_graph_destroy(g);
    }
    free(buf);
    return 0;
}
