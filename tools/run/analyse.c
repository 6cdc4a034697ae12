/*
 * analyse.c - what one output of one input says: the top-k classes of a vector of class scores
 * (softmax applied when the values are not already probabilities), or, for any other tensor
 * or for scores with NaN/Inf that cannot be ranked, a summary (min, max, mean, non-finite count).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "run.h"

/* Class scores: one sample is a vector of at least 2 values (any other dims are 1). */
static int class_count(const sn_tensor_info *t, size_t n) {
    int big = 0;
    for (int i = 1; i < t->rank; i++)
        if (t->dims[i] > 1) big++;
    return big <= 1 && n >= 2 && n <= INT_MAX ? (int)n : 0;
}

void run_analyse(const sn_tensor_info *t, const float *x, size_t n, int top, run_verdict *v) {
    memset(v, 0, sizeof *v);
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    int probs = 1;
    for (size_t i = 0; i < n; i++) {
        double f = x[i];
        if (!isfinite(f)) {
            v->nonfinite++;
            continue;
        }
        sum += f;
        mn = f < mn ? f : mn;
        mx = f > mx ? f : mx;
        if (f < -1e-6 || f > 1 + 1e-6) probs = 0;
    }
    size_t finite = n - v->nonfinite;
    v->min = finite ? mn : NAN;
    v->max = finite ? mx : NAN;
    v->mean = finite ? sum / (double)finite : NAN;
    int k = class_count(t, n);
    if (!k || v->nonfinite) return; /* NaN scores cannot be ranked: summarise instead */
    v->classes = k;
    v->is_softmax = !(probs && fabs(sum - 1.0) <= 1e-3);
    v->n_top = top < k ? top : k;
    v->top = run_xcalloc((size_t)v->n_top, sizeof *v->top);
    /* Softmax keeps the order, so rank the raw values, then convert only the winners. */
    int have = 0;
    for (int c = 0; c < k; c++) {
        if (have == v->n_top && x[c] <= v->top[have - 1].score) continue;
        int at = have < v->n_top ? have++ : have - 1;
        while (at > 0 && v->top[at - 1].score < x[c]) {
            v->top[at] = v->top[at - 1];
            at--;
        }
        v->top[at].cls = c;
        v->top[at].score = x[c];
    }
    if (v->is_softmax) {
        double z = 0;
        for (int c = 0; c < k; c++) z += exp((double)x[c] - mx);
        for (int j = 0; j < v->n_top; j++) v->top[j].score = exp(v->top[j].score - mx) / z;
    }
}
