/*
 * onnx_guard.c - a depth check run on the bytes before protobuf-c decodes them.
 *
 * protobuf-c decodes nested messages recursively with no depth limit, and ONNX's schema nests
 * without bound (an attribute holds a graph whose nodes hold attributes...), so a few kilobytes of
 * crafted bytes could exhaust the stack. This walk follows only the length-delimited fields that
 * the generated descriptors say are sub-messages, recursing at most SN__OX_MAX_NESTING levels,
 * and refuses nesting deeper than any real model has. It visits each byte once. It decodes nothing and leaves every other
 * malformation for protobuf-c to report.
 */
#include <protobuf-c/protobuf-c.h>

#include "onnx_internal.h"

#define SN__OX_MAX_NESTING 48

/* Read a varint; false when it runs past `end` or over 10 bytes. */
static bool sn__varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* 1: too deep; 0: fine as far as nesting goes (malformed bytes are left to protobuf-c). */
static int sn__walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                    int depth) {
    if (depth > SN__OX_MAX_NESTING) return 1;
    while (p < end) {
        uint64_t tag, len;
        if (!sn__varint(&p, end, &tag)) return 0;
        switch (tag & 7) {
        case 0:
            if (!sn__varint(&p, end, &len)) return 0;
            break;
        case 1:
            if (end - p < 8) return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return 0;
            p += 4;
            break;
        case 2: {
            if (!sn__varint(&p, end, &len) || len > (uint64_t)(end - p)) return 0;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor &&
                sn__walk(f->descriptor, p, p + len, depth + 1))
                return 1;
            p += len;
            break;
        }
        default: return 0;
        }
    }
    return 0;
}

sn_status sn__ox_check_nesting(const uint8_t *data, size_t size, sn_error *err) {
    if (sn__walk(&onnx__model_proto__descriptor, data, data + size, 0))
        return sn_errorf(err, SN_ERR_FORMAT,
                         "ONNX model: messages nest more than %d levels deep; refusing to decode",
                         SN__OX_MAX_NESTING);
    return SN_OK;
}
