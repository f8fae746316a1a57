/* f32-igemm-4x8-minmax.c - 4 pixels x 8 output channels through an indirection buffer
 * (any kernel size, stride, dilation, padding), fused bias and min/max clamp.
 * Gathering by pointer instead of im2col: each tap's ic values are already contiguous in
 * NHWC, so the only copy im2col would make is avoided and scratch stays ks * 4 pointers. */
#include "kernels.h"
#include "simd/simd.h"
#include "f32-gemm-4x8-step.h"

void emx__f32_igemm_minmax_ukernel_4x8__simd(size_t mr, size_t nc, size_t kc, size_t ks,
                                             const float **a, const float *w, float *c,
                                             size_t cm_stride, size_t a_offset, const float *zero,
                                             const emx__minmax_params *params)
{
    float *c0 = c;
    float *c1 = c0 + cm_stride;
    if (mr < 2)
        c1 = c0;
    float *c2 = c1 + cm_stride;
    if (mr <= 2)
        c2 = c1;
    float *c3 = c2 + cm_stride;
    if (mr != 4)
        c3 = c2;

    const emx_v4f vmin = emx_v4f_splat(params->min);
    const emx_v4f vmax = emx_v4f_splat(params->max);
    do {
        emx_v4f vacc0x0123 = emx_v4f_load(w);
        emx_v4f vacc0x4567 = emx_v4f_load(w + 4);
        emx_v4f vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;
        emx_v4f vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x4567;
        emx_v4f vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x4567;
        w += 8;
        const float **ap = a;
        for (size_t p = 0; p < ks; p++, ap += 4) {
            const float *a0 = ap[0], *a1 = ap[1], *a2 = ap[2], *a3 = ap[3];
            if (a0 != zero)
                a0 += a_offset;
            if (a1 != zero)
                a1 += a_offset;
            if (a2 != zero)
                a2 += a_offset;
            if (a3 != zero)
                a3 += a_offset;
            for (size_t k = 0; k < kc; k++)
                EMX__GEMM_4X8_STEP(a0 + k, a1 + k, a2 + k, a3 + k, w);
        }
        vacc0x0123 = emx_v4f_min(emx_v4f_max(vacc0x0123, vmin), vmax);
        vacc1x0123 = emx_v4f_min(emx_v4f_max(vacc1x0123, vmin), vmax);
        vacc2x0123 = emx_v4f_min(emx_v4f_max(vacc2x0123, vmin), vmax);
        vacc3x0123 = emx_v4f_min(emx_v4f_max(vacc3x0123, vmin), vmax);
        vacc0x4567 = emx_v4f_min(emx_v4f_max(vacc0x4567, vmin), vmax);
        vacc1x4567 = emx_v4f_min(emx_v4f_max(vacc1x4567, vmin), vmax);
        vacc2x4567 = emx_v4f_min(emx_v4f_max(vacc2x4567, vmin), vmax);
        vacc3x4567 = emx_v4f_min(emx_v4f_max(vacc3x4567, vmin), vmax);

        if (nc >= 8) {
            emx_v4f_store(c3, vacc3x0123), emx_v4f_store(c3 + 4, vacc3x4567);
            emx_v4f_store(c2, vacc2x0123), emx_v4f_store(c2 + 4, vacc2x4567);
            emx_v4f_store(c1, vacc1x0123), emx_v4f_store(c1 + 4, vacc1x4567);
            emx_v4f_store(c0, vacc0x0123), emx_v4f_store(c0 + 4, vacc0x4567);
            c0 += 8, c1 += 8, c2 += 8, c3 += 8;
            nc -= 8;
        } else {
            if (nc & 4) {
                emx_v4f_store(c3, vacc3x0123);
                emx_v4f_store(c2, vacc2x0123);
                emx_v4f_store(c1, vacc1x0123);
                emx_v4f_store(c0, vacc0x0123);
                vacc3x0123 = vacc3x4567, vacc2x0123 = vacc2x4567;
                vacc1x0123 = vacc1x4567, vacc0x0123 = vacc0x4567;
                c0 += 4, c1 += 4, c2 += 4, c3 += 4;
            }
            if (nc & 2) {
                emx_v4f_store_lo2(c3, vacc3x0123);
                emx_v4f_store_lo2(c2, vacc2x0123);
                emx_v4f_store_lo2(c1, vacc1x0123);
                emx_v4f_store_lo2(c0, vacc0x0123);
                vacc3x0123 = emx_v4f_movehl(vacc3x0123), vacc2x0123 = emx_v4f_movehl(vacc2x0123);
                vacc1x0123 = emx_v4f_movehl(vacc1x0123), vacc0x0123 = emx_v4f_movehl(vacc0x0123);
                c0 += 2, c1 += 2, c2 += 2, c3 += 2;
            }
            if (nc & 1) {
                emx_v4f_store_lo1(c3, vacc3x0123);
                emx_v4f_store_lo1(c2, vacc2x0123);
                emx_v4f_store_lo1(c1, vacc1x0123);
                emx_v4f_store_lo1(c0, vacc0x0123);
            }
            nc = 0;
        }
    } while (nc != 0);
}
