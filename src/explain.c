/* explain.c - class activation maps (emx_explain, see emoxnet.h).
 *
 * At plan time emx__cam_analyze finds every branch GLOBAL_AVGPOOL(F) -> DENSE whose logits
 * reach output 0 through SOFTMAX and WEIGHTED_MEAN only (a plain classifier: one branch; flip
 * test-time augmentation or an ensemble: one per view and member), records the weight the
 * WEIGHTED_MEANs give it, whether its input was mirrored (FLIP_W on the way from the input) and
 * copies its dense weights (the planner drops the originals). plan.c keeps the features alive,
 * so emx_explain needs no second pass through the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* For every value, the op reading it and the input slot, when exactly one op reads it
 * (once); reader -1 otherwise. Built once, in one pass over the graph: asking the graph per
 * value made the analysis quadratic (a 4096-op file took 29 s to load). */
typedef struct readers {
    int *op, *slot;
} readers;

static emx_status find_readers(const emx_model *m, readers *r)
{
    r->op = malloc((size_t)m->n_values * sizeof(int));
    r->slot = malloc((size_t)m->n_values * sizeof(int));
    if (!r->op || !r->slot)
        return EMX_ERR_NO_MEMORY;
    for (int v = 0; v < m->n_values; v++)
        r->op[v] = -2; /* -2: no reader yet; -1: several */
    for (int k = 0; k < m->n_ops; k++)
        for (int i = 0; i < m->ops[k].n_inputs; i++) {
            const int v = m->ops[k].inputs[i];
            r->op[v] = r->op[v] == -2 ? k : -1;
            r->slot[v] = i;
        }
    for (int v = 0; v < m->n_values; v++)
        if (r->op[v] == -2)
            r->op[v] = -1;
    return EMX_OK;
}

static int only_reader(const readers *r, int v, int *slot)
{
    *slot = r->slot[v];
    return r->op[v];
}

/* Weight with which value v (class scores) reaches output 0, or a negative number when it
 * does not reach it through SOFTMAX / WEIGHTED_MEAN only. */
static float weight_to_output(const emx_model *m, const readers *r, int v)
{
    float w = 1.0f;
    for (int steps = 0; steps <= m->n_ops; steps++) {
        if (v == m->outputs[0])
            return w;
        int slot = 0, k = only_reader(r, v, &slot);
        if (k < 0)
            return -1.0f;
        const emx__op *op = &m->ops[k];
        if (op->type == EMX_OP_WEIGHTED_MEAN)
            w *= m->tensors[op->tensors[0]].data[slot];
        else if (op->type != EMX_OP_SOFTMAX && op->type != EMX_OP_CALIBRATE)
            return -1.0f;
        v = k + 1;
    }
    return -1.0f;
}

/* Number of FLIP_W ops on the path from the input to value v, following each op's first
 * input (the spatial layout a multi-input op keeps: ADD, CONCAT, MUL_CHANNEL), modulo 2. */
static int flip_parity(const emx_model *m, int v)
{
    int flips = 0;
    while (v > 0) {
        const emx__op *op = &m->ops[v - 1];
        if (op->type == EMX_OP_FLIP_W)
            flips ^= 1;
        v = op->inputs[0];
    }
    return flips;
}

static emx_status find_branches(emx_model *m, const readers *r);

emx_status emx__cam_analyze(emx_model *m)
{
    m->n_cam = 0;
    m->cam_floats = 0;
    if (m->is_detector || m->n_outputs < 1 || !m->tensors || m->n_classes < 1)
        return EMX_OK;
    readers r = { NULL, NULL };
    emx_status st = find_readers(m, &r);
    if (st == EMX_OK)
        st = find_branches(m, &r);
    free(r.op);
    free(r.slot);
    return st;
}

static emx_status find_branches(emx_model *m, const readers *r)
{
    int found[256], n = 0;
    for (int k = 0; k < m->n_ops && n < 256; k++) {
        const emx__op *gap = &m->ops[k];
        if (gap->type != EMX_OP_GLOBAL_AVGPOOL)
            continue;
        int slot = 0, d = only_reader(r, k + 1, &slot);
        if (d < 0)
            continue;
        const emx__op *dense = &m->ops[d];
        if (dense->type != EMX_OP_DENSE || dense->act != EMX_ACT_NONE ||
            dense->conv.out_c != m->n_classes ||
            m->values[d + 1].count != (size_t)m->values[m->outputs[0]].count)
            continue;
        if (!(weight_to_output(m, r, d + 1) >= 0.0f))
            continue;
        found[n++] = k;
    }
    if (n == 0)
        return EMX_OK;
    /* 64-bit: branches may share one dense tensor, so this is not bounded by the file, and
     * 256 x 64 x 2^26 floats wraps a 32-bit size_t. */
    uint64_t floats = 0;
    for (int i = 0; i < n; i++)
        floats += (uint64_t)m->n_classes * (uint64_t)m->values[m->ops[found[i]].inputs[0]].c;
    if (floats > m->params.max_memory_bytes / sizeof(float))
        return EMX_ERR_LIMIT;
    if (floats > SIZE_MAX / sizeof(float))
        return EMX_ERR_NO_MEMORY;
    m->cam_floats = floats;
    m->cam = calloc((size_t)n, sizeof *m->cam);
    m->cam_weights = malloc((size_t)floats * sizeof(float));
    if (!m->cam || !m->cam_weights)
        return EMX_ERR_NO_MEMORY;
    float *dst = m->cam_weights;
    for (int i = 0; i < n; i++) {
        int k = found[i], slot = 0, d = only_reader(r, k + 1, &slot);
        struct emx__cam_branch *b = &m->cam[i];
        b->feat = m->ops[k].inputs[0];
        b->flip = flip_parity(m, b->feat);
        b->weight = weight_to_output(m, r, d + 1);
        b->dense = dst;
        size_t count = (size_t)m->n_classes * (size_t)m->values[b->feat].c;
        memcpy(dst, m->tensors[m->ops[d].tensors[0]].data, count * sizeof(float));
        dst += count;
    }
    m->n_cam = n;
    return EMX_OK;
}

emx_status emx_explain(const emx_model *m, int label, float *map, int map_w, int map_h)
{
    if (!m || !map || map_w < 1 || map_h < 1 || map_w > 4096 || map_h > 4096 || label < -1 ||
        label >= m->n_classes)
        return EMX_ERR_INVALID_ARG;
    if (m->n_cam == 0 || !m->has_run || m->is_detector)
        return EMX_ERR_UNSUPPORTED;
    if (label < 0)
        label = emx__pick_label(m, emx__value_ptr(m, m->outputs[0]));
    size_t cam_max = 0, n_map = (size_t)map_w * (size_t)map_h;
    for (int i = 0; i < m->n_cam; i++) {
        const emx__graph_value *v = &m->values[m->cam[i].feat];
        if ((size_t)v->h * (size_t)v->w > cam_max)
            cam_max = (size_t)v->h * (size_t)v->w;
    }
    float *cam = malloc((cam_max + n_map) * sizeof(float));
    if (!cam)
        return EMX_ERR_NO_MEMORY;
    float *up = cam + cam_max;
    memset(map, 0, n_map * sizeof(float));
    for (int i = 0; i < m->n_cam; i++) {
        const struct emx__cam_branch *b = &m->cam[i];
        const emx__graph_value *v = &m->values[b->feat];
        const float *f = emx__value_ptr(m, b->feat);
        const float *wc = b->dense + (size_t)label * (size_t)v->c;
        for (int y = 0; y < v->h; y++)
            for (int x = 0; x < v->w; x++) {
                const float *px = f + ((size_t)y * v->w + x) * v->c;
                float s = 0.0f;
                for (int k = 0; k < v->c; k++)
                    s += wc[k] * px[k];
                /* Mirrored back for a branch that saw the input flipped. */
                cam[(size_t)y * v->w + (b->flip ? v->w - 1 - x : x)] = s;
            }
        emx__resize_bilinear(v->h, v->w, 1, map_h, map_w, cam, up);
        for (size_t j = 0; j < n_map; j++)
            map[j] += b->weight * up[j];
    }
    free(cam);
    return EMX_OK;
}
