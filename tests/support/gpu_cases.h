/*
 * gpu_cases.h - one table of small single-purpose graphs covering every op and attribute the GPU
 * code generator handles (each conv variant and activation, pools, broadcasting, data movement,
 * dense, softmax, resize...). It drives the NVRTC compile tests (tests/test_cuda_compile.c),
 * which need no GPU, and the GPU-against-CPU tests (tests/test_gpu_ops.c), which do.
 *
 * Every case takes "x" f32 [N,C,H,W] with a dynamic batch (some a second input "x2") and has
 * one or more graph outputs. Weights are fixed per case (seeded by its name); inputs are the
 * caller's.
 */
#ifndef SN_GPU_CASES_H
#define SN_GPU_CASES_H

#include "graph.h"

int sn_gpu_case_count(void);
const char *sn_gpu_case_name(int i);
/* Build case i into a new graph (validated, shapes inferred); the caller destroys it. */
sn_status sn_gpu_case_build(int i, sn_graph **out, sn_error *err);

/* The zoo model `name` after sn_graph_optimize (the graph a GPU engine runs). */
sn_status sn_gpu_zoo_optimized(const char *name, sn_graph **out, sn_error *err);

#endif
