/* model_load.c - parse and validate an .emx buffer (models/FORMAT.md) into an emx_model.
 *
 * Every read goes through a bounds-checked cursor that decodes little-endian bytes one by one
 * (no alignment or host-endianness assumptions), so no input can make the reader touch memory
 * outside the buffer; every count is checked against its limit before anything is allocated
 * from it. Sizes are compared by subtraction ("need <=
 * size - pos"), never by adding untrusted numbers, so nothing can overflow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct cursor {
    const uint8_t *p;
    size_t size, pos;
} cursor;

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int rd_u32(cursor *c, uint32_t *v)
{
    if (c->size - c->pos < 4)
        return 0;
    *v = le32(c->p + c->pos);
    c->pos += 4;
    return 1;
}

static int rd_i32(cursor *c, int32_t *v)
{
    uint32_t u;
    if (!rd_u32(c, &u))
        return 0;
    /* Two's complement without relying on implementation-defined conversion. */
    *v = u <= 0x7fffffffu ? (int32_t)u : -(int32_t)(~u) - 1;
    return 1;
}

static int rd_f32(cursor *c, float *v)
{
    uint32_t u;
    if (!rd_u32(c, &u))
        return 0;
    memcpy(v, &u, sizeof *v);
    return 1;
}

/* A string's bytes stay in the buffer: *s points into it. */
static int rd_string(cursor *c, const uint8_t **s, uint32_t *len)
{
    if (!rd_u32(c, len) || *len > EMX_MAX_STRING || c->size - c->pos < *len)
        return 0;
    *s = c->p + c->pos;
    c->pos += *len;
    return 1;
}

static char *dup_string(const uint8_t *s, uint32_t len)
{
    char *d = malloc((size_t)len + 1);
    if (d) {
        if (len)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* ---- container ---- */

enum { CH_INPT, CH_CLSS, CH_TENS, CH_GRPH, CH_DATA, CH_META, CH_COUNT_ };
static const char chunk_tags[CH_COUNT_][4] = { { 'I', 'N', 'P', 'T' }, { 'C', 'L', 'S', 'S' },
                                               { 'T', 'E', 'N', 'S' }, { 'G', 'R', 'P', 'H' },
                                               { 'D', 'A', 'T', 'A' }, { 'M', 'E', 'T', 'A' } };

typedef struct chunk {
    const uint8_t *p; /* NULL when absent */
    size_t size;
} chunk;

static emx_status read_header(const uint8_t *p, size_t size)
{
    static const uint8_t magic[4] = { 'E', 'M', 'X', 'N' };
    size_t n = size < 4 ? size : 4;
    if (memcmp(p, magic, n) != 0)
        return EMX_ERR_BAD_MAGIC;
    if (size < 8)
        return EMX_ERR_TRUNCATED;
    if (le32(p + 4) != EMX_FORMAT_VERSION)
        return EMX_ERR_VERSION;
    if (size < 12)
        return EMX_ERR_TRUNCATED;
    uint32_t total = le32(p + 8);
    if (total < 16 || total > EMX_MAX_FILE_SIZE)
        return EMX_ERR_FORMAT;
    if (size < total)
        return EMX_ERR_TRUNCATED;
    if (size > total)
        return EMX_ERR_FORMAT;
    if (emx__crc32(0, p + 16, total - 16) != le32(p + 12))
        return EMX_ERR_CHECKSUM;
    return EMX_OK;
}

static emx_status find_chunks(const uint8_t *p, size_t size, chunk chunks[CH_COUNT_])
{
    memset(chunks, 0, sizeof(chunk) * CH_COUNT_);
    size_t pos = 16;
    while (pos < size) {
        if (size - pos < 8)
            return EMX_ERR_FORMAT;
        const uint8_t *tag = p + pos;
        size_t len = le32(p + pos + 4);
        pos += 8;
        if (len > size - pos)
            return EMX_ERR_FORMAT;
        size_t padded = (len + 3) & ~(size_t)3; /* len <= size <= 256 MiB: cannot wrap */
        if (padded > size - pos)
            return EMX_ERR_FORMAT;
        for (size_t i = len; i < padded; i++)
            if (p[pos + i] != 0)
                return EMX_ERR_FORMAT;
        for (int k = 0; k < CH_COUNT_; k++) {
            if (memcmp(tag, chunk_tags[k], 4) != 0)
                continue;
            if (chunks[k].p)
                return EMX_ERR_FORMAT; /* known chunks appear once */
            chunks[k].p = p + pos;
            chunks[k].size = len;
        }
        pos += padded;
    }
    for (int k = 0; k < CH_COUNT_; k++)
        if (!chunks[k].p && k != CH_META)
            return EMX_ERR_FORMAT;
    return EMX_OK;
}

/* ---- chunks ---- */

static emx_status parse_input(emx_model *m, const chunk *ch)
{
    cursor c = { ch->p, ch->size, 0 };
    uint32_t h, w, n;
    float mean, sd;
    if (ch->size != 20 || !rd_u32(&c, &h) || !rd_u32(&c, &w) || !rd_u32(&c, &n) ||
        !rd_f32(&c, &mean) || !rd_f32(&c, &sd))
        return EMX_ERR_FORMAT;
    if (h < 1 || h > EMX_MAX_INPUT_SIDE || w < 1 || w > EMX_MAX_INPUT_SIDE || (n != 1 && n != 3) ||
        !isfinite(mean) || !isfinite(sd) || !(sd > 0))
        return EMX_ERR_FORMAT;
    m->input.height = (int)h;
    m->input.width = (int)w;
    m->input.channels = (int)n;
    m->input.mean = mean;
    m->input.std = sd;
    return EMX_OK;
}

/* Class names become object keys in JS and reach terminals through the CLI, so a name must be
 * 1..EMX_MAX_CLASS_NAME bytes of valid UTF-8 without control characters (C0, DEL, C1: no
 * escape sequences), with no space at either end, not "__proto__" (assigning it as a key sets
 * the object's prototype: the score vanished), and unique (duplicates merged two scores). */
#define EMX_MAX_CLASS_NAME 64

static int utf8_printable(const uint8_t *s, uint32_t len)
{
    for (uint32_t i = 0; i < len;) {
        const uint8_t c = s[i];
        uint32_t cp, n;
        if (c < 0x80)
            cp = c, n = 1;
        else if ((c & 0xe0) == 0xc0)
            cp = c & 0x1fu, n = 2;
        else if ((c & 0xf0) == 0xe0)
            cp = c & 0x0fu, n = 3;
        else if ((c & 0xf8) == 0xf0)
            cp = c & 0x07u, n = 4;
        else
            return 0;
        if (n > len - i)
            return 0;
        for (uint32_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 }; /* no overlong forms */
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 ||
            (cp >= 0x7f && cp <= 0x9f))
            return 0;
        i += n;
    }
    return 1;
}

static int valid_class_name(const uint8_t *s, uint32_t len)
{
    return len >= 1 && len <= EMX_MAX_CLASS_NAME && s[0] != ' ' && s[len - 1] != ' ' &&
           !(len == 9 && memcmp(s, "__proto__", 9) == 0) && utf8_printable(s, len);
}

static emx_status parse_classes(emx_model *m, const chunk *ch)
{
    cursor c = { ch->p, ch->size, 0 };
    uint32_t n;
    if (!rd_u32(&c, &n) || n < 1 || n > EMX_MAX_CLASSES)
        return EMX_ERR_FORMAT;
    m->class_names = calloc(n, sizeof *m->class_names);
    if (!m->class_names)
        return EMX_ERR_NO_MEMORY;
    m->n_classes = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s;
        uint32_t len;
        if (!rd_string(&c, &s, &len) || !valid_class_name(s, len))
            return EMX_ERR_FORMAT;
        if (!(m->class_names[i] = dup_string(s, len)))
            return EMX_ERR_NO_MEMORY;
        for (uint32_t j = 0; j < i; j++) /* at most 64 names: quadratic is nothing */
            if (strcmp(m->class_names[j], m->class_names[i]) == 0)
                return EMX_ERR_FORMAT;
    }
    return c.pos == c.size ? EMX_OK : EMX_ERR_FORMAT;
}

static emx_status parse_meta(emx_model *m, const chunk *ch)
{
    cursor c = { ch->p, ch->size, 0 };
    uint32_t n;
    /* Each pair takes at least 8 bytes: bounds n before allocating from it. */
    if (!rd_u32(&c, &n) || n > (c.size - c.pos) / 8)
        return EMX_ERR_FORMAT;
    if (n > (uint32_t)m->params.max_meta_keys)
        return EMX_ERR_LIMIT;
    if (n == 0)
        return c.pos == c.size ? EMX_OK : EMX_ERR_FORMAT;
    m->meta = calloc((size_t)n * 2, sizeof *m->meta);
    if (!m->meta)
        return EMX_ERR_NO_MEMORY;
    m->n_meta = (int)n;
    for (size_t i = 0; i < (size_t)n * 2; i++) {
        const uint8_t *s;
        uint32_t len;
        if (!rd_string(&c, &s, &len))
            return EMX_ERR_FORMAT;
        if (!(m->meta[i] = dup_string(s, len)))
            return EMX_ERR_NO_MEMORY;
    }
    return c.pos == c.size ? EMX_OK : EMX_ERR_FORMAT;
}

typedef struct tensor_src {
    uint32_t dtype, offset, nbytes;
} tensor_src;

static emx_status parse_tensor_record(cursor *c, size_t data_size, emx__tensor *t, tensor_src *src)
{
    const uint8_t *name;
    uint32_t name_len, ndim;
    if (!rd_string(c, &name, &name_len) || !rd_u32(c, &src->dtype) || !rd_u32(c, &ndim))
        return EMX_ERR_FORMAT;
    if (src->dtype > 1 || ndim < 1 || ndim > 4)
        return EMX_ERR_FORMAT;
    uint64_t count = 1;
    t->ndim = (int)ndim;
    for (uint32_t d = 0; d < ndim; d++) {
        uint32_t dim;
        if (!rd_u32(c, &dim) || dim < 1 || dim > EMX_MAX_DIM)
            return EMX_ERR_FORMAT;
        t->dims[d] = (int)dim;
        count *= dim;
        if (count > UINT32_MAX) /* nbytes is a u32: a larger tensor cannot match it */
            return EMX_ERR_FORMAT;
    }
    if (!rd_u32(c, &src->offset) || !rd_u32(c, &src->nbytes))
        return EMX_ERR_FORMAT;
    if (count * (src->dtype == 0 ? 4u : 2u) != src->nbytes)
        return EMX_ERR_FORMAT;
    if (src->offset > data_size || src->nbytes > data_size - src->offset)
        return EMX_ERR_FORMAT;
    t->count = (size_t)count;
    return EMX_OK;
}

static emx_status widen_tensor(const uint8_t *bytes, const tensor_src *src, emx__tensor *t)
{
    for (size_t i = 0; i < t->count; i++) {
        float v;
        if (src->dtype == 0) {
            uint32_t u = le32(bytes + 4 * i);
            memcpy(&v, &u, sizeof v);
        } else {
            v = emx__fp16_to_fp32((uint16_t)(bytes[2 * i] | bytes[2 * i + 1] << 8));
        }
        if (!isfinite(v))
            return EMX_ERR_FORMAT;
        t->data[i] = v;
    }
    return EMX_OK;
}

static emx_status parse_tensors(emx_model *m, const chunk *ch, const chunk *data)
{
    cursor c = { ch->p, ch->size, 0 };
    uint32_t n;
    if (!rd_u32(&c, &n) || n > EMX_MAX_TENSORS)
        return EMX_ERR_FORMAT;
    if (n == 0)
        return c.pos == c.size ? EMX_OK : EMX_ERR_FORMAT;
    m->tensors = calloc(n, sizeof *m->tensors);
    tensor_src *src = calloc(n, sizeof *src);
    emx_status st = EMX_OK;
    if (!m->tensors || !src) {
        st = EMX_ERR_NO_MEMORY;
        goto done;
    }
    m->n_tensors = (int)n;
    size_t total_bytes = 0, total_floats = 0;
    for (uint32_t i = 0; i < n && st == EMX_OK; i++) {
        st = parse_tensor_record(&c, data->size, &m->tensors[i], &src[i]);
        /* Tensors may not share bytes, so the unpacked weights are bounded by the file. */
        if (st == EMX_OK && src[i].nbytes > data->size - total_bytes)
            st = EMX_ERR_FORMAT;
        if (st == EMX_OK) {
            total_bytes += src[i].nbytes;
            total_floats += m->tensors[i].count;
        }
    }
    if (st == EMX_OK && c.pos != c.size)
        st = EMX_ERR_FORMAT;
    if (st != EMX_OK)
        goto done;
    if (total_floats > SIZE_MAX / sizeof(float) ||
        !(m->tensor_data = malloc(total_floats * sizeof(float)))) {
        st = EMX_ERR_NO_MEMORY;
        goto done;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < n && st == EMX_OK; i++) {
        m->tensors[i].data = m->tensor_data + at;
        at += m->tensors[i].count;
        st = widen_tensor(data->p + src[i].offset, &src[i], &m->tensors[i]);
    }
done:
    free(src);
    return st;
}

static emx_status parse_op(cursor *c, const emx_model *m, int index, emx__op *op)
{
    uint32_t type, n_in, n_attrs, n_tens;
    if (!rd_u32(c, &type) || type < 1 || type >= EMX_OP_COUNT_)
        return EMX_ERR_FORMAT;
    op->type = (int)type;
    if (!rd_u32(c, &n_in) || n_in < 1 || n_in > EMX_MAX_OP_INPUTS)
        return EMX_ERR_FORMAT;
    op->n_inputs = (int)n_in;
    for (uint32_t i = 0; i < n_in; i++) {
        uint32_t v;
        /* Op `index` produces value index + 1: inputs must be earlier values. */
        if (!rd_u32(c, &v) || v > (uint32_t)index)
            return EMX_ERR_FORMAT;
        op->inputs[i] = (int)v;
    }
    if (!rd_u32(c, &n_attrs) || n_attrs > EMX_MAX_OP_ATTRS)
        return EMX_ERR_FORMAT;
    op->n_attrs = (int)n_attrs;
    for (uint32_t i = 0; i < n_attrs; i++)
        if (!rd_i32(c, &op->attrs[i]))
            return EMX_ERR_FORMAT;
    if (!rd_u32(c, &n_tens) || n_tens > EMX_MAX_OP_TENSORS)
        return EMX_ERR_FORMAT;
    op->n_tensors = (int)n_tens;
    for (uint32_t i = 0; i < n_tens; i++) {
        uint32_t t;
        if (!rd_u32(c, &t) || t >= (uint32_t)m->n_tensors)
            return EMX_ERR_FORMAT;
        op->tensors[i] = (int)t;
    }
    return EMX_OK;
}

static emx_status parse_graph(emx_model *m, const chunk *ch)
{
    cursor c = { ch->p, ch->size, 0 };
    uint32_t n_ops, n_out;
    if (!rd_u32(&c, &n_ops) || n_ops < 1 || n_ops > EMX_MAX_OPS)
        return EMX_ERR_FORMAT;
    if (n_ops > (uint32_t)m->params.max_ops)
        return EMX_ERR_LIMIT;
    m->ops = calloc(n_ops, sizeof *m->ops);
    m->values = calloc((size_t)n_ops + 1, sizeof *m->values);
    if (!m->ops || !m->values)
        return EMX_ERR_NO_MEMORY;
    m->n_ops = (int)n_ops;
    m->n_values = (int)n_ops + 1;
    for (uint32_t k = 0; k < n_ops; k++) {
        emx_status st = parse_op(&c, m, (int)k, &m->ops[k]);
        if (st != EMX_OK)
            return st;
    }
    if (!rd_u32(&c, &n_out) || n_out < 1 || n_out > EMX_MAX_OUTPUTS)
        return EMX_ERR_FORMAT;
    m->n_outputs = (int)n_out;
    for (uint32_t i = 0; i < n_out; i++) {
        uint32_t v;
        if (!rd_u32(&c, &v) || v >= (uint32_t)m->n_values)
            return EMX_ERR_FORMAT;
        m->outputs[i] = (int)v;
    }
    return c.pos == c.size ? EMX_OK : EMX_ERR_FORMAT;
}

static emx_status parse_model(emx_model *m, const uint8_t *p, size_t size)
{
    chunk ch[CH_COUNT_];
    emx_status st = read_header(p, size);
    if (st == EMX_OK)
        st = find_chunks(p, size, ch);
    if (st == EMX_OK)
        st = parse_input(m, &ch[CH_INPT]);
    if (st == EMX_OK)
        st = parse_classes(m, &ch[CH_CLSS]);
    if (st == EMX_OK)
        st = parse_tensors(m, &ch[CH_TENS], &ch[CH_DATA]);
    if (st == EMX_OK)
        st = parse_graph(m, &ch[CH_GRPH]);
    if (st == EMX_OK && ch[CH_META].p)
        st = parse_meta(m, &ch[CH_META]);
    return st;
}

emx_status emx_model_load(const void *data, size_t size, const emx_model_params *params,
                          emx_model **out)
{
    if (out)
        *out = NULL;
    if (!data || !out)
        return EMX_ERR_INVALID_ARG;
    emx_model *m = calloc(1, sizeof *m);
    if (!m)
        return EMX_ERR_NO_MEMORY;
    m->params = params ? *params : emx_model_default_params();
    /* 0 (or negative counts) means "the default": a caller that zero-initialised the struct
     * (older code, or only use_reference set) keeps the budgets. */
    const emx_model_params def = emx_model_default_params();
    if (m->params.max_macs == 0)
        m->params.max_macs = def.max_macs;
    if (m->params.max_memory_bytes == 0)
        m->params.max_memory_bytes = def.max_memory_bytes;
    if (m->params.max_ops <= 0)
        m->params.max_ops = def.max_ops;
    if (m->params.max_meta_keys <= 0)
        m->params.max_meta_keys = def.max_meta_keys;
    m->cam_value = -1;
    emx_status st = parse_model(m, data, size);
    if (st == EMX_OK)
        st = emx__infer_shapes(m);
    if (st == EMX_OK)
        st = emx__check_outputs(m);
    if (st == EMX_OK)
        st = emx__load_label_thresholds(m);
    if (st == EMX_OK)
        st = emx__check_compute(m);
    if (st == EMX_OK)
        st = emx__plan(m);
    if (st != EMX_OK) {
        emx_model_free(m);
        return st;
    }
    *out = m;
    return EMX_OK;
}

void emx_model_free(emx_model *m)
{
    if (!m)
        return;
    if (m->class_names)
        for (int i = 0; i < m->n_classes; i++)
            free(m->class_names[i]);
    free(m->class_names);
    if (m->meta)
        for (int i = 0; i < 2 * m->n_meta; i++)
            free(m->meta[i]);
    free(m->meta);
    free(m->tensors);
    free(m->tensor_data);
    free(m->ops);
    free(m->values);
    free(m->packed_raw);
    free(m->workspace_raw);
    free(m->det_scratch);
    free(m->cam);
    free(m->cam_weights);
    free(m);
}
