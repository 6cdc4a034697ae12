/*
 * flatbuf.h - a small FlatBuffers builder in C, enough to write TFLite models.
 *
 * Debian ships no C FlatBuffers library (flatcc is absent, libflatbuffers-dev is C++), so this is
 * the standard back-to-front construction done by hand. The buffer grows downwards: every object
 * is written below the ones before it, and a reference (sn_fb_ref) is the object's distance from
 * the end of the buffer. An unsigned offset (uoffset) must point to a higher address, so children
 * (strings, vectors, sub-tables) are built before the table that refers to them.
 *
 * Wire format (flatbuffers.dev "internals"), all little-endian:
 *   buffer  u32 root uoffset, optional 4-byte file identifier, then the objects
 *   table   i32 soffset to its vtable (vtable = table - soffset), then the field values, each
 *           aligned to its size; absent fields (or scalars equal to the schema default) take no
 *           room
 *   vtable  u16 vtable bytes, u16 table bytes, then one u16 per field slot: the field's offset
 *           from the table start, 0 when absent. Identical vtables are shared.
 *   vector  u32 element count, then the elements (scalars, or uoffsets to tables/strings)
 *   string  u32 byte count, the bytes, a NUL
 * Every scalar sits at an address that is a multiple of its size relative to the buffer start;
 * the finished buffer's size is a multiple of the largest alignment used, so that holds when
 * the buffer itself is aligned (malloc'ed).
 *
 * Errors are sticky: after an allocation failure, a size past the 2 GiB FlatBuffers limit, or a
 * misuse (a vector built while a table is open), every call is a no-op returning 0 and
 * sn_fb_finish reports the first problem.
 */
#ifndef SN_FLATBUF_H
#define SN_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SN_FB_MAX_FIELDS 32 /* slots per table: TFLite's largest tables use fewer */

typedef uint32_t sn_fb_ref; /* distance of an object from the buffer's end; 0 = none */

typedef struct sn_fb_field {
    int slot;
    int size;       /* 1, 2, 4 or 8 bytes */
    bool is_ref;    /* value is a sn_fb_ref to turn into a uoffset */
    uint64_t value; /* little-endian bit pattern of the scalar, or the ref */
} sn_fb_field;

typedef struct sn_fb {
    uint8_t *buf; /* data lives in buf[cap - size, cap) */
    size_t cap, size;
    size_t minalign;  /* the largest alignment any object asked for */
    sn_status status; /* first failure, SN_OK while building */
    char message[160];
    bool in_table;
    int n_fields;
    sn_fb_field fields[SN_FB_MAX_FIELDS];
    sn_fb_ref *vtables; /* written vtables, for sharing identical ones */
    int n_vtables, cap_vtables;
} sn_fb;

void sn_fb_init(sn_fb *b);
void sn_fb_free(sn_fb *b);

/* A string (len bytes, need not be NUL-terminated) or a C string. */
sn_fb_ref sn_fb_string_n(sn_fb *b, const char *s, size_t len);
sn_fb_ref sn_fb_string(sn_fb *b, const char *s);
/* A vector of count scalars of elem_size bytes in host (little-endian) order; its elements
 * start at a multiple of align (a power of two; at least 4 and elem_size is used). */
sn_fb_ref sn_fb_vector(sn_fb *b, const void *elems, size_t count, size_t elem_size, size_t align);
/* A vector of references to tables or strings. */
sn_fb_ref sn_fb_vector_refs(sn_fb *b, const sn_fb_ref *refs, size_t count);

/* Tables: begin, add fields by slot (each slot at most once), end. No other object may be built
 * between begin and end. Scalars equal to `dflt` are left out, as FlatBuffers writers do. */
void sn_fb_table_begin(sn_fb *b);
void sn_fb_add_u8(sn_fb *b, int slot, uint8_t v, uint8_t dflt);
void sn_fb_add_i8(sn_fb *b, int slot, int8_t v, int8_t dflt);
void sn_fb_add_i32(sn_fb *b, int slot, int32_t v, int32_t dflt);
void sn_fb_add_u32(sn_fb *b, int slot, uint32_t v, uint32_t dflt);
void sn_fb_add_i64(sn_fb *b, int slot, int64_t v, int64_t dflt);
void sn_fb_add_f32(sn_fb *b, int slot, float v, float dflt);
/* A reference field; a 0 ref (none) is left out. */
void sn_fb_add_ref(sn_fb *b, int slot, sn_fb_ref ref);
sn_fb_ref sn_fb_table_end(sn_fb *b);

/* Write the root offset and the file identifier (4 chars, or NULL for none) and hand over the
 * finished buffer (malloc'ed; the caller frees it). The builder is left empty. */
sn_status sn_fb_finish(sn_fb *b, sn_fb_ref root, const char *ident, void **data, size_t *size,
                       sn_error *err);

#endif
