/* f32-vbinary.c - elementwise ops over whole tensors: add (+ activation), per-channel
 * scale, weighted mean of several tensors. All memory-bound: one pass, vector body,
 * scalar tail. */
#include "kernels.h"
#include "simd/simd.h"

/* Blocks of 1024 floats: the activation pass re-reads a block still in L1. */
#define EMX__ADD_BLOCK 1024

void emx__add(size_t n, const float *a, const float *b, float *out, emx__act act)
{
    for (size_t start = 0; start < n; start += EMX__ADD_BLOCK) {
        const size_t len = n - start < EMX__ADD_BLOCK ? n - start : EMX__ADD_BLOCK;
        const float *pa = a + start, *pb = b + start;
        float *po = out + start;
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            const emx_v4f v0 = emx_v4f_add(emx_v4f_load(pa + i), emx_v4f_load(pb + i));
            const emx_v4f v1 = emx_v4f_add(emx_v4f_load(pa + i + 4), emx_v4f_load(pb + i + 4));
            emx_v4f_store(po + i, v0);
            emx_v4f_store(po + i + 4, v1);
        }
        for (; i < len; i++)
            po[i] = pa[i] + pb[i];
        if (act != EMX_ACT_NONE)
            emx__act_apply(len, po, po, act);
    }
}

void emx__mul_channel(int hw, int c, const float *x, const float *scale, float *out)
{
    for (int p = 0; p < hw; p++) {
        const float *px = x + (size_t)p * c;
        float *po = out + (size_t)p * c;
        int ch = 0;
        for (; ch + 4 <= c; ch += 4)
            emx_v4f_store(po + ch, emx_v4f_mul(emx_v4f_load(px + ch), emx_v4f_load(scale + ch)));
        for (; ch < c; ch++)
            po[ch] = px[ch] * scale[ch];
    }
}

/* Inputs outer within a block of 256 floats accumulated on the stack: each input streams
 * by once, and out may alias any input (written only after the block is complete). */
void emx__weighted_mean(size_t n, int n_in, const float *const *ins, const float *w, float *out)
{
    enum { BLOCK = 256 };
    float acc[BLOCK];
    for (size_t start = 0; start < n; start += BLOCK) {
        const size_t len = n - start < BLOCK ? n - start : BLOCK;
        for (size_t i = 0; i < len; i++)
            acc[i] = 0.0f;
        for (int k = 0; k < n_in; k++) {
            const float *pi = ins[k] + start;
            const emx_v4f vw = emx_v4f_splat(w[k]);
            size_t i = 0;
            for (; i + 4 <= len; i += 4)
                emx_v4f_store(acc + i,
                              emx_v4f_muladd(emx_v4f_load(pi + i), vw, emx_v4f_load(acc + i)));
            for (; i < len; i++)
                acc[i] += pi[i] * w[k];
        }
        for (size_t i = 0; i < len; i++)
            out[start + i] = acc[i];
    }
}
