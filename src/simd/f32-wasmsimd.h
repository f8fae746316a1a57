/* f32-wasmsimd.h - emx_v4f wrappers over WebAssembly SIMD128, and relaxed SIMD where the
 * compiler targets it (-mrelaxed-simd: the third build, wasm/dist/emoxnet-relaxed.wasm).
 * min/max use the pseudo-min/max instructions (pmin/pmax): they map to a single minps/maxps
 * in V8 on x86, where the IEEE min/max need a NaN-fixing sequence. Kernels only compare
 * finite numbers or +-inf, so the NaN difference never shows. */
#ifndef EMX_SIMD_F32_WASMSIMD_H
#define EMX_SIMD_F32_WASMSIMD_H

#include <stdint.h>
#include <wasm_simd128.h>

#if defined(__wasm_relaxed_simd__)
#define EMX_SIMD_NAME "wasmrelaxed"
#else
#define EMX_SIMD_NAME "wasmsimd"
#endif

typedef v128_t emx_v4f;
typedef v128_t emx_v4i;

static inline emx_v4f emx_v4f_load(const float *p)
{
    return wasm_v128_load(p);
}
static inline emx_v4f emx_v4f_load_splat(const float *p)
{
    return wasm_v128_load32_splat(p);
}
static inline void emx_v4f_store(float *p, emx_v4f v)
{
    wasm_v128_store(p, v);
}
static inline void emx_v4f_store_lo2(float *p, emx_v4f v)
{
    wasm_v128_store64_lane(p, v, 0);
}
static inline void emx_v4f_store_lo1(float *p, emx_v4f v)
{
    wasm_v128_store32_lane(p, v, 0);
}
static inline emx_v4f emx_v4f_movehl(emx_v4f v)
{
    return wasm_i32x4_shuffle(v, v, 2, 3, 2, 3);
}
static inline emx_v4f emx_v4f_splat(float x)
{
    return wasm_f32x4_splat(x);
}
static inline emx_v4f emx_v4f_zero(void)
{
    return wasm_f32x4_const_splat(0.0f);
}
static inline emx_v4f emx_v4f_add(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_add(a, b);
}
static inline emx_v4f emx_v4f_sub(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_sub(a, b);
}
static inline emx_v4f emx_v4f_mul(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_mul(a, b);
}
static inline emx_v4f emx_v4f_div(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_div(a, b);
}
/* a * b + c: every GEMM, conv and depthwise inner loop goes through this one function, so the
 * relaxed build changes no kernel source. f32x4.relaxed_madd is one fused multiply-add
 * (vfmadd on x86 with FMA, fmla on Arm) where the hardware has it, and mul + add where it does
 * not: the engine picks, so results may differ from the SIMD128 build's in the last bits
 * (one rounding instead of two). The tests compare every build to the reference ops with
 * tolerances that allow either (tests/test-ops.c close_enough). clang 14 (Debian's
 * emscripten 3.1.6) knows only the pre-standard opcode, which no engine runs any more: the
 * relaxed build needs clang >= 16's wasm_f32x4_relaxed_madd (CMakeLists.txt). */
static inline emx_v4f emx_v4f_muladd(emx_v4f a, emx_v4f b, emx_v4f c)
{
#if defined(__wasm_relaxed_simd__)
    return wasm_f32x4_relaxed_madd(a, b, c);
#else
    return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#endif
}
static inline emx_v4f emx_v4f_max(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_pmax(a, b);
}
static inline emx_v4f emx_v4f_min(emx_v4f a, emx_v4f b)
{
    return wasm_f32x4_pmin(a, b);
}
static inline float emx_v4f_lane0(emx_v4f v)
{
    return wasm_f32x4_extract_lane(v, 0);
}

static inline emx_v4i emx_v4f_as_v4i(emx_v4f v)
{
    return v;
}
static inline emx_v4f emx_v4i_as_v4f(emx_v4i v)
{
    return v;
}
static inline emx_v4i emx_v4i_splat(int32_t x)
{
    return wasm_i32x4_splat(x);
}
static inline emx_v4i emx_v4i_add(emx_v4i a, emx_v4i b)
{
    return wasm_i32x4_add(a, b);
}
static inline emx_v4i emx_v4i_shl(emx_v4i a, int n)
{
    return wasm_i32x4_shl(a, (uint32_t)n);
}

#endif /* EMX_SIMD_F32_WASMSIMD_H */
