/*
 * memory_plan.h - the activation memory planner: byte offsets in one arena for tensors with
 * known sizes and lifetimes, so tensors that are never live at the same time share bytes.
 *
 * Lifetimes are inclusive step ranges in the execution order: a tensor is live from the step
 * that writes it to the last step that reads it. Two tensors whose ranges share a step never
 * share bytes (no in-place reuse), so a node's inputs and outputs are always disjoint.
 *
 * The placement is greedy by size, largest first, each tensor going into the smallest gap left
 * between the already placed tensors it conflicts with (best fit), or above the highest of them
 * when no gap fits - the scheme of TVM's storage planner, ggml's graph allocator and TFLite's
 * "greedy by size" arena planner. It is deterministic: equal inputs give equal offsets.
 */
#ifndef SN_MEMORY_PLAN_H
#define SN_MEMORY_PLAN_H

#include <stddef.h>

#include "sentinel.h"

#define SN_ARENA_ALIGNMENT 64

typedef struct sn_mem_request {
    size_t size; /* bytes; 0 means the tensor needs no storage (it gets offset 0) */
    int first;   /* the step that writes it */
    int last;    /* the last step that reads it; >= first */
} sn_mem_request;

/* Plan n requests. offsets[i] receives request i's offset (a multiple of `alignment`, which must
 * be a power of two); *arena_bytes the arena size (a multiple of alignment; 0 when nothing needs
 * storage); *naive_bytes (optional) the sum of the aligned sizes, i.e. the arena without reuse.
 * Fails with SN_ERR_INVALID_ARGUMENT on a bad request and SN_ERR_OUT_OF_MEMORY when sizes
 * overflow or the planner's own bookkeeping cannot be allocated. */
sn_status sn_memory_plan(const sn_mem_request *req, int n, size_t alignment, size_t *offsets,
                         size_t *arena_bytes, size_t *naive_bytes, sn_error *err);

#endif
