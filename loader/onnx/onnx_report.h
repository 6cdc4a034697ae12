/*
 * onnx_report.h - building the import report (onnx_report.c). sn_onnx_report itself is declared
 * in loader/onnx.h.
 */
#ifndef SN_ONNX_REPORT_H
#define SN_ONNX_REPORT_H

#include "onnx.h"
#include "onnx.pb-c.h"

sn_status sn__ox_report_add(sn_onnx_report *r, const Onnx__NodeProto *n, int index,
                            int64_t opset, const char *reason);
/* A warning (printf-style); SN_ERR_OUT_OF_MEMORY is the only failure. */
sn_status sn__ox_report_warn(sn_onnx_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* SN_ERR_UNSUPPORTED with as much of the list as the message holds. */
sn_status sn__ox_report_error(const sn_onnx_report *r, sn_error *err);

#endif
