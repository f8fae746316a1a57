/* f32-sse2.h - emx_v4f wrappers over SSE2 (x86-64 baseline, so no runtime dispatch needed).
 * All loads and stores are unaligned: tensors are views into runtime buffers at arbitrary
 * channel offsets, and on current x86 unaligned access to aligned data costs nothing. */
#ifndef EMX_SIMD_F32_SSE2_H
#define EMX_SIMD_F32_SSE2_H

#include <emmintrin.h>
#include <stdint.h>

#define EMX_SIMD_NAME "sse2"

typedef __m128 emx_v4f;
typedef __m128i emx_v4i;

static inline emx_v4f emx_v4f_load(const float *p)
{
    return _mm_loadu_ps(p);
}
static inline emx_v4f emx_v4f_load_splat(const float *p)
{
    return _mm_load1_ps(p);
}
static inline void emx_v4f_store(float *p, emx_v4f v)
{
    _mm_storeu_ps(p, v);
}
static inline void emx_v4f_store_lo2(float *p, emx_v4f v)
{
    _mm_storel_pi((__m64 *)p, v);
}
static inline void emx_v4f_store_lo1(float *p, emx_v4f v)
{
    _mm_store_ss(p, v);
}
/* lanes 2,3 moved to 0,1: lets a tail store the rest after store_lo2 */
static inline emx_v4f emx_v4f_movehl(emx_v4f v)
{
    return _mm_movehl_ps(v, v);
}
static inline emx_v4f emx_v4f_splat(float x)
{
    return _mm_set1_ps(x);
}
static inline emx_v4f emx_v4f_zero(void)
{
    return _mm_setzero_ps();
}
static inline emx_v4f emx_v4f_add(emx_v4f a, emx_v4f b)
{
    return _mm_add_ps(a, b);
}
static inline emx_v4f emx_v4f_sub(emx_v4f a, emx_v4f b)
{
    return _mm_sub_ps(a, b);
}
static inline emx_v4f emx_v4f_mul(emx_v4f a, emx_v4f b)
{
    return _mm_mul_ps(a, b);
}
static inline emx_v4f emx_v4f_div(emx_v4f a, emx_v4f b)
{
    return _mm_div_ps(a, b);
}
/* a*b + c, two roundings (no FMA in SSE2 nor in WebAssembly SIMD128) */
static inline emx_v4f emx_v4f_muladd(emx_v4f a, emx_v4f b, emx_v4f c)
{
    return _mm_add_ps(_mm_mul_ps(a, b), c);
}
static inline emx_v4f emx_v4f_max(emx_v4f a, emx_v4f b)
{
    return _mm_max_ps(a, b);
}
static inline emx_v4f emx_v4f_min(emx_v4f a, emx_v4f b)
{
    return _mm_min_ps(a, b);
}
/* lane 0 as a scalar */
static inline float emx_v4f_lane0(emx_v4f v)
{
    return _mm_cvtss_f32(v);
}

/* integer lanes, only for building powers of two from float bits (exp) */
static inline emx_v4i emx_v4f_as_v4i(emx_v4f v)
{
    return _mm_castps_si128(v);
}
static inline emx_v4f emx_v4i_as_v4f(emx_v4i v)
{
    return _mm_castsi128_ps(v);
}
static inline emx_v4i emx_v4i_splat(int32_t x)
{
    return _mm_set1_epi32(x);
}
static inline emx_v4i emx_v4i_add(emx_v4i a, emx_v4i b)
{
    return _mm_add_epi32(a, b);
}
static inline emx_v4i emx_v4i_shl(emx_v4i a, int n)
{
    return _mm_slli_epi32(a, n);
}

#endif /* EMX_SIMD_F32_SSE2_H */
