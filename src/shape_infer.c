/* shape_infer.c - check every op of a parsed graph against its attributes, tensors and input
 * shapes, and infer the shape of every value (models/FORMAT.md, "Graph").
 *
 * After this pass the kernels can trust every shape: windows are non-empty and touch the
 * input, channel counts divide by groups, weights have exactly the size the op reads, and no
 * value exceeds EMX_MAX_VALUE_FLOATS, so every count below fits in an int. */
#include <string.h>

#include "model.h"

typedef struct op_info {
    int min_inputs, max_inputs, n_attrs, n_tensors;
} op_info;

static const op_info op_infos[EMX_OP_COUNT_] = {
    [EMX_OP_CONV2D] = { 1, 1, 13, 2 },        [EMX_OP_DENSE] = { 1, 1, 2, 2 },
    [EMX_OP_MAXPOOL2D] = { 1, 1, 8, 0 },      [EMX_OP_AVGPOOL2D] = { 1, 1, 9, 0 },
    [EMX_OP_GLOBAL_AVGPOOL] = { 1, 1, 0, 0 }, [EMX_OP_ADD] = { 2, 2, 1, 0 },
    [EMX_OP_CONCAT] = { 2, 16, 0, 0 },        [EMX_OP_SOFTMAX] = { 1, 1, 0, 0 },
    [EMX_OP_ACTIVATION] = { 1, 1, 1, 0 },     [EMX_OP_WEIGHTED_MEAN] = { 1, 16, 0, 1 },
    [EMX_OP_FLIP_W] = { 1, 1, 0, 0 },         [EMX_OP_RESIZE_BILINEAR] = { 1, 1, 2, 0 },
    [EMX_OP_MUL_CHANNEL] = { 2, 2, 0, 0 },    [EMX_OP_PAD_CHANNELS] = { 1, 1, 2, 0 },
    [EMX_OP_CALIBRATE] = { 1, 1, 0, 1 },
};

static int set_shape(emx__graph_value *v, int64_t h, int64_t w, int64_t c)
{
    const int64_t lim = EMX_MAX_VALUE_FLOATS;
    if (h < 1 || w < 1 || c < 1 || h > lim || w > lim || c > lim || h * w > lim || h * w * c > lim)
        return 0;
    v->h = (int)h;
    v->w = (int)w;
    v->c = (int)c;
    v->count = (size_t)(h * w * c);
    return 1;
}

static int same_shape(const emx__graph_value *a, const emx__graph_value *b)
{
    return a->h == b->h && a->w == b->w && a->c == b->c;
}

static int valid_act(int32_t a)
{
    return a >= 0 && a < EMX_ACT_COUNT_;
}

static int tensor_is(const emx__tensor *t, int ndim, const int64_t *dims)
{
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i])
            return 0;
    return 1;
}

/* One spatial axis of a sliding window, as PyTorch computes it. Pads must be smaller than the
 * window's extent so every window overlaps the input (max pooling never sees only padding). */
static int window(int64_t in, int32_t k, int32_t stride, int32_t pad_a, int32_t pad_b, int32_t dil,
                  int64_t *out)
{
    const int32_t lim = (int32_t)EMX_MAX_DIM;
    if (k < 1 || stride < 1 || dil < 1 || pad_a < 0 || pad_b < 0 || k > lim || stride > lim ||
        dil > lim || pad_a > lim || pad_b > lim)
        return 0;
    int64_t extent = (int64_t)dil * (k - 1) + 1;
    int64_t span = in + pad_a + pad_b - extent;
    if (pad_a >= extent || pad_b >= extent || span < 0)
        return 0;
    *out = span / stride + 1;
    return 1;
}

static int infer_conv(const emx_model *m, emx__op *op, const emx__graph_value *in,
                      emx__graph_value *out)
{
    const int32_t *a = op->attrs;
    int32_t groups = a[10], oc = a[11];
    int64_t oh, ow;
    if (!window(in->h, a[0], a[2], a[4], a[6], a[8], &oh) ||
        !window(in->w, a[1], a[3], a[5], a[7], a[9], &ow) || !valid_act(a[12]))
        return 0;
    if (groups < 1 || oc < 1 || in->c % groups != 0 || oc % groups != 0)
        return 0;
    const int64_t wdims[4] = { oc, in->c / groups, a[0], a[1] }, bdims[1] = { oc };
    if (!tensor_is(&m->tensors[op->tensors[0]], 4, wdims) ||
        !tensor_is(&m->tensors[op->tensors[1]], 1, bdims) || !set_shape(out, oh, ow, oc))
        return 0;
    op->act = (emx__act)a[12];
    op->conv = (emx__conv_shape){ .in_h = in->h,
                                  .in_w = in->w,
                                  .in_c = in->c,
                                  .out_h = out->h,
                                  .out_w = out->w,
                                  .out_c = out->c,
                                  .kh = a[0],
                                  .kw = a[1],
                                  .stride_h = a[2],
                                  .stride_w = a[3],
                                  .dil_h = a[8],
                                  .dil_w = a[9],
                                  .pad_top = a[4],
                                  .pad_left = a[5],
                                  .groups = groups,
                                  .act = op->act };
    return 1;
}

static int infer_dense(const emx_model *m, emx__op *op, const emx__graph_value *in,
                       emx__graph_value *out)
{
    int32_t n_out = op->attrs[0];
    if (n_out < 1 || !valid_act(op->attrs[1]))
        return 0;
    const int64_t wdims[2] = { n_out, (int64_t)in->count }, bdims[1] = { n_out };
    if (!tensor_is(&m->tensors[op->tensors[0]], 2, wdims) ||
        !tensor_is(&m->tensors[op->tensors[1]], 1, bdims) || !set_shape(out, 1, 1, n_out))
        return 0;
    op->act = (emx__act)op->attrs[1];
    /* [OUT, K] weights are exactly [OC][IC][1][1]: one conv kernel serves both ops. */
    op->conv = (emx__conv_shape){ .in_h = 1,
                                  .in_w = 1,
                                  .in_c = (int)in->count,
                                  .out_h = 1,
                                  .out_w = 1,
                                  .out_c = n_out,
                                  .kh = 1,
                                  .kw = 1,
                                  .stride_h = 1,
                                  .stride_w = 1,
                                  .dil_h = 1,
                                  .dil_w = 1,
                                  .groups = 1,
                                  .act = op->act };
    return 1;
}

static int infer_pool(emx__op *op, const emx__graph_value *in, emx__graph_value *out)
{
    const int32_t *a = op->attrs;
    int64_t oh, ow;
    if (!window(in->h, a[0], a[2], a[4], a[6], 1, &oh) ||
        !window(in->w, a[1], a[3], a[5], a[7], 1, &ow))
        return 0;
    int cip = 0;
    if (op->type == EMX_OP_AVGPOOL2D) {
        if (a[8] != 0 && a[8] != 1)
            return 0;
        cip = a[8];
    }
    if (!set_shape(out, oh, ow, in->c))
        return 0;
    op->pool = (emx__pool_shape){ .in_h = in->h,
                                  .in_w = in->w,
                                  .c = in->c,
                                  .out_h = out->h,
                                  .out_w = out->w,
                                  .kh = a[0],
                                  .kw = a[1],
                                  .stride_h = a[2],
                                  .stride_w = a[3],
                                  .pad_top = a[4],
                                  .pad_left = a[5],
                                  .count_include_pad = cip };
    return 1;
}

static int infer_op(emx_model *m, int k)
{
    emx__op *op = &m->ops[k];
    const op_info *info = &op_infos[op->type];
    if (op->n_inputs < info->min_inputs || op->n_inputs > info->max_inputs ||
        op->n_attrs != info->n_attrs || op->n_tensors != info->n_tensors)
        return 0;
    const emx__graph_value *in = &m->values[op->inputs[0]];
    emx__graph_value *out = &m->values[k + 1];
    switch ((emx__op_type)op->type) {
    case EMX_OP_CONV2D: return infer_conv(m, op, in, out);
    case EMX_OP_DENSE: return infer_dense(m, op, in, out);
    case EMX_OP_MAXPOOL2D:
    case EMX_OP_AVGPOOL2D: return infer_pool(op, in, out);
    case EMX_OP_GLOBAL_AVGPOOL: m->cam_value = op->inputs[0]; return set_shape(out, 1, 1, in->c);
    case EMX_OP_ADD:
    case EMX_OP_ACTIVATION:
        op->act = (emx__act)op->attrs[0];
        if (!valid_act(op->attrs[0]))
            return 0;
        if (op->type == EMX_OP_ADD && !same_shape(in, &m->values[op->inputs[1]]))
            return 0;
        return set_shape(out, in->h, in->w, in->c);
    case EMX_OP_CONCAT: {
        int64_t c = 0;
        for (int i = 0; i < op->n_inputs; i++) {
            const emx__graph_value *v = &m->values[op->inputs[i]];
            if (v->h != in->h || v->w != in->w)
                return 0;
            c += v->c;
        }
        return set_shape(out, in->h, in->w, c);
    }
    case EMX_OP_WEIGHTED_MEAN: {
        const int64_t dims[1] = { op->n_inputs };
        for (int i = 1; i < op->n_inputs; i++)
            if (!same_shape(in, &m->values[op->inputs[i]]))
                return 0;
        if (!tensor_is(&m->tensors[op->tensors[0]], 1, dims))
            return 0;
        return set_shape(out, in->h, in->w, in->c);
    }
    case EMX_OP_SOFTMAX:
    case EMX_OP_FLIP_W: return set_shape(out, in->h, in->w, in->c);
    case EMX_OP_RESIZE_BILINEAR: return set_shape(out, op->attrs[0], op->attrs[1], in->c);
    case EMX_OP_MUL_CHANNEL: {
        const emx__graph_value *s = &m->values[op->inputs[1]];
        if (s->h != 1 || s->w != 1 || s->c != in->c)
            return 0;
        return set_shape(out, in->h, in->w, in->c);
    }
    case EMX_OP_PAD_CHANNELS: {
        const int32_t *a = op->attrs;
        if (a[0] < 0 || a[1] < 0 || a[0] > (int32_t)EMX_MAX_DIM || a[1] > (int32_t)EMX_MAX_DIM)
            return 0;
        return set_shape(out, in->h, in->w, (int64_t)in->c + a[0] + a[1]);
    }
    case EMX_OP_CALIBRATE: {
        /* params: 1/T, then one log-bias per element of the (probability) input, then
         * optionally one label threshold per element (emx__load_label_thresholds) */
        const int64_t n = in->h * in->w * in->c;
        const int64_t plain[1] = { n + 1 }, thresholds[1] = { 2 * n + 1 };
        const emx__tensor *t = &m->tensors[op->tensors[0]];
        if (!tensor_is(t, 1, plain) && !tensor_is(t, 1, thresholds))
            return 0;
        return set_shape(out, in->h, in->w, in->c);
    }
    case EMX_OP_COUNT_: break;
    }
    return 0;
}

/* A detector's outputs: pairs (scores [H,W,A], regressors [H,W,A*K]) with one K >= 4, K even,
 * for every pair, and one class name ("face"). */
static int check_detector(emx_model *m)
{
    if (m->n_outputs < 2 || m->n_outputs % 2 != 0 || m->n_classes != 1)
        return 0;
    int k = 0;
    for (int i = 0; i < m->n_outputs; i += 2) {
        const emx__graph_value *s = &m->values[m->outputs[i]], *b = &m->values[m->outputs[i + 1]];
        if (s->h != b->h || s->w != b->w || b->c % s->c != 0)
            return 0;
        int kk = b->c / s->c;
        if (kk < 4 || kk % 2 != 0 || kk > 4 + 2 * EMX_MAX_LANDMARKS || (k && kk != k))
            return 0;
        k = kk;
    }
    m->det_coords = k;
    return 1;
}

emx_status emx__infer_shapes(emx_model *m)
{
    if (!set_shape(&m->values[0], m->input.height, m->input.width, m->input.channels))
        return EMX_ERR_FORMAT;
    for (int k = 0; k < m->n_ops; k++)
        if (!infer_op(m, k))
            return EMX_ERR_FORMAT;
    const char *task = emx_model_meta(m, "task");
    if (task && strcmp(task, "detector") == 0) {
        m->is_detector = 1;
        return check_detector(m) ? EMX_OK : EMX_ERR_FORMAT;
    }
    if (m->values[m->outputs[0]].count != (size_t)m->n_classes)
        return EMX_ERR_FORMAT;
    return EMX_OK;
}
