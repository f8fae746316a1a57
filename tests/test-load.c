/* test-load.c - the .emx loader and the runtime on models built here in C (tests/emx_builder.h):
 * a tiny net checked against a hand computation, a net using every op checked against a
 * plan-free interpreter, then every kind of damage a file can carry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emoxnet.h"
#include "emx_builder.h"
#include "model.h"
#include "testutil.h"

#define U32S(...) ((const uint32_t[]){ __VA_ARGS__ })
#define I32S(...) ((const int32_t[]){ __VA_ARGS__ })

static emx_model_params ref_params(void)
{
    emx_model_params p = emx_model_default_params();
    p.use_reference = 1;
    return p;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

/* ---------------------------------------------------------------- tiny net ------------ */
/* input 5x4x1 -> conv 3x3 pad 1 (2 ch, ReLU fused) -> global avg pool -> dense 2->3 (fp16
 * weights) -> softmax. Each damage kind changes exactly one thing. */

enum damage {
    D_NONE,
    D_OP_ID_0,
    D_OP_ID_14,
    D_ATTR_COUNT,
    D_TENSOR_COUNT,
    D_INPUT_COUNT,
    D_TENSOR_OFFSET,
    D_NBYTES,
    D_SHAPE,
    D_BIAS_SHAPE,
    D_DENSE_SHAPE,
    D_NAN_F32,
    D_NAN_F16,
    D_INF_F16,
    D_BIG_DIM,
    D_ZERO_DIM,
    D_NDIM0,
    D_NDIM5,
    D_DTYPE,
    D_CLASSES,
    D_FORWARD_REF,
    D_PAD,
    D_NEG_PAD,
    D_GROUPS,
    D_STRIDE0,
    D_DIL0,
    D_ACT,
    D_OUT_CHANNELS,
    D_INPUT_SIDE,
    D_INPUT_CH,
    D_STD0,
    D_MEAN_NAN,
    D_NO_OUTPUTS,
    D_OUT_RANGE,
    D_TENSOR_ID,
    D_TOO_MANY_CLASSES,
    D_NO_CLASSES,
    D_KERNEL_TOO_BIG,
    D_STRING_LEN,
    D_OVERLAP,
    D_COUNT_
};

static const float tiny_w[18] = { 0.25f,   -0.5f,  0.125f,  0.75f, 1.0f,   -0.25f,
                                  0.0625f, 0.5f,   -0.375f, -0.5f, 0.25f,  0.5f,
                                  -0.125f, 0.625f, 0.25f,   0.5f,  -0.75f, 0.125f };
static const float tiny_b[2] = { 0.1f, -0.05f };
static const float tiny_dw[6] = { 0.5f, -0.25f, -0.75f, 1.0f, 0.125f, 0.375f }; /* [3][2] */
static const float tiny_db[3] = { 0.0625f, -0.125f, 0.25f };

static uint8_t *build_tiny(enum damage d, const char *order, size_t *size)
{
    eb_model mb;
    eb_init(&mb, d == D_INPUT_SIDE ? 1025 : 5, 4, d == D_INPUT_CH ? 2 : 1,
            d == D_MEAN_NAN ? NAN : 0.5f, d == D_STD0 ? 0.0f : 0.25f);
    const char *names[3] = { "neutral", "happy", "sad" };
    int n_classes = d == D_CLASSES ? 2 : d == D_NO_CLASSES ? 0 : 3;
    for (int i = 0; i < n_classes; i++)
        eb_class(&mb, names[i]);
    if (d == D_TOO_MANY_CLASSES)
        for (int i = 3; i < 65; i++)
            eb_class(&mb, "x");
    eb_meta(&mb, "name", "tiny");
    eb_meta(&mb, "license", "CC0");

    float w[18];
    memcpy(w, tiny_w, sizeof w);
    if (d == D_NAN_F32)
        w[7] = NAN;
    int tw = d == D_SHAPE ? eb_tensor(&mb, EB_F32, 4, U32S(2, 1, 3, 2), tiny_w)
                          : eb_tensor(&mb, EB_F32, 4, U32S(2, 1, 3, 3), w);
    int tb = d == D_BIAS_SHAPE ? eb_tensor(&mb, EB_F32, 2, U32S(1, 2), tiny_b)
                               : eb_tensor(&mb, EB_F32, 1, U32S(2), tiny_b);
    int tdw;
    if (d == D_NAN_F16 || d == D_INF_F16) {
        uint16_t bits[6];
        for (int i = 0; i < 6; i++)
            bits[i] = eb_to_half(tiny_dw[i]);
        bits[3] = d == D_NAN_F16 ? 0x7e00 : 0xfc00;
        tdw = eb_tensor_f16_bits(&mb, 2, U32S(3, 2), bits);
    } else {
        tdw = eb_tensor(&mb, EB_F16, 2, d == D_DENSE_SHAPE ? U32S(2, 3) : U32S(3, 2), tiny_dw);
    }
    int tdb = eb_tensor(&mb, EB_F16, 1, U32S(3), tiny_db);
    if (d == D_TENSOR_OFFSET)
        eb_tensor_raw(&mb, EB_F32, 1, U32S(2), (uint32_t)mb.data.n - 4, 8);
    if (d == D_NBYTES)
        eb_tensor_raw(&mb, EB_F32, 1, U32S(2), 0, 12);
    if (d == D_BIG_DIM)
        eb_tensor_raw(&mb, EB_F32, 1, U32S(65537), 0, 65537 * 4);
    if (d == D_ZERO_DIM)
        eb_tensor_raw(&mb, EB_F32, 2, U32S(0, 2), 0, 0);
    if (d == D_NDIM0)
        eb_tensor_raw(&mb, EB_F32, 0, NULL, 0, 4);
    if (d == D_NDIM5)
        eb_tensor_raw(&mb, EB_F32, 5, U32S(1, 1, 1, 1, 1), 0, 4);
    if (d == D_DTYPE)
        eb_tensor_raw(&mb, 2, 1, U32S(1), 0, 4);
    if (d == D_OVERLAP) /* aliases the conv weights: only the total size gives it away */
        for (int i = 0; i < 8; i++)
            eb_tensor_raw(&mb, EB_F32, 1, U32S(18), 0, 72);

    /* kh kw sh sw pt pl pb pr dh dw groups oc act */
    int32_t ca[13] = { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, EMX_ACT_RELU };
    if (d == D_PAD)
        ca[6] = 3;
    if (d == D_NEG_PAD)
        ca[5] = -1;
    if (d == D_GROUPS)
        ca[10] = 2;
    if (d == D_STRIDE0)
        ca[3] = 0;
    if (d == D_DIL0)
        ca[8] = 0;
    if (d == D_ACT)
        ca[12] = 6;
    if (d == D_OUT_CHANNELS)
        ca[11] = 3;
    if (d == D_KERNEL_TOO_BIG) /* 9 rows of kernel over 5 + 2 rows of input and padding */
        ca[0] = 9;
    uint32_t conv_type = d == D_OP_ID_0 ? 0 : d == D_OP_ID_14 ? 14 : EMX_OP_CONV2D;
    uint32_t n_tens = d == D_TENSOR_COUNT ? 1 : 2;
    uint32_t tensor_ids[2] = { (uint32_t)tw, d == D_TENSOR_ID ? 99u : (uint32_t)tb };
    int v1 = eb_op(&mb, conv_type, d == D_INPUT_COUNT ? 2 : 1, U32S(0, 0),
                   d == D_ATTR_COUNT ? 12 : 13, ca, n_tens, tensor_ids);
    int v2 = eb_op(&mb, EMX_OP_GLOBAL_AVGPOOL, 1, U32S(d == D_FORWARD_REF ? 2u : (uint32_t)v1), 0,
                   NULL, 0, NULL);
    int v3 = eb_op(&mb, EMX_OP_DENSE, 1, U32S((uint32_t)v2), 2, I32S(3, EMX_ACT_NONE), 2,
                   U32S((uint32_t)tdw, (uint32_t)tdb));
    int v4 = eb_op(&mb, EMX_OP_SOFTMAX, 1, U32S((uint32_t)v3), 0, NULL, 0, NULL);
    if (d != D_NO_OUTPUTS)
        eb_output(&mb, d == D_OUT_RANGE ? 5u : (uint32_t)v4);
    if (d == D_STRING_LEN) { /* a class name claiming more bytes than its chunk holds */
        eb_u32(&mb.clss, 4000);
        mb.n_classes++;
    }
    uint8_t *file = eb_finish(&mb, order ? order : "ICTGDM", size);
    eb_free(&mb);
    return file;
}

/* What the tiny net computes, written out by hand; conv is the feature map before pooling. */
static void tiny_expected(const float *in, float conv[5][4][2], float probs[3])
{
    float gap[2] = { 0, 0 };
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 4; x++)
            for (int o = 0; o < 2; o++) {
                float acc = tiny_b[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = y + ky - 1, ix = x + kx - 1;
                        if (iy >= 0 && iy < 5 && ix >= 0 && ix < 4)
                            acc += tiny_w[o * 9 + ky * 3 + kx] * in[iy * 4 + ix];
                    }
                conv[y][x][o] = acc > 0 ? acc : 0;
                gap[o] += conv[y][x][o] / 20;
            }
    float z[3], mx = -INFINITY, sum = 0;
    for (int j = 0; j < 3; j++) {
        z[j] = tiny_db[j] + tiny_dw[j * 2] * gap[0] + tiny_dw[j * 2 + 1] * gap[1];
        mx = fmaxf(mx, z[j]);
    }
    for (int j = 0; j < 3; j++)
        sum += probs[j] = expf(z[j] - mx);
    for (int j = 0; j < 3; j++)
        probs[j] /= sum;
}

static void test_tiny(void)
{
    size_t size;
    uint8_t *file = build_tiny(D_NONE, NULL, &size);
    uint32_t rng = 12345;
    float in[20], conv[5][4][2], want[3], fast[3], ref[3];
    for (int i = 0; i < 20; i++)
        in[i] = emx_test_randf(&rng, -2, 2);
    tiny_expected(in, conv, want);

    emx_model *m = NULL, *mr = NULL;
    emx_model_params rp = ref_params();
    CHECK(emx_model_load(file, size, NULL, &m) == EMX_OK);
    CHECK(emx_model_load(file, size, &rp, &mr) == EMX_OK);
    if (m && mr) {
        emx_input_spec spec = emx_model_input_spec(m);
        CHECK(spec.height == 5 && spec.width == 4 && spec.channels == 1);
        CHECK(spec.mean == 0.5f && spec.std == 0.25f);
        CHECK(emx_model_num_classes(m) == 3);
        CHECK(strcmp(emx_model_class_name(m, 1), "happy") == 0);
        CHECK(emx_model_class_name(m, 3) == NULL && emx_model_class_name(m, -1) == NULL);
        CHECK(strcmp(emx_model_meta(m, "license"), "CC0") == 0);
        CHECK(emx_model_meta(m, "nope") == NULL);
        CHECK(emx_run(m, in, fast) == EMX_OK);
        CHECK(emx_run(mr, in, ref) == EMX_OK);
        CHECK(max_abs_diff(fast, want, 3) < 1e-6f);
        CHECK(max_abs_diff(ref, want, 3) < 1e-6f);
        /* The class-activation-map source: the conv output, kept alive through the run. */
        int h, w, c;
        const float *cam = emx__value(m, m->cam_value, &h, &w, &c);
        CHECK(m->cam_value == 1 && cam && h == 5 && w == 4 && c == 2);
        if (cam)
            CHECK(max_abs_diff(cam, &conv[0][0][0], 40) < 1e-6f);
        CHECK(emx__value(m, 2, NULL, NULL, NULL) == NULL); /* not kept: reused */
        CHECK(emx__value(m, 99, NULL, NULL, NULL) == NULL);
        /* Unpacked weights stay only for the reference path. */
        CHECK(m->tensor_data == NULL && mr->tensor_data != NULL);
        /* Again: a run leaves nothing behind that changes the next. */
        float again[3];
        CHECK(emx_run(m, in, again) == EMX_OK && memcmp(again, fast, sizeof again) == 0);
    }
    CHECK(emx_run(NULL, in, fast) == EMX_ERR_INVALID_ARG);
    CHECK(emx_run(m, NULL, fast) == EMX_ERR_INVALID_ARG);
    CHECK(emx_run(m, in, NULL) == EMX_ERR_INVALID_ARG);
    emx_model_free(m);
    emx_model_free(mr);
    emx_model_free(NULL);

    /* Through a file. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/emx-test-load-%ld.emx", (long)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(file, 1, size, f) == size);
        fclose(f);
        CHECK(emx_model_load_file(path, NULL, &m) == EMX_OK && m != NULL);
        emx_model_free(m);
        remove(path);
    }
    m = (emx_model *)1;
    CHECK(emx_model_load_file("tests/no-such-file.emx", NULL, &m) == EMX_ERR_IO && m == NULL);
    CHECK(emx_model_load_file(NULL, NULL, &m) == EMX_ERR_INVALID_ARG);
    CHECK(emx_model_load(NULL, 10, NULL, &m) == EMX_ERR_INVALID_ARG);
    CHECK(emx_model_load(file, size, NULL, NULL) == EMX_ERR_INVALID_ARG);
    free(file);
}

/* ---------------------------------------------------------------- every op ------------ */

static void fill(float *p, size_t n, uint32_t *rng)
{
    for (size_t i = 0; i < n; i++)
        p[i] = emx_test_randf(rng, -1, 1);
}

static int add_rand_tensor(eb_model *mb, uint32_t ndim, const uint32_t *dims, uint32_t *rng)
{
    float buf[1024];
    size_t n = 1;
    for (uint32_t i = 0; i < ndim; i++)
        n *= dims[i];
    fill(buf, n, rng);
    return eb_tensor(mb, EB_F32, ndim, dims, buf);
}

static uint8_t *build_all_ops(size_t *size)
{
    uint32_t rng = 777;
    eb_model mb;
    eb_init(&mb, 9, 8, 3, 0.485f, 0.229f);
    static const char *names[4] = { "c0", "c1", "c2", "c3" }; /* names must be unique */
    for (int i = 0; i < 4; i++)
        eb_class(&mb, names[i]);
    uint32_t w1 = add_rand_tensor(&mb, 4, U32S(4, 3, 3, 3), &rng);
    uint32_t b1 = add_rand_tensor(&mb, 1, U32S(4), &rng);
    uint32_t w2 = add_rand_tensor(&mb, 4, U32S(4, 1, 3, 3), &rng);
    uint32_t b2 = add_rand_tensor(&mb, 1, U32S(4), &rng);
    uint32_t wd = add_rand_tensor(&mb, 4, U32S(6, 8, 3, 3), &rng);
    uint32_t bd = add_rand_tensor(&mb, 1, U32S(6), &rng);
    uint32_t wf1 = add_rand_tensor(&mb, 2, U32S(4, 6), &rng);
    uint32_t bf1 = add_rand_tensor(&mb, 1, U32S(4), &rng);
    uint32_t wf2 = add_rand_tensor(&mb, 2, U32S(4, 8), &rng);
    uint32_t bf2 = add_rand_tensor(&mb, 1, U32S(4), &rng);
    uint32_t wm = eb_tensor(&mb, EB_F32, 1, U32S(2), (const float[]){ 0.25f, 0.75f });
#define V(x) ((uint32_t)(x))
    int v1 = eb_op(&mb, EMX_OP_CONV2D, 1, U32S(0), 13,
                   I32S(3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 4, EMX_ACT_RELU6), 2, U32S(w1, b1));
    int v2 = eb_op(&mb, EMX_OP_CONV2D, 1, U32S(V(v1)), 13,
                   I32S(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, EMX_ACT_SILU), 2, U32S(w2, b2));
    int v3 = eb_op(&mb, EMX_OP_ADD, 2, U32S(V(v1), V(v2)), 1, I32S(EMX_ACT_HARDSWISH), 0, NULL);
    int v4 = eb_op(&mb, EMX_OP_MAXPOOL2D, 1, U32S(V(v3)), 8, I32S(2, 2, 2, 2, 0, 0, 1, 1), 0, NULL);
    int v5 =
        eb_op(&mb, EMX_OP_AVGPOOL2D, 1, U32S(V(v4)), 9, I32S(3, 3, 1, 1, 1, 1, 1, 1, 0), 0, NULL);
    int v6 = eb_op(&mb, EMX_OP_CONCAT, 2, U32S(V(v4), V(v5)), 0, NULL, 0, NULL);
    int v7 = eb_op(&mb, EMX_OP_FLIP_W, 1, U32S(V(v6)), 0, NULL, 0, NULL);
    int v8 = eb_op(&mb, EMX_OP_RESIZE_BILINEAR, 1, U32S(V(v7)), 2, I32S(5, 3), 0, NULL);
    int v9 = eb_op(&mb, EMX_OP_GLOBAL_AVGPOOL, 1, U32S(V(v8)), 0, NULL, 0, NULL);
    int v10 = eb_op(&mb, EMX_OP_ACTIVATION, 1, U32S(V(v9)), 1, I32S(EMX_ACT_SIGMOID), 0, NULL);
    int v11 = eb_op(&mb, EMX_OP_MUL_CHANNEL, 2, U32S(V(v8), V(v10)), 0, NULL, 0, NULL);
    const int32_t dil[13] = { 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 6, EMX_ACT_NONE };
    int v12 = eb_op(&mb, EMX_OP_CONV2D, 1, U32S(V(v11)), 13, dil, 2, U32S(wd, bd));
    int v13 = eb_op(&mb, EMX_OP_FLIP_W, 1, U32S(V(v11)), 0, NULL, 0, NULL);
    int v14 = eb_op(&mb, EMX_OP_CONV2D, 1, U32S(V(v13)), 13, dil, 2, U32S(wd, bd)); /* shared */
    int v15 = eb_op(&mb, EMX_OP_ADD, 2, U32S(V(v12), V(v14)), 1, I32S(EMX_ACT_RELU), 0, NULL);
    int v16 = eb_op(&mb, EMX_OP_GLOBAL_AVGPOOL, 1, U32S(V(v15)), 0, NULL, 0, NULL);
    int v17 =
        eb_op(&mb, EMX_OP_DENSE, 1, U32S(V(v16)), 2, I32S(4, EMX_ACT_NONE), 2, U32S(wf1, bf1));
    int v18 = eb_op(&mb, EMX_OP_DENSE, 1, U32S(V(v9)), 2, I32S(4, EMX_ACT_RELU), 2, U32S(wf2, bf2));
    int v19 = eb_op(&mb, EMX_OP_WEIGHTED_MEAN, 2, U32S(V(v17), V(v18)), 0, NULL, 1, U32S(wm));
    int v20 = eb_op(&mb, EMX_OP_SOFTMAX, 1, U32S(V(v19)), 0, NULL, 0, NULL);
    eb_output(&mb, V(v20));
    eb_output(&mb, V(v17));
#undef V
    uint8_t *file = eb_finish(&mb, "MIXCTGD", size); /* odd order, META first, an unknown chunk */
    eb_free(&mb);
    return file;
}

/* The same graph evaluated op by op with the reference ops, each value in its own buffer: no
 * memory plan, so any liveness mistake in plan.c shows up as a difference. */
static float **interpret(const emx_model *m, const float *input)
{
    float **v = calloc((size_t)m->n_values, sizeof *v);
    for (int i = 0; i < m->n_values; i++)
        v[i] = calloc(m->values[i].count, sizeof(float));
    memcpy(v[0], input, m->values[0].count * sizeof(float));
    for (int k = 0; k < m->n_ops; k++) {
        const emx__op *op = &m->ops[k];
        const emx__graph_value *in = &m->values[op->inputs[0]], *out = &m->values[k + 1];
        const float *ins[16];
        int cs[16];
        for (int i = 0; i < op->n_inputs; i++) {
            ins[i] = v[op->inputs[i]];
            cs[i] = m->values[op->inputs[i]].c;
        }
        float *o = v[k + 1];
        const float *t0 = op->n_tensors > 0 ? m->tensors[op->tensors[0]].data : NULL;
        const float *t1 = op->n_tensors > 1 ? m->tensors[op->tensors[1]].data : NULL;
        switch (op->type) {
        case EMX_OP_CONV2D:
        case EMX_OP_DENSE: emx__conv2d_ref(&op->conv, t0, t1, ins[0], o); break;
        case EMX_OP_MAXPOOL2D: emx__maxpool2d_ref(&op->pool, ins[0], o); break;
        case EMX_OP_AVGPOOL2D: emx__avgpool2d_ref(&op->pool, ins[0], o); break;
        case EMX_OP_GLOBAL_AVGPOOL: emx__global_avgpool_ref(in->h * in->w, in->c, ins[0], o); break;
        case EMX_OP_ADD: emx__add_ref(out->count, ins[0], ins[1], o, op->act); break;
        case EMX_OP_CONCAT: emx__concat(in->h * in->w, op->n_inputs, ins, cs, o); break;
        case EMX_OP_SOFTMAX: emx__softmax((int)out->count, ins[0], o); break;
        case EMX_OP_ACTIVATION: emx__activation_ref(out->count, ins[0], o, op->act); break;
        case EMX_OP_WEIGHTED_MEAN:
            emx__weighted_mean_ref(out->count, op->n_inputs, ins, t0, o);
            break;
        case EMX_OP_FLIP_W: emx__flip_w(in->h, in->w, in->c, ins[0], o); break;
        case EMX_OP_RESIZE_BILINEAR:
            emx__resize_bilinear(in->h, in->w, in->c, out->h, out->w, ins[0], o);
            break;
        case EMX_OP_MUL_CHANNEL:
            emx__mul_channel_ref(in->h * in->w, in->c, ins[0], ins[1], o);
            break;
        }
    }
    return v;
}

static void test_all_ops(void)
{
    size_t size;
    uint8_t *file = build_all_ops(&size);
    emx_model *m = NULL, *mr = NULL;
    emx_model_params rp = ref_params();
    CHECK(emx_model_load(file, size, NULL, &m) == EMX_OK);
    CHECK(emx_model_load(file, size, &rp, &mr) == EMX_OK);
    free(file);
    if (!m || !mr)
        return;
    CHECK(m->n_values == 21 && m->cam_value == 15);
    CHECK(m->values[4].h == 3 && m->values[4].w == 2 && m->values[4].c == 4);
    CHECK(m->values[8].h == 5 && m->values[8].w == 3 && m->values[8].c == 8);
    CHECK(m->values[12].h == 5 && m->values[12].w == 3 && m->values[12].c == 6);
    /* Ops 11 and 13 share their weights and their shapes: packed once. */
    CHECK(m->ops[11].packed_offset == m->ops[13].packed_offset);
    /* Buffers are reused: the plan is smaller than one buffer per value. */
    size_t sum = 0;
    for (int i = 0; i < m->n_values; i++)
        sum += (m->values[i].count + 15) / 16 * 16;
    CHECK(m->workspace_floats - m->scratch_floats < sum);

    uint32_t rng = 99;
    float in[9 * 8 * 3], fast[4], ref[4];
    for (int trial = 0; trial < 3; trial++) {
        fill(in, 9 * 8 * 3, &rng);
        CHECK(emx_run(m, in, fast) == EMX_OK);
        CHECK(emx_run(mr, in, ref) == EMX_OK);
        float **want = interpret(mr, in);
        CHECK(memcmp(ref, want[20], sizeof ref) == 0);
        CHECK(max_abs_diff(fast, ref, 4) < 1e-5f);
        const float *o2 = emx__value(m, 17, NULL, NULL, NULL); /* second output, kept */
        CHECK(o2 && max_abs_diff(o2, want[17], 4) < 1e-5f);
        int h, w, c;
        const float *cam = emx__value(mr, 15, &h, &w, &c);
        CHECK(cam && h == 5 && w == 3 && c == 6 && memcmp(cam, want[15], 90 * sizeof(float)) == 0);
        for (int i = 0; i < mr->n_values; i++)
            free(want[i]);
        free(want);
    }
    emx_model_free(m);
    emx_model_free(mr);
}

/* ---------------------------------------------------------------- damage -------------- */

static emx_status load_status(const uint8_t *file, size_t size)
{
    emx_model *m = (emx_model *)1;
    emx_status st = emx_model_load(file, size, NULL, &m);
    if (st == EMX_OK) {
        emx_model_free(m);
    } else {
        CHECK(m == NULL);
    }
    return st;
}

static void test_damage_kinds(void)
{
    for (int d = D_NONE + 1; d < D_COUNT_; d++) {
        size_t size;
        uint8_t *file = build_tiny((enum damage)d, NULL, &size);
        emx_status st = load_status(file, size);
        if (st != EMX_ERR_FORMAT)
            fprintf(stderr, "damage kind %d: got %s\n", d, emx_status_str(st));
        CHECK(st == EMX_ERR_FORMAT);
        free(file);
    }
    static const struct {
        const char *order;
        emx_status want;
    } orders[] = {
        { "ICTGD", EMX_OK },           { "DGTCI", EMX_OK },          { "XICTGDMX", EMX_OK },
        { "ICTG", EMX_ERR_FORMAT },    { "CTGD", EMX_ERR_FORMAT },   { "ICTGDD", EMX_ERR_FORMAT },
        { "ICTGDMM", EMX_ERR_FORMAT }, { "IICTGD", EMX_ERR_FORMAT }, { "", EMX_ERR_FORMAT },
    };
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        size_t size;
        uint8_t *file = build_tiny(D_NONE, orders[i].order, &size);
        emx_status st = load_status(file, size);
        if (st != orders[i].want)
            fprintf(stderr, "chunk order %s: got %s\n", orders[i].order, emx_status_str(st));
        CHECK(st == orders[i].want);
        free(file);
    }
}

static void test_header(void)
{
    size_t size;
    uint8_t *file = build_tiny(D_NONE, NULL, &size);
    uint8_t *copy = malloc(size + 8);

    memcpy(copy, file, size);
    copy[0] = 'P';
    CHECK(load_status(copy, size) == EMX_ERR_BAD_MAGIC);
    CHECK(load_status((const uint8_t *)"PK", 2) == EMX_ERR_BAD_MAGIC);
    memcpy(copy, file, size);
    copy[4] = 2;
    CHECK(load_status(copy, size) == EMX_ERR_VERSION);
    memcpy(copy, file, size);
    copy[7] = 1; /* version 1 + 2^24 */
    CHECK(load_status(copy, size) == EMX_ERR_VERSION);

    /* Every truncation, from nothing to one byte short. */
    int all_truncated = 1;
    for (size_t n = 0; n < size; n++) {
        memcpy(copy, file, n);
        if (load_status(copy, n) != EMX_ERR_TRUNCATED)
            all_truncated = 0;
    }
    CHECK(all_truncated);

    /* Longer than the header says; header says less than a header. */
    memcpy(copy, file, size);
    copy[size] = 0;
    CHECK(load_status(copy, size + 1) == EMX_ERR_FORMAT);
    memcpy(copy, file, size);
    copy[8] = 8, copy[9] = copy[10] = copy[11] = 0;
    CHECK(load_status(copy, size) == EMX_ERR_FORMAT);
    /* Over the 256 MiB limit: refused before anything is read beyond the header. */
    copy[8] = copy[9] = copy[10] = 0, copy[11] = 0x20;
    CHECK(load_status(copy, size) == EMX_ERR_TRUNCATED ||
          load_status(copy, size) == EMX_ERR_FORMAT);

    /* One flipped bit, CRC left alone: the checksum catches it. */
    memcpy(copy, file, size);
    copy[size / 2] ^= 0x10;
    CHECK(load_status(copy, size) == EMX_ERR_CHECKSUM);
    memcpy(copy, file, size);
    copy[13] ^= 1;
    CHECK(load_status(copy, size) == EMX_ERR_CHECKSUM);

    /* Nonzero chunk padding (the INPT payload is 20 bytes: no padding; CLSS's is padded). */
    memcpy(copy, file, size);
    size_t clss = 16 + 8 + 20; /* header, INPT chunk */
    uint32_t clss_len = copy[clss + 4] | copy[clss + 5] << 8;
    if (clss_len % 4) {
        copy[clss + 8 + clss_len] = 0xff;
        eb_fix_header(copy, size);
        CHECK(load_status(copy, size) == EMX_ERR_FORMAT);
    }
    free(copy);
    free(file);

    /* A chunk length near 2^32: padding it to 4 bytes wraps a 32-bit size_t (wasm). */
    file = build_tiny(D_NONE, "ICTGDX", &size); /* the empty XTRA chunk ends the file */
    for (uint32_t len = 0xfffffffcu; len != 0; len++) {
        for (int i = 0; i < 4; i++)
            file[size - 4 + i] = (uint8_t)(len >> (8 * i));
        eb_fix_header(file, size);
        CHECK(load_status(file, size) == EMX_ERR_FORMAT);
    }
    free(file);
}

/* Loads that succeed are run once, when small: the runtime must cope with any model the
 * loader accepts. */
static void load_and_maybe_run(const uint8_t *file, size_t size, uint32_t *rng, int *n_ok)
{
    emx_model *m = NULL;
    emx_status st = emx_model_load(file, size, NULL, &m);
    if (st != EMX_OK) {
        CHECK(m == NULL && st < 0 && st >= EMX_ERR_NUMERIC);
        return;
    }
    (*n_ok)++;
    if (m->workspace_floats < (1u << 16)) {
        size_t n = m->values[0].count;
        float *in = malloc(n * sizeof(float)), probs[EMX_MAX_CLASSES];
        fill(in, n, rng);
        /* Damaged weights may be huge: probabilities or EMX_ERR_NUMERIC, never NaN as OK. */
        const emx_status rs = emx_run(m, in, probs);
        CHECK(rs == EMX_OK || rs == EMX_ERR_NUMERIC);
        free(in);
    }
    emx_model_free(m);
}

static void test_bit_flips(const char *what, uint8_t *file, size_t size, int all_bits)
{
    uint8_t *copy = malloc(size);
    uint32_t rng = 4242;
    int n_ok = 0, loads = 0;
    for (size_t i = 16; i < size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            if (!all_bits && bit != (int)(emx_test_rand(&rng) % 8))
                continue;
            memcpy(copy, file, size);
            copy[i] ^= (uint8_t)(1u << bit);
            eb_fix_header(copy, size); /* so the parser, not the checksum, meets the damage */
            load_and_maybe_run(copy, size, &rng, &n_ok);
            loads++;
        }
        /* Whole bytes set to extremes hit more "too large" paths than single bits. */
        for (int v = 0; v < 2; v++) {
            memcpy(copy, file, size);
            copy[i] = v ? 0xff : 0x00;
            eb_fix_header(copy, size);
            load_and_maybe_run(copy, size, &rng, &n_ok);
            loads++;
        }
    }
    printf("%s: %d damaged copies, %d still loaded (harmless bytes: weights, names)\n", what, loads,
           n_ok);
    free(copy);
}

static void test_fp16(void)
{
    CHECK(emx__fp16_to_fp32(0x0000) == 0.0f);
    CHECK(emx__fp16_to_fp32(0x8000) == 0.0f && signbit(emx__fp16_to_fp32(0x8000)));
    CHECK(emx__fp16_to_fp32(0x0001) == 0x1p-24f);
    CHECK(emx__fp16_to_fp32(0x03ff) == 1023 * 0x1p-24f);
    CHECK(emx__fp16_to_fp32(0x8001) == -0x1p-24f);
    CHECK(emx__fp16_to_fp32(0x0400) == 0x1p-14f);
    CHECK(emx__fp16_to_fp32(0x3c00) == 1.0f);
    CHECK(emx__fp16_to_fp32(0x3555) == 0x1.554p-2f);
    CHECK(emx__fp16_to_fp32(0xc000) == -2.0f);
    CHECK(emx__fp16_to_fp32(0x7bff) == 65504.0f);
    CHECK(isinf(emx__fp16_to_fp32(0x7c00)) && emx__fp16_to_fp32(0x7c00) > 0);
    CHECK(isinf(emx__fp16_to_fp32(0xfc00)) && emx__fp16_to_fp32(0xfc00) < 0);
    CHECK(isnan(emx__fp16_to_fp32(0x7e00)) && isnan(emx__fp16_to_fp32(0xfc01)));
    /* Subnormal weights load and keep their value. */
    eb_model mb;
    eb_init(&mb, 1, 1, 1, 0, 1);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    int tw = eb_tensor_f16_bits(&mb, 2, U32S(2, 1), (const uint16_t[]){ 0x0001, 0x83ff });
    int tb = eb_tensor_f16_bits(&mb, 1, U32S(2), (const uint16_t[]){ 0x0000, 0x0200 });
    eb_op(&mb, EMX_OP_DENSE, 1, U32S(0), 2, I32S(2, 0), 2, U32S((uint32_t)tw, (uint32_t)tb));
    eb_op(&mb, EMX_OP_SOFTMAX, 1, U32S(1), 0, NULL, 0, NULL);
    eb_output(&mb, 2);
    size_t size;
    uint8_t *file = eb_finish(&mb, "ICTGD", &size);
    emx_model_params rp = ref_params();
    emx_model *m = NULL;
    CHECK(emx_model_load(file, size, &rp, &m) == EMX_OK);
    if (m) {
        CHECK(m->tensors[0].data[0] == 0x1p-24f && m->tensors[0].data[1] == -1023 * 0x1p-24f);
        CHECK(m->tensors[1].data[1] == 512 * 0x1p-24f);
        float one = 1, out[2];
        /* logits 2^-24 and -511 * 2^-24: softmax tells them apart */
        CHECK(emx_run(m, &one, out) == EMX_OK && out[0] > out[1] &&
              fabsf(out[0] + out[1] - 1) < 1e-6f);
    }
    emx_model_free(m);
    free(file);
    eb_free(&mb);
}

/* A 3-class net whose output is [0.5, 0.3, 0.2] for any input (a DENSE of zero weights whose
 * biases are those log-probabilities, SOFTMAX), then CALIBRATE with identity params followed
 * by n_thr label thresholds; second_calibrate appends another plain CALIBRATE after it, which
 * becomes output 0. Returns the loader's status and the model in *out. */
static emx_status load_thresholds(const float *thr, int n_thr, int second_calibrate,
                                  emx_model **out)
{
    eb_model mb;
    eb_init(&mb, 1, 1, 1, 0, 1);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    eb_class(&mb, "c");
    const float w[3] = { 0, 0, 0 }, b[3] = { logf(0.5f), logf(0.3f), logf(0.2f) };
    int tw = eb_tensor(&mb, EB_F32, 2, U32S(3, 1), w);
    int tb = eb_tensor(&mb, EB_F32, 1, U32S(3), b);
    float params[7] = { 1, 0, 0, 0 };
    for (int i = 0; i < n_thr; i++)
        params[4 + i] = thr[i];
    int tp = eb_tensor(&mb, EB_F32, 1, U32S((uint32_t)(4 + n_thr)), params);
    eb_op(&mb, EMX_OP_DENSE, 1, U32S(0), 2, I32S(3, 0), 2, U32S((uint32_t)tw, (uint32_t)tb));
    eb_op(&mb, EMX_OP_SOFTMAX, 1, U32S(1), 0, NULL, 0, NULL);
    int v = eb_op(&mb, EMX_OP_CALIBRATE, 1, U32S(2), 0, NULL, 1, U32S((uint32_t)tp));
    if (second_calibrate) {
        int tq = eb_tensor(&mb, EB_F32, 1, U32S(4), params);
        v = eb_op(&mb, EMX_OP_CALIBRATE, 1, U32S((uint32_t)v), 0, NULL, 1, U32S((uint32_t)tq));
    }
    eb_output(&mb, (uint32_t)v);
    size_t size;
    uint8_t *file = eb_finish(&mb, "ICTGD", &size);
    emx_model_params rp = ref_params();
    *out = NULL;
    emx_status st = emx_model_load(file, size, &rp, out);
    free(file);
    eb_free(&mb);
    return st;
}

/* The label for probabilities [0.5, 0.3, 0.2] under thresholds thr (3 of them), with label
 * weights w (NULL: none); -1 when the model does not load. */
static int threshold_label(const float *thr, const float *w)
{
    emx_model *m = NULL;
    if (load_thresholds(thr, 3, 0, &m) != EMX_OK)
        return -1;
    float one = 1, p[3];
    int label = -1;
    CHECK(emx_run(m, &one, p) == EMX_OK && fabsf(p[2] - 0.2f) < 1e-5f);
    if (w)
        CHECK(emx_set_label_weights(m, w, 3) == EMX_OK);
    CHECK(emx_pick_label(m, p, &label) == EMX_OK);
    emx_model_free(m);
    return label;
}

/* CALIBRATE's label thresholds (models/FORMAT.md): the class whose probability reaches its
 * threshold is the label though another is more probable; weights renormalise first. */
static void test_label_thresholds(void)
{
    CHECK(threshold_label((const float[]){ 0, 0, 0 }, NULL) == 0);     /* none: argmax */
    CHECK(threshold_label((const float[]){ 0, 0, 0.15f }, NULL) == 2); /* 0.2 >= 0.15 */
    CHECK(threshold_label((const float[]){ 0, 0, 0.25f }, NULL) == 0); /* not reached */
    /* two reached: the lower threshold (the class the model under-ranks most), not the likelier;
     * equal thresholds: the likelier */
    CHECK(threshold_label((const float[]){ 0, 0.29f, 0.19f }, NULL) == 2);
    CHECK(threshold_label((const float[]){ 0, 0.15f, 0.19f }, NULL) == 1);
    CHECK(threshold_label((const float[]){ 0, 0.2f, 0.2f }, NULL) == 1);
    CHECK(threshold_label((const float[]){ 0.9f, 0, 0.1f }, NULL) == 2); /* a missed one: ignored */
    /* weights: the threshold reads the output itself (c's 0.2), not the weighted scores (c's
     * 0.2 / 1.5 = 0.133 with weights 2, 1, 1; 0.6 / 1.4 = 0.43 with 1, 1, 3) */
    CHECK(threshold_label((const float[]){ 0, 0, 0.15f }, (const float[]){ 2, 1, 1 }) == 2);
    CHECK(threshold_label((const float[]){ 0, 0, 0.3f }, (const float[]){ 1, 1, 3 }) ==
          2); /* argmax */
    CHECK(threshold_label((const float[]){ 0, 0.35f, 0 }, (const float[]){ 1, 1, 3 }) == 2);
    CHECK(threshold_label((const float[]){ 0, 0.25f, 0 }, (const float[]){ 1, 1, 3 }) == 1);
    CHECK(threshold_label((const float[]){ 0, 0.25f, 0 }, (const float[]){ 3, 1, 1 }) == 1);
    /* ... whatever the thresholded class's own weight: b's weighted 0.45 would reach 0.4 and
     * c's weighted 0.1 would miss 0.15 */
    CHECK(threshold_label((const float[]){ 0, 0.4f, 0 }, (const float[]){ 2, 1.5f, 1 }) == 0);
    CHECK(threshold_label((const float[]){ 0, 0, 0.15f }, (const float[]){ 1, 1, 0.5f }) == 2);

    emx_model *m = NULL;
    CHECK(load_thresholds((const float[]){ 0, 0.25f, 1 }, 3, 0, &m) == EMX_OK);
    CHECK(emx_model_label_threshold(m, 1) == 0.25f && emx_model_label_threshold(m, 2) == 1.0f);
    CHECK(emx_model_label_threshold(m, 0) == 0 && emx_model_label_threshold(m, 3) == 0 &&
          emx_model_label_threshold(m, -1) == 0 && emx_model_label_threshold(NULL, 1) == 0);
    int label = 7;
    float p[3] = { 0.5f, 0.3f, 0.2f };
    CHECK(emx_pick_label(NULL, p, &label) == EMX_ERR_INVALID_ARG && label == 7);
    CHECK(emx_pick_label(m, NULL, &label) == EMX_ERR_INVALID_ARG);
    CHECK(emx_pick_label(m, p, NULL) == EMX_ERR_INVALID_ARG);
    CHECK(emx_pick_label(m, p, &label) == EMX_OK && label == 1);
    p[1] = 0.25f; /* reached exactly counts */
    CHECK(emx_pick_label(m, p, &label) == EMX_OK && label == 1);
    p[1] = nextafterf(0.25f, 0);
    CHECK(emx_pick_label(m, p, &label) == EMX_OK && label == 0);
    emx_model_free(m);
    /* two classes reach theirs: the lower threshold, though it is the first and the less likely
     * (a contempt face that reaches disgust's higher threshold too stays contempt) */
    CHECK(load_thresholds((const float[]){ 0, 0.15f, 0.25f }, 3, 0, &m) == EMX_OK);
    CHECK(emx_pick_label(m, (const float[]){ 0.5f, 0.2f, 0.3f }, &label) == EMX_OK && label == 1);
    emx_model_free(m);
    /* equal thresholds: the likelier, not the first */
    CHECK(load_thresholds((const float[]){ 0, 0.15f, 0.15f }, 3, 0, &m) == EMX_OK);
    CHECK(emx_pick_label(m, (const float[]){ 0.5f, 0.2f, 0.3f }, &label) == EMX_OK && label == 2);
    emx_model_free(m);
    /* the plain form (n + 1 params) loads without thresholds */
    CHECK(load_thresholds(NULL, 0, 0, &m) == EMX_OK && emx_model_label_threshold(m, 2) == 0);
    emx_model_free(m);

    /* refused: a threshold that is no probability, a count that is neither n + 1 nor 2n + 1,
     * thresholds on a CALIBRATE that is not output 0 (they would decide nothing) */
    CHECK(load_thresholds((const float[]){ 0, 0, 1.5f }, 3, 0, &m) == EMX_ERR_FORMAT && !m);
    CHECK(load_thresholds((const float[]){ 0, -0.1f, 0 }, 3, 0, &m) == EMX_ERR_FORMAT && !m);
    CHECK(load_thresholds((const float[]){ 0, 0.1f }, 2, 0, &m) == EMX_ERR_FORMAT && !m);
    CHECK(load_thresholds((const float[]){ 0, 0, 0.1f }, 3, 1, &m) == EMX_ERR_FORMAT && !m);
    CHECK(load_thresholds((const float[]){ 0, 0, 0 }, 3, 1, &m) == EMX_ERR_FORMAT && !m);
}

/* plan.c's execution order: every op once, each after the ops it reads; with flip test-time
 * augmentation each op of the mirrored view right after its twin on the image (same type and
 * weights: the ensemble's weights are then reused from cache), and the file's order without. */
static void check_order(const char *path, int min_pairs)
{
    emx_model *m = NULL;
    CHECK(emx_model_load_file(path, NULL, &m) == EMX_OK);
    if (!m)
        return;
    char *done = calloc((size_t)m->n_ops + 1, 1);
    int n = 0, pairs = 0, in_file_order = 1, prev = -1, ok = 1;
    for (int k = m->first_op; k >= 0 && n <= m->n_ops; k = m->ops[k].next_op, n++) {
        const emx__op *op = &m->ops[k];
        for (int i = 0; i < op->n_inputs; i++)
            ok &= op->inputs[i] == 0 || done[op->inputs[i] - 1];
        ok &= !done[k];
        done[k] = 1;
        in_file_order &= k == prev + 1;
        if (prev >= 0 && op->type == m->ops[prev].type &&
            (op->n_tensors == 0 || op->tensors[0] == m->ops[prev].tensors[0]) &&
            op->inputs[0] != prev + 1)
            pairs++;
        prev = k;
    }
    CHECK(ok && n == m->n_ops);
    if (min_pairs > 0)
        CHECK(pairs >= min_pairs);
    else
        CHECK(in_file_order);
    printf("%s: %d ops, %d run right after their twin, %s\n", path, n, pairs,
           in_file_order ? "file order" : "reordered");
    free(done);
    emx_model_free(m);
}

int main(void)
{
    check_order("models/emoxnet-lite.emx", 13); /* the whole trunk but the first conv */
    check_order("models/emoxnet.emx", 85);      /* 5 members */
    check_order("tests/golden/vgg.emx", 0);     /* no flip: the file's order */
    CHECK(emx__crc32(0, "123456789", 9) == 0xcbf43926u);
    CHECK(emx__crc32(emx__crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u);
    CHECK(strcmp(emx_status_str(EMX_OK), "ok") == 0);
    CHECK(emx_status_str((emx_status)-99) != NULL);
    test_fp16();
    test_label_thresholds();
    test_tiny();
    test_all_ops();
    test_damage_kinds();
    test_header();
    size_t size;
    uint8_t *file = build_tiny(D_NONE, NULL, &size);
    test_bit_flips("tiny net", file, size, 1);
    free(file);
    file = build_all_ops(&size);
    test_bit_flips("all-ops net", file, size, 0);
    free(file);
    return emx_test_summary();
}
