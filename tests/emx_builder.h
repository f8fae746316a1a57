/* emx_builder.h - writes .emx files (models/FORMAT.md) from C, so the loader tests can build
 * valid models and damage them one field at a time. Header-only: static inline functions that
 * a test may or may not use. It aborts on out-of-memory (tests only).
 *
 *     eb_model mb;
 *     eb_init(&mb, 48, 48, 1, 0.5f, 0.25f);
 *     int w = eb_tensor(&mb, EB_F32, 4, (uint32_t[]){8, 1, 3, 3}, weights);
 *     int v = eb_op(&mb, 1, 1, (uint32_t[]){0}, 13, attrs, 2, (uint32_t[]){w, b});
 *     uint8_t *file = eb_finish(&mb, "ICTGDM", &size);   // chunk order; free(file) after
 */
#ifndef EMX_BUILDER_H
#define EMX_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h" /* emx__crc32 */

typedef struct eb_buf {
    uint8_t *p;
    size_t n, cap;
} eb_buf;

static inline void eb_put(eb_buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) {
            fprintf(stderr, "emx_builder: out of memory\n");
            abort();
        }
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static inline void eb_u32(eb_buf *b, uint32_t v)
{
    uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    eb_put(b, le, 4);
}

static inline void eb_i32(eb_buf *b, int32_t v)
{
    eb_u32(b, (uint32_t)v);
}

static inline void eb_f32(eb_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    eb_u32(b, u);
}

static inline void eb_u16(eb_buf *b, uint16_t v)
{
    uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    eb_put(b, le, 2);
}

static inline void eb_str(eb_buf *b, const char *s)
{
    eb_u32(b, (uint32_t)strlen(s));
    eb_put(b, s, strlen(s));
}

static inline void eb_free_buf(eb_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Nearest half to a float that fits a normal half exactly or nearly (tests pick values such as
 * k/64); truncates extra mantissa bits. */
static inline uint16_t eb_to_half(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    int exp = (int)((u >> 23) & 0xff) - 127 + 15;
    if ((u & 0x7fffffffu) == 0)
        return sign;
    if (exp <= 0 || exp >= 31) {
        fprintf(stderr, "emx_builder: %g does not fit a normal half\n", (double)f);
        abort();
    }
    return (uint16_t)(sign | (uint16_t)(exp << 10) | (uint16_t)((u >> 13) & 0x3ffu));
}

enum { EB_F32 = 0, EB_F16 = 1 };

typedef struct eb_model {
    eb_buf inpt, clss, tens, ops, outs, data, meta, extra;
    uint32_t n_tensors, n_ops, n_classes, n_outputs, n_meta;
} eb_model;

static inline void eb_init(eb_model *mb, uint32_t h, uint32_t w, uint32_t c, float mean, float sd)
{
    memset(mb, 0, sizeof *mb);
    eb_u32(&mb->inpt, h);
    eb_u32(&mb->inpt, w);
    eb_u32(&mb->inpt, c);
    eb_f32(&mb->inpt, mean);
    eb_f32(&mb->inpt, sd);
}

static inline void eb_class(eb_model *mb, const char *name)
{
    eb_str(&mb->clss, name);
    mb->n_classes++;
}

static inline void eb_meta(eb_model *mb, const char *key, const char *value)
{
    eb_str(&mb->meta, key);
    eb_str(&mb->meta, value);
    mb->n_meta++;
}

/* A tensor record with explicit offset and size (to write inconsistent ones); returns its id. */
static inline int eb_tensor_raw(eb_model *mb, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                                uint32_t offset, uint32_t nbytes)
{
    char name[16];
    snprintf(name, sizeof name, "t%u", mb->n_tensors);
    eb_str(&mb->tens, name);
    eb_u32(&mb->tens, dtype);
    eb_u32(&mb->tens, ndim);
    for (uint32_t i = 0; i < ndim; i++)
        eb_u32(&mb->tens, dims[i]);
    eb_u32(&mb->tens, offset);
    eb_u32(&mb->tens, nbytes);
    return (int)mb->n_tensors++;
}

/* A tensor whose values are data (converted to half for EB_F16); returns its id. */
static inline int eb_tensor(eb_model *mb, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                            const float *data)
{
    size_t count = 1;
    for (uint32_t i = 0; i < ndim; i++)
        count *= dims[i];
    while (mb->data.n % 4) /* keep f32 tensors aligned, as the exporter does */
        eb_put(&mb->data, "", 1);
    uint32_t offset = (uint32_t)mb->data.n;
    for (size_t i = 0; i < count; i++) {
        if (dtype == EB_F32)
            eb_f32(&mb->data, data[i]);
        else
            eb_u16(&mb->data, eb_to_half(data[i]));
    }
    return eb_tensor_raw(mb, dtype, ndim, dims, offset, (uint32_t)(mb->data.n - offset));
}

/* An f16 tensor from raw half bits (subnormals, infinities, NaN). */
static inline int eb_tensor_f16_bits(eb_model *mb, uint32_t ndim, const uint32_t *dims,
                                     const uint16_t *bits)
{
    size_t count = 1;
    for (uint32_t i = 0; i < ndim; i++)
        count *= dims[i];
    uint32_t offset = (uint32_t)mb->data.n;
    for (size_t i = 0; i < count; i++)
        eb_u16(&mb->data, bits[i]);
    return eb_tensor_raw(mb, EB_F16, ndim, dims, offset, (uint32_t)(2 * count));
}

/* Appends an op; returns the value it produces (op index + 1). */
static inline int eb_op(eb_model *mb, uint32_t type, uint32_t n_in, const uint32_t *ins,
                        uint32_t n_attrs, const int32_t *attrs, uint32_t n_tens,
                        const uint32_t *tens)
{
    eb_u32(&mb->ops, type);
    eb_u32(&mb->ops, n_in);
    for (uint32_t i = 0; i < n_in; i++)
        eb_u32(&mb->ops, ins[i]);
    eb_u32(&mb->ops, n_attrs);
    for (uint32_t i = 0; i < n_attrs; i++)
        eb_i32(&mb->ops, attrs[i]);
    eb_u32(&mb->ops, n_tens);
    for (uint32_t i = 0; i < n_tens; i++)
        eb_u32(&mb->ops, tens[i]);
    return (int)++mb->n_ops;
}

static inline void eb_output(eb_model *mb, uint32_t value)
{
    eb_u32(&mb->outs, value);
    mb->n_outputs++;
}

static inline void eb_chunk(eb_buf *file, const char *tag, const eb_buf *payload)
{
    eb_put(file, tag, 4);
    eb_u32(file, (uint32_t)payload->n);
    eb_put(file, payload->p, payload->n);
    static const uint8_t zeros[3] = { 0, 0, 0 };
    eb_put(file, zeros, (4 - payload->n % 4) % 4);
}

/* Header fields 8..15 (total size, CRC) rewritten for the bytes as they are now. */
static inline void eb_fix_header(uint8_t *file, size_t size)
{
    uint32_t crc = emx__crc32(0, file + 16, size - 16);
    for (int i = 0; i < 4; i++) {
        file[8 + i] = (uint8_t)(size >> (8 * i));
        file[12 + i] = (uint8_t)(crc >> (8 * i));
    }
}

/* The file, chunks in the order given by letters: I C T G D M (INPT CLSS TENS GRPH DATA META),
 * X for an unknown chunk "XTRA" holding mb->extra. Leaves mb reusable for eb_finish again;
 * release it with eb_free. */
static inline uint8_t *eb_finish(eb_model *mb, const char *order, size_t *size)
{
    eb_buf f = { 0 }, p = { 0 };
    eb_put(&f, "EMXN", 4);
    eb_u32(&f, 1);
    eb_u32(&f, 0);
    eb_u32(&f, 0);
    for (const char *o = order; *o; o++) {
        p.n = 0;
        switch (*o) {
        case 'I': eb_chunk(&f, "INPT", &mb->inpt); break;
        case 'C':
            eb_u32(&p, mb->n_classes);
            eb_put(&p, mb->clss.p, mb->clss.n);
            eb_chunk(&f, "CLSS", &p);
            break;
        case 'T':
            eb_u32(&p, mb->n_tensors);
            eb_put(&p, mb->tens.p, mb->tens.n);
            eb_chunk(&f, "TENS", &p);
            break;
        case 'G':
            eb_u32(&p, mb->n_ops);
            eb_put(&p, mb->ops.p, mb->ops.n);
            eb_u32(&p, mb->n_outputs);
            eb_put(&p, mb->outs.p, mb->outs.n);
            eb_chunk(&f, "GRPH", &p);
            break;
        case 'D': eb_chunk(&f, "DATA", &mb->data); break;
        case 'M':
            eb_u32(&p, mb->n_meta);
            eb_put(&p, mb->meta.p, mb->meta.n);
            eb_chunk(&f, "META", &p);
            break;
        case 'X': eb_chunk(&f, "XTRA", &mb->extra); break;
        }
    }
    eb_free_buf(&p);
    eb_fix_header(f.p, f.n);
    *size = f.n;
    return f.p;
}

static inline void eb_free(eb_model *mb)
{
    eb_free_buf(&mb->inpt);
    eb_free_buf(&mb->clss);
    eb_free_buf(&mb->tens);
    eb_free_buf(&mb->ops);
    eb_free_buf(&mb->outs);
    eb_free_buf(&mb->data);
    eb_free_buf(&mb->meta);
    eb_free_buf(&mb->extra);
}

#endif /* EMX_BUILDER_H */
