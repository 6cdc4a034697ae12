/* jsonl.c - see jsonl.h. */
#include "jsonl.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

/* Decodes into buf (ASCII and UTF-8 passthrough; \u escapes below 0x80 only, else '?'). */
static const char *json_string(const char *p, char *buf, size_t size) {
    size_t n = 0;
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            char e = *p++, d = 0;
            switch (e) {
            case '"': d = '"'; break;
            case '\\': d = '\\'; break;
            case '/': d = '/'; break;
            case 'n': d = '\n'; break;
            case 't': d = '\t'; break;
            case 'r': d = '\r'; break;
            case 'b': d = '\b'; break;
            case 'f': d = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++, p++) {
                    if (!isxdigit((unsigned char)*p)) return NULL;
                    v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0'
                                                                       : (tolower(*p) - 'a' + 10));
                }
                d = v < 0x80 ? (char)v : '?';
                break;
            }
            default: return NULL;
            }
            if (buf && n + 1 < size) buf[n++] = d;
        } else {
            if (buf && n + 1 < size) buf[n++] = (char)c;
            p++;
        }
    }
    if (buf) buf[n] = '\0';
    return p + 1;
}

static const char *json_value(const char *p);

static const char *json_number(const char *p) {
    const char *s = p;
    if (*p == '-') p++;
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    return p > s ? p : NULL;
}

static const char *json_value(const char *p) {
    p = ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (!(p = json_string(ws(p), NULL, 0))) return NULL;
                p = ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = json_value(p))) return NULL;
            p = ws(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == '"') return json_string(p, NULL, 0);
    if (!strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    if (!strncmp(p, "null", 4)) return p + 4;
    return json_number(p);
}

int sn_test_json_get_string(const char *rec, const char *key, char *buf, size_t size) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(rec, pat);
    return p && json_string(p + strlen(pat), buf, size) ? 0 : -1;
}

/* Splits a JSON Lines file; checks every line is exactly one JSON object. */
char **sn_test_jsonl_records(const char *path, int *count) {
    size_t size;
    char *text = sn_test_read_file(path, &size);
    cr_assert(text, "cannot read %s", path);
    cr_assert(size > 0 && text[size - 1] == '\n', "%s does not end with a newline", path);
    char **recs = calloc(size + 1, sizeof *recs);
    cr_assert(recs);
    int n = 0;
    /* Split by hand, not with strtok, which would pass over an empty line. */
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        const char *end = json_value(line);
        cr_assert(end && line[0] == '{' && *ws(end) == '\0', "%s: invalid JSON record %d: '%s'",
                  path, n + 1, line);
        recs[n] = strdup(line);
        cr_assert(recs[n++]);
    }
    free(text);
    *count = n;
    return recs;
}

void sn_test_jsonl_free(char **recs, int n) {
    for (int i = 0; i < n; i++) free(recs[i]);
    free(recs);
}

int sn_test_json_get_number(const char *rec, const char *key, double *out) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(rec, pat);
    if (!p) return -1;
    p += strlen(pat);
    const char *end = json_number(p);
    if (!end) return -1;
    *out = strtod(p, NULL);
    return 0;
}
