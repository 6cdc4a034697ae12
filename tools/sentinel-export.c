/*
 * sentinel-export - write a model in another runtime's format.
 *
 *   sentinel-export MODEL -o OUT.onnx   [--opset 13..21]
 *   sentinel-export MODEL -o OUT.tflite [--quantize fp16|int8 --calibration DIR]
 *                   [--calibration-max N] [--calibration-ranges mse|minmax]
 *                   [--save-calibration FILE.npy] [--no-optimize] [--threads N] [--quiet]
 *
 * MODEL is a .sgraph file or an ONNX model (told apart by their bytes). The graph is optimised
 * first (folding BatchNorm, fusing bias/activation/residual epilogues) unless --no-optimize; the
 * output extension picks the format. A model the format cannot express is refused with the
 * reason, naming the node and op. The output is written atomically (never a partial file) and
 * its size printed.
 *
 * Exit status: 0 on success, 1 when the model cannot be read or exported, 2 for a usage error.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "model.h"
#include "npy.h"
#include "onnx.h"
#include "passes/pass.h"
#include "sentinel.h"
#include "sgraph_format.h"

#define PROG "sentinel-export"

typedef struct sn__args {
    const char *model, *out, *calibration, *save_cal;
    int opset, quant, threads, cal_max, ranges;
    bool no_optimize, quiet, onnx;
} sn__args;

static void sn__usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " MODEL -o OUT.onnx|OUT.tflite [options]\n"
            "\n"
            "MODEL is a .sgraph file or an ONNX model. The output format follows the extension.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE      the file to write (.onnx or .tflite)\n"
            "  --opset N              ONNX opset, %d..%d (default %d)\n"
            "  --quantize MODE        TFLite weights: fp16, or int8 (full-integer; needs\n"
            "                         --calibration)\n"
            "  --calibration DIR      images (.jpg/.png, preprocessed as the model says) or .npy\n"
            "                         tensors for int8 calibration\n"
            "  --calibration-max N    use at most N calibration samples (default 100)\n"
            "  --calibration-ranges R int8 activation ranges: mse (default; the range with the\n"
            "                         least squared int8 error) or minmax (the extremes seen)\n"
            "  --save-calibration F   also write the calibration samples, preprocessed, to F\n"
            "                         (.npy [N,C,H,W]; usable as --calibration input)\n"
            "  --no-optimize          export the graph as stored, without fusion passes\n"
            "  --threads N            CPU threads for calibration (default 0: all cores)\n"
            "  --quiet                print only errors\n"
            "  --help, --version\n",
            SN_ONNX_OPSET_MIN, SN_ONNX_OPSET_MAX, SN_ONNX_OPSET_DEFAULT);
}

static int sn__usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" PROG " --help'.\n", stderr);
    return 2;
}

static bool sn__int_arg(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool sn__ends_with(const char *s, const char *ext) {
    size_t n = strlen(s), e = strlen(ext);
    return n > e && !strcasecmp(s + n - e, ext);
}

/* 0 to go on, else the exit status (help and version exit 0 through *done). */
static int sn__parse(int argc, char **argv, sn__args *a, bool *done) {
    *a = (sn__args){.quant = SN_TFLITE_FLOAT, .cal_max = 100};
    bool quant_given = false, opset_given = false, ranges_given = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            sn__usage(stdout);
            *done = true;
            return 0;
        }
        if (!strcmp(s, "--version")) {
            printf(PROG " %s\n", sn_version_string());
            *done = true;
            return 0;
        }
        if (!strcmp(s, "--no-optimize")) {
            a->no_optimize = true;
            continue;
        }
        if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            a->quiet = true;
            continue;
        }
        static const char *const valued[] = {"-o",
                                             "--output",
                                             "--opset",
                                             "--quantize",
                                             "--calibration",
                                             "--calibration-max",
                                             "--calibration-ranges",
                                             "--save-calibration",
                                             "--threads"};
        const char *name = NULL, *val = NULL;
        for (size_t k = 0; k < sizeof valued / sizeof *valued && !name; k++) {
            size_t n = strlen(valued[k]);
            if (!strcmp(s, valued[k])) {
                if (i + 1 >= argc) return sn__usage_error("%s needs a value", s);
                name = valued[k];
                val = argv[++i];
            } else if (!strncmp(s, valued[k], n) && s[n] == '=' && valued[k][1] == '-') {
                name = valued[k];
                val = s + n + 1;
            }
        }
        if (!name) {
            if (s[0] == '-' && s[1]) return sn__usage_error("unknown option '%s'", s);
            if (a->model) return sn__usage_error("more than one model given ('%s')", s);
            a->model = s;
            continue;
        }
        if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
            a->out = val;
        } else if (!strcmp(name, "--opset")) {
            if (!sn__int_arg(val, SN_ONNX_OPSET_MIN, SN_ONNX_OPSET_MAX, &a->opset))
                return sn__usage_error("--opset must be an integer in %d..%d, not '%s'",
                                       SN_ONNX_OPSET_MIN, SN_ONNX_OPSET_MAX, val);
            opset_given = true;
        } else if (!strcmp(name, "--quantize")) {
            if (!strcmp(val, "fp16"))
                a->quant = SN_TFLITE_FP16;
            else if (!strcmp(val, "int8"))
                a->quant = SN_TFLITE_INT8;
            else if (!strcmp(val, "none") || !strcmp(val, "float"))
                a->quant = SN_TFLITE_FLOAT;
            else
                return sn__usage_error("--quantize must be fp16 or int8, not '%s'", val);
            quant_given = true;
        } else if (!strcmp(name, "--calibration")) {
            a->calibration = val;
        } else if (!strcmp(name, "--save-calibration")) {
            a->save_cal = val;
        } else if (!strcmp(name, "--calibration-ranges")) {
            if (!strcmp(val, "mse"))
                a->ranges = SN_TFLITE_RANGES_MSE;
            else if (!strcmp(val, "minmax"))
                a->ranges = SN_TFLITE_RANGES_MINMAX;
            else
                return sn__usage_error("--calibration-ranges must be mse or minmax, not '%s'",
                                       val);
            ranges_given = true;
        } else if (!strcmp(name, "--calibration-max")) {
            if (!sn__int_arg(val, 1, 1000000, &a->cal_max))
                return sn__usage_error("--calibration-max must be an integer in 1..1000000, "
                                       "not '%s'",
                                       val);
        } else if (!sn__int_arg(val, 0, 4096, &a->threads)) {
            return sn__usage_error("--threads must be an integer in 0..4096, not '%s'", val);
        }
    }
    if (!a->model) return sn__usage_error("no model given");
    if (!a->out || !*a->out)
        return sn__usage_error("no output file given (-o OUT.onnx|OUT.tflite)");
    if (sn__ends_with(a->out, ".onnx"))
        a->onnx = true;
    else if (!sn__ends_with(a->out, ".tflite"))
        return sn__usage_error("the output '%s' must end in .onnx or .tflite", a->out);
    if (a->onnx && (quant_given || a->calibration))
        return sn__usage_error("--quantize and --calibration apply to .tflite outputs");
    if (!a->onnx && opset_given) return sn__usage_error("--opset applies to .onnx outputs");
    if (a->quant == SN_TFLITE_INT8 && !a->calibration)
        return sn__usage_error("--quantize int8 needs --calibration DIR");
    if (a->quant != SN_TFLITE_INT8 && a->calibration)
        return sn__usage_error("--calibration is only used with --quantize int8");
    if (a->quant != SN_TFLITE_INT8 && ranges_given)
        return sn__usage_error("--calibration-ranges is only used with --quantize int8");
    if (a->quant != SN_TFLITE_INT8 && a->save_cal)
        return sn__usage_error("--save-calibration is only used with --quantize int8");
    return 0;
}

/* The model as a graph the caller owns; *keep holds what its weights may borrow. An ONNX
 * model's import warnings (metadata left out) go to stderr unless quiet. */
static sn_status sn__load(const char *path, bool quiet, sn_graph **g, sn_model **keep,
                          sn_error *err) {
    *g = NULL;
    *keep = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sn_errorf(err, SN_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= SN_SG_MAGIC_SIZE && !memcmp(head, SN_SG_MAGIC, SN_SG_MAGIC_SIZE)) {
        sn_status s = sn_model_load_file(path, keep, err);
        if (s != SN_OK) return s;
        s = sn_graph_clone(sn_model_graph(*keep), g);
        return s == SN_OK ? SN_OK : sn_errorf(err, s, "%s: cloning the graph failed", path);
    }
    if (!sn_onnx_sniff(head, n))
        return sn_errorf(err, SN_ERR_FORMAT, "%s is neither a .sgraph file nor an ONNX model",
                         path);
    sn_onnx_report rep = {0};
    sn_status s = sn_onnx_import_file(path, NULL, g, &rep, err);
    for (int i = 0; s == SN_OK && !quiet && i < rep.n_warnings; i++)
        fprintf(stderr, PROG ": %s: warning: %s\n", path, rep.warnings[i]);
    if (s == SN_ERR_UNSUPPORTED && rep.n_unsupported) {
        char line[512];
        fprintf(stderr, PROG ": %s: %d ONNX node(s) cannot be imported:\n", path,
                rep.n_unsupported);
        for (int i = 0; i < rep.n_unsupported; i++) {
            sn_onnx_unsupported_format(&rep.unsupported[i], line, sizeof line);
            fprintf(stderr, "  %s\n", line);
        }
    }
    sn_onnx_report_free(&rep);
    return s;
}

/* The calibration samples as one .npy [N, sample shape], written atomically. */
static sn_status sn__save_calibration(const sn_graph *g, const sn_calibration *cal,
                                      const char *path, sn_error *err) {
    const sn_shape *in = &g->tensors[g->inputs[0]].shape;
    int64_t dims[SN_MAX_RANK];
    dims[0] = cal->count;
    for (int i = 1; i < in->rank; i++) dims[i] = in->d[i];
    sn_status s = sn_npy_write_file(path, cal->data, in->rank, dims, err);
    if (s != SN_OK) sn_error_prefix(err, "--save-calibration %s", path);
    return s;
}

int main(int argc, char **argv) {
    sn__args a;
    bool done = false;
    int rc = sn__parse(argc, argv, &a, &done);
    if (rc || done) return rc;
    sn_error err = {0};
    sn_graph *g = NULL;
    sn_model *keep = NULL;
    sn_calibration cal = {0};
    void *data = NULL;
    size_t size = 0;
    sn_status s = sn__load(a.model, a.quiet, &g, &keep, &err);
    if (s == SN_OK && !a.no_optimize) s = sn_graph_optimize(g, NULL, NULL, NULL, &err);
    if (s == SN_OK && a.quant == SN_TFLITE_INT8) {
        s = sn_calibration_load_dir(g, a.calibration, a.cal_max, &cal, &err);
        if (s == SN_OK && !a.quiet)
            printf("calibrating on %d sample(s) from %s\n", cal.count, a.calibration);
        if (s == SN_OK && a.save_cal) s = sn__save_calibration(g, &cal, a.save_cal, &err);
    }
    if (s == SN_OK) {
        if (a.onnx) {
            sn_onnx_export_options o = SN_ONNX_EXPORT_OPTIONS_INIT;
            o.opset = a.opset;
            s = sn_export_onnx(g, &o, &data, &size, &err);
        } else {
            sn_tflite_options o = SN_TFLITE_OPTIONS_INIT;
            o.quant = (sn_tflite_quant)a.quant;
            o.calibration = &cal;
            o.threads = a.threads;
            o.ranges = (sn_tflite_ranges)a.ranges;
            s = sn_export_tflite(g, &o, &data, &size, &err);
        }
    }
    if (s == SN_OK) s = sn_export_write_file(a.out, data, size, &err);
    if (s == SN_OK) {
        if (!a.quiet) {
            static const char *const qn[] = {"float32", "fp16 weights", "int8"};
            printf("wrote %s: %zu bytes (%.2f MiB), %s%s\n", a.out, size,
                   (double)size / (1024.0 * 1024.0), a.onnx ? "ONNX" : "TFLite ",
                   a.onnx ? "" : qn[a.quant]);
        }
    } else {
        fprintf(stderr, PROG ": cannot export %s to %s: %s\n", a.model, a.out,
                err.message[0] ? err.message : sn_status_string(s));
    }
    free(data);
    sn_calibration_free(&cal);
    sn_graph_destroy(g);
    sn_model_destroy(keep);
    return s == SN_OK ? 0 : 1;
}
