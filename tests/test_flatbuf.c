/*
 * test_flatbuf.c - the FlatBuffers builder (export/flatbuf.c) read back by an independent
 * reader written here from the format description (flatbuffers.dev "internals"): scalars with
 * defaults left out, strings, scalar vectors with forced alignment, vectors of tables, shared
 * vtables, the root offset and file identifier, the alignment of every scalar, and misuse
 * reported instead of a corrupt buffer. A randomised test builds and checks many nested tables.
 * The TFLite files the builder makes are also read by LiteRT's own code in test_export_*.c.
 *
 * Also here: the float32 -> float16 rounding of fp16 export (runtime/half.c) against the
 * compiler's _Float16.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flatbuf.h"
#include "half.h"
#include "test_support.h"

/* --- an independent reader ---------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *b;
    size_t n;
} rd;

static uint32_t u32at(const rd *r, size_t off) {
    cr_assert(off + 4 <= r->n, "read past the end at %zu", off);
    cr_assert_eq(off % 4, 0, "unaligned u32 at %zu", off);
    uint32_t v;
    memcpy(&v, r->b + off, 4);
    return v;
}

static size_t follow(const rd *r, size_t off) { return off + u32at(r, off); }

/* Offset of field `slot` of the table at `t`, or 0 when absent. */
static size_t field(const rd *r, size_t t, int slot) {
    int32_t soff = (int32_t)u32at(r, t);
    size_t vt = (size_t)((int64_t)t - soff);
    cr_assert(vt + 4 <= r->n && vt % 2 == 0, "bad vtable at %zu", vt);
    uint16_t vsize, tsize, f = 0;
    memcpy(&vsize, r->b + vt, 2);
    memcpy(&tsize, r->b + vt + 2, 2);
    cr_assert(vsize >= 4 && vsize % 2 == 0 && vt + vsize <= r->n);
    if (4 + 2 * (size_t)slot < vsize) memcpy(&f, r->b + vt + 4 + 2 * slot, 2);
    cr_assert(f < tsize || f == 0, "field %d beyond the table", slot);
    return f ? t + f : 0;
}

static uint64_t scalar(const rd *r, size_t at, int size) {
    cr_assert(at + (size_t)size <= r->n);
    cr_assert_eq(at % (size_t)size, 0, "a %d-byte scalar at %zu is unaligned", size, at);
    uint64_t v = 0;
    memcpy(&v, r->b + at, (size_t)size);
    return v;
}

static const char *string_at(const rd *r, size_t s, uint32_t *len) {
    *len = u32at(r, s);
    cr_assert(s + 4 + *len < r->n && r->b[s + 4 + *len] == 0, "string not NUL-terminated");
    return (const char *)r->b + s + 4;
}

static rd finish(sn_fb *b, sn_fb_ref root, const char *ident) {
    void *data = NULL;
    size_t size = 0;
    sn_error err = {0};
    cr_assert_eq(sn_fb_finish(b, root, ident, &data, &size, &err), SN_OK, "%s", err.message);
    cr_assert_eq(((uintptr_t)data) % 16, 0);
    return (rd){data, size};
}

/* --- fixed cases -------------------------------------------------------------------------- */

Test(flatbuf, scalars_defaults_and_identifier) {
    sn_fb b;
    sn_fb_init(&b);
    sn_fb_ref name = sn_fb_string(&b, "conv1");
    sn_fb_table_begin(&b);
    sn_fb_add_u8(&b, 0, 7, 0);
    sn_fb_add_i8(&b, 1, -3, 0);
    sn_fb_add_i32(&b, 2, -123456, 0);
    sn_fb_add_u32(&b, 3, 5, 5); /* equal to its default: left out */
    sn_fb_add_i64(&b, 4, -(INT64_C(1) << 40), 0);
    sn_fb_add_f32(&b, 5, 0.25f, 0.0f);
    sn_fb_add_ref(&b, 6, name);
    sn_fb_add_i32(&b, 9, 1, 0);
    sn_fb_ref t = sn_fb_table_end(&b);
    rd r = finish(&b, t, "TFL3");
    cr_assert_eq(r.n % 8, 0, "size %zu is not a multiple of the 8-byte alignment", r.n);
    cr_assert(!memcmp(r.b + 4, "TFL3", 4));
    size_t root = follow(&r, 0);
    cr_assert_eq((uint8_t)scalar(&r, field(&r, root, 0), 1), 7);
    cr_assert_eq((int8_t)scalar(&r, field(&r, root, 1), 1), -3);
    cr_assert_eq((int32_t)scalar(&r, field(&r, root, 2), 4), -123456);
    cr_assert_eq(field(&r, root, 3), 0, "a default value was written");
    cr_assert_eq((int64_t)scalar(&r, field(&r, root, 4), 8), -(INT64_C(1) << 40));
    uint32_t fb = (uint32_t)scalar(&r, field(&r, root, 5), 4);
    float f;
    memcpy(&f, &fb, 4);
    cr_assert_eq(f, 0.25f);
    uint32_t len;
    cr_assert_str_eq(string_at(&r, follow(&r, field(&r, root, 6)), &len), "conv1");
    cr_assert_eq(len, 5);
    cr_assert_eq(field(&r, root, 7), 0);
    cr_assert_eq(field(&r, root, 8), 0);
    cr_assert_eq((int32_t)scalar(&r, field(&r, root, 9), 4), 1);
    cr_assert_eq(field(&r, root, 20), 0, "a slot past the vtable reads as absent");
    free((void *)r.b);
}

Test(flatbuf, vectors_alignment_and_shared_vtables) {
    sn_fb b;
    sn_fb_init(&b);
    uint8_t bytes[37];
    for (int i = 0; i < 37; i++) bytes[i] = (uint8_t)(i * 7);
    int64_t longs[3] = {-1, 2, INT64_MAX};
    sn_fb_ref vb = sn_fb_vector(&b, bytes, 37, 1, 16); /* TFLite buffers: force_align 16 */
    sn_fb_ref vl = sn_fb_vector(&b, longs, 3, 8, 8);
    sn_fb_ref empty = sn_fb_string(&b, "");
    sn_fb_ref kids[3];
    for (int i = 0; i < 3; i++) { /* identical layouts: one vtable */
        sn_fb_table_begin(&b);
        sn_fb_add_i32(&b, 0, 100 + i, 0);
        kids[i] = sn_fb_table_end(&b);
    }
    sn_fb_ref vk = sn_fb_vector_refs(&b, kids, 3);
    sn_fb_table_begin(&b);
    sn_fb_add_ref(&b, 0, vb);
    sn_fb_add_ref(&b, 1, vl);
    sn_fb_add_ref(&b, 2, vk);
    sn_fb_add_ref(&b, 3, empty);
    sn_fb_ref root = sn_fb_table_end(&b);
    rd r = finish(&b, root, NULL);
    size_t t = follow(&r, 0);
    size_t v = follow(&r, field(&r, t, 0));
    cr_assert_eq(u32at(&r, v), 37);
    cr_assert_eq((v + 4) % 16, 0, "forced 16-byte alignment not kept");
    cr_assert(!memcmp(r.b + v + 4, bytes, 37));
    v = follow(&r, field(&r, t, 1));
    cr_assert_eq(u32at(&r, v), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq((int64_t)scalar(&r, v + 4 + 8 * (size_t)i, 8), longs[i]);
    v = follow(&r, field(&r, t, 2));
    cr_assert_eq(u32at(&r, v), 3);
    size_t vt0 = 0;
    for (int i = 0; i < 3; i++) {
        size_t kt = follow(&r, v + 4 + 4 * (size_t)i);
        cr_assert_eq((int32_t)scalar(&r, field(&r, kt, 0), 4), 100 + i);
        size_t vt = (size_t)((int64_t)kt - (int32_t)u32at(&r, kt));
        if (i == 0) vt0 = vt;
        cr_assert_eq(vt, vt0, "identical vtables are not shared");
    }
    uint32_t len;
    cr_assert_str_eq(string_at(&r, follow(&r, field(&r, t, 3)), &len), "");
    free((void *)r.b);
}

Test(flatbuf, misuse_is_reported) {
    void *data = (void *)1;
    size_t size = 1;
    sn_error err = {0};
    sn_fb b;
    sn_fb_init(&b);
    sn_fb_table_begin(&b);
    sn_fb_string(&b, "inside a table"); /* children must come first */
    sn_fb_ref t = sn_fb_table_end(&b);
    cr_assert_eq(sn_fb_finish(&b, t, NULL, &data, &size, &err), SN_ERR_INTERNAL);
    cr_assert(data == NULL && size == 0);
    cr_assert(strstr(err.message, "inside a table"), "%s", err.message);

    sn_fb_init(&b);
    sn_fb_table_begin(&b);
    sn_fb_add_i32(&b, 0, 1, 0);
    sn_fb_add_i32(&b, 0, 2, 0);
    t = sn_fb_table_end(&b);
    cr_assert_eq(sn_fb_finish(&b, t, NULL, &data, &size, &err), SN_ERR_INTERNAL);
    cr_assert(strstr(err.message, "twice"), "%s", err.message);

    sn_fb_init(&b);
    sn_fb_table_begin(&b);
    sn_fb_add_ref(&b, 0, 12345); /* an object that was never built */
    t = sn_fb_table_end(&b);
    cr_assert_eq(sn_fb_finish(&b, t, NULL, &data, &size, &err), SN_ERR_INTERNAL);

    sn_fb_init(&b);
    sn_fb_table_begin(&b);
    sn_fb_add_i32(&b, SN_FB_MAX_FIELDS, 1, 0);
    t = sn_fb_table_end(&b);
    cr_assert_eq(sn_fb_finish(&b, t, NULL, &data, &size, &err), SN_ERR_INTERNAL);

    sn_fb_init(&b);
    cr_assert_eq(sn_fb_finish(&b, 0, NULL, &data, &size, &err), SN_ERR_INTERNAL, "no root");
}

/* --- randomised nesting --------------------------------------------------------------------- */

typedef struct spec {
    int present[6];
    int64_t v[6]; /* slots 0..5: u8, i32, i64, f32 bits, string length, vector length */
    int elem;     /* vector element size 1, 2, 4 or 8 */
} spec;

Test(flatbuf, random_tables_read_back) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("flatbuf_random"));
    enum { N = 300 };
    static spec sp[N];
    static char text[N][80];
    static uint8_t vec[N][8 * 40];
    sn_fb b;
    sn_fb_init(&b);
    sn_fb_ref refs[N];
    for (int k = 0; k < N; k++) {
        spec *s = &sp[k];
        for (int i = 0; i < 6; i++) s->present[i] = (int)(sn_rng_u64(&rng) % 3 != 0);
        s->v[0] = (int64_t)(sn_rng_u64(&rng) % 255) + 1;
        s->v[1] = (int32_t)sn_rng_u64(&rng) | 1;
        s->v[2] = (int64_t)(sn_rng_u64(&rng) | 1);
        s->v[3] = (uint32_t)sn_rng_u64(&rng) | 1;
        s->v[4] = (int64_t)(sn_rng_u64(&rng) % 79);
        s->v[5] = (int64_t)(sn_rng_u64(&rng) % 40);
        s->elem = 1 << (sn_rng_u64(&rng) % 4);
        for (int i = 0; i < s->v[4]; i++) text[k][i] = (char)('a' + sn_rng_u64(&rng) % 26);
        text[k][s->v[4]] = 0;
        for (int i = 0; i < s->v[5] * s->elem; i++) vec[k][i] = (uint8_t)sn_rng_u64(&rng);
        sn_fb_ref str = s->present[4] ? sn_fb_string(&b, text[k]) : 0;
        sn_fb_ref vv = s->present[5] ? sn_fb_vector(&b, vec[k], (size_t)s->v[5], (size_t)s->elem,
                                                    (size_t)s->elem)
                                     : 0;
        sn_fb_table_begin(&b);
        if (s->present[0]) sn_fb_add_u8(&b, 0, (uint8_t)s->v[0], 0);
        if (s->present[1]) sn_fb_add_i32(&b, 1, (int32_t)s->v[1], 0);
        if (s->present[2]) sn_fb_add_i64(&b, 2, s->v[2], 0);
        if (s->present[3]) sn_fb_add_u32(&b, 3, (uint32_t)s->v[3], 0);
        sn_fb_add_ref(&b, 4, str);
        sn_fb_add_ref(&b, 5, vv);
        refs[k] = sn_fb_table_end(&b);
    }
    sn_fb_ref all = sn_fb_vector_refs(&b, refs, N);
    sn_fb_table_begin(&b);
    sn_fb_add_ref(&b, 0, all);
    rd r = finish(&b, sn_fb_table_end(&b), "TEST");
    size_t v = follow(&r, field(&r, follow(&r, 0), 0));
    cr_assert_eq(u32at(&r, v), N);
    for (int k = 0; k < N; k++) {
        const spec *s = &sp[k];
        size_t t = follow(&r, v + 4 + 4 * (size_t)k);
        static const int sizes[4] = {1, 4, 8, 4};
        for (int i = 0; i < 4; i++) {
            size_t f = field(&r, t, i);
            cr_assert_eq(f != 0, s->present[i] != 0, "table %d slot %d presence", k, i);
            if (f) {
                uint64_t got = scalar(&r, f, sizes[i]);
                uint64_t want = sizes[i] == 8   ? (uint64_t)s->v[i]
                                : sizes[i] == 4 ? (uint32_t)s->v[i]
                                                : (uint8_t)s->v[i];
                cr_assert_eq(got, want, "table %d slot %d", k, i);
            }
        }
        size_t f = field(&r, t, 4);
        cr_assert_eq(f != 0, s->present[4] != 0);
        if (f) {
            uint32_t len;
            const char *str = string_at(&r, follow(&r, f), &len);
            cr_assert_eq(len, (uint32_t)s->v[4]);
            cr_assert(!memcmp(str, text[k], len));
        }
        f = field(&r, t, 5);
        cr_assert_eq(f != 0, s->present[5] != 0);
        if (f) {
            size_t vv = follow(&r, f);
            cr_assert_eq(u32at(&r, vv), (uint32_t)s->v[5]);
            cr_assert_eq((vv + 4) % (size_t)s->elem, 0, "vector elements unaligned");
            cr_assert(!memcmp(r.b + vv + 4, vec[k], (size_t)(s->v[5] * s->elem)));
        }
    }
    free((void *)r.b);
}

/* --- float16 rounding ------------------------------------------------------------------------ */

static uint16_t ref_f16(float f) {
    _Float16 h = (_Float16)f; /* IEEE round to nearest even, done by the compiler/hardware */
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

static void check_f16(float f) {
    uint16_t got = sn_f32_to_f16(f), want = ref_f16(f);
    if (isnan(f))
        cr_assert((got & 0x7c00u) == 0x7c00u && (got & 0x3ffu), "NaN must stay NaN: %04x", got);
    else
        cr_assert_eq(got, want, "f16(%a) = %04x, expected %04x", (double)f, got, want);
}

Test(flatbuf, float16_rounding) {
    const float special[] = {0.0f,
                             -0.0f,
                             1.0f,
                             -2.5f,
                             65504.0f,
                             65520.0f,
                             65519.99f,
                             1e9f,
                             -1e9f,
                             INFINITY,
                             -INFINITY,
                             NAN,
                             6.103515625e-05f,
                             5.96e-08f,
                             2.98e-08f,
                             2.9802322e-08f,
                             1e-30f,
                             0.1f,
                             1.0009765625f,
                             1.00048828125f,
                             1.00146484375f};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) check_f16(special[i]);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("float16_rounding"));
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)sn_rng_u64(&rng);
        float f;
        memcpy(&f, &bits, 4);
        check_f16(f); /* every exponent: overflow, normal, subnormal and underflow */
        check_f16((float)sn_rng_uniform(&rng, -8.0, 8.0));
    }
    /* Every tie between two halves rounds to the even one. */
    for (uint32_t h = 0x0001; h < 0x7bff; h += 37) {
        float lo = (float)(_Float16)0, hi;
        uint16_t a = (uint16_t)h, c = (uint16_t)(h + 1);
        _Float16 ha, hc;
        memcpy(&ha, &a, 2);
        memcpy(&hc, &c, 2);
        lo = (float)ha;
        hi = (float)hc;
        check_f16(lo + (hi - lo) / 2);
    }
}
