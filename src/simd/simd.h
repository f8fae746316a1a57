/* simd.h - picks one of the thin 4 x f32 wrappers. Kernels are written once against the
 * emx_v4f_* names, so the same source is SSE2 natively, SIMD128 in WebAssembly, and plain C
 * for the baseline WebAssembly module (EMX_NO_SIMD=1) or any other target. */
#ifndef EMX_SIMD_H
#define EMX_SIMD_H

#if defined(__wasm_simd128__) && !defined(EMX_NO_SIMD)
#include "f32-wasmsimd.h"
#elif defined(__SSE2__) && !defined(EMX_NO_SIMD)
#include "f32-sse2.h"
#else
#include "f32-scalar.h"
#endif

#endif /* EMX_SIMD_H */
