/*
 * sgraph_format.h - the byte layout of .sgraph files (version 1), private to the loader and its
 * tests. docs/sgraph.md explains every field and the rules the reader enforces; this header only
 * names the numbers so the reader, the writer and the tests cannot disagree on them.
 *
 * Every integer is little-endian and is read and written byte by byte (sn__sg_get32 and
 * friends), so nothing depends on the host's byte order or on the alignment of the caller's
 * buffer.
 */
#ifndef SN_SGRAPH_FORMAT_H
#define SN_SGRAPH_FORMAT_H

#include <stdint.h>

/* "SGRAPH" then a NUL (stops text tools) and 0x01 (catches 7-bit transfers). */
#define SN_SG_MAGIC "SGRAPH\0\1"
#define SN_SG_MAGIC_SIZE 8
#define SN_SG_VERSION_MAJOR 1 /* a reader rejects any other major */
#define SN_SG_VERSION_MINOR 0 /* newer minors only add section kinds older readers skip */

/* Header: 32 bytes at offset 0. */
#define SN_SG_HDR_MAGIC 0          /* u8[8] */
#define SN_SG_HDR_MAJOR 8          /* u16 */
#define SN_SG_HDR_MINOR 10         /* u16 */
#define SN_SG_HDR_FLAGS 12         /* u32, must be 0 */
#define SN_SG_HDR_FILE_SIZE 16     /* u64 */
#define SN_SG_HDR_SECTION_COUNT 24 /* u32 */
#define SN_SG_HDR_CRC 28           /* u32: CRC32 of bytes [0,28) followed by the directory */
#define SN_SG_HEADER_SIZE 32

/* Directory: section_count entries of 32 bytes at offset 32. */
#define SN_SG_DIR_KIND 0      /* u32 */
#define SN_SG_DIR_FLAGS 4     /* u32, must be 0 */
#define SN_SG_DIR_OFFSET 8    /* u64, from the start of the file */
#define SN_SG_DIR_SIZE 16     /* u64 */
#define SN_SG_DIR_CRC 24      /* u32: CRC32 of the section's bytes */
#define SN_SG_DIR_RESERVED 28 /* u32, must be 0 */
#define SN_SG_DIR_ENTRY_SIZE 32
#define SN_SG_MAX_SECTIONS 64

/* Section kinds. Each known kind appears exactly once; unknown kinds are checked and skipped. */
enum {
    SN_SG_SECT_STRINGS = 1,
    SN_SG_SECT_TENSORS = 2,
    SN_SG_SECT_NODES = 3,
    SN_SG_SECT_GRAPH = 4, /* graph inputs and outputs */
    SN_SG_SECT_METADATA = 5,
    SN_SG_SECT_WEIGHTS = 6,
    SN_SG_SECT_KNOWN_MAX = 6
};

/* Table sections start 8-byte aligned (tidy, not required); weights are 64-byte aligned. */
#define SN_SG_TABLE_ALIGN 8
#define SN_SG_WEIGHT_ALIGN 64

/* Tensor table: u32 count, u32 reserved, then count records of 96 bytes. */
#define SN_SG_TABLE_HEADER 8
#define SN_SG_T_NAME 0        /* u32 string ref */
#define SN_SG_T_DTYPE 4       /* u8 sn_dtype */
#define SN_SG_T_LAYOUT 5      /* u8 sn_layout */
#define SN_SG_T_RANK 6        /* u8, <= SN_MAX_RANK */
#define SN_SG_T_RESERVED0 7   /* u8, 0 */
#define SN_SG_T_FLAGS 8       /* u32, SN_SG_TF_* */
#define SN_SG_T_RESERVED1 12  /* u32, 0 */
#define SN_SG_T_DIMS 16       /* i64[8]; entries at and past rank are 0 */
#define SN_SG_T_DATA_OFFSET 80 /* u64, from the start of the file; 0 unless CONST */
#define SN_SG_T_DATA_SIZE 88  /* u64; 0 unless CONST */
#define SN_SG_TENSOR_RECORD 96

#define SN_SG_TF_CONST 0x1u   /* has data in the weights section */
#define SN_SG_TF_BATCHED 0x2u /* dim 0 scales with the batch */
#define SN_SG_TF_ALL 0x3u

/* Node table: u32 count, u32 reserved, then variable-size records:
 *   u32 op (string ref to the op's name), u32 name, u32 n_inputs, u32 n_outputs, u32 n_attrs,
 *   i32 inputs[n_inputs] (-1 = omitted optional input), i32 outputs[n_outputs], attrs[n_attrs]. */
#define SN_SG_NODE_HEADER 20
/* Attribute: u32 name, u32 type (sn_attr_type), u32 count, then the payload:
 * INT i64, FLOAT f32, INTS i64[count], FLOATS f32[count], STRING u32 string ref. */
#define SN_SG_ATTR_HEADER 12
#define SN_SG_MAX_ATTR_ELEMS (1 << 24) /* per INTS/FLOATS attribute, as the graph accepts */

/* Graph section: u32 n_inputs, u32 n_outputs, i32 inputs[], i32 outputs[]. */
#define SN_SG_GRAPH_HEADER 8

/* Metadata section: fixed 56-byte block, then u32 labels[n_labels], (u32 key, u32 value)[n_props]. */
#define SN_SG_M_N_LABELS 0
#define SN_SG_M_N_PROPS 4
#define SN_SG_M_PRESENT 8        /* u32 0 or 1 */
#define SN_SG_M_WIDTH 12         /* i32 */
#define SN_SG_M_HEIGHT 16        /* i32 */
#define SN_SG_M_RESIZE_SHORTER 20 /* i32 */
#define SN_SG_M_RESIZE 24        /* u32 sn_resize_mode */
#define SN_SG_M_CHANNELS 28      /* u32 sn_channel_order */
#define SN_SG_M_MEAN 32          /* f32[3] */
#define SN_SG_M_STD 44           /* f32[3] */
#define SN_SG_META_FIXED 56
#define SN_SG_MAX_IMAGE_SIDE 65536

static inline uint16_t sn__sg_get16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t sn__sg_get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t sn__sg_get64(const uint8_t *p) {
    return (uint64_t)sn__sg_get32(p) | ((uint64_t)sn__sg_get32(p + 4) << 32);
}
static inline void sn__sg_put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void sn__sg_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void sn__sg_put64(uint8_t *p, uint64_t v) {
    sn__sg_put32(p, (uint32_t)v);
    sn__sg_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
