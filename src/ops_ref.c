/* ops_ref.c - the reference operators: plain loops written to be obviously right, never
 * optimised. They are the oracle tests/test-ops.c checks every fast kernel against, so keep
 * them boring: one output element at a time, straight from the PyTorch definitions. */
#include "ops.h"

#include <math.h>
#include <string.h>

float emx__act_scalar(float x, emx__act act)
{
    switch (act) {
    case EMX_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case EMX_ACT_RELU6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case EMX_ACT_SILU: return x / (1.0f + expf(-x));
    case EMX_ACT_HARDSWISH: {
        float r = x + 3.0f;
        r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return x * r * (1.0f / 6.0f);
    }
    case EMX_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case EMX_ACT_NONE:
    default: return x;
    }
}

/* ---- convolution ---- */

void emx__conv2d_ref(const emx__conv_shape *s, const float *weight, const float *bias,
                     const float *in, float *out)
{
    const int icg = s->in_c / s->groups, ocg = s->out_c / s->groups;
    for (int oy = 0; oy < s->out_h; oy++)
        for (int ox = 0; ox < s->out_w; ox++)
            for (int oc = 0; oc < s->out_c; oc++) {
                const int g = oc / ocg;
                double acc = bias ? bias[oc] : 0.0;
                for (int ky = 0; ky < s->kh; ky++) {
                    const int iy = oy * s->stride_h - s->pad_top + ky * s->dil_h;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->kw; kx++) {
                        const int ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        const float *px = in + ((size_t)iy * s->in_w + ix) * s->in_c + g * icg;
                        for (int ic = 0; ic < icg; ic++)
                            acc += (double)px[ic] *
                                   weight[(((size_t)oc * icg + ic) * s->kh + ky) * s->kw + kx];
                    }
                }
                out[((size_t)oy * s->out_w + ox) * s->out_c + oc] =
                    emx__act_scalar((float)acc, s->act);
            }
}

/* ---- pooling ---- */

void emx__maxpool2d_ref(const emx__pool_shape *s, const float *in, float *out)
{
    for (int oy = 0; oy < s->out_h; oy++)
        for (int ox = 0; ox < s->out_w; ox++)
            for (int c = 0; c < s->c; c++) {
                float m = -INFINITY; /* padding is -inf: it never wins */
                for (int ky = 0; ky < s->kh; ky++) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->kw; kx++) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        const float v = in[((size_t)iy * s->in_w + ix) * s->c + c];
                        if (v > m)
                            m = v;
                    }
                }
                out[((size_t)oy * s->out_w + ox) * s->c + c] = m;
            }
}

/* count_include_pad = 1 divides by kh*kw. PyTorch divides by the part of the window inside
 * the padded input; with explicit padding (our format) every window lies inside it, because
 * out = floor((in + pad_a + pad_b - k) / stride) + 1 bounds the last window by in + pad_b.
 * The exporter therefore only emits count_include_pad = 1 where that holds (ceil_mode windows
 * that overhang the padded input must use count_include_pad = 0 or be rejected).
 * count_include_pad = 0 divides by the in-bounds elements (0 when there are none). */
void emx__avgpool2d_ref(const emx__pool_shape *s, const float *in, float *out)
{
    for (int oy = 0; oy < s->out_h; oy++)
        for (int ox = 0; ox < s->out_w; ox++)
            for (int c = 0; c < s->c; c++) {
                double sum = 0.0;
                int n = 0;
                for (int ky = 0; ky < s->kh; ky++) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->kw; kx++) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        sum += in[((size_t)iy * s->in_w + ix) * s->c + c];
                        n++;
                    }
                }
                const int div = s->count_include_pad ? s->kh * s->kw : n;
                out[((size_t)oy * s->out_w + ox) * s->c + c] = div > 0 ? (float)(sum / div) : 0.0f;
            }
}

void emx__global_avgpool_ref(int hw, int c, const float *in, float *out)
{
    for (int ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int p = 0; p < hw; p++)
            sum += in[(size_t)p * c + ch];
        out[ch] = hw > 0 ? (float)(sum / hw) : 0.0f;
    }
}

/* ---- elementwise ---- */

void emx__add_ref(size_t n, const float *a, const float *b, float *out, emx__act act)
{
    for (size_t i = 0; i < n; i++)
        out[i] = emx__act_scalar(a[i] + b[i], act);
}

void emx__activation_ref(size_t n, const float *in, float *out, emx__act act)
{
    for (size_t i = 0; i < n; i++)
        out[i] = emx__act_scalar(in[i], act);
}

void emx__mul_channel_ref(int hw, int c, const float *x, const float *scale, float *out)
{
    for (int p = 0; p < hw; p++)
        for (int ch = 0; ch < c; ch++)
            out[(size_t)p * c + ch] = x[(size_t)p * c + ch] * scale[ch];
}

void emx__pad_channels_ref(int hw, int c, int pad_before, int pad_after, const float *in,
                           float *out)
{
    const int oc = pad_before + c + pad_after;
    for (int p = 0; p < hw; p++)
        for (int ch = 0; ch < oc; ch++) {
            const int src = ch - pad_before;
            out[(size_t)p * oc + ch] = src >= 0 && src < c ? in[(size_t)p * c + src] : 0.0f;
        }
}

void emx__weighted_mean_ref(size_t n, int n_in, const float *const *ins, const float *w, float *out)
{
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (int k = 0; k < n_in; k++)
            acc += (double)w[k] * ins[k][i];
        out[i] = (float)acc;
    }
}

/* ---- data movement: a single implementation each ---- */

void emx__concat(int hw, int n_in, const float *const *ins, const int *cs, float *out)
{
    int total = 0;
    for (int k = 0; k < n_in; k++)
        total += cs[k];
    for (int p = 0; p < hw; p++) {
        float *o = out + (size_t)p * total;
        for (int k = 0; k < n_in; k++) {
            memcpy(o, ins[k] + (size_t)p * cs[k], (size_t)cs[k] * sizeof(float));
            o += cs[k];
        }
    }
}

/* A plain copy loop, not memcpy per pixel: flip TTA mirrors a 48x48x1 input, and in wasm each
 * memcpy is a call into libc's for 4 bytes (11 us for 2304 floats, 0.7% of a Lite pass). */
void emx__flip_w(int h, int w, int c, const float *in, float *out)
{
    const size_t cs = (size_t)c;
    for (int y = 0; y < h; y++) {
        const float *src = in + ((size_t)y * w + (size_t)w - 1) * cs;
        float *dst = out + (size_t)y * w * cs;
        for (int x = 0; x < w; x++, src -= cs, dst += cs)
            for (size_t k = 0; k < cs; k++)
                dst[k] = src[k];
    }
}

/* PyTorch's area_pixel_compute_source_index for align_corners=False: the source coordinate
 * of output pixel d is (d + 0.5) * in/out - 0.5, clamped below at 0 (not above: the upper
 * neighbour index is clamped instead). */
void emx__bilinear_coord(int d, int in_n, int out_n, int *i0, int *i1, float *l1)
{
    const float scale = (float)in_n / (float)out_n;
    float src = ((float)d + 0.5f) * scale - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int i = (int)src;
    if (i > in_n - 1)
        i = in_n - 1;
    *i0 = i;
    *i1 = i < in_n - 1 ? i + 1 : i;
    *l1 = src - (float)i;
}

void emx__resize_bilinear(int in_h, int in_w, int c, int out_h, int out_w, const float *in,
                          float *out)
{
    for (int oy = 0; oy < out_h; oy++) {
        int y0, y1;
        float ly1;
        emx__bilinear_coord(oy, in_h, out_h, &y0, &y1, &ly1);
        const float ly0 = 1.0f - ly1;
        for (int ox = 0; ox < out_w; ox++) {
            int x0, x1;
            float lx1;
            emx__bilinear_coord(ox, in_w, out_w, &x0, &x1, &lx1);
            const float lx0 = 1.0f - lx1;
            const float *p00 = in + ((size_t)y0 * in_w + x0) * c;
            const float *p01 = in + ((size_t)y0 * in_w + x1) * c;
            const float *p10 = in + ((size_t)y1 * in_w + x0) * c;
            const float *p11 = in + ((size_t)y1 * in_w + x1) * c;
            float *o = out + ((size_t)oy * out_w + ox) * c;
            for (int ch = 0; ch < c; ch++)
                o[ch] =
                    ly0 * (lx0 * p00[ch] + lx1 * p01[ch]) + ly1 * (lx0 * p10[ch] + lx1 * p11[ch]);
        }
    }
}

void emx__calibrate(int n, const float *in, const float *params, float *out)
{
    /* 1e-30: a probability that underflowed to 0 stays the least likely class instead of
     * becoming -inf (and NaN after the softmax). */
    for (int i = 0; i < n; i++)
        out[i] = params[0] * logf(fmaxf(in[i], 1e-30f)) + params[1 + i];
    emx__softmax(n, out, out);
}

void emx__softmax(int n, const float *in, float *out)
{
    if (n <= 0)
        return;
    float m = in[0];
    for (int i = 1; i < n; i++)
        if (in[i] > m)
            m = in[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        out[i] = expf(in[i] - m);
        sum += out[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++)
        out[i] *= inv;
}
