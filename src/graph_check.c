/* graph_check.c - load-time checks on the graph as a whole, after shape inference: what a run
 * would cost (the model's multiply-add budget, emx_model_params) and whether output 0 of a
 * classifier is a probability distribution. Per-op validity is shape_infer.c's job. */
#include <math.h>
#include <stdlib.h>

#include "model.h"

/* Multiply-adds (or, for element-wise ops, element operations) of one op. Double: a hostile
 * graph's products exceed 2^64 (2^26 outputs x 2^32 taps x 2^26 channels), and the budget
 * only needs the order of magnitude. */
static double op_cost(const emx_model *m, int k)
{
    const emx__op *op = &m->ops[k];
    const emx__graph_value *out = &m->values[k + 1], *in = &m->values[op->inputs[0]];
    switch ((emx__op_type)op->type) {
    case EMX_OP_CONV2D:
    case EMX_OP_DENSE: {
        const emx__conv_shape *s = &op->conv;
        return (double)out->count * s->kh * s->kw * (double)(s->in_c / s->groups);
    }
    case EMX_OP_MAXPOOL2D:
    case EMX_OP_AVGPOOL2D: return (double)out->count * op->pool.kh * op->pool.kw;
    case EMX_OP_GLOBAL_AVGPOOL: return (double)in->count;
    case EMX_OP_RESIZE_BILINEAR: return 4.0 * (double)out->count;
    default: return (double)out->count * op->n_inputs;
    }
}

double emx__graph_macs(const emx_model *m)
{
    double macs = 0;
    for (int k = 0; k < m->n_ops; k++)
        macs += op_cost(m, k);
    return macs;
}

emx_status emx__check_compute(const emx_model *m)
{
    return emx__graph_macs(m) > (double)m->params.max_macs ? EMX_ERR_LIMIT : EMX_OK;
}

/* Output 0 of a classifier must be probabilities: a SOFTMAX or CALIBRATE, or a WEIGHTED_MEAN of such
 * values with weights >= 0 summing to 1 (an ensemble, flip test-time augmentation). A graph
 * ending anywhere else returns scores like 435.3 as if they were probabilities. The weights
 * may be stored in fp16, where five weights of 0.2 sum to 0.99976: 1e-2 is allowed. */
#define EMX__PROB_SUM_TOL 1e-2f

emx_status emx__check_outputs(const emx_model *m)
{
    if (m->is_detector)
        return EMX_OK; /* logits and box offsets, decoded by detect.c */
    unsigned char *prob = calloc((size_t)m->n_values, 1);
    if (!prob)
        return EMX_ERR_NO_MEMORY;
    for (int k = 0; k < m->n_ops; k++) {
        const emx__op *op = &m->ops[k];
        if (op->type == EMX_OP_SOFTMAX || op->type == EMX_OP_CALIBRATE) {
            prob[k + 1] = 1; /* CALIBRATE ends in a softmax too */
        } else if (op->type == EMX_OP_WEIGHTED_MEAN) {
            const float *w = m->tensors[op->tensors[0]].data;
            float sum = 0;
            int ok = 1;
            for (int i = 0; i < op->n_inputs; i++) {
                ok &= prob[op->inputs[i]] && w[i] >= 0;
                sum += w[i];
            }
            prob[k + 1] = ok && fabsf(sum - 1.0f) <= EMX__PROB_SUM_TOL;
        }
    }
    const int ok = prob[m->outputs[0]];
    free(prob);
    return ok ? EMX_OK : EMX_ERR_FORMAT;
}

/* A CALIBRATE whose params hold 2n + 1 numbers carries one label threshold per class after its
 * log-prior shifts (models/FORMAT.md). They decide output 0's label (emx__pick_label), so that
 * CALIBRATE must be what produces output 0, and each threshold is a probability: 0 (none) to 1. */
emx_status emx__load_label_thresholds(emx_model *m)
{
    for (int k = 0; k < m->n_ops; k++) {
        const emx__op *op = &m->ops[k];
        const emx__tensor *t = op->type == EMX_OP_CALIBRATE ? &m->tensors[op->tensors[0]] : NULL;
        const size_t n = t ? m->values[k + 1].count : 0;
        if (!t || t->count != 2 * n + 1)
            continue;
        if (m->is_detector || k + 1 != m->outputs[0] || n != (size_t)m->n_classes)
            return EMX_ERR_FORMAT;
        for (size_t c = 0; c < n; c++) {
            const float v = t->data[n + 1 + c];
            if (!(v >= 0.0f && v <= 1.0f)) /* (NaN fails too; the loader refused it already) */
                return EMX_ERR_FORMAT;
            m->label_thresholds[c] = v;
            m->has_label_thresholds |= v > 0.0f;
        }
    }
    return EMX_OK;
}

emx_status emx__check_probs(const float *p, int n)
{
    for (int i = 0; i < n; i++)
        if (!(p[i] >= 0.0f && p[i] <= 1.0f + EMX__PROB_SUM_TOL)) /* false for NaN too */
            return EMX_ERR_NUMERIC;
    return EMX_OK;
}
