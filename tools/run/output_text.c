/*
 * output_text.c - one output of one input on stdout: the top classes, one per line with score
 * and label, or a one-line tensor summary. The input's own line is written by output.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "run.h"

void run_print_output(const sn_model *m, const sn_tensor_info *t, const run_verdict *v,
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
        char *s = run_format_dims(d, t->rank, 0);
        printf("  %sshape %s  min %.6g  max %.6g  mean %.6g", named ? "  " : "", s, v->min,
               v->max, v->mean);
        if (v->nonfinite) printf("  (%zu NaN/Inf)", v->nonfinite);
        putchar('\n');
        free(s);
    }
}
