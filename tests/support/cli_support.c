/* cli_support.c - see cli_support.h. */
#include "cli_support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

int sn_test_cli_run(char **out, const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    cr_assert(len >= 0 && (size_t)len < sizeof cmd, "command line too long: %.200s...", cmd);
    int sig = 0;
    int rc = sn_test_run(cmd, out, &sig);
    cr_assert_eq(sig, 0, "'%s' died of signal %d:\n%s", cmd, sig, out && *out ? *out : "");
    return rc;
}

char *sn_test_cli_workdir(char *model, size_t model_size) {
    char *dir = sn_test_mkdtemp();
    cr_assert(dir, "cannot make a temporary folder");
    cr_assert_lt(snprintf(model, model_size, "%s/m.sgraph", dir), (int)model_size);
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' seed-cnn -o '%s'", sn_test_bin("sentinel-zoo"), model);
    cr_assert_eq(rc, 0, "sentinel-zoo: %s", out);
    free(out);
    return dir;
}

void sn_test_cli_mkimages(const char *dir, int count, unsigned long long seed,
                          const char *size) {
    char *out = NULL;
    int rc = sn_test_cli_run(&out, "'%s' '%s' --count %d --seed %llu %s%s",
                             sn_test_bin("sentinel-mkimages"), dir, count, seed,
                             size ? "--size " : "", size ? size : "");
    cr_assert_eq(rc, 0, "sentinel-mkimages: %s", out);
    free(out);
}

void sn_test_cli_image_path(const char *dir, const char *prefix, char *buf, size_t size) {
    DIR *d = opendir(dir);
    cr_assert(d, "cannot list %s", dir);
    char best[1024] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)) &&
            (!best[0] || strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    cr_assert(best[0], "no file %s* in %s", prefix, dir);
    cr_assert_lt(snprintf(buf, size, "%s/%s", dir, best), (int)size);
}

int sn_test_count_of(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}
