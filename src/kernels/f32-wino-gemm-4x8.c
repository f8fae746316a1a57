/* f32-wino-gemm-4x8.c - the a^2 GEMMs of one Winograd tile block (f32-conv3x3-winograd.c) in one
 * call: for each of `batch` transform positions b, C_b (m x nc) = A_b (m x kc) x U_b + bias_b,
 * U_b and bias_b in the GEMM micro-kernels' packed layout (kernels.h).
 * Why not the 4x8 GEMM micro-kernel: the Winograd GEMMs are short (kc = in_c, 16 to 128; 8 to
 * 16 rows) and many (36 per block), so what the general kernel does around its loop weighs:
 * an indirect call per 4 rows and a min/max clamp per 4x8 block (a clamp to +-inf here: 16
 * min/max on the FMA ports for 8 x kc multiply-adds, 12% at kc = 16). This one loops over
 * positions and rows itself and stores the accumulators as they are: 4-11% more GFLOP/s on the
 * Lite shapes in relaxed SIMD (kc 16: 31 -> 34, kc 64: 39.5 -> 41). Same inner loop, same
 * register budget as the 4x8 kernel. nc % 4 == 0 (the Winograd route's condition). A_b rows
 * are kc apart, C_b rows nc apart.
 * Rows left over after the blocks of 4: 3 run as a block of 4 with the last row aliased
 * (harmless duplicate work, as in the GEMM kernels); 1 or 2 run two panels at a time (2 x 16:
 * the same 8 accumulators), since a block of 4 would spend 4 rows' multiply-adds on them
 * (two 12x12 views, 18 tiles: blocks of 12 + 6, the 6 were 4 + 4). */
#include "kernels.h"
#include "simd/simd.h"
#include "f32-gemm-4x8-step.h"

/* rows a0.. (mr of them, 1..4; rows past mr alias the last) x one panel wp (8 columns, of which
 * nc - n are stored when fewer), into C columns n.. */
static void emx__wino_gemm_block_4x8(size_t mr, size_t kc, const float *a0, const float *wp,
                                     float *c0, size_t n, size_t nc)
{
    const float *a1 = mr < 2 ? a0 : a0 + kc;
    float *c1 = mr < 2 ? c0 : c0 + nc;
    const float *a2 = mr < 3 ? a1 : a1 + kc;
    float *c2 = mr < 3 ? c1 : c1 + nc;
    const float *a3 = mr < 4 ? a2 : a2 + kc;
    float *c3 = mr < 4 ? c2 : c2 + nc;
    emx_v4f vacc0x0123 = emx_v4f_load(wp), vacc0x4567 = emx_v4f_load(wp + 4);
    emx_v4f vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;
    emx_v4f vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x4567;
    emx_v4f vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x4567;
    wp += EMX_GEMM_NR;
    for (size_t k = 0; k < kc; k++)
        EMX__GEMM_4X8_STEP(a0 + k, a1 + k, a2 + k, a3 + k, wp);
    /* highest row first: aliased rows hold the same values, row 0 is written last */
    emx_v4f_store(c3 + n, vacc3x0123);
    emx_v4f_store(c2 + n, vacc2x0123);
    emx_v4f_store(c1 + n, vacc1x0123);
    emx_v4f_store(c0 + n, vacc0x0123);
    if (nc - n >= EMX_GEMM_NR) {
        emx_v4f_store(c3 + n + 4, vacc3x4567);
        emx_v4f_store(c2 + n + 4, vacc2x4567);
        emx_v4f_store(c1 + n + 4, vacc1x4567);
        emx_v4f_store(c0 + n + 4, vacc0x4567);
    }
}

/* rows a0.. (mr of them, 1 or 2) x the two panels wp and wp + panel (16 columns, the second
 * panel's last 4 not stored when nc - n == 12), into C columns n.. */
static void emx__wino_gemm_block_2x16(size_t mr, size_t kc, const float *a0, const float *wp,
                                      size_t panel, float *c0, size_t n, size_t nc)
{
    const float *a1 = mr < 2 ? a0 : a0 + kc;
    float *c1 = mr < 2 ? c0 : c0 + nc;
    const float *wq = wp + panel;
    emx_v4f vacc0x0123 = emx_v4f_load(wp), vacc0x4567 = emx_v4f_load(wp + 4);
    emx_v4f vacc0x89AB = emx_v4f_load(wq), vacc0xCDEF = emx_v4f_load(wq + 4);
    emx_v4f vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;
    emx_v4f vacc1x89AB = vacc0x89AB, vacc1xCDEF = vacc0xCDEF;
    wp += EMX_GEMM_NR, wq += EMX_GEMM_NR;
    for (size_t k = 0; k < kc; k++) {
        const emx_v4f va0 = emx_v4f_load_splat(a0 + k);
        const emx_v4f va1 = emx_v4f_load_splat(a1 + k);
        const emx_v4f vb0123 = emx_v4f_load(wp), vb4567 = emx_v4f_load(wp + 4);
        const emx_v4f vb89AB = emx_v4f_load(wq), vbCDEF = emx_v4f_load(wq + 4);
        wp += EMX_GEMM_NR, wq += EMX_GEMM_NR;
        vacc0x0123 = emx_v4f_muladd(va0, vb0123, vacc0x0123);
        vacc1x0123 = emx_v4f_muladd(va1, vb0123, vacc1x0123);
        vacc0x4567 = emx_v4f_muladd(va0, vb4567, vacc0x4567);
        vacc1x4567 = emx_v4f_muladd(va1, vb4567, vacc1x4567);
        vacc0x89AB = emx_v4f_muladd(va0, vb89AB, vacc0x89AB);
        vacc1x89AB = emx_v4f_muladd(va1, vb89AB, vacc1x89AB);
        vacc0xCDEF = emx_v4f_muladd(va0, vbCDEF, vacc0xCDEF);
        vacc1xCDEF = emx_v4f_muladd(va1, vbCDEF, vacc1xCDEF);
    }
    /* row 1 first: when aliased, row 0 is written last */
    emx_v4f_store(c1 + n, vacc1x0123), emx_v4f_store(c1 + n + 4, vacc1x4567);
    emx_v4f_store(c1 + n + 8, vacc1x89AB);
    if (nc - n >= 2 * EMX_GEMM_NR)
        emx_v4f_store(c1 + n + 12, vacc1xCDEF);
    emx_v4f_store(c0 + n, vacc0x0123), emx_v4f_store(c0 + n + 4, vacc0x4567);
    emx_v4f_store(c0 + n + 8, vacc0x89AB);
    if (nc - n >= 2 * EMX_GEMM_NR)
        emx_v4f_store(c0 + n + 12, vacc0xCDEF);
}

void emx__f32_wino_gemm_4x8__simd(size_t batch, size_t m, size_t nc, size_t kc, const float *a,
                                  size_t a_batch, const float *w, size_t w_batch, float *c,
                                  size_t c_batch)
{
    const size_t panel = EMX_GEMM_NR * (1 + kc), full = m / 4 * 4, rest = m - full;
    for (size_t b = 0; b < batch; b++, a += a_batch, w += w_batch, c += c_batch) {
        /* panels outside, rows inside: a panel (kc x 8 weights, 4 KB at kc = 128) stays in L1
         * for every row block, so U_b is streamed from L2/L3 once per block, not once per
         * 4 rows (the 6x6 layers' U are 0.8 and 1.6 MB, past L2 with the rest of the net) */
        for (size_t n = 0; n < nc; n += EMX_GEMM_NR) {
            const float *wp = w + n / EMX_GEMM_NR * panel;
            for (size_t r0 = 0; r0 < full; r0 += 4)
                emx__wino_gemm_block_4x8(4, kc, a + r0 * kc, wp, c + r0 * nc, n, nc);
            if (rest == 3)
                emx__wino_gemm_block_4x8(3, kc, a + full * kc, wp, c + full * nc, n, nc);
        }
        if (rest == 0 || rest == 3)
            continue;
        size_t n = 0;
        for (; n + EMX_GEMM_NR < nc; n += 2 * EMX_GEMM_NR)
            emx__wino_gemm_block_2x16(rest, kc, a + full * kc, w + n / EMX_GEMM_NR * panel, panel,
                                      c + full * nc, n, nc);
        if (n < nc) /* an odd last panel */
            emx__wino_gemm_block_4x8(rest, kc, a + full * kc, w + n / EMX_GEMM_NR * panel,
                                     c + full * nc, n, nc);
    }
}
