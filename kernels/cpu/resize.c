/*
 * resize.c - nearest and bilinear Resize of H and W.
 *
 * Source coordinates are computed once per output row and column, in double precision (so ties
 * such as 2x downscaling with half_pixel land exactly on .5 and the nearest mode decides), into
 * tables in the caller's scratch; the per-pixel loop is then gathers and multiply-adds.
 * Linear mode clamps the source coordinate to [0, in-1], which equals ONNX's edge padding.
 */
#include "resize.h"

#include <math.h>

double sn_resize_source_coord(int64_t o, double scale, int64_t in_len, int64_t out_len,
                              sn_resize_coord coord) {
    switch (coord) {
    case SN_COORD_ASYMMETRIC: return (double)o / scale;
    case SN_COORD_ALIGN_CORNERS:
        return out_len == 1 ? 0.0 : (double)o * (double)(in_len - 1) / (double)(out_len - 1);
    case SN_COORD_PYTORCH_HALF_PIXEL:
        return out_len > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;
    case SN_COORD_HALF_PIXEL:
    default: return ((double)o + 0.5) / scale - 0.5;
    }
}

int64_t sn_resize_nearest_index(double xs, int64_t in_len, sn_nearest_mode mode) {
    double f = floor(xs), r;
    switch (mode) {
    case SN_NEAREST_FLOOR: r = f; break;
    case SN_NEAREST_CEIL: r = ceil(xs); break;
    case SN_NEAREST_ROUND_PREFER_CEIL: r = xs - f >= 0.5 ? f + 1.0 : f; break;
    case SN_NEAREST_ROUND_PREFER_FLOOR:
    default: r = xs - f > 0.5 ? f + 1.0 : f; break;
    }
    if (r < 0.0) return 0;
    if (r > (double)(in_len - 1)) return in_len - 1;
    return (int64_t)r;
}

typedef struct sn__axis_tab {
    int64_t *i0, *i1;
    float *w0, *w1;
} sn__axis_tab;

size_t sn_cpu_resize_scratch(int64_t out_h, int64_t out_w) {
    return (size_t)(out_h + out_w) * (2 * sizeof(int64_t) + 2 * sizeof(float));
}

static void sn__axis_fill(sn__axis_tab *t, int64_t in_len, int64_t out_len, double scale,
                          const sn_resize_params *p) {
    for (int64_t o = 0; o < out_len; o++) {
        double xs = sn_resize_source_coord(o, scale, in_len, out_len, p->coord);
        if (p->mode == SN_INTERP_NEAREST) {
            t->i0[o] = t->i1[o] = sn_resize_nearest_index(xs, in_len, p->nearest);
            t->w0[o] = 1.0f;
            t->w1[o] = 0.0f;
            continue;
        }
        if (xs < 0.0) xs = 0.0;
        if (xs > (double)(in_len - 1)) xs = (double)(in_len - 1);
        int64_t a = (int64_t)xs;
        double w = xs - (double)a;
        t->i0[o] = a;
        t->i1[o] = a + 1 < in_len ? a + 1 : a;
        t->w0[o] = (float)(1.0 - w);
        t->w1[o] = (float)w;
    }
}

/* The row and column tables in the scratch. */
static void sn__tables(void *scratch, int64_t ih, int64_t iw, int64_t oh, int64_t ow,
                       const sn_resize_params *p, sn__axis_tab *th, sn__axis_tab *tw) {
    /* int64 tables first keep every array naturally aligned. */
    char *s = (char *)scratch;
    th->i0 = (int64_t *)s;
    th->i1 = th->i0 + oh;
    tw->i0 = th->i1 + oh;
    tw->i1 = tw->i0 + ow;
    th->w0 = (float *)(tw->i1 + ow);
    th->w1 = th->w0 + oh;
    tw->w0 = th->w1 + oh;
    tw->w1 = tw->w0 + ow;
    sn__axis_fill(th, ih, oh, p->scale_h, p);
    sn__axis_fill(tw, iw, ow, p->scale_w, p);
}

void sn_cpu_resize_f32(const float *x, int64_t planes, int64_t ih, int64_t iw, float *y,
                       int64_t oh, int64_t ow, const sn_resize_params *p, void *scratch,
                       int threads) {
    if (planes == 0 || oh == 0 || ow == 0) return;
    sn__axis_tab th, tw;
    sn__tables(scratch, ih, iw, oh, ow, p, &th, &tw);

    const int nt = threads > 0 ? threads : 1;
    const int64_t rows = planes * oh;
    const int linear = p->mode == SN_INTERP_LINEAR;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * ow > 32768)
    for (int64_t r = 0; r < rows; r++) {
        int64_t pl = r / oh, oy = r % oh;
        const float *plane = x + pl * ih * iw;
        const float *r0 = plane + th.i0[oy] * iw;
        float *yr = y + r * ow;
        if (!linear) {
            for (int64_t ox = 0; ox < ow; ox++) yr[ox] = r0[tw.i0[ox]];
            continue;
        }
        const float *r1 = plane + th.i1[oy] * iw;
        const float wy0 = th.w0[oy], wy1 = th.w1[oy];
        for (int64_t ox = 0; ox < ow; ox++) {
            int64_t a = tw.i0[ox], b = tw.i1[ox];
            float wx0 = tw.w0[ox], wx1 = tw.w1[ox];
            yr[ox] = wy0 * (wx0 * r0[a] + wx1 * r0[b]) + wy1 * (wx0 * r1[a] + wx1 * r1[b]);
        }
    }
}

/* Channels-last: each output pixel blends whole pixels (c contiguous floats) of the input, so
 * the inner loop runs along the channels. */
void sn_cpu_resize_nhwc_f32(const float *x, int64_t n, int64_t ih, int64_t iw, int64_t c,
                            float *y, int64_t oh, int64_t ow, const sn_resize_params *p,
                            void *scratch, int threads) {
    if (n == 0 || c == 0 || oh == 0 || ow == 0) return;
    sn__axis_tab th, tw;
    sn__tables(scratch, ih, iw, oh, ow, p, &th, &tw);
    const int nt = threads > 0 ? threads : 1;
    const int64_t rows = n * oh;
    const int linear = p->mode == SN_INTERP_LINEAR;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * ow * c > 32768)
    for (int64_t r = 0; r < rows; r++) {
        int64_t img = r / oh, oy = r % oh;
        const float *image = x + img * ih * iw * c;
        const float *r0 = image + th.i0[oy] * iw * c, *r1 = image + th.i1[oy] * iw * c;
        const float wy0 = th.w0[oy], wy1 = th.w1[oy];
        for (int64_t ox = 0; ox < ow; ox++) {
            float *restrict yp = y + (r * ow + ox) * c;
            const float *a0 = r0 + tw.i0[ox] * c;
            if (!linear) {
                for (int64_t j = 0; j < c; j++) yp[j] = a0[j];
                continue;
            }
            const float *b0 = r0 + tw.i1[ox] * c, *a1 = r1 + tw.i0[ox] * c,
                        *b1 = r1 + tw.i1[ox] * c;
            const float wx0 = tw.w0[ox], wx1 = tw.w1[ox];
#pragma omp simd
            for (int64_t j = 0; j < c; j++)
                yp[j] = wy0 * (wx0 * a0[j] + wx1 * b0[j]) + wy1 * (wx0 * a1[j] + wx1 * b1[j]);
        }
    }
}
