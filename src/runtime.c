/* runtime.c - run a planned graph. Nothing here allocates: every buffer was sized and placed
 * by plan.c at load time, and every shape was checked by shape_infer.c. */
#include <string.h>

#include "model.h"

static void run_conv(const emx_model *m, const emx__op *op, const float *in, float *out)
{
    if (op->pool_op >= 0 && !m->params.use_reference) {
        /* the max pool after it computed in its output transform (plan.c), with its flip twin
         * (and the twin's pool) when paired: the pools' outputs written, not the convs' */
        const float *ins[2] = { in, NULL };
        float *outs[2] = { emx__value_ptr(m, op->pool_op + 1), NULL };
        if (op->pair_with >= 0) {
            const emx__op *tw = &m->ops[op->pair_with];
            ins[1] = emx__value_ptr(m, tw->inputs[0]);
            outs[1] = emx__value_ptr(m, tw->pool_op + 1);
        }
        emx__conv2d_pool_n(&op->conv, m->packed + op->packed_offset, op->pair_with >= 0 ? 2 : 1,
                           ins, outs, m->scratch);
        return;
    }
    if (op->pair_with >= 0 && !m->params.use_reference) {
        /* this op and its flip twin in one call (plan.c); the twin's turn is then a no-op */
        const emx__op *tw = &m->ops[op->pair_with];
        if (op->mirror) { /* the twin reads FLIP_W(in): made from in alone */
            emx__conv2d_mirror_pair(&op->conv, m->packed + op->packed_offset, in, out,
                                    emx__value_ptr(m, op->pair_with + 1), m->scratch);
            return;
        }
        emx__conv2d_pair(&op->conv, m->packed + op->packed_offset, in,
                         emx__value_ptr(m, tw->inputs[0]), out,
                         emx__value_ptr(m, op->pair_with + 1), m->scratch);
        return;
    }
    if (m->params.use_reference)
        emx__conv2d_ref(&op->conv, m->tensors[op->tensors[0]].data, m->tensors[op->tensors[1]].data,
                        in, out);
    else
        emx__conv2d(&op->conv, m->packed + op->packed_offset, in, out, m->scratch);
}

void emx__run_op(emx_model *m, int k)
{
    const emx__op *op = &m->ops[k];
    const emx__graph_value *vin = &m->values[op->inputs[0]];
    const emx__graph_value *vout = &m->values[k + 1];
    const float *ins[EMX_MAX_OP_INPUTS];
    int cs[EMX_MAX_OP_INPUTS];
    for (int i = 0; i < op->n_inputs; i++) {
        ins[i] = emx__value_ptr(m, op->inputs[i]);
        cs[i] = m->values[op->inputs[i]].c;
    }
    float *out = emx__value_ptr(m, k + 1);
    const int ref = m->params.use_reference;
    if ((op->paired || op->fused) && !ref)
        return; /* computed with its twin, or by the conv before it (plan.c) */
    if (op->res_add >= 0 && !ref) {
        emx__conv2d_residual(&op->conv, m->packed + op->packed_offset, ins[0],
                             emx__value_ptr(m, op->res_add + 1), emx__value_ptr(m, op->res_value),
                             op->res_c, m->ops[op->res_add].act);
        return;
    }
    switch ((emx__op_type)op->type) {
    case EMX_OP_CONV2D:
    case EMX_OP_DENSE: run_conv(m, op, ins[0], out); break;
    case EMX_OP_MAXPOOL2D:
        (ref ? emx__maxpool2d_ref : emx__maxpool2d)(&op->pool, ins[0], out);
        break;
    case EMX_OP_AVGPOOL2D:
        (ref ? emx__avgpool2d_ref : emx__avgpool2d)(&op->pool, ins[0], out);
        break;
    case EMX_OP_GLOBAL_AVGPOOL:
        (ref ? emx__global_avgpool_ref : emx__global_avgpool)(vin->h * vin->w, vin->c, ins[0], out);
        break;
    case EMX_OP_ADD:
        (ref ? emx__add_ref : emx__add)(vout->count, ins[0], ins[1], out, op->act);
        break;
    case EMX_OP_CONCAT: emx__concat(vin->h * vin->w, op->n_inputs, ins, cs, out); break;
    case EMX_OP_SOFTMAX: emx__softmax((int)vout->count, ins[0], out); break;
    case EMX_OP_ACTIVATION:
        (ref ? emx__activation_ref : emx__activation)(vout->count, ins[0], out, op->act);
        break;
    case EMX_OP_WEIGHTED_MEAN: {
        const float *w = ref ? m->tensors[op->tensors[0]].data : m->packed + op->packed_offset;
        (ref ? emx__weighted_mean_ref : emx__weighted_mean)(vout->count, op->n_inputs, ins, w, out);
        break;
    }
    case EMX_OP_FLIP_W: emx__flip_w(vin->h, vin->w, vin->c, ins[0], out); break;
    case EMX_OP_RESIZE_BILINEAR:
        if (ref)
            emx__resize_bilinear(vin->h, vin->w, vin->c, vout->h, vout->w, ins[0], out);
        else
            emx__f32_resize_bilinear(vin->h, vin->w, vin->c, vout->h, vout->w, ins[0], out,
                                     m->scratch);
        break;
    case EMX_OP_MUL_CHANNEL:
        (ref ? emx__mul_channel_ref : emx__mul_channel)(vin->h * vin->w, vin->c, ins[0], ins[1],
                                                        out);
        break;
    case EMX_OP_PAD_CHANNELS:
        (ref ? emx__pad_channels_ref : emx__pad_channels)(vin->h * vin->w, vin->c, op->attrs[0],
                                                          op->attrs[1], ins[0], out);
        break;
    case EMX_OP_CALIBRATE: {
        const float *p = ref ? m->tensors[op->tensors[0]].data : m->packed + op->packed_offset;
        emx__calibrate((int)vout->count, ins[0], p, out);
        break;
    }
    case EMX_OP_COUNT_: break;
    }
}

void emx__forward(emx_model *m)
{
    for (int k = m->first_op; k >= 0; k = m->ops[k].next_op)
        emx__run_op(m, k);
}

emx_status emx_run(emx_model *m, const float *input, float *probs)
{
    if (!m || !input || !probs || m->is_detector)
        return EMX_ERR_INVALID_ARG;
    float *in = emx__value_ptr(m, 0);
    /* memmove: a caller may hand back the model's own input buffer. */
    if (input != in)
        memmove(in, input, m->values[0].count * sizeof(float));
    emx__forward(m);
    /* Finite but huge weights overflow to inf and softmax turns that into NaN: an error, not
     * "neutral (NaN)". Nothing is explained from such a run. */
    const float *out = emx__value_ptr(m, m->outputs[0]);
    emx_status st = emx__check_probs(out, m->n_classes);
    if (st != EMX_OK) {
        m->has_run = 0;
        return st;
    }
    m->has_run = 1;
    memcpy(probs, out, (size_t)m->n_classes * sizeof(float));
    return EMX_OK;
}

const float *emx__value(const emx_model *m, int v, int *h, int *w, int *c)
{
    if (!m || v < 0 || v >= m->n_values || !m->values[v].keep)
        return NULL;
    if (h)
        *h = m->values[v].h;
    if (w)
        *w = m->values[v].w;
    if (c)
        *c = m->values[v].c;
    return emx__value_ptr(m, v);
}
