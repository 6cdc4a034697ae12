/*
 * run.h - the parts of sentinel-run and how they fit. tools/sentinel-run.c holds main(); the
 * rest lives here in tools/run/, one concept per file:
 *
 *   console.c        messages and the progress bar on stderr, allocation that cannot fail
 *   options.c        the command line (and the options each input source declares)
 *   model.c          what the model takes and gives (run_io)
 *   source.c         the input sources of the command line as one ordered stream of items
 *   source_files.c   image files and folders;  source_npy.c  .npy tensors;
 *   source_random.c  --random N samples;  source_video.c  videos, streams, cameras
 *   analyse.c        what one output says: class scores or a tensor summary
 *   output_text.c    results on stdout;  output_jsonl.c  JSON Lines (--output);
 *   output_npy.c     .npy files (--save-npy);  output.c  one finished item to every writer
 *   interrupt.c      Ctrl-C and the other stop signals
 *   decode_pool.c    decoding threads: items in input order, a bounded window ahead
 *   batch.c          the batch loop: items to batches through the engine, results in order
 *   stats.c          --stats
 *
 * Exit status: 0 when every input succeeded, 1 when some failed, 2 for a usage error or a
 * model or device that cannot be used, 130 when Ctrl-C (or SIGTERM/SIGHUP) stopped the run
 * (every result computed by then is written).
 */
#ifndef SN_RUN_H
#define SN_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image.h"
#include "sentinel.h"

#define PROG "sentinel-run"
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130 /* 128 + SIGINT, as shells report a program Ctrl-C stopped */

/* The most decoding threads the default picks (one per online core with a GPU engine, half
 * the cores beside a CPU engine). */
#define RUN_MAX_DEFAULT_DECODE_THREADS 16

/* --- console.c ---------------------------------------------------------------------------- */

/* "sentinel-run: <message>" on stderr, after clearing the progress bar's line. */
void run_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Out of memory in the tool itself: says so and exits with EXIT_USAGE. */
_Noreturn void run_oom(void);
void *run_xcalloc(size_t n, size_t size);
void *run_xrealloc(void *p, size_t n, size_t size);
char *run_xstrdup(const char *s);
char *run_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double run_now(void); /* monotonic seconds */
/* The progress bar on stderr: done of total (0: unknown), rate in images/s, ETA. */
void run_progress_show(size_t done, size_t total, double rate, double elapsed);
void run_progress_clear(void);

/* --- options.c ---------------------------------------------------------------------------- */

typedef struct run_options {
    const char *model;
    const char **inputs; /* positional inputs, in order */
    int n_inputs;
    sn_device device;
    long batch, threads, top;
    long decode_threads; /* 0: the default (sentinel-run.c: by core count and device) */
    int batch_given;
    uint64_t max_pixels;
    const char *output, *save_dir;
    int stats, quiet, no_optimize;
    sn_layout layout;
    sn_precision precision;
} run_options;

/* Returns -1 to go on, else the exit status (after printing usage, the version or the error). */
int run_parse_args(int argc, char **argv, run_options *o);
/* A decimal integer in [lo, hi] and nothing else; 0 or -1. */
int run_parse_long(const char *s, long lo, long hi, long *out);
int run_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* --- model.c ------------------------------------------------------------------------------ */

typedef struct run_io {
    sn_tensor_info in;
    int fixed_batch;     /* the input's dim 0 is a fixed 1, not SN_DIM_BATCH */
    int sample_rank;     /* rank of one sample: in.rank - 1 */
    int64_t sample_dims[SN_MAX_RANK];
    size_t sample_floats;
    int image_ok;        /* rank 4 with 3 channels, and usable preprocessing */
    char no_images[SN_ERROR_MESSAGE_SIZE + 64]; /* why not, when !image_ok */
    sn_layout layout;
    sn_preprocess pre;
    int n_out;
    sn_tensor_info *out;
    size_t *out_floats; /* per sample, set once the engine exists */
} run_io;

/* Checks what sentinel-run can feed; on failure says why and returns -1. */
int run_describe_model(const sn_model *m, const char *path, run_io *io);
void run_io_free(run_io *io);
/* "[N,3,224,224]" (malloc'ed); batch_first writes N for dim 0. */
char *run_format_dims(const int64_t *d, int rank, int batch_first);

/* --- items and input sources -------------------------------------------------------------
 *
 * Every input becomes a stream of items, in command-line order. An item is an image file
 * (decoded later, off the source), one sample of a .npy tensor, a --random sample, or a FRAME:
 * pixels a source has already decoded (video, camera), with its frame number and time.
 */
typedef enum run_item_kind {
    RUN_ITEM_IMAGE,  /* path: a JPEG or PNG file, decoded by the batch loop */
    RUN_ITEM_NPY,    /* sample: one sample of a .npy file */
    RUN_ITEM_RANDOM, /* sample: a seeded random sample */
    RUN_ITEM_FRAME   /* pixels: an RGB8 frame decoded by its source */
} run_item_kind;

typedef struct run_item {
    run_item_kind kind;
    char *name;          /* shown and recorded: the path, "file.npy[i]", "random:i", the video */
    char *path;          /* IMAGE: the file; NPY, FRAME: the file it came from (may be NULL) */
    int64_t sub;         /* NPY: the sample's index in its file; RANDOM: the sample number */
    int batch_file;      /* NPY: the file held a batch, so the name ends in [i] */
    const float *sample; /* NPY, RANDOM: sample_floats floats of the model input */
    float *owned;        /* freed with the item: RANDOM's sample (NPY's is borrowed) */
    sn_image pixels;     /* FRAME: set by the source; IMAGE: set when decoded; freed with it */
    int64_t frame;       /* FRAME: the frame's number in its stream, from 0 */
    double time;         /* FRAME: its time in seconds from the start of the stream */
    char *error;         /* why the item failed (malloc'ed), NULL while it is fine */
} run_item;

void run_item_free(run_item *it);

typedef struct run_context {
    const run_options *o;
    const run_io *io;
} run_context;

/*
 * One kind of input source. To add a kind (video, camera: source_video.c), write a file that
 * defines `const run_source_ops run_source_<name> = {...}` and add X(<name>) to
 * RUN_SOURCE_LIST below; nothing else changes. The list's order is the order in which sources
 * are asked to claim a command-line input (the first that claims it opens it, and `files`
 * claims everything that is not .npy, so a new kind goes before it) and the order of their
 * lines in --help. Sources live for the whole run: items may borrow from their state.
 *
 * Options: a source declares the options it takes (each with a value: "--every 5" or
 * "--every=5"); options.c hands them to set_option in command-line order. They are the
 * source's own settings, kept in its file (the program has one command line).
 */
typedef struct run_source_ops {
    const char *name;
    const char *usage_inputs;  /* --help lines under "Inputs:", "  X  text\n" each, or NULL */
    const char *usage_options; /* --help lines under "Options:", or NULL */
    const char *const *options; /* NULL-terminated option names ("--every"), or NULL */
    /* One of its options: 0, or -1 after writing the usage error into why. */
    int (*set_option)(const char *name, const char *value, char *why, size_t why_size);
    /* Whether a command-line input is this source's; NULL: it takes none. */
    int (*claims)(const char *arg);
    /* Whether its options name an input of their own (--random N, --camera DEV): then it is
     * opened once with arg NULL, after the command-line inputs. NULL: never. */
    int (*option_input)(void);
    /* Opens one input (arg: the command-line input, or NULL for the option input). An input
     * that cannot be read is not fatal here: next() yields it as an item with an error. A
     * source of images or frames refuses to open when !ctx->io->image_ok, saying
     * ctx->io->no_images. Returns 0, or -1 after saying why the run cannot start at all (exit
     * status 2); close() is called on *state either way, when it is not NULL. */
    int (*open)(const char *arg, const run_context *ctx, void **state);
    /* The next item, in order: returns 1 with *item filled (it arrives zeroed), 0 at the end.
     * Called by one thread at a time, not always the same one. It may block (a camera), but
     * must return 0 promptly once run_interrupted() is true. */
    int (*next)(void *state, run_item *item);
    /* How many items it yields in all, or -1 when unknown (a stream); for the progress bar. */
    int64_t (*count)(void *state);
    void (*close)(void *state);
} run_source_ops;

#define RUN_SOURCE_LIST(X) X(video) X(files) X(npy) X(random)

#define RUN_SOURCE_DECLARE(name) extern const run_source_ops run_source_##name;
RUN_SOURCE_LIST(RUN_SOURCE_DECLARE)
#undef RUN_SOURCE_DECLARE

/* source.c: the command line's inputs as one stream. */
typedef struct run_sources run_sources;
/* Whether name ends in ext (".npy"), in any case, with something before it: how sources
 * claim their inputs by name. */
int run_has_ext(const char *name, const char *ext);
/* Opens every input in order; -1 (said why) when the run cannot start. */
int run_sources_open(const run_context *ctx, run_sources **out);
int run_sources_next(run_sources *s, run_item *item); /* 1 with an item, 0 at the end */
int64_t run_sources_count(const run_sources *s);      /* -1 when unknown */
void run_sources_close(run_sources *s);
/* For options.c: the sources' --help lines (inputs 1: under "Inputs:", 0: under "Options:"),
 * the source option called name (len bytes; the canonical name, or NULL when no source takes
 * it), handing it its value (0, or -1 with the usage error in why), and whether any option
 * names an input of its own. */
void run_sources_usage(FILE *f, int inputs);
const char *run_sources_find_option(const char *name, size_t len);
int run_sources_set_option(const char *name, const char *value, char *why, size_t size);
int run_sources_have_option_input(void);

/* --- interrupt.c: Ctrl-C (SIGINT), SIGTERM and SIGHUP --------------------------------------- */

/* The first signal asks the run to stop (run_interrupted); a second one ends the program at
 * once, removing the temporary file below. */
void run_signals_install(void);
/* Whether a signal asked the run to stop; sources and loops poll it. */
int run_interrupted(void);
/* The temporary file a signal that ends the program must remove (NULL: none); the path is
 * copied. */
void run_signals_tmp_file(const char *path);
/* Interrupts a blocking system call of `thread` (it fails with EINTR), so that a decoding
 * thread waiting on a stalled stream sees the stop. Only after run_signals_install. */
#define RUN_WAKE_SIGNAL SIGUSR2
void run_signals_wake(pthread_t thread);

/* --- analyse.c ---------------------------------------------------------------------------- */

typedef struct run_scored {
    int cls;
    double score;
} run_scored;

typedef struct run_verdict {
    int classes;     /* number of classes; 0 when the output is summarised instead */
    int is_softmax;  /* scores are softmax(logits), not the output's own probabilities */
    int n_top;
    run_scored *top; /* n_top best, highest first (malloc'ed) */
    double min, max, mean;
    size_t nonfinite;
} run_verdict;

void run_analyse(const sn_tensor_info *t, const float *x, size_t n, int top, run_verdict *v);

/* --- writers ------------------------------------------------------------------------------ */

/* output_text.c */
void run_print_output(const sn_model *m, const sn_tensor_info *t, const run_verdict *v,
                      int named);

/* output_jsonl.c: records go to a temporary file renamed over --output when the run ends. */
FILE *run_jsonl_open(const char *path);
/* keep: rename into place (else removed); 0, or -1 after saying why. */
int run_jsonl_close(FILE *f, const char *path, int keep);
void run_json_str(FILE *f, const char *s);
void run_json_output(FILE *f, const sn_model *m, const sn_tensor_info *t, const run_verdict *v);

/* output_npy.c: names already written, so two inputs called cat.jpg in different folders do
 * not overwrite each other's results. */
typedef struct run_name_set {
    char **slots;
    size_t cap, n;
} run_name_set;
void run_name_set_free(run_name_set *set);
/* Writes output k of an item to DIR/NAME.npy (whole or not at all) and returns the path
 * (malloc'ed); NULL with *error (malloc'ed) saying why when it could not. */
char *run_save_npy(const char *dir, run_name_set *used, const run_item *it, size_t index,
                   const run_io *io, int k, const float *x, char **error);

/* output.c: one finished item, to stdout, the JSON Lines file and --save-npy. */
typedef struct run_writers {
    const run_options *o;
    const sn_model *model;
    const run_io *io;
    FILE *jsonl;
    run_name_set saved;
    size_t ok, failed;
    size_t frames; /* of the items written, video frames (ok or failed) */
} run_writers;
/* outputs[k]: the item's own sample of output k (NULL for a failed item). */
void run_write_item(run_writers *w, run_item *it, size_t index, const float *const *outputs);

/* --- decode_pool.c ------------------------------------------------------------------------ */

typedef struct run_pool_stats {
    size_t decoded;      /* image files read and decoded (or refused) */
    size_t frames;       /* frames taken from video sources */
    uint64_t file_bytes; /* bytes of image files read */
    double decode_s;     /* thread-seconds spent taking items and decoding them */
    int threads;         /* decoding threads that ran */
} run_pool_stats;

typedef struct run_pool run_pool;
/* Starts `threads` threads taking items from src and decoding image files with opt, at most
 * `window` items ahead of the batch loop. */
run_pool *run_pool_start(run_sources *src, const sn_image_decode_options *opt, int threads,
                         size_t window);
/* The next item in input order (the caller owns it then): 1, 0 at the end of the inputs, or -1
 * when interrupted before it. Adds the seconds it waited to *waited. */
int run_pool_next(run_pool *p, run_item *item, double *waited);
/* Stops the threads, frees what was decoded and not taken, and the pool; returns 0. After an
 * interrupt a thread still blocked in its source when woken (run_signals_wake) is given about
 * two seconds; if one does not return by then (a camera driver that retries its wait), the
 * pool is left to it and 1 returned: the sources must then not be closed, the program is about
 * to end. */
int run_pool_stop(run_pool *p, run_pool_stats *st);

/* --- batch.c ------------------------------------------------------------------------------ */

typedef struct run_state {
    const run_options *o;
    const sn_model *model;
    sn_engine *engine;
    run_io *io;
    run_sources *src;
    run_writers *w;
    int batch;
    int progress;
    int decode_threads;
    int interrupted;     /* Ctrl-C (or SIGTERM/SIGHUP) ended the run early */
    size_t n_items;      /* items written (succeeded or failed) */
    size_t n_batches;
    double *latency_ms;  /* per batch */
    double t_start;
    double idle_s;       /* the engine waiting for decoded input */
    run_pool_stats pool;
    int pool_abandoned;  /* run_pool_stop returned 1: leave the sources open */
} run_state;

void run_all(run_state *r);
void run_state_free(run_state *r);

/* --- stats.c ------------------------------------------------------------------------------ */

void run_print_stats(const run_state *r, double wall);

#endif
