/*
 * sentinel_bench.c - `sentinel-bench COMMAND ...`: benchmarks that need the runtime's internals
 * and a GPU. One command so far:
 *
 *   sentinel-bench kernels ...   each CUDA kernel family at the zoo's layer shapes against the
 *                                roofline and cuDNN / cuBLAS (kbench_main.c; --help for options)
 *
 * The end-to-end comparison with other frameworks is bench/e2e/run_all.sh (e2e_sentinel is its
 * Sentinel side); the CPU backend has sentinel-bench-cpu.
 * Exit status: the command's, or 2 for an unknown command.
 */
#include <stdio.h>
#include <string.h>

int sn_kbench_main(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f, "usage: sentinel-bench kernels [options]   (sentinel-bench kernels --help)\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "kernels")) return sn_kbench_main(argc - 2, argv + 2);
    fprintf(stderr, "sentinel-bench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
