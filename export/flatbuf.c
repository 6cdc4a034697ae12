/*
 * flatbuf.c - the FlatBuffers builder (format and conventions: flatbuf.h).
 *
 * The one subtle part is alignment when writing backwards: an object written now ends where the
 * previous one began, so padding goes *above* it (between it and what came before) such that
 * its start lands on a multiple of its alignment counted from the end. sn_fb_finish pads the
 * front so the total size is a multiple of the largest alignment, which turns "aligned from the
 * end" into "aligned from the start".
 */
#include "flatbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "flatbuf.c copies scalars in host order, which FlatBuffers requires to be little-endian"
#endif

/* FlatBuffers offsets are 32-bit and signed offsets must stay positive: 2 GiB - 1 at most. */
#define SN__FB_MAX_SIZE ((size_t)INT32_MAX)

static void sn__fb_fail(sn_fb *b, sn_status s, const char *msg) {
    if (b->status != SN_OK) return;
    b->status = s;
    snprintf(b->message, sizeof b->message, "%s", msg);
}

void sn_fb_init(sn_fb *b) {
    memset(b, 0, sizeof *b);
    b->minalign = 4;
}

void sn_fb_free(sn_fb *b) {
    free(b->buf);
    free(b->vtables);
    sn_fb_init(b);
}

/* Room for `need` more bytes below the current data. */
static bool sn__fb_reserve(sn_fb *b, size_t need) {
    if (b->status != SN_OK) return false;
    if (need > SN__FB_MAX_SIZE - b->size) {
        sn__fb_fail(b, SN_ERR_UNSUPPORTED,
                    "the model needs more than the 2 GiB a FlatBuffer holds");
        return false;
    }
    if (b->cap - b->size >= need) return true;
    /* Doubling keeps the copies linear in the final size. */
    size_t cap = b->cap * 2;
    if (cap < b->size + need + 1024) cap = b->size + need + 1024;
    uint8_t *nb = malloc(cap);
    if (!nb) {
        sn__fb_fail(b, SN_ERR_OUT_OF_MEMORY, "out of memory building the FlatBuffer");
        return false;
    }
    if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return true;
}

/* Prepend n bytes (zeros when src is NULL); returns where they landed, or NULL. */
static uint8_t *sn__fb_push(sn_fb *b, const void *src, size_t n) {
    if (!sn__fb_reserve(b, n)) return NULL;
    b->size += n;
    uint8_t *at = b->buf + b->cap - b->size;
    if (src)
        memcpy(at, src, n);
    else
        memset(at, 0, n);
    return at;
}

/* Zero padding so that after `then` more bytes the distance from the end is a multiple of
 * align (a power of two). */
static bool sn__fb_align(sn_fb *b, size_t then, size_t align) {
    if (align > b->minalign) b->minalign = align;
    size_t pad = (align - ((b->size + then) & (align - 1))) & (align - 1);
    return pad == 0 || sn__fb_push(b, NULL, pad) != NULL;
}

static bool sn__fb_not_in_table(sn_fb *b) {
    if (b->in_table)
        sn__fb_fail(b, SN_ERR_INTERNAL, "FlatBuffer misuse: an object was built inside a table");
    return b->status == SN_OK;
}

static void sn__fb_put_u32(uint8_t *at, uint32_t v) { memcpy(at, &v, 4); }

sn_fb_ref sn_fb_string_n(sn_fb *b, const char *s, size_t len) {
    if (!sn__fb_not_in_table(b)) return 0;
    if (len > SN__FB_MAX_SIZE) {
        sn__fb_fail(b, SN_ERR_UNSUPPORTED, "a string is too long for a FlatBuffer");
        return 0;
    }
    if (!sn__fb_align(b, len + 1, 4) || !sn__fb_push(b, NULL, 1)) return 0;
    if (len && !sn__fb_push(b, s, len)) return 0;
    uint8_t *n = sn__fb_push(b, NULL, 4);
    if (!n) return 0;
    sn__fb_put_u32(n, (uint32_t)len);
    return (sn_fb_ref)b->size;
}

sn_fb_ref sn_fb_string(sn_fb *b, const char *s) { return sn_fb_string_n(b, s, s ? strlen(s) : 0); }

sn_fb_ref sn_fb_vector(sn_fb *b, const void *elems, size_t count, size_t elem_size, size_t align) {
    if (!sn__fb_not_in_table(b)) return 0;
    if (align < 4) align = 4;
    if (align < elem_size) align = elem_size;
    if (elem_size == 0 || count > SN__FB_MAX_SIZE / elem_size) {
        sn__fb_fail(b, SN_ERR_UNSUPPORTED, "a vector is too long for a FlatBuffer");
        return 0;
    }
    size_t bytes = count * elem_size;
    if (!sn__fb_align(b, bytes, align)) return 0;
    if (bytes && !sn__fb_push(b, elems, bytes)) return 0;
    uint8_t *n = sn__fb_push(b, NULL, 4);
    if (!n) return 0;
    sn__fb_put_u32(n, (uint32_t)count);
    return (sn_fb_ref)b->size;
}

sn_fb_ref sn_fb_vector_refs(sn_fb *b, const sn_fb_ref *refs, size_t count) {
    if (!sn__fb_not_in_table(b)) return 0;
    if (count > SN__FB_MAX_SIZE / 4) {
        sn__fb_fail(b, SN_ERR_UNSUPPORTED, "a vector is too long for a FlatBuffer");
        return 0;
    }
    if (!sn__fb_align(b, 4 * count, 4)) return 0;
    /* Element i ends up at distance size_after - 4*i from the end; its uoffset is that distance
     * minus the target's. Written last to first, as the buffer grows downwards. */
    for (size_t k = count; k-- > 0;) {
        uint8_t *at = sn__fb_push(b, NULL, 4);
        if (!at) return 0;
        if (refs[k] == 0 || refs[k] >= b->size) {
            sn__fb_fail(b, SN_ERR_INTERNAL,
                        "FlatBuffer misuse: a vector refers to a missing or "
                        "later object");
            return 0;
        }
        sn__fb_put_u32(at, (uint32_t)(b->size - refs[k]));
    }
    uint8_t *n = sn__fb_push(b, NULL, 4);
    if (!n) return 0;
    sn__fb_put_u32(n, (uint32_t)count);
    return (sn_fb_ref)b->size;
}

void sn_fb_table_begin(sn_fb *b) {
    if (!sn__fb_not_in_table(b)) return;
    b->in_table = true;
    b->n_fields = 0;
}

static void sn__fb_field(sn_fb *b, int slot, int size, bool is_ref, uint64_t value) {
    if (b->status != SN_OK) return;
    if (!b->in_table || slot < 0 || slot >= SN_FB_MAX_FIELDS || b->n_fields >= SN_FB_MAX_FIELDS) {
        sn__fb_fail(b, SN_ERR_INTERNAL, "FlatBuffer misuse: a field outside a table or slot range");
        return;
    }
    for (int i = 0; i < b->n_fields; i++)
        if (b->fields[i].slot == slot) {
            sn__fb_fail(b, SN_ERR_INTERNAL, "FlatBuffer misuse: a table field set twice");
            return;
        }
    b->fields[b->n_fields++] = (sn_fb_field){slot, size, is_ref, value};
}

void sn_fb_add_u8(sn_fb *b, int slot, uint8_t v, uint8_t dflt) {
    if (v != dflt) sn__fb_field(b, slot, 1, false, v);
}
void sn_fb_add_i8(sn_fb *b, int slot, int8_t v, int8_t dflt) {
    if (v != dflt) sn__fb_field(b, slot, 1, false, (uint8_t)v);
}
void sn_fb_add_i32(sn_fb *b, int slot, int32_t v, int32_t dflt) {
    if (v != dflt) sn__fb_field(b, slot, 4, false, (uint32_t)v);
}
void sn_fb_add_u32(sn_fb *b, int slot, uint32_t v, uint32_t dflt) {
    if (v != dflt) sn__fb_field(b, slot, 4, false, v);
}
void sn_fb_add_i64(sn_fb *b, int slot, int64_t v, int64_t dflt) {
    if (v != dflt) sn__fb_field(b, slot, 8, false, (uint64_t)v);
}
void sn_fb_add_f32(sn_fb *b, int slot, float v, float dflt) {
    uint32_t bits, dbits;
    memcpy(&bits, &v, 4);
    memcpy(&dbits, &dflt, 4);
    if (bits != dbits) sn__fb_field(b, slot, 4, false, bits);
}
void sn_fb_add_ref(sn_fb *b, int slot, sn_fb_ref ref) {
    if (ref) sn__fb_field(b, slot, 4, true, ref);
}

/* An earlier vtable with the same bytes, or 0. */
static sn_fb_ref sn__fb_find_vtable(const sn_fb *b, const uint8_t *vt, size_t vsize) {
    for (int i = 0; i < b->n_vtables; i++) {
        const uint8_t *old = b->buf + b->cap - b->vtables[i];
        uint16_t osize;
        memcpy(&osize, old, 2);
        if (osize == vsize && !memcmp(old, vt, vsize)) return b->vtables[i];
    }
    return 0;
}

sn_fb_ref sn_fb_table_end(sn_fb *b) {
    if (b->status != SN_OK) return 0;
    if (!b->in_table) {
        sn__fb_fail(b, SN_ERR_INTERNAL, "FlatBuffer misuse: table_end without table_begin");
        return 0;
    }
    b->in_table = false;
    /* Layout forward from the table start: the soffset, then fields largest first so each
     * lands aligned to its size without padding between sizes. */
    uint8_t tab[4 + 8 * SN_FB_MAX_FIELDS + 8];
    uint16_t local[SN_FB_MAX_FIELDS] = {0};
    size_t at = 4, align = 4;
    int n_slots = 0;
    for (int size = 8; size >= 1; size /= 2)
        for (int i = 0; i < b->n_fields; i++) {
            const sn_fb_field *f = &b->fields[i];
            if (f->size != size) continue;
            at = (at + (size_t)size - 1) & ~((size_t)size - 1);
            local[i] = (uint16_t)at;
            at += (size_t)size;
            if ((size_t)size > align) align = (size_t)size;
            if (f->slot + 1 > n_slots) n_slots = f->slot + 1;
        }
    size_t tsize = (at + 3) & ~(size_t)3;
    memset(tab, 0, tsize);
    if (!sn__fb_align(b, tsize, align) || !sn__fb_reserve(b, tsize)) return 0;
    size_t tdist = b->size + tsize; /* the table's distance from the end once pushed */
    for (int i = 0; i < b->n_fields; i++) {
        const sn_fb_field *f = &b->fields[i];
        uint64_t v = f->value;
        if (f->is_ref) {
            if (v == 0 || v > b->size) {
                sn__fb_fail(b, SN_ERR_INTERNAL,
                            "FlatBuffer misuse: a table refers to a missing "
                            "or later object");
                return 0;
            }
            v = (uint64_t)(tdist - local[i]) - v;
        }
        memcpy(tab + local[i], &v, (size_t)f->size);
    }
    uint8_t *t = sn__fb_push(b, tab, tsize);
    if (!t) return 0;

    uint16_t vt[2 + SN_FB_MAX_FIELDS] = {0};
    size_t vsize = 4 + 2 * (size_t)n_slots;
    vt[0] = (uint16_t)vsize;
    vt[1] = (uint16_t)tsize;
    for (int i = 0; i < b->n_fields; i++) vt[2 + b->fields[i].slot] = local[i];
    sn_fb_ref vdist = sn__fb_find_vtable(b, (const uint8_t *)vt, vsize);
    if (!vdist) {
        /* tdist is a multiple of 4 and vsize even: the vtable lands 2-aligned. */
        if (!sn__fb_push(b, vt, vsize)) return 0;
        vdist = (sn_fb_ref)b->size;
        if (b->n_vtables == b->cap_vtables) {
            int cap = b->cap_vtables ? 2 * b->cap_vtables : 64;
            sn_fb_ref *nv = realloc(b->vtables, sizeof *nv * (size_t)cap);
            if (!nv) {
                sn__fb_fail(b, SN_ERR_OUT_OF_MEMORY, "out of memory building the FlatBuffer");
                return 0;
            }
            b->vtables = nv;
            b->cap_vtables = cap;
        }
        b->vtables[b->n_vtables++] = vdist;
    }
    /* vtable address = table address - soffset; addresses are (end - distance). */
    int32_t soff = (int32_t)((int64_t)vdist - (int64_t)tdist);
    memcpy(b->buf + b->cap - tdist, &soff, 4);
    return (sn_fb_ref)tdist;
}

sn_status sn_fb_finish(sn_fb *b, sn_fb_ref root, const char *ident, void **data, size_t *size,
                       sn_error *err) {
    *data = NULL;
    *size = 0;
    if (b->status == SN_OK && (b->in_table || root == 0 || root > b->size))
        sn__fb_fail(b, SN_ERR_INTERNAL, "FlatBuffer misuse: finish without a finished root table");
    size_t head = ident ? 8 : 4;
    if (b->status == SN_OK && sn__fb_align(b, head, b->minalign)) {
        if (ident) sn__fb_push(b, ident, 4);
        uint8_t *r = sn__fb_push(b, NULL, 4);
        if (r) sn__fb_put_u32(r, (uint32_t)(b->size - root));
    }
    if (b->status != SN_OK) {
        sn_status s = sn_errorf(err, b->status, "%s", b->message);
        sn_fb_free(b);
        return s;
    }
    memmove(b->buf, b->buf + b->cap - b->size, b->size);
    *data = b->buf;
    *size = b->size;
    b->buf = NULL;
    sn_fb_free(b);
    return SN_OK;
}
