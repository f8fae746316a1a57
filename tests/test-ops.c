/* test-ops.c - every fast op against its reference (src/ops_ref.c), over shapes chosen
 * around the kernels' tiles: channel counts below, at, above and at multiples of NR = 8,
 * pixel counts around MR, kernels 1/3/5/7, strides 1/2, padding 0..3, dilation 1/2,
 * groups 1/2/depthwise, all six activations. Each GEMM micro-kernel of f32-gemm.inc is run
 * through the whole conv driver. Buffers are allocated at their exact size with guard
 * floats after every output, so an over-write fails here and an over-read fails under
 * EMX_SANITIZE. A failure prints the shape; the PRNG seed is fixed, so it reproduces. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops.h"
#include "testutil.h"

#define GUARD       8
#define GUARD_VALUE 12345.0f

static emx_test_rng rng;

static float *rand_buf(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    emx_test_rng_fill(&rng, p, n, lo, hi);
    return p;
}

/* output buffer: n floats of NaN (an unwritten output fails the comparison) + guard */
static float *out_buf(size_t n)
{
    float *p = malloc((n + GUARD) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
    for (size_t i = 0; i < GUARD; i++)
        p[n + i] = GUARD_VALUE;
    return p;
}

static int guard_ok(const float *p, size_t n)
{
    for (size_t i = 0; i < GUARD; i++)
        if (p[n + i] != GUARD_VALUE)
            return 0;
    return 1;
}

/* |fast - ref| <= tol * max(1, max|ref|), outputs fully written, guard intact */
static int close_enough(const float *fast, const float *ref, size_t n, float tol, float *err_out)
{
    float mag;
    const float err = emx_test_max_abs_diff(fast, ref, n, &mag);
    if (err_out)
        *err_out = err;
    return err <= tol * (mag > 1.0f ? mag : 1.0f) && guard_ok(fast, n);
}

static const char *act_name(emx__act a)
{
    static const char *names[] = { "none", "relu", "relu6", "silu", "hardswish", "sigmoid" };
    return (unsigned)a < EMX_ACT_COUNT_ ? names[a] : "?";
}

/* ---------------------------------------------------------------- convolution */

static int n_conv;
/* When > 0, check_conv zeroes that many input rows at the top and at the bottom, every fifth
 * row between and the first pixel of others (the letterbox bands of the detector's input: f32-conv-thin.c skips rows
 * of zeros) */
static int conv_zero_band;

static void print_conv(const char *what, const emx__conv_shape *s, float err)
{
    fprintf(stderr,
            "FAIL %s: in %dx%dx%d -> out %dx%dx%d k %dx%d stride %d,%d dil %d,%d pad %d,%d "
            "groups %d act %s: max err %g\n",
            what, s->in_h, s->in_w, s->in_c, s->out_h, s->out_w, s->out_c, s->kh, s->kw,
            s->stride_h, s->stride_w, s->dil_h, s->dil_w, s->pad_top, s->pad_left, s->groups,
            act_name(s->act), err);
}

static void check_conv(const emx__conv_shape *s, int with_bias)
{
    const size_t in_n = (size_t)s->in_h * s->in_w * s->in_c;
    const size_t out_n = (size_t)s->out_h * s->out_w * s->out_c;
    const size_t w_n = (size_t)s->out_c * (s->in_c / s->groups) * s->kh * s->kw;
    /* weights scaled by fan-in keep outputs O(1), so the activations' shapes matter */
    const float ws = 2.0f / sqrtf((float)(w_n / s->out_c));
    float *in = rand_buf(in_n, -1.0f, 1.0f);
    const size_t in_row = (size_t)s->in_w * s->in_c;
    for (int y = 0; conv_zero_band > 0 && y < s->in_h; y++)
        if (y < conv_zero_band || y >= s->in_h - conv_zero_band || y % 5 == 3)
            memset(in + (size_t)y * in_row, 0, in_row * sizeof(float));
        else if (y % 5 == 1) /* a row that starts with zeros is not a row of zeros */
            memset(in + (size_t)y * in_row, 0, (size_t)s->in_c * sizeof(float));
    float *w = rand_buf(w_n, -ws, ws);
    float *b = rand_buf((size_t)s->out_c, -1.0f, 1.0f);
    float *ref = malloc((out_n ? out_n : 1) * sizeof(float));
    emx__conv2d_ref(s, w, with_bias ? b : NULL, in, ref);

    const size_t packed_n = emx__conv2d_packed_size(s);
    float *packed = out_buf(packed_n);
    emx__conv2d_pack(s, w, with_bias ? b : NULL, packed);
    CHECK(guard_ok(packed, packed_n));
    const size_t scratch_n = emx__conv2d_scratch_size(s);
    float *scratch = out_buf(scratch_n);

    for (int k = -1; k < emx__gemm_config_count; k++) {
        float *out = out_buf(out_n);
        float err;
        if (k < 0)
            emx__conv2d(s, packed, in, out, scratch);
        else
            emx__conv2d_with(&emx__gemm_configs[k], s, packed, in, out, scratch);
        const int ok = close_enough(out, ref, out_n, 1e-4f, &err) && guard_ok(scratch, scratch_n);
        CHECK(ok);
        if (!ok)
            print_conv(k < 0 ? "emx__conv2d" : emx__gemm_configs[k].name, s, err);
        if (!ok && (!guard_ok(out, out_n) || !guard_ok(scratch, scratch_n)))
            fprintf(stderr, "  (wrote past the end of the output or the scratch)\n");
        free(out);
    }
    n_conv++;
    free(in), free(w), free(b), free(ref), free(packed), free(scratch);
}

static int conv_out(int in, int k, int stride, int dil, int pad_a, int pad_b)
{
    const int span = in + pad_a + pad_b - dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

/* returns 0 when the combination has no output pixel */
static int make_conv(emx__conv_shape *s, int in_h, int in_w, int in_c, int out_c, int kh, int kw,
                     int stride, int dil, int pad_t, int pad_l, int pad_b, int pad_r, int groups,
                     emx__act act)
{
    memset(s, 0, sizeof *s);
    s->in_h = in_h, s->in_w = in_w, s->in_c = in_c, s->out_c = out_c;
    s->kh = kh, s->kw = kw, s->stride_h = s->stride_w = stride, s->dil_h = s->dil_w = dil;
    s->pad_top = pad_t, s->pad_left = pad_l, s->groups = groups, s->act = act;
    s->out_h = conv_out(in_h, kh, stride, dil, pad_t, pad_b);
    s->out_w = conv_out(in_w, kw, stride, dil, pad_l, pad_r);
    return s->out_h > 0 && s->out_w > 0;
}

/* One depthwise 3x3 (c channels, h x w) against the reference: strides sh x sw, padding pad on
 * the top and left, pb / pr on the bottom and right; the bias in some, as the sweeps vary it.
 * Returns 1 if checked, 0 if the shape has no output. */
static int check_dw3x3(int h, int w, int c, int sh, int sw, int pad, int pb, int pr, emx__act act)
{
    emx__conv_shape s;
    if (!make_conv(&s, h, w, c, c, 3, 3, sh, 1, pad, pad, pb, pr, c, act))
        return 0;
    s.stride_w = sw; /* make_conv's one stride is the vertical one here */
    s.out_w = conv_out(w, 3, sw, 1, pad, pr);
    if (s.out_w <= 0)
        return 0;
    check_conv(&s, (w + pad) % 4 != 0);
    return 1;
}

static void test_conv(void)
{
    emx__conv_shape s;
    /* 1x1 stride 1 (the direct GEMM path): every out_c 1..33 (NR tails and multiples),
     * pixel counts 1..9 (MR tails), every activation */
    for (int oc = 1; oc <= 33; oc++)
        for (int px = 1; px <= 9; px++) {
            const int ic = 1 + (oc * 7 + px) % 19;
            make_conv(&s, 1, px, ic, oc, 1, 1, 1, 1, 0, 0, 0, 0, 1, (emx__act)((oc + px) % 6));
            check_conv(&s, 1);
        }
    /* dense layers: a 1x1 conv over a 1x1xK input */
    static const int dense[][2] = { { 256, 8 }, { 1, 1 },     { 7, 3 },
                                    { 64, 9 },  { 1152, 16 }, { 300, 17 } };
    for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++)
        for (int a = 0; a < EMX_ACT_COUNT_; a++) {
            make_conv(&s, 1, 1, dense[i][0], dense[i][1], 1, 1, 1, 1, 0, 0, 0, 0, 1, (emx__act)a);
            check_conv(&s, 1);
        }
    /* 1x1 convs whose weights pass the GEMM route's cache block (emx__gemm_nblock): blocks of
     * output channels over all pixels, a last block of fewer channels (and of fewer than NR),
     * groups, 1-11 pixels (MR tails), activations fused and not (silu keeps the unblocked
     * loop) */
    static const int blocked[][4] = {
        /* in_c, out_c, groups, pixels */
        { 300, 40, 1, 0 }, { 1100, 20, 1, 5 }, { 1100, 20, 1, 7 },
        { 600, 60, 2, 6 }, { 2100, 13, 1, 3 },
    };
    int n_blocked = 0;
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        for (int px = blocked[i][3] ? blocked[i][3] : 1; px <= (blocked[i][3] ? blocked[i][3] : 11);
             px++) {
            const int ic = blocked[i][0], oc = blocked[i][1], g = blocked[i][2];
            CHECK(emx__gemm_nblock((size_t)(ic / g), (size_t)(oc / g)) < (size_t)(oc / g));
            make_conv(&s, 1, px, ic, oc, 1, 1, 1, 1, 0, 0, 0, 0, g, (emx__act)((px + (int)i) % 6));
            check_conv(&s, 1);
            n_blocked++;
        }
    printf("test-ops: %d 1x1 convs in cache blocks of output channels\n", n_blocked);
    /* 1x1 convs over 8-16 pixels with >= 1 MB of weights: the transposed GEMM (conv2d.c
     * emx__gemmt_conv), with and without bias, none / relu / relu6; pixels past the full
     * 8-pixel panels (emx__gemmt_rest), in_c not a multiple of 4 */
    static const int gemmt[][4] = {
        /* h, w, in_c, out_c */
        { 4, 4, 512, 512 }, { 2, 4, 300, 1000 }, { 1, 8, 1024, 256 }, { 4, 4, 1030, 268 },
        { 3, 3, 802, 332 }, { 5, 3, 1003, 328 }, { 7, 7, 512, 512 },
    };
    for (size_t i = 0; i < sizeof gemmt / sizeof gemmt[0]; i++) {
        make_conv(&s, gemmt[i][0], gemmt[i][1], gemmt[i][2], gemmt[i][3], 1, 1, 1, 1, 0, 0, 0, 0, 1,
                  (emx__act)(i % 3));
        check_conv(&s, (int)(i != 1));
    }
    /* systematic: kernel x stride x dilation x padding x groups, small images */
    static const int ks[] = { 1, 3, 5, 7 };
    for (int ki = 0; ki < 4; ki++)
        for (int stride = 1; stride <= 2; stride++)
            for (int dil = 1; dil <= 2; dil++)
                for (int pad = 0; pad <= 3; pad++)
                    for (int gk = 0; gk < 3; gk++) {
                        const int k = ks[ki];
                        const int in_c = gk == 2 ? 9 : 6, groups = gk == 0 ? 1 : gk == 1 ? 2 : 9;
                        const int out_c = gk == 2 ? 9 : (gk == 1 ? 10 : 11);
                        const emx__act act = (emx__act)((ki + stride + dil + pad + gk) % 6);
                        if (make_conv(&s, 9, 8, in_c, out_c, k, k, stride, dil, pad, pad, pad,
                                      (pad + 1) % 4, groups, act))
                            check_conv(&s, (pad & 1) == 0);
                    }
    /* random shapes around the tiles */
    static const int chans[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 40 };
    const int nch = (int)(sizeof chans / sizeof chans[0]);
    for (int t = 0; t < 1500; t++) {
        const int k = ks[emx_test_rng_int(&rng, 0, 3)];
        const int kw = emx_test_rng_int(&rng, 0, 4) == 0 ? ks[emx_test_rng_int(&rng, 0, 3)] : k;
        const int stride = emx_test_rng_int(&rng, 1, 2), dil = emx_test_rng_int(&rng, 1, 2);
        const int gkind = emx_test_rng_int(&rng, 0, 3); /* 0,1: dense; 2: groups 2..3; 3: dw */
        int in_c = chans[emx_test_rng_int(&rng, 0, nch - 1)];
        int out_c = chans[emx_test_rng_int(&rng, 0, nch - 1)], groups = 1;
        if (gkind == 2) {
            groups = emx_test_rng_int(&rng, 2, 3);
            in_c = groups * emx_test_rng_int(&rng, 1, 9);
            out_c = groups * emx_test_rng_int(&rng, 1, 12);
        } else if (gkind == 3) {
            groups = in_c = out_c = chans[emx_test_rng_int(&rng, 1, nch - 1)];
        }
        const emx__act act = (emx__act)emx_test_rng_int(&rng, 0, 5);
        /* one draw per statement: argument evaluation order differs between compilers, and
         * the shapes must be the same natively and in WebAssembly */
        const int in_h = emx_test_rng_int(&rng, 1, 11), in_w = emx_test_rng_int(&rng, 1, 11);
        const int pt = emx_test_rng_int(&rng, 0, 3), pl = emx_test_rng_int(&rng, 0, 3);
        const int pb = emx_test_rng_int(&rng, 0, 3), pr = emx_test_rng_int(&rng, 0, 3);
        if (!make_conv(&s, in_h, in_w, in_c, out_c, k, kw, stride, dil, pt, pl, pb, pr, groups,
                       act))
            continue;
        s.stride_w = emx_test_rng_int(&rng, 1, 2); /* strides may differ per axis */
        s.out_w = conv_out(s.in_w, s.kw, s.stride_w, s.dil_w, s.pad_left, 1);
        if (s.out_w <= 0)
            continue;
        check_conv(&s, t % 5 != 0);
    }
    /* Winograd route: partial tiles at the right and bottom edges (heights and widths with
     * every remainder mod 2, 3 and 4: rows and columns of the last tiles cut off), partial
     * tile blocks, channel counts around the NR panel, every activation; F(3x3) and F(4x4)
     * wherever emx__wino_tile picks them (out_c >= 16), then the same shapes forced through
     * F(2x2). */
    static const int wino_ic[] = { 8, 12, 16, 20, 32, 40 }, wino_oc[] = { 4, 8, 12, 20, 36, 16 };
    int n_wino = 0, n_tile[7] = { 0, 0, 0, 0, 0, 0, 0 };
    for (int f4 = 1; f4 >= 0; f4--) {
        emx__wino_f4_enabled = f4;
        for (int h = 2; h <= 13; h++)
            for (int w = h < 7 ? 2 : 7; w <= (h < 7 ? 9 : 20); w++)
                for (int i = 0; i < 6; i++) {
                    const int ic = wino_ic[i], oc = wino_oc[(h + w + i) % 6];
                    make_conv(&s, h, w, ic, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                              (emx__act)((h + w + i) % 6));
                    if (!emx__wino_applies(&s))
                        continue;
                    n_tile[emx__wino_tile(&s)]++;
                    check_conv(&s, (w + i) % 3 != 0);
                    n_wino++;
                }
    }
    emx__wino_f4_enabled = 1;
    /* F(6x6) wherever emx__wino_tile picks it (maps from 12x12 with out_c >= 16 where it saves
     * 20% of F(4x4)'s rows: 12, 17, 18, 23, 24, ...): tiles cut at the bottom and right edges,
     * blocks of 8 tiles with partial last ones, channel counts around the NR panel */
    static const int f6_oc[] = { 16, 20, 36, 24 };
    for (int h = 12; h <= 24; h++)
        for (int w = 12; w <= 30; w++)
            for (int i = 0; i < 6; i++) {
                const int ic = wino_ic[i], oc = f6_oc[(h + w + i) % 4];
                make_conv(&s, h, w, ic, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1, (emx__act)((h + w + i) % 6));
                if (!emx__wino_applies(&s) || emx__wino_tile(&s) != 6)
                    continue;
                n_tile[6]++;
                check_conv(&s, (w + i) % 3 != 0);
                n_wino++;
            }
    printf("winograd: %d convs: %d F(2x2), %d F(3x3), %d F(4x4), %d F(6x6)\n", n_wino, n_tile[2],
           n_tile[3], n_tile[4], n_tile[6]);
    CHECK(n_wino >= 1000);
    CHECK(n_tile[3] >= 40 && n_tile[4] >= 40 && n_tile[6] >= 40);
    /* Depthwise 3x3 (f32-dwconv-minmax.c's unrolled path): channel counts below, at and
     * around the 4-channel blocks (the overlapping last block of 5, 6, 7, 9, 42, 43), widths
     * and heights from 1 (every pixel an edge) up past the two-pixel interior loop, strides
     * 1..3 per axis, padding 0..2 on each side (TF "same" for stride 2 pads only the bottom
     * and right), every activation. */
    static const int dw_c[] = { 1, 3, 4, 5, 6, 7, 8, 9, 12, 16, 42, 43 };
    int n_dw = 0;
    for (int ci = 0; ci < 12; ci++)
        for (int w = 1; w <= 9; w += (w < 4 ? 1 : 2))
            for (int sw = 1; sw <= 3; sw++)
                for (int pad = 0; pad <= 2; pad++) {
                    const int c = dw_c[ci], h = 1 + (w + ci) % 5, sh = 1 + (ci + sw) % 2;
                    const int pb = (pad + w) % 3, pr = (pad + ci) % 3;
                    const emx__act act = (emx__act)((ci + w + sw + pad) % 6);
                    n_dw += check_dw3x3(h, w, c, sh, sw, pad, pb, pr, act);
                }
    CHECK(n_dw >= 500);
    /* wide rows of many channels (MobileNet-like), stride 1 and 2, channels not a multiple of 4 */
    static const int wide[][4] = { /* h, w, c, stride */
                                   { 5, 30, 100, 1 },
                                   { 4, 57, 130, 2 },
                                   { 3, 28, 128, 1 },
                                   { 6, 41, 75, 2 }
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        const int c = wide[i][2], st = wide[i][3];
        make_conv(&s, wide[i][0], wide[i][1], c, c, 3, 3, st, 1, 1, 1, 1, 1, c, (emx__act)(i % 3));
        check_conv(&s, 1);
        make_conv(&s, wide[i][0], wide[i][1], c, c, 3, 3, st, 1, 0, 0, 1, 1, c, EMX_ACT_RELU6);
        check_conv(&s, 1);
    }
    /* channel-inner (from 48 channels, 28 at stride 2: f32-dwconv-minmax.c's emx__dw3x3_cinner;
     * 28 and 30 run the row loops at stride 1) on small maps:
     * the edge tiles of EMX__DW3X3_WALK (the column outside the input skipped on the left or the
     * right, an odd last column as a tile one column wide), widths 1..9 (a row
     * narrower than a tile: pixel by pixel), strides 1 and 2 per axis, padding 0..2 per side,
     * odd heights (a last single row: 1 x 2 tiles), channels at the limit and past it with an
     * overlapping last block */
    static const int ci_c[] = { 28, 30, 48, 50, 88, 131 };
    int n_ci = 0;
    for (int ci = 0; ci < (int)(sizeof ci_c / sizeof ci_c[0]); ci++)
        for (int w = 1; w <= 9; w++)
            for (int sw = 1; sw <= 2; sw++)
                for (int pad = 0; pad <= 2; pad++) {
                    const int c = ci_c[ci], h = 1 + (w + ci + pad) % 6, sh = 1 + (ci + w + sw) % 2;
                    const int pb = (pad + w) % 3, pr = (pad + ci + sw) % 3;
                    const emx__act act = (emx__act)((ci + w + sw + pad) % 6);
                    n_ci += check_dw3x3(h, w, c, sh, sw, pad, pb, pr, act);
                }
    CHECK(n_ci >= 250);
    /* MobileNetV1's depthwise layers that goal 5 timed: 7x7x512, 56x56x64 stride 2 (pad 1) */
    make_conv(&s, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1, 1, 1, 512, EMX_ACT_RELU);
    check_conv(&s, 1);
    make_conv(&s, 56, 56, 64, 64, 3, 3, 2, 1, 1, 1, 1, 1, 64, EMX_ACT_RELU6);
    check_conv(&s, 1);
    /* channel counts that are multiples of 512 run from input rows restaged into scratch at a
     * 1 KB (mod 4 KB) pitch (emx__dw_restage): widths 1..9, strides 1 and 2, padding 0..2, odd
     * and even heights, 512 and 1024 channels (the scratch guard catches a pitch too long) */
    int n_rs = 0;
    for (int c = 512; c <= 1024; c += 512)
        for (int w = 1; w <= 9; w += 2 + (c > 512))
            for (int sw = 1; sw <= 2; sw++)
                for (int pad = 0; pad <= 2; pad++) {
                    const int h = 1 + (w + pad + c / 512) % 5, sh = 1 + (w + sw) % 2;
                    n_rs += check_dw3x3(h, w, c, sh, sw, pad, (pad + w) % 3, (pad + sw) % 3,
                                        (emx__act)((w + sw + pad) % 6));
                }
    CHECK(n_rs >= 40);
    /* 32 channels on maps 48+ wide go channel-inner too (MobileNet's 56x56x32): even and odd
     * widths and heights, padding 1 and 0 */
    static const int dw32[][3] = { { 56, 56, 1 }, { 5, 49, 1 }, { 4, 48, 0 }, { 3, 51, 0 } };
    for (size_t i = 0; i < sizeof dw32 / sizeof dw32[0]; i++) {
        const int p = dw32[i][2];
        make_conv(&s, dw32[i][0], dw32[i][1], 32, 32, 3, 3, 1, 1, p, p, p, p, 32,
                  (emx__act)(i % 3));
        check_conv(&s, 1);
    }
    /* BlazeFace's depthwise layers: 3x3 stride 1 pad 1, stride 2 TF "same" (pad 0, 1) */
    static const int blaze[][2] = { { 64, 24 }, { 32, 28 }, { 32, 36 },
                                    { 16, 42 }, { 16, 88 }, { 8, 96 } };
    for (size_t i = 0; i < sizeof blaze / sizeof blaze[0]; i++) {
        const int hw = blaze[i][0], c = blaze[i][1];
        make_conv(&s, hw, hw, c, c, 3, 3, 1, 1, 1, 1, 1, 1, c, EMX_ACT_NONE);
        check_conv(&s, 1);
        make_conv(&s, hw, hw, c, c, 3, 3, 2, 1, 0, 0, 1, 1, c, EMX_ACT_RELU);
        check_conv(&s, 1);
    }
    /* 3x3 of a one-channel input (f32-conv3x3-c1.c, direct; out_c % 4 != 0 stays on igemm):
     * sizes from 1x1 (every window mostly padding) up, strides 1..3 per axis, padding 0..2 on
     * each side, out_c 4..20 and the igemm fallbacks 3, 6, every activation */
    static const int c1_oc[] = { 4, 8, 16, 20, 3, 6 };
    int n_c1 = 0;
    for (int oi = 0; oi < 6; oi++)
        for (int hw = 1; hw <= 11; hw += 2)
            for (int st = 1; st <= 3; st++)
                for (int pad = 0; pad <= 2; pad++) {
                    const int pb = (pad + hw) % 3, pr = (pad + oi + st) % 3;
                    const emx__act act = (emx__act)((oi + hw + st + pad) % 6);
                    if (!make_conv(&s, hw, hw + oi % 3, 1, c1_oc[oi], 3, 3, st, 1, pad,
                                   (pad + 1) % 3, pb, pr, 1, act))
                        continue;
                    s.stride_w = 1 + (st + oi) % 3;
                    s.out_w = conv_out(s.in_w, 3, s.stride_w, 1, s.pad_left, pr);
                    if (s.out_w <= 0)
                        continue;
                    check_conv(&s, (hw + pad) % 4 != 0);
                    n_c1 += emx__conv3x3_c1_applies(&s);
                }
    CHECK(n_c1 >= 150);
    /* direct convs of 1-4 input channels (f32-conv-thin.c; out_c % 8 != 0 stays on igemm):
     * kernels 2x2 to 7x7 and one-sided ones, strides 1..3 per axis, padding 0..k-1 on each
     * side, sizes from 1 (every window mostly padding) to 11, row counts leaving 1-3 pixels
     * after the last block of 4, inputs with and without rows of zeros */
    static const int thin_k[][2] = { { 5, 5 }, { 3, 3 }, { 1, 3 }, { 3, 1 }, { 2, 2 }, { 7, 7 } };
    static const int thin_oc[] = { 8, 16, 24, 12 };
    int n_thin = 0;
    for (int ki = 0; ki < 6; ki++)
        for (int ic = 1; ic <= 4; ic++)
            for (int hw = 1; hw <= 11; hw += 2)
                for (int st = 1; st <= 3; st++) {
                    const int kh = thin_k[ki][0], kw = thin_k[ki][1], v = ki + ic + hw + st;
                    const int pt = v % kh, pl = (v + 1) % kw, pb = (v + 2) % kh, pr = v % kw;
                    const emx__act act = (emx__act)(v % 6);
                    if (!make_conv(&s, hw + ic % 2, hw, ic, thin_oc[v % 4], kh, kw, st, 1, pt, pl,
                                   pb, pr, 1, act))
                        continue;
                    s.stride_w = 1 + (st + ki) % 3;
                    s.out_w = conv_out(s.in_w, kw, s.stride_w, 1, pl, pr);
                    if (s.out_w <= 0)
                        continue;
                    conv_zero_band = v % 3 == 0 ? 0 : v % 3;
                    check_conv(&s, v % 4 != 1);
                    n_thin += emx__conv_thin_applies(&s);
                }
    conv_zero_band = 0;
    CHECK(n_thin >= 250);
    /* BlazeFace's first conv: 128x128x3 -> 64x64x24, 5x5 stride 2, TF "same" (pad 1, 2), on a
     * 4:3 frame's letterbox (16 zero rows at the top and bottom) and on a full one */
    for (int band = 0; band <= 16; band += 16) {
        make_conv(&s, 128, 128, 3, 24, 5, 5, 2, 1, 1, 1, 2, 2, 1, EMX_ACT_RELU);
        conv_zero_band = band;
        check_conv(&s, 1);
        CHECK(emx__conv_thin_applies(&s));
    }
    conv_zero_band = 0;
    /* the model's real layer shapes (3x3 pad 1 stride 1 and 2, 1x1, depthwise) */
    static const int real[][4] = { { 48, 1, 16, 1 },   { 48, 16, 16, 1 },  { 24, 32, 32, 1 },
                                   { 12, 64, 64, 1 },  { 6, 128, 128, 1 }, { 24, 16, 32, 2 },
                                   { 24, 32, 32, 32 }, { 12, 64, 64, 64 } };
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        make_conv(&s, real[i][0], real[i][0], real[i][1], real[i][2], 3, 3, 1, 1, 1, 1, 1, 1,
                  real[i][3], EMX_ACT_RELU);
        check_conv(&s, 1);
        make_conv(&s, real[i][0], real[i][0], real[i][1], real[i][2], 3, 3, 2, 1, 1, 1, 1, 1,
                  real[i][3], EMX_ACT_SILU);
        check_conv(&s, 1);
    }
    make_conv(&s, 12, 12, 64, 128, 1, 1, 1, 1, 0, 0, 0, 0, 1, EMX_ACT_HARDSWISH);
    check_conv(&s, 1);
    make_conv(&s, 12, 12, 64, 128, 1, 1, 2, 1, 0, 0, 0, 0, 1, EMX_ACT_NONE);
    check_conv(&s, 1);
}

/* The Winograd block GEMM (f32-wino-gemm-4x8.c) against a plain triple loop: several
 * positions (batch) with their own A, U and C, row counts 1..13 (every remainder of the 4-row
 * blocks), nc around the 8-wide panels (the 4-wide tail: 4, 12, 20), kc from 1, biases taken
 * from the panels. C gets guard floats after each position's m x nc outputs (c_batch leaves
 * room), so a row written past m or a panel written past nc fails. */
static void test_wino_gemm(void)
{
    static const int ncs[] = { 4, 8, 12, 16, 20 }, kcs[] = { 1, 3, 16, 17 };
    int n = 0;
    for (int m = 1; m <= 13; m++)
        for (int ni = 0; ni < 5; ni++)
            for (int ki = 0; ki < 4; ki++) {
                const size_t nc = (size_t)ncs[ni], kc = (size_t)kcs[ki],
                             batch = 1 + (size_t)(m % 3);
                const size_t a_batch = (size_t)m * kc + 3, c_batch = (size_t)m * nc + GUARD;
                const size_t w_batch = (size_t)emx__gemm_packed_size(nc, kc);
                float *a = rand_buf(batch * a_batch, -1.0f, 1.0f);
                float *w = rand_buf(batch * w_batch, -1.0f, 1.0f);
                float *c = out_buf(batch * c_batch),
                      *want = malloc(batch * c_batch * sizeof(float));
                for (size_t b = 0; b < batch; b++) {
                    for (size_t i = 0; i < GUARD; i++)
                        c[b * c_batch + (size_t)m * nc + i] = GUARD_VALUE;
                    for (size_t r = 0; r < (size_t)m; r++)
                        for (size_t j = 0; j < nc; j++) {
                            /* panel j / 8: 8 biases, then kc rows of 8 weights */
                            const float *panel = w + b * w_batch + j / 8 * 8 * (1 + kc);
                            double acc = panel[j % 8];
                            for (size_t k = 0; k < kc; k++)
                                acc +=
                                    (double)a[b * a_batch + r * kc + k] * panel[8 + k * 8 + j % 8];
                            want[b * c_batch + r * nc + j] = (float)acc;
                        }
                }
                emx__f32_wino_gemm_4x8__simd(batch, (size_t)m, nc, kc, a, a_batch, w, w_batch, c,
                                             c_batch);
                int ok = 1;
                for (size_t b = 0; b < batch; b++)
                    ok &= close_enough(c + b * c_batch, want + b * c_batch, (size_t)m * nc, 1e-5f,
                                       NULL);
                if (!ok)
                    printf("wino gemm: m %d nc %zu kc %zu batch %zu wrong\n", m, nc, kc, batch);
                CHECK(ok);
                n++;
                free(a), free(w), free(c), free(want);
            }
    printf("wino gemm: %d shapes\n", n);
}

/* Two images through emx__conv2d_pair (flip test-time augmentation's views; Winograd runs both
 * in one pass, their tiles sharing blocks) give what two emx__conv2d calls give, up to the
 * rounding of a tile's row landing in the 4-row instead of the 1-row GEMM kernel. */
static void test_conv_pair(void)
{
    static const int shapes[][4] = { /* h, w, in_c, out_c */
                                     { 6, 6, 16, 16 },   { 6, 6, 32, 20 }, { 12, 12, 8, 16 },
                                     { 13, 11, 12, 24 }, { 7, 9, 8, 8 },   { 24, 24, 16, 32 },
                                     { 5, 5, 3, 16 },    { 9, 8, 20, 12 }
    };
    int n_wino = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        emx__conv_shape s;
        make_conv(&s, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], 3, 3, 1, 1, 1, 1, 1,
                  1, 1, (emx__act)(i % 6));
        n_wino += emx__wino_applies(&s);
        const size_t in_n = (size_t)s.in_h * s.in_w * s.in_c,
                     out_n = (size_t)s.out_h * s.out_w * s.out_c;
        const size_t w_n = (size_t)s.out_c * s.in_c * 9;
        float *in0 = rand_buf(in_n, -1, 1), *in1 = rand_buf(in_n, -1, 1);
        float *w = rand_buf(w_n, -0.3f, 0.3f), *b = rand_buf((size_t)s.out_c, -1, 1);
        float *packed = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
        float *scratch = malloc((emx__conv2d_scratch_size(&s) + 1) * sizeof(float));
        emx__conv2d_pack(&s, w, b, packed);
        float *a0 = out_buf(out_n), *a1 = out_buf(out_n), *p0 = out_buf(out_n),
              *p1 = out_buf(out_n);
        emx__conv2d(&s, packed, in0, a0, scratch);
        emx__conv2d(&s, packed, in1, a1, scratch);
        emx__conv2d_pair(&s, packed, in0, in1, p0, p1, scratch);
        const int ok =
            close_enough(p0, a0, out_n, 1e-5f, NULL) && close_enough(p1, a1, out_n, 1e-5f, NULL);
        CHECK(ok);
        if (!ok)
            print_conv("emx__conv2d_pair", &s, 0.0f);
        free(in0), free(in1), free(w), free(b), free(packed), free(scratch);
        free(a0), free(a1), free(p0), free(p1);
    }
    CHECK(n_wino >= 6);
}

/* emx__conv2d_mirror_pair (flip TTA's first conv on a one-channel image, both views from the
 * image alone) gives bit for bit what emx__conv2d gives on the image and on its FLIP_W mirror:
 * widths from 1 (the one pixel is both edges) to 14, odd and even, heights, vertical strides and paddings, out_c
 * with and without the single-block tail (4 ... 28), every activation; outputs guarded. The
 * shapes it must refuse (stride 2 across, padding other than one column each side, in_c > 1)
 * stay off it. */
static void test_conv_mirror(void)
{
    static const int ocs[] = { 4, 8, 12, 16, 20, 28 };
    int n = 0;
    for (int w = 1; w <= 14; w++) /* odd and even: pixel pairs and a last single pixel */
        for (int oi = 0; oi < 6; oi++)
            for (int sh = 1; sh <= 2; sh++)
                for (int pad = 0; pad <= 2; pad++) {
                    emx__conv_shape s;
                    const int h = 1 + (w + oi + pad) % 7;
                    if (!make_conv(&s, h, w, 1, ocs[oi], 3, 3, sh, 1, pad, 1, (pad + w) % 3, 1, 1,
                                   (emx__act)((w + oi + sh + pad) % 6)))
                        continue;
                    s.stride_w = 1, s.out_w = w;
                    CHECK(emx__conv2d_mirror_ok(&s));
                    const size_t in_n = (size_t)h * w, out_n = (size_t)s.out_h * w * s.out_c;
                    float *in = rand_buf(in_n, -1, 1), *fl = malloc(in_n * sizeof(float));
                    float *wt = rand_buf((size_t)s.out_c * 9, -0.5f, 0.5f);
                    float *b = rand_buf((size_t)s.out_c, -0.5f, 0.5f);
                    float *packed = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
                    float *scratch = malloc((emx__conv2d_scratch_size(&s) + 1) * sizeof(float));
                    emx__conv2d_pack(&s, wt, b, packed);
                    emx__flip_w(h, w, 1, in, fl);
                    float *a0 = out_buf(out_n), *a1 = out_buf(out_n), *p0 = out_buf(out_n),
                          *p1 = out_buf(out_n);
                    emx__conv2d(&s, packed, in, a0, scratch);
                    emx__conv2d(&s, packed, fl, a1, scratch);
                    emx__conv2d_mirror_pair(&s, packed, in, p0, p1, scratch);
                    const int ok = !memcmp(p0, a0, out_n * sizeof(float)) &&
                                   !memcmp(p1, a1, out_n * sizeof(float)) && guard_ok(p0, out_n) &&
                                   guard_ok(p1, out_n);
                    if (!ok)
                        print_conv("emx__conv2d_mirror_pair", &s, 0.0f);
                    CHECK(ok);
                    n++;
                    free(in), free(fl), free(wt), free(b), free(packed), free(scratch);
                    free(a0), free(a1), free(p0), free(p1);
                }
    CHECK(n >= 150);
    emx__conv_shape s;
    make_conv(&s, 9, 9, 1, 16, 3, 3, 2, 1, 1, 1, 1, 1, 1, EMX_ACT_RELU); /* stride 2 across */
    CHECK(!emx__conv2d_mirror_ok(&s));
    make_conv(&s, 9, 9, 1, 16, 3, 3, 1, 1, 1, 0, 1, 2, 1, EMX_ACT_RELU); /* padding 0 + 2 */
    CHECK(!emx__conv2d_mirror_ok(&s));
    make_conv(&s, 9, 9, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, EMX_ACT_RELU); /* 4 channels in */
    CHECK(!emx__conv2d_mirror_ok(&s));
    printf("conv mirror pair: %d shapes\n", n);
}

/* emx__conv2d_pool_n (a F(6x6) conv and the 2x2 / 2 max pool after it, the pool in the output
 * transform) against emx__conv2d (one image) or emx__conv2d_pair (two) then emx__maxpool2d:
 * maps from 12x12 up, even and odd sides (the pool drops an odd last row/column; tiles cut at
 * the edges), blocks of 8 tiles with partial last ones, out_c around the 8-wide panels, the
 * clamp activations (none, relu, relu6). Equal up to the sign of a zero (the clamp runs after
 * the max). The shapes it must refuse stay off it. */
static void test_conv_pool(void)
{
    static const emx__act acts[] = { EMX_ACT_NONE, EMX_ACT_RELU, EMX_ACT_RELU6 };
    static const int ics[] = { 8, 16, 32 }, ocs[] = { 16, 20, 36, 64 };
    int n = 0;
    for (int h = 12; h <= 25; h++)
        for (int w = 12; w <= 30; w++)
            for (int i = 0; i < 3; i++) {
                emx__conv_shape s;
                const int ic = ics[i], oc = ocs[(h + 2 * w + i) % 4];
                make_conv(&s, h, w, ic, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1, acts[(h + w + i) % 3]);
                const emx__pool_shape ps = { h, w, oc, h / 2, w / 2, 2, 2, 2, 2, 0, 0, 0 };
                if (emx__wino_tile(&s) != 6)
                    continue;
                CHECK(emx__conv2d_pool_ok(&s, &ps));
                const size_t in_n = (size_t)h * w * ic, out_n = (size_t)h * w * oc;
                const size_t pool_n = (size_t)(h / 2) * (w / 2) * oc;
                float *in0 = rand_buf(in_n, -1, 1), *in1 = rand_buf(in_n, -1, 1);
                float *wt = rand_buf((size_t)oc * ic * 9, -0.3f, 0.3f),
                      *b = rand_buf((size_t)oc, -1, 1);
                float *packed = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
                float *scratch = malloc((emx__conv2d_scratch_size(&s) + 1) * sizeof(float));
                emx__conv2d_pack(&s, wt, b, packed);
                float *c0 = out_buf(out_n), *c1 = out_buf(out_n), *want0 = out_buf(pool_n),
                      *want1 = out_buf(pool_n), *got0 = out_buf(pool_n), *got1 = out_buf(pool_n);
                const float *ins[2] = { in0, in1 };
                float *outs[2] = { got0, got1 };
                const int pair = (h + w + i) % 2;
                if (pair)
                    emx__conv2d_pair(&s, packed, in0, in1, c0, c1, scratch);
                else
                    emx__conv2d(&s, packed, in0, c0, scratch);
                emx__maxpool2d(&ps, c0, want0);
                if (pair)
                    emx__maxpool2d(&ps, c1, want1);
                emx__conv2d_pool_n(&s, packed, 1 + pair, ins, outs, scratch);
                int ok = close_enough(got0, want0, pool_n, 0.0f, NULL);
                if (pair)
                    ok &= close_enough(got1, want1, pool_n, 0.0f, NULL);
                if (!ok)
                    print_conv("emx__conv2d_pool_n", &s, 0.0f);
                CHECK(ok);
                n++;
                free(in0), free(in1), free(wt), free(b), free(packed), free(scratch);
                free(c0), free(c1), free(want0), free(want1), free(got0), free(got1);
            }
    CHECK(n >= 30);
    emx__conv_shape s;
    emx__pool_shape ps = { 24, 24, 16, 12, 12, 2, 2, 2, 2, 0, 0, 0 };
    make_conv(&s, 24, 24, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, EMX_ACT_SILU); /* not a clamp */
    CHECK(!emx__conv2d_pool_ok(&s, &ps));
    s.act = EMX_ACT_RELU;
    CHECK(emx__conv2d_pool_ok(&s, &ps));
    ps.stride_h = ps.stride_w = 1, ps.out_h = ps.out_w = 23; /* overlapping windows */
    CHECK(!emx__conv2d_pool_ok(&s, &ps));
    make_conv(&s, 6, 6, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, EMX_ACT_RELU); /* F(3x3): odd tiles */
    const emx__pool_shape p6 = { 6, 6, 16, 3, 3, 2, 2, 2, 2, 0, 0, 0 };
    CHECK(!emx__conv2d_pool_ok(&s, &p6));
    printf("conv + pool: %d shapes\n", n);
}

/* emx__conv2d_residual (BlazeFace's blocks: act(conv1x1(x) + shortcut), the shortcut padded
 * with zero channels) against the reference conv, zero padding and the reference add. */
static void test_conv_residual(void)
{
    static const int shapes[][4] = { /* pixels, in_c, out_c, shortcut channels */
                                     { 64, 24, 24, 24 }, { 37, 24, 28, 24 }, { 9, 42, 48, 42 },
                                     { 5, 7, 9, 3 },     { 1, 8, 8, 8 },     { 23, 32, 32, 29 }
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        emx__conv_shape s;
        make_conv(&s, 1, shapes[i][0], shapes[i][1], shapes[i][2], 1, 1, 1, 1, 0, 0, 0, 0, 1,
                  EMX_ACT_NONE);
        CHECK(emx__conv2d_residual_ok(&s));
        const int px = shapes[i][0], ic = shapes[i][1], oc = shapes[i][2], rc = shapes[i][3];
        const emx__act act = i % 2 ? EMX_ACT_RELU : EMX_ACT_RELU6;
        float *in = rand_buf((size_t)px * ic, -1, 1), *res = rand_buf((size_t)px * rc, -2, 2);
        float *w = rand_buf((size_t)oc * ic, -0.5f, 0.5f), *b = rand_buf((size_t)oc, -1, 1);
        float *conv = malloc((size_t)px * oc * sizeof(float));
        float *padded = malloc((size_t)px * oc * sizeof(float)),
              *ref = malloc((size_t)px * oc * sizeof(float));
        emx__conv2d_ref(&s, w, b, in, conv);
        emx__pad_channels_ref(px, rc, 0, oc - rc, res, padded);
        emx__add_ref((size_t)px * oc, conv, padded, ref, act);
        float *packed = malloc(emx__conv2d_packed_size(&s) * sizeof(float));
        emx__conv2d_pack(&s, w, b, packed);
        float *out = out_buf((size_t)px * oc);
        emx__conv2d_residual(&s, packed, in, out, res, rc, act);
        float err;
        const int ok = close_enough(out, ref, (size_t)px * oc, 1e-5f, &err);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "FAIL conv2d_residual: %d px, %d -> %d, shortcut %d: err %g\n", px, ic,
                    oc, rc, err);
        free(in), free(res), free(w), free(b), free(conv), free(padded), free(ref);
        free(packed), free(out);
    }
}

/* ---------------------------------------------------------------- pooling */

static void check_pool(const emx__pool_shape *p)
{
    const size_t in_n = (size_t)p->in_h * p->in_w * p->c,
                 out_n = (size_t)p->out_h * p->out_w * p->c;
    float *in = rand_buf(in_n, -5.0f, 5.0f);
    float *ref = malloc(out_n * sizeof(float));
    for (int avg = 0; avg <= 1; avg++) {
        float *out = out_buf(out_n);
        float err;
        if (avg) {
            emx__avgpool2d_ref(p, in, ref);
            emx__avgpool2d(p, in, out);
        } else {
            emx__maxpool2d_ref(p, in, ref);
            emx__maxpool2d(p, in, out);
        }
        const int ok = close_enough(out, ref, out_n, 1e-5f, &err);
        CHECK(ok);
        if (!ok)
            fprintf(stderr,
                    "FAIL %s: in %dx%dx%d -> %dx%d k %dx%d stride %d,%d pad %d,%d cip %d: err %g\n",
                    avg ? "avgpool" : "maxpool", p->in_h, p->in_w, p->c, p->out_h, p->out_w, p->kh,
                    p->kw, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->count_include_pad,
                    err);
        free(out);
    }
    free(in), free(ref);
}

static void test_pool(void)
{
    for (int t = 0; t < 300; t++) {
        emx__pool_shape p;
        memset(&p, 0, sizeof p);
        p.kh = emx_test_rng_int(&rng, 1, 4), p.kw = emx_test_rng_int(&rng, 1, 4);
        p.stride_h = emx_test_rng_int(&rng, 1, 3), p.stride_w = emx_test_rng_int(&rng, 1, 3);
        /* PyTorch allows padding up to half the kernel: every window overlaps the input */
        p.pad_top = emx_test_rng_int(&rng, 0, p.kh / 2),
        p.pad_left = emx_test_rng_int(&rng, 0, p.kw / 2);
        const int pad_b = emx_test_rng_int(&rng, 0, p.kh / 2),
                  pad_r = emx_test_rng_int(&rng, 0, p.kw / 2);
        p.in_h = emx_test_rng_int(&rng, p.kh, 12), p.in_w = emx_test_rng_int(&rng, p.kw, 12);
        p.c = emx_test_rng_int(&rng, 1, 19);
        p.count_include_pad = t & 1;
        p.out_h = conv_out(p.in_h, p.kh, p.stride_h, 1, p.pad_top, pad_b);
        p.out_w = conv_out(p.in_w, p.kw, p.stride_w, 1, p.pad_left, pad_r);
        check_pool(&p);
    }
    /* 2x2 max pooling without padding (f32-pool.c's unclipped path): channels around the
     * 4- and 16-channel steps, strides 1..3, odd sizes whose last row/column no window covers */
    static const int pool_c[] = { 1, 3, 4, 5, 15, 16, 17, 20, 33, 42 };
    for (int ci = 0; ci < 10; ci++)
        for (int st = 1; st <= 3; st++)
            for (int hw = 2; hw <= 9; hw += 1 + (hw > 5)) {
                emx__pool_shape p;
                memset(&p, 0, sizeof p);
                p.kh = p.kw = 2, p.stride_h = st, p.stride_w = 1 + (st + ci) % 3;
                p.in_h = hw, p.in_w = hw + ci % 3, p.c = pool_c[ci];
                p.out_h = conv_out(p.in_h, 2, p.stride_h, 1, 0, 0);
                p.out_w = conv_out(p.in_w, 2, p.stride_w, 1, 0, 0);
                check_pool(&p);
            }
    for (int c = 1; c <= 40; c += 3)
        for (int hw = 1; hw <= 50; hw += 7) {
            float *in = rand_buf((size_t)hw * c, -3.0f, 3.0f), *ref = malloc(c * sizeof(float));
            float *out = out_buf(c);
            emx__global_avgpool_ref(hw, c, in, ref);
            emx__global_avgpool(hw, c, in, out);
            const int ok = close_enough(out, ref, c, 1e-5f, NULL);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "FAIL global_avgpool hw %d c %d\n", hw, c);
            free(in), free(ref), free(out);
        }
}

/* ---------------------------------------------------------------- elementwise */

static void test_elementwise(void)
{
    static const size_t ns[] = {
        0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1023, 1024, 1025, 2500
    };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        const size_t n = ns[i];
        for (int a = 0; a < EMX_ACT_COUNT_; a++)
            for (int wide = 0; wide <= 1; wide++) {
                /* wide: far into the saturated tails of exp; narrow: where the curves bend */
                const float r = wide ? 100.0f : 8.0f;
                float *x = rand_buf(n, -r, r), *y = rand_buf(n, -r, r);
                float *ref = malloc((n + 1) * sizeof(float)), *out = out_buf(n);
                emx__activation_ref(n, x, ref, (emx__act)a);
                emx__activation(n, x, out, (emx__act)a);
                int ok = close_enough(out, ref, n, 1e-5f, NULL);
                CHECK(ok);
                if (!ok)
                    fprintf(stderr, "FAIL activation %s n %zu range %g\n", act_name((emx__act)a), n,
                            r);
                emx__activation(n, x, x, (emx__act)a); /* in place */
                ok = emx_test_max_abs_diff(x, ref, n, NULL) ==
                     emx_test_max_abs_diff(out, ref, n, NULL);
                CHECK(ok);
                if (!ok)
                    fprintf(stderr, "FAIL activation in place %s n %zu\n", act_name((emx__act)a),
                            n);

                emx_test_rng_fill(&rng, x, n, -r, r);
                emx__add_ref(n, x, y, ref, (emx__act)a);
                emx__add(n, x, y, out, (emx__act)a);
                ok = close_enough(out, ref, n, 1e-5f, NULL);
                CHECK(ok);
                if (!ok)
                    fprintf(stderr, "FAIL add %s n %zu range %g\n", act_name((emx__act)a), n, r);
                free(x), free(y), free(ref), free(out);
            }
    }
    /* exp's edges: sigmoid/silu at 0, tiny, huge and infinite inputs */
    static const float edge[] = { 0.0f,   -0.0f, 1e-20f, -1e-20f, 86.9f,   -86.9f, 87.5f,
                                  -87.5f, 88.8f, -88.8f, 200.0f,  -200.0f, 1e30f,  -1e30f };
    const size_t ne = sizeof edge / sizeof edge[0];
    for (int a = 0; a < EMX_ACT_COUNT_; a++) {
        float ref[14], out[14 + GUARD];
        for (int g = 0; g < GUARD; g++)
            out[ne + g] = GUARD_VALUE;
        emx__activation_ref(ne, edge, ref, (emx__act)a);
        emx__activation(ne, edge, out, (emx__act)a);
        for (size_t i = 0; i < ne; i++) {
            const int ok = out[i] == ref[i] ||
                           fabsf(out[i] - ref[i]) <= 1e-5f * fmaxf(1.0f, fabsf(ref[i])) ||
                           (isinf(ref[i]) && out[i] == ref[i]);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "FAIL activation %s(%g) = %g, ref %g\n", act_name((emx__act)a),
                        edge[i], out[i], ref[i]);
        }
    }
    for (int c = 1; c <= 21; c++)
        for (int hw = 1; hw <= 5; hw += 2) {
            const size_t n = (size_t)hw * c;
            float *x = rand_buf(n, -4, 4), *sc = rand_buf(c, -2, 2);
            float *ref = malloc(n * sizeof(float)), *out = out_buf(n);
            emx__mul_channel_ref(hw, c, x, sc, ref);
            emx__mul_channel(hw, c, x, sc, out);
            const int ok = close_enough(out, ref, n, 1e-6f, NULL);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "FAIL mul_channel hw %d c %d\n", hw, c);
            free(x), free(sc), free(ref), free(out);
        }
    /* PAD_CHANNELS: padding before, after, both and neither, channel counts around the
     * vector width; exact (pure data movement) */
    for (int c = 1; c <= 9; c += 4)
        for (int before = 0; before <= 5; before += 5)
            for (int after = 0; after <= 7; after += 3) {
                const int hw = 3, oc = before + c + after;
                const size_t n = (size_t)hw * oc;
                float *x = rand_buf((size_t)hw * c, -4, 4);
                float *ref = malloc(n * sizeof(float)), *out = out_buf(n);
                emx__pad_channels_ref(hw, c, before, after, x, ref);
                emx__pad_channels(hw, c, before, after, x, out);
                const int ok = memcmp(out, ref, n * sizeof(float)) == 0 && out[n] == GUARD_VALUE &&
                               ref[before] == x[0] && (before == 0 || ref[0] == 0.0f);
                CHECK(ok);
                if (!ok)
                    fprintf(stderr, "FAIL pad_channels c %d before %d after %d\n", c, before,
                            after);
                free(x), free(ref), free(out);
            }
    for (int n_in = 1; n_in <= 5; n_in++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i += 2) {
            const size_t n = ns[i];
            const float *ins[5];
            float *bufs[5];
            float w[5];
            for (int k = 0; k < n_in; k++) {
                bufs[k] = rand_buf(n, -3, 3);
                ins[k] = bufs[k];
                w[k] = emx_test_rng_float(&rng, 0.0f, 1.0f);
            }
            float *ref = malloc((n + 1) * sizeof(float)), *out = out_buf(n);
            emx__weighted_mean_ref(n, n_in, ins, w, ref);
            emx__weighted_mean(n, n_in, ins, w, out);
            int ok = close_enough(out, ref, n, 1e-5f, NULL);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "FAIL weighted_mean n %zu n_in %d\n", n, n_in);
            emx__weighted_mean(n, n_in, ins, w, bufs[n_in - 1]); /* out aliasing an input */
            ok = emx_test_max_abs_diff(bufs[n_in - 1], out, n, NULL) == 0.0f;
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "FAIL weighted_mean in place n %zu n_in %d\n", n, n_in);
            for (int k = 0; k < n_in; k++)
                free(bufs[k]);
            free(ref), free(out);
        }
}

/* ---------------------------------------------------------------- data movement, softmax */

/* The resize kernel (f32-resize-bilinear.c) against the reference, bit for bit, on up- and
 * downscales with integer and fractional ratios, 1-5 channels, single rows and columns, the
 * clamped edges, and FaceResNet's 48 -> 112. */
static void test_resize_bilinear(void)
{
    static const int shapes[][5] = {
        /* in_h, in_w, c, out_h, out_w */
        { 48, 48, 1, 112, 112 }, { 2, 2, 1, 4, 4 },  { 4, 4, 1, 2, 2 },   { 1, 3, 2, 1, 5 },
        { 4, 4, 1, 4, 4 },       { 7, 5, 3, 3, 11 }, { 5, 7, 4, 13, 2 },  { 3, 1, 5, 9, 1 },
        { 1, 1, 2, 3, 3 },       { 9, 6, 1, 4, 17 }, { 12, 12, 3, 5, 5 }, { 6, 10, 2, 23, 7 },
    };
    int n = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int ih = shapes[i][0], iw = shapes[i][1], c = shapes[i][2];
        const int oh = shapes[i][3], ow = shapes[i][4];
        const size_t nin = (size_t)ih * iw * c, nout = (size_t)oh * ow * c;
        float *x = rand_buf(nin, -3.0f, 3.0f), *ref = out_buf(nout), *fast = out_buf(nout);
        float *scratch = rand_buf((size_t)emx__resize_bilinear_scratch_size(ow, c), -9.f, 9.f);
        emx__resize_bilinear(ih, iw, c, oh, ow, x, ref);
        emx__f32_resize_bilinear(ih, iw, c, oh, ow, x, fast, scratch);
        int same = guard_ok(fast, nout);
        for (size_t j = 0; j < nout; j++)
            same &= fast[j] == ref[j];
        if (!same)
            printf("resize %dx%dx%d -> %dx%d: differs from the reference\n", ih, iw, c, oh, ow);
        CHECK(same);
        n++;
        free(x), free(ref), free(fast), free(scratch);
    }
    printf("test-ops: %d resize shapes, bit for bit\n", n);
}

static int near(float a, float b)
{
    return fabsf(a - b) <= 1e-6f * fmaxf(1.0f, fabsf(b));
}

static void test_single_implementation_ops(void)
{
    /* F.interpolate(x, size=(4, 4), mode='bilinear', align_corners=False), x = [[1,2],[3,4]] */
    const float x22[4] = { 1, 2, 3, 4 };
    const float up44[16] = { 1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                             2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f };
    float o[64];
    emx__resize_bilinear(2, 2, 1, 4, 4, x22, o);
    for (int i = 0; i < 16; i++)
        CHECK(near(o[i], up44[i]));
    /* downscale 4 -> 2: source coords 0.5 and 2.5, the mean of each 2x2 block */
    const float x44[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    emx__resize_bilinear(4, 4, 1, 2, 2, x44, o);
    CHECK(near(o[0], 2.5f) && near(o[1], 4.5f) && near(o[2], 10.5f) && near(o[3], 12.5f));
    /* 3 -> 5 along w, 2 channels: src = (d + 0.5) * 0.6 - 0.5 = -0.2 (clamped to 0), 0.4,
     * 1.0, 1.6, 2.2 (upper neighbour clamped) */
    const float x13[6] = { 0, 100, 10, 200, 30, 400 };
    const float want[10] = { 0, 100, 4, 140, 10, 200, 22, 320, 30, 400 };
    emx__resize_bilinear(1, 3, 2, 1, 5, x13, o);
    for (int i = 0; i < 10; i++)
        CHECK(near(o[i], want[i]));
    /* same size is the identity */
    emx__resize_bilinear(4, 4, 1, 4, 4, x44, o);
    for (int i = 0; i < 16; i++)
        CHECK(o[i] == x44[i]);

    /* flip: 2x3x2 */
    const float f[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
    const float fw[12] = { 4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7 };
    emx__flip_w(2, 3, 2, f, o);
    for (int i = 0; i < 12; i++)
        CHECK(o[i] == fw[i]);

    /* concat: hw 2, channels 1 + 3 + 2 */
    const float c0[2] = { 1, 2 }, c1[6] = { 10, 11, 12, 20, 21, 22 },
                c2[4] = { 100, 101, 200, 201 };
    const float *ins[3] = { c0, c1, c2 };
    const int cs[3] = { 1, 3, 2 };
    const float cat[12] = { 1, 10, 11, 12, 100, 101, 2, 20, 21, 22, 200, 201 };
    emx__concat(2, 3, ins, cs, o);
    for (int i = 0; i < 12; i++)
        CHECK(o[i] == cat[i]);

    /* softmax: stable for large logits, sums to 1, order kept */
    const float logits[4] = { 1000.0f, 1001.0f, 999.0f, -1000.0f };
    emx__softmax(4, logits, o);
    const double z = 1.0 + exp(1.0) + exp(-1.0);
    CHECK(near(o[0], (float)(1.0 / z)) && near(o[1], (float)(exp(1.0) / z)) &&
          near(o[2], (float)(exp(-1.0) / z)) && o[3] == 0.0f);
    const float small[3] = { 0.0f, 0.0f, 0.0f };
    emx__softmax(3, small, o);
    CHECK(near(o[0], 1.0f / 3) && near(o[1], 1.0f / 3) && near(o[2], 1.0f / 3));
    /* calibrate: identity params keep probabilities; 1/T = 2 squares and renormalises; the
     * bias multiplies by exp(b); a zero probability stays finite and smallest */
    const float probs[3] = { 0.5f, 0.3f, 0.2f };
    const float ident[4] = { 1.0f, 0.0f, 0.0f, 0.0f };
    emx__calibrate(3, probs, ident, o);
    CHECK(near(o[0], 0.5f) && near(o[1], 0.3f) && near(o[2], 0.2f));
    const float sharpen[4] = { 2.0f, 0.0f, 0.0f, 0.0f };
    emx__calibrate(3, probs, sharpen, o);
    CHECK(near(o[0], 0.25f / 0.38f) && near(o[1], 0.09f / 0.38f) && near(o[2], 0.04f / 0.38f));
    const float shift[4] = { 1.0f, 0.0f, 0.0f, (float)log(3.0) }; /* 0.2 * 3 = 0.6 -> 0.6 / 1.4 */
    emx__calibrate(3, probs, shift, o);
    CHECK(near(o[0], 0.5f / 1.4f) && near(o[1], 0.3f / 1.4f) && near(o[2], 0.6f / 1.4f));
    const float zero[3] = { 1.0f, 0.0f, 0.0f };
    emx__calibrate(3, zero, ident, o);
    CHECK(near(o[0], 1.0f) && o[1] == o[2] && o[1] >= 0.0f && o[1] < 1e-20f);
    /* scalar activations at known points */
    CHECK(emx__act_scalar(-1.0f, EMX_ACT_RELU) == 0.0f &&
          emx__act_scalar(7.0f, EMX_ACT_RELU6) == 6.0f);
    CHECK(near(emx__act_scalar(1.0f, EMX_ACT_SILU), (float)(1.0 / (1.0 + exp(-1.0)))));
    CHECK(near(emx__act_scalar(1.0f, EMX_ACT_HARDSWISH), 4.0f / 6.0f));
    CHECK(emx__act_scalar(-3.5f, EMX_ACT_HARDSWISH) == 0.0f &&
          emx__act_scalar(3.5f, EMX_ACT_HARDSWISH) == 3.5f);
    CHECK(near(emx__act_scalar(0.0f, EMX_ACT_SIGMOID), 0.5f));
}

/* the reference conv itself, on a case small enough to do by hand: 3x3 input of ones,
 * 3x3 kernel of ones, pad 1 -> each output counts its in-bounds taps, plus bias */
static void test_conv_ref_by_hand(void)
{
    emx__conv_shape s;
    make_conv(&s, 3, 3, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, EMX_ACT_NONE);
    float in[9], w[9], b = 0.5f, out[9];
    for (int i = 0; i < 9; i++)
        in[i] = w[i] = 1.0f;
    emx__conv2d_ref(&s, w, &b, in, out);
    const float want[9] = { 4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f };
    for (int i = 0; i < 9; i++)
        CHECK(out[i] == want[i]);
    /* weight layout [OC][IC][KH][KW]: oc 1 reads ic 0 through w[1][0][0][0] of a 1x1 conv */
    make_conv(&s, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, EMX_ACT_NONE);
    const float in2[2] = { 1.0f, 10.0f }, w2[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    emx__conv2d_ref(&s, w2, NULL, in2, out);
    CHECK(out[0] == 21.0f && out[1] == 43.0f);
}

int main(void)
{
    emx_test_rng_seed(&rng, 20240601);
    test_conv_ref_by_hand();
    test_single_implementation_ops();
    test_resize_bilinear();
    test_conv();
    test_conv_pair();
    test_conv_mirror();
    test_conv_pool();
    test_wino_gemm();
    test_conv_residual();
    test_pool();
    test_elementwise();
    printf("test-ops: %d convs x %d GEMM kernels + dispatcher checked\n", n_conv,
           emx__gemm_config_count);
    return emx_test_summary();
}
