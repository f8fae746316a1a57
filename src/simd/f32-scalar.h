/* f32-scalar.h - emx_v4f as a struct of four floats, plain C: the baseline WebAssembly module
 * (EMX_NO_SIMD=1) and any target without a wrapper run the same kernels through it. The
 * compiler keeps the struct in registers, so the register blocking still pays off. */
#ifndef EMX_SIMD_F32_SCALAR_H
#define EMX_SIMD_F32_SCALAR_H

#include <stdint.h>
#include <string.h>

#define EMX_SIMD_NAME "scalar"

typedef struct {
    float v[4];
} emx_v4f;
typedef struct {
    int32_t v[4];
} emx_v4i;

static inline emx_v4f emx_v4f_load(const float *p)
{
    emx_v4f r = { { p[0], p[1], p[2], p[3] } };
    return r;
}
static inline emx_v4f emx_v4f_splat(float x)
{
    emx_v4f r = { { x, x, x, x } };
    return r;
}
static inline emx_v4f emx_v4f_load_splat(const float *p)
{
    return emx_v4f_splat(*p);
}
static inline void emx_v4f_store(float *p, emx_v4f v)
{
    p[0] = v.v[0], p[1] = v.v[1], p[2] = v.v[2], p[3] = v.v[3];
}
static inline void emx_v4f_store_lo2(float *p, emx_v4f v)
{
    p[0] = v.v[0], p[1] = v.v[1];
}
static inline void emx_v4f_store_lo1(float *p, emx_v4f v)
{
    p[0] = v.v[0];
}
static inline emx_v4f emx_v4f_movehl(emx_v4f v)
{
    emx_v4f r = { { v.v[2], v.v[3], v.v[2], v.v[3] } };
    return r;
}
static inline emx_v4f emx_v4f_zero(void)
{
    return emx_v4f_splat(0.0f);
}

#define EMX__SCALAR_BINOP(name, expr)                                                              \
    static inline emx_v4f emx_v4f_##name(emx_v4f a, emx_v4f b)                                     \
    {                                                                                              \
        emx_v4f r;                                                                                 \
        for (int i = 0; i < 4; i++) {                                                              \
            const float x = a.v[i], y = b.v[i];                                                    \
            r.v[i] = (expr);                                                                       \
        }                                                                                          \
        return r;                                                                                  \
    }
EMX__SCALAR_BINOP(add, x + y)
EMX__SCALAR_BINOP(sub, x - y)
EMX__SCALAR_BINOP(mul, x *y)
EMX__SCALAR_BINOP(div, x / y)
EMX__SCALAR_BINOP(max, x < y ? y : x)
EMX__SCALAR_BINOP(min, y < x ? y : x)
#undef EMX__SCALAR_BINOP

static inline emx_v4f emx_v4f_muladd(emx_v4f a, emx_v4f b, emx_v4f c)
{
    return emx_v4f_add(emx_v4f_mul(a, b), c);
}
static inline float emx_v4f_lane0(emx_v4f v)
{
    return v.v[0];
}

static inline emx_v4i emx_v4f_as_v4i(emx_v4f v)
{
    emx_v4i r;
    memcpy(&r, &v, sizeof r);
    return r;
}
static inline emx_v4f emx_v4i_as_v4f(emx_v4i v)
{
    emx_v4f r;
    memcpy(&r, &v, sizeof r);
    return r;
}
static inline emx_v4i emx_v4i_splat(int32_t x)
{
    emx_v4i r = { { x, x, x, x } };
    return r;
}
/* unsigned arithmetic: wraps like the SIMD lanes instead of signed-overflow UB */
static inline emx_v4i emx_v4i_add(emx_v4i a, emx_v4i b)
{
    emx_v4i r;
    for (int i = 0; i < 4; i++)
        r.v[i] = (int32_t)((uint32_t)a.v[i] + (uint32_t)b.v[i]);
    return r;
}
static inline emx_v4i emx_v4i_shl(emx_v4i a, int n)
{
    emx_v4i r;
    for (int i = 0; i < 4; i++)
        r.v[i] = (int32_t)((uint32_t)a.v[i] << n);
    return r;
}

#endif /* EMX_SIMD_F32_SCALAR_H */
