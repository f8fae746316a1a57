/* bench-ops.c - where a network's time goes: every op of a model timed on its own (the graph run
 * op by op, as emx__forward does, with a clock around each), single thread, median over runs
 * after warm-up. Natively (build/bench-ops) and as WebAssembly SIMD128
 * (node --no-experimental-fetch build-wasm/bench-ops.cjs).
 *
 *   bench-ops [MODEL.emx [RUNS]]     (default models/emoxnet-lite.emx, 300 runs)
 *
 * Ops are listed in file order; they run in plan.c's order (flip test-time augmentation's twin
 * ops side by side). "+twin": the op computes its flip twin in the same call (its MFLOP count
 * both); "+add": a residual ADD is fused into it; "(with twin)", "(fused)": done by another op.
 * Columns: op index, type, output shape, MFLOP (2 x multiply-adds for convs and dense layers,
 * elements for the rest), median microseconds, GFLOP/s (convs), share of the summed medians. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *op_name(int type, const emx__op *op)
{
    static const char *names[] = { "?",       "conv",     "dense",    "maxpool",
                                   "avgpool", "gap",      "add",      "concat",
                                   "softmax", "act",      "wmean",    "flip_w",
                                   "resize",  "mul_chan", "pad_chan", "calibrate" };
    if (type == EMX_OP_CONV2D && op->conv.groups > 1 && op->conv.groups == op->conv.in_c)
        return "dwconv";
    return type > 0 && type < EMX_OP_COUNT_ ? names[type] : "?";
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "models/emoxnet-lite.emx";
    const int runs = argc > 2 ? atoi(argv[2]) : 300;
    emx_model *m = NULL;
    emx_status st = emx_model_load_file(path, NULL, &m);
    if (st != EMX_OK) {
        fprintf(stderr, "bench-ops: %s: %s\n", path, emx_status_str(st));
        return 1;
    }
    float *in = emx__value_ptr(m, 0);
    unsigned seed = 1;
    for (size_t i = 0; i < m->values[0].count; i++)
        in[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
    double *t = calloc((size_t)m->n_ops * (size_t)runs, sizeof(double));
    double *tot = calloc((size_t)runs, sizeof(double));
    for (int r = 0; r < 50; r++) /* warm-up: caches, wasm tier-up */
        emx__forward(m);
    for (int r = 0; r < runs; r++) {
        const double r0 = now_us();
        for (int k = m->first_op; k >= 0; k = m->ops[k].next_op) {
            const double t0 = now_us();
            emx__run_op(m, k);
            t[(size_t)k * runs + r] = now_us() - t0;
        }
        tot[r] = now_us() - r0;
    }
    double sum = 0, *med = calloc((size_t)m->n_ops, sizeof(double));
    for (int k = 0; k < m->n_ops; k++) {
        qsort(t + (size_t)k * runs, (size_t)runs, sizeof(double), cmp);
        med[k] = t[(size_t)k * runs + runs / 2];
        sum += med[k];
    }
    qsort(tot, (size_t)runs, sizeof(double), cmp);
    printf("bench-ops %s: %d ops, forward median %.1f us (sum of op medians %.1f us), %d runs\n",
           path, m->n_ops, tot[runs / 2], sum, runs);
    printf("%4s %-9s %-22s %8s %9s %8s %6s\n", "op", "type", "out (h x w x c) / detail", "MFLOP",
           "us", "GFLOP/s", "%");
    for (int k = 0; k < m->n_ops; k++) {
        const emx__op *op = &m->ops[k];
        const emx__graph_value *v = &m->values[k + 1];
        char detail[64];
        double flop = (double)v->count;
        if (op->type == EMX_OP_CONV2D || op->type == EMX_OP_DENSE) {
            const emx__conv_shape *s = &op->conv;
            flop = 2.0 * s->out_h * s->out_w * s->out_c * (double)(s->in_c / s->groups) * s->kh *
                   s->kw;
            snprintf(detail, sizeof detail, "%dx%dx%d %dx%d/%d <-%d%s", v->h, v->w, v->c, s->kh,
                     s->kw, s->stride_h, s->in_c,
                     op->pair_with >= 0 ? " +twin"
                     : op->res_add >= 0 ? " +add"
                                        : "");
            if (op->pair_with >= 0) /* computes its flip twin too */
                flop *= 2;
        } else {
            snprintf(detail, sizeof detail, "%dx%dx%d", v->h, v->w, v->c);
        }
        if (op->paired || op->fused) /* computed by another op (plan.c) */
            snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " %s",
                     op->paired ? "(with twin)" : "(fused)");
        printf("%4d %-9s %-22s %8.3f %9.1f %8.2f %6.1f\n", k, op_name(op->type, op), detail,
               flop * 1e-6, med[k], flop / med[k] * 1e-3, 100.0 * med[k] / sum);
    }
    free(t), free(tot), free(med);
    emx_model_free(m);
    return 0;
}
