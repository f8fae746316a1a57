/* f32-conv3x3-c1.c - 3x3 convolution of a one-channel (grayscale) input, e.g. EmoXNetLite's
 * first layer (48x48x1 -> 16). Through igemm such a conv has K = 9: every output pixel's 3
 * row taps of 3 floats cost pointer handling and loop overhead next to 3 multiply-adds each,
 * and it ran at ~12 GFLOP/s in wasm, 7% of a Lite pass, against 30+ for the GEMMs.
 *
 * Here each output pixel splats its 9 input values once (9 registers) and runs them through
 * every block of 4 output channels: per block the bias, 9 multiply-adds with the block's tap
 * vectors (read from L1 at fixed offsets: 9 x out_c floats) and the fused clamp. The input is
 * first copied into scratch with its zero padding, so every pixel, border or not, reads its 9
 * values the same way, with no bounds checks.
 *
 * Packing: emx__dwconv_pack's (conv2d.c packs this kind with it): per block of 4 output
 * channels, 4 biases then 9 taps of 4 weights; a [out_c][1][3][3] weight reads the same as a
 * depthwise one, and out_c % 4 == 0 leaves no partial block. Applies to 3x3, in_c == 1,
 * groups == 1, dilation 1, any stride and padding, out_c a multiple of 4 (other channel
 * counts stay on igemm). */
#include "kernels.h"
#include "simd/simd.h"

#include <string.h>

/* the kernel below steps through the packed blocks with EMX_DW_CB == 4 written out */
_Static_assert(EMX_DW_CB == 4, "f32-conv3x3-c1.c assumes blocks of 4 channels");

int emx__conv3x3_c1_applies(const emx__conv_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->in_c == 1 && s->groups == 1 && s->dil_h == 1 &&
           s->dil_w == 1 && s->out_c % 4 == 0 && s->out_c > 0;
}

/* the padded input: rows and columns every output pixel's window can reach */
static uint64_t emx__c1_padded_h(const emx__conv_shape *s)
{
    return (uint64_t)(s->out_h - 1) * (uint64_t)s->stride_h + 3;
}

static uint64_t emx__c1_padded_w(const emx__conv_shape *s)
{
    return (uint64_t)(s->out_w - 1) * (uint64_t)s->stride_w + 3;
}

uint64_t emx__conv3x3_c1_scratch_size(const emx__conv_shape *s)
{
    return emx__c1_padded_h(s) * emx__c1_padded_w(s);
}

void emx__conv3x3_c1(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                     float *scratch, const emx__minmax_params *params)
{
    const size_t ph = (size_t)emx__c1_padded_h(s), pw = (size_t)emx__c1_padded_w(s);
    /* padded copy: input pixel (y, x) lands at (y + pad_top, x + pad_left); the rest is zero
     * (including rows/columns past the input that "valid" strides never read) */
    memset(scratch, 0, ph * pw * sizeof(float));
    const size_t pl = (size_t)s->pad_left; /* 0..2 (shape_infer.c), below pw >= 3 */
    const size_t n = (size_t)s->in_w < pw - pl ? (size_t)s->in_w : pw - pl;
    for (int y = 0; y < s->in_h && (size_t)(y + s->pad_top) < ph; y++)
        memcpy(scratch + (size_t)(y + s->pad_top) * pw + pl, in + (size_t)y * s->in_w,
               n * sizeof(float));
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t oc = (size_t)s->out_c, sh = (size_t)s->stride_h, sw = (size_t)s->stride_w;
    for (int oy = 0; oy < s->out_h; oy++) {
        const float *r0 = scratch + (size_t)oy * sh * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        float *o = out + (size_t)oy * s->out_w * oc;
        for (int ox = 0; ox < s->out_w; ox++, r0 += sw, r1 += sw, r2 += sw) {
            const emx_v4f x0 = emx_v4f_load_splat(r0), x1 = emx_v4f_load_splat(r0 + 1);
            const emx_v4f x2 = emx_v4f_load_splat(r0 + 2), x3 = emx_v4f_load_splat(r1);
            const emx_v4f x4 = emx_v4f_load_splat(r1 + 1), x5 = emx_v4f_load_splat(r1 + 2);
            const emx_v4f x6 = emx_v4f_load_splat(r2), x7 = emx_v4f_load_splat(r2 + 1);
            const emx_v4f x8 = emx_v4f_load_splat(r2 + 2);
            const float *w = packed;
            size_t c = 0;
            /* one chain per block, bias then taps 0..8: igemm's order, so the results are bit
             * for bit those of the igemm route this replaces (classify() must not move); two
             * blocks interleaved, so the two dependent chains overlap */
#define EMX__C1_TAPS(va, w)                                                                        \
    emx_v4f va = emx_v4f_muladd(x0, emx_v4f_load((w) + 4), emx_v4f_load(w));                       \
    va = emx_v4f_muladd(x1, emx_v4f_load((w) + 8), va);                                            \
    va = emx_v4f_muladd(x2, emx_v4f_load((w) + 12), va);                                           \
    va = emx_v4f_muladd(x3, emx_v4f_load((w) + 16), va);                                           \
    va = emx_v4f_muladd(x4, emx_v4f_load((w) + 20), va);                                           \
    va = emx_v4f_muladd(x5, emx_v4f_load((w) + 24), va);                                           \
    va = emx_v4f_muladd(x6, emx_v4f_load((w) + 28), va);                                           \
    va = emx_v4f_muladd(x7, emx_v4f_load((w) + 32), va);                                           \
    va = emx_v4f_muladd(x8, emx_v4f_load((w) + 36), va)
            for (; c + 8 <= oc; c += 8, w += 80, o += 8) {
                EMX__C1_TAPS(va, w);
                EMX__C1_TAPS(vb, w + 40);
                emx_v4f_store(o, emx_v4f_min(emx_v4f_max(va, vmin), vmax));
                emx_v4f_store(o + 4, emx_v4f_min(emx_v4f_max(vb, vmin), vmax));
            }
            if (c < oc) { /* out_c % 8 == 4 */
                EMX__C1_TAPS(va, w);
                emx_v4f_store(o, emx_v4f_min(emx_v4f_max(va, vmin), vmax));
                o += 4;
            }
#undef EMX__C1_TAPS
        }
    }
}

/* ---- both flip views in one pass ----
 * Flip test-time augmentation runs this conv on the input and on its mirror (FLIP_W). With
 * stride 1 across and one column of padding each side, the mirrored view's output at column
 * W-1-x is the conv of the input's pixel x with the taps mirrored left-right: its row values
 * are this pixel's three in reverse. So one walk over the input makes both outputs: every
 * block's bias and 9 tap vectors are loaded once for two multiply-adds (one per view), and the
 * mirror is never materialised (plan.c then skips the FLIP_W when nothing else reads it).
 * Each view's chain is still bias then taps 0..8, the same operations on the same values as
 * emx__conv3x3_c1 on the mirrored image: results are bit for bit those of the two calls. */
int emx__conv3x3_c1_mirror_applies(const emx__conv_shape *s)
{
    return emx__conv3x3_c1_applies(s) && s->stride_w == 1 && s->pad_left == 1 &&
           s->out_w == s->in_w;
}

void emx__conv3x3_c1_mirror(const emx__conv_shape *s, const float *packed, const float *in,
                            float *out0, float *out1, float *scratch,
                            const emx__minmax_params *params)
{
    const size_t ph = (size_t)emx__c1_padded_h(s), pw = (size_t)emx__c1_padded_w(s);
    memset(scratch, 0, ph * pw * sizeof(float));
    for (int y = 0; y < s->in_h && (size_t)(y + s->pad_top) < ph; y++) /* pw == in_w + 2 */
        memcpy(scratch + (size_t)(y + s->pad_top) * pw + 1, in + (size_t)y * s->in_w,
               (size_t)s->in_w * sizeof(float));
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    const size_t oc = (size_t)s->out_c, sh = (size_t)s->stride_h, ow = (size_t)s->out_w;
    for (int oy = 0; oy < s->out_h; oy++) {
        const float *r0 = scratch + (size_t)oy * sh * pw;
        float *o0 = out0 + (size_t)oy * ow * oc;
        float *o1 = out1 + ((size_t)oy * ow + ow - 1) * oc; /* column W-1-x, walking left */
        for (size_t ox = 0; ox < ow; ox++, r0++, o0 += oc, o1 -= oc) {
            const float *w = packed;
            size_t c = 0;
            /* one row of taps, two blocks (a, b) of 4 channels, both views (view 1: the
             * row's values reversed) */
#define EMX__C1M_ROW(r, t)                                                                         \
    do {                                                                                           \
        const emx_v4f x0 = emx_v4f_load_splat(r), x1 = emx_v4f_load_splat((r) + 1);                \
        const emx_v4f x2 = emx_v4f_load_splat((r) + 2);                                            \
        emx_v4f wa = emx_v4f_load(w + 4 + 4 * (t)), wb = emx_v4f_load(w + 44 + 4 * (t));           \
        va = emx_v4f_muladd(x0, wa, va), vb = emx_v4f_muladd(x0, wb, vb);                          \
        ma = emx_v4f_muladd(x2, wa, ma), mb = emx_v4f_muladd(x2, wb, mb);                          \
        wa = emx_v4f_load(w + 8 + 4 * (t)), wb = emx_v4f_load(w + 48 + 4 * (t));                   \
        va = emx_v4f_muladd(x1, wa, va), vb = emx_v4f_muladd(x1, wb, vb);                          \
        ma = emx_v4f_muladd(x1, wa, ma), mb = emx_v4f_muladd(x1, wb, mb);                          \
        wa = emx_v4f_load(w + 12 + 4 * (t)), wb = emx_v4f_load(w + 52 + 4 * (t));                  \
        va = emx_v4f_muladd(x2, wa, va), vb = emx_v4f_muladd(x2, wb, vb);                          \
        ma = emx_v4f_muladd(x0, wa, ma), mb = emx_v4f_muladd(x0, wb, mb);                          \
    } while (0)
            for (; c + 8 <= oc; c += 8, w += 80) {
                emx_v4f va = emx_v4f_load(w), vb = emx_v4f_load(w + 40), ma = va, mb = vb;
                EMX__C1M_ROW(r0, 0);
                EMX__C1M_ROW(r0 + pw, 3);
                EMX__C1M_ROW(r0 + 2 * pw, 6);
                emx_v4f_store(o0 + c, emx_v4f_min(emx_v4f_max(va, vmin), vmax));
                emx_v4f_store(o0 + c + 4, emx_v4f_min(emx_v4f_max(vb, vmin), vmax));
                emx_v4f_store(o1 + c, emx_v4f_min(emx_v4f_max(ma, vmin), vmax));
                emx_v4f_store(o1 + c + 4, emx_v4f_min(emx_v4f_max(mb, vmin), vmax));
            }
#undef EMX__C1M_ROW
            if (c < oc) { /* out_c % 8 == 4: one block, the 9 taps in order */
                emx_v4f va = emx_v4f_load(w), ma = va;
                for (int ky = 0; ky < 3; ky++) {
                    const float *r = r0 + (size_t)ky * pw;
                    for (int kx = 0; kx < 3; kx++) {
                        const emx_v4f wt = emx_v4f_load(w + 4 + 4 * (3 * ky + kx));
                        va = emx_v4f_muladd(emx_v4f_load_splat(r + kx), wt, va);
                        ma = emx_v4f_muladd(emx_v4f_load_splat(r + 2 - kx), wt, ma);
                    }
                }
                emx_v4f_store(o0 + c, emx_v4f_min(emx_v4f_max(va, vmin), vmax));
                emx_v4f_store(o1 + c, emx_v4f_min(emx_v4f_max(ma, vmin), vmax));
            }
        }
    }
}
