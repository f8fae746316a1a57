/* f32-conv3x3-winograd.c - 3x3, stride 1, "same" convolutions as Winograd F(2x2, 3x3)
 * (Lavin & Gray 2015): each 2x2 block of outputs ("tile") costs 16 multiply-adds per
 * (in_c, out_c) pair instead of 4 * 9 = 36, so the wide 3x3 layers that dominate the bigger
 * networks do 2.25x fewer multiply-adds. XNNPACK (and so TF.js) runs these layers as direct
 * igemm; this is where our core gets ahead of it on VGG/ResNet-style members.
 *
 *   U_k = (G g G^T)_k     16 matrices [in_c][out_c], transformed and packed at load time in
 *                         the GEMM micro-kernels' layout (kernels.h), biases 0
 *   V_k = (B^T d B)_k     per 4x4 input patch (stride 2, zero outside), per channel
 *   M_k = V_k x U_k       16 GEMMs through the ordinary 4x8 / 1x8 micro-kernels
 *   y   = A^T M A + bias  the 2x2 outputs, with the min/max clamp fused (relu, relu6)
 *
 * Tiles are processed in blocks of EMX__WINO_TB so V and M for one block stay in L1/L2 while
 * each U_k (in_c x out_c floats) is reused by every row of the block. Transforms run over
 * 4 channels at a time (NHWC: a pixel's channels are contiguous), hence in_c and out_c must
 * be multiples of 4. F(2x2, 3x3) keeps fp32 error at the level of the direct conv's (the
 * transforms only add, subtract and halve); larger tiles (F(4x4, 3x3)) would save more but
 * lose about two decimal digits, too much for the 1e-4 agreement the golden tests demand. */
#include "kernels.h"
#include "simd/simd.h"

#include <math.h>
#include <string.h>

#define EMX__WINO_TB 16 /* tiles per block: a multiple of every MR listed */

int emx__wino_enabled = 1;

int emx__wino_applies(const emx__conv_shape *s)
{
    if (!emx__wino_enabled)
        return 0;
    /* Measured (tests/bench/bench-kernels.c): ahead of igemm from 2x2 outputs up, even at 3x3
     * where 16 of the 4 tiles' outputs are computed for 9; behind only at 1 pixel wide/high,
     * where most of the 4x4 patch is padding. */
    return s->kh == 3 && s->kw == 3 && s->stride_h == 1 && s->stride_w == 1 && s->dil_h == 1 &&
           s->dil_w == 1 && s->groups == 1 && s->pad_top == 1 && s->pad_left == 1 &&
           s->out_h == s->in_h && s->out_w == s->in_w && s->in_c % 4 == 0 && s->out_c % 4 == 0 &&
           s->in_c >= 8 && s->out_h >= 2 && s->out_w >= 2;
}

/* one U_k: out_c channels over in_c rows in the GEMM micro-kernels' packed layout */
static uint64_t emx__wino_u_size(const emx__conv_shape *s)
{
    return emx__gemm_packed_size((uint64_t)s->out_c, (uint64_t)s->in_c);
}

/* 16 packed U_k, then out_c biases */
uint64_t emx__wino_packed_size(const emx__conv_shape *s)
{
    return 16 * emx__wino_u_size(s) + (uint64_t)s->out_c;
}

void emx__wino_pack(const emx__conv_shape *s, const float *weight, const float *bias, float *packed)
{
    const int ic_n = s->in_c, oc_n = s->out_c;
    const size_t u_n = (size_t)emx__wino_u_size(s); /* fits: the plan allocated it */
    memset(packed, 0, 16 * u_n * sizeof(float));
    for (int oc = 0; oc < oc_n; oc++)
        for (int ic = 0; ic < ic_n; ic++) {
            const float *g = weight + ((size_t)oc * ic_n + ic) * 9;
            float gg[4][3], u[4][4];
            for (int c = 0; c < 3; c++) { /* G g: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 */
                gg[0][c] = g[c];
                gg[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
                gg[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
                gg[3][c] = g[6 + c];
            }
            for (int r = 0; r < 4; r++) { /* (G g) G^T: the same on columns */
                u[r][0] = gg[r][0];
                u[r][1] = 0.5f * (gg[r][0] + gg[r][1] + gg[r][2]);
                u[r][2] = 0.5f * (gg[r][0] - gg[r][1] + gg[r][2]);
                u[r][3] = gg[r][2];
            }
            /* panel oc / NR of U_k: NR biases (0), then row ic holds NR weights */
            const size_t at = (size_t)(oc / EMX_GEMM_NR) * EMX_GEMM_NR * (1 + (size_t)ic_n) +
                              EMX_GEMM_NR + (size_t)ic * EMX_GEMM_NR + (size_t)(oc % EMX_GEMM_NR);
            for (int k = 0; k < 16; k++)
                packed[(size_t)k * u_n + at] = u[k / 4][k % 4];
        }
    float *b = packed + 16 * u_n;
    for (int oc = 0; oc < oc_n; oc++)
        b[oc] = bias ? bias[oc] : 0.0f;
}

/* scratch: V [16][TB][in_c], M [16][TB][out_c], a zero pixel (in_c), a sink pixel (out_c) */
uint64_t emx__wino_scratch_size(const emx__conv_shape *s)
{
    return 16 * (uint64_t)EMX__WINO_TB * ((uint64_t)s->in_c + (uint64_t)s->out_c) +
           (uint64_t)s->in_c + (uint64_t)s->out_c;
}

/* V for one tile: d = the 4x4 patch at input (y0, x0), rows/columns outside are zeros */
static void emx__wino_input(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                            int x0, float *v, size_t v_stride)
{
    const float *p[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            const int y = y0 + r, x = x0 + c;
            p[r * 4 + c] = y >= 0 && y < s->in_h && x >= 0 && x < s->in_w
                               ? in + ((size_t)y * s->in_w + x) * s->in_c
                               : zero;
        }
    for (int ch = 0; ch < s->in_c; ch += 4) {
        emx_v4f t[4][4];
        for (int c = 0; c < 4; c++) { /* B^T d: rows d0-d2, d1+d2, d2-d1, d1-d3 */
            const emx_v4f d0 = emx_v4f_load(p[c] + ch), d1 = emx_v4f_load(p[4 + c] + ch);
            const emx_v4f d2 = emx_v4f_load(p[8 + c] + ch), d3 = emx_v4f_load(p[12 + c] + ch);
            t[0][c] = emx_v4f_sub(d0, d2);
            t[1][c] = emx_v4f_add(d1, d2);
            t[2][c] = emx_v4f_sub(d2, d1);
            t[3][c] = emx_v4f_sub(d1, d3);
        }
        for (int r = 0; r < 4; r++) { /* (B^T d) B: the same on columns */
            float *o = v + (size_t)r * 4 * v_stride + ch;
            emx_v4f_store(o, emx_v4f_sub(t[r][0], t[r][2]));
            emx_v4f_store(o + v_stride, emx_v4f_add(t[r][1], t[r][2]));
            emx_v4f_store(o + 2 * v_stride, emx_v4f_sub(t[r][2], t[r][1]));
            emx_v4f_store(o + 3 * v_stride, emx_v4f_sub(t[r][1], t[r][3]));
        }
    }
}

/* y = A^T M A + bias, clamped, for one tile at output (y0, x0); outputs past the edge go to
 * the sink */
static void emx__wino_output(const emx__conv_shape *s, const float *m, size_t m_stride,
                             const float *bias, float *out, float *sink, int y0, int x0,
                             const emx__minmax_params *params, int tail_act)
{
    float *q[4];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            const int y = y0 + r, x = x0 + c;
            q[r * 2 + c] =
                y < s->out_h && x < s->out_w ? out + ((size_t)y * s->out_w + x) * s->out_c : sink;
        }
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    for (int ch = 0; ch < s->out_c; ch += 4) {
        emx_v4f t[2][4];
        for (int c = 0; c < 4; c++) { /* A^T M: rows m0+m1+m2, m1-m2-m3 */
            const float *mc = m + (size_t)c * m_stride + ch;
            const emx_v4f m0 = emx_v4f_load(mc), m1 = emx_v4f_load(mc + 4 * m_stride);
            const emx_v4f m2 = emx_v4f_load(mc + 8 * m_stride),
                          m3 = emx_v4f_load(mc + 12 * m_stride);
            t[0][c] = emx_v4f_add(emx_v4f_add(m0, m1), m2);
            t[1][c] = emx_v4f_sub(emx_v4f_sub(m1, m2), m3);
        }
        const emx_v4f b = emx_v4f_load(bias + ch);
        for (int r = 0; r < 2; r++) {
            emx_v4f y0v = emx_v4f_add(emx_v4f_add(emx_v4f_add(t[r][0], t[r][1]), t[r][2]), b);
            emx_v4f y1v = emx_v4f_add(emx_v4f_sub(emx_v4f_sub(t[r][1], t[r][2]), t[r][3]), b);
            emx_v4f_store(q[r * 2] + ch, emx_v4f_min(emx_v4f_max(y0v, vmin), vmax));
            emx_v4f_store(q[r * 2 + 1] + ch, emx_v4f_min(emx_v4f_max(y1v, vmin), vmax));
        }
    }
    if (tail_act)
        for (int i = 0; i < 4; i++)
            if (q[i] != sink)
                emx__act_apply((size_t)s->out_c, q[i], q[i], s->act);
}

void emx__wino_conv(const emx__gemm_config *cfg, const emx__gemm_config *single,
                    const emx__conv_shape *s, const float *packed, const float *in, float *out,
                    float *scratch)
{
    emx__minmax_params params, none = { -INFINITY, INFINITY };
    const int tail_act = emx__minmax_for_act(s->act, &params);
    const size_t in_c = (size_t)s->in_c, out_c = (size_t)s->out_c, tb = EMX__WINO_TB;
    const size_t u_n = (size_t)emx__wino_u_size(s);
    const float *bias = packed + 16 * u_n;
    float *v = scratch, *m = v + 16 * tb * in_c, *zero = m + 16 * tb * out_c, *sink = zero + in_c;
    memset(zero, 0, in_c * sizeof(float));
    const int tiles_w = (s->out_w + 1) / 2, tiles = tiles_w * ((s->out_h + 1) / 2);

    for (int t0 = 0; t0 < tiles; t0 += (int)tb) {
        const size_t nt = (size_t)(tiles - t0) < tb ? (size_t)(tiles - t0) : tb;
        for (size_t t = 0; t < nt; t++) {
            const int ti = t0 + (int)t;
            emx__wino_input(s, in, zero, 2 * (ti / tiles_w) - 1, 2 * (ti % tiles_w) - 1,
                            v + t * in_c, tb * in_c);
        }
        for (size_t k = 0; k < 16; k++)
            for (size_t r0 = 0; r0 < nt; r0 += (size_t)cfg->mr) {
                const size_t mr = nt - r0 < (size_t)cfg->mr ? nt - r0 : (size_t)cfg->mr;
                const emx__gemm_config *g = mr == 1 ? single : cfg;
                g->gemm(mr, out_c, in_c, v + (k * tb + r0) * in_c, in_c, packed + k * u_n,
                        m + (k * tb + r0) * out_c, out_c, &none);
            }
        for (size_t t = 0; t < nt; t++) {
            const int ti = t0 + (int)t;
            emx__wino_output(s, m + t * out_c, tb * out_c, bias, out, sink, 2 * (ti / tiles_w),
                             2 * (ti % tiles_w), &params, tail_act);
        }
    }
}
