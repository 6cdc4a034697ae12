/*
 * model_any.c - sn_model_load_any: a model file of either kind, told apart by its first bytes.
 * A .sgraph file is mapped as sn_model_load_file does; an ONNX model is imported, optimised with
 * the default passes (as sentinel-convert does) and wrapped, all in memory.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "model.h"
#include "onnx.h"
#include "passes/pass.h"
#include "sgraph_format.h"

sn_status sn_model_load_any(const char *path, sn_model **out, sn_error *err) {
    return sn_model_load_any_report(path, out, NULL, err);
}

sn_status sn_model_load_any_report(const char *path, sn_model **out, sn_onnx_report *report,
                                   sn_error *err) {
    if (report) memset(report, 0, sizeof *report);
    if (out) *out = NULL;
    if (!path || !out)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_model_load_any: NULL %s",
                         !path ? "path" : "out");
    unsigned char head[SN_SG_MAGIC_SIZE] = {0};
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, head, sizeof head);
        close(fd);
    }
    /* Unreadable files, .sgraph files and anything unrecognised go to the .sgraph loader, whose
     * messages say what is wrong. */
    if (got < (ssize_t)sizeof head || !memcmp(head, SN_SG_MAGIC, SN_SG_MAGIC_SIZE) ||
        !sn_onnx_sniff(head, sizeof head))
        return sn_model_load_file(path, out, err);
    sn_graph *g = NULL;
    sn_status st = sn_onnx_import_file(path, NULL, &g, report, err);
    if (st == SN_OK) st = sn_graph_optimize(g, NULL, NULL, NULL, err);
    if (st != SN_OK) {
        if (err && !strstr(err->message, path)) sn_error_prefix(err, "%s", path);
        sn_graph_destroy(g);
        return st;
    }
    return sn_model_from_graph(g, out, err);
}
