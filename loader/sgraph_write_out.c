/*
 * sgraph_write_out.c - emitting a laid-out .sgraph (sgraph_write.c) into memory or into a file.
 * A file is written atomically (file_atomic.h): `path` is either the old file or the complete
 * new one, never a partial write.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file_atomic.h"
#include "sgraph.h"
#include "sgraph_format.h"
#include "sgraph_writer.h"

sn_status sn_sgraph_write_memory(const sn_graph *g, void **data, size_t *size, sn_error *err) {
    if (!g || !data || !size)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_sgraph_write_memory: NULL argument");
    *data = NULL;
    *size = 0;
    sn__sg_plan plan;
    sn_status s = sn__sg_plan_build(g, &plan, err);
    if (s != SN_OK) return s;
    uint8_t *buf = plan.size <= SIZE_MAX ? malloc((size_t)plan.size) : NULL;
    if (!buf) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "sgraph write: cannot allocate %llu bytes",
                      (unsigned long long)plan.size);
        goto done;
    }
    memcpy(buf, plan.head, (size_t)plan.w_off);
    uint64_t at = plan.w_off;
    for (uint32_t k = 0; k < plan.n_w; k++) {
        memset(buf + at, 0, (size_t)(plan.w[k].off - at));
        if (plan.w[k].size) memcpy(buf + plan.w[k].off, plan.w[k].data, (size_t)plan.w[k].size);
        at = plan.w[k].off + plan.w[k].size;
    }
    *data = buf;
    *size = (size_t)plan.size;
done:
    sn__sg_plan_free(&plan);
    return s;
}

/* The laid-out file: head, then each weight after its zero padding. */
static int sn__sg_write_plan(int fd, void *ctx) {
    static const uint8_t zeros[SN_SG_WEIGHT_ALIGN];
    const sn__sg_plan *plan = ctx;
    if (sn__file_write_all(fd, plan->head, plan->w_off)) return -1;
    uint64_t at = plan->w_off;
    for (uint32_t k = 0; k < plan->n_w; k++) {
        if (sn__file_write_all(fd, zeros, plan->w[k].off - at) ||
            sn__file_write_all(fd, plan->w[k].data, plan->w[k].size))
            return -1;
        at = plan->w[k].off + plan->w[k].size;
    }
    return 0;
}

sn_status sn_sgraph_write_file(const sn_graph *g, const char *path, sn_error *err) {
    if (!g || !path || !*path)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_sgraph_write_file: NULL graph or path");
    sn__sg_plan plan;
    sn_status s = sn__sg_plan_build(g, &plan, err);
    if (s != SN_OK) return s;
    s = sn__file_write_atomic(path, sn__sg_write_plan, &plan, err);
    sn__sg_plan_free(&plan);
    return s;
}
