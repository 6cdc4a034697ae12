/*
 * pad.h - CPU kernel for Pad: constant, reflect and edge modes over any rank.
 */
#ifndef SN_CPU_PAD_H
#define SN_CPU_PAD_H

#include <stdint.h>

typedef enum sn_pad_mode {
    SN_PAD_CONSTANT = 0, /* fill with a value */
    SN_PAD_REFLECT = 1,  /* mirror without repeating the edge: [1,2,3] pad 2 -> 3,2,[1,2,3],2,1 */
    SN_PAD_EDGE = 2      /* repeat the edge element */
} sn_pad_mode;

/* Output dim i is dims[i] + pads[i] + pads[rank + i]. The caller has checked that pads are
 * non-negative, that reflect pads are < the dim, and that edge/reflect dims are non-empty. */
void sn_cpu_pad_f32(const float *x, int rank, const int64_t *dims, const int64_t *pads,
                    sn_pad_mode mode, float value, float *y, int threads);

#endif
