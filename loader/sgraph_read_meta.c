/*
 * sgraph_read_meta.c - the reader's metadata section (step 8 of the list at the top of
 * sgraph_read.c): class labels, image preprocessing and free-form properties, and the
 * preprocessing rules the writer shares.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgraph_reader.h"

const char *sn__sg_preprocess_problem(const sn_preprocess *pp) {
    if (!pp->present) return NULL;
    if (pp->width < 1 || pp->width > SN_SG_MAX_IMAGE_SIDE || pp->height < 1 ||
        pp->height > SN_SG_MAX_IMAGE_SIDE)
        return "width and height must be within 1..65536";
    if ((int)pp->channels != SN_CHANNELS_RGB && (int)pp->channels != SN_CHANNELS_BGR)
        return "unknown channel order";
    if ((int)pp->resize == SN_RESIZE_SHORTER_CROP) {
        int longest = pp->width > pp->height ? pp->width : pp->height;
        if (pp->resize_shorter < longest || pp->resize_shorter > SN_SG_MAX_IMAGE_SIDE)
            return "resize_shorter must be within max(width, height)..65536 to crop from";
    } else if ((int)pp->resize == SN_RESIZE_STRETCH) {
        if (pp->resize_shorter < 0 || pp->resize_shorter > SN_SG_MAX_IMAGE_SIDE)
            return "resize_shorter must be within 0..65536";
    } else {
        return "unknown resize mode";
    }
    for (int c = 0; c < 3; c++) {
        if (!isfinite(pp->mean[c])) return "a mean is not finite";
        if (!isfinite(pp->std[c]) || !(pp->std[c] > 0))
            return "a std is not a finite positive number";
    }
    return NULL;
}

static float sn__sg_getf(const uint8_t *p) {
    uint32_t u = sn__sg_get32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static sn_status sn__sg_read_preprocess(sn__sg_reader *rd, uint64_t off) {
    const uint8_t *p = rd->p + off;
    uint32_t present = sn__sg_get32(p + SN_SG_M_PRESENT);
    if (present > 1)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off + SN_SG_M_PRESENT,
                           "preprocessing 'present' is %u (must be 0 or 1)", present);
    if (!present) {
        for (int k = SN_SG_M_WIDTH; k < SN_SG_META_FIXED; k++)
            if (p[k])
                return sn__sg_fail(rd, SN_ERR_FORMAT, off + (uint64_t)k,
                                   "preprocessing is marked absent but its fields are not 0");
        return SN_OK;
    }
    sn_preprocess pp;
    memset(&pp, 0, sizeof pp);
    pp.present = 1;
    pp.width = (int32_t)sn__sg_get32(p + SN_SG_M_WIDTH);
    pp.height = (int32_t)sn__sg_get32(p + SN_SG_M_HEIGHT);
    pp.resize_shorter = (int32_t)sn__sg_get32(p + SN_SG_M_RESIZE_SHORTER);
    uint32_t resize = sn__sg_get32(p + SN_SG_M_RESIZE),
             channels = sn__sg_get32(p + SN_SG_M_CHANNELS);
    /* Out-of-range codes must not reach the enums (their values are unchecked there). */
    pp.resize = resize <= SN_RESIZE_SHORTER_CROP ? (sn_resize_mode)resize : SN_RESIZE_STRETCH;
    pp.channels = channels <= SN_CHANNELS_BGR ? (sn_channel_order)channels : SN_CHANNELS_RGB;
    for (int c = 0; c < 3; c++) {
        pp.mean[c] = sn__sg_getf(p + SN_SG_M_MEAN + 4 * c);
        pp.std[c] = sn__sg_getf(p + SN_SG_M_STD + 4 * c);
    }
    const char *why = resize > SN_RESIZE_SHORTER_CROP ? "unknown resize mode"
                      : channels > SN_CHANNELS_BGR    ? "unknown channel order"
                                                      : sn__sg_preprocess_problem(&pp);
    if (why) return sn__sg_fail(rd, SN_ERR_FORMAT, off + SN_SG_M_PRESENT, "preprocessing: %s", why);
    rd->g->meta.preprocess = pp;
    return SN_OK;
}

sn_status sn__sg_read_metadata(sn__sg_reader *rd) {
    uint64_t off = rd->off[SN_SG_SECT_METADATA], len = rd->len[SN_SG_SECT_METADATA];
    if (len < SN_SG_META_FIXED)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off,
                           "metadata section is %llu bytes, shorter than %d",
                           (unsigned long long)len, SN_SG_META_FIXED);
    uint32_t nl = sn__sg_get32(rd->p + off + SN_SG_M_N_LABELS);
    uint32_t np = sn__sg_get32(rd->p + off + SN_SG_M_N_PROPS);
    uint64_t room = len - SN_SG_META_FIXED;
    if (nl > room / 4 || np > (room - 4 * (uint64_t)nl) / 8 || nl > INT32_MAX || np > INT32_MAX ||
        room != 4 * (uint64_t)nl + 8 * (uint64_t)np)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off,
                           "%u labels and %u properties do not fit the %llu-byte metadata section",
                           nl, np, (unsigned long long)len);
    sn_status s = sn__sg_read_preprocess(rd, off);
    if (s != SN_OK) return s;
    uint64_t n = (uint64_t)nl + 2 * (uint64_t)np;
    const char **str = malloc(sizeof *str * (n ? n : 1));
    if (!str) return sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory for metadata");
    uint64_t at = off + SN_SG_META_FIXED;
    for (uint64_t k = 0; k < n && s == SN_OK; k++, at += 4) {
        char what[48];
        if (k < nl)
            snprintf(what, sizeof what, "label %llu", (unsigned long long)k);
        else
            snprintf(what, sizeof what, "property %llu %s", (unsigned long long)(k - nl) / 2,
                     (k - nl) % 2 ? "value" : "key");
        s = sn__sg_string(rd, at, what, &str[k]);
        if (s == SN_OK && k >= nl && (k - nl) % 2 == 0 && !str[k][0])
            s = sn__sg_fail(rd, SN_ERR_FORMAT, at, "property %llu has an empty key",
                            (unsigned long long)(k - nl) / 2);
    }
    if (s == SN_OK && nl) {
        s = sn_graph_set_labels(rd->g, str, (int)nl);
        if (s != SN_OK) sn_errorf(rd->err, s, "cannot store %u labels", nl);
    }
    /* Keys are unique: the graph keeps one value per key, so a duplicate would not survive. */
    const char **keys = np ? malloc(sizeof *keys * np) : NULL;
    if (s == SN_OK && np && !keys) s = sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory");
    if (s == SN_OK && np) {
        uint32_t a = 0, b = 0;
        for (uint32_t k = 0; k < np; k++) keys[k] = str[nl + 2 * (uint64_t)k];
        int dup = sn__sg_find_duplicate(keys, np, &a, &b);
        char q[SN__SG_QUOTE_SIZE];
        if (dup < 0) s = sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        if (dup == 0)
            s = sn__sg_fail(
                rd, SN_ERR_FORMAT, off + SN_SG_META_FIXED + 4 * (uint64_t)nl + 8 * (uint64_t)b,
                "property %u has the same key '%s' as property %u", b, sn__sg_quote(keys[b], q), a);
    }
    /* Filled directly: sn_graph_set_prop looks for the key first, quadratic in the count. */
    if (s == SN_OK && np) {
        sn_metadata *m = &rd->g->meta;
        m->prop_keys = sn_graph_alloc(rd->g, sizeof(char *) * np);
        m->prop_values = sn_graph_alloc(rd->g, sizeof(char *) * np);
        for (uint32_t k = 0; k < np && m->prop_keys && m->prop_values; k++) {
            m->prop_keys[k] = sn_graph_strdup(rd->g, str[nl + 2 * (uint64_t)k]);
            m->prop_values[k] = sn_graph_strdup(rd->g, str[nl + 2 * (uint64_t)k + 1]);
            if (!m->prop_keys[k] || !m->prop_values[k]) break;
            m->n_props = (int)k + 1;
        }
        if (m->n_props != (int)np)
            s = sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory for %u properties", np);
    }
    free(keys);
    free(str);
    return s;
}
