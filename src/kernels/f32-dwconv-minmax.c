/* f32-dwconv-minmax.c - depthwise convolution (groups == in_c == out_c), channels vectorised
 * in blocks of 4 (packing: kernels.h). No GEMM here: each output channel reads one input
 * channel, so there is no reuse to block for; the work is loads + multiply-adds per tap.
 *
 * 3x3 with dilation 1 (the common case) keeps a block's 9 tap vectors and bias in registers
 * for a whole output row and unrolls the taps for pixels whose window is inside the input.
 * Border pixels and every other kernel size take the bounds-checked generic path. Channels
 * past the last multiple of 4 go through scalar code, so nothing reads past a tensor. */
#include "kernels.h"
#include "simd/simd.h"

uint64_t emx__dwconv_packed_size(const emx__conv_shape *s)
{
    const uint64_t blocks = ((uint64_t)s->out_c + EMX_DW_CB - 1) / EMX_DW_CB;
    return blocks * EMX_DW_CB * (1 + (uint64_t)s->kh * (uint64_t)s->kw);
}

void emx__dwconv_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed)
{
    const int taps = s->kh * s->kw;
    const int blocks = (s->out_c + EMX_DW_CB - 1) / EMX_DW_CB;
    for (int b = 0; b < blocks; b++) {
        float *pb = packed + (size_t)b * EMX_DW_CB * (1 + taps);
        for (int l = 0; l < EMX_DW_CB; l++) {
            const int ch = b * EMX_DW_CB + l;
            const int ok = ch < s->out_c;
            pb[l] = ok && bias ? bias[ch] : 0.0f;
            /* PyTorch weight [C][1][kh][kw]: tap t of channel ch is weight[ch * taps + t] */
            for (int t = 0; t < taps; t++)
                pb[(size_t)(1 + t) * EMX_DW_CB + l] = ok ? weight[(size_t)ch * taps + t] : 0.0f;
        }
    }
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

void emx__f32_dwconv_minmax__simd(const emx__conv_shape *s, const float *packed, const float *in,
                                  float *out, const emx__minmax_params *params)
{
    const int c = s->in_c, taps = s->kh * s->kw;
    const size_t block_stride = (size_t)EMX_DW_CB * (1 + taps);
    const size_t row_stride = (size_t)s->in_w * c; /* floats between input rows */
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const int is3x3 = s->kh == 3 && s->kw == 3 && s->dil_h == 1 && s->dil_w == 1;
    const int cvec = c & ~(EMX_DW_CB - 1);

    for (int oy = 0; oy < s->out_h; oy++) {
        const int iy0 = oy * s->stride_h - s->pad_top;
        float *orow = out + (size_t)oy * s->out_w * c;
        const int rows_inside = iy0 >= 0 && iy0 + 2 < s->in_h;
        for (int ch = 0; ch < cvec; ch += EMX_DW_CB) {
            const float *wb = packed + (size_t)(ch / EMX_DW_CB) * block_stride;
            if (is3x3) {
                const emx_v4f vbias = emx_v4f_load(wb);
                const emx_v4f vw0 = emx_v4f_load(wb + 4), vw1 = emx_v4f_load(wb + 8);
                const emx_v4f vw2 = emx_v4f_load(wb + 12), vw3 = emx_v4f_load(wb + 16);
                const emx_v4f vw4 = emx_v4f_load(wb + 20), vw5 = emx_v4f_load(wb + 24);
                const emx_v4f vw6 = emx_v4f_load(wb + 28), vw7 = emx_v4f_load(wb + 32);
                const emx_v4f vw8 = emx_v4f_load(wb + 36);
                /* output columns [ox_lo, ox_hi) have their window inside the input */
                int ox_lo = s->out_w, ox_hi = s->out_w;
                if (rows_inside && s->in_w >= 3) {
                    ox_lo = (s->pad_left + s->stride_w - 1) / s->stride_w;
                    ox_hi = (s->in_w - 3 + s->pad_left) / s->stride_w + 1;
                    if (ox_hi > s->out_w)
                        ox_hi = s->out_w;
                    if (ox_lo > ox_hi)
                        ox_lo = ox_hi;
                }
                for (int ox = 0; ox < ox_lo; ox++) {
                    const int ix0 = ox * s->stride_w - s->pad_left;
                    emx_v4f vacc = emx__dw_block_generic(s, wb, in, iy0, ix0, ch);
                    emx_v4f_store(orow + (size_t)ox * c + ch,
                                  emx_v4f_min(emx_v4f_max(vacc, vmin), vmax));
                }
                int ox = ox_lo;
                if (s->stride_w == 1) {
                    /* two neighbouring outputs share 2 of their 3 input columns: 12 loads
                     * for 18 multiply-adds instead of 18 */
                    for (; ox + 2 <= ox_hi; ox += 2) {
                        const float *i0 =
                            in + (size_t)iy0 * row_stride + (size_t)(ox - s->pad_left) * c + ch;
                        const float *i1 = i0 + row_stride, *i2 = i1 + row_stride;
                        emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + c);
                        emx_v4f x2 = emx_v4f_load(i0 + 2 * c), x3 = emx_v4f_load(i0 + 3 * c);
                        emx_v4f va = emx_v4f_muladd(x0, vw0, vbias);
                        emx_v4f vb = emx_v4f_muladd(x1, vw0, vbias);
                        va = emx_v4f_muladd(x1, vw1, va), vb = emx_v4f_muladd(x2, vw1, vb);
                        va = emx_v4f_muladd(x2, vw2, va), vb = emx_v4f_muladd(x3, vw2, vb);
                        x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + c);
                        x2 = emx_v4f_load(i1 + 2 * c), x3 = emx_v4f_load(i1 + 3 * c);
                        va = emx_v4f_muladd(x0, vw3, va), vb = emx_v4f_muladd(x1, vw3, vb);
                        va = emx_v4f_muladd(x1, vw4, va), vb = emx_v4f_muladd(x2, vw4, vb);
                        va = emx_v4f_muladd(x2, vw5, va), vb = emx_v4f_muladd(x3, vw5, vb);
                        x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + c);
                        x2 = emx_v4f_load(i2 + 2 * c), x3 = emx_v4f_load(i2 + 3 * c);
                        va = emx_v4f_muladd(x0, vw6, va), vb = emx_v4f_muladd(x1, vw6, vb);
                        va = emx_v4f_muladd(x1, vw7, va), vb = emx_v4f_muladd(x2, vw7, vb);
                        va = emx_v4f_muladd(x2, vw8, va), vb = emx_v4f_muladd(x3, vw8, vb);
                        float *o = orow + (size_t)ox * c + ch;
                        emx_v4f_store(o, emx_v4f_min(emx_v4f_max(va, vmin), vmax));
                        emx_v4f_store(o + c, emx_v4f_min(emx_v4f_max(vb, vmin), vmax));
                    }
                }
                for (; ox < ox_hi; ox++) {
                    const int ix0 = ox * s->stride_w - s->pad_left;
                    const float *i0 = in + (size_t)iy0 * row_stride + (size_t)ix0 * c + ch;
                    const float *i1 = i0 + row_stride, *i2 = i1 + row_stride;
                    /* two partial sums halve the dependent-add chain */
                    emx_v4f va = emx_v4f_muladd(emx_v4f_load(i0), vw0, vbias);
                    emx_v4f vb = emx_v4f_mul(emx_v4f_load(i0 + c), vw1);
                    va = emx_v4f_muladd(emx_v4f_load(i0 + 2 * c), vw2, va);
                    vb = emx_v4f_muladd(emx_v4f_load(i1), vw3, vb);
                    va = emx_v4f_muladd(emx_v4f_load(i1 + c), vw4, va);
                    vb = emx_v4f_muladd(emx_v4f_load(i1 + 2 * c), vw5, vb);
                    va = emx_v4f_muladd(emx_v4f_load(i2), vw6, va);
                    vb = emx_v4f_muladd(emx_v4f_load(i2 + c), vw7, vb);
                    va = emx_v4f_muladd(emx_v4f_load(i2 + 2 * c), vw8, va);
                    const emx_v4f vacc = emx_v4f_add(va, vb);
                    emx_v4f_store(orow + (size_t)ox * c + ch,
                                  emx_v4f_min(emx_v4f_max(vacc, vmin), vmax));
                }
                for (; ox < s->out_w; ox++) {
                    const int ix0 = ox * s->stride_w - s->pad_left;
                    emx_v4f vacc = emx__dw_block_generic(s, wb, in, iy0, ix0, ch);
                    emx_v4f_store(orow + (size_t)ox * c + ch,
                                  emx_v4f_min(emx_v4f_max(vacc, vmin), vmax));
                }
            } else {
                for (int ox = 0; ox < s->out_w; ox++) {
                    const int ix0 = ox * s->stride_w - s->pad_left;
                    emx_v4f vacc = emx__dw_block_generic(s, wb, in, iy0, ix0, ch);
                    vacc = emx_v4f_min(emx_v4f_max(vacc, vmin), vmax);
                    emx_v4f_store(orow + (size_t)ox * c + ch, vacc);
                }
            }
        }
        if (cvec < c) {
            const float *wb = packed + (size_t)(cvec / EMX_DW_CB) * block_stride;
            for (int ox = 0; ox < s->out_w; ox++) {
                const int ix0 = ox * s->stride_w - s->pad_left;
                for (int ch = cvec; ch < c; ch++) {
                    float v = emx__dw_scalar(s, wb, in, iy0, ix0, ch, ch - cvec);
                    v = v < params->min ? params->min : v;
                    v = v > params->max ? params->max : v;
                    orow[(size_t)ox * c + ch] = v;
                }
            }
        }
    }
}
