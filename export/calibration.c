/*
 * calibration.c - loading int8 calibration samples from a folder: JPEG/PNG images go through
 * the model's own preprocessing (loader/preprocess.h, as sentinel-run does), .npy files hold
 * ready tensors of one or several samples. Files are taken in name order, so the same folder
 * always gives the same model.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "image.h"
#include "npy.h"
#include "preprocess.h"

void sn_calibration_free(sn_calibration *c) {
    if (!c) return;
    free(c->data);
    memset(c, 0, sizeof *c);
}

static bool sn__has_ext(const char *name, const char *ext) {
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

static int sn__cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Room for `more` samples. */
static sn_status sn__cal_grow(sn_calibration *c, int *cap, int more, sn_error *err) {
    if (c->count + more <= *cap) return SN_OK;
    int nc = *cap ? *cap : 16;
    while (nc < c->count + more) nc *= 2;
    float *d = realloc(c->data, sizeof(float) * c->sample_floats * (size_t)nc);
    if (!d) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory loading calibration data");
    c->data = d;
    *cap = nc;
    return SN_OK;
}

static sn_status sn__cal_npy(sn_calibration *c, int *cap, const char *path, const sn_shape *in1,
                             int max, sn_error *err) {
    sn_npy a = {0};
    sn_status s = sn_npy_read_file(path, &a, err);
    if (s != SN_OK) return s;
    /* One sample [C,H,W] / [1,C,H,W], or several [N,C,H,W]: the trailing dims must match. */
    int r = in1->rank, extra = a.rank - (r - 1);
    bool ok = extra == 0 || extra == 1;
    for (int i = 1; ok && i < r; i++) ok = a.dims[a.rank - r + i] == in1->d[i];
    if (!ok) {
        char want[96];
        sn_shape_format(in1, true, want, sizeof want);
        sn_npy_free(&a);
        return sn_errorf(err, SN_ERR_SHAPE, "its shape does not match the model input %s", want);
    }
    int n = extra ? (int)a.dims[0] : 1;
    if (max && n > max - c->count) n = max - c->count;
    if ((s = sn__cal_grow(c, cap, n, err)) == SN_OK && n > 0) {
        memcpy(c->data + c->sample_floats * (size_t)c->count, a.data,
               sizeof(float) * c->sample_floats * (size_t)n);
        c->count += n;
    }
    sn_npy_free(&a);
    return s;
}

static sn_status sn__cal_image(sn_calibration *c, int *cap, const char *path,
                               const sn_preprocess *pre, sn_layout layout, sn_error *err) {
    sn_image img = {0};
    sn_status s = sn_image_load_file(path, 0, &img, err);
    if (s == SN_OK) s = sn__cal_grow(c, cap, 1, err);
    if (s == SN_OK)
        s = sn_preprocess_image(pre, layout, img.pixels, img.width, img.height,
                                c->data + c->sample_floats * (size_t)c->count, err);
    if (s == SN_OK) c->count++;
    sn_image_free(&img);
    return s;
}

sn_status sn_calibration_load_dir(const sn_graph *g, const char *dir, int max_samples,
                                  sn_calibration *out, sn_error *err) {
    memset(out, 0, sizeof *out);
    if (g->n_inputs != 1)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "calibration needs a model with one input, "
                         "this one has %d",
                         g->n_inputs);
    const sn_tensor *in = &g->tensors[g->inputs[0]];
    sn_shape in1 = in->shape;
    if (in1.rank > 0 && in1.d[0] == SN_DIM_BATCH) in1.d[0] = 1;
    int64_t numel = sn_shape_numel(&in1);
    if (numel <= 0 || in1.rank < 2)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "input '%s' has no fixed sample shape", in->name);
    out->sample_floats = (size_t)numel;
    /* Images only for a 3-channel image input. */
    bool nhwc = in->layout == SN_LAYOUT_NHWC;
    bool image_input = in1.rank == 4 && in1.d[nhwc ? 3 : 1] == 3;
    sn_preprocess pre = {0};
    sn_error pre_err = {0};
    bool pre_ok =
        image_input && sn_preprocess_resolve(&g->meta.preprocess, in1.d[nhwc ? 1 : 2],
                                             in1.d[nhwc ? 2 : 3], &pre, &pre_err) == SN_OK;
    DIR *d = opendir(dir);
    if (!d)
        return sn_errorf(err, SN_ERR_IO, "cannot open the calibration folder %s: %s", dir,
                         strerror(errno));
    char **names = NULL;
    size_t n = 0, cap_names = 0;
    sn_status s = SN_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *nm = e->d_name;
        if (nm[0] == '.') continue;
        if (!sn__has_ext(nm, ".npy") && !sn__has_ext(nm, ".jpg") && !sn__has_ext(nm, ".jpeg") &&
            !sn__has_ext(nm, ".png"))
            continue;
        if (n == cap_names) {
            cap_names = cap_names ? cap_names * 2 : 64;
            char **nn = realloc(names, sizeof *names * cap_names);
            if (!nn) {
                s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory listing %s", dir);
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(nm))) {
            s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, sn__cmp_str);
    int cap = 0;
    for (size_t i = 0; i < n && s == SN_OK && (!max_samples || out->count < max_samples); i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
            s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        if (sn__has_ext(names[i], ".npy")) {
            s = sn__cal_npy(out, &cap, path, &in1, max_samples, err);
        } else if (!pre_ok) {
            s = image_input ? sn_errorf(err, pre_err.status, "%s", pre_err.message)
                            : sn_errorf(err, SN_ERR_UNSUPPORTED,
                                        "the model input is not a "
                                        "3-channel image; give .npy files");
        } else {
            s = sn__cal_image(out, &cap, path, &pre, nhwc ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW, err);
        }
        if (s != SN_OK) sn_error_prefix(err, "calibration file %s", path);
        free(path);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (s == SN_OK && out->count == 0)
        s = sn_errorf(err, SN_ERR_NOT_FOUND,
                      "the calibration folder %s has no .npy, .jpg, "
                      ".jpeg or .png file",
                      dir);
    if (s != SN_OK) sn_calibration_free(out);
    return s;
}
