/*
 * options.c - sentinel-run's command line: the model, the inputs, and the options. Options the
 * input sources declare (run.h: --random, --seed, and those of sources added later) are looked
 * up in the source table and handed to their source, so adding a source never touches this file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: " PROG " MODEL.sgraph|MODEL.onnx [INPUT...] [options]\n"
        "Runs a Sentinel model on images, video frames, camera frames, .npy tensors or random\n"
        "inputs and prints the top classes of each.\n"
        "\n"
        "Inputs:\n");
    run_sources_usage(f, 1);
    fprintf(f,
        "Options:\n"
        "  --device D        auto (default: the GPU if usable, else the CPU), cpu or gpu\n"
        "  --batch N         samples per run, 1..4096 (default 8)\n"
        "  --threads N       CPU threads of the engine, 0..4096 (default 0: all cores)\n"
        "  --decode-threads N  threads decoding images, 0..256 (default 0: one per core on a\n"
        "                    GPU, half the cores beside a CPU engine, at most %d); about 3\n"
        "                    batches are decoded ahead of the engine\n"
        "  --layout L        compute in nchw or nhwc (default: the device's choice)\n"
        "  --precision P     GPU storage and math: fp32 (default), tf32, fp16 or bf16; the CPU\n"
        "                    always computes in fp32\n"
        "  --no-optimize     run the graph exactly as loaded (no fusion, no folding)\n"
        "  --top K           classes to show per input, 1..1000 (default 5)\n",
        RUN_MAX_DEFAULT_DECODE_THREADS);
    run_sources_usage(f, 0);
    fprintf(f,
        "  --max-pixels N    refuse images whose width x height, as the file declares it, is\n"
        "                    over N, before decoding (default %llu: 8192x8192); a guard\n"
        "                    against decompression bombs, to raise for larger photos\n"
        "  -o, --output FILE write one JSON record per input (JSON Lines) to FILE\n"
        "  --save-npy DIR    write each output of each input to DIR as .npy\n"
        "  --stats           print throughput, batch latency percentiles, decoding, the\n"
        "                    engine's idle share, transfers per batch and memory\n"
        "  --quiet           print only errors (and --stats)\n"
        "  --help, --version\n"
        "A bad input (unreadable, corrupt, truncated, unsupported or over --max-pixels) is\n"
        "reported with its reason and skipped; the rest still run. Ctrl-C stops the run: the\n"
        "batch in progress finishes and every result so far is written.\n"
        "Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error or unusable model\n"
        "or device, 130 stopped by Ctrl-C.\n",
        (unsigned long long)SN_IMAGE_DEFAULT_MAX_PIXELS);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n" "Try '" PROG " --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

int run_parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s || (!isdigit((unsigned char)s[0]) && s[0] != '-' && s[0] != '+')) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int run_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (!s || !isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Options of the program itself that take a value. */
static const char *const valued[] = {"--device",   "--batch",       "--threads",
                                     "--top",      "--output",      "-o",
                                     "--save-npy", "--max-pixels",  "--layout",
                                     "--precision", "--decode-threads"};

/* One valued option of the program's own; returns -1 when fine, else the exit status. */
static int set_own_option(run_options *o, const char *name, const char *val) {
    if (!strcmp(name, "--device")) {
        if (!strcmp(val, "auto"))
            o->device = SN_DEVICE_AUTO;
        else if (!strcmp(val, "cpu"))
            o->device = SN_DEVICE_CPU;
        else if (!strcmp(val, "gpu"))
            o->device = SN_DEVICE_GPU;
        else
            return usage_error("--device must be auto, cpu or gpu, not '%s'", val);
    } else if (!strcmp(name, "--batch")) {
        if (run_parse_long(val, 1, 4096, &o->batch))
            return usage_error("--batch must be an integer in 1..4096, not '%s'", val);
        o->batch_given = 1;
    } else if (!strcmp(name, "--threads")) {
        if (run_parse_long(val, 0, 4096, &o->threads))
            return usage_error("--threads must be an integer in 0..4096, not '%s'", val);
    } else if (!strcmp(name, "--decode-threads")) {
        if (run_parse_long(val, 0, 256, &o->decode_threads))
            return usage_error("--decode-threads must be an integer in 0..256, not '%s'", val);
    } else if (!strcmp(name, "--top")) {
        if (run_parse_long(val, 1, 1000, &o->top))
            return usage_error("--top must be an integer in 1..1000, not '%s'", val);
    } else if (!strcmp(name, "--max-pixels")) {
        if (run_parse_u64(val, 1, UINT64_C(1) << 40, &o->max_pixels))
            return usage_error("--max-pixels must be an integer in 1..2^40, not '%s'", val);
    } else if (!strcmp(name, "--layout")) {
        if (!strcmp(val, "nchw"))
            o->layout = SN_LAYOUT_NCHW;
        else if (!strcmp(val, "nhwc"))
            o->layout = SN_LAYOUT_NHWC;
        else
            return usage_error("--layout must be nchw or nhwc, not '%s'", val);
    } else if (!strcmp(name, "--precision")) {
        static const char *const names[] = {"fp32", "tf32", "fp16", "bf16"};
        int k = 0;
        while (k < 4 && strcmp(val, names[k])) k++;
        if (k == 4)
            return usage_error("--precision must be fp32, tf32, fp16 or bf16, not '%s'", val);
        o->precision = (sn_precision)k;
    } else if (!strcmp(name, "--output") || !strcmp(name, "-o")) {
        o->output = val;
    } else {
        o->save_dir = val;
    }
    return -1;
}

int run_parse_args(int argc, char **argv, run_options *o) {
    o->device = SN_DEVICE_AUTO;
    o->batch = 8;
    o->top = 5;
    o->max_pixels = SN_IMAGE_DEFAULT_MAX_PIXELS;
    o->inputs = run_xcalloc((size_t)argc, sizeof *o->inputs);
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || !strcmp(a, "-")) {
            if (!o->model)
                o->model = a;
            else
                o->inputs[o->n_inputs++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf(PROG " %s\n", sn_version_string());
            return 0;
        }
        if (!strcmp(a, "--stats")) {
            o->stats = 1;
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(a, "--no-optimize")) {
            o->no_optimize = 1;
            continue;
        }
        /* Options with a value: "--name value" or "--name=value". */
        const char *name = NULL, *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        int own = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
            if (strlen(valued[k]) == nlen && !strncmp(a, valued[k], nlen)) name = valued[k];
        own = name != NULL;
        if (!name) name = run_sources_find_option(a, nlen);
        if (!name) {
            char namebuf[32];
            snprintf(namebuf, sizeof namebuf, "%.*s", (int)(nlen < 24 ? nlen : 24), a);
            return usage_error("unknown option '%s'", namebuf);
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return usage_error("option %s needs a value", name);
        if (!*val) return usage_error("option %s needs a value", name);
        if (own) {
            int rc = set_own_option(o, name, val);
            if (rc >= 0) return rc;
        } else {
            char why[256];
            if (run_sources_set_option(name, val, why, sizeof why) != 0)
                return usage_error("%s", why);
        }
    }
    if (!o->model) return usage_error("no model given");
    if (o->no_optimize && o->layout == SN_LAYOUT_NHWC)
        return usage_error("--layout nhwc converts the graph, which --no-optimize rules out");
    if (o->n_inputs == 0 && !run_sources_have_option_input())
        return usage_error("no inputs given (images, folders, videos, .npy files, --camera DEV "
                           "or --random N)");
    return -1;
}
