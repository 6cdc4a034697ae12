/*
 * pass_summary.c - printing optimisation reports and parsing pass lists (pass_summary.h).
 */
#include "pass_summary.h"

#include <string.h>
#include <strings.h>

#include "graph_report.h"

int sn_pass_list_parse(const char *list, unsigned *bits, char *bad, size_t bad_size) {
    if (bad_size) bad[0] = '\0';
    if (!list || !*list) return -1;
    if (!strcmp(list, "all")) {
        *bits = SN_PASS_ALL;
        return 0;
    }
    if (!strcmp(list, "none")) {
        *bits = 0;
        return 0;
    }
    unsigned b = 0;
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name) {
            if (bad_size) snprintf(bad, bad_size, "%.*s", (int)(len < 40 ? len : 40), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int i = sn_pass_find(name);
        if (i < 0) {
            if (bad_size) snprintf(bad, bad_size, "%s", name);
            return -1;
        }
        b |= 1u << i;
        if (!comma) break;
        p = comma + 1;
    }
    *bits = b;
    return 0;
}

int sn_layout_parse(const char *s, sn_layout *out) {
    if (s && !strcasecmp(s, "nchw")) {
        *out = SN_LAYOUT_NCHW;
        return 0;
    }
    if (s && !strcasecmp(s, "nhwc")) {
        *out = SN_LAYOUT_NHWC;
        return 0;
    }
    return -1;
}

void sn_pass_summary_print(FILE *f, const sn_pass_report *reps, int n, double ms) {
    char nodes[48], bytes[32];
    fprintf(f, "optimisation\n  %-15s %-14s %7s %15s  %s\n", "pass", "nodes", "changes",
            "weights removed", "what");
    for (int i = 0; i < n; i++) {
        const sn_pass_report *r = &reps[i];
        snprintf(nodes, sizeof nodes, "%d -> %d", r->nodes_before, r->nodes_after);
        fprintf(f, "  %-15s %-14s %7d %15s  %s", r->pass, nodes, r->changes,
                sn_report_grouped(r->weight_bytes_removed, bytes, sizeof bytes), r->detail);
        if (i == n - 1) fprintf(f, "; %.1f ms", ms);
        fputc('\n', f);
    }
}

static void sn__json_text(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fputc('"', f);
}

void sn_pass_summary_json(FILE *f, const sn_pass_report *reps, int n, double ms) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        const sn_pass_report *r = &reps[i];
        fprintf(f, "%s{\"pass\":", i ? "," : "");
        sn__json_text(f, r->pass);
        fprintf(f, ",\"nodes_before\":%d,\"nodes_after\":%d,\"changes\":%d,"
                   "\"weight_bytes_removed\":%zu,\"detail\":",
                r->nodes_before, r->nodes_after, r->changes, r->weight_bytes_removed);
        sn__json_text(f, r->detail);
        if (i == n - 1) fprintf(f, ",\"ms\":%.3f", ms);
        fputc('}', f);
    }
    fputc(']', f);
}
