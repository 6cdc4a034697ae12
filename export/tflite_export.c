/*
 * tflite_export.c - sn_export_tflite: legalize a clone of the graph, lower it to TFLite in NHWC,
 * quantize (fp16 weights, or int8 from calibration on the legalized graph), write the
 * FlatBuffer. The caller's graph is never modified. Stages: tflite_export.h.
 */
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "passes/pass.h"
#include "tflite_export.h"

sn_status sn_export_tflite(const sn_graph *g, const sn_tflite_options *opt, void **data,
                           size_t *size, sn_error *err) {
    sn_error local = {0};
    if (!err) err = &local; /* the stages read err->status after a failed helper */
    sn_error_clear(err);
    if (!g || !data || !size)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_export_tflite: NULL argument");
    *data = NULL;
    *size = 0;
    sn_tflite_options o = SN_TFLITE_OPTIONS_INIT;
    if (opt) {
        if (opt->size < sizeof o.size)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "TFLite export options: size is %zu; "
                             "initialise them with SN_TFLITE_OPTIONS_INIT",
                             opt->size);
        memcpy(&o, opt, opt->size < sizeof o ? opt->size : sizeof o);
        o.size = sizeof o;
    }
    if (o.quant != SN_TFLITE_FLOAT && o.quant != SN_TFLITE_FP16 && o.quant != SN_TFLITE_INT8)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "TFLite export: unknown quantization %d",
                         (int)o.quant);
    if (o.ranges != SN_TFLITE_RANGES_MSE && o.ranges != SN_TFLITE_RANGES_MINMAX)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "TFLite export: unknown int8 range "
                         "choice %d", (int)o.ranges);
    if (o.quant == SN_TFLITE_INT8 && (!o.calibration || o.calibration->count < 1))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "int8 quantization needs calibration "
                         "samples (--calibration DIR)");
    sn_status ms = sn__export_meta_check(&g->meta, false, err);
    if (ms != SN_OK) return ms;
    sn_graph *lg = NULL;
    sn_tfl_model m;
    bool have_model = false;
    sn__tfl_ranges ranges = {0};
    sn_status s = sn_graph_clone(g, &lg);
    if (s != SN_OK) {
        s = sn_errorf(err, s, "TFLite export: cloning the graph failed");
        goto done;
    }
    if ((s = sn__tfl_legalize(lg, err)) != SN_OK) goto done;
    if ((s = sn_tfl_model_init(&m, lg, err)) != SN_OK) goto done;
    have_model = true;
    if ((s = sn__tfl_lower(&m, err)) != SN_OK) goto done;
    if (o.quant == SN_TFLITE_FP16) s = sn__tfl_quantize_fp16(&m, err);
    if (o.quant == SN_TFLITE_INT8) {
        s = sn__tfl_calibrate(lg, o.calibration, o.threads, o.ranges, &ranges, err);
        if (s == SN_OK) s = sn__tfl_quantize_int8(&m, &ranges, err);
    }
    if (s == SN_OK) s = sn_tfl_model_write(&m, data, size, err);
done:
    if (s != SN_OK && err->status == SN_OK) sn_errorf(err, s, "TFLite export failed");
    sn__tfl_ranges_free(&ranges);
    if (have_model) sn_tfl_model_free(&m);
    sn_graph_destroy(lg);
    return s;
}
