/*
 * test_npy.c - the .npy reader and writer (loader/npy.h): round trips of random arrays of
 * every rank, the exact bytes numpy writes, version 2 and 3 headers, every kind of malformed
 * or unsupported header with its message, and the atomic write.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "test_support.h"

/* A .npy image from a header dict (padded numpy-style), a version, and n data floats. */
static uint8_t *make_npy(int major, const char *dict, const float *data, size_t n, size_t *size) {
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t hlen = ((pre + dl + 1 + 63) / 64) * 64 - pre;
    *size = pre + hlen + n * 4;
    uint8_t *b = malloc(*size);
    cr_assert(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) b[8 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(b + pre, dict, dl);
    memset(b + pre + dl, ' ', hlen - dl - 1);
    b[pre + hlen - 1] = '\n';
    if (n) memcpy(b + pre + hlen, data, n * 4);
    return b;
}

static void expect_bad(const uint8_t *b, size_t size, sn_status want, const char *needle) {
    sn_npy a;
    sn_error err = {0};
    sn_status st = sn_npy_parse(b, size, &a, &err);
    cr_assert_eq(st, want, "got status %d (%s), want %d", st, err.message, want);
    cr_assert(strstr(err.message, needle), "message '%s' lacks '%s'", err.message, needle);
    cr_assert_null(a.data);
}

static void expect_bad_dict(const char *dict, size_t n, sn_status want, const char *needle) {
    float data[64] = {1};
    size_t size;
    uint8_t *b = make_npy(1, dict, data, n, &size);
    expect_bad(b, size, want, needle);
    free(b);
}

Test(npy, round_trip_random_arrays) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("npy_round_trip"));
    char *dir = sn_test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    for (int rank = 0; rank <= 5; rank++) {
        int64_t dims[SN_MAX_RANK];
        size_t n = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = 1 + (int64_t)(sn_rng_u64(&r) % 7);
            n *= (size_t)dims[i];
        }
        float *x = malloc(n * sizeof(float));
        sn_rng_fill(&r, x, n, -1000.0f, 1000.0f);
        sn_error err = {0};
        cr_assert_eq(sn_npy_write_file(path, x, rank, dims, &err), SN_OK, "%s", err.message);
        /* numpy's layout: data on a 64-byte boundary, header ends in '\n'. */
        size_t size;
        uint8_t *raw = sn_test_read_file(path, &size);
        cr_assert(raw);
        size_t hlen = raw[8] | (size_t)raw[9] << 8;
        cr_assert_eq((10 + hlen) % 64, 0);
        cr_assert_eq(raw[10 + hlen - 1], '\n');
        cr_assert_eq(size, 10 + hlen + n * 4);
        free(raw);
        sn_npy a;
        cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s", err.message);
        cr_assert_eq(a.rank, rank);
        cr_assert_eq(a.count, n);
        for (int i = 0; i < rank; i++) cr_assert_eq(a.dims[i], dims[i]);
        cr_assert_eq(memcmp(a.data, x, n * 4), 0);
        sn_npy_free(&a);
        free(x);
    }
    /* Nothing but the file itself is left: the temporary was renamed. */
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') files++;
    closedir(d);
    cr_assert_eq(files, 1);
    sn_test_rmtree(dir);
    free(dir);
}

Test(npy, header_bytes_are_what_numpy_writes) {
    /* np.save of np.zeros((2, 3), '<f4'): this exact 118-character dict line, 128 in all. */
    float z[6] = {0};
    int64_t dims[2] = {2, 3};
    void *bytes;
    size_t size;
    sn_error err = {0};
    cr_assert_eq(sn_npy_encode(z, 2, dims, &bytes, &size, &err), SN_OK);
    const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const uint8_t *b = bytes;
    cr_assert_eq(size, 128 + 24);
    cr_assert_eq(memcmp(b, "\x93NUMPY\x01\x00\x76\x00", 10), 0);
    cr_assert_eq(memcmp(b + 10, want, strlen(want)), 0);
    free(bytes);
    /* One dimension gets numpy's trailing comma; a scalar has (). */
    int64_t one = 5;
    float f5[5] = {0};
    cr_assert_eq(sn_npy_encode(f5, 1, &one, &bytes, &size, &err), SN_OK);
    cr_assert(strstr((char *)bytes + 10, "'shape': (5,), }"));
    free(bytes);
    cr_assert_eq(sn_npy_encode(f5, 0, NULL, &bytes, &size, &err), SN_OK);
    cr_assert(strstr((char *)bytes + 10, "'shape': (), }"));
    free(bytes);
}

Test(npy, versions_quotes_and_key_order) {
    float d[6] = {1, 2, 3, 4, 5, 6};
    const char *dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}",
        "{'fortran_order':False,'shape':(2L, 3L),'descr':'<f4'}",
    };
    for (int major = 1; major <= 3; major++)
        for (int k = 0; k < 3; k++) {
            size_t size;
            uint8_t *b = make_npy(major, dicts[k], d, 6, &size);
            sn_npy a;
            sn_error err = {0};
            cr_assert_eq(sn_npy_parse(b, size, &a, &err), SN_OK, "v%d %s: %s", major, dicts[k],
                         err.message);
            cr_assert(a.rank == 2 && a.dims[0] == 2 && a.dims[1] == 3 && a.data[5] == 6.0f);
            sn_npy_free(&a);
            free(b);
        }
}

Test(npy, unsupported_dtypes_and_order_are_named) {
    expect_bad_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 6,
                    SN_ERR_UNSUPPORTED, "'<f8'");
    expect_bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", 3,
                    SN_ERR_UNSUPPORTED, "big-endian");
    expect_bad_dict("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), }", 3,
                    SN_ERR_UNSUPPORTED, "'|u1'");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 6,
                    SN_ERR_UNSUPPORTED, "Fortran");
    expect_bad_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 3,
                    SN_ERR_UNSUPPORTED, "structured");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
                    1, SN_ERR_UNSUPPORTED, "more than 8 dimensions");
}

Test(npy, malformed_headers_are_refused) {
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    expect_bad_dict("['descr', '<f4']", 3, SN_ERR_FORMAT, "not a dict");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", 3,
                    SN_ERR_FORMAT, "unexpected key 'x'");
    expect_bad_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
                    3, SN_ERR_FORMAT, "appears twice");
    expect_bad_dict("{'descr': '<f4', 'shape': (3,)}", 3, SN_ERR_FORMAT, "fortran_order");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", 3, SN_ERR_FORMAT,
                    "True or False");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", 3,
                    SN_ERR_FORMAT, "non-negative");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3.5,)}", 3,
                    SN_ERR_FORMAT, "malformed");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': 3}", 3, SN_ERR_FORMAT,
                    "not a tuple");
    expect_bad_dict("{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}", 3, SN_ERR_FORMAT,
                    "expected ','");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} extra", 3,
                    SN_ERR_FORMAT, "after the closing");
    expect_bad_dict("{'descr: '<f4', 'fortran_order': False, 'shape': (3,)}", 3, SN_ERR_FORMAT,
                    "':'");
    /* Shape against the file size. */
    expect_bad_dict(ok, 2, SN_ERR_FORMAT, "truncated");
    expect_bad_dict(ok, 4, SN_ERR_FORMAT, "trailing bytes");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, "
                    "99999999999, 99999999999)}", 3, SN_ERR_FORMAT, "too large");

    /* Framing: magic, version, header length, newline. */
    float d[3] = {1, 2, 3};
    size_t size;
    uint8_t *b = make_npy(1, ok, d, 3, &size);
    expect_bad(b, 5, SN_ERR_FORMAT, "only 5 bytes");
    uint8_t *c = malloc(size);
    memcpy(c, b, size);
    c[1] = 'X';
    expect_bad(c, size, SN_ERR_FORMAT, "magic");
    memcpy(c, b, size);
    c[6] = 4;
    expect_bad(c, size, SN_ERR_VERSION, "version 4.0");
    memcpy(c, b, size);
    c[8] = 0xff;
    c[9] = 0xff;
    expect_bad(c, size, SN_ERR_FORMAT, "runs past the end");
    memcpy(c, b, size);
    size_t hlen = c[8] | (size_t)c[9] << 8;
    c[10 + hlen - 1] = ' ';
    expect_bad(c, size, SN_ERR_FORMAT, "newline");
    /* Every cut of a good file fails cleanly. */
    for (size_t cut = 0; cut < size; cut++) {
        sn_npy a;
        sn_error err = {0};
        cr_assert_neq(sn_npy_parse(b, cut, &a, &err), SN_OK, "cut at %zu parsed", cut);
        cr_assert(err.message[0]);
    }
    free(c);
    free(b);
}

Test(npy, write_failure_leaves_nothing) {
    char *dir = sn_test_mkdtemp(), path[4096];
    float x[4] = {1, 2, 3, 4};
    int64_t dims[1] = {4};
    sn_error err = {0};
    snprintf(path, sizeof path, "%s/no/such/dir/a.npy", dir);
    cr_assert_eq(sn_npy_write_file(path, x, 1, dims, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    /* Overwriting replaces the old file whole. */
    snprintf(path, sizeof path, "%s/a.npy", dir);
    cr_assert_eq(sn_npy_write_file(path, x, 1, dims, &err), SN_OK);
    dims[0] = 2;
    cr_assert_eq(sn_npy_write_file(path, x, 1, dims, &err), SN_OK);
    sn_npy a;
    cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_OK, "%s", err.message);
    cr_assert_eq(a.count, 2);
    sn_npy_free(&a);
    snprintf(path, sizeof path, "%s/missing.npy", dir);
    cr_assert_eq(sn_npy_read_file(path, &a, &err), SN_ERR_IO);
    sn_test_rmtree(dir);
    free(dir);
}
