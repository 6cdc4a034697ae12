// concat.cu - one input of a Concat: x viewed as [outer, SN_CHUNK] is copied into y viewed as
// [outer, SN_YCHUNK] at column SN_OFFSET (SN_CHUNK = the input's axis length times the inner
// size). One launch per input; outer = n * SN_OUTER when SN_BATCHED, else SN_OUTER.
// grid ceil(outer*SN_CHUNK / SN_THREADS), block SN_THREADS.

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_concat_part(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx outer = SN_BATCHED ? (sn_idx)n * SN_OUTER : (sn_idx)SN_OUTER;
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= outer * SN_CHUNK) return;
    const sn_idx o = i / SN_CHUNK, k = i % SN_CHUNK;
    y[o * SN_YCHUNK + SN_OFFSET + k] = x[i];
}
