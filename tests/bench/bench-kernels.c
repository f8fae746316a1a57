/* bench-kernels.c - GFLOP/s of the convolution kernels on the network's layer shapes, one
 * column per GEMM micro-kernel of f32-gemm.inc (run through the whole conv driver, so
 * packing-independent overheads such as the indirection buffer are counted), plus the
 * reference conv for scale. Median of many timed runs after a warm-up; single thread.
 * Portable C + clock_gettime(CLOCK_MONOTONIC) only, so the same file builds with Emscripten
 * for the WebAssembly column.
 * 3x3 stride-1 "same" convs with outputs >= 2x2, in_c >= 8 and channels % 4 == 0 take the Winograd route
 * (f32-conv3x3-winograd.c) in every kernel column; "direct" is the same conv forced through
 * igemm (4x8). GFLOP/s always count the direct conv's 2 * outputs * K flops, so a Winograd
 * cell is an *effective* rate and may exceed the peak (it does 2.25x fewer multiply-adds).
 * The last line is the machine's measured 128-bit SIMD peak (f32x4 mul and add streams, six
 * independent chains each, no loads) that the kernel columns can be read against.
 * Then a second table: the non-GEMM kernels (depthwise, pooling, elementwise, padding) beside
 * the GEMM kernel of the same block (nongemm_table below).
 *   usage: bench-kernels [min_seconds_per_cell (default 0.2) [--non-gemm: that table only]] */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "ops.h"
#include "simd/simd.h"

typedef struct bench_case {
    const char *name;
    int in_hw, in_c, out_c, k, stride, pad, groups;
} bench_case;

static const bench_case cases[] = {
    { "conv3x3 48x48x1->16", 48, 1, 16, 3, 1, 1, 1 },
    { "conv3x3 48x48x3->16", 48, 3, 16, 3, 1, 1, 1 },
    { "conv3x3 48x48x4->16", 48, 4, 16, 3, 1, 1, 1 },
    { "conv3x3 48x48x16->16", 48, 16, 16, 3, 1, 1, 1 },
    { "conv3x3 24x24x32->32", 24, 32, 32, 3, 1, 1, 1 },
    { "conv3x3 12x12x64->64", 12, 64, 64, 3, 1, 1, 1 },
    { "conv3x3 6x6x128->128", 6, 128, 128, 3, 1, 1, 1 },
    { "conv3x3 48x48x64->64", 48, 64, 64, 3, 1, 1, 1 }, /* vgg (full profile) */
    { "conv3x3 24x24x128->128", 24, 128, 128, 3, 1, 1, 1 },
    { "conv3x3 12x12x256->256", 12, 256, 256, 3, 1, 1, 1 },
    { "conv3x3 6x6x320->320", 6, 320, 320, 3, 1, 1, 1 },
    { "conv3x3 24x24x32->32", 24, 32, 32, 3, 1, 1, 1 }, /* resnet-s, cpu profile */
    { "conv3x3 12x12x128->128", 12, 128, 128, 3, 1, 1, 1 },
    { "conv3x3/2 48x48x16->32", 48, 16, 32, 3, 2, 1, 1 },
    { "conv5x5/2 128x128x3->24", 128, 3, 24, 5, 2, 2, 1 }, /* BlazeFace's stem (thin) */
    { "conv1x1 48x48x16->32", 48, 16, 32, 1, 1, 0, 1 },
    { "conv1x1 24x24x32->64", 24, 32, 64, 1, 1, 0, 1 },
    { "conv1x1 12x12x64->128", 12, 64, 128, 1, 1, 0, 1 },
    { "dw3x3 48x48x16", 48, 16, 16, 3, 1, 1, 16 },
    { "dw3x3 24x24x32", 24, 32, 32, 3, 1, 1, 32 },
    { "dw3x3 12x12x64", 12, 64, 64, 3, 1, 1, 64 },
    { "dense 256->8", 1, 256, 8, 1, 1, 0, 1 },
    { "dense 1152->256", 1, 1152, 256, 1, 1, 0, 1 },
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { MAX_RUNS = 501 };

/* median seconds of one call; cfg NULL = reference conv */
static double time_conv(const emx__gemm_config *cfg, const emx__conv_shape *s, const float *w,
                        const float *b, const float *packed, const float *in, float *out,
                        float *scratch, double min_s)
{
    static double t[MAX_RUNS];
    int n = 0;
    for (int i = 0; i < 3; i++) { /* warm-up: caches, branch predictors, wasm tier-up */
        if (cfg)
            emx__conv2d_with(cfg, s, packed, in, out, scratch);
        else
            emx__conv2d_ref(s, w, b, in, out);
    }
    const double start = now_s();
    while (n < MAX_RUNS && (n < 5 || now_s() - start < min_s)) {
        const double t0 = now_s();
        if (cfg)
            emx__conv2d_with(cfg, s, packed, in, out, scratch);
        else
            emx__conv2d_ref(s, w, b, in, out);
        t[n++] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

/* The f32x4 peak loop: 6 mul chains + 6 add chains, 4 flops per op, no memory traffic inside.
 * A function of its own, called once per timed run, so V8 can tier it up (no OSR for wasm). */
__attribute__((noinline)) static void peak_loop(float *st, int iters)
{
    const emx_v4f m = emx_v4f_splat(0.99999994f), c = emx_v4f_splat(1e-7f);
    emx_v4f a0 = emx_v4f_load(st), a1 = emx_v4f_load(st + 4), a2 = emx_v4f_load(st + 8);
    emx_v4f a3 = emx_v4f_load(st + 12), a4 = emx_v4f_load(st + 16), a5 = emx_v4f_load(st + 20);
    emx_v4f b0 = emx_v4f_load(st + 24), b1 = emx_v4f_load(st + 28), b2 = emx_v4f_load(st + 32);
    emx_v4f b3 = emx_v4f_load(st + 36), b4 = emx_v4f_load(st + 40), b5 = emx_v4f_load(st + 44);
    for (int i = 0; i < iters; i++) {
        a0 = emx_v4f_mul(a0, m), b0 = emx_v4f_add(b0, c);
        a1 = emx_v4f_mul(a1, m), b1 = emx_v4f_add(b1, c);
        a2 = emx_v4f_mul(a2, m), b2 = emx_v4f_add(b2, c);
        a3 = emx_v4f_mul(a3, m), b3 = emx_v4f_add(b3, c);
        a4 = emx_v4f_mul(a4, m), b4 = emx_v4f_add(b4, c);
        a5 = emx_v4f_mul(a5, m), b5 = emx_v4f_add(b5, c);
    }
    emx_v4f_store(st, a0), emx_v4f_store(st + 4, a1), emx_v4f_store(st + 8, a2);
    emx_v4f_store(st + 12, a3), emx_v4f_store(st + 16, a4), emx_v4f_store(st + 20, a5);
    emx_v4f_store(st + 24, b0), emx_v4f_store(st + 28, b1), emx_v4f_store(st + 32, b2);
    emx_v4f_store(st + 36, b3), emx_v4f_store(st + 40, b4), emx_v4f_store(st + 44, b5);
}

static double peak_gflops(double min_s)
{
    enum { ITERS = 1 << 18 };
    static double t[MAX_RUNS];
    static float st[48];
    for (int i = 0; i < 48; i++)
        st[i] = i < 24 ? 1.0f + 0.01f * (float)i : 0.0f;
    for (int i = 0; i < 20; i++)
        peak_loop(st, ITERS); /* warm-up: wasm tier-up */
    int n = 0;
    const double start = now_s();
    while (n < MAX_RUNS && (n < 5 || now_s() - start < min_s)) {
        const double t0 = now_s();
        peak_loop(st, ITERS);
        t[n++] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return 12.0 * 4.0 * ITERS / t[n / 2] * 1e-9;
}

/* ---- the non-GEMM kernels beside the GEMM kernel of the same layer ----------------------
 * Depthwise 3x3 layers of BlazeFace and MobileNetV1 (each followed by a pointwise 1x1 conv: the
 * GEMM column is that conv, so the two columns are the two halves of one separable block),
 * then pooling, elementwise and padding kernels. FLOP conventions: 2 per multiply-add (dw and
 * GEMM), 3 max per 2x2 window, 1 per element for add and global average pooling, 0 for channel
 * padding (it only moves memory: GB/s is its figure). GB/s counts the bytes each kernel must read
 * and write once (inputs + outputs, f32); memcpy of the same bytes is the ceiling for the
 * memory-bound ones. The goal 5 is dw GFLOP/s within 2x of the GEMM's. */
typedef struct nongemm_ctx {
    int kind; /* 0 conv (dw or 1x1), 1 maxpool, 2 add, 3 pad channels, 4 global avgpool, 5 memcpy */
    emx__conv_shape conv;
    emx__pool_shape pool;
    const float *packed, *in, *in2;
    float *out, *scratch;
    size_t n;
    int hw, c, pad_after;
} nongemm_ctx;

static void nongemm_run(const nongemm_ctx *x)
{
    switch (x->kind) {
    case 0: emx__conv2d(&x->conv, x->packed, x->in, x->out, x->scratch); break;
    case 1: emx__maxpool2d(&x->pool, x->in, x->out); break;
    case 2: emx__add(x->n, x->in, x->in2, x->out, EMX_ACT_RELU); break;
    case 3: emx__pad_channels(x->hw, x->c, 0, x->pad_after, x->in, x->out); break;
    case 4: emx__global_avgpool(x->hw, x->c, x->in, x->out); break;
    default: memcpy(x->out, x->in, x->n * sizeof(float)); break;
    }
}

static double nongemm_time(const nongemm_ctx *x, double min_s)
{
    static double t[MAX_RUNS];
    for (int i = 0; i < 3; i++)
        nongemm_run(x);
    int n = 0;
    const double start = now_s();
    while (n < MAX_RUNS && (n < 5 || now_s() - start < min_s)) {
        const double t0 = now_s();
        nongemm_run(x);
        t[n++] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

/* a conv with random weights, packed, ready in x; returns its flops */
static double nongemm_conv(nongemm_ctx *x, int hw, int in_c, int out_c, int k, int stride,
                           int pad_lo, int pad_hi, int groups, unsigned *seed)
{
    emx__conv_shape *s = &x->conv;
    memset(s, 0, sizeof *s);
    s->in_h = s->in_w = hw, s->in_c = in_c, s->out_c = out_c, s->kh = s->kw = k;
    s->stride_h = s->stride_w = stride, s->dil_h = s->dil_w = 1, s->pad_top = s->pad_left = pad_lo;
    s->groups = groups, s->act = EMX_ACT_RELU;
    s->out_h = s->out_w = (hw + pad_lo + pad_hi - k) / stride + 1;
    const size_t w_n = (size_t)out_c * (in_c / groups) * k * k;
    float *w = malloc(w_n * sizeof(float)), *b = calloc((size_t)out_c, sizeof(float));
    for (size_t i = 0; i < w_n; i++)
        w[i] = (float)((*seed = *seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
    float *packed = malloc(emx__conv2d_packed_size(s) * sizeof(float));
    emx__conv2d_pack(s, w, b, packed);
    x->packed = packed;
    x->scratch = malloc((emx__conv2d_scratch_size(s) + 1) * sizeof(float));
    free(w), free(b);
    x->kind = 0;
    return 2.0 * s->out_h * s->out_w * out_c * (double)(in_c / groups) * k * k;
}

static void nongemm_table(double min_s)
{
    static const struct {
        const char *name;
        int hw, c, stride, pad_lo, pad_hi, pw_out;
    } dws[] = {
        { "BlazeFace 64x64x24 /1", 64, 24, 1, 1, 1, 24 },
        { "BlazeFace 64x64x28 /2", 64, 28, 2, 0, 1, 32 },
        { "BlazeFace 32x32x36 /1", 32, 36, 1, 1, 1, 42 },
        { "BlazeFace 16x16x42 /2", 16, 42, 2, 0, 1, 48 },
        { "BlazeFace 16x16x88 /1", 16, 88, 1, 1, 1, 88 },
        { "BlazeFace 8x8x96 /1", 8, 96, 1, 1, 1, 96 },
        { "MobileNet 56x56x64 /2", 56, 64, 2, 1, 1, 128 },
        { "MobileNet 28x28x128 /1", 28, 128, 1, 1, 1, 128 },
        { "MobileNet 14x14x256 /1", 14, 256, 1, 1, 1, 256 },
        { "MobileNet 7x7x512 /1", 7, 512, 1, 1, 1, 512 },
    };
    printf("\nnon-GEMM kernels (%s) beside the GEMM kernel of the same block\n", EMX_SIMD_NAME);
    printf("%-30s %8s %9s %8s %8s %9s %9s %8s\n", "depthwise 3x3 (+ its 1x1)", "MFLOP", "GFLOP/s",
           "GB/s", "us", "1x1 GEMM", "GEMM/dw", "1x1 us");
    unsigned seed = 7;
    const size_t big = (size_t)64 * 64 * 512;
    float *a = malloc(big * sizeof(float)), *a2 = malloc(big * sizeof(float));
    float *o = malloc(big * sizeof(float));
    for (size_t i = 0; i < big; i++) {
        a[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
        a2[i] = -a[i];
    }
    for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++) {
        nongemm_ctx x;
        memset(&x, 0, sizeof x);
        const double fdw = nongemm_conv(&x, dws[i].hw, dws[i].c, dws[i].c, 3, dws[i].stride,
                                        dws[i].pad_lo, dws[i].pad_hi, dws[i].c, &seed);
        x.in = a, x.out = o;
        const double tdw = nongemm_time(&x, min_s);
        const int ohw = x.conv.out_h;
        const double bytes =
            4.0 * ((double)dws[i].hw * dws[i].hw * dws[i].c + (double)ohw * ohw * dws[i].c);
        free((void *)x.packed), free(x.scratch);
        nongemm_ctx g;
        memset(&g, 0, sizeof g);
        const double fpw = nongemm_conv(&g, ohw, dws[i].c, dws[i].pw_out, 1, 1, 0, 0, 1, &seed);
        g.in = a, g.out = o;
        const double tpw = nongemm_time(&g, min_s);
        free((void *)g.packed), free(g.scratch);
        printf("%-30s %8.3f %9.2f %8.2f %8.1f %9.2f %8.2fx %8.1f\n", dws[i].name, fdw * 1e-6,
               fdw / tdw * 1e-9, bytes / tdw * 1e-9, tdw * 1e6, fpw / tpw * 1e-9,
               (fpw / tpw) / (fdw / tdw), tpw * 1e6);
        fflush(stdout);
    }
    static const struct {
        const char *name;
        int kind, hw, c, pad_after;
    } ews[] = {
        { "maxpool 2x2/2 48x48x16", 1, 48, 16, 0 },
        { "maxpool 2x2/2 64x64x24", 1, 64, 24, 0 },
        { "maxpool 2x2/2 12x12x32", 1, 12, 32, 0 },
        { "add+relu 64x64x24", 2, 64, 24, 0 },
        { "add+relu 16x16x88", 2, 16, 88, 0 },
        { "pad channels 64x64 24->28", 3, 64, 24, 4 },
        { "pad channels 16x16 42->48", 3, 16, 42, 6 },
        { "global avgpool 6x6x128", 4, 6, 128, 0 },
    };
    printf("%-30s %8s %9s %8s %8s %9s %9s\n", "pooling, elementwise, padding", "MFLOP", "GFLOP/s",
           "GB/s", "us", "memcpy", "GB/s");
    for (size_t i = 0; i < sizeof ews / sizeof ews[0]; i++) {
        nongemm_ctx x;
        memset(&x, 0, sizeof x);
        x.kind = ews[i].kind, x.in = a, x.in2 = a2, x.out = o;
        x.hw = ews[i].hw * ews[i].hw, x.c = ews[i].c, x.pad_after = ews[i].pad_after;
        const double px = (double)x.hw * x.c;
        double flop = px, bytes = 8.0 * px;
        if (x.kind == 1) {
            emx__pool_shape *p = &x.pool;
            p->in_h = p->in_w = ews[i].hw, p->c = ews[i].c, p->kh = p->kw = 2;
            p->stride_h = p->stride_w = 2, p->out_h = p->out_w = ews[i].hw / 2;
            flop = 3.0 * px / 4, bytes = 4.0 * px * 1.25;
        } else if (x.kind == 2) {
            x.n = (size_t)px, bytes = 12.0 * px;
        } else if (x.kind == 3) {
            flop = 0, bytes = 4.0 * ((double)x.hw * (2 * x.c + x.pad_after));
        } else if (x.kind == 4) {
            bytes = 4.0 * (px + x.c);
        }
        const double t = nongemm_time(&x, min_s);
        nongemm_ctx m;
        memset(&m, 0, sizeof m);
        m.kind = 5, m.in = a, m.out = o, m.n = (size_t)(bytes / 8.0);
        const double tm = nongemm_time(&m, min_s);
        printf("%-30s %8.3f %9.2f %8.2f %8.1f %9s %9.2f\n", ews[i].name, flop * 1e-6,
               flop / t * 1e-9, bytes / t * 1e-9, t * 1e6, "", bytes / tm * 1e-9);
        fflush(stdout);
    }
    free(a), free(a2), free(o);
}

int main(int argc, char **argv)
{
    const double min_s = argc > 1 ? atof(argv[1]) : 0.2;
    if (argc > 2 && strcmp(argv[2], "--non-gemm") == 0) {
        nongemm_table(min_s);
        return 0;
    }
    printf("bench-kernels (%s), GFLOP/s, median of runs (>= %.2f s per cell)\n", EMX_SIMD_NAME,
           min_s);
    printf("%-24s %8s", "shape", "MFLOP");
    for (int k = 0; k < emx__gemm_config_count; k++)
        printf(" %7dx%d", emx__gemm_configs[k].mr, emx__gemm_configs[k].nr);
    printf(" %9s %9s %9s %10s\n", "F(2x2)", "direct", "ref", "us(best)");

    unsigned seed = 1;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const bench_case *c = &cases[ci];
        emx__conv_shape s;
        memset(&s, 0, sizeof s);
        s.in_h = s.in_w = c->in_hw, s.in_c = c->in_c, s.out_c = c->out_c;
        s.kh = s.kw = c->k, s.stride_h = s.stride_w = c->stride, s.dil_h = s.dil_w = 1;
        s.pad_top = s.pad_left = c->pad, s.groups = c->groups, s.act = EMX_ACT_RELU;
        s.out_h = s.out_w = (c->in_hw + 2 * c->pad - c->k) / c->stride + 1;

        const size_t in_n = (size_t)s.in_h * s.in_w * s.in_c;
        const size_t out_n = (size_t)s.out_h * s.out_w * s.out_c;
        const size_t w_n = (size_t)s.out_c * (s.in_c / s.groups) * s.kh * s.kw;
        float *in = malloc(in_n * sizeof(float)), *w = malloc(w_n * sizeof(float));
        float *b = malloc((size_t)s.out_c * sizeof(float)), *out = malloc(out_n * sizeof(float));
        for (size_t i = 0; i < in_n; i++)
            in[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
        for (size_t i = 0; i < w_n; i++)
            w[i] = (float)((seed = seed * 1103515245u + 12345u) >> 16) / 65536.0f - 0.5f;
        for (int i = 0; i < s.out_c; i++)
            b[i] = 0.01f * (float)i;
        float *packed = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
        const size_t scratch_n = emx__conv2d_scratch_size(&s);
        float *scratch = malloc((scratch_n ? scratch_n : 1) * sizeof(float));
        emx__conv2d_pack(&s, w, b, packed);

        const double flop = 2.0 * (double)out_n * (double)(s.in_c / s.groups) * s.kh * s.kw;
        printf("%-24s %8.2f", c->name, flop * 1e-6);
        double best = 1e30;
        for (int k = 0; k < emx__gemm_config_count; k++) {
            const double t =
                time_conv(&emx__gemm_configs[k], &s, w, b, packed, in, out, scratch, min_s);
            if (t < best)
                best = t;
            printf(" %9.2f", flop / t * 1e-9);
        }
        if (emx__wino_applies(&s) && emx__wino_tile(&s) != 2) { /* forced to F(2x2) */
            emx__wino_f4_enabled = 0;
            float *fpacked = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
            float *fscratch = malloc((emx__conv2d_scratch_size(&s) + 1) * sizeof(float));
            emx__conv2d_pack(&s, w, b, fpacked);
            const double tf =
                time_conv(emx__gemm_default(), &s, w, b, fpacked, in, out, fscratch, min_s);
            printf(" %9.2f", flop / tf * 1e-9);
            free(fpacked), free(fscratch);
            emx__wino_f4_enabled = 1;
        } else {
            printf(" %9s", "-");
        }
        if (emx__wino_applies(&s)) { /* the same conv through igemm, packed for it */
            emx__wino_enabled = 0;
            float *dpacked = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
            float *dscratch = malloc((emx__conv2d_scratch_size(&s) + 1) * sizeof(float));
            emx__conv2d_pack(&s, w, b, dpacked);
            const double td =
                time_conv(emx__gemm_default(), &s, w, b, dpacked, in, out, dscratch, min_s);
            printf(" %9.2f", flop / td * 1e-9);
            free(dpacked), free(dscratch);
            emx__wino_enabled = 1;
        } else {
            printf(" %9s", "-");
        }
        const double tref = time_conv(NULL, &s, w, b, packed, in, out, scratch, min_s / 4);
        printf(" %9.2f %10.1f\n", flop / tref * 1e-9, best * 1e6);
        fflush(stdout);
        free(in), free(w), free(b), free(out), free(packed), free(scratch);
    }
    printf("%-24s %8s %9.2f  (f32x4 mul+add streams, %s; 1 core)\n", "peak 128-bit SIMD", "",
           peak_gflops(min_s), EMX_SIMD_NAME);
    nongemm_table(min_s);
    return 0;
}
