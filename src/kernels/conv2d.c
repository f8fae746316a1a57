/* conv2d.c - the convolution driver: packs weights at load time and routes each conv to a
 * micro-kernel:
 *   depthwise (groups == in_c == out_c)            -> f32-dwconv-minmax.c
 *   3x3, stride 1, "same", channels % 4 == 0,      -> f32-conv3x3-winograd.c (F(2x2,3x3):
 *   in_c >= 8, outputs >= 2x2                         2.25x fewer multiply-adds, same GEMMs)
 *   3x3 of a one-channel input, out_c % 4 == 0     -> f32-conv3x3-c1.c (direct: K = 9 is
 *                                                     too short for igemm's taps)
 *   other kernels of 1-4 input channels,           -> f32-conv-thin.c (direct: RGB first
 *   out_c % 8 == 0                                    layers, BlazeFace's 5x5/2)
 *   1x1, stride 1, no padding (incl. dense layers) -> gemm: NHWC already is the A matrix
 *                                                     (pixels = rows, channels = k)
 *   everything else (any kernel/stride/dilation/   -> igemm over an indirection buffer
 *   padding; grouped convs one group at a time)       rebuilt per tile of MR pixels (the
 *                                                     runtime gives no setup step to cache
 *                                                     it in, and rebuilding costs MR*ks
 *                                                     pointers against MR*ks*kc*out_c MACs)
 * Activations other than relu/relu6 run as a tail pass over each finished tile, while it
 * is still in L1. The micro-kernel table and the packed-weight size live in gemm-config.c,
 * shared with the Winograd path (f32-conv3x3-winograd.c), which this file dispatches to.
 * Flip TTA's pairs (plan.c): emx__conv2d_pair (two images, Winograd in one pass),
 * emx__conv2d_mirror_pair (a one-channel first conv on the image and its mirror, from the
 * image alone), emx__conv2d_pool_n (a F(6x6) conv with the 2x2 max pool after it). */
#include "kernels.h"
#include "simd/simd.h"

#include <stdint.h>
#include <string.h>

static int emx__max_mr(void)
{
    return emx__gemm_default()->mr;
}

enum {
    EMX__CONV_DW,
    EMX__CONV_GEMM,
    EMX__CONV_IGEMM,
    EMX__CONV_WINO,
    EMX__CONV_C1,
    EMX__CONV_THIN,
    EMX__CONV_GEMM_T
};

/* Transposed GEMM for 1x1 convs over few pixels with large weights (MobileNet's 4x4x1024
 * layers: 16 pixels, 2-4 MB of weights, read from memory at each pass): C^T = W^T A^T, the
 * output channels as the micro-kernel's rows (4 weight rows broadcast per k, each weight read
 * once, as 4 sequential streams) and the pixels as its packed columns (A^T in 8-pixel panels,
 * in L1/L2). In the normal order each weight panel comes from memory with the first 4-pixel
 * tile and is reused by the other three: that tile waits on memory while the rest compute;
 * here the weight stream is spread evenly over the whole conv. The bias rides in as k = 0 (a
 * row of ones in A^T), so each sum is the bias, then the same multiply-adds in the same order
 * as the normal path: the same bits. Pixels past the last full panel (9-15 pixels) are dot
 * products over the weight rows (emx__gemmt_rest: another summation order).
 * Measured (ops-ab, relaxed, 6 runs, against the blocked normal order): 4x4x1024<-1024 1444 ->
 * 1108 us, 4x4x1024<-512 even; MobileNet's 7x7x512 layers (49 pixels, 0.5-1 MB, with the
 * 49th pixel through emx__gemmt_rest) 1-5% slower, so at most 16 pixels. */
#define EMX__GEMMT_MAX_PIX     16
#define EMX__GEMMT_MIN_WEIGHTS (256 * 1024) /* floats: 1 MB */

static int emx__gemmt_applies(const emx__conv_shape *s)
{
    emx__minmax_params p;
    const int64_t npix = (int64_t)s->out_h * s->out_w;
    return s->groups == 1 && npix >= 8 && npix <= EMX__GEMMT_MAX_PIX && s->out_c % 4 == 0 &&
           (int64_t)s->in_c * s->out_c >= EMX__GEMMT_MIN_WEIGHTS &&
           !emx__minmax_for_act(s->act, &p);
}

static int emx__conv_kind(const emx__conv_shape *s)
{
    if (s->groups > 1 && s->groups == s->in_c && s->groups == s->out_c)
        return EMX__CONV_DW;
    if (emx__wino_applies(s))
        return EMX__CONV_WINO;
    if (emx__conv3x3_c1_applies(s))
        return EMX__CONV_C1;
    if (emx__conv_thin_applies(s))
        return EMX__CONV_THIN;
    if (s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_top == 0 &&
        s->pad_left == 0 && s->out_h == s->in_h && s->out_w == s->in_w)
        return emx__gemmt_applies(s) ? EMX__CONV_GEMM_T : EMX__CONV_GEMM;
    return EMX__CONV_IGEMM;
}

/* Sizes are computed in 64 bits: shapes come from files, and on a 32-bit size_t (wasm32)
 * their products wrap (a padded copy of 65536 x 65536 floats is 0 there). emx__plan compares
 * the 64-bit totals with the model's budget and SIZE_MAX before allocating anything. */
static uint64_t emx__round_up(uint64_t x, uint64_t m)
{
    return (x + m - 1) / m * m;
}

/* floats of packed weights for one group: n = its output channels, k = (ky, kx, ic) */
static uint64_t emx__group_packed(const emx__conv_shape *s)
{
    return emx__gemm_packed_size((uint64_t)(s->out_c / s->groups),
                                 (uint64_t)s->kh * (uint64_t)s->kw *
                                     (uint64_t)(s->in_c / s->groups));
}

uint64_t emx__conv2d_packed_size(const emx__conv_shape *s)
{
    const int kind = emx__conv_kind(s);
    if (kind == EMX__CONV_DW || kind == EMX__CONV_C1) /* emx__dwconv_pack's blocks */
        return emx__dwconv_packed_size(s);
    if (kind == EMX__CONV_WINO)
        return emx__wino_packed_size(s);
    if (kind == EMX__CONV_GEMM_T) /* per output channel: its bias, then its in_c weights */
        return (uint64_t)s->out_c * (1 + (uint64_t)s->in_c);
    return (uint64_t)s->groups * emx__group_packed(s);
}

void emx__conv2d_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed)
{
    const int kind = emx__conv_kind(s);
    if (kind == EMX__CONV_DW || kind == EMX__CONV_C1) { /* weights [out_c][1][kh][kw] either way */
        emx__dwconv_pack(s, weight, bias, packed);
        return;
    }
    if (kind == EMX__CONV_WINO) {
        emx__wino_pack(s, weight, bias, packed);
        return;
    }
    if (kind == EMX__CONV_GEMM_T) { /* weights [out_c][in_c][1][1]: a bias before each row */
        const size_t k = (size_t)s->in_c;
        for (size_t oc = 0; oc < (size_t)s->out_c; oc++) {
            packed[oc * (1 + k)] = bias ? bias[oc] : 0.0f;
            memcpy(packed + oc * (1 + k) + 1, weight + oc * k, k * sizeof(float));
        }
        return;
    }
    const int icg = s->in_c / s->groups, ocg = s->out_c / s->groups;
    float *p = packed;
    for (int g = 0; g < s->groups; g++)
        for (int n0 = 0; n0 < ocg; n0 += EMX_GEMM_NR) {
            for (int j = 0; j < EMX_GEMM_NR; j++) {
                const int oc = g * ocg + n0 + j;
                *p++ = n0 + j < ocg && bias ? bias[oc] : 0.0f;
            }
            /* k = (ky, kx, ic), ic fastest: the order an NHWC tap is read in */
            for (int ky = 0; ky < s->kh; ky++)
                for (int kx = 0; kx < s->kw; kx++)
                    for (int ic = 0; ic < icg; ic++)
                        for (int j = 0; j < EMX_GEMM_NR; j++) {
                            const int oc = g * ocg + n0 + j;
                            *p++ = n0 + j < ocg
                                       ? weight[(((size_t)oc * icg + ic) * s->kh + ky) * s->kw + kx]
                                       : 0.0f;
                        }
        }
}

/* Row taps. With groups == 1 and dilation_w == 1, the kw taps of one kernel row are
 * kw * in_c consecutive floats of an NHWC input row, once the row's left/right zero padding
 * exists in memory. Such convs copy the input into scratch with those zero columns and
 * give the igemm one pointer per kernel row: kh taps of kc = kw*in_c floats instead of
 * kh*kw taps of in_c. For thin inputs (grayscale / RGB first layers, where a tap is 1-3
 * floats) the per-tap pointer handling otherwise costs more than the arithmetic. The copy
 * is in_h * padded_w * in_c floats, next to kh*kw*out_c multiply-adds per input value; it
 * stops paying once taps are long anyway, and wide inputs would make the scratch large. */
#define EMX__ROW_TAPS_MAX_C 32

static int emx__row_taps(const emx__conv_shape *s)
{
    return s->groups == 1 && s->dil_w == 1 && s->kw > 1 && s->in_c <= EMX__ROW_TAPS_MAX_C;
}

/* padded row width: columns [0, pad_left) and [pad_left + in_w, width) are zeros */
static uint64_t emx__padded_w(const emx__conv_shape *s)
{
    const uint64_t need = (uint64_t)(s->out_w - 1) * (uint64_t)s->stride_w + (uint64_t)s->kw;
    const uint64_t have = (uint64_t)s->in_w + (uint64_t)s->pad_left;
    return need > have ? need : have;
}

typedef struct emx__igemm_layout {
    uint64_t kc, ks;   /* floats per tap, taps per output pixel */
    uint64_t zero_n;   /* floats in the zero row */
    uint64_t padded_n; /* floats in the padded input copy (row taps only) */
} emx__igemm_layout;

static emx__igemm_layout emx__layout(const emx__conv_shape *s)
{
    emx__igemm_layout l;
    if (emx__row_taps(s)) {
        l.kc = (uint64_t)s->kw * (uint64_t)s->in_c, l.ks = (uint64_t)s->kh;
        l.padded_n = (uint64_t)s->in_h * emx__padded_w(s) * (uint64_t)s->in_c;
    } else {
        l.kc = (uint64_t)(s->in_c / s->groups), l.ks = (uint64_t)s->kh * (uint64_t)s->kw;
        l.padded_n = 0;
    }
    l.zero_n = emx__round_up(l.kc, 4);
    return l;
}

/* igemm scratch: the zero row (stands for padding), the padded input copy when row taps are
 * used, then MR * ks pointers, aligned inside the float buffer (the runtime only promises
 * float alignment). Sized for the largest MR listed so any kernel can run in it. */
uint64_t emx__conv2d_scratch_size(const emx__conv_shape *s)
{
    const int kind = emx__conv_kind(s);
    if (kind == EMX__CONV_WINO)
        return emx__wino_scratch_size(s);
    if (kind == EMX__CONV_DW)
        return emx__dwconv_scratch_size(s);
    if (kind == EMX__CONV_C1)
        return emx__conv3x3_c1_scratch_size(s);
    if (kind == EMX__CONV_THIN)
        return emx__conv_thin_scratch_size(s);
    if (kind == EMX__CONV_GEMM_T) { /* A^T's panels (zero biases, a row of ones, in_c rows), C^T */
        const uint64_t npix = (uint64_t)s->out_h * (uint64_t)s->out_w;
        return npix * (2 + (uint64_t)s->in_c) + npix * (uint64_t)s->out_c;
    }
    if (kind != EMX__CONV_IGEMM)
        return 0;
    const emx__igemm_layout l = emx__layout(s);
    const uint64_t ptrs = (uint64_t)emx__max_mr() * l.ks + 1; /* +1: alignment slack */
    return l.zero_n + l.padded_n + (ptrs * sizeof(float *) + sizeof(float) - 1) / sizeof(float);
}

/* Output channels per block of the GEMM route (a multiple of NR): as many panels as fit
 * EMX__GEMM_BLOCK_BYTES of weights (a share of L1 that leaves room for the A rows of a tile),
 * at least one. Below that size all channels are one block: the tile-outer loop. */
#define EMX__GEMM_BLOCK_BYTES (32 * 1024)

size_t emx__gemm_nblock(size_t k, size_t n)
{
    const size_t panel_bytes = (size_t)EMX_GEMM_NR * (1 + k) * sizeof(float);
    size_t nb = EMX__GEMM_BLOCK_BYTES / panel_bytes * EMX_GEMM_NR;
    if (nb < EMX_GEMM_NR)
        nb = EMX_GEMM_NR;
    return nb < n ? nb : n;
}

/* One pixel a of EMX__CONV_GEMM_T past its full panels: out[oc] = bias + w[oc] . a for every
 * output channel, four channels at a time (four independent sums), each over k in 4 lanes. */
static void emx__gemmt_rest(size_t k, size_t n, const float *packed, const float *a, float *o,
                            const emx__minmax_params *params)
{
    const size_t kc = 1 + k;
    for (size_t oc = 0; oc < n; oc += 4) {
        const float *w[4];
        emx_v4f acc[4];
        for (int j = 0; j < 4; j++)
            w[j] = packed + (oc + (size_t)j) * kc + 1, acc[j] = emx_v4f_zero();
        size_t i = 0;
        for (; i + 4 <= k; i += 4) {
            const emx_v4f va = emx_v4f_load(a + i);
            acc[0] = emx_v4f_muladd(va, emx_v4f_load(w[0] + i), acc[0]);
            acc[1] = emx_v4f_muladd(va, emx_v4f_load(w[1] + i), acc[1]);
            acc[2] = emx_v4f_muladd(va, emx_v4f_load(w[2] + i), acc[2]);
            acc[3] = emx_v4f_muladd(va, emx_v4f_load(w[3] + i), acc[3]);
        }
        for (int j = 0; j < 4; j++) {
            float l[4];
            emx_v4f_store(l, acc[j]);
            float sum = w[j][-1] + ((l[0] + l[1]) + (l[2] + l[3])); /* w[j][-1]: the bias */
            for (size_t t = i; t < k; t++)
                sum += a[t] * w[j][t];
            sum = sum < params->min ? params->min : sum;
            o[oc + (size_t)j] = sum > params->max ? params->max : sum;
        }
    }
}

/* EMX__CONV_GEMM_T (see emx__gemmt_applies): A^T packed as the micro-kernel's B panels of 8
 * pixels, 4 output channels per call (the kernel's rows: rows of the packed weights), C^T into
 * scratch, then transposed into the NHWC output; the pixels past the last full panel through
 * emx__gemmt_rest. */
static void emx__gemmt_conv(const emx__gemm_config *cfg, const emx__conv_shape *s,
                            const float *packed, const float *in, float *out, float *scratch,
                            const emx__minmax_params *params)
{
    const size_t npix = (size_t)s->out_h * s->out_w, k = (size_t)s->in_c, n = (size_t)s->out_c;
    const size_t m = npix / EMX_GEMM_NR * EMX_GEMM_NR; /* pixels in full panels */
    const size_t kc = 1 + k, panel = EMX_GEMM_NR * (1 + kc);
    float *at = scratch, *ct = scratch + m / EMX_GEMM_NR * panel;
    for (size_t p = 0; p < m / EMX_GEMM_NR; p++) {
        float *q = at + p * panel;
        const float *a = in + p * EMX_GEMM_NR * k;
        for (size_t j = 0; j < EMX_GEMM_NR; j++)
            q[j] = 0.0f, q[EMX_GEMM_NR + j] = 1.0f; /* the kernel's bias slots; k = 0: the bias */
        q += 2 * EMX_GEMM_NR;
        for (size_t i = 0; i < k; i++, q += EMX_GEMM_NR)
            for (size_t j = 0; j < EMX_GEMM_NR; j++)
                q[j] = a[j * k + i];
    }
    const emx__gemm_config *single = emx__gemm_single_row();
    for (size_t n0 = 0; n0 < n; n0 += (size_t)cfg->mr) {
        const size_t mr = n - n0 < (size_t)cfg->mr ? n - n0 : (size_t)cfg->mr;
        (mr == 1 && cfg->mr != 1 ? single : cfg)
            ->gemm(mr, m, kc, packed + n0 * kc, kc, at, ct + n0 * m, m, params);
    }
    for (size_t px = 0; px < m; px++)
        for (size_t oc = 0; oc < n; oc++)
            out[px * n + oc] = ct[oc * m + px];
    for (size_t px = m; px < npix; px++)
        emx__gemmt_rest(k, n, packed, in + px * k, out + px * n, params);
}

void emx__conv2d_with(const emx__gemm_config *cfg, const emx__conv_shape *s, const float *packed,
                      const float *in, float *out, float *scratch)
{
    emx__minmax_params params;
    const int tail_act = emx__minmax_for_act(s->act, &params);
    const int kind = emx__conv_kind(s);
    const size_t npix = (size_t)s->out_h * s->out_w;

    if (kind == EMX__CONV_DW || kind == EMX__CONV_C1 || kind == EMX__CONV_THIN) {
        if (kind == EMX__CONV_THIN)
            emx__conv_thin(s, packed, in, out, scratch, &params);
        else if (kind == EMX__CONV_DW)
            emx__f32_dwconv_minmax__simd(s, packed, in, out, scratch, &params);
        else
            emx__conv3x3_c1(s, packed, in, out, scratch, &params);
        if (tail_act)
            emx__act_apply(npix * s->out_c, out, out, s->act);
        return;
    }

    const size_t icg = (size_t)(s->in_c / s->groups), ocg = (size_t)(s->out_c / s->groups);
    const size_t in_c = (size_t)s->in_c, out_c = (size_t)s->out_c;
    /* Every size below fits a size_t: the plan allocated these buffers. */
    const size_t gstride = (size_t)emx__group_packed(s);
    const emx__gemm_config *single = emx__gemm_single_row();

    if (kind == EMX__CONV_WINO) {
        emx__wino_conv(cfg, single, s, packed, in, out, scratch);
        return;
    }
    if (kind == EMX__CONV_GEMM_T) {
        emx__gemmt_conv(cfg, s, packed, in, out, scratch, &params);
        return;
    }
    if (kind == EMX__CONV_GEMM) {
        const size_t nb = emx__gemm_nblock(icg, ocg);
        if (nb < ocg && !tail_act && npix > (size_t)cfg->mr) { /* one tile: nothing to reuse */
            /* Weights past L1 (MobileNet's 7x7 and 4x4 layers: 0.5-4 MB): blocks of nb output
             * channels, each run over every pixel while its panels stay in L1, so the weights
             * are read from L2 / L3 once instead of once per tile of MR pixels; the map's A
             * rows (<= L2 at these sizes) are read once per block instead. */
            const size_t panel = (size_t)EMX_GEMM_NR * (1 + icg); /* floats per packed panel */
            for (int g = 0; g < s->groups; g++)
                for (size_t n0 = 0; n0 < ocg; n0 += nb) {
                    const size_t nc = ocg - n0 < nb ? ocg - n0 : nb;
                    const float *w = packed + g * gstride + n0 / EMX_GEMM_NR * panel;
                    for (size_t m0 = 0; m0 < npix; m0 += (size_t)cfg->mr) {
                        const size_t mr = npix - m0 < (size_t)cfg->mr ? npix - m0 : (size_t)cfg->mr;
                        (mr == 1 ? single : cfg)
                            ->gemm(mr, nc, icg, in + m0 * in_c + g * icg, in_c, w,
                                   out + m0 * out_c + g * ocg + n0, out_c, &params);
                    }
                }
            return;
        }
        for (size_t m0 = 0; m0 < npix; m0 += (size_t)cfg->mr) {
            const size_t mr = npix - m0 < (size_t)cfg->mr ? npix - m0 : (size_t)cfg->mr;
            const emx__gemm_config *k = mr == 1 ? single : cfg;
            for (int g = 0; g < s->groups; g++)
                k->gemm(mr, ocg, icg, in + m0 * in_c + g * icg, in_c, packed + g * gstride,
                        out + m0 * out_c + g * ocg, out_c, &params);
            if (tail_act)
                emx__act_apply(mr * out_c, out + m0 * out_c, out + m0 * out_c, s->act);
        }
        return;
    }

    const emx__igemm_layout l = emx__layout(s);
    float *zero = scratch;
    const size_t kc = (size_t)l.kc, ks = (size_t)l.ks, padded_n = (size_t)l.padded_n;
    memset(zero, 0, kc * sizeof(float));
    float *padded = scratch + (size_t)l.zero_n;
    const uintptr_t pbase = (uintptr_t)(padded + padded_n);
    const float **ind =
        (const float **)((pbase + sizeof(float *) - 1) / sizeof(float *) * sizeof(float *));
    const size_t row_taps = padded_n != 0, pw = row_taps ? (size_t)emx__padded_w(s) : 0;
    if (row_taps) {
        const size_t left = (size_t)s->pad_left * in_c, body = (size_t)s->in_w * in_c;
        for (int y = 0; y < s->in_h; y++) {
            float *row = padded + (size_t)y * pw * in_c;
            memset(row, 0, left * sizeof(float));
            memcpy(row + left, in + (size_t)y * body, body * sizeof(float));
            memset(row + left + body, 0, (pw * in_c - left - body) * sizeof(float));
        }
    }

    for (size_t m0 = 0; m0 < npix; m0 += (size_t)cfg->mr) {
        const size_t mr = npix - m0 < (size_t)cfg->mr ? npix - m0 : (size_t)cfg->mr;
        const emx__gemm_config *k = mr == 1 ? single : cfg;
        const size_t kmr = (size_t)k->mr;
        /* [tap][row]; rows past mr repeat the last pixel (the kernel aliases their output) */
        int oy = (int)(m0 / (size_t)s->out_w), ox = (int)(m0 % (size_t)s->out_w);
        for (size_t m = 0; m < kmr; m++) {
            if (m > 0 && m < mr && ++ox == s->out_w)
                ox = 0, oy++;
            for (int ky = 0; ky < s->kh; ky++) {
                const int iy = oy * s->stride_h - s->pad_top + ky * s->dil_h;
                const int row_inside = iy >= 0 && iy < s->in_h;
                if (row_taps) {
                    ind[(size_t)ky * kmr + m] =
                        row_inside ? padded + ((size_t)iy * pw + (size_t)ox * s->stride_w) * in_c
                                   : zero;
                    continue;
                }
                for (int kx = 0; kx < s->kw; kx++) {
                    const int ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
                    ind[(size_t)(ky * s->kw + kx) * kmr + m] =
                        row_inside && ix >= 0 && ix < s->in_w
                            ? in + ((size_t)iy * s->in_w + ix) * in_c
                            : zero;
                }
            }
        }
        for (int g = 0; g < s->groups; g++)
            k->igemm(mr, ocg, kc, ks, ind, packed + g * gstride, out + m0 * out_c + g * ocg, out_c,
                     g * icg, zero, &params);
        if (tail_act)
            emx__act_apply(mr * out_c, out + m0 * out_c, out + m0 * out_c, s->act);
    }
}

void emx__conv2d(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                 float *scratch)
{
    emx__conv2d_with(emx__gemm_default(), s, packed, in, out, scratch);
}

/* A 1x1 conv (the GEMM route, no activation of its own) whose output only feeds a residual ADD
 * (BlazeFace's blocks: act(conv(x) + shortcut), the shortcut often zero-padded in channels):
 * the add and its activation run on each tile of rows while it is in L1, instead of two more
 * passes over memory (the ADD, and the PAD_CHANNELS that widened the shortcut). res holds
 * res_c <= out_c channels per pixel: channels past res_c add zero. */
int emx__conv2d_residual_ok(const emx__conv_shape *s)
{
    return emx__conv_kind(s) == EMX__CONV_GEMM && s->groups == 1 && s->act == EMX_ACT_NONE;
}

void emx__conv2d_residual(const emx__conv_shape *s, const float *packed, const float *in,
                          float *out, const float *res, int res_c, emx__act act)
{
    emx__minmax_params none;
    emx__minmax_for_act(EMX_ACT_NONE, &none);
    const emx__gemm_config *cfg = emx__gemm_default(), *single = emx__gemm_single_row();
    const size_t npix = (size_t)s->out_h * s->out_w, in_c = (size_t)s->in_c;
    const size_t out_c = (size_t)s->out_c, rc = (size_t)res_c;
    for (size_t m0 = 0; m0 < npix; m0 += (size_t)cfg->mr) {
        const size_t mr = npix - m0 < (size_t)cfg->mr ? npix - m0 : (size_t)cfg->mr;
        float *o = out + m0 * out_c;
        (mr == 1 ? single : cfg)
            ->gemm(mr, out_c, in_c, in + m0 * in_c, in_c, packed, o, out_c, &none);
        for (size_t r = 0; r < mr; r++) {
            float *orow = o + r * out_c;
            const float *rrow = res + (m0 + r) * rc;
            size_t ch = 0;
            for (; ch + 4 <= rc; ch += 4)
                emx_v4f_store(orow + ch,
                              emx_v4f_add(emx_v4f_load(orow + ch), emx_v4f_load(rrow + ch)));
            for (; ch < rc; ch++)
                orow[ch] += rrow[ch];
        }
        emx__act_apply(mr * out_c, o, o, act);
    }
}

/* Two images, one conv: the Winograd route runs both in one pass (each transformed weight
 * matrix streamed once for the two); the others simply run twice, back to back. */
void emx__conv2d_pair(const emx__conv_shape *s, const float *packed, const float *in0,
                      const float *in1, float *out0, float *out1, float *scratch)
{
    if (emx__conv_kind(s) == EMX__CONV_WINO) {
        const float *ins[2] = { in0, in1 };
        float *outs[2] = { out0, out1 };
        emx__wino_conv_n(emx__gemm_default(), emx__gemm_single_row(), s, packed, 2, ins, outs, 0,
                         scratch);
        return;
    }
    emx__conv2d(s, packed, in0, out0, scratch);
    emx__conv2d(s, packed, in1, out1, scratch);
}

int emx__conv2d_mirror_ok(const emx__conv_shape *s)
{
    return emx__conv_kind(s) == EMX__CONV_C1 && emx__conv3x3_c1_mirror_applies(s);
}

/* Flip TTA's first conv on a one-channel image: both views from one walk over the image (see
 * f32-conv3x3-c1.c). */
void emx__conv2d_mirror_pair(const emx__conv_shape *s, const float *packed, const float *in,
                             float *out0, float *out1, float *scratch)
{
    emx__minmax_params params;
    const int tail_act = emx__minmax_for_act(s->act, &params);
    emx__conv3x3_c1_mirror(s, packed, in, out0, out1, scratch, &params);
    if (tail_act) {
        const size_t n = (size_t)s->out_h * s->out_w * s->out_c;
        emx__act_apply(n, out0, out0, s->act);
        emx__act_apply(n, out1, out1, s->act);
    }
}

int emx__conv2d_pool_ok(const emx__conv_shape *s, const emx__pool_shape *p)
{
    return emx__conv_kind(s) == EMX__CONV_WINO && emx__wino_pool_ok(s) && p->kh == 2 &&
           p->kw == 2 && p->stride_h == 2 && p->stride_w == 2 && p->pad_top == 0 &&
           p->pad_left == 0 && p->in_h == s->out_h && p->in_w == s->out_w && p->c == s->out_c &&
           p->out_h == s->out_h / 2 && p->out_w == s->out_w / 2;
}

/* A conv and the 2x2 max pool after it, on n (1 or 2) images: the pool in the Winograd output
 * transform (f32-conv3x3-winograd.c), the conv's own map never written. */
void emx__conv2d_pool_n(const emx__conv_shape *s, const float *packed, int n,
                        const float *const *ins, float *const *outs, float *scratch)
{
    emx__wino_conv_n(emx__gemm_default(), emx__gemm_single_row(), s, packed, n, ins, outs, 1,
                     scratch);
}
