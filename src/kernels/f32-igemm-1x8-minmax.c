/* f32-igemm-1x8-minmax.c - 1 pixel x 8 output channels through an indirection buffer of
 * ks pointers: the leftover pixel of a conv whose pixel count is not a multiple of MR. */
#include "kernels.h"
#include "simd/simd.h"

void emx__f32_igemm_minmax_ukernel_1x8__simd(size_t mr, size_t nc, size_t kc, size_t ks,
                                             const float **a, const float *w, float *c,
                                             size_t cm_stride, size_t a_offset, const float *zero,
                                             const emx__minmax_params *params)
{
    (void)mr, (void)cm_stride; /* one row */
    const emx_v4f vmin = emx_v4f_splat(params->min);
    const emx_v4f vmax = emx_v4f_splat(params->max);
    do {
        emx_v4f vacc0123 = emx_v4f_load(w);
        emx_v4f vacc4567 = emx_v4f_load(w + 4);
        w += 8;
        for (size_t p = 0; p < ks; p++) {
            const float *a0 = a[p];
            if (a0 != zero)
                a0 += a_offset;
            for (size_t k = 0; k < kc; k++) {
                const emx_v4f va0 = emx_v4f_load_splat(a0 + k);
                vacc0123 = emx_v4f_muladd(va0, emx_v4f_load(w), vacc0123);
                vacc4567 = emx_v4f_muladd(va0, emx_v4f_load(w + 4), vacc4567);
                w += 8;
            }
        }
        vacc0123 = emx_v4f_min(emx_v4f_max(vacc0123, vmin), vmax);
        vacc4567 = emx_v4f_min(emx_v4f_max(vacc4567, vmin), vmax);

        if (nc >= 8) {
            emx_v4f_store(c, vacc0123);
            emx_v4f_store(c + 4, vacc4567);
            c += 8;
            nc -= 8;
        } else {
            if (nc & 4) {
                emx_v4f_store(c, vacc0123);
                vacc0123 = vacc4567;
                c += 4;
            }
            if (nc & 2) {
                emx_v4f_store_lo2(c, vacc0123);
                vacc0123 = emx_v4f_movehl(vacc0123);
                c += 2;
            }
            if (nc & 1)
                emx_v4f_store_lo1(c, vacc0123);
            nc = 0;
        }
    } while (nc != 0);
}
