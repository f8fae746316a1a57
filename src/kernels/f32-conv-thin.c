/* f32-conv-thin.c - direct convolution of a thin input (1-4 channels: RGB first layers, e.g.
 * BlazeFace's 128x128x3 -> 64x64x24, 5x5 stride 2, 24% of its forward pass through igemm).
 *
 * Through igemm such a conv rebuilds an indirection buffer per 4 pixels and walks each row tap
 * (kw * in_c = 15 floats for BlazeFace) in a loop whose length it learns at run time. Here the
 * input is copied once into scratch with its zero padding, so pixel p's kernel row ky starts at
 * a fixed stride from pixel p - 1's, and the tap loop has a compile-time length for the shapes
 * listed below (EMX__THIN_KC): its loads become constant offsets from four row pointers.
 *
 * Rows of the padded input that are all zero (the padding, and the mid-grey bands the detector
 * letterboxes a 4:3 frame into: 32 of BlazeFace's 128 input rows) are skipped: their taps would
 * add exact zeros. The rest sums in igemm's order (bias, then k = (ky, kx, ic)), so results are
 * igemm's bit for bit but for the sign of a zero.
 *
 * Packing: the GEMM layout (emx__conv2d_pack's generic route: per panel of 8 output channels,
 * 8 biases then K = kh * kw * in_c rows of 8 weights, k = (ky, kx, ic)); within a kernel row
 * the kw * in_c weights are in the order the padded input row holds their values.
 * Applies to groups == 1, in_c <= 4, dilation 1, out_c % 8 == 0, kernels other than 1x1 and
 * the one-channel 3x3 (f32-conv3x3-c1.c), any stride and padding. */
#include "kernels.h"
#include "simd/simd.h"
#include "f32-gemm-4x8-step.h"

#include <string.h>

int emx__conv_thin_applies(const emx__conv_shape *s)
{
    return s->groups == 1 && s->in_c >= 1 && s->in_c <= 4 && s->dil_h == 1 && s->dil_w == 1 &&
           s->out_c % EMX_GEMM_NR == 0 && s->out_c > 0 && s->kh * s->kw > 1 &&
           s->kw * s->in_c <= 64 && !emx__conv3x3_c1_applies(s);
}

/* the padded input: every row and column an output pixel's window reaches */
static uint64_t emx__thin_padded_h(const emx__conv_shape *s)
{
    return (uint64_t)(s->out_h - 1) * (uint64_t)s->stride_h + (uint64_t)s->kh;
}

static uint64_t emx__thin_padded_w(const emx__conv_shape *s)
{
    return (uint64_t)(s->out_w - 1) * (uint64_t)s->stride_w + (uint64_t)s->kw;
}

/* padded rows x columns x in_c floats, then one flag per padded row (1: all zero) */
uint64_t emx__conv_thin_scratch_size(const emx__conv_shape *s)
{
    const uint64_t ph = emx__thin_padded_h(s);
    return ph * emx__thin_padded_w(s) * (uint64_t)s->in_c + ph;
}

/* Copies the input into the padded buffer and sets zero[y] = 1 for its rows that hold only
 * zeros (the padding rows, and input rows of zeros), 0 for the others. */
static void emx__thin_pad(const emx__conv_shape *s, const float *in, float *padded, float *zero)
{
    const size_t ph = (size_t)emx__thin_padded_h(s), pw = (size_t)emx__thin_padded_w(s);
    const size_t c = (size_t)s->in_c, row = pw * c;
    const size_t pl = (size_t)s->pad_left;
    /* columns [pl, pl + n) hold the input; "valid" strides may leave input columns unread
     * (pl < kw <= pw: shape_infer.c keeps padding below the kernel size) */
    const size_t n = (size_t)s->in_w < pw - pl ? (size_t)s->in_w : pw - pl;
    for (size_t y = 0; y < ph; y++) {
        float *o = padded + y * row;
        const long iy = (long)y - s->pad_top;
        if (iy < 0 || iy >= s->in_h || n == 0) {
            memset(o, 0, row * sizeof(float));
            zero[y] = 1.0f;
            continue;
        }
        const float *src = in + (size_t)iy * (size_t)s->in_w * c;
        memset(o, 0, pl * c * sizeof(float));
        memcpy(o + pl * c, src, n * c * sizeof(float));
        memset(o + (pl + n) * c, 0, (pw - pl - n) * c * sizeof(float));
        size_t i = 0; /* a row with content usually stops at its first value */
        while (i < n * c && src[i] == 0.0f)
            i++;
        zero[y] = i == n * c ? 1.0f : 0.0f;
    }
}

/* One block of 4 output pixels (rows a0..a3 of the padded input at kernel row 0, mr of them
 * real: the rest alias the last) x one panel of 8 channels (w: its biases, then K rows), the
 * kernel rows whose padded row is all zero skipped. KC: floats per kernel row, a constant in the
 * specialised copies. */
#define EMX__THIN_BLOCK(KC)                                                                        \
    do {                                                                                           \
        emx_v4f vacc0x0123 = emx_v4f_load(w), vacc0x4567 = emx_v4f_load(w + 4);                    \
        emx_v4f vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;                                  \
        emx_v4f vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x4567;                                  \
        emx_v4f vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x4567;                                  \
        for (size_t ky = 0; ky < kh; ky++) {                                                       \
            if (zrow[ky] != 0.0f)                                                                  \
                continue;                                                                          \
            const float *wk = w + 8 + 8 * ky * (KC);                                               \
            const float *r0 = a0 + ky * row, *r1 = a1 + ky * row;                                  \
            const float *r2 = a2 + ky * row, *r3 = a3 + ky * row;                                  \
            for (size_t k = 0; k < (KC); k++)                                                      \
                EMX__GEMM_4X8_STEP(r0 + k, r1 + k, r2 + k, r3 + k, wk);                            \
        }                                                                                          \
        emx_v4f_store(c3, emx_v4f_min(emx_v4f_max(vacc3x0123, vmin), vmax));                       \
        emx_v4f_store(c3 + 4, emx_v4f_min(emx_v4f_max(vacc3x4567, vmin), vmax));                   \
        emx_v4f_store(c2, emx_v4f_min(emx_v4f_max(vacc2x0123, vmin), vmax));                       \
        emx_v4f_store(c2 + 4, emx_v4f_min(emx_v4f_max(vacc2x4567, vmin), vmax));                   \
        emx_v4f_store(c1, emx_v4f_min(emx_v4f_max(vacc1x0123, vmin), vmax));                       \
        emx_v4f_store(c1 + 4, emx_v4f_min(emx_v4f_max(vacc1x4567, vmin), vmax));                   \
        emx_v4f_store(c0, emx_v4f_min(emx_v4f_max(vacc0x0123, vmin), vmax));                       \
        emx_v4f_store(c0 + 4, emx_v4f_min(emx_v4f_max(vacc0x4567, vmin), vmax));                   \
    } while (0)

void emx__conv_thin(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                    float *scratch, const emx__minmax_params *params)
{
    const size_t ph = (size_t)emx__thin_padded_h(s), pw = (size_t)emx__thin_padded_w(s);
    const size_t c = (size_t)s->in_c, row = pw * c;
    float *zero = scratch + ph * row;
    emx__thin_pad(s, in, scratch, zero);

    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t kh = (size_t)s->kh, kc = (size_t)s->kw * c, oc = (size_t)s->out_c;
    const size_t panel = 8 + kh * kc * 8; /* floats per packed panel */
    const size_t px_step = (size_t)s->stride_w * c, ow = (size_t)s->out_w;
    for (size_t oy = 0; oy < (size_t)s->out_h; oy++) {
        const float *zrow = zero + oy * (size_t)s->stride_h;
        const float *rowp = scratch + oy * (size_t)s->stride_h * row;
        float *orow = out + oy * ow * oc;
        for (size_t ox = 0; ox < ow; ox += 4) {
            const size_t mr = ow - ox < 4 ? ow - ox : 4;
            /* pixels past mr repeat the last one (same inputs, same outputs, written twice) */
            const float *a0 = rowp + ox * px_step;
            const float *a1 = mr > 1 ? a0 + px_step : a0;
            const float *a2 = mr > 2 ? a1 + px_step : a1;
            const float *a3 = mr > 3 ? a2 + px_step : a2;
            float *c0 = orow + ox * oc;
            float *c1 = mr > 1 ? c0 + oc : c0;
            float *c2 = mr > 2 ? c1 + oc : c1;
            float *c3 = mr > 3 ? c2 + oc : c2;
            const float *w = packed;
            for (size_t n = 0; n < oc; n += 8, w += panel, c0 += 8, c1 += 8, c2 += 8, c3 += 8) {
                /* kw * in_c of the shipped thin convs (BlazeFace: 5 x 3) get a constant */
                if (kc == 15)
                    EMX__THIN_BLOCK(15);
                else
                    EMX__THIN_BLOCK(kc);
            }
        }
    }
}
