/* f32-conv3x3-winograd.c - 3x3, stride 1, "same" convolutions as Winograd F(m x m, 3x3)
 * (Lavin & Gray 2015), m = 2, 3, 4 or 6: each m x m block of outputs ("tile") reads an a x a
 * input patch (a = m + 2) and costs a^2 multiply-adds per (in_c, out_c) pair instead of 9 m^2:
 * 16 for 4 outputs with F(2x2) (2.25x fewer than direct), 25 for 9 with F(3x3) (3.24x), 36 for
 * 16 with F(4x4) (4x), 64 for 36 with F(6x6) (5.06x). XNNPACK (and so TF.js) runs these layers
 * as direct igemm; this is where our core gets ahead of it on VGG/ResNet-style members.
 *
 *   U_k = (G g G^T)_k     a^2 matrices [in_c][out_c], transformed (in double) and packed at
 *                         load time in the GEMM micro-kernels' layout (kernels.h); the conv's
 *                         bias is U_(1,1)'s (the others' are 0), see emx__wino_pack
 *   V_k = (B^T d B)_k     per a x a input patch (stride m, zero outside), per channel
 *   M_k = V_k x U_k       a^2 GEMMs, one call per block (f32-wino-gemm-4x8.c), or the listed
 *                         micro-kernels one by one (tests cover each)
 *   y   = A^T M A         the m x m outputs, with the min/max clamp fused (relu, relu6)
 *
 * Tiles are processed in blocks (16 tiles for F(2x2) and F(3x3), 12 for F(4x4): a 12x12 map's
 * 9 tiles then make one block, not 8 + 1; 8 for F(6x6)) so V and M for one block stay in L1/L2
 * while each U_k (in_c x out_c floats) is reused by every row of the block. Transforms run over
 * 4 channels at a time (NHWC: a pixel's channels are contiguous), hence in_c and out_c must be
 * multiples of 4.
 *
 * Which m (emx__wino_tile): the one with the fewest GEMM rows (a^2 per tile, tiles cut at the
 * right/bottom edges counted whole), F(4x4) only when it saves 40% over F(2x2) and F(3x3) 25%
 * (their transforms cost more per output), and F(2x2) below 16 output channels, where the
 * transforms weigh most (measured in tests/bench/bench-kernels.c); F(6x6) from 12x12 maps up
 * where it saves 20% of F(4x4)'s rows: 48x48, 24x24 and 12x12 maps get F(6x6) (8-13% less time
 * per layer than F(4x4), relaxed SIMD, session 8), 6x6 ones F(3x3) (4 tiles exactly). Accuracy:
 * F(2x2)'s transforms only add, subtract and halve; F(3x3) (points 0, +-1, 2), F(4x4)
 * (0, +-1, +-2) and F(6x6) (0, +-1, +-2, +-1/2) have factors up to 32 and 1/90, which costs
 * about one decimal digit: max |diff| on the golden nets' probabilities stays at ~1e-7 to
 * 4e-7 (tests/test-golden.c prints it), against the 1e-4 the tests demand. */
#include "kernels.h"
#include "simd/simd.h"

#include <math.h>
#include <string.h>

int emx__wino_enabled = 1;
int emx__wino_f4_enabled = 1;
int emx__wino_f6_enabled = 1;

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

/* m: 2, 3, 4 or 6. F(4x4) when its GEMM rows (36 per tile of 16 outputs) are at most 60% of
 * F(2x2)'s (16 per tile of 4): on exact multiples of 4 that ratio is 56%, on a 6x6 map 100%. */
int emx__wino_tile(const emx__conv_shape *s)
{
    if (!emx__wino_f4_enabled || s->out_c < 16 || s->out_h < 3 || s->out_w < 3)
        return 2;
    const uint64_t h = (uint64_t)s->out_h, w = (uint64_t)s->out_w;
    const uint64_t r2 = 16 * ((h + 1) / 2) * ((w + 1) / 2), r3 = 25 * ((h + 2) / 3) * ((w + 2) / 3);
    const uint64_t r4 = 36 * ((h + 3) / 4) * ((w + 3) / 4);
    const uint64_t r6 = 64 * ((h + 5) / 6) * ((w + 5) / 6);
    /* F(6x6) from 12x12 maps up, when it saves 20% of F(4x4)'s rows (exact multiples of 12:
     * 21%); not on 6x6 maps, where F(3x3) stays: one F(6x6) tile per view would stream 64
     * weight matrices (4.2 MB for 128 x 128 channels) for 2 GEMM rows */
    if (emx__wino_f6_enabled && h >= 12 && w >= 12 && r6 * 10 <= r4 * 8 && r4 * 10 <= r2 * 6)
        return 6;
    if (r4 * 10 <= r2 * 6)
        return 4;
    return r3 * 4 <= r2 * 3 ? 3 : 2;
}

static int emx__wino_tb(int m)
{
    /* tiles per block: a multiple of every MR listed; F(6x6)'s 64 matrices of V and M per
     * block stay within 128 KB each at 64 channels */
    return m == 6 ? 8 : m == 4 ? 12 : 16;
}

/* one U_k: out_c channels over in_c rows in the GEMM micro-kernels' packed layout */
static uint64_t emx__wino_u_size(const emx__conv_shape *s)
{
    return emx__gemm_packed_size((uint64_t)s->out_c, (uint64_t)s->in_c);
}

/* a^2 packed U_k (the bias rides in U_(1,1)'s bias slots) */
uint64_t emx__wino_packed_size(const emx__conv_shape *s)
{
    const uint64_t a = (uint64_t)emx__wino_tile(s) + 2;
    return a * a * emx__wino_u_size(s);
}

/* G for F(2x2, 3x3), F(3x3, 3x3) (points 0, 1, -1, 2) and F(4x4, 3x3) (Lavin & Gray), a x 3 */
static const double emx__wino_g2[4][3] = {
    { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 }
};
static const double emx__wino_g3[5][3] = { { 0.5, 0, 0 },
                                           { -0.5, -0.5, -0.5 },
                                           { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
                                           { 1.0 / 6, 1.0 / 3, 2.0 / 3 },
                                           { 0, 0, 1 } };
static const double emx__wino_g4[6][3] = { { 0.25, 0, 0 },
                                           { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
                                           { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
                                           { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
                                           { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
                                           { 0, 0, 1 } };

/* F(6x6, 3x3), points 0, +-1, +-2, +-1/2 (NNPACK's, wincnn's) */
static const double emx__wino_g6[8][3] = { { 1, 0, 0 },
                                           { -2.0 / 9, -2.0 / 9, -2.0 / 9 },
                                           { -2.0 / 9, 2.0 / 9, -2.0 / 9 },
                                           { 1.0 / 90, 1.0 / 45, 2.0 / 45 },
                                           { 1.0 / 90, -1.0 / 45, 2.0 / 45 },
                                           { 32.0 / 45, 16.0 / 45, 8.0 / 45 },
                                           { 32.0 / 45, -16.0 / 45, 8.0 / 45 },
                                           { 0, 0, 1 } };

void emx__wino_pack(const emx__conv_shape *s, const float *weight, const float *bias, float *packed)
{
    const int ic_n = s->in_c, oc_n = s->out_c, a = emx__wino_tile(s) + 2;
    const double(*G)[3] = a == 8   ? emx__wino_g6
                          : a == 6 ? emx__wino_g4
                          : a == 5 ? emx__wino_g3
                                   : emx__wino_g2;
    const size_t u_n = (size_t)emx__wino_u_size(s); /* fits: the plan allocated it */
    memset(packed, 0, (size_t)(a * a) * u_n * sizeof(float));
    for (int oc = 0; oc < oc_n; oc++)
        for (int ic = 0; ic < ic_n; ic++) {
            const float *g = weight + ((size_t)oc * ic_n + ic) * 9;
            double gg[8][3];
            for (int r = 0; r < a; r++) /* G g */
                for (int c = 0; c < 3; c++)
                    gg[r][c] = G[r][0] * g[c] + G[r][1] * g[3 + c] + G[r][2] * g[6 + c];
            /* panel oc / NR of U_k: NR biases (0), then row ic holds NR weights */
            const size_t at = (size_t)(oc / EMX_GEMM_NR) * EMX_GEMM_NR * (1 + (size_t)ic_n) +
                              EMX_GEMM_NR + (size_t)ic * EMX_GEMM_NR + (size_t)(oc % EMX_GEMM_NR);
            for (int r = 0; r < a; r++) /* (G g) G^T */
                for (int c = 0; c < a; c++)
                    packed[(size_t)(r * a + c) * u_n + at] =
                        (float)(gg[r][0] * G[c][0] + gg[r][1] * G[c][1] + gg[r][2] * G[c][2]);
        }
    /* The bias as U_(1,1)'s GEMM bias, M_(1,1) + bias: column 1 of every A^T here (F(2x2),
     * F(3x3), F(4x4), F(6x6): the point 1) is all ones, so A^T (bias e1 e1^T) A adds the bias
     * to each of the m x m outputs, and the output transforms need no bias add (one vector op
     * less per output). */
    float *b11 = packed + (size_t)(a + 1) * u_n;
    for (int oc = 0; oc < oc_n; oc++)
        b11[(size_t)(oc / EMX_GEMM_NR) * EMX_GEMM_NR * (1 + (size_t)ic_n) +
            (size_t)(oc % EMX_GEMM_NR)] = bias ? bias[oc] : 0.0f;
}

/* V and M hold a^2 matrices of TB rows one after the other, each EMX__WINO_SKEW floats past
 * the previous one's end: a transform reads or writes one row of each of the a^2 matrices, and
 * with TB x channels a multiple of 1024 floats (16 tiles of 64 or 128 channels: the 6x6
 * layers' F(3x3) blocks) those a^2 rows would be 4 or 8 KB apart, all in one L1 set (12 ways
 * for 25 lines) and 4K-aliased store to load; one cache line more per matrix spreads them over
 * a^2 sets. */
#define EMX__WINO_SKEW 16

static size_t emx__wino_stride(size_t tb, size_t c)
{
    return tb * c + EMX__WINO_SKEW;
}

/* scratch: V [a^2][TB][in_c], M [a^2][TB][out_c] (matrices emx__wino_stride apart), a zero
 * pixel (in_c), a sink pixel (out_c); sized for whichever m the shape gets */
uint64_t emx__wino_scratch_size(const emx__conv_shape *s)
{
    const int m = emx__wino_tile(s);
    const uint64_t a = (uint64_t)m + 2;
    return a * a *
               ((uint64_t)emx__wino_tb(m) * ((uint64_t)s->in_c + (uint64_t)s->out_c) +
                2 * EMX__WINO_SKEW) +
           (uint64_t)s->in_c + (uint64_t)s->out_c;
}

/* F(3x3) and F(4x4) transforms run as two passes of 1-D transforms, rows then columns, through
 * V (or M) in place, each pass a loop over channels: a pass keeps one line of a x 4 channels
 * live (a loads, the 1-D transform, a stores). Done as one 2-D transform per 4 channels, the
 * a x a intermediate (36 vectors for F(4x4)) outlives the 16 registers V8 has on x64, and its
 * spills and the 36 reloaded pixel pointers took about as long as the arithmetic. */

/* the a x a input patch at (y0, x0): pixel pointers, `zero` outside the image */
static void emx__wino_patch(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                            int x0, int a, const float **p)
{
    for (int r = 0; r < a; r++)
        for (int c = 0; c < a; c++) {
            const int y = y0 + r, x = x0 + c;
            p[r * a + c] = y >= 0 && y < s->in_h && x >= 0 && x < s->in_w
                               ? in + ((size_t)y * s->in_w + x) * s->in_c
                               : zero;
        }
}

/* the m x m pixels at (y0, x0) of an h x w map of out_c channels (the conv's output, or the
 * pooled map a fused 2x2 pool writes): pointers, `sink` past the edge */
static void emx__wino_map_pixels(const emx__conv_shape *s, int h, int w, float *out, float *sink,
                                 int y0, int x0, int m, float **q)
{
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            const int y = y0 + r, x = x0 + c;
            q[r * m + c] = y < h && x < w ? out + ((size_t)y * w + x) * s->out_c : sink;
        }
}

/* the m x m output pixels at (y0, x0) */
static void emx__wino_out_pixels(const emx__conv_shape *s, float *out, float *sink, int y0, int x0,
                                 int m, float **q)
{
    emx__wino_map_pixels(s, s->out_h, s->out_w, out, sink, y0, x0, m, q);
}

/* an activation the min/max clamp cannot express (emx__minmax_for_act's tail_act), applied to
 * the tile's n output pixels that are in the image */
static void emx__wino_tail_act(const emx__conv_shape *s, float *const *q, int n, const float *sink)
{
    for (int i = 0; i < n; i++)
        if (q[i] != sink)
            emx__act_apply((size_t)s->out_c, q[i], q[i], s->act);
}

/* ---- F(2x2, 3x3) ---- */

/* V for one tile: d = the 4x4 patch at input (y0, x0), rows/columns outside are zeros */
static void emx__wino2_input(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                             int x0, float *v, size_t v_stride)
{
    const float *p[16];
    emx__wino_patch(s, in, zero, y0, x0, 4, p);
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

/* y = A^T M A (the bias is in M, see emx__wino_pack), clamped, for one tile at output
 * (y0, x0); outputs past the edge go to the sink */
static void emx__wino2_output(const emx__conv_shape *s, const float *m, size_t m_stride, float *out,
                              float *sink, int y0, int x0, const emx__minmax_params *params,
                              int tail_act)
{
    float *q[4];
    emx__wino_out_pixels(s, out, sink, y0, x0, 2, q);
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
        for (int r = 0; r < 2; r++) {
            emx_v4f y0v = emx_v4f_add(emx_v4f_add(t[r][0], t[r][1]), t[r][2]);
            emx_v4f y1v = emx_v4f_sub(emx_v4f_sub(t[r][1], t[r][2]), t[r][3]);
            emx_v4f_store(q[r * 2] + ch, emx_v4f_min(emx_v4f_max(y0v, vmin), vmax));
            emx_v4f_store(q[r * 2 + 1] + ch, emx_v4f_min(emx_v4f_max(y1v, vmin), vmax));
        }
    }
    if (tail_act)
        emx__wino_tail_act(s, q, 4, sink);
}

/* ---- F(3x3, 3x3): 5x5 patches; 6x6 maps (the last stage of the shipped nets) are 4 tiles
 * exactly, 100 GEMM rows instead of F(2x2)'s 144 in 9 tiles ---- */

/* B^T x for one column of 5: 2(x0-x2) + (x3-x1), (x3-x2) - 2x1, (x3-x2) + 2(x1-x2), x3-x1,
 * 2(x1-x3) + (x4-x2) */
#define EMX__WINO3_BT(x0, x1, x2, x3, x4, o0, o1, o2, o3, o4)                                      \
    do {                                                                                           \
        const emx_v4f f2 = emx_v4f_splat(2.0f), d32 = emx_v4f_sub(x3, x2);                         \
        o3 = emx_v4f_sub(x3, x1);                                                                  \
        o0 = emx_v4f_muladd(emx_v4f_sub(x0, x2), f2, o3);                                          \
        o1 = emx_v4f_sub(d32, emx_v4f_mul(x1, f2));                                                \
        o2 = emx_v4f_muladd(emx_v4f_sub(x1, x2), f2, d32);                                         \
        o4 = emx_v4f_muladd(emx_v4f_sub(x1, x3), f2, emx_v4f_sub(x4, x2));                         \
    } while (0)

static void emx__wino3_input(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                             int x0, float *v, size_t v_stride)
{
    const float *p[25];
    emx__wino_patch(s, in, zero, y0, x0, 5, p);
    for (int r = 0; r < 5; r++) /* d B, patch row r, into V (r, 0..4) */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            const float *const *pr = p + r * 5;
            const emx_v4f d0 = emx_v4f_load(pr[0] + ch), d1 = emx_v4f_load(pr[1] + ch);
            const emx_v4f d2 = emx_v4f_load(pr[2] + ch), d3 = emx_v4f_load(pr[3] + ch);
            const emx_v4f d4 = emx_v4f_load(pr[4] + ch);
            emx_v4f o0, o1, o2, o3, o4;
            EMX__WINO3_BT(d0, d1, d2, d3, d4, o0, o1, o2, o3, o4);
            float *o = v + (size_t)r * 5 * v_stride + ch;
            emx_v4f_store(o, o0), emx_v4f_store(o + v_stride, o1);
            emx_v4f_store(o + 2 * v_stride, o2), emx_v4f_store(o + 3 * v_stride, o3);
            emx_v4f_store(o + 4 * v_stride, o4);
        }
    for (int c = 0; c < 5; c++) /* B^T (d B), column c, in place */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            float *o = v + (size_t)c * v_stride + ch;
            const size_t r1 = 5 * v_stride;
            const emx_v4f e0 = emx_v4f_load(o), e1 = emx_v4f_load(o + r1);
            const emx_v4f e2 = emx_v4f_load(o + 2 * r1), e3 = emx_v4f_load(o + 3 * r1);
            const emx_v4f e4 = emx_v4f_load(o + 4 * r1);
            emx_v4f o0, o1, o2, o3, o4;
            EMX__WINO3_BT(e0, e1, e2, e3, e4, o0, o1, o2, o3, o4);
            emx_v4f_store(o, o0), emx_v4f_store(o + r1, o1), emx_v4f_store(o + 2 * r1, o2);
            emx_v4f_store(o + 3 * r1, o3), emx_v4f_store(o + 4 * r1, o4);
        }
}

/* A^T x for one column of 5: m0 + m1 + m2 + m3, m1 - m2 + 2m3, m1 + m2 + 4m3 + m4 */
#define EMX__WINO3_AT(x0, x1, x2, x3, x4, o0, o1, o2)                                              \
    do {                                                                                           \
        const emx_v4f s12 = emx_v4f_add(x1, x2), d12 = emx_v4f_sub(x1, x2);                        \
        o0 = emx_v4f_add(emx_v4f_add(x0, s12), x3);                                                \
        o1 = emx_v4f_muladd(x3, emx_v4f_splat(2.0f), d12);                                         \
        o2 = emx_v4f_add(emx_v4f_muladd(x3, emx_v4f_splat(4.0f), s12), x4);                        \
    } while (0)

static void emx__wino3_output(const emx__conv_shape *s, float *m, size_t m_stride, float *out,
                              float *sink, int y0, int x0, const emx__minmax_params *params,
                              int tail_act)
{
    float *q[9];
    emx__wino_out_pixels(s, out, sink, y0, x0, 3, q);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t r1 = 5 * m_stride;
    for (int c = 0; c < 5; c++) /* A^T M, column c, into M rows 0..2 */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            float *mc = m + (size_t)c * m_stride + ch;
            const emx_v4f m0 = emx_v4f_load(mc), m1 = emx_v4f_load(mc + r1);
            const emx_v4f m2 = emx_v4f_load(mc + 2 * r1), m3 = emx_v4f_load(mc + 3 * r1);
            const emx_v4f m4 = emx_v4f_load(mc + 4 * r1);
            emx_v4f o0, o1, o2;
            EMX__WINO3_AT(m0, m1, m2, m3, m4, o0, o1, o2);
            emx_v4f_store(mc, o0), emx_v4f_store(mc + r1, o1), emx_v4f_store(mc + 2 * r1, o2);
        }
    for (int r = 0; r < 3; r++) /* (A^T M) A, row r: the outputs */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            const float *mr = m + (size_t)r * r1 + ch;
            const emx_v4f t0 = emx_v4f_load(mr), t1 = emx_v4f_load(mr + m_stride);
            const emx_v4f t2 = emx_v4f_load(mr + 2 * m_stride);
            const emx_v4f t3 = emx_v4f_load(mr + 3 * m_stride);
            const emx_v4f t4 = emx_v4f_load(mr + 4 * m_stride);
            emx_v4f o0, o1, o2;
            EMX__WINO3_AT(t0, t1, t2, t3, t4, o0, o1, o2);
            emx_v4f_store(q[r * 3] + ch, emx_v4f_min(emx_v4f_max(o0, vmin), vmax));
            emx_v4f_store(q[r * 3 + 1] + ch, emx_v4f_min(emx_v4f_max(o1, vmin), vmax));
            emx_v4f_store(q[r * 3 + 2] + ch, emx_v4f_min(emx_v4f_max(o2, vmin), vmax));
        }
    if (tail_act)
        emx__wino_tail_act(s, q, 9, sink);
}

/* ---- F(4x4, 3x3) ---- */

/* B^T x for one column of 6 (the same on rows): 4x0 - 5x2 + x4, then pairs sharing terms */
#define EMX__WINO4_BT(x0, x1, x2, x3, x4, x5, o0, o1, o2, o3, o4, o5)                              \
    do {                                                                                           \
        const emx_v4f f4 = emx_v4f_splat(4.0f), f2 = emx_v4f_splat(2.0f);                          \
        const emx_v4f fm4 = emx_v4f_splat(-4.0f); /* x - 4y: one fused op in relaxed SIMD */       \
        const emx_v4f a_ = emx_v4f_muladd(x2, fm4, x4);                                            \
        const emx_v4f b_ = emx_v4f_muladd(x1, fm4, x3);                                            \
        const emx_v4f c_ = emx_v4f_sub(x4, x2), d_ = emx_v4f_mul(emx_v4f_sub(x3, x1), f2);         \
        o0 = emx_v4f_muladd(emx_v4f_sub(x0, x2), f4, c_);                                          \
        o1 = emx_v4f_add(a_, b_), o2 = emx_v4f_sub(a_, b_);                                        \
        o3 = emx_v4f_add(c_, d_), o4 = emx_v4f_sub(c_, d_);                                        \
        o5 = emx_v4f_muladd(emx_v4f_sub(x1, x3), f4, emx_v4f_sub(x5, x3));                         \
    } while (0)

static void emx__wino4_input(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                             int x0, float *v, size_t v_stride)
{
    const float *p[36];
    emx__wino_patch(s, in, zero, y0, x0, 6, p);
    for (int r = 0; r < 6; r++) /* d B, patch row r, into V (r, 0..5) */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            const float *const *pr = p + r * 6;
            const emx_v4f d0 = emx_v4f_load(pr[0] + ch), d1 = emx_v4f_load(pr[1] + ch);
            const emx_v4f d2 = emx_v4f_load(pr[2] + ch), d3 = emx_v4f_load(pr[3] + ch);
            const emx_v4f d4 = emx_v4f_load(pr[4] + ch), d5 = emx_v4f_load(pr[5] + ch);
            emx_v4f o0, o1, o2, o3, o4, o5;
            EMX__WINO4_BT(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5);
            float *o = v + (size_t)r * 6 * v_stride + ch;
            emx_v4f_store(o, o0), emx_v4f_store(o + v_stride, o1);
            emx_v4f_store(o + 2 * v_stride, o2), emx_v4f_store(o + 3 * v_stride, o3);
            emx_v4f_store(o + 4 * v_stride, o4), emx_v4f_store(o + 5 * v_stride, o5);
        }
    for (int c = 0; c < 6; c++) /* B^T (d B), column c, in place */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            float *o = v + (size_t)c * v_stride + ch;
            const size_t r1 = 6 * v_stride;
            const emx_v4f e0 = emx_v4f_load(o), e1 = emx_v4f_load(o + r1);
            const emx_v4f e2 = emx_v4f_load(o + 2 * r1), e3 = emx_v4f_load(o + 3 * r1);
            const emx_v4f e4 = emx_v4f_load(o + 4 * r1), e5 = emx_v4f_load(o + 5 * r1);
            emx_v4f o0, o1, o2, o3, o4, o5;
            EMX__WINO4_BT(e0, e1, e2, e3, e4, e5, o0, o1, o2, o3, o4, o5);
            emx_v4f_store(o, o0), emx_v4f_store(o + r1, o1), emx_v4f_store(o + 2 * r1, o2);
            emx_v4f_store(o + 3 * r1, o3), emx_v4f_store(o + 4 * r1, o4);
            emx_v4f_store(o + 5 * r1, o5);
        }
}

/* A^T x for one column of 6: m0 + (m1+m2) + (m3+m4), (m1-m2) + 2(m3-m4), (m1+m2) + 4(m3+m4),
 * (m1-m2) + 8(m3-m4) + m5 */
#define EMX__WINO4_AT(x0, x1, x2, x3, x4, x5, o0, o1, o2, o3)                                      \
    do {                                                                                           \
        const emx_v4f s12 = emx_v4f_add(x1, x2), d12 = emx_v4f_sub(x1, x2);                        \
        const emx_v4f s34 = emx_v4f_add(x3, x4), d34 = emx_v4f_sub(x3, x4);                        \
        o0 = emx_v4f_add(emx_v4f_add(x0, s12), s34);                                               \
        o1 = emx_v4f_muladd(d34, emx_v4f_splat(2.0f), d12);                                        \
        o2 = emx_v4f_muladd(s34, emx_v4f_splat(4.0f), s12);                                        \
        o3 = emx_v4f_add(emx_v4f_muladd(d34, emx_v4f_splat(8.0f), d12), x5);                       \
    } while (0)

static void emx__wino4_output(const emx__conv_shape *s, float *m, size_t m_stride, float *out,
                              float *sink, int y0, int x0, const emx__minmax_params *params,
                              int tail_act)
{
    float *q[16];
    emx__wino_out_pixels(s, out, sink, y0, x0, 4, q);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t r1 = 6 * m_stride;
    for (int c = 0; c < 6; c++) /* A^T M, column c, into M rows 0..3 */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            float *mc = m + (size_t)c * m_stride + ch;
            const emx_v4f m0 = emx_v4f_load(mc), m1 = emx_v4f_load(mc + r1);
            const emx_v4f m2 = emx_v4f_load(mc + 2 * r1), m3 = emx_v4f_load(mc + 3 * r1);
            const emx_v4f m4 = emx_v4f_load(mc + 4 * r1), m5 = emx_v4f_load(mc + 5 * r1);
            emx_v4f o0, o1, o2, o3;
            EMX__WINO4_AT(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3);
            emx_v4f_store(mc, o0), emx_v4f_store(mc + r1, o1);
            emx_v4f_store(mc + 2 * r1, o2), emx_v4f_store(mc + 3 * r1, o3);
        }
    for (int r = 0; r < 4; r++) /* (A^T M) A, row r: the outputs */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            const float *mr = m + (size_t)r * r1 + ch;
            const emx_v4f t0 = emx_v4f_load(mr), t1 = emx_v4f_load(mr + m_stride);
            const emx_v4f t2 = emx_v4f_load(mr + 2 * m_stride);
            const emx_v4f t3 = emx_v4f_load(mr + 3 * m_stride);
            const emx_v4f t4 = emx_v4f_load(mr + 4 * m_stride);
            const emx_v4f t5 = emx_v4f_load(mr + 5 * m_stride);
            emx_v4f o0, o1, o2, o3;
            EMX__WINO4_AT(t0, t1, t2, t3, t4, t5, o0, o1, o2, o3);
            emx_v4f_store(q[r * 4] + ch, emx_v4f_min(emx_v4f_max(o0, vmin), vmax));
            emx_v4f_store(q[r * 4 + 1] + ch, emx_v4f_min(emx_v4f_max(o1, vmin), vmax));
            emx_v4f_store(q[r * 4 + 2] + ch, emx_v4f_min(emx_v4f_max(o2, vmin), vmax));
            emx_v4f_store(q[r * 4 + 3] + ch, emx_v4f_min(emx_v4f_max(o3, vmin), vmax));
        }
    if (tail_act)
        emx__wino_tail_act(s, q, 16, sink);
}

/* ---- F(6x6, 3x3): 8x8 patches, 64 GEMM rows per 36 outputs (F(4x4): 81 per 36) ---- */

/* B^T x for one line of 8:
 *   x0 - x6 + 21/4 (x4 - x2),  x7 - x1 + 21/4 (x3 - x5),
 *   (x2 + x6 - 17/4 x4) +- (x1 + x5 - 17/4 x3),
 *   (x6 + x2/4 - 5/4 x4) +- (x1/2 - 5/2 x3 + 2 x5),
 *   (x6 + 4 x2 - 5 x4) +- (2 x1 - 5/2 x3 + x5/2) */
#define EMX__WINO6_BT(x0, x1, x2, x3, x4, x5, x6, x7, o0, o1, o2, o3, o4, o5, o6, o7)              \
    do {                                                                                           \
        const emx_v4f k21_4 = emx_v4f_splat(5.25f), km17_4 = emx_v4f_splat(-4.25f);                \
        const emx_v4f km5_2 = emx_v4f_splat(-2.5f), km5_4 = emx_v4f_splat(-1.25f);                 \
        const emx_v4f k1_2 = emx_v4f_splat(0.5f), k1_4 = emx_v4f_splat(0.25f);                     \
        const emx_v4f k2 = emx_v4f_splat(2.0f), k4 = emx_v4f_splat(4.0f);                          \
        const emx_v4f km5 = emx_v4f_splat(-5.0f);                                                  \
        o0 = emx_v4f_muladd(emx_v4f_sub(x4, x2), k21_4, emx_v4f_sub(x0, x6));                      \
        o7 = emx_v4f_muladd(emx_v4f_sub(x3, x5), k21_4, emx_v4f_sub(x7, x1));                      \
        const emx_v4f e12 = emx_v4f_muladd(x4, km17_4, emx_v4f_add(x2, x6));                       \
        const emx_v4f f12 = emx_v4f_muladd(x3, km17_4, emx_v4f_add(x1, x5));                       \
        o1 = emx_v4f_add(e12, f12), o2 = emx_v4f_sub(e12, f12);                                    \
        const emx_v4f e34 = emx_v4f_muladd(x2, k1_4, emx_v4f_muladd(x4, km5_4, x6));               \
        const emx_v4f f34 =                                                                        \
            emx_v4f_muladd(x1, k1_2, emx_v4f_muladd(x3, km5_2, emx_v4f_mul(x5, k2)));              \
        o3 = emx_v4f_add(e34, f34), o4 = emx_v4f_sub(e34, f34);                                    \
        const emx_v4f e56 = emx_v4f_muladd(x2, k4, emx_v4f_muladd(x4, km5, x6));                   \
        const emx_v4f f56 =                                                                        \
            emx_v4f_muladd(x1, k2, emx_v4f_muladd(x3, km5_2, emx_v4f_mul(x5, k1_2)));              \
        o5 = emx_v4f_add(e56, f56), o6 = emx_v4f_sub(e56, f56);                                    \
    } while (0)

static void emx__wino6_input(const emx__conv_shape *s, const float *in, const float *zero, int y0,
                             int x0, float *v, size_t v_stride)
{
    const float *p[64];
    emx__wino_patch(s, in, zero, y0, x0, 8, p);
    for (int r = 0; r < 8; r++) /* d B, patch row r, into V (r, 0..7) */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            const float *const *pr = p + r * 8;
            const emx_v4f d0 = emx_v4f_load(pr[0] + ch), d1 = emx_v4f_load(pr[1] + ch);
            const emx_v4f d2 = emx_v4f_load(pr[2] + ch), d3 = emx_v4f_load(pr[3] + ch);
            const emx_v4f d4 = emx_v4f_load(pr[4] + ch), d5 = emx_v4f_load(pr[5] + ch);
            const emx_v4f d6 = emx_v4f_load(pr[6] + ch), d7 = emx_v4f_load(pr[7] + ch);
            emx_v4f o0, o1, o2, o3, o4, o5, o6, o7;
            EMX__WINO6_BT(d0, d1, d2, d3, d4, d5, d6, d7, o0, o1, o2, o3, o4, o5, o6, o7);
            float *o = v + (size_t)r * 8 * v_stride + ch;
            emx_v4f_store(o, o0), emx_v4f_store(o + v_stride, o1);
            emx_v4f_store(o + 2 * v_stride, o2), emx_v4f_store(o + 3 * v_stride, o3);
            emx_v4f_store(o + 4 * v_stride, o4), emx_v4f_store(o + 5 * v_stride, o5);
            emx_v4f_store(o + 6 * v_stride, o6), emx_v4f_store(o + 7 * v_stride, o7);
        }
    for (int c = 0; c < 8; c++) /* B^T (d B), column c, in place */
        for (int ch = 0; ch < s->in_c; ch += 4) {
            float *o = v + (size_t)c * v_stride + ch;
            const size_t r1 = 8 * v_stride;
            const emx_v4f e0 = emx_v4f_load(o), e1 = emx_v4f_load(o + r1);
            const emx_v4f e2 = emx_v4f_load(o + 2 * r1), e3 = emx_v4f_load(o + 3 * r1);
            const emx_v4f e4 = emx_v4f_load(o + 4 * r1), e5 = emx_v4f_load(o + 5 * r1);
            const emx_v4f e6 = emx_v4f_load(o + 6 * r1), e7 = emx_v4f_load(o + 7 * r1);
            emx_v4f o0, o1, o2, o3, o4, o5, o6, o7;
            EMX__WINO6_BT(e0, e1, e2, e3, e4, e5, e6, e7, o0, o1, o2, o3, o4, o5, o6, o7);
            emx_v4f_store(o, o0), emx_v4f_store(o + r1, o1), emx_v4f_store(o + 2 * r1, o2);
            emx_v4f_store(o + 3 * r1, o3), emx_v4f_store(o + 4 * r1, o4);
            emx_v4f_store(o + 5 * r1, o5), emx_v4f_store(o + 6 * r1, o6);
            emx_v4f_store(o + 7 * r1, o7);
        }
}

/* A^T x for one line of 8: with s_ij = xi + xj, d_ij = xi - xj,
 *   x0 + s12 + s34 + s56,  d12 + 2 d34 + d56/2,  s12 + 4 s34 + s56/4,  d12 + 8 d34 + d56/8,
 *   s12 + 16 s34 + s56/16,  d12 + 32 d34 + d56/32 + x7 */
#define EMX__WINO6_AT(x0, x1, x2, x3, x4, x5, x6, x7, o0, o1, o2, o3, o4, o5)                      \
    do {                                                                                           \
        const emx_v4f s12 = emx_v4f_add(x1, x2), d12 = emx_v4f_sub(x1, x2);                        \
        const emx_v4f s34 = emx_v4f_add(x3, x4), d34 = emx_v4f_sub(x3, x4);                        \
        const emx_v4f s56 = emx_v4f_add(x5, x6), d56 = emx_v4f_sub(x5, x6);                        \
        o0 = emx_v4f_add(emx_v4f_add(x0, s12), emx_v4f_add(s34, s56));                             \
        o1 = emx_v4f_muladd(d56, emx_v4f_splat(0.5f),                                              \
                            emx_v4f_muladd(d34, emx_v4f_splat(2.0f), d12));                        \
        o2 = emx_v4f_muladd(s56, emx_v4f_splat(0.25f),                                             \
                            emx_v4f_muladd(s34, emx_v4f_splat(4.0f), s12));                        \
        o3 = emx_v4f_muladd(d56, emx_v4f_splat(0.125f),                                            \
                            emx_v4f_muladd(d34, emx_v4f_splat(8.0f), d12));                        \
        o4 = emx_v4f_muladd(s56, emx_v4f_splat(0.0625f),                                           \
                            emx_v4f_muladd(s34, emx_v4f_splat(16.0f), s12));                       \
        o5 = emx_v4f_add(emx_v4f_muladd(d56, emx_v4f_splat(0.03125f),                              \
                                        emx_v4f_muladd(d34, emx_v4f_splat(32.0f), d12)),           \
                         x7);                                                                      \
    } while (0)

/* A^T M for one tile, each column c in place into M rows 0..5 */
static void emx__wino6_columns(const emx__conv_shape *s, float *m, size_t m_stride)
{
    const size_t r1 = 8 * m_stride;
    for (int c = 0; c < 8; c++) /* A^T M, column c, into M rows 0..5 */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            float *mc = m + (size_t)c * m_stride + ch;
            const emx_v4f m0 = emx_v4f_load(mc), m1 = emx_v4f_load(mc + r1);
            const emx_v4f m2 = emx_v4f_load(mc + 2 * r1), m3 = emx_v4f_load(mc + 3 * r1);
            const emx_v4f m4 = emx_v4f_load(mc + 4 * r1), m5 = emx_v4f_load(mc + 5 * r1);
            const emx_v4f m6 = emx_v4f_load(mc + 6 * r1), m7 = emx_v4f_load(mc + 7 * r1);
            emx_v4f o0, o1, o2, o3, o4, o5;
            EMX__WINO6_AT(m0, m1, m2, m3, m4, m5, m6, m7, o0, o1, o2, o3, o4, o5);
            emx_v4f_store(mc, o0), emx_v4f_store(mc + r1, o1), emx_v4f_store(mc + 2 * r1, o2);
            emx_v4f_store(mc + 3 * r1, o3), emx_v4f_store(mc + 4 * r1, o4);
            emx_v4f_store(mc + 5 * r1, o5);
        }
}

/* (A^T M) A for one row of A^T M (its 8 values m_stride apart): the row's 6 outputs */
static inline void emx__wino6_row(const float *mr, size_t m_stride, emx_v4f *o)
{
    const emx_v4f t0 = emx_v4f_load(mr), t1 = emx_v4f_load(mr + m_stride);
    const emx_v4f t2 = emx_v4f_load(mr + 2 * m_stride);
    const emx_v4f t3 = emx_v4f_load(mr + 3 * m_stride);
    const emx_v4f t4 = emx_v4f_load(mr + 4 * m_stride);
    const emx_v4f t5 = emx_v4f_load(mr + 5 * m_stride);
    const emx_v4f t6 = emx_v4f_load(mr + 6 * m_stride);
    const emx_v4f t7 = emx_v4f_load(mr + 7 * m_stride);
    EMX__WINO6_AT(t0, t1, t2, t3, t4, t5, t6, t7, o[0], o[1], o[2], o[3], o[4], o[5]);
}

static void emx__wino6_output(const emx__conv_shape *s, float *m, size_t m_stride, float *out,
                              float *sink, int y0, int x0, const emx__minmax_params *params,
                              int tail_act)
{
    float *q[36];
    emx__wino_out_pixels(s, out, sink, y0, x0, 6, q);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t r1 = 8 * m_stride;
    emx__wino6_columns(s, m, m_stride);
    for (int r = 0; r < 6; r++) /* (A^T M) A, row r: the outputs */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            emx_v4f o[6];
            emx__wino6_row(m + (size_t)r * r1 + ch, m_stride, o);
            for (int c = 0; c < 6; c++)
                emx_v4f_store(q[r * 6 + c] + ch, emx_v4f_min(emx_v4f_max(o[c], vmin), vmax));
        }
    if (tail_act)
        emx__wino_tail_act(s, q, 36, sink);
}

/* emx__wino6_output followed by a 2x2 / 2 max pool (EmoXNetLite: three of its F(6x6) convs
 * feed one): a tile's 6x6 outputs are 3x3 whole windows (tiles start at even rows and
 * columns), so each pair of output rows is pooled as it is made and only the pooled map is
 * written, out_h / 2 x out_w / 2 (floor, as the pool: an odd last row or column is dropped).
 * The clamp runs after the max: for a clamp min(max(x, lo), hi), non-decreasing, the max of
 * the clamped values is the clamp of the max, so the results are the pool's of the clamped
 * map. Only for activations the clamp expresses (emx__wino_pool_ok). */
static void emx__wino6_output_pool(const emx__conv_shape *s, float *m, size_t m_stride, float *out,
                                   float *sink, int y0, int x0, const emx__minmax_params *params)
{
    float *q[9];
    emx__wino_map_pixels(s, s->out_h / 2, s->out_w / 2, out, sink, y0 / 2, x0 / 2, 3, q);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t r1 = 8 * m_stride;
    emx__wino6_columns(s, m, m_stride);
    for (int r = 0; r < 3; r++) /* output rows 2r, 2r + 1: the pooled row r */
        for (int ch = 0; ch < s->out_c; ch += 4) {
            emx_v4f a[6], b[6];
            emx__wino6_row(m + (size_t)(2 * r) * r1 + ch, m_stride, a);
            emx__wino6_row(m + (size_t)(2 * r + 1) * r1 + ch, m_stride, b);
            for (int c = 0; c < 3; c++) {
                const emx_v4f v = emx_v4f_max(emx_v4f_max(a[2 * c], a[2 * c + 1]),
                                              emx_v4f_max(b[2 * c], b[2 * c + 1]));
                emx_v4f_store(q[r * 3 + c] + ch, emx_v4f_min(emx_v4f_max(v, vmin), vmax));
            }
        }
}

int emx__wino_pool_ok(const emx__conv_shape *s)
{
    emx__minmax_params p;
    return emx__wino_applies(s) && emx__wino_tile(s) == 6 && !emx__minmax_for_act(s->act, &p);
}

/* n images (1 or 2: flip test-time augmentation's two views) through the same weights: their
 * tiles are numbered one image after the other and share the blocks, so each U_k is streamed
 * from memory once for both and the blocks are fuller (two 6x6 maps: 8 F(3x3) tiles in one
 * block). */
void emx__wino_conv_n(const emx__gemm_config *cfg, const emx__gemm_config *single,
                      const emx__conv_shape *s, const float *packed, int n, const float *const *ins,
                      float *const *outs, int pool, float *scratch)
{
    emx__minmax_params params, none = { -INFINITY, INFINITY };
    const int tail_act = emx__minmax_for_act(s->act, &params);
    const int mt = emx__wino_tile(s), a = mt + 2;
    const size_t in_c = (size_t)s->in_c, out_c = (size_t)s->out_c, tb = (size_t)emx__wino_tb(mt);
    const size_t aa = (size_t)(a * a), u_n = (size_t)emx__wino_u_size(s);
    const size_t vs = emx__wino_stride(tb, in_c), ms = emx__wino_stride(tb, out_c);
    float *v = scratch, *m = v + aa * vs, *zero = m + aa * ms, *sink = zero + in_c;
    memset(zero, 0, in_c * sizeof(float));
    const int tiles_w = (s->out_w + mt - 1) / mt, tiles = tiles_w * ((s->out_h + mt - 1) / mt);
    const int all = tiles * n;

    for (int t0 = 0; t0 < all; t0 += (int)tb) {
        const size_t nt = (size_t)(all - t0) < tb ? (size_t)(all - t0) : tb;
        for (size_t t = 0; t < nt; t++) {
            const int img = (t0 + (int)t) / tiles, ti = (t0 + (int)t) % tiles;
            const int ty = mt * (ti / tiles_w) - 1, tx = mt * (ti % tiles_w) - 1;
            if (mt == 6)
                emx__wino6_input(s, ins[img], zero, ty, tx, v + t * in_c, vs);
            else if (mt == 4)
                emx__wino4_input(s, ins[img], zero, ty, tx, v + t * in_c, vs);
            else if (mt == 3)
                emx__wino3_input(s, ins[img], zero, ty, tx, v + t * in_c, vs);
            else
                emx__wino2_input(s, ins[img], zero, ty, tx, v + t * in_c, vs);
        }
        if (cfg->gemm == emx__f32_gemm_minmax_ukernel_4x8__simd)
            emx__f32_wino_gemm_4x8__simd(aa, nt, out_c, in_c, v, vs, packed, u_n, m, ms);
        else /* the other listed kernels, which the tests run this route through */
            for (size_t k = 0; k < aa; k++)
                for (size_t r0 = 0; r0 < nt; r0 += (size_t)cfg->mr) {
                    const size_t mr = nt - r0 < (size_t)cfg->mr ? nt - r0 : (size_t)cfg->mr;
                    const emx__gemm_config *g = mr == 1 ? single : cfg;
                    g->gemm(mr, out_c, in_c, v + k * vs + r0 * in_c, in_c, packed + k * u_n,
                            m + k * ms + r0 * out_c, out_c, &none);
                }
        for (size_t t = 0; t < nt; t++) {
            const int img = (t0 + (int)t) / tiles, ti = (t0 + (int)t) % tiles;
            const int ty = mt * (ti / tiles_w), tx = mt * (ti % tiles_w);
            if (pool) /* emx__wino_pool_ok: mt == 6 */
                emx__wino6_output_pool(s, m + t * out_c, ms, outs[img], sink, ty, tx, &params);
            else if (mt == 6)
                emx__wino6_output(s, m + t * out_c, ms, outs[img], sink, ty, tx, &params, tail_act);
            else if (mt == 4)
                emx__wino4_output(s, m + t * out_c, ms, outs[img], sink, ty, tx, &params, tail_act);
            else if (mt == 3)
                emx__wino3_output(s, m + t * out_c, ms, outs[img], sink, ty, tx, &params, tail_act);
            else
                emx__wino2_output(s, m + t * out_c, ms, outs[img], sink, ty, tx, &params, tail_act);
        }
    }
}

void emx__wino_conv(const emx__gemm_config *cfg, const emx__gemm_config *single,
                    const emx__conv_shape *s, const float *packed, const float *in, float *out,
                    float *scratch)
{
    emx__wino_conv_n(cfg, single, s, packed, 1, &in, &out, 0, scratch);
}
