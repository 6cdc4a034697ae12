/* dtype.c - element types: names and sizes; the library's version string. */
#include "sentinel.h"

const char *sn_dtype_name(sn_dtype t) {
    static const char *const names[SN_DTYPE_COUNT] = {"f32", "f16", "bf16", "i8", "u8", "i32", "i64"};
    if ((int)t < 0 || t >= SN_DTYPE_COUNT) return "?";
    return names[t];
}

size_t sn_dtype_size(sn_dtype t) {
    static const size_t sizes[SN_DTYPE_COUNT] = {4, 2, 2, 1, 1, 4, 8};
    if ((int)t < 0 || t >= SN_DTYPE_COUNT) return 0;
    return sizes[t];
}

#define SN__STR2(x) #x
#define SN__STR(x) SN__STR2(x)
const char *sn_version_string(void) {
    return SN__STR(SN_VERSION_MAJOR) "." SN__STR(SN_VERSION_MINOR) "." SN__STR(SN_VERSION_PATCH);
}
