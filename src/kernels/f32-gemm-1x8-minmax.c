/* f32-gemm-1x8-minmax.c - 1 row x 8 output channels: dense layers (a 1x1 conv over a 1x1
 * input, i.e. a GEMV) and single leftover rows. With one row every weight is used once, so
 * the kernel is bound by streaming weights; k is split over two accumulator sets so the
 * add latency, not the loads, is never the limit. */
#include "kernels.h"
#include "simd/simd.h"

void emx__f32_gemm_minmax_ukernel_1x8__simd(size_t mr, size_t nc, size_t kc, const float *a,
                                            size_t a_stride, const float *w, float *c,
                                            size_t cm_stride, const emx__minmax_params *params)
{
    (void)mr, (void)a_stride,
        (void)cm_stride; /* one row: the shared signature's strides are moot */
    const emx_v4f vmin = emx_v4f_splat(params->min);
    const emx_v4f vmax = emx_v4f_splat(params->max);
    /* Two panels at a time while 16 channels are left: eight accumulator chains instead of
     * four (the 4-cycle multiply-add latency, not the loads, bounds one panel; MobileNet's
     * 7x7 maps leave one row of 49 for this kernel), each channel's sum still split over
     * even and odd k as below, so the results are the one-panel loop's bit for bit. */
    const size_t panel = 8 * (1 + kc);
    for (; nc >= 16; nc -= 16) {
        const float *wbase = w, *w2 = w + panel;
        emx_v4f vacc0123 = emx_v4f_load(w), vacc4567 = emx_v4f_load(w + 4);
        emx_v4f vacc89AB = emx_v4f_load(w2), vaccCDEF = emx_v4f_load(w2 + 4);
        emx_v4f vaccb0123 = emx_v4f_zero(), vaccb4567 = emx_v4f_zero();
        emx_v4f vaccb89AB = emx_v4f_zero(), vaccbCDEF = emx_v4f_zero();
        w += 8, w2 += 8;
        size_t k = 0;
        for (; k + 2 <= kc; k += 2) {
            const emx_v4f va0 = emx_v4f_load_splat(a + k);
            vacc0123 = emx_v4f_muladd(va0, emx_v4f_load(w), vacc0123);
            vacc4567 = emx_v4f_muladd(va0, emx_v4f_load(w + 4), vacc4567);
            vacc89AB = emx_v4f_muladd(va0, emx_v4f_load(w2), vacc89AB);
            vaccCDEF = emx_v4f_muladd(va0, emx_v4f_load(w2 + 4), vaccCDEF);
            const emx_v4f va1 = emx_v4f_load_splat(a + k + 1);
            vaccb0123 = emx_v4f_muladd(va1, emx_v4f_load(w + 8), vaccb0123);
            vaccb4567 = emx_v4f_muladd(va1, emx_v4f_load(w + 12), vaccb4567);
            vaccb89AB = emx_v4f_muladd(va1, emx_v4f_load(w2 + 8), vaccb89AB);
            vaccbCDEF = emx_v4f_muladd(va1, emx_v4f_load(w2 + 12), vaccbCDEF);
            w += 16, w2 += 16;
        }
        if (k < kc) {
            const emx_v4f va0 = emx_v4f_load_splat(a + k);
            vacc0123 = emx_v4f_muladd(va0, emx_v4f_load(w), vacc0123);
            vacc4567 = emx_v4f_muladd(va0, emx_v4f_load(w + 4), vacc4567);
            vacc89AB = emx_v4f_muladd(va0, emx_v4f_load(w2), vacc89AB);
            vaccCDEF = emx_v4f_muladd(va0, emx_v4f_load(w2 + 4), vaccCDEF);
        }
        w = wbase + 2 * panel; /* past both panels */
        const emx_v4f lo = emx_v4f_splat(*(const volatile float *)&params->min);
        const emx_v4f hi = emx_v4f_splat(*(const volatile float *)&params->max);
        emx_v4f_store(c, emx_v4f_min(emx_v4f_max(emx_v4f_add(vacc0123, vaccb0123), lo), hi));
        emx_v4f_store(c + 4, emx_v4f_min(emx_v4f_max(emx_v4f_add(vacc4567, vaccb4567), lo), hi));
        emx_v4f_store(c + 8, emx_v4f_min(emx_v4f_max(emx_v4f_add(vacc89AB, vaccb89AB), lo), hi));
        emx_v4f_store(c + 12, emx_v4f_min(emx_v4f_max(emx_v4f_add(vaccCDEF, vaccbCDEF), lo), hi));
        c += 16;
    }
    if (nc == 0)
        return;
    do {
        emx_v4f vacc0123 = emx_v4f_load(w);
        emx_v4f vacc4567 = emx_v4f_load(w + 4);
        emx_v4f vaccb0123 = emx_v4f_zero(), vaccb4567 = emx_v4f_zero();
        w += 8;
        size_t k = 0;
        for (; k + 2 <= kc; k += 2) {
            const emx_v4f va0 = emx_v4f_load_splat(a + k);
            const emx_v4f va1 = emx_v4f_load_splat(a + k + 1);
            vacc0123 = emx_v4f_muladd(va0, emx_v4f_load(w), vacc0123);
            vacc4567 = emx_v4f_muladd(va0, emx_v4f_load(w + 4), vacc4567);
            vaccb0123 = emx_v4f_muladd(va1, emx_v4f_load(w + 8), vaccb0123);
            vaccb4567 = emx_v4f_muladd(va1, emx_v4f_load(w + 12), vaccb4567);
            w += 16;
        }
        if (k < kc) {
            const emx_v4f va0 = emx_v4f_load_splat(a + k);
            vacc0123 = emx_v4f_muladd(va0, emx_v4f_load(w), vacc0123);
            vacc4567 = emx_v4f_muladd(va0, emx_v4f_load(w + 4), vacc4567);
            w += 8;
        }
        vacc0123 = emx_v4f_add(vacc0123, vaccb0123);
        vacc4567 = emx_v4f_add(vacc4567, vaccb4567);
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
