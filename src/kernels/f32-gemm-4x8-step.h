/* f32-gemm-4x8-step.h - one k step of a 4 x 8 output tile: four A values broadcast, eight B
 * values (one packed panel row), eight multiply-adds into the caller's accumulators
 * vacc{0..3}x{0123,4567}. Shared by the 4x8 GEMM, IGEMM and Winograd block GEMM so that the one
 * loop body they all spend their time in is written (and tuned) once; a macro rather than a
 * function so that the accumulators stay in registers in every build, as the kernels had them. */
#ifndef EMX_F32_GEMM_4X8_STEP_H
#define EMX_F32_GEMM_4X8_STEP_H

#include "simd/simd.h"

/* a0..a3: the rows' A pointers at k; w: the packed B panel row, advanced by 8 floats */
#define EMX__GEMM_4X8_STEP(a0, a1, a2, a3, w)                                                      \
    do {                                                                                           \
        const emx_v4f va0 = emx_v4f_load_splat(a0);                                                \
        const emx_v4f va1 = emx_v4f_load_splat(a1);                                                \
        const emx_v4f va2 = emx_v4f_load_splat(a2);                                                \
        const emx_v4f va3 = emx_v4f_load_splat(a3);                                                \
        const emx_v4f vb0123 = emx_v4f_load(w);                                                    \
        const emx_v4f vb4567 = emx_v4f_load((w) + 4);                                              \
        (w) += 8;                                                                                  \
        vacc0x0123 = emx_v4f_muladd(va0, vb0123, vacc0x0123);                                      \
        vacc1x0123 = emx_v4f_muladd(va1, vb0123, vacc1x0123);                                      \
        vacc2x0123 = emx_v4f_muladd(va2, vb0123, vacc2x0123);                                      \
        vacc3x0123 = emx_v4f_muladd(va3, vb0123, vacc3x0123);                                      \
        vacc0x4567 = emx_v4f_muladd(va0, vb4567, vacc0x4567);                                      \
        vacc1x4567 = emx_v4f_muladd(va1, vb4567, vacc1x4567);                                      \
        vacc2x4567 = emx_v4f_muladd(va2, vb4567, vacc2x4567);                                      \
        vacc3x4567 = emx_v4f_muladd(va3, vb4567, vacc3x4567);                                      \
    } while (0)

#endif
