/* f32-gemm-4x8-minmax.c - 4 rows x 8 output channels, fused bias and min/max clamp.
 * Layout and register budget: see kernels.h. */
#include "kernels.h"
#include "simd/simd.h"
#include "f32-gemm-4x8-step.h"

void emx__f32_gemm_minmax_ukernel_4x8__simd(size_t mr, size_t nc, size_t kc, const float *a,
                                            size_t a_stride, const float *w, float *c,
                                            size_t cm_stride, const emx__minmax_params *params)
{
    const float *a0 = a;
    float *c0 = c;
    const float *a1 = a0 + a_stride;
    float *c1 = c0 + cm_stride;
    if (mr < 2)
        a1 = a0, c1 = c0;
    const float *a2 = a1 + a_stride;
    float *c2 = c1 + cm_stride;
    if (mr <= 2)
        a2 = a1, c2 = c1;
    const float *a3 = a2 + a_stride;
    float *c3 = c2 + cm_stride;
    if (mr != 4)
        a3 = a2, c3 = c2;

    const emx_v4f vmin = emx_v4f_splat(params->min);
    const emx_v4f vmax = emx_v4f_splat(params->max);
    do {
        emx_v4f vacc0x0123 = emx_v4f_load(w);
        emx_v4f vacc0x4567 = emx_v4f_load(w + 4);
        emx_v4f vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;
        emx_v4f vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x4567;
        emx_v4f vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x4567;
        w += 8;
        for (size_t k = 0; k < kc; k++)
            EMX__GEMM_4X8_STEP(a0 + k, a1 + k, a2 + k, a3 + k, w);
        vacc0x0123 = emx_v4f_min(emx_v4f_max(vacc0x0123, vmin), vmax);
        vacc1x0123 = emx_v4f_min(emx_v4f_max(vacc1x0123, vmin), vmax);
        vacc2x0123 = emx_v4f_min(emx_v4f_max(vacc2x0123, vmin), vmax);
        vacc3x0123 = emx_v4f_min(emx_v4f_max(vacc3x0123, vmin), vmax);
        vacc0x4567 = emx_v4f_min(emx_v4f_max(vacc0x4567, vmin), vmax);
        vacc1x4567 = emx_v4f_min(emx_v4f_max(vacc1x4567, vmin), vmax);
        vacc2x4567 = emx_v4f_min(emx_v4f_max(vacc2x4567, vmin), vmax);
        vacc3x4567 = emx_v4f_min(emx_v4f_max(vacc3x4567, vmin), vmax);

        if (nc >= 8) {
            /* highest row first: aliased rows hold the same values, row 0 is written last */
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
