/*
 * cli_support.h - what the command-line tests of sentinel-run share (test_cli_run.c,
 * test_cli_run_input.c, test_cli_video.c): running a built program with a crash check, a
 * temporary folder with a zoo model, generated images, and counting in the output.
 */
#ifndef SN_TEST_CLI_SUPPORT_H
#define SN_TEST_CLI_SUPPORT_H

#include <stddef.h>

/* Runs the command line fmt (printf-style) through the shell, capturing stdout and stderr
 * into *out (malloc'ed; out may be NULL), and asserts that it did not die of a signal.
 * Returns its exit status. */
int sn_test_cli_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh temporary folder (malloc'ed path; sn_test_rmtree removes it) holding the zoo's
 * seed-cnn written by sentinel-zoo as m.sgraph, whose path goes to model. */
char *sn_test_cli_workdir(char *model, size_t model_size);

/* sentinel-mkimages DIR --count N --seed S [--size WxH]: images of every kind the image
 * loader reads; size NULL leaves the generator's own sizes. */
void sn_test_cli_mkimages(const char *dir, int count, unsigned long long seed,
                          const char *size);

/* The path of the file in dir whose name starts with prefix ("004-"), the first by name;
 * asserts there is one. */
void sn_test_cli_image_path(const char *dir, const char *prefix, char *buf, size_t size);

/* How many times needle occurs in s, not overlapping. */
int sn_test_count_of(const char *s, const char *needle);

#endif
