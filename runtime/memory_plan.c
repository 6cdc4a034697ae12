/*
 * memory_plan.c - greedy best-fit arena planning by size (see memory_plan.h).
 *
 * Cost is O(n^2 log n) in the number of tensors, which is nothing next to running the graph and
 * is paid once per engine. Every placed tensor ends at or below the sum of the sizes placed
 * before it, so the arena never exceeds the naive sum and overflow needs checking only there.
 */
#include "memory_plan.h"

#include <stdint.h>
#include <stdlib.h>

#include "error.h"

typedef struct sn__plan_item {
    size_t size; /* aligned */
    int first, last, index;
} sn__plan_item;

typedef struct sn__span {
    size_t off, end;
} sn__span;

/* Largest first; ties by earlier first use, then by index, so the order (and the plan) is fully
 * determined by the requests. */
static int sn__item_cmp(const void *pa, const void *pb) {
    const sn__plan_item *a = pa, *b = pb;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int sn__span_cmp(const void *pa, const void *pb) {
    const sn__span *a = pa, *b = pb;
    if (a->off != b->off) return a->off < b->off ? -1 : 1;
    return (a->end > b->end) - (a->end < b->end);
}

static int sn__overlap(const sn__plan_item *a, const sn__plan_item *b) {
    return a->first <= b->last && b->first <= a->last;
}

sn_status sn_memory_plan(const sn_mem_request *req, int n, size_t alignment, size_t *offsets,
                         size_t *arena_bytes, size_t *naive_bytes, sn_error *err) {
    if (n < 0 || (n > 0 && (!req || !offsets)) || !arena_bytes)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "memory plan: NULL or negative argument");
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "memory plan: alignment %zu is not a power of two", alignment);

    sn_status st = SN_OK;
    sn__plan_item *items = NULL;
    sn__span *spans = NULL;
    size_t naive = 0, arena = 0;
    int n_items = 0;

    if (n > 0) {
        items = malloc((size_t)n * sizeof *items);
        spans = malloc((size_t)n * sizeof *spans);
        if (!items || !spans) {
            st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "memory plan: out of memory for %d tensors",
                           n);
            goto fail;
        }
    }
    for (int i = 0; i < n; i++) {
        const sn_mem_request *r = &req[i];
        offsets[i] = 0;
        if (r->first < 0 || r->last < r->first) {
            st = sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                           "memory plan: tensor %d has lifetime [%d, %d]", i, r->first, r->last);
            goto fail;
        }
        if (r->size == 0) continue;
        if (r->size > SIZE_MAX - (alignment - 1)) goto overflow;
        size_t sz = (r->size + alignment - 1) & ~(alignment - 1);
        if (naive > SIZE_MAX - sz) goto overflow;
        naive += sz;
        items[n_items++] = (sn__plan_item){sz, r->first, r->last, i};
    }
    if (n_items > 1) qsort(items, (size_t)n_items, sizeof *items, sn__item_cmp);

    /* items[0..k) are placed; their offsets are in offsets[items[j].index]. */
    for (int k = 0; k < n_items; k++) {
        const sn__plan_item *cur = &items[k];
        int n_spans = 0;
        for (int j = 0; j < k; j++) {
            if (!sn__overlap(cur, &items[j])) continue;
            size_t off = offsets[items[j].index];
            spans[n_spans++] = (sn__span){off, off + items[j].size};
        }
        if (n_spans > 1) qsort(spans, (size_t)n_spans, sizeof *spans, sn__span_cmp);

        size_t prev_end = 0, best_off = SIZE_MAX, best_gap = SIZE_MAX;
        for (int s = 0; s < n_spans; s++) {
            if (spans[s].off > prev_end) {
                size_t gap = spans[s].off - prev_end;
                if (gap >= cur->size && gap < best_gap) {
                    best_gap = gap;
                    best_off = prev_end;
                }
            }
            if (spans[s].end > prev_end) prev_end = spans[s].end;
        }
        size_t off = best_off != SIZE_MAX ? best_off : prev_end;
        offsets[cur->index] = off;
        if (off + cur->size > arena) arena = off + cur->size;
    }

    *arena_bytes = arena;
    if (naive_bytes) *naive_bytes = naive;
    free(items);
    free(spans);
    return SN_OK;

overflow:
    st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                   "memory plan: activation sizes overflow the address space");
fail:
    free(items);
    free(spans);
    return st;
}
