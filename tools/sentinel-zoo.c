/*
 * sentinel-zoo - write a model from the zoo (tools/zoo) to a .sgraph file.
 *
 *   sentinel-zoo NAME -o FILE.sgraph [--seed S]   build NAME with weights from seed S (0)
 *   sentinel-zoo --list                            the models and what they are
 *   sentinel-zoo --help
 *
 * Exit status: 0 on success, 1 when building or writing fails, 2 for a usage error.
 * The file is written atomically (temporary file + rename), so a failure leaves no partial file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph_report.h"
#include "sgraph.h"
#include "zoo.h"

static void sn__usage(FILE *f) {
    fprintf(f, "usage: sentinel-zoo NAME -o FILE.sgraph [--seed S]\n"
               "       sentinel-zoo --list\n"
               "       sentinel-zoo --help\n"
               "Writes zoo model NAME, with deterministic random weights drawn from seed S\n"
               "(an unsigned integer, default 0), to FILE.sgraph.\n");
}

static void sn__list(FILE *f) {
    for (int i = 0; i < sn_zoo_count(); i++)
        fprintf(f, "  %-14s %s\n", sn_zoo_name(i), sn_zoo_description(i));
}

static int sn__usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "sentinel-zoo: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    sn__usage(stderr);
    return 2;
}

/* A decimal or 0x-hex unsigned 64-bit integer, nothing else (no sign, space or octal). */
static int sn__parse_seed(const char *s, uint64_t *out) {
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!isxdigit((unsigned char)s[0]) || (base == 10 && !isdigit((unsigned char)s[0]))) return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || !end || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

int main(int argc, char **argv) {
    const char *name = NULL, *path = NULL, *seed_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sn__usage(stdout);
            printf("models:\n");
            sn__list(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            sn__list(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) return sn__usage_error("%s needs a file name", a);
            path = argv[++i];
        } else if (!strcmp(a, "--seed")) {
            if (i + 1 >= argc) return sn__usage_error("%s needs a value", a);
            seed_arg = argv[++i];
        } else if (!strncmp(a, "--seed=", 7)) {
            seed_arg = a + 7;
        } else if (a[0] == '-' && a[1]) {
            return sn__usage_error("unknown option '%s'", a);
        } else if (name) {
            return sn__usage_error("more than one model name (second: '%s')", a);
        } else {
            name = a;
        }
    }
    if (!name) return sn__usage_error("%s", "no model name given");
    if (sn_zoo_find(name) < 0) {
        fprintf(stderr, "sentinel-zoo: unknown model '%s'; the models are:\n", name);
        sn__list(stderr);
        return 2;
    }
    if (!path || !*path) return sn__usage_error("%s", "no output file given (-o FILE.sgraph)");
    uint64_t seed = 0;
    if (seed_arg && sn__parse_seed(seed_arg, &seed) != 0)
        return sn__usage_error("bad seed '%s': expected an unsigned 64-bit integer", seed_arg);

    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    if (sn_zoo_build(name, seed, &g, &err) != SN_OK) {
        fprintf(stderr, "sentinel-zoo: building %s: %s\n", name, err.message);
        return 1;
    }
    sn_status st = sn_sgraph_write_file(g, path, &err);
    int64_t params = sn_zoo_param_count(g, NULL);
    sn_graph_destroy(g);
    if (st != SN_OK) {
        fprintf(stderr, "sentinel-zoo: writing %s: %s\n", path, err.message);
        return 1;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "sentinel-zoo: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char pbuf[32], bbuf[32];
    printf("%s: %s parameters, %s bytes -> %s\n", name,
           sn_report_grouped((uint64_t)params, pbuf, sizeof pbuf),
           sn_report_grouped((uint64_t)sb.st_size, bbuf, sizeof bbuf), path);
    return 0;
}
