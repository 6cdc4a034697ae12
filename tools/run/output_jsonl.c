/*
 * output_jsonl.c - --output: one JSON record per input (JSON Lines). Records go to a temporary
 * file beside the target, which is renamed over it when the run ends, so a reader never sees a
 * half-written file under the name it asked for.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

static char g_tmp_output[PATH_MAX];

/* A JSON string: quotes, backslashes and control characters escaped, invalid UTF-8 (paths can
 * hold any bytes) replaced by U+FFFD so every record stays valid JSON. */
void run_json_str(FILE *f, const char *s) {
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

void run_json_output(FILE *f, const sn_model *m, const sn_tensor_info *t, const run_verdict *v) {
    if (v->classes) {
        fputs("\"top\":[", f);
        for (int j = 0; j < v->n_top; j++) {
            const char *label = sn_model_label(m, v->top[j].cls);
            fprintf(f, "%s{\"class\":%d,", j ? "," : "", v->top[j].cls);
            if (label) {
                fputs("\"label\":", f);
                run_json_str(f, label);
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

FILE *run_jsonl_open(const char *path) {
    if (snprintf(g_tmp_output, sizeof g_tmp_output, "%s.tmp.XXXXXX", path) >=
        (int)sizeof g_tmp_output) {
        run_say("error: --output path is too long");
        return NULL;
    }
    int fd = mkstemp(g_tmp_output);
    if (fd < 0) {
        run_say("error: cannot write %s: %s", path, strerror(errno));
        g_tmp_output[0] = '\0';
        return NULL;
    }
    run_signals_tmp_file(g_tmp_output);
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        run_say("error: cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(g_tmp_output);
        run_signals_tmp_file(NULL);
        g_tmp_output[0] = '\0';
    }
    return f;
}

int run_jsonl_close(FILE *f, const char *path, int keep) {
    int ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    int err = errno;
    ok &= fclose(f) == 0;
    if (ok && keep && rename(g_tmp_output, path) != 0) {
        err = errno;
        ok = 0;
    }
    if (!ok || !keep) unlink(g_tmp_output);
    run_signals_tmp_file(NULL);
    g_tmp_output[0] = '\0';
    if (!ok) run_say("error: writing %s failed: %s", path, strerror(err));
    return ok ? 0 : -1;
}
