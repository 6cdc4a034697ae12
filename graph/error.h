/*
 * error.h - internal helpers for filling a caller's sn_error.
 *
 * Every internal function that can fail returns an sn_status and, where it knows more than the
 * status says, records a message with sn_errorf. The message is the whole story a user sees, so
 * it names the file, byte offset, node or call at fault.
 */
#ifndef SN_ERROR_H
#define SN_ERROR_H

#include "sentinel.h"

#if defined(__GNUC__)
#define SN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SN_PRINTF(a, b)
#endif

/* Fill err (if non-NULL) with status s and a formatted message; returns s so callers can write
 * `return sn_errorf(err, SN_ERR_FORMAT, "...")`. */
sn_status sn_errorf(sn_error *err, sn_status s, const char *fmt, ...) SN_PRINTF(3, 4);

/* Prefix an existing message with context ("loading x.sgraph: ..."), keeping its status. */
sn_status sn_error_prefix(sn_error *err, const char *fmt, ...) SN_PRINTF(2, 3);

/* Reset to SN_OK with an empty message. */
void sn_error_clear(sn_error *err);

#endif
