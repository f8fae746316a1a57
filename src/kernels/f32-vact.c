/* f32-vact.c - activations over float arrays, vectorised (emx__activation, and the tail
 * pass of every op whose activation is not a plain clamp). */
#include "kernels.h"
#include "simd/simd.h"

#include <math.h>
#include <string.h>

int emx__minmax_for_act(emx__act act, emx__minmax_params *p)
{
    p->min = -INFINITY;
    p->max = INFINITY;
    switch (act) {
    case EMX_ACT_RELU: p->min = 0.0f; return 0;
    case EMX_ACT_RELU6: p->min = 0.0f, p->max = 6.0f; return 0;
    case EMX_ACT_NONE: return 0;
    default: return 1;
    }
}

/* exp(x) for x in [-87, 87] (callers clamp): Cephes' expf. n = round(x / ln2) comes from the
 * "magic bias" trick: adding 1.5 * 2^23 leaves n in the low mantissa bits, so 2^n is built
 * by shifting those bits into the exponent, with no float->int conversion (whose rounding
 * differs between SSE2 and SIMD128). x - n*ln2 uses ln2 split in two (Cody-Waite) so the
 * reduction is exact enough, then a degree-5 polynomial on [-ln2/2, ln2/2]. */
static inline emx_v4f emx__v4f_exp(emx_v4f x)
{
    const emx_v4f vmagic = emx_v4f_splat(12582912.0f);
    const emx_v4f vt = emx_v4f_muladd(x, emx_v4f_splat(1.44269504088896341f), vmagic);
    const emx_v4f vn = emx_v4f_sub(vt, vmagic);
    /* bits(vt) = bits(magic) + n; bits(magic) << 23 overflows away, leaving n << 23 */
    const emx_v4f vscale =
        emx_v4i_as_v4f(emx_v4i_shl(emx_v4i_add(emx_v4f_as_v4i(vt), emx_v4i_splat(127)), 23));
    emx_v4f vr = emx_v4f_muladd(vn, emx_v4f_splat(-0.693359375f), x);
    vr = emx_v4f_muladd(vn, emx_v4f_splat(2.12194440e-4f), vr);
    emx_v4f vp =
        emx_v4f_muladd(emx_v4f_splat(1.9875691500e-4f), vr, emx_v4f_splat(1.3981999507e-3f));
    vp = emx_v4f_muladd(vp, vr, emx_v4f_splat(8.3334519073e-3f));
    vp = emx_v4f_muladd(vp, vr, emx_v4f_splat(4.1665795894e-2f));
    vp = emx_v4f_muladd(vp, vr, emx_v4f_splat(1.6666665459e-1f));
    vp = emx_v4f_muladd(vp, vr, emx_v4f_splat(5.0000001201e-1f));
    vp = emx_v4f_muladd(vp, emx_v4f_mul(vr, vr), vr);
    vp = emx_v4f_add(vp, emx_v4f_splat(1.0f));
    return emx_v4f_mul(vp, vscale);
}

/* 1 + exp(-x) with -x clamped to [-87, 87]: beyond that sigmoid is 0 or 1 to float
 * precision, and the clamp keeps 2^n a normal number. */
static inline emx_v4f emx__v4f_one_plus_exp_neg(emx_v4f x)
{
    emx_v4f z = emx_v4f_sub(emx_v4f_zero(), x);
    z = emx_v4f_min(emx_v4f_max(z, emx_v4f_splat(-87.0f)), emx_v4f_splat(87.0f));
    return emx_v4f_add(emx__v4f_exp(z), emx_v4f_splat(1.0f));
}

static inline emx_v4f emx__v4f_act(emx_v4f x, emx__act act)
{
    switch (act) {
    case EMX_ACT_RELU: return emx_v4f_max(x, emx_v4f_zero());
    case EMX_ACT_RELU6: return emx_v4f_min(emx_v4f_max(x, emx_v4f_zero()), emx_v4f_splat(6.0f));
    case EMX_ACT_SILU: return emx_v4f_div(x, emx__v4f_one_plus_exp_neg(x));
    case EMX_ACT_HARDSWISH: {
        emx_v4f r = emx_v4f_add(x, emx_v4f_splat(3.0f));
        r = emx_v4f_min(emx_v4f_max(r, emx_v4f_zero()), emx_v4f_splat(6.0f));
        return emx_v4f_mul(emx_v4f_mul(x, r), emx_v4f_splat(1.0f / 6.0f));
    }
    case EMX_ACT_SIGMOID: return emx_v4f_div(emx_v4f_splat(1.0f), emx__v4f_one_plus_exp_neg(x));
    default: return x;
    }
}

/* One loop per activation (act is a compile-time constant in each instance), so the switch
 * above folds away instead of running per vector. The last n % 4 go through a padded
 * 4-float copy: the same vector code as the rest, and no read past the array. */
#define EMX__ACT_LOOP(ACT)                                                                         \
    do {                                                                                           \
        size_t i = 0;                                                                              \
        for (; i + 4 <= n; i += 4)                                                                 \
            emx_v4f_store(out + i, emx__v4f_act(emx_v4f_load(in + i), ACT));                       \
        if (i < n) {                                                                               \
            float tmp[4] = { 0.0f, 0.0f, 0.0f, 0.0f };                                             \
            memcpy(tmp, in + i, (n - i) * sizeof(float));                                          \
            emx_v4f_store(tmp, emx__v4f_act(emx_v4f_load(tmp), ACT));                              \
            memcpy(out + i, tmp, (n - i) * sizeof(float));                                         \
        }                                                                                          \
    } while (0)

void emx__act_apply(size_t n, const float *in, float *out, emx__act act)
{
    switch (act) {
    case EMX_ACT_RELU: EMX__ACT_LOOP(EMX_ACT_RELU); break;
    case EMX_ACT_RELU6: EMX__ACT_LOOP(EMX_ACT_RELU6); break;
    case EMX_ACT_SILU: EMX__ACT_LOOP(EMX_ACT_SILU); break;
    case EMX_ACT_HARDSWISH: EMX__ACT_LOOP(EMX_ACT_HARDSWISH); break;
    case EMX_ACT_SIGMOID: EMX__ACT_LOOP(EMX_ACT_SIGMOID); break;
    default:
        if (in != out)
            memmove(out, in, n * sizeof(float));
        break;
    }
}

void emx__activation(size_t n, const float *in, float *out, emx__act act)
{
    emx__act_apply(n, in, out, act);
}
