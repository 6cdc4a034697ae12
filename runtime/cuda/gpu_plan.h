/*
 * gpu_plan.h - where every tensor of a graph lives on the GPU, decided once per engine.
 *
 * Execution is a list of steps: step 0 turns the graph inputs (packed f32 in the device input
 * block) into their storage; steps 1..n_order run the nodes in order; the last step fills the
 * device output block. A tensor is
 *   CONST   a weight, in the weight buffer (converted to the storage type);
 *   INPUT   a graph input read in place from the input block (fp32 storage only);
 *   OUTPUT  a graph output written in place into the output block by its node (fp32 only);
 *   ARENA   an activation in the arena, at an offset planned from its lifetime by
 *           sn_memory_plan (memory_plan.h) - with half storage, graph inputs and outputs are
 *           ARENA tensors too, filled / read by cast kernels at the first / last step;
 *   ALIAS   the output of Reshape, Flatten or Identity: the same bytes as `root`, whose
 *           lifetime is stretched over the alias's readers.
 * Graph outputs that are not written in place (an input, a constant, an alias, a repeat, or any
 * output with half storage) are copied or cast into the output block at the last step.
 */
#ifndef SN_GPU_PLAN_H
#define SN_GPU_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"

enum { SN_GT_UNUSED = 0, SN_GT_CONST, SN_GT_INPUT, SN_GT_OUTPUT, SN_GT_ARENA, SN_GT_ALIAS };

#define SN_GPU_ALIGN 256 /* arena offsets and block regions: what cudaMalloc guarantees */

typedef struct sn_gpu_plan {
    int n_tensors;
    int *order, n_order; /* node indices in execution order (step i+1 runs order[i]) */
    unsigned char *role; /* per tensor: SN_GT_* */
    int *root;           /* per tensor: the tensor whose storage it uses (itself unless ALIAS) */
    int *slot;           /* per tensor: graph input / output index for INPUT / OUTPUT */
    int *first, *last;   /* per root: steps writing and last reading it (ARENA) */
    size_t *bytes;       /* per root: storage bytes at max_batch (ARENA) */
    size_t *offset;      /* per root: arena offset (ARENA) */
    size_t arena_bytes, naive_bytes;
    size_t elem;   /* bytes per stored element (4 or 2) */
    bool half;     /* elem == 2: graph inputs and outputs are cast */
    int last_step; /* n_order + 1 */
} sn_gpu_plan;

/* Plan g (validated, shapes inferred) for batches up to max_batch with `elem`-byte storage.
 * SN_ERR_GRAPH for a malformed graph, SN_ERR_OUT_OF_MEMORY. */
sn_status sn_gpu_plan_make(const sn_graph *g, int max_batch, size_t elem, sn_gpu_plan *p,
                           sn_error *err);
void sn_gpu_plan_free(sn_gpu_plan *p);

#endif
