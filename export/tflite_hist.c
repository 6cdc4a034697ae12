/*
 * tflite_hist.c - the distribution of a tensor's values over int8 calibration samples, and the
 * range int8 quantization should cover.
 *
 * Min/max ranges let one rare large value set the step for every other value of the tensor:
 * on the zoo's ReLU outputs and linear bottlenecks the largest value is many times the typical
 * one, and rounding noise (step^2 / 12 per value) dominates the int8 error. The range chosen
 * here minimises the expected squared error - clipping the few values beyond it plus rounding
 * all values within it - over a histogram of the calibration values (the "MSE" calibration of
 * TensorRT and PyTorch's observers). On the zoo, on images held out from calibration, the int8
 * model's 1 - cosine against float is 5-26% lower than with min/max ranges on eight of docs/
 * export.md's nine model rows and 3% higher on seed-cnn (the table's "Sentinel mse" and
 * "Sentinel minmax" columns, tests/export/int8_study.py).
 *
 * The histogram is built in one pass: magnitudes per sign in SN__TFL_HIST_BINS bins over
 * [0, range), range a power of two; a larger value doubles the range and merges neighbouring
 * bins, so bins stay finer than 1/1024 of the largest value and memory stays fixed. Exact zeros
 * (half of a ReLU output) are counted apart: int8 represents 0 exactly.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_export.h"

#define NB SN__TFL_HIST_BINS

sn_status sn__tfl_hist_init(sn__tfl_hist *h, int n_chan, sn_error *err) {
    memset(h, 0, sizeof *h);
    h->lo = INFINITY;
    h->hi = -INFINITY;
    h->n_chan = n_chan;
    h->bins = calloc(2 * NB, sizeof *h->bins);
    h->chan_sum = n_chan ? calloc((size_t)n_chan, sizeof *h->chan_sum) : NULL;
    if (!h->bins || (n_chan && !h->chan_sum)) {
        sn__tfl_hist_free(h);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration histograms");
    }
    return SN_OK;
}

void sn__tfl_hist_free(sn__tfl_hist *h) {
    free(h->bins);
    free(h->chan_sum);
    h->bins = h->chan_sum = NULL;
}

/* Double the range until it exceeds `a`, merging bin pairs each time. */
static void sn__hist_grow(sn__tfl_hist *h, double a) {
    if (h->range == 0.0) {
        int e;
        frexp(a, &e); /* a = f * 2^e, f in [0.5, 1): 2^e > a */
        h->range = ldexp(1.0, e);
        return;
    }
    while (h->range <= a) {
        for (int side = 0; side < 2; side++) {
            double *b = h->bins + side * NB;
            for (int i = 0; i < NB / 2; i++) b[i] = b[2 * i] + b[2 * i + 1];
            memset(b + NB / 2, 0, sizeof *b * (NB / 2));
        }
        h->range *= 2.0;
    }
}

/* Sum of n values, NaN counted as 0, in 8 partial sums the compiler can keep in one vector. */
static double sn__sum(const float *x, size_t n) {
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += x[i + j] == x[i + j] ? x[i + j] : 0.0f;
    double s = 0.0;
    for (; i < n; i++) s += x[i] == x[i] ? x[i] : 0.0f;
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

void sn__tfl_hist_add(sn__tfl_hist *h, const float *x, size_t n, size_t inner) {
    /* Comparisons are false for NaN, so this skips it; 8 lanes the compiler can vectorize. */
    float lo8[8], hi8[8];
    int nan8[8] = {0};
    for (int j = 0; j < 8; j++) lo8[j] = h->lo, hi8[j] = h->hi;
    size_t i0 = 0;
    for (; i0 + 8 <= n; i0 += 8)
        for (int j = 0; j < 8; j++) {
            lo8[j] = x[i0 + j] < lo8[j] ? x[i0 + j] : lo8[j];
            hi8[j] = x[i0 + j] > hi8[j] ? x[i0 + j] : hi8[j];
            nan8[j] |= x[i0 + j] != x[i0 + j];
        }
    for (; i0 < n; i0++) {
        lo8[0] = x[i0] < lo8[0] ? x[i0] : lo8[0];
        hi8[0] = x[i0] > hi8[0] ? x[i0] : hi8[0];
        nan8[0] |= x[i0] != x[i0];
    }
    float lo = lo8[0], hi = hi8[0];
    int nan = nan8[0];
    for (int j = 1; j < 8; j++) {
        lo = lo8[j] < lo ? lo8[j] : lo, hi = hi8[j] > hi ? hi8[j] : hi;
        nan |= nan8[j];
    }
    h->lo = lo;
    h->hi = hi;
    double big = fmax(-(double)lo, (double)hi);
    /* An infinite value makes the range unusable anyway: the quantizer refuses it. Values all
     * below 2^-100 are binned as zeros: NB / range would overflow a float, and the bin index
     * with it. */
    if (isfinite(big) && big >= 0x1p-100) {
        if (big >= h->range) sn__hist_grow(h, big);
        /* Counted here at floor(v * NB / range) + NB in [0, 2 NB): negative values first, in
         * reverse order of magnitude. Zeros and NaN go to slot 2 NB, which is dropped: int8
         * represents 0 exactly, so zeros cost nothing whatever the range. */
        uint32_t local[2 * NB + 1];
        memset(local, 0, sizeof local);
        float scale = (float)(NB / h->range), off = (float)NB, top = 2 * NB - 0.5f;
        if (!nan) { /* branch-free: zeros are as common as anything in a ReLU output */
            for (size_t i = 0; i < n; i++) {
                float f = x[i] * scale + off; /* >= 0, so truncation is floor */
                int k = (int)(f < top ? f : top);
                local[x[i] != 0.0f ? k : 2 * NB]++;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float f = x[i] * scale + off;
                local[x[i] != 0.0f && f >= 0.0f ? (int)(f < top ? f : top) : 2 * NB]++;
            }
        }
        for (int k = 0; k < NB; k++) {
            h->bins[k] += local[NB - 1 - k]; /* |x| in [k w, (k + 1) w) */
            h->bins[NB + k] += local[NB + k];
        }
    }
    if (h->n_chan && inner && n == inner * (size_t)h->n_chan) {
        for (int c = 0; c < h->n_chan; c++) h->chan_sum[c] += sn__sum(x + (size_t)c * inner, inner);
        h->chan_count += (double)inner;
    }
}

/* Tail sums from bin k up of one side: counts, first and second moments of the bin centres. */
typedef struct sn__tails {
    double c[NB + 1], s1[NB + 1], s2[NB + 1];
} sn__tails;

static void sn__tails_build(const double *bins, double w, sn__tails *t) {
    t->c[NB] = t->s1[NB] = t->s2[NB] = 0.0;
    for (int i = NB - 1; i >= 0; i--) {
        double x = (i + 0.5) * w;
        t->c[i] = t->c[i + 1] + bins[i];
        t->s1[i] = t->s1[i + 1] + bins[i] * x;
        t->s2[i] = t->s2[i + 1] + bins[i] * x * x;
    }
}

/* Squared error of clipping one side's values beyond `a` (bins from k up). */
static double sn__clip_err(const sn__tails *t, int k, double a) {
    return t->s2[k] - 2.0 * a * t->s1[k] + a * a * t->c[k];
}

/* The clip level for k bins: k * w, or the side's extreme itself at k = kmax. */
static double sn__level(int k, int kmax, double w, double extreme) {
    return k >= kmax ? extreme : k * w;
}

void sn__tfl_hist_mse_range(const sn__tfl_hist *h, float *lo, float *hi) {
    *lo = h->lo;
    *hi = h->hi;
    if (!(h->lo <= h->hi) || !isfinite(h->lo) || !isfinite(h->hi) || h->range <= 0.0) return;
    sn__tails *neg = malloc(sizeof *neg), *pos = malloc(sizeof *pos);
    if (!neg || !pos) { /* min/max then: still correct, only coarser */
        free(neg);
        free(pos);
        return;
    }
    double w = h->range / NB;
    sn__tails_build(h->bins, w, neg);
    sn__tails_build(h->bins + NB, w, pos);
    double ext_n = h->lo < 0.0f ? -(double)h->lo : 0.0, ext_p = h->hi > 0.0f ? h->hi : 0.0;
    /* Every value's bin lies below kmax, so clipping at kmax (the extreme) clips nothing. */
    int kmax_n = ext_n > 0.0 ? (int)fmin(floor(ext_n / w) + 1.0, NB) : 0;
    int kmax_p = ext_p > 0.0 ? (int)fmin(floor(ext_p / w) + 1.0, NB) : 0;
    double total = neg->c[0] + pos->c[0];
    int kn = kmax_n, kp = kmax_p;
#define SN__ERR(kn_, kp_)                                                                         \
    (sn__clip_err(neg, kn_, sn__level(kn_, kmax_n, w, ext_n)) +                                   \
     sn__clip_err(pos, kp_, sn__level(kp_, kmax_p, w, ext_p)) +                                   \
     (total - neg->c[kn_] - pos->c[kp_]) *                                                        \
         pow((sn__level(kn_, kmax_n, w, ext_n) + sn__level(kp_, kmax_p, w, ext_p)) / 255.0, 2) /  \
         12.0)
    /* Coordinate descent: the error is unimodal enough along each side that a few rounds
     * settle (each round scans every bin of one side, O(1) per candidate). */
    for (int round = 0; round < 4; round++) {
        double best = SN__ERR(kn, kp);
        for (int k = 1; k <= kmax_p; k++) {
            double e = SN__ERR(kn, k);
            if (e < best) best = e, kp = k;
        }
        for (int k = 1; k <= kmax_n; k++) {
            double e = SN__ERR(k, kp);
            if (e < best) best = e, kn = k;
        }
    }
#undef SN__ERR
    *lo = kmax_n ? (float)-sn__level(kn, kmax_n, w, ext_n) : h->lo;
    *hi = kmax_p ? (float)sn__level(kp, kmax_p, w, ext_p) : h->hi;
    free(neg);
    free(pos);
}
