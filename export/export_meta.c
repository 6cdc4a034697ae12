/*
 * export_meta.c - the graph's metadata as text for exported files: TFLite keeps it in named
 * metadata buffers, ONNX in metadata_props. The JSON is small and flat, so it is written by
 * hand with proper string escaping rather than through a library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"

sn_status sn__export_meta_check(const sn_metadata *meta, bool onnx, sn_error *err) {
    for (int i = 0; i < meta->n_labels; i++)
        if (meta->labels[i] && strchr(meta->labels[i], '\n'))
            return sn_errorf(err, SN_ERR_UNSUPPORTED, "label %d ('%.60s...') holds a line break; "
                             "exported files store the labels one per line", i, meta->labels[i]);
    for (int i = 0; onnx && i < meta->n_props; i++)
        if (!strncmp(meta->prop_keys[i], "sentinel.", 9))
            return sn_errorf(err, SN_ERR_UNSUPPORTED, "property '%.100s': ONNX metadata keys "
                             "beginning 'sentinel.' are the exporter's own (labels, "
                             "preprocessing)", meta->prop_keys[i]);
    return SN_OK;
}

static void sn__json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static char *sn__mem_close(FILE *f, char **buf) {
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

char *sn__export_labels_text(const sn_metadata *meta) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    for (int i = 0; i < meta->n_labels; i++)
        fprintf(f, "%s%s", i ? "\n" : "", meta->labels[i] ? meta->labels[i] : "");
    return sn__mem_close(f, &buf);
}

char *sn__export_preprocess_json(const sn_preprocess *p, const char *layout, bool *none) {
    *none = !p->present;
    if (!p->present) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "{\"width\":%d,\"height\":%d,\"resize\":\"%s\"", p->width, p->height,
            p->resize == SN_RESIZE_SHORTER_CROP ? "shorter_crop" : "stretch");
    if (p->resize == SN_RESIZE_SHORTER_CROP)
        fprintf(f, ",\"resize_shorter\":%d", p->resize_shorter);
    fprintf(f, ",\"channels\":\"%s\",\"scale\":\"x=(pixel/255-mean)/std\"",
            p->channels == SN_CHANNELS_BGR ? "bgr" : "rgb");
    /* %.9g round-trips a float. */
    fprintf(f, ",\"mean\":[%.9g,%.9g,%.9g],\"std\":[%.9g,%.9g,%.9g],\"layout\":\"%s\"}",
            (double)p->mean[0], (double)p->mean[1], (double)p->mean[2], (double)p->std[0],
            (double)p->std[1], (double)p->std[2], layout);
    return sn__mem_close(f, &buf);
}

char *sn__export_props_json(const sn_metadata *meta) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fputc('{', f);
    for (int i = 0; i < meta->n_props; i++) {
        if (i) fputc(',', f);
        sn__json_string(f, meta->prop_keys[i]);
        fputc(':', f);
        sn__json_string(f, meta->prop_values[i]);
    }
    fputc('}', f);
    return sn__mem_close(f, &buf);
}
