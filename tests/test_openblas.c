/*
 * test_openblas.c - the programs run the OpenBLAS they were built for. Built against Debian's
 * OpenMP build (SENTINEL_OPENBLAS_OPENMP, chosen in CMakeLists.txt), they must load it and not
 * the pthread build that the system's alternative for libopenblas.so.0 may name: beside the CPU
 * backend's OpenMP threads the pthread build's own spinning pool served 3x-7.5x fewer images/s
 * on 2 threads (bench/RESULTS.md). The executable is linked like every program, so its RUNPATH is theirs.
 */
#include <cblas.h>
#include <criterion/criterion.h>

Test(openblas, the_threading_the_build_chose) {
    int kind = openblas_get_parallel(); /* 0 sequential, 1 pthreads, 2 OpenMP */
#ifdef SENTINEL_OPENBLAS_OPENMP
    cr_assert_eq(kind, 2,
                 "the OpenBLAS loaded reports threading %d (0 none, 1 pthreads, 2 OpenMP), not "
                 "the OpenMP build it was linked with: %s",
                 kind, openblas_get_config());
#else
    cr_skip_test("built against the pthread OpenBLAS (threading %d): libopenblas-openmp-dev was "
                 "not installed at configure time",
                 kind);
#endif
}
