/*
 * binary.h - CPU kernels for the elementwise binary ops (Add, Sub, Mul, Div) with numpy
 * broadcasting, and the broadcast shape rule itself (shared with the op definitions).
 */
#ifndef SN_CPU_BINARY_H
#define SN_CPU_BINARY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum sn_binary_op {
    SN_BINARY_ADD = 0,
    SN_BINARY_SUB = 1,
    SN_BINARY_MUL = 2,
    SN_BINARY_DIV = 3
} sn_binary_op;

/* numpy broadcasting of two shapes (right-aligned; each dim pair equal or one of them 1).
 * Fills *ry = max(ra, rb) and dy; false when the shapes are incompatible. */
bool sn_broadcast_shape(int ra, const int64_t *da, int rb, const int64_t *db, int *ry,
                        int64_t *dy);

/* y = a op b with broadcasting; y has the broadcast shape. Returns false (writing nothing) when
 * the shapes do not broadcast or a rank exceeds SN_MAX_RANK. */
bool sn_cpu_binary_f32(sn_binary_op op, const float *a, int ra, const int64_t *da, const float *b,
                       int rb, const int64_t *db, float *y, int threads);

#endif
