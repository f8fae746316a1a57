/* f32-pool.c - max / average / global average pooling, vectorised over channels (NHWC keeps
 * them contiguous). Window bounds are clipped once per output pixel, so padding costs
 * nothing inside the loops: max pooling's -inf padding never wins, so skipping it is exact. */
#include "kernels.h"
#include "simd/simd.h"

#include <math.h>

/* clip the window [start, start + k) to [0, n) */
static inline void emx__clip(int start, int k, int n, int *lo, int *hi)
{
    *lo = start < 0 ? 0 : start;
    *hi = start + k > n ? n : start + k;
}

/* 2x2 windows inside the input (the 2x2/2 pools of the shipped nets and BlazeFace): four row
 * pointers, 16 channels per iteration, no clipping; returns 0 when the shape is not one. */
static int emx__maxpool2x2(const emx__pool_shape *s, const float *in, float *out)
{
    if (s->kh != 2 || s->kw != 2 || s->pad_top != 0 || s->pad_left != 0 ||
        (s->out_h - 1) * s->stride_h + 2 > s->in_h || (s->out_w - 1) * s->stride_w + 2 > s->in_w)
        return 0;
    const size_t c = (size_t)s->c, row = (size_t)s->in_w * c, step = (size_t)s->stride_w * c;
    for (int oy = 0; oy < s->out_h; oy++) {
        const float *r0 = in + (size_t)oy * s->stride_h * row, *r1 = r0 + row;
        float *o = out + (size_t)oy * s->out_w * c;
        for (int ox = 0; ox < s->out_w; ox++, r0 += step, r1 += step, o += c) {
            size_t ch = 0;
            for (; ch + 16 <= c; ch += 16)
                for (size_t k = ch; k < ch + 16; k += 4) {
                    const emx_v4f a = emx_v4f_max(emx_v4f_load(r0 + k), emx_v4f_load(r0 + c + k));
                    const emx_v4f b = emx_v4f_max(emx_v4f_load(r1 + k), emx_v4f_load(r1 + c + k));
                    emx_v4f_store(o + k, emx_v4f_max(a, b));
                }
            for (; ch + 4 <= c; ch += 4) {
                const emx_v4f a = emx_v4f_max(emx_v4f_load(r0 + ch), emx_v4f_load(r0 + c + ch));
                const emx_v4f b = emx_v4f_max(emx_v4f_load(r1 + ch), emx_v4f_load(r1 + c + ch));
                emx_v4f_store(o + ch, emx_v4f_max(a, b));
            }
            for (; ch < c; ch++) {
                const float a = r0[ch] > r0[c + ch] ? r0[ch] : r0[c + ch];
                const float b = r1[ch] > r1[c + ch] ? r1[ch] : r1[c + ch];
                o[ch] = a > b ? a : b;
            }
        }
    }
    return 1;
}

void emx__maxpool2d(const emx__pool_shape *s, const float *in, float *out)
{
    const int c = s->c;
    if (emx__maxpool2x2(s, in, out))
        return;
    for (int oy = 0; oy < s->out_h; oy++) {
        int y0, y1;
        emx__clip(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
        for (int ox = 0; ox < s->out_w; ox++) {
            int x0, x1;
            emx__clip(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
            float *o = out + ((size_t)oy * s->out_w + ox) * c;
            int ch = 0;
            for (; ch + 4 <= c; ch += 4) {
                emx_v4f vm = emx_v4f_splat(-INFINITY);
                for (int y = y0; y < y1; y++) {
                    const float *row = in + (size_t)y * s->in_w * c + ch;
                    for (int x = x0; x < x1; x++)
                        vm = emx_v4f_max(vm, emx_v4f_load(row + (size_t)x * c));
                }
                emx_v4f_store(o + ch, vm);
            }
            for (; ch < c; ch++) {
                float m = -INFINITY;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) {
                        const float v = in[((size_t)y * s->in_w + x) * c + ch];
                        m = v > m ? v : m;
                    }
                o[ch] = m;
            }
        }
    }
}

/* Divisor as in emx__avgpool2d_ref: kh*kw with count_include_pad, else the in-bounds count. */
void emx__avgpool2d(const emx__pool_shape *s, const float *in, float *out)
{
    const int c = s->c;
    for (int oy = 0; oy < s->out_h; oy++) {
        int y0, y1;
        emx__clip(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
        for (int ox = 0; ox < s->out_w; ox++) {
            int x0, x1;
            emx__clip(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
            const int n = (y1 > y0 && x1 > x0) ? (y1 - y0) * (x1 - x0) : 0;
            const int div = s->count_include_pad ? s->kh * s->kw : n;
            const float scale = div > 0 ? 1.0f / (float)div : 0.0f;
            const emx_v4f vscale = emx_v4f_splat(scale);
            float *o = out + ((size_t)oy * s->out_w + ox) * c;
            int ch = 0;
            for (; ch + 4 <= c; ch += 4) {
                emx_v4f vs = emx_v4f_zero();
                for (int y = y0; y < y1; y++) {
                    const float *row = in + (size_t)y * s->in_w * c + ch;
                    for (int x = x0; x < x1; x++)
                        vs = emx_v4f_add(vs, emx_v4f_load(row + (size_t)x * c));
                }
                emx_v4f_store(o + ch, emx_v4f_mul(vs, vscale));
            }
            for (; ch < c; ch++) {
                float sum = 0.0f;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        sum += in[((size_t)y * s->in_w + x) * c + ch];
                o[ch] = sum * scale;
            }
        }
    }
}

/* Blocks of 16 channels (4 accumulators) walk the pixels once per block; the pixel stride
 * is c floats, so every block touches each pixel's cache line once. */
void emx__global_avgpool(int hw, int c, const float *in, float *out)
{
    const float scale = hw > 0 ? 1.0f / (float)hw : 0.0f;
    const emx_v4f vscale = emx_v4f_splat(scale);
    int ch = 0;
    for (; ch + 16 <= c; ch += 16) {
        emx_v4f v0 = emx_v4f_zero(), v1 = v0, v2 = v0, v3 = v0;
        for (int p = 0; p < hw; p++) {
            const float *px = in + (size_t)p * c + ch;
            v0 = emx_v4f_add(v0, emx_v4f_load(px));
            v1 = emx_v4f_add(v1, emx_v4f_load(px + 4));
            v2 = emx_v4f_add(v2, emx_v4f_load(px + 8));
            v3 = emx_v4f_add(v3, emx_v4f_load(px + 12));
        }
        emx_v4f_store(out + ch, emx_v4f_mul(v0, vscale));
        emx_v4f_store(out + ch + 4, emx_v4f_mul(v1, vscale));
        emx_v4f_store(out + ch + 8, emx_v4f_mul(v2, vscale));
        emx_v4f_store(out + ch + 12, emx_v4f_mul(v3, vscale));
    }
    for (; ch + 4 <= c; ch += 4) {
        emx_v4f v0 = emx_v4f_zero();
        for (int p = 0; p < hw; p++)
            v0 = emx_v4f_add(v0, emx_v4f_load(in + (size_t)p * c + ch));
        emx_v4f_store(out + ch, emx_v4f_mul(v0, vscale));
    }
    for (; ch < c; ch++) {
        float sum = 0.0f;
        for (int p = 0; p < hw; p++)
            sum += in[(size_t)p * c + ch];
        out[ch] = sum * scale;
    }
}
