/* error.c - the status strings (from the X-macro list) and sn_error helpers. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sn_status_string(sn_status s) {
    static const char *const names[] = {
#define SN__STATUS_STR(name, str) str,
        SN_STATUS_LIST(SN__STATUS_STR)
#undef SN__STATUS_STR
    };
    if ((int)s < 0 || s >= SN_STATUS_COUNT) return "unknown status";
    return names[s];
}

sn_status sn_errorf(sn_error *err, sn_status s, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = s;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return s;
}

sn_status sn_error_prefix(sn_error *err, const char *fmt, ...) {
    if (!err) return SN_ERR_INTERNAL;
    char prefix[256], old[SN_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation is acceptable: the message is for people and keeps its start. */
    size_t n = strlen(prefix);
    if (n > sizeof err->message - 3) n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t room = sizeof err->message - n - 2, len = strlen(old);
    if (len >= room) len = room - 1;
    memcpy(err->message + n + 2, old, len);
    err->message[n + 2 + len] = '\0';
    return err->status;
}

void sn_error_clear(sn_error *err) {
    if (!err) return;
    err->status = SN_OK;
    err->message[0] = '\0';
}
