/*
 * sentinel-run - run a .sgraph model on images, .npy tensors or random inputs.
 *
 *   sentinel-run MODEL.sgraph [inputs...] [options]      (sentinel-run --help for the options)
 *
 * Inputs are JPEG/PNG files (format from the bytes), folders of them (sorted, not recursive,
 * only *.jpg *.jpeg *.png), .npy tensors (one sample [C,H,W] or a batch [N,C,H,W] matching the
 * model input) and --random N seeded samples. Images are decoded and preprocessed as the
 * model's metadata says (loader/preprocess.h), then run in batches through the public engine
 * API. Per input: the top-k classes on stdout (or a tensor summary for outputs that are not
 * class scores), a JSON Lines record with --output, .npy files with --save-npy. The engine runs
 * an optimised copy of the graph (--layout nhwc converts it to channels-last) unless
 * --no-optimize asks for the graph exactly as loaded, for comparison.
 *
 * A bad input is reported on stderr by name and reason and skipped; the rest still run.
 * Exit status: 0 when every input succeeded, 1 when some failed, 2 for a usage error or a model
 * or device that cannot be used.
 *
 * Layout of this file: options; gathering inputs; output analysis (class scores or summary)
 * and the writers (human, JSON Lines, .npy); the batch loop with progress and statistics.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "npy.h"
#include "preprocess.h"
#include "sentinel.h"

#define PROG "sentinel-run"
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

/* --- small utilities --------------------------------------------------------------------- */

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(EXIT_USAGE);
    }
    return p;
}

static char *xstrdup(const char *s) {
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(EXIT_USAGE);
    }
    return p;
}

static char *xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(EXIT_USAGE);
    }
    return s;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The progress bar shares stderr with messages: a message first clears the bar's line. */
static int g_progress_shown;

static void clear_progress(void) {
    if (g_progress_shown) {
        fputs("\r\033[K", stderr);
        g_progress_shown = 0;
    }
}

static void say(const char *fmt, ...) {
    clear_progress();
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* --- options ----------------------------------------------------------------------------- */

typedef struct options {
    const char *model;
    const char **inputs;
    int n_inputs;
    sn_device device;
    long batch, threads, top, random_n;
    int batch_given;
    uint64_t seed, max_pixels;
    const char *output, *save_dir;
    int stats, quiet, no_optimize;
    sn_layout layout;
    sn_precision precision;
} options;

static void usage(FILE *f) {
    fprintf(f,
        "usage: " PROG " MODEL.sgraph|MODEL.onnx [INPUT...] [options]\n"
        "Runs a Sentinel model on images, .npy tensors or random inputs and prints the top\n"
        "classes of each.\n"
        "\n"
        "Inputs:\n"
        "  FILE.jpg/.png     an image (JPEG or PNG, found from its bytes)\n"
        "  DIR               every *.jpg, *.jpeg, *.png in DIR, sorted (not recursive)\n"
        "  FILE.npy          float32 '<f4' tensor: one sample [C,H,W] or a batch [N,C,H,W]\n"
        "  --random N        N random samples (uniform in [-1,1)), seeded by --seed\n"
        "Options:\n"
        "  --device D        auto (default: the GPU if usable, else the CPU), cpu or gpu\n"
        "  --batch N         samples per run, 1..4096 (default 8)\n"
        "  --threads N       CPU threads, 0..4096 (default 0: all cores)\n"
        "  --layout L        compute in nchw or nhwc (default: the device's choice)\n"
        "  --precision P     GPU storage and math: fp32 (default), tf32, fp16 or bf16; the CPU\n"
        "                    always computes in fp32\n"
        "  --no-optimize     run the graph exactly as loaded (no fusion, no folding)\n"
        "  --top K           classes to show per input, 1..1000 (default 5)\n"
        "  --seed S          seed for --random (default 0)\n"
        "  --max-pixels N    refuse images with more pixels than N (default %llu)\n"
        "  -o, --output FILE write one JSON record per input (JSON Lines) to FILE\n"
        "  --save-npy DIR    write each output of each input to DIR as .npy\n"
        "  --stats           print throughput, per-batch latency percentiles and memory\n"
        "  --quiet           print only errors (and --stats)\n"
        "  --help, --version\n"
        "Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error or unusable model\n"
        "or device.\n",
        (unsigned long long)SN_IMAGE_DEFAULT_MAX_PIXELS);
}

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n" "Try '" PROG " --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* A decimal integer in [lo, hi] and nothing else (no spaces, no trailing text). */
static int parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s || (!isdigit((unsigned char)s[0]) && s[0] != '-' && s[0] != '+')) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (!s || !isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, options *o) {
    o->device = SN_DEVICE_AUTO;
    o->batch = 8;
    o->top = 5;
    o->max_pixels = SN_IMAGE_DEFAULT_MAX_PIXELS;
    o->inputs = xcalloc((size_t)argc, sizeof *o->inputs);
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
        static const char *const valued[] = {"--device", "--batch", "--threads", "--top",
                                             "--seed",   "--random", "--output", "-o",
                                             "--save-npy", "--max-pixels", "--layout",
                                             "--precision"};
        const char *name = NULL, *val = NULL;
        char namebuf[32];
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
            if (strlen(valued[k]) == nlen && !strncmp(a, valued[k], nlen)) name = valued[k];
        if (!name) {
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
            if (parse_long(val, 1, 4096, &o->batch))
                return usage_error("--batch must be an integer in 1..4096, not '%s'", val);
            o->batch_given = 1;
        } else if (!strcmp(name, "--threads")) {
            if (parse_long(val, 0, 4096, &o->threads))
                return usage_error("--threads must be an integer in 0..4096, not '%s'", val);
        } else if (!strcmp(name, "--top")) {
            if (parse_long(val, 1, 1000, &o->top))
                return usage_error("--top must be an integer in 1..1000, not '%s'", val);
        } else if (!strcmp(name, "--random")) {
            if (parse_long(val, 1, 1000000, &o->random_n))
                return usage_error("--random must be an integer in 1..1000000, not '%s'", val);
        } else if (!strcmp(name, "--seed")) {
            if (parse_u64(val, 0, UINT64_MAX, &o->seed))
                return usage_error("--seed must be an unsigned integer, not '%s'", val);
        } else if (!strcmp(name, "--max-pixels")) {
            if (parse_u64(val, 1, UINT64_C(1) << 40, &o->max_pixels))
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
            if (k == 4) return usage_error("--precision must be fp32, tf32, fp16 or bf16, not '%s'", val);
            o->precision = (sn_precision)k;
        } else if (!strcmp(name, "--output") || !strcmp(name, "-o")) {
            o->output = val;
        } else {
            o->save_dir = val;
        }
    }
    if (!o->model) return usage_error("no model given");
    if (o->no_optimize && o->layout == SN_LAYOUT_NHWC)
        return usage_error("--layout nhwc converts the graph, which --no-optimize rules out");
    if (o->n_inputs == 0 && o->random_n == 0)
        return usage_error("no inputs given (images, folders, .npy files or --random N)");
    return -1;
}

/* --- the model's input and outputs -------------------------------------------------------- */

typedef struct model_io {
    sn_tensor_info in;
    int fixed_batch;           /* the input's dim 0 is a fixed 1, not SN_DIM_BATCH */
    int sample_rank;           /* rank of one sample: in.rank - 1 */
    int64_t sample_dims[SN_MAX_RANK];
    size_t sample_floats;
    int image_ok;              /* rank 4 with 3 channels, and usable preprocessing */
    char no_images[SN_ERROR_MESSAGE_SIZE + 64]; /* why not, when !image_ok */
    sn_layout layout;
    sn_preprocess pre;
    int n_out;
    sn_tensor_info *out;
    size_t *out_floats;        /* per sample */
} model_io;

static char *format_dims(const int64_t *d, int rank, int batch_first) {
    char buf[256];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "[");
    for (int i = 0; i < rank && n < sizeof buf; i++) {
        if (i == 0 && batch_first)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "N");
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld", i ? "," : "",
                                  (long long)d[i]);
    }
    if (n < sizeof buf) snprintf(buf + n, sizeof buf - n, "]");
    return xstrdup(buf);
}

/* Checks what sentinel-run can feed; on failure prints why and returns non-zero. */
static int describe_model(const sn_model *m, const char *path, model_io *io) {
    int nin = sn_model_input_count(m);
    if (nin != 1) {
        say("error: %s has %d inputs; " PROG " feeds models with exactly one", path, nin);
        return -1;
    }
    sn_model_input_info(m, 0, &io->in);
    if (io->in.dtype != SN_DTYPE_F32) {
        say("error: %s: input '%s' is %s; " PROG " feeds float32 inputs only", path,
            io->in.name, sn_dtype_name(io->in.dtype));
        return -1;
    }
    if (io->in.rank < 1 || (io->in.dims[0] != SN_DIM_BATCH && io->in.dims[0] != 1)) {
        char *s = format_dims(io->in.dims, io->in.rank, 0);
        say("error: %s: input '%s' %s has no batch dimension (dynamic or 1)", path, io->in.name,
            s);
        free(s);
        return -1;
    }
    io->fixed_batch = io->in.dims[0] != SN_DIM_BATCH;
    io->sample_rank = io->in.rank - 1;
    io->sample_floats = 1;
    for (int i = 1; i < io->in.rank; i++) {
        io->sample_dims[i - 1] = io->in.dims[i];
        io->sample_floats *= (size_t)io->in.dims[i];
    }
    io->layout = io->in.layout == SN_LAYOUT_NHWC ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    int64_t c = -1, h = 0, w = 0;
    if (io->in.rank == 4) {
        if (io->layout == SN_LAYOUT_NHWC)
            h = io->in.dims[1], w = io->in.dims[2], c = io->in.dims[3];
        else
            c = io->in.dims[1], h = io->in.dims[2], w = io->in.dims[3];
    }
    io->image_ok = c == 3;
    if (io->image_ok) {
        sn_preprocess meta;
        sn_error err = {0};
        if (sn_model_preprocess(m, &meta) != SN_OK) meta.present = 0;
        /* Fatal only when images are given: .npy and --random inputs need no preprocessing. */
        if (sn_preprocess_resolve(&meta, h, w, &io->pre, &err) != SN_OK) {
            io->image_ok = 0;
            snprintf(io->no_images, sizeof io->no_images, "the model's preprocessing metadata "
                     "is unusable: %s", err.message);
        }
    } else {
        char *s = format_dims(io->in.dims, io->in.rank, !io->fixed_batch);
        snprintf(io->no_images, sizeof io->no_images,
                 "the model input %s is not a 3-channel image; give .npy files or --random", s);
        free(s);
    }
    io->n_out = sn_model_output_count(m);
    io->out = xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *io->out);
    io->out_floats = xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *io->out_floats);
    for (int k = 0; k < io->n_out; k++) {
        sn_model_output_info(m, k, &io->out[k]);
        if (io->out[k].dtype != SN_DTYPE_F32) {
            say("error: %s: output '%s' is %s; " PROG " reads float32 outputs only", path,
                io->out[k].name, sn_dtype_name(io->out[k].dtype));
            return -1;
        }
    }
    return 0;
}

/* --- gathering inputs -------------------------------------------------------------------- */

typedef enum item_kind { ITEM_IMAGE, ITEM_NPY, ITEM_RANDOM } item_kind;

typedef struct item {
    item_kind kind;
    char *name;  /* shown and recorded: the path, "random:i" or "file.npy[i]" */
    char *path;  /* the file, for images and .npy */
    int npy;     /* index into the loaded .npy table */
    int64_t sub; /* sample within the .npy batch, or the random index */
    int batch_file; /* the .npy held a batch (name has [i]) */
    char *error; /* why it failed (malloc'ed), NULL while fine */
} item;

typedef struct inputs {
    item *items;
    size_t n, cap;
    sn_npy *npys;
    int n_npy, cap_npy;
} inputs;

static item *add_item(inputs *in, item_kind kind, char *name, const char *path) {
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 64;
        item *grown = realloc(in->items, in->cap * sizeof *grown);
        if (!grown) {
            fprintf(stderr, PROG ": out of memory\n");
            exit(EXIT_USAGE);
        }
        in->items = grown;
    }
    item *it = &in->items[in->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->name = name;
    it->path = path ? xstrdup(path) : NULL;
    return it;
}

static int has_ext(const char *name, const char *ext) {
    size_t a = strlen(name), b = strlen(ext);
    return a > b && !strcasecmp(name + a - b, ext);
}

static int is_image_name(const char *name) {
    return has_ext(name, ".jpg") || has_ext(name, ".jpeg") || has_ext(name, ".png");
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_folder(inputs *in, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        add_item(in, ITEM_IMAGE, xstrdup(dir), dir)->error =
            xasprintf("cannot read the folder: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        char *path = xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                fprintf(stderr, PROG ": out of memory\n");
                exit(EXIT_USAGE);
            }
            names = grown;
        }
        names[n++] = path;
    }
    closedir(d);
    if (n == 0)
        add_item(in, ITEM_IMAGE, xstrdup(dir), dir)->error =
            xstrdup("the folder has no .jpg, .jpeg or .png files");
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        add_item(in, ITEM_IMAGE, names[i], names[i]);
    }
    free(names);
}

/* A .npy file: one sample or a batch of them, checked against the model's sample shape. */
static void add_npy(inputs *in, const char *path, const model_io *io) {
    sn_npy a;
    sn_error err = {0};
    if (sn_npy_read_file(path, &a, &err) != SN_OK) {
        add_item(in, ITEM_NPY, xstrdup(path), path)->error = xstrdup(err.message);
        return;
    }
    int batch = 0;
    if (a.rank == io->sample_rank)
        batch = 0;
    else if (a.rank == io->sample_rank + 1)
        batch = 1;
    else
        batch = -1;
    for (int i = 0; batch >= 0 && i < io->sample_rank; i++)
        if (a.dims[i + batch] != io->sample_dims[i]) batch = -1;
    if (batch < 0 || (batch == 1 && a.dims[0] == 0)) {
        char *got = format_dims(a.dims, a.rank, 0), *want = format_dims(io->in.dims,
                                                                         io->in.rank, 1);
        add_item(in, ITEM_NPY, xstrdup(path), path)->error =
            a.rank > 0 && batch == 1
                ? xasprintf("the array %s holds no samples", got)
                : xasprintf("the array is %s; the model input is %s (give one sample or a batch)",
                            got, want);
        free(got);
        free(want);
        sn_npy_free(&a);
        return;
    }
    if (in->n_npy == in->cap_npy) {
        in->cap_npy = in->cap_npy ? in->cap_npy * 2 : 8;
        sn_npy *grown = realloc(in->npys, (size_t)in->cap_npy * sizeof *grown);
        if (!grown) {
            fprintf(stderr, PROG ": out of memory\n");
            exit(EXIT_USAGE);
        }
        in->npys = grown;
    }
    in->npys[in->n_npy] = a;
    int64_t count = batch ? a.dims[0] : 1;
    for (int64_t s = 0; s < count; s++) {
        item *it = add_item(in, ITEM_NPY,
                            batch ? xasprintf("%s[%lld]", path, (long long)s) : xstrdup(path),
                            path);
        it->npy = in->n_npy;
        it->sub = s;
        it->batch_file = batch;
    }
    in->n_npy++;
}

/* Returns non-zero (after saying why) when images are given to a model that cannot take them. */
static int gather(const options *o, const model_io *io, inputs *in) {
    for (int i = 0; i < o->n_inputs; i++) {
        const char *p = o->inputs[i];
        struct stat st;
        if (stat(p, &st) != 0) {
            add_item(in, has_ext(p, ".npy") ? ITEM_NPY : ITEM_IMAGE, xstrdup(p), p)->error =
                xasprintf("cannot open: %s", strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            add_folder(in, p);
        } else if (has_ext(p, ".npy")) {
            add_npy(in, p, io);
        } else {
            add_item(in, ITEM_IMAGE, xstrdup(p), p);
        }
    }
    for (long r = 0; r < o->random_n; r++) add_item(in, ITEM_RANDOM, xasprintf("random:%ld", r),
                                                    NULL)->sub = r;
    if (!io->image_ok)
        for (size_t i = 0; i < in->n; i++)
            if (in->items[i].kind == ITEM_IMAGE && !in->items[i].error) {
                say("error: %s: %s", in->items[i].name, io->no_images);
                return -1;
            }
    return 0;
}

/* --- what an output says: class scores or a tensor summary -------------------------------- */

typedef struct scored {
    int cls;
    double score;
} scored;

typedef struct verdict {
    int classes;     /* number of classes; 0 when the output is summarised instead */
    int is_softmax;  /* scores are softmax(logits), not the output's own probabilities */
    int n_top;
    scored *top;     /* n_top best, highest first */
    double min, max, mean;
    size_t nonfinite;
} verdict;

/* Class scores: one sample is a vector of at least 2 values (any other dims are 1). */
static int class_count(const sn_tensor_info *t, size_t n) {
    int big = 0;
    for (int i = 1; i < t->rank; i++)
        if (t->dims[i] > 1) big++;
    return big <= 1 && n >= 2 && n <= INT_MAX ? (int)n : 0;
}

static void analyse(const sn_tensor_info *t, const float *x, size_t n, int top, verdict *v) {
    memset(v, 0, sizeof *v);
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    int probs = 1;
    for (size_t i = 0; i < n; i++) {
        double f = x[i];
        if (!isfinite(f)) {
            v->nonfinite++;
            continue;
        }
        sum += f;
        mn = f < mn ? f : mn;
        mx = f > mx ? f : mx;
        if (f < -1e-6 || f > 1 + 1e-6) probs = 0;
    }
    size_t finite = n - v->nonfinite;
    v->min = finite ? mn : NAN;
    v->max = finite ? mx : NAN;
    v->mean = finite ? sum / (double)finite : NAN;
    int k = class_count(t, n);
    if (!k || v->nonfinite) return; /* NaN scores cannot be ranked: summarise instead */
    v->classes = k;
    v->is_softmax = !(probs && fabs(sum - 1.0) <= 1e-3);
    v->n_top = top < k ? top : k;
    v->top = xcalloc((size_t)v->n_top, sizeof *v->top);
    /* Softmax keeps the order, so rank the raw values, then convert only the winners. */
    int have = 0;
    for (int c = 0; c < k; c++) {
        if (have == v->n_top && x[c] <= v->top[have - 1].score) continue;
        int at = have < v->n_top ? have++ : have - 1;
        while (at > 0 && v->top[at - 1].score < x[c]) {
            v->top[at] = v->top[at - 1];
            at--;
        }
        v->top[at].cls = c;
        v->top[at].score = x[c];
    }
    if (v->is_softmax) {
        double z = 0;
        for (int c = 0; c < k; c++) z += exp((double)x[c] - mx);
        for (int j = 0; j < v->n_top; j++) v->top[j].score = exp(v->top[j].score - mx) / z;
    }
}

/* --- writers ----------------------------------------------------------------------------- */

/* A JSON string: quotes, backslashes and control characters escaped, invalid UTF-8 (paths can
 * hold any bytes) replaced by U+FFFD so every record stays valid JSON. */
static void json_str(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
            p++;
        } else if (c < 0x80) {
            fputc(c, f);
            p++;
        } else {
            int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            int ok = len > 0;
            for (int i = 1; ok && i < len; i++) ok = (p[i] & 0xc0) == 0x80;
            /* Overlong, surrogate and beyond-U+10FFFF forms. */
            if (ok && len == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
                ok = 0;
            if (ok && len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
                ok = 0;
            if (ok) {
                fwrite(p, 1, (size_t)len, f);
                p += len;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static void json_shape(FILE *f, const sn_tensor_info *t) {
    fputc('[', f);
    for (int i = 0; i < t->rank; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)(t->dims[i] == SN_DIM_BATCH ? 1
                                                                                  : t->dims[i]));
    fputc(']', f);
}

static void json_output(FILE *f, const sn_model *m, const sn_tensor_info *t, const verdict *v) {
    if (v->classes) {
        fputs("\"top\":[", f);
        for (int j = 0; j < v->n_top; j++) {
            const char *label = sn_model_label(m, v->top[j].cls);
            fprintf(f, "%s{\"class\":%d,", j ? "," : "", v->top[j].cls);
            if (label) {
                fputs("\"label\":", f);
                json_str(f, label);
                fputc(',', f);
            }
            fputs("\"score\":", f);
            json_num(f, v->top[j].score);
            fputc('}', f);
        }
        fprintf(f, "],\"scores\":\"%s\"", v->is_softmax ? "softmax" : "probabilities");
    } else {
        fputs("\"shape\":", f);
        json_shape(f, t);
        fputs(",\"min\":", f);
        json_num(f, v->min);
        fputs(",\"max\":", f);
        json_num(f, v->max);
        fputs(",\"mean\":", f);
        json_num(f, v->mean);
        if (v->nonfinite) fprintf(f, ",\"nonfinite\":%zu", v->nonfinite);
    }
}

static void print_output(const sn_model *m, const sn_tensor_info *t, const verdict *v,
                         int named) {
    if (named) printf("  %s:\n", t->name);
    if (v->classes) {
        for (int j = 0; j < v->n_top; j++) {
            const char *label = sn_model_label(m, v->top[j].cls);
            if (label)
                printf("  %s%9.6f  %s (class %d)\n", named ? "  " : "", v->top[j].score, label,
                       v->top[j].cls);
            else
                printf("  %s%9.6f  class %d\n", named ? "  " : "", v->top[j].score,
                       v->top[j].cls);
        }
    } else {
        int64_t d[SN_MAX_RANK];
        for (int i = 0; i < t->rank; i++) d[i] = t->dims[i] == SN_DIM_BATCH ? 1 : t->dims[i];
        char *s = format_dims(d, t->rank, 0);
        printf("  %sshape %s  min %.6g  max %.6g  mean %.6g", named ? "  " : "", s, v->min,
               v->max, v->mean);
        if (v->nonfinite) printf("  (%zu NaN/Inf)", v->nonfinite);
        putchar('\n');
        free(s);
    }
}

/* --- --save-npy: file names after the inputs ---------------------------------------------- */

/* Names already written in this run (open addressing), so two inputs called cat.jpg in
 * different folders do not overwrite each other's results. */
typedef struct name_set {
    char **slots;
    size_t cap, n;
} name_set;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Adds s (taking it) unless present; returns 1 when added, 0 when it was there (s freed). */
static int name_set_add(name_set *set, char *s) {
    if (set->n * 2 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        char **slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i]) continue;
            size_t j = hash_str(set->slots[i]) & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = hash_str(s) & (set->cap - 1);
    for (; set->slots[j]; j = (j + 1) & (set->cap - 1))
        if (!strcmp(set->slots[j], s)) {
            free(s);
            return 0;
        }
    set->slots[j] = s;
    set->n++;
    return 1;
}

static void name_set_free(name_set *set) {
    for (size_t i = 0; i < set->cap; i++) free(set->slots[i]);
    free(set->slots);
}

/* Letters, digits, '.', '-' and '_' kept; anything else (spaces, '/', control bytes) is '_'. */
static void sanitize(char *s) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_') *s = '_';
}

static char *npy_stem(const item *it) {
    if (it->kind == ITEM_RANDOM) return xasprintf("random_%lld", (long long)it->sub);
    const char *base = strrchr(it->path, '/');
    base = base ? base + 1 : it->path;
    char *stem = xstrdup(base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    if (it->batch_file) {
        char *s = xasprintf("%s_%lld", stem, (long long)it->sub);
        free(stem);
        stem = s;
    }
    sanitize(stem);
    return stem;
}

static int save_npy(const char *dir, name_set *used, const item *it, size_t index,
                    const model_io *io, int k, const float *x) {
    char *stem = npy_stem(it);
    char *base = io->n_out > 1 ? xasprintf("%s.%s", stem, io->out[k].name) : xstrdup(stem);
    sanitize(base);
    char *name = xasprintf("%s.npy", base);
    if (!name_set_add(used, name)) {
        name = xasprintf("%s-%zu.npy", base, index);
        name_set_add(used, xstrdup(name));
    } else {
        name = xstrdup(name);
    }
    char *path = xasprintf("%s/%s", dir, name);
    const sn_tensor_info *t = &io->out[k];
    int64_t dims[SN_MAX_RANK];
    for (int i = 0; i < t->rank; i++) dims[i] = t->dims[i] == SN_DIM_BATCH ? 1 : t->dims[i];
    sn_error err = {0};
    int rc = 0;
    if (sn_npy_write_file(path, x, t->rank, dims, &err) != SN_OK) {
        say("error: %s: %s", it->name, err.message);
        rc = -1;
    }
    free(path);
    free(name);
    free(base);
    free(stem);
    return rc;
}

/* --- --output: JSON Lines written to a temporary file and renamed at the end -------------- */

static char g_tmp_output[PATH_MAX];

static void on_signal(int sig) {
    if (g_tmp_output[0]) unlink(g_tmp_output); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static FILE *open_output(const char *path) {
    if (snprintf(g_tmp_output, sizeof g_tmp_output, "%s.tmp.XXXXXX", path) >=
        (int)sizeof g_tmp_output) {
        say("error: --output path is too long");
        return NULL;
    }
    int fd = mkstemp(g_tmp_output);
    if (fd < 0) {
        say("error: cannot write %s: %s", path, strerror(errno));
        g_tmp_output[0] = '\0';
        return NULL;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        say("error: cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(g_tmp_output);
        g_tmp_output[0] = '\0';
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    return f;
}

static int close_output(FILE *f, const char *path, int keep) {
    int ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    int err = errno;
    ok &= fclose(f) == 0;
    if (ok && keep && rename(g_tmp_output, path) != 0) {
        err = errno;
        ok = 0;
    }
    if (!ok || !keep) unlink(g_tmp_output);
    g_tmp_output[0] = '\0';
    if (!ok) say("error: writing %s failed: %s", path, strerror(err));
    return ok ? 0 : -1;
}

/* --- the batch loop ---------------------------------------------------------------------- */

typedef struct run_state {
    const options *o;
    const sn_model *model;
    sn_engine *engine;
    model_io *io;
    inputs *in;
    int batch;
    float *inbuf;
    float **outbuf;
    FILE *jsonl;
    name_set saved;
    double *latency_ms;
    size_t n_batches, ok, failed;
    int progress;
    double t_start;
} run_state;

/* Fills one batch slot from an item; on failure sets it->error. */
static void load_item(run_state *r, item *it, float *dst) {
    const model_io *io = r->io;
    sn_error err = {0};
    if (it->kind == ITEM_RANDOM) {
        /* Seeded per sample, so a sample's values do not depend on --batch. */
        uint64_t s = r->o->seed ^ (0xA0761D6478BD642Full * (uint64_t)(it->sub + 1));
        for (size_t i = 0; i < io->sample_floats; i++)
            dst[i] = (float)((double)(splitmix(&s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
    } else if (it->kind == ITEM_NPY) {
        const sn_npy *a = &r->in->npys[it->npy];
        memcpy(dst, a->data + (size_t)it->sub * io->sample_floats,
               io->sample_floats * sizeof(float));
    } else {
        sn_image img = {0};
        if (sn_image_load_file(it->path, r->o->max_pixels, &img, &err) != SN_OK ||
            sn_preprocess_image(&io->pre, io->layout, img.pixels, img.width, img.height, dst,
                                &err) != SN_OK)
            it->error = xstrdup(err.message);
        sn_image_free(&img);
    }
}

static void report_item(run_state *r, item *it, size_t index, int slot) {
    const model_io *io = r->io;
    if (it->error) {
        r->failed++;
        if (r->jsonl) {
            fputs("{\"input\":", r->jsonl);
            json_str(r->jsonl, it->name);
            fprintf(r->jsonl, ",\"index\":%zu,\"error\":", index);
            json_str(r->jsonl, it->error);
            fputs("}\n", r->jsonl);
        }
        return;
    }
    r->ok++;
    if (!r->o->quiet) printf("%s\n", it->name);
    if (r->jsonl) {
        fputs("{\"input\":", r->jsonl);
        json_str(r->jsonl, it->name);
        fprintf(r->jsonl, ",\"index\":%zu,", index);
        if (io->n_out > 1) fputs("\"outputs\":[", r->jsonl);
    }
    for (int k = 0; k < io->n_out; k++) {
        const sn_tensor_info *t = &io->out[k];
        const float *x = r->outbuf[k] + (t->dims[0] == SN_DIM_BATCH ? (size_t)slot : 0) *
                                            io->out_floats[k];
        verdict v;
        analyse(t, x, io->out_floats[k], (int)r->o->top, &v);
        if (!r->o->quiet) print_output(r->model, t, &v, io->n_out > 1);
        if (r->jsonl) {
            if (io->n_out > 1) {
                fprintf(r->jsonl, "%s{\"name\":", k ? "," : "");
                json_str(r->jsonl, t->name);
                fputc(',', r->jsonl);
            }
            json_output(r->jsonl, r->model, t, &v);
            if (io->n_out > 1) fputc('}', r->jsonl);
        }
        if (r->o->save_dir && save_npy(r->o->save_dir, &r->saved, it, index, io, k, x) != 0 &&
            !it->error)
            it->error = xstrdup("could not save its output");
        free(v.top);
    }
    if (r->jsonl) fputs(io->n_out > 1 ? "]}\n" : "}\n", r->jsonl);
    if (it->error) {
        r->ok--;
        r->failed++;
    }
}

static void show_progress(run_state *r, size_t done) {
    double el = now_s() - r->t_start, rate = el > 0 ? (double)r->ok / el : 0;
    size_t total = r->in->n;
    int width = 30, fill = (int)((double)width * (double)done / (double)total);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : ' ';
    bar[width] = '\0';
    long eta = done && el > 0 ? lround(el / (double)done * (double)(total - done)) : 0;
    fprintf(stderr, "\r[%s] %zu/%zu  %.1f images/s  ETA %ld:%02ld\033[K", bar, done, total,
            rate, eta / 60, eta % 60);
    fflush(stderr);
    g_progress_shown = 1;
}

static void run_all(run_state *r) {
    const model_io *io = r->io;
    inputs *in = r->in;
    size_t *members = xcalloc((size_t)r->batch, sizeof *members);
    size_t cap_lat = 0, cursor = 0;
    const void *ins[1] = {r->inbuf};
    r->t_start = now_s();
    while (cursor < in->n) {
        size_t first = cursor;
        int filled = 0;
        while (filled < r->batch && cursor < in->n) {
            item *it = &in->items[cursor];
            if (!it->error) load_item(r, it, r->inbuf + (size_t)filled * io->sample_floats);
            if (it->error)
                say("error: %s: %s", it->name, it->error);
            else
                members[filled++] = cursor;
            cursor++;
        }
        if (filled > 0) {
            sn_error err = {0};
            double t0 = now_s();
            sn_status st = sn_engine_run(r->engine, filled, ins, (void *const *)r->outbuf, &err);
            double ms = (now_s() - t0) * 1e3;
            if (st != SN_OK) {
                for (int s = 0; s < filled; s++) {
                    item *it = &in->items[members[s]];
                    it->error = xasprintf("inference failed: %s", err.message);
                    say("error: %s: %s", it->name, it->error);
                }
            } else {
                if (r->n_batches == cap_lat) {
                    cap_lat = cap_lat ? cap_lat * 2 : 256;
                    double *grown = realloc(r->latency_ms, cap_lat * sizeof *grown);
                    if (!grown) {
                        fprintf(stderr, PROG ": out of memory\n");
                        exit(EXIT_USAGE);
                    }
                    r->latency_ms = grown;
                }
                r->latency_ms[r->n_batches++] = ms;
            }
        }
        clear_progress();
        for (size_t i = first, slot = 0; i < cursor; i++) {
            item *it = &in->items[i];
            report_item(r, it, i, it->error ? -1 : (int)slot);
            if (slot < (size_t)filled && members[slot] == i) slot++;
        }
        fflush(stdout);
        if (r->progress) show_progress(r, cursor);
    }
    clear_progress();
    free(members);
}

/* --- statistics -------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *v, size_t n, double p) {
    if (!n) return NAN;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return v[rank ? rank - 1 : 0];
}

static void print_stats(const run_state *r, double wall) {
    double mib = 1024.0 * 1024.0;
    qsort(r->latency_ms, r->n_batches, sizeof *r->latency_ms, cmp_double);
    printf("stats: %zu images in %zu batch%s (batch size %d), wall time %.3f s, throughput "
           "%.2f images/s\n",
           r->ok, r->n_batches, r->n_batches == 1 ? "" : "es", r->batch, wall,
           wall > 0 ? (double)r->ok / wall : 0.0);
    if (r->n_batches)
        printf("stats: batch latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (min %.3f, max "
               "%.3f)\n",
               percentile(r->latency_ms, r->n_batches, 50),
               percentile(r->latency_ms, r->n_batches, 90),
               percentile(r->latency_ms, r->n_batches, 99), r->latency_ms[0],
               r->latency_ms[r->n_batches - 1]);
    else
        printf("stats: batch latency p50 - p90 - p99 - (no batch ran)\n");
    sn_engine_stats es = SN_ENGINE_STATS_INIT;
    struct rusage ru;
    double rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss * 1024.0 : NAN;
    if (sn_engine_get_stats(r->engine, &es) == SN_OK)
        printf("stats: peak memory: activations %.2f MiB (planned at batch %d) + weights "
               "%.2f MiB = %.2f MiB in the engine (scratch %.2f MiB); process max RSS "
               "%.2f MiB\n",
               (double)es.activation_bytes / mib, r->batch, (double)es.weight_bytes / mib,
               (double)(es.activation_bytes + es.weight_bytes) / mib,
               (double)es.scratch_bytes / mib, rss / mib);
    else
        printf("stats: peak memory: process max RSS %.2f MiB\n", rss / mib);
    printf("stats: device %s, %d CPU threads\n",
           sn_engine_device(r->engine) == SN_DEVICE_GPU ? "gpu" : "cpu", es.threads);
    if (es.layout == SN_LAYOUT_ANY)
        printf("stats: graph %d nodes, run as loaded (not optimised)\n", es.nodes);
    else
        printf("stats: graph %d nodes, optimised for %s in %.1f ms\n", es.nodes,
               es.layout == SN_LAYOUT_NHWC ? "NHWC" : "NCHW", es.optimize_ms);
}

/* --- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    options o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        free(o.inputs);
        return rc;
    }
    sn_model *model = NULL;
    sn_engine *engine = NULL;
    model_io io = {0};
    inputs in = {0};
    run_state r = {0};
    sn_error err = {0};
    rc = EXIT_USAGE;

    /* A .sgraph file, or an ONNX model converted on the fly. */
    if (sn_model_load_any(o.model, &model, &err) != SN_OK) {
        say("error: cannot load model %s: %s", o.model, err.message);
        goto done;
    }
    if (describe_model(model, o.model, &io) != 0) goto done;
    if (gather(&o, &io, &in) != 0) goto done;
    if (o.save_dir) {
        struct stat st;
        if (mkdir(o.save_dir, 0755) != 0 && errno != EEXIST) {
            say("error: cannot create --save-npy folder %s: %s", o.save_dir, strerror(errno));
            goto done;
        }
        if (stat(o.save_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            say("error: --save-npy %s is not a folder", o.save_dir);
            goto done;
        }
    }

    r.batch = (int)o.batch;
    if (io.fixed_batch && r.batch > 1) {
        if (o.batch_given && !o.quiet)
            say("note: the model's batch is fixed at 1; running one input at a time");
        r.batch = 1;
    }
    if ((size_t)r.batch > in.n) r.batch = in.n ? (int)in.n : 1;
    sn_engine_options eo = SN_ENGINE_OPTIONS_INIT;
    eo.device = o.device;
    eo.threads = (int)o.threads;
    eo.max_batch = r.batch;
    eo.optimize = !o.no_optimize;
    eo.layout = o.layout;
    eo.precision = o.precision;
    if (sn_engine_create(model, &eo, &engine, &err) != SN_OK) {
        say("error: cannot create an engine on the %s: %s",
            o.device == SN_DEVICE_GPU ? "GPU" : o.device == SN_DEVICE_CPU ? "CPU" : "device",
            err.message);
        goto done;
    }
    if (o.device == SN_DEVICE_AUTO && sn_engine_fallback_reason(engine) && !o.quiet)
        say("note: no usable GPU, running on the CPU: %s", sn_engine_fallback_reason(engine));
    if (sn_engine_input_bytes(engine, 0) != io.sample_floats * sizeof(float)) {
        say("error: the engine sizes input '%s' at %zu bytes, expected %zu", io.in.name,
            sn_engine_input_bytes(engine, 0), io.sample_floats * sizeof(float));
        goto done;
    }
    r.o = &o;
    r.model = model;
    r.engine = engine;
    r.io = &io;
    r.in = &in;
    r.inbuf = xcalloc((size_t)r.batch * io.sample_floats, sizeof(float));
    r.outbuf = xcalloc((size_t)(io.n_out > 0 ? io.n_out : 1), sizeof *r.outbuf);
    for (int k = 0; k < io.n_out; k++) {
        io.out_floats[k] = sn_engine_output_bytes(engine, k) / sizeof(float);
        r.outbuf[k] = xcalloc((size_t)r.batch * io.out_floats[k], sizeof(float));
    }
    if (o.output && !(r.jsonl = open_output(o.output))) goto done;
    r.progress = !o.quiet && isatty(STDERR_FILENO) &&
                 (in.n + (size_t)r.batch - 1) / (size_t)r.batch > 4;

    run_all(&r);
    double wall = now_s() - r.t_start;
    rc = r.failed ? EXIT_SOME_FAILED : 0;
    if (r.jsonl) {
        int kept = close_output(r.jsonl, o.output, 1);
        r.jsonl = NULL;
        if (kept != 0) rc = EXIT_SOME_FAILED;
    }
    if (o.stats) print_stats(&r, wall);
    fflush(stdout);
    if (r.failed)
        say("%zu inputs: %zu succeeded, %zu failed", in.n, r.ok, r.failed);
    else if (!o.quiet)
        say("%zu inputs: all succeeded", in.n);

done:
    if (r.jsonl) close_output(r.jsonl, o.output, 0);
    for (int k = 0; r.outbuf && k < io.n_out; k++) free(r.outbuf[k]);
    free(r.outbuf);
    free(r.inbuf);
    free(r.latency_ms);
    name_set_free(&r.saved);
    for (size_t i = 0; i < in.n; i++) {
        free(in.items[i].name);
        free(in.items[i].path);
        free(in.items[i].error);
    }
    free(in.items);
    for (int i = 0; i < in.n_npy; i++) sn_npy_free(&in.npys[i]);
    free(in.npys);
    free(io.out);
    free(io.out_floats);
    sn_engine_destroy(engine);
    sn_model_destroy(model);
    free(o.inputs);
    return rc;
}
