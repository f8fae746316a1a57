/* f32-dwconv-minmax.c - depthwise convolution (groups == in_c == out_c), channels vectorised
 * in blocks of 4 (packing: kernels.h). No GEMM here: each output channel reads one input
 * channel, so there is no reuse across channels to block for; the work is loads +
 * multiply-adds per tap, and what decides the speed is how few loads and how little control
 * flow surround them.
 *
 * 3x3 with dilation 1 (every depthwise layer of BlazeFace and MobileNets), as XNNPACK's
 * dwconv micro-kernels do it:
 *   - rows: each output row gets its 3 input row pointers up front; a row outside the input
 *     points at a row of zeros (scratch), so the top and bottom borders run the same
 *     unrolled code as the interior, with no bounds check per pixel;
 *   - columns: outputs whose 3 columns are inside the input run in an unrolled loop, two
 *     pixels per iteration (stride 1: 12 loads for 18 multiply-adds, the neighbours share 2 of
 *     their 3 columns; stride 2: 15 loads, they share 1); the at most one or two pixels per
 *     row and side whose window crosses the left/right edge read a zero pixel for the missing
 *     columns (9 precomputed pointers, same unrolled taps);
 *   - the block's 9 tap vectors and bias stay in registers along the whole row.
 * Channel counts that are not a multiple of 4 (BlazeFace has 42) end with one more block
 * over the last 4 channels, overlapping the previous one: it recomputes up to 3 channels
 * with identical results instead of running a scalar tail. Fewer than 4 channels, other kernel
 * sizes and dilated kernels take the bounds-checked generic path. */
#include "kernels.h"
#include "simd/simd.h"

#include <string.h>

/* Blocks: c / 4 full ones, then (c % 4 != 0) one over channels [max(c - 4, 0), c). */
static int emx__dw_blocks(int c)
{
    return (c + EMX_DW_CB - 1) / EMX_DW_CB;
}

/* first channel of block b */
static int emx__dw_block_start(int c, int b)
{
    const int start = b * EMX_DW_CB;
    if (start + EMX_DW_CB <= c)
        return start;
    return c >= EMX_DW_CB ? c - EMX_DW_CB : 0;
}

uint64_t emx__dwconv_packed_size(const emx__conv_shape *s)
{
    return (uint64_t)emx__dw_blocks(s->out_c) * EMX_DW_CB * (1 + (uint64_t)s->kh * (uint64_t)s->kw);
}

uint64_t emx__dwconv_scratch_size(const emx__conv_shape *s)
{
    return (uint64_t)s->in_w * (uint64_t)s->in_c + EMX_DW_CB; /* the zero row */
}

void emx__dwconv_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed)
{
    const int taps = s->kh * s->kw;
    const int blocks = emx__dw_blocks(s->out_c);
    for (int b = 0; b < blocks; b++) {
        float *pb = packed + (size_t)b * EMX_DW_CB * (1 + taps);
        const int start = emx__dw_block_start(s->out_c, b);
        for (int l = 0; l < EMX_DW_CB; l++) {
            const int ch = start + l;
            const int ok = ch < s->out_c;
            pb[l] = ok && bias ? bias[ch] : 0.0f;
            /* PyTorch weight [C][1][kh][kw]: tap t of channel ch is weight[ch * taps + t] */
            for (int t = 0; t < taps; t++)
                pb[(size_t)(1 + t) * EMX_DW_CB + l] = ok ? weight[(size_t)ch * taps + t] : 0.0f;
        }
    }
}

static inline emx_v4f emx__dw_clamp(emx_v4f v, emx_v4f vmin, emx_v4f vmax)
{
    return emx_v4f_min(emx_v4f_max(v, vmin), vmax);
}

/* one block of 4 channels at one output pixel, any kernel, bounds-checked */
static inline emx_v4f emx__dw_block_generic(const emx__conv_shape *s, const float *wb,
                                            const float *in, int iy0, int ix0, int ch)
{
    emx_v4f vacc = emx_v4f_load(wb);
    for (int ky = 0; ky < s->kh; ky++) {
        const int iy = iy0 + ky * s->dil_h;
        if (iy < 0 || iy >= s->in_h)
            continue;
        for (int kx = 0; kx < s->kw; kx++) {
            const int ix = ix0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w)
                continue;
            const float *px = in + ((size_t)iy * s->in_w + ix) * s->in_c + ch;
            vacc = emx_v4f_muladd(emx_v4f_load(px),
                                  emx_v4f_load(wb + (1 + ky * s->kw + kx) * EMX_DW_CB), vacc);
        }
    }
    return vacc;
}

static inline float emx__dw_scalar(const emx__conv_shape *s, const float *wb, const float *in,
                                   int iy0, int ix0, int ch, int lane)
{
    float acc = wb[lane];
    for (int ky = 0; ky < s->kh; ky++) {
        const int iy = iy0 + ky * s->dil_h;
        if (iy < 0 || iy >= s->in_h)
            continue;
        for (int kx = 0; kx < s->kw; kx++) {
            const int ix = ix0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w)
                continue;
            acc += in[((size_t)iy * s->in_w + ix) * s->in_c + ch] *
                   wb[(1 + ky * s->kw + kx) * EMX_DW_CB + lane];
        }
    }
    return acc;
}

/* Any kernel: bounds-checked per tap. Fewer than 4 channels run lane by lane. */
static void emx__dw_generic(const emx__conv_shape *s, const float *packed, const float *in,
                            float *out, const emx__minmax_params *params)
{
    const int c = s->in_c, taps = s->kh * s->kw, blocks = emx__dw_blocks(c);
    const size_t block_stride = (size_t)EMX_DW_CB * (1 + taps);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    for (int oy = 0; oy < s->out_h; oy++) {
        const int iy0 = oy * s->stride_h - s->pad_top;
        float *orow = out + (size_t)oy * s->out_w * c;
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * block_stride;
            const int ch = emx__dw_block_start(c, b);
            for (int ox = 0; ox < s->out_w; ox++) {
                const int ix0 = ox * s->stride_w - s->pad_left;
                if (c >= EMX_DW_CB) {
                    emx_v4f vacc = emx__dw_block_generic(s, wb, in, iy0, ix0, ch);
                    emx_v4f_store(orow + (size_t)ox * c + ch, emx__dw_clamp(vacc, vmin, vmax));
                    continue;
                }
                for (int l = 0; l < c; l++) {
                    float v = emx__dw_scalar(s, wb, in, iy0, ix0, l, l);
                    v = v < params->min ? params->min : v;
                    v = v > params->max ? params->max : v;
                    orow[(size_t)ox * c + l] = v;
                }
            }
        }
    }
}

/* The 9 taps of one pixel: p[ky][kx] points at the input (or a zero pixel) for this block. */
#define EMX__DW3X3_PIXEL(p0, p1, p2, o)                                                            \
    do {                                                                                           \
        emx_v4f va = emx_v4f_muladd(emx_v4f_load(p0[0]), vw0, vbias);                              \
        emx_v4f vb = emx_v4f_mul(emx_v4f_load(p0[1]), vw1);                                        \
        va = emx_v4f_muladd(emx_v4f_load(p0[2]), vw2, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p1[0]), vw3, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p1[1]), vw4, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p1[2]), vw5, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p2[0]), vw6, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p2[1]), vw7, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p2[2]), vw8, va);                                         \
        emx_v4f_store(o, emx__dw_clamp(emx_v4f_add(va, vb), vmin, vmax));                          \
    } while (0)

/* 3x3, dilation 1, c >= 4: see the top of the file. */
static void emx__dw3x3(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                       float *zero, const emx__minmax_params *params)
{
    const int c = s->in_c, blocks = emx__dw_blocks(c);
    const int sw = s->stride_w, pl = s->pad_left, in_w = s->in_w, out_w = s->out_w;
    const size_t block_stride = (size_t)EMX_DW_CB * 10;
    const size_t row_stride = (size_t)in_w * c, cs = (size_t)c;
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    memset(zero, 0, (row_stride + EMX_DW_CB) * sizeof(float));
    /* output columns [ox_lo, ox_hi) have all 3 input columns inside the input */
    int ox_lo = (pl + sw - 1) / sw, ox_hi = in_w >= 3 - pl ? (in_w - 3 + pl) / sw + 1 : 0;
    ox_hi = ox_hi > out_w ? out_w : ox_hi;
    ox_lo = ox_lo > ox_hi ? ox_hi : ox_lo;

    for (int oy = 0; oy < s->out_h; oy++) {
        const int iy0 = oy * s->stride_h - s->pad_top;
        const float *rows[3];
        for (int k = 0; k < 3; k++)
            rows[k] =
                iy0 + k >= 0 && iy0 + k < s->in_h ? in + (size_t)(iy0 + k) * row_stride : zero;
        float *orow = out + (size_t)oy * out_w * cs;
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * block_stride;
            const size_t ch = (size_t)emx__dw_block_start(c, b);
            const emx_v4f vbias = emx_v4f_load(wb);
            const emx_v4f vw0 = emx_v4f_load(wb + 4), vw1 = emx_v4f_load(wb + 8);
            const emx_v4f vw2 = emx_v4f_load(wb + 12), vw3 = emx_v4f_load(wb + 16);
            const emx_v4f vw4 = emx_v4f_load(wb + 20), vw5 = emx_v4f_load(wb + 24);
            const emx_v4f vw6 = emx_v4f_load(wb + 28), vw7 = emx_v4f_load(wb + 32);
            const emx_v4f vw8 = emx_v4f_load(wb + 36);
            const float *r0 = rows[0] + ch, *r1 = rows[1] + ch, *r2 = rows[2] + ch;
            const float *z = zero; /* a zero pixel for the columns outside */
            int ox = 0;
            /* left and right edges: missing columns read the zero pixel */
            for (int pass = 0; pass < 2; pass++) {
                const int end = pass == 0 ? ox_lo : out_w;
                if (pass == 1)
                    ox = ox_hi;
                for (; ox < end; ox++) {
                    const int ix0 = ox * sw - pl;
                    const float *p0[3], *p1[3], *p2[3];
                    for (int k = 0; k < 3; k++) {
                        const int ix = ix0 + k, inside = ix >= 0 && ix < in_w;
                        const size_t off = (size_t)(inside ? ix : 0) * cs;
                        p0[k] = inside ? r0 + off : z;
                        p1[k] = inside ? r1 + off : z;
                        p2[k] = inside ? r2 + off : z;
                    }
                    EMX__DW3X3_PIXEL(p0, p1, p2, orow + (size_t)ox * cs + ch);
                }
                if (pass == 1)
                    break;
                /* interior */
                if (sw == 1) {
                    const float *i0 = r0 + (size_t)(ox - pl) * cs,
                                *i1 = r1 + (size_t)(ox - pl) * cs;
                    const float *i2 = r2 + (size_t)(ox - pl) * cs;
                    float *o = orow + (size_t)ox * cs + ch;
                    for (; ox + 2 <= ox_hi; ox += 2) {
                        emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + cs);
                        emx_v4f x2 = emx_v4f_load(i0 + 2 * cs), x3 = emx_v4f_load(i0 + 3 * cs);
                        emx_v4f va = emx_v4f_muladd(x0, vw0, vbias);
                        emx_v4f vb = emx_v4f_muladd(x1, vw0, vbias);
                        va = emx_v4f_muladd(x1, vw1, va), vb = emx_v4f_muladd(x2, vw1, vb);
                        va = emx_v4f_muladd(x2, vw2, va), vb = emx_v4f_muladd(x3, vw2, vb);
                        x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + cs);
                        x2 = emx_v4f_load(i1 + 2 * cs), x3 = emx_v4f_load(i1 + 3 * cs);
                        va = emx_v4f_muladd(x0, vw3, va), vb = emx_v4f_muladd(x1, vw3, vb);
                        va = emx_v4f_muladd(x1, vw4, va), vb = emx_v4f_muladd(x2, vw4, vb);
                        va = emx_v4f_muladd(x2, vw5, va), vb = emx_v4f_muladd(x3, vw5, vb);
                        x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + cs);
                        x2 = emx_v4f_load(i2 + 2 * cs), x3 = emx_v4f_load(i2 + 3 * cs);
                        va = emx_v4f_muladd(x0, vw6, va), vb = emx_v4f_muladd(x1, vw6, vb);
                        va = emx_v4f_muladd(x1, vw7, va), vb = emx_v4f_muladd(x2, vw7, vb);
                        va = emx_v4f_muladd(x2, vw8, va), vb = emx_v4f_muladd(x3, vw8, vb);
                        emx_v4f_store(o, emx__dw_clamp(va, vmin, vmax));
                        emx_v4f_store(o + cs, emx__dw_clamp(vb, vmin, vmax));
                        i0 += 2 * cs, i1 += 2 * cs, i2 += 2 * cs, o += 2 * cs;
                    }
                } else if (sw == 2) {
                    const float *i0 = r0 + (size_t)(2 * ox - pl) * cs;
                    const float *i1 = r1 + (size_t)(2 * ox - pl) * cs;
                    const float *i2 = r2 + (size_t)(2 * ox - pl) * cs;
                    float *o = orow + (size_t)ox * cs + ch;
                    for (; ox + 2 <= ox_hi; ox += 2) {
                        emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + cs);
                        emx_v4f x2 = emx_v4f_load(i0 + 2 * cs);
                        emx_v4f va = emx_v4f_muladd(x0, vw0, vbias);
                        emx_v4f vb = emx_v4f_muladd(x2, vw0, vbias);
                        va = emx_v4f_muladd(x1, vw1, va), va = emx_v4f_muladd(x2, vw2, va);
                        x0 = emx_v4f_load(i0 + 3 * cs), x1 = emx_v4f_load(i0 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw1, vb), vb = emx_v4f_muladd(x1, vw2, vb);
                        x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + cs);
                        x2 = emx_v4f_load(i1 + 2 * cs);
                        va = emx_v4f_muladd(x0, vw3, va), va = emx_v4f_muladd(x1, vw4, va);
                        va = emx_v4f_muladd(x2, vw5, va), vb = emx_v4f_muladd(x2, vw3, vb);
                        x0 = emx_v4f_load(i1 + 3 * cs), x1 = emx_v4f_load(i1 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw4, vb), vb = emx_v4f_muladd(x1, vw5, vb);
                        x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + cs);
                        x2 = emx_v4f_load(i2 + 2 * cs);
                        va = emx_v4f_muladd(x0, vw6, va), va = emx_v4f_muladd(x1, vw7, va);
                        va = emx_v4f_muladd(x2, vw8, va), vb = emx_v4f_muladd(x2, vw6, vb);
                        x0 = emx_v4f_load(i2 + 3 * cs), x1 = emx_v4f_load(i2 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw7, vb), vb = emx_v4f_muladd(x1, vw8, vb);
                        emx_v4f_store(o, emx__dw_clamp(va, vmin, vmax));
                        emx_v4f_store(o + cs, emx__dw_clamp(vb, vmin, vmax));
                        i0 += 4 * cs, i1 += 4 * cs, i2 += 4 * cs, o += 2 * cs;
                    }
                }
                for (; ox < ox_hi; ox++) { /* the odd one out, and strides > 2 */
                    const size_t off = (size_t)(ox * sw - pl) * cs;
                    const float *p0[3] = { r0 + off, r0 + off + cs, r0 + off + 2 * cs };
                    const float *p1[3] = { r1 + off, r1 + off + cs, r1 + off + 2 * cs };
                    const float *p2[3] = { r2 + off, r2 + off + cs, r2 + off + 2 * cs };
                    EMX__DW3X3_PIXEL(p0, p1, p2, orow + (size_t)ox * cs + ch);
                }
            }
        }
    }
}

void emx__f32_dwconv_minmax__simd(const emx__conv_shape *s, const float *packed, const float *in,
                                  float *out, float *scratch, const emx__minmax_params *params)
{
    if (s->kh == 3 && s->kw == 3 && s->dil_h == 1 && s->dil_w == 1 && s->in_c >= EMX_DW_CB)
        emx__dw3x3(s, packed, in, out, scratch, params);
    else
        emx__dw_generic(s, packed, in, out, params);
}
