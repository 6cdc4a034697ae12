/*
 * jsonl.h - a small strict JSON parser for the CLI tests: validates JSON Lines files record by
 * record and reads string and number fields of a record.
 */
#ifndef SN_TEST_JSONL_H
#define SN_TEST_JSONL_H

#include <stddef.h>

/* The records of a JSON Lines file (malloc'ed strings); asserts that the file ends with a
 * newline and that every line is exactly one JSON object. */
char **sn_test_jsonl_records(const char *path, int *count);
void sn_test_jsonl_free(char **recs, int n);
/* The decoded string value of "key" in a record: 0, or -1. The first "key": in the text is
 * taken, at any depth, so ask for keys that occur once in a record. */
int sn_test_json_get_string(const char *rec, const char *key, char *buf, size_t size);
/* The number value of "key" (its first occurrence, as above): 0, or -1. */
int sn_test_json_get_number(const char *rec, const char *key, double *out);

#endif
