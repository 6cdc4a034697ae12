/*
 * sgraph_read_nodes.c - the reader's node table (step 7 of the list at the top of
 * sgraph_read.c) and the checks that need every node: each graph output is produced (or is a
 * constant) and no activation tensor is left without a producer.
 *
 * Records have variable size, so each one is walked with a cursor that is checked against the
 * end of the table before every read. Each node is checked against its op's definition (arity,
 * attribute names and types) before it is added to the graph, so messages carry the offset of
 * the field at fault rather than a graph-level complaint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgraph_reader.h"

#define SN__SG_MAX_ATTRS 64 /* per node: bounded by the op's attribute list, not the file */

static const char *const sn__sg_attr_type_names[] = {"?",    "int",    "float",
                                                     "ints", "floats", "string"};

static const char *sn__sg_type_name(uint32_t t) {
    return t >= 1 && t <= SN_ATTR_STRING ? sn__sg_attr_type_names[t] : "?";
}

typedef struct sn__sg_node_ctx {
    sn__sg_reader *rd;
    uint32_t index;
    const char *op_name;
    const sn_op_def *def;
    uint64_t end; /* end of the node table */
    int *ios;     /* inputs then outputs */
    sn_attr attrs[SN__SG_MAX_ATTRS];
    void *arrays[SN__SG_MAX_ATTRS]; /* INTS/FLOATS values, freed after the node is added */
} sn__sg_node_ctx;

/* One attribute at *cur: its header, its payload, and its name and type against the op. */
static sn_status sn__sg_attr(sn__sg_node_ctx *c, uint32_t k, uint64_t *cur) {
    sn__sg_reader *rd = c->rd;
    uint64_t at = *cur;
    if (c->end - at < SN_SG_ATTR_HEADER)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                           "node %u (%s) attribute %u runs past the node table", c->index,
                           c->op_name, k);
    sn_attr *a = &c->attrs[k];
    char what[64], q[SN__SG_QUOTE_SIZE];
    snprintf(what, sizeof what, "node %u attribute %u name", c->index, k);
    sn_status s = sn__sg_string(rd, at, what, &a->name);
    if (s != SN_OK) return s;
    uint32_t type = sn__sg_get32(rd->p + at + 4), count = sn__sg_get32(rd->p + at + 8);
    const char *an = sn__sg_quote(a->name, q);
    uint64_t pay = at + SN_SG_ATTR_HEADER, room = c->end - pay, elem = 0;
    switch (type) {
    case SN_ATTR_INT: elem = 8; break;
    case SN_ATTR_FLOAT: elem = 4; break;
    case SN_ATTR_INTS: elem = 8; break;
    case SN_ATTR_FLOATS: elem = 4; break;
    case SN_ATTR_STRING: elem = 4; break;
    default:
        return sn__sg_fail(rd, SN_ERR_FORMAT, at + 4,
                           "node %u (%s) attribute '%s': unknown type %u", c->index, c->op_name, an,
                           type);
    }
    bool array = type == SN_ATTR_INTS || type == SN_ATTR_FLOATS;
    if (!array && count != 1)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at + 8,
                           "node %u (%s) attribute '%s': type %s has count %u (must be 1)",
                           c->index, c->op_name, an, sn__sg_type_name(type), count);
    if (array && count > SN_SG_MAX_ATTR_ELEMS)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at + 8,
                           "node %u (%s) attribute '%s': %u elements exceed the limit of %d",
                           c->index, c->op_name, an, count, SN_SG_MAX_ATTR_ELEMS);
    if ((uint64_t)count > room / elem)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at + 8,
                           "node %u (%s) attribute '%s': %u %s values run past the node table",
                           c->index, c->op_name, an, count, sn__sg_type_name(type));
    *cur = pay + elem * count;

    const sn_attr_spec *spec = c->def->attrs;
    while (spec && spec->name && strcmp(spec->name, a->name)) spec++;
    if (!spec || !spec->name)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at, "node %u: op %s has no attribute '%s'", c->index,
                           c->op_name, an);
    if ((uint32_t)spec->type != type)
        return sn__sg_fail(rd, SN_ERR_FORMAT, at + 4,
                           "node %u: attribute '%s' of %s must be %s, the file has %s", c->index,
                           an, c->op_name, sn__sg_type_name((uint32_t)spec->type),
                           sn__sg_type_name(type));
    for (uint32_t j = 0; j < k; j++)
        if (!strcmp(c->attrs[j].name, a->name))
            return sn__sg_fail(rd, SN_ERR_FORMAT, at, "node %u (%s): attribute '%s' appears twice",
                               c->index, c->op_name, an);

    a->type = (sn_attr_type)type;
    a->n = (int)count;
    const uint8_t *p = rd->p + pay;
    if (type == SN_ATTR_INT) {
        a->v.i = (int64_t)sn__sg_get64(p);
    } else if (type == SN_ATTR_FLOAT) {
        uint32_t u = sn__sg_get32(p);
        memcpy(&a->v.f, &u, sizeof u);
    } else if (type == SN_ATTR_STRING) {
        snprintf(what, sizeof what, "node %u attribute '%s' value", c->index, an);
        if ((s = sn__sg_string(rd, pay, what, &a->v.s)) != SN_OK) return s;
        a->n = (int)strlen(a->v.s);
    } else {
        /* The file's values may be unaligned; the graph copies from an aligned buffer. */
        void *buf = malloc(count ? elem * count : 1);
        if (!buf) return sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory for an attribute");
        c->arrays[k] = buf;
        for (uint32_t e = 0; e < count; e++) {
            if (type == SN_ATTR_INTS)
                ((int64_t *)buf)[e] = (int64_t)sn__sg_get64(p + 8 * (uint64_t)e);
            else {
                uint32_t u = sn__sg_get32(p + 4 * (uint64_t)e);
                memcpy((float *)buf + e, &u, sizeof u);
            }
        }
        a->v.ints = buf; /* the union's pointers share storage */
        if (type == SN_ATTR_FLOATS) a->v.floats = buf;
    }
    return SN_OK;
}

/* Tensor references: inputs may be -1 only past the op's required ones; outputs are fresh. */
static sn_status sn__sg_refs(sn__sg_node_ctx *c, uint64_t at, uint32_t n_in, uint32_t n_out) {
    sn__sg_reader *rd = c->rd;
    char q[SN__SG_QUOTE_SIZE];
    for (uint32_t k = 0; k < n_in + n_out; k++, at += 4) {
        int32_t v = (int32_t)sn__sg_get32(rd->p + at);
        bool out = k >= n_in;
        uint32_t slot = out ? k - n_in : k;
        c->ios[k] = v;
        if (!out && v == -1 && slot >= (uint32_t)c->def->min_inputs) continue;
        if (v < 0 || (uint32_t)v >= rd->n_tensors)
            return sn__sg_fail(rd, SN_ERR_FORMAT, at, "node %u (%s) %s %u: tensor %d is %s",
                               c->index, c->op_name, out ? "output" : "input", slot, v,
                               v == -1 ? "omitted but the op requires it" : "out of range");
        if (!out) continue;
        const char *tn = sn__sg_quote(rd->t[v].name, q);
        if (rd->t[v].flags & SN_SG_TF_CONST || rd->role[v] & SN__SG_ROLE_INPUT)
            return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                               "node %u (%s) output %u: tensor %d '%s' is a %s", c->index,
                               c->op_name, slot, v, tn,
                               rd->role[v] & SN__SG_ROLE_INPUT ? "graph input" : "constant");
        if (rd->role[v] & SN__SG_ROLE_PRODUCED)
            return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                               "node %u (%s) output %u: tensor %d '%s' already has a producer",
                               c->index, c->op_name, slot, v, tn);
        rd->role[v] |= SN__SG_ROLE_PRODUCED;
    }
    return SN_OK;
}

/* One node record at *cur: checked, then added to the graph. */
static sn_status sn__sg_node(sn__sg_reader *rd, uint32_t i, uint64_t *cur, uint64_t end) {
    sn__sg_node_ctx c;
    memset(&c, 0, sizeof c);
    c.rd = rd;
    c.index = i;
    c.end = end;
    uint64_t rec = *cur;
    char what[48], q[SN__SG_QUOTE_SIZE], q2[SN__SG_QUOTE_SIZE];
    const char *opn, *name;
    sn_status s;
    if (end - rec < SN_SG_NODE_HEADER)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec, "node %u runs past the end of the node table",
                           i);
    snprintf(what, sizeof what, "node %u op", i);
    if ((s = sn__sg_string(rd, rec, what, &opn)) != SN_OK) return s;
    snprintf(what, sizeof what, "node %u name", i);
    if ((s = sn__sg_string(rd, rec + 4, what, &name)) != SN_OK) return s;
    sn_op op = sn_op_from_name(opn);
    if (op == SN_OP_COUNT)
        return sn__sg_fail(rd, SN_ERR_UNSUPPORTED, rec, "node %u '%s': unknown op '%s'", i,
                           sn__sg_quote(name, q2), sn__sg_quote(opn, q));
    c.def = sn_op_get(op);
    c.op_name = c.def->name;
    uint32_t n_in = sn__sg_get32(rd->p + rec + 8), n_out = sn__sg_get32(rd->p + rec + 12);
    uint32_t n_attr = sn__sg_get32(rd->p + rec + 16);
    if (n_in < (uint32_t)c.def->min_inputs || n_in > (uint32_t)c.def->max_inputs)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + 8, "node %u: %s takes %d..%d inputs, not %u", i,
                           c.op_name, c.def->min_inputs, c.def->max_inputs, n_in);
    if (n_out != (uint32_t)c.def->n_outputs)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + 12, "node %u: %s has %d outputs, not %u", i,
                           c.op_name, c.def->n_outputs, n_out);
    uint32_t n_specs = 0;
    while (c.def->attrs && c.def->attrs[n_specs].name) n_specs++;
    if (n_attr > n_specs || n_attr > SN__SG_MAX_ATTRS)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + 16,
                           "node %u: %u attributes, but %s accepts only %u", i, n_attr, c.op_name,
                           n_specs);
    uint64_t refs = rec + SN_SG_NODE_HEADER;
    if (((uint64_t)n_in + n_out) * 4 > end - refs)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + 8,
                           "node %u (%s): %u inputs and %u outputs run past the node table", i,
                           c.op_name, n_in, n_out);
    c.ios = malloc(sizeof(int) * ((size_t)n_in + n_out));
    if (!c.ios) return sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory for node %u", i);
    if ((s = sn__sg_refs(&c, refs, n_in, n_out)) != SN_OK) goto done;
    *cur = refs + 4 * ((uint64_t)n_in + n_out);
    for (uint32_t k = 0; k < n_attr; k++)
        if ((s = sn__sg_attr(&c, k, cur)) != SN_OK) goto done;
    s = sn_graph_add_node(rd->g, op, name, c.ios, (int)n_in, c.ios + n_in, (int)n_out, c.attrs,
                          (int)n_attr, NULL);
    if (s != SN_OK)
        sn__sg_fail(rd, s, rec, "node %u (%s): cannot add it to the graph: %s", i, c.op_name,
                    sn_status_string(s));
done:
    for (uint32_t k = 0; k < SN__SG_MAX_ATTRS; k++) free(c.arrays[k]);
    free(c.ios);
    return s;
}

sn_status sn__sg_read_nodes(sn__sg_reader *rd) {
    uint64_t off = rd->off[SN_SG_SECT_NODES], len = rd->len[SN_SG_SECT_NODES];
    if (len < SN_SG_TABLE_HEADER)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off, "node table is %llu bytes, too short",
                           (unsigned long long)len);
    uint32_t n = sn__sg_get32(rd->p + off);
    if (sn__sg_get32(rd->p + off + 4))
        return sn__sg_fail(rd, SN_ERR_FORMAT, off + 4, "node table: reserved field is not 0");
    if (n > (len - SN_SG_TABLE_HEADER) / SN_SG_NODE_HEADER || n >= INT32_MAX)
        return sn__sg_fail(
            rd, SN_ERR_FORMAT, off,
            "node count %u cannot fit the %llu-byte node table (%d bytes or more each)", n,
            (unsigned long long)len, SN_SG_NODE_HEADER);
    uint64_t cur = off + SN_SG_TABLE_HEADER, end = off + len;
    for (uint32_t i = 0; i < n; i++) {
        sn_status s = sn__sg_node(rd, i, &cur, end);
        if (s != SN_OK) return s;
    }
    if (cur != end)
        return sn__sg_fail(rd, SN_ERR_FORMAT, cur, "%llu stray bytes after the last node",
                           (unsigned long long)(end - cur));
    return SN_OK;
}

sn_status sn__sg_add_outputs(sn__sg_reader *rd) {
    char q[SN__SG_QUOTE_SIZE];
    uint64_t at = rd->off[SN_SG_SECT_GRAPH] + SN_SG_GRAPH_HEADER + 4 * (uint64_t)rd->n_inputs;
    for (uint32_t k = 0; k < rd->n_outputs; k++, at += 4) {
        uint32_t v = sn__sg_get32(rd->p + at);
        /* A graph input may be passed straight through, as sn_graph_validate allows. */
        if (!(rd->role[v] & (SN__SG_ROLE_PRODUCED | SN__SG_ROLE_INPUT)) &&
            !(rd->t[v].flags & SN_SG_TF_CONST))
            return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                               "graph output %u: tensor %u '%s' is not produced by any node", k, v,
                               sn__sg_quote(rd->t[v].name, q));
        sn_status s = sn_graph_add_output(rd->g, (int)v);
        if (s != SN_OK)
            return sn__sg_fail(rd, s, at, "graph output %u: cannot add it: %s", k,
                               sn_status_string(s));
    }
    /* An activation nobody produces would have no shape to check and no value at run time. */
    for (uint32_t i = 0; i < rd->n_tensors; i++)
        if (!(rd->role[i] & (SN__SG_ROLE_PRODUCED | SN__SG_ROLE_INPUT)) &&
            !(rd->t[i].flags & SN_SG_TF_CONST))
            return sn__sg_fail(rd, SN_ERR_FORMAT, rd->t[i].rec,
                               "tensor %u '%s' is neither a graph input, a constant nor any node's "
                               "output",
                               i, sn__sg_quote(rd->t[i].name, q));
    return SN_OK;
}
