/*
 * op_registry.c - maps sn_op to its definition. Each definition lives with its op family in
 * the graph/ops files as `const sn_op_def sn_op_def_<suffix>`; the X-macro list in op.h ties them here.
 */
#include <string.h>

#include "op.h"

#define SN__OP_EXTERN(e, name, def) extern const sn_op_def sn_op_def_##def;
SN_OP_LIST(SN__OP_EXTERN)
#undef SN__OP_EXTERN

static const sn_op_def *const sn__op_table[SN_OP_COUNT] = {
#define SN__OP_ENTRY(e, name, def) [SN_OP_##e] = &sn_op_def_##def,
    SN_OP_LIST(SN__OP_ENTRY)
#undef SN__OP_ENTRY
};

const sn_op_def *sn_op_get(sn_op op) {
    if ((int)op < 0 || op >= SN_OP_COUNT) return NULL;
    return sn__op_table[op];
}

const char *sn_op_name(sn_op op) {
    const sn_op_def *d = sn_op_get(op);
    return d ? d->name : "?";
}

sn_op sn_op_from_name(const char *name) {
    if (!name) return SN_OP_COUNT;
    for (int i = 0; i < SN_OP_COUNT; i++)
        if (strcmp(sn__op_table[i]->name, name) == 0) return (sn_op)i;
    return SN_OP_COUNT;
}

const char *sn_activation_name(sn_activation a) {
    static const char *const names[SN_ACT_COUNT] = {
        "none", "relu", "clip", "leaky_relu", "sigmoid", "tanh", "hard_sigmoid", "hard_swish", "silu",
    };
    if ((int)a < 0 || a >= SN_ACT_COUNT) return "?";
    return names[a];
}

int64_t sn_value_numel(const sn_value *v) {
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->d[i];
    return n;
}
