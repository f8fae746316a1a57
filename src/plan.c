/* plan.c - everything a run needs, allocated once at load: the activation workspace (buffers
 * reused by liveness), the kernels' scratch, and the weights packed for the fast kernels.
 *
 * Offsets are planned in 64-bit arithmetic: a hostile file can ask for far more than a 32-bit
 * size_t holds (4097 values of 2^26 floats), and that must end in EMX_ERR_NO_MEMORY, not in
 * a wrapped size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Buffers start on 64-byte boundaries: a cache line, and any SIMD width the kernels use. */
#define ALIGN_FLOATS 16u

static uint64_t round_up(uint64_t n)
{
    return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

static float *aligned_calloc(uint64_t floats, void **raw)
{
    if (floats > (SIZE_MAX / sizeof(float)) - ALIGN_FLOATS)
        return NULL;
    *raw = calloc((size_t)floats + ALIGN_FLOATS, sizeof(float));
    if (!*raw)
        return NULL;
    uintptr_t p = (uintptr_t)*raw, a = ALIGN_FLOATS * sizeof(float);
    return (float *)(void *)((p + a - 1) / a * a);
}

/* ---- activation buffers: greedy first fit over the blocks alive at each step ---- */

typedef struct block {
    uint64_t offset, size;
    int value;
} block;

typedef struct arena {
    block *live; /* sorted by offset */
    int n_live;
    uint64_t end; /* high-water mark */
} arena;

static void arena_alloc(arena *a, emx__graph_value *values, int v)
{
    uint64_t size = round_up(values[v].count), at = 0;
    int i = 0;
    for (; i < a->n_live; i++) {
        if (a->live[i].offset - at >= size)
            break;
        at = a->live[i].offset + a->live[i].size;
    }
    memmove(&a->live[i + 1], &a->live[i], (size_t)(a->n_live - i) * sizeof(block));
    a->live[i] = (block){ at, size, v };
    a->n_live++;
    values[v].offset = (size_t)at; /* truncation harmless: checked against `end` below */
    if (at + size > a->end)
        a->end = at + size;
}

/* Idempotent: an op may read the same value twice (ADD x, x). */
static void arena_release(arena *a, int v)
{
    for (int i = 0; i < a->n_live; i++) {
        if (a->live[i].value != v)
            continue;
        memmove(&a->live[i], &a->live[i + 1], (size_t)(a->n_live - i - 1) * sizeof(block));
        a->n_live--;
        return;
    }
}

/* ---- execution order ----
 * Flip test-time augmentation runs each network twice, on the image and on its mirror
 * (FLIP_W of the input), and the files list one view's ops after the other's: an ensemble's
 * five members (about 25 MB of packed weights) run on the image, then all again on the mirror,
 * so every conv's weights come back from memory for the second view. Here each op of the second
 * view ("twin": same op, attributes and weight tensors, inputs the twins of the first's) is
 * moved to run right after its first-view op, with its weights still in L2: the same ops, the
 * same values, only the order changes (and the planned activations, by liveness in that order).
 * Twins of value 0 are the outputs of FLIP_W(value 0). */
static int same_op(const emx__op *a, const emx__op *b)
{
    if (a->type != b->type || a->n_inputs != b->n_inputs || a->n_attrs != b->n_attrs ||
        a->n_tensors != b->n_tensors)
        return 0;
    for (int i = 0; i < a->n_attrs; i++)
        if (a->attrs[i] != b->attrs[i])
            return 0;
    for (int i = 0; i < a->n_tensors; i++)
        if (a->tensors[i] != b->tensors[i])
            return 0;
    return 1;
}

/* j reads what i reads, through twins: every input the same value or the twin of i's, at
 * least one a twin. canon: every FLIP_W(value 0) output (an ensemble flips the input once per
 * member) stands for the first one. */
static int twin_inputs(const emx__op *i, const emx__op *j, const int *twin_v, const int *canon)
{
    int any = 0;
    for (int p = 0; p < i->n_inputs; p++) {
        if (twin_v[i->inputs[p]] >= 0 && twin_v[i->inputs[p]] == canon[j->inputs[p]])
            any = 1;
        else if (i->inputs[p] != j->inputs[p])
            return 0;
    }
    return any;
}

static int inputs_done(const emx__op *op, const char *done)
{
    for (int p = 0; p < op->n_inputs; p++)
        if (op->inputs[p] > 0 && !done[op->inputs[p] - 1])
            return 0;
    return 1;
}

typedef struct order_state {
    emx_model *m;
    char *done;
    int last;
} order_state;

static void emit(order_state *o, int k)
{
    if (o->last >= 0)
        o->m->ops[o->last].next_op = k;
    else
        o->m->first_op = k;
    o->m->ops[k].next_op = -1;
    o->last = k;
    o->done[k] = 1;
}

static emx_status plan_order(emx_model *m)
{
    const int n = m->n_ops;
    m->first_op = -1;
    int *twin_v = malloc((size_t)m->n_values * sizeof(int)); /* value -> its twin, or -1 */
    int *canon = malloc((size_t)m->n_values * sizeof(int));
    int *twin_op = malloc(((size_t)n + 1) * sizeof(int)); /* op -> its later twin, or -1 */
    char *done = calloc((size_t)n + 1, 1);
    if (!twin_v || !canon || !twin_op || !done) {
        free(twin_v), free(canon), free(twin_op), free(done);
        return EMX_ERR_NO_MEMORY;
    }
    twin_v[0] = -1, canon[0] = 0; /* n_values = n_ops + 1 >= 1 */
    for (int v = 1; v < m->n_values; v++)
        twin_v[v] = -1, canon[v] = v;
    for (int k = 0; k < n; k++) {
        twin_op[k] = -1;
        m->ops[k].pair_with = -1, m->ops[k].paired = 0, m->ops[k].mirror = 0;
        if (m->ops[k].type == EMX_OP_FLIP_W && m->ops[k].inputs[0] == 0) {
            if (twin_v[0] < 0)
                twin_v[0] = k + 1;
            canon[k + 1] = twin_v[0];
        }
    }
    if (twin_v[0] >= 0)
        for (int j = 0; j < n; j++)
            for (int i = 0; i < j; i++)
                if (twin_op[i] < 0 && twin_v[i + 1] < 0 && same_op(&m->ops[i], &m->ops[j]) &&
                    twin_inputs(&m->ops[i], &m->ops[j], twin_v, canon)) {
                    twin_op[i] = j;
                    twin_v[i + 1] = j + 1;
                    break;
                }
    order_state o = { m, done, -1 };
    for (int k = 0; k < n; k++) {
        if (!done[k])
            emit(&o, k); /* its producers all come earlier in the file: done */
        const int j = twin_op[k];
        if (j < 0 || done[j])
            continue;
        /* the twin's inputs: done, or made by an op whose own inputs are (the FLIP_W) */
        const emx__op *tj = &m->ops[j];
        /* the twin reads FLIP_W of k's input: a kernel that makes both views from k's input
         * alone pairs them even with the FLIP_W run in between (or skipped, plan_fusions) */
        const int fv = tj->n_inputs == 1 ? tj->inputs[0] : 0;
        if (tj->type == EMX_OP_CONV2D && m->ops[k].type == EMX_OP_CONV2D && fv > 0 &&
            m->ops[fv - 1].type == EMX_OP_FLIP_W &&
            m->ops[fv - 1].inputs[0] == m->ops[k].inputs[0] &&
            emx__conv2d_mirror_ok(&m->ops[k].conv) && o.last == k)
            m->ops[k].pair_with = j, m->ops[k].mirror = 1, m->ops[j].paired = 1;
        for (int p = 0; p < tj->n_inputs; p++) {
            const int v = tj->inputs[p];
            if (v > 0 && !done[v - 1] && inputs_done(&m->ops[v - 1], done))
                emit(&o, v - 1);
        }
        if (!inputs_done(tj, done))
            continue;
        if (o.last == k && tj->type == EMX_OP_CONV2D) /* side by side: one call for both */
            m->ops[k].pair_with = j, m->ops[j].paired = 1;
        emit(&o, j);
    }
    free(twin_v), free(canon), free(twin_op), free(done);
    return EMX_OK;
}

/* ---- fusions (fast path only) ----
 * act(conv1x1(x) + shortcut), BlazeFace's residual blocks (the shortcut channel-padded by a
 * PAD_CHANNELS in the blocks that widen): the conv computes the ADD in its epilogue, tile by tile
 * (emx__conv2d_residual), saving the ADD's and the PAD's passes over memory. Only where the
 * conv's output (and the PAD's) has no other reader and is not kept, and the shortcut is
 * computed before the conv runs. Not for flip TTA's paired convs (they run as pairs). */
static int kept_value(const emx_model *m, int v)
{
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v)
            return 1;
    if (v == m->cam_value)
        return 1;
    for (int i = 0; i < m->n_cam; i++)
        if (m->cam[i].feat == v)
            return 1;
    return 0;
}

/* the MAXPOOL2D that conv k's output alone feeds, if the two can run as one
 * (emx__conv2d_pool_ok), else -1 */
static int pool_reader(const emx_model *m, int k, const int *readers)
{
    if (readers[k + 1] != 1 || kept_value(m, k + 1))
        return -1;
    for (int p = 0; p < m->n_ops; p++) {
        const emx__op *op = &m->ops[p];
        if (op->n_inputs < 1 || op->inputs[0] != k + 1)
            continue;
        return op->type == EMX_OP_MAXPOOL2D && !op->fused &&
                       emx__conv2d_pool_ok(&m->ops[k].conv, &op->pool)
                   ? p
                   : -1;
    }
    return -1;
}

static emx_status plan_fusions(emx_model *m)
{
    const int n = m->n_ops;
    for (int k = 0; k < n; k++)
        m->ops[k].res_add = -1, m->ops[k].fused = 0, m->ops[k].pool_op = -1;
    if (m->params.use_reference)
        return EMX_OK;
    int *readers = calloc((size_t)m->n_values, sizeof(int)),
        *pos = calloc((size_t)n + 1, sizeof(int));
    if (!readers || !pos) {
        free(readers), free(pos);
        return EMX_ERR_NO_MEMORY;
    }
    for (int k = 0; k < n; k++)
        for (int i = 0; i < m->ops[k].n_inputs; i++)
            readers[m->ops[k].inputs[i]]++;
    int at = 0;
    for (int k = m->first_op; k >= 0; k = m->ops[k].next_op)
        pos[k] = at++;
    /* a FLIP_W read only by mirror-paired twins (plan_order) is never needed: skipped */
    for (int f = 0; f < n; f++) {
        if (m->ops[f].type != EMX_OP_FLIP_W || kept_value(m, f + 1) || readers[f + 1] == 0)
            continue;
        int mirrored = 0;
        for (int k = 0; k < n; k++)
            if (m->ops[k].mirror && m->ops[m->ops[k].pair_with].inputs[0] == f + 1)
                mirrored++;
        if (mirrored == readers[f + 1])
            m->ops[f].fused = 1;
    }
    for (int b = 0; b < n; b++) {
        emx__op *add = &m->ops[b];
        if (add->type != EMX_OP_ADD || add->n_inputs != 2)
            continue;
        for (int side = 0; side < 2; side++) {
            const int av = add->inputs[side], rv = add->inputs[1 - side];
            if (av == 0 || av == rv)
                continue;
            emx__op *a = &m->ops[av - 1];
            if (a->type != EMX_OP_CONV2D || !emx__conv2d_residual_ok(&a->conv) ||
                a->pair_with >= 0 || a->paired || a->res_add >= 0 || a->fused || readers[av] != 1 ||
                kept_value(m, av))
                continue;
            int res = rv, pad = -1;
            if (rv > 0 && m->ops[rv - 1].type == EMX_OP_PAD_CHANNELS &&
                m->ops[rv - 1].attrs[0] == 0 && readers[rv] == 1 && !kept_value(m, rv)) {
                pad = rv - 1;
                res = m->ops[pad].inputs[0];
            }
            if (res > 0 && pos[res - 1] > pos[av - 1])
                continue; /* the shortcut is not ready when the conv runs */
            a->res_add = b, a->res_value = res, a->res_c = m->values[res].c;
            add->fused = 1;
            if (pad >= 0)
                m->ops[pad].fused = 1;
            break;
        }
    }
    /* conv -> 2x2 max pool: the pool in the conv's output transform; a pair fuses only if
     * both twins can (one call computes both) */
    for (int k = 0; k < n; k++) {
        emx__op *c = &m->ops[k];
        if (c->type != EMX_OP_CONV2D || c->paired || c->mirror || c->res_add >= 0)
            continue;
        const int p = pool_reader(m, k, readers);
        const int tw = c->pair_with, tp = tw >= 0 ? pool_reader(m, tw, readers) : -1;
        if (p < 0 || (tw >= 0 && tp < 0))
            continue;
        c->pool_op = p, m->ops[p].fused = 1;
        if (tw >= 0)
            m->ops[tw].pool_op = tp, m->ops[tp].fused = 1;
    }
    free(readers), free(pos);
    return EMX_OK;
}

/* what op k reads in the fast path's execution: nothing when fused, its inputs plus the
 * residual when it computes an ADD; returns the count written to v */
static int op_reads(const emx__op *op, int *v)
{
    if (op->fused)
        return 0;
    int n = 0;
    for (int i = 0; i < op->n_inputs; i++)
        v[n++] = op->inputs[i];
    if (op->res_add >= 0)
        v[n++] = op->res_value;
    return n;
}

/* the value op k writes in the fast path (fusions: the ADD's or the pool's output) */
static int written_value(const emx__op *op, int k)
{
    return op->res_add >= 0 ? op->res_add + 1 : op->pool_op >= 0 ? op->pool_op + 1 : k + 1;
}

static emx_status plan_activations(emx_model *m, uint64_t *total)
{
    emx__graph_value *values = m->values;
    for (int v = 0; v < m->n_values; v++) {
        values[v].last_use = -1;
        values[v].keep = 0;
    }
    /* last_use: a position in the execution order */
    int pos = 0, reads[EMX_MAX_OP_INPUTS + 1];
    for (int k = m->first_op; k >= 0; k = m->ops[k].next_op, pos++) {
        const int nr = op_reads(&m->ops[k], reads);
        for (int i = 0; i < nr; i++)
            values[reads[i]].last_use = pos;
    }
    for (int i = 0; i < m->n_outputs; i++)
        values[m->outputs[i]].keep = 1;
    if (m->cam_value >= 0)
        values[m->cam_value].keep = 1;
    for (int i = 0; i < m->n_cam; i++)
        values[m->cam[i].feat].keep = 1;

    arena a = { calloc((size_t)m->n_values, sizeof(block)), 0, 0 };
    if (!a.live)
        return EMX_ERR_NO_MEMORY;
    arena_alloc(&a, values, 0);
    pos = 0;
    for (int k = m->first_op; k >= 0; k = m->ops[k].next_op, pos++) {
        /* The output is placed before the inputs are released: kernels never run in place.
         * A pair computed in one call (pair_with) places both outputs before either op's
         * inputs go: the call reads both inputs while it writes both outputs. */
        if (m->ops[k].fused)
            continue; /* computed by the conv before it, its output never materialised */
        /* a conv computing a residual ADD writes the ADD's output, never its own; one
         * computing a pool the pool's */
        int v = written_value(&m->ops[k], k);
        if (!m->ops[k].paired)
            arena_alloc(&a, values, v);
        if (m->ops[k].pair_with >= 0)
            arena_alloc(&a, values,
                        written_value(&m->ops[m->ops[k].pair_with], m->ops[k].pair_with));
        const int nr = op_reads(&m->ops[k], reads);
        for (int i = 0; i < nr; i++) {
            int in = reads[i];
            if (values[in].last_use == pos && !values[in].keep)
                arena_release(&a, in);
        }
        if (values[v].last_use < 0 && !values[v].keep)
            arena_release(&a, v);
    }
    free(a.live);
    *total = a.end;
    return EMX_OK;
}

/* ---- weights ---- */

static int is_conv(const emx__op *op)
{
    return op->type == EMX_OP_CONV2D || op->type == EMX_OP_DENSE;
}

static int same_conv(const emx__conv_shape *a, const emx__conv_shape *b)
{
    return a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c && a->out_h == b->out_h &&
           a->out_w == b->out_w && a->out_c == b->out_c && a->kh == b->kh && a->kw == b->kw &&
           a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->dil_h == b->dil_h &&
           a->dil_w == b->dil_w && a->pad_top == b->pad_top && a->pad_left == b->pad_left &&
           a->groups == b->groups && a->act == b->act;
}

/* An earlier op packing the same tensors the same way (shared weights, e.g. flip test-time
 * augmentation running one trunk twice), or -1. */
static int packed_twin(const emx_model *m, int k)
{
    const emx__op *op = &m->ops[k];
    for (int j = 0; j < k; j++) {
        const emx__op *o = &m->ops[j];
        if (o->type == op->type && is_conv(o) && o->tensors[0] == op->tensors[0] &&
            o->tensors[1] == op->tensors[1] && same_conv(&o->conv, &op->conv))
            return j;
    }
    return -1;
}

/* Places every op's packed weights (op->packed_offset) and sizes the largest kernel scratch;
 * allocates nothing, so the totals can be checked against the budget first. */
static emx_status size_weights(emx_model *m, uint64_t *packed, uint64_t *scratch)
{
    uint64_t total = 0;
    *scratch = 0;
    for (int k = 0; k < m->n_ops; k++) {
        emx__op *op = &m->ops[k];
        uint64_t need;
        if (is_conv(op)) {
            int twin = packed_twin(m, k);
            if (twin >= 0) {
                op->packed_offset = m->ops[twin].packed_offset;
                continue;
            }
            uint64_t s = emx__conv2d_scratch_size(&op->conv);
            if (s > *scratch)
                *scratch = s;
            need = emx__conv2d_packed_size(&op->conv);
        } else if (op->type == EMX_OP_WEIGHTED_MEAN || op->type == EMX_OP_CALIBRATE) {
            need = (uint64_t)m->tensors[op->tensors[0]].count;
        } else {
            if (op->type == EMX_OP_RESIZE_BILINEAR) { /* the resize kernel's row buffers */
                const emx__graph_value *v = &m->values[k + 1];
                const uint64_t s = emx__resize_bilinear_scratch_size(v->w, v->c);
                if (s > *scratch)
                    *scratch = s;
            }
            continue;
        }
        op->packed_offset = (size_t)total; /* truncation harmless: total is checked below */
        total += round_up(need);
        if (total > SIZE_MAX / sizeof(float))
            return EMX_ERR_NO_MEMORY;
    }
    *packed = total;
    return EMX_OK;
}

static emx_status pack_weights(emx_model *m, uint64_t total)
{
    if (!(m->packed = aligned_calloc(total, &m->packed_raw)))
        return EMX_ERR_NO_MEMORY;
    for (int k = 0; k < m->n_ops; k++) {
        emx__op *op = &m->ops[k];
        float *dst = m->packed + op->packed_offset;
        if (is_conv(op) && packed_twin(m, k) < 0)
            emx__conv2d_pack(&op->conv, m->tensors[op->tensors[0]].data,
                             m->tensors[op->tensors[1]].data, dst);
        else if (op->type == EMX_OP_WEIGHTED_MEAN || op->type == EMX_OP_CALIBRATE)
            memcpy(dst, m->tensors[op->tensors[0]].data,
                   (size_t)m->tensors[op->tensors[0]].count * sizeof(float));
    }
    return EMX_OK;
}

emx_status emx__plan(emx_model *m)
{
    uint64_t act = 0, scratch = 0, packed = 0;
    emx_status st = emx__cam_analyze(m);
    if (st == EMX_OK)
        st = plan_order(m);
    if (st == EMX_OK)
        st = plan_fusions(m);
    if (st == EMX_OK)
        st = plan_activations(m, &act);
    if (st == EMX_OK)
        st = size_weights(m, &packed, &scratch);
    if (st != EMX_OK)
        return st;
    /* Every size is a 64-bit count of floats no larger than 2^62 (values, tensors and
     * kernel sizes are bounded far below), so this sum cannot wrap. */
    const uint64_t floats = act + round_up(scratch) + packed + m->cam_floats;
    if (floats > m->params.max_memory_bytes / sizeof(float))
        return EMX_ERR_LIMIT;
    m->planned_bytes = floats * sizeof(float);
    if ((st = pack_weights(m, packed)) != EMX_OK)
        return st;
    /* The reference ops read the original layout; the fast path only needs the packed copy. */
    if (!m->params.use_reference) {
        free(m->tensor_data);
        m->tensor_data = NULL;
        for (int i = 0; i < m->n_tensors; i++)
            m->tensors[i].data = NULL;
    }
    uint64_t total = act + round_up(scratch);
    if (total < act || !(m->workspace = aligned_calloc(total, &m->workspace_raw)))
        return EMX_ERR_NO_MEMORY;
    m->workspace_floats = (size_t)total;
    m->scratch = m->workspace + act;
    m->scratch_floats = (size_t)scratch;
    return EMX_OK;
}
