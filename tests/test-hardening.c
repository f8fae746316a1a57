/* test-hardening.c - regression tests for the breaks issue 18 found from outside: size
 * arithmetic that wraps on a 32-bit size_t (run this test on the wasm32 and -m32 builds: that
 * is where it can fail), decoder bombs, load-time budgets, non-probabilities returned as
 * success, and hostile class names. Each model here is built in C (tests/emx_builder.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoxnet.h"
#include "emx_builder.h"
#include "testutil.h"

#define U32S(...) ((const uint32_t[]){ __VA_ARGS__ })
#define I32S(...) ((const int32_t[]){ __VA_ARGS__ })

/* conv attrs: kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil_h,
 * dil_w, groups, out_c, act */

/* GAP -> DENSE(c -> 2) -> SOFTMAX after value v with c channels: a valid classifier head. */
static int head(eb_model *mb, int v, uint32_t c, float scale)
{
    float *w = calloc(2 * (size_t)c, sizeof(float));
    for (size_t i = 0; i < 2 * (size_t)c; i++)
        w[i] = i % 2 ? scale : -scale;
    const int tw = eb_tensor(mb, EB_F32, 2, U32S(2, c), w);
    const int tb = eb_tensor(mb, EB_F32, 1, U32S(2), (const float[]){ 0.0f, 0.0f });
    free(w);
    const int g = eb_op(mb, 5, 1, U32S((uint32_t)v), 0, NULL, 0, NULL);
    const int d =
        eb_op(mb, 2, 1, U32S((uint32_t)g), 2, I32S(2, 0), 2, U32S((uint32_t)tw, (uint32_t)tb));
    return eb_op(mb, 8, 1, U32S((uint32_t)d), 0, NULL, 0, NULL);
}

static emx_status load(const uint8_t *file, size_t size, const emx_model_params *p, emx_model **out)
{
    emx_model *m = NULL;
    emx_status st = emx_model_load(file, size, p, &m);
    if (out)
        *out = m;
    else
        emx_model_free(m);
    return st;
}

/* ---- break 2: size products that wrap on a 32-bit size_t ---------------------------- */

/* A row-taps conv (kw 65536, pad_left 65535, one input column) on a 65536-row input: its
 * padded input copy is 65536 x 65536 floats, 2^32, which a 32-bit size_t wrapped to 0, so the
 * model loaded with a tiny scratch and the first run wrote 16 GiB past it. */
static uint8_t *build_padded_copy_bomb(size_t *size)
{
    eb_model mb;
    eb_init(&mb, 16, 1, 1, 0.5f, 0.25f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    const int r = eb_op(&mb, 12, 1, U32S(0), 2, I32S(65536, 1), 0, NULL); /* resize */
    uint16_t *zeros = calloc(65536, sizeof *zeros);
    const int tw = eb_tensor_f16_bits(&mb, 4, U32S(1, 1, 1, 65536), zeros);
    free(zeros);
    const int tb = eb_tensor(&mb, EB_F32, 1, U32S(1), (const float[]){ 0.0f });
    const int c =
        eb_op(&mb, 1, 1, U32S((uint32_t)r), 13, I32S(1, 65536, 1, 1, 0, 65535, 0, 0, 1, 1, 1, 1, 0),
              2, U32S((uint32_t)tw, (uint32_t)tb));
    eb_output(&mb, (uint32_t)head(&mb, c, 1, 1.0f));
    uint8_t *file = eb_finish(&mb, "ICTGD", size);
    eb_free(&mb);
    return file;
}

/* A detector whose four output pairs (the same 1024 x 1024 values, named four times) make
 * 4 Mi anchors: with tiles = 4 (17 passes) the candidate buffer is 4 Mi x 17 x 68 bytes,
 * 4.5 GiB, which a 32-bit size_t wrapped to a few hundred MiB. Scores are -10 (sigmoid
 * 0.00005) so a build without the check does not also write them all. */
static uint8_t *build_anchor_bomb(size_t *size)
{
    eb_model mb;
    eb_init(&mb, 16, 16, 1, 0.5f, 0.25f);
    eb_class(&mb, "face");
    eb_meta(&mb, "task", "detector");
    const int r = eb_op(&mb, 12, 1, U32S(0), 2, I32S(1024, 1024), 0, NULL);
    const int ts = eb_tensor(&mb, EB_F32, 4, U32S(1, 1, 1, 1), (const float[]){ 0.0f });
    const int tsb = eb_tensor(&mb, EB_F32, 1, U32S(1), (const float[]){ -10.0f });
    const int tr = eb_tensor(&mb, EB_F32, 4, U32S(4, 1, 1, 1), (const float[]){ 0, 0, 0, 0 });
    const int trb = eb_tensor(&mb, EB_F32, 1, U32S(4), (const float[]){ 0, 0, 8, 8 });
    const int s =
        eb_op(&mb, 1, 1, U32S((uint32_t)r), 13, I32S(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0), 2,
              U32S((uint32_t)ts, (uint32_t)tsb));
    const int b =
        eb_op(&mb, 1, 1, U32S((uint32_t)r), 13, I32S(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 4, 0), 2,
              U32S((uint32_t)tr, (uint32_t)trb));
    for (int i = 0; i < 4; i++) {
        eb_output(&mb, (uint32_t)s);
        eb_output(&mb, (uint32_t)b);
    }
    uint8_t *file = eb_finish(&mb, "ICTGDM", size);
    eb_free(&mb);
    return file;
}

static void test_size_overflow(void)
{
    size_t size;
    uint8_t *file = build_padded_copy_bomb(&size);
    emx_model_params p = emx_model_default_params();
    emx_status st = load(file, size, &p, NULL);
    printf("padded-copy bomb (%zu bytes): %s\n", size, emx_status_str(st));
    CHECK(st == EMX_ERR_NO_MEMORY || st == EMX_ERR_LIMIT);
    /* Without budgets only the 64-bit arithmetic stands between it and the heap: 16 GiB
     * cannot be had with a 32-bit size_t (a 64-bit host may well overcommit it). */
    p.max_memory_bytes = UINT64_MAX / 2;
    p.max_macs = UINT64_MAX / 2;
    st = load(file, size, &p, NULL);
    if (sizeof(size_t) < 8)
        CHECK(st == EMX_ERR_NO_MEMORY);
    free(file);

    file = build_anchor_bomb(&size);
    emx_model *det = NULL;
    st = load(file, size, NULL, &det);
    CHECK(st == EMX_OK);
    if (det) {
        static uint8_t px[64 * 64];
        const emx_image img = { px, 64, 64, 1, 0 };
        emx_detect_params dp = emx_detect_default_params();
        emx_face faces[4];
        int n = -1;
        dp.tiles = 4;
        st = emx_detect(det, &img, &dp, faces, 4, &n);
        printf("anchor bomb, tiles 4: %s\n", emx_status_str(st));
        CHECK(st == EMX_ERR_NO_MEMORY || st == EMX_ERR_LIMIT);
        CHECK(n == 0);
        emx_model_free(det);
    }
    free(file);
}

/* ---- break 6: decoder bombs ----------------------------------------------------------- */

typedef struct bits {
    eb_buf b;
    uint32_t acc;
    int n;
} bits;

static void put_bits(bits *w, uint32_t v, int n) /* LSB first, as deflate packs fields */
{
    w->acc |= v << w->n;
    w->n += n;
    while (w->n >= 8) {
        const uint8_t byte = (uint8_t)w->acc;
        eb_put(&w->b, &byte, 1);
        w->acc >>= 8;
        w->n -= 8;
    }
}

static void put_huff(bits *w, uint32_t code, int n) /* Huffman codes go MSB first */
{
    for (int i = n - 1; i >= 0; i--)
        put_bits(w, code >> i & 1, 1);
}

static void be32_put(eb_buf *b, uint32_t v)
{
    const uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    eb_put(b, be, 4);
}

static void png_chunk(eb_buf *f, const char *tag, const uint8_t *data, uint32_t len)
{
    be32_put(f, len);
    const size_t at = f->n;
    eb_put(f, tag, 4);
    eb_put(f, data, len);
    be32_put(f, emx__crc32(0, f->p + at, 4 + (size_t)len));
}

/* A valid PNG of w x h zero pixels (gray or RGBA): zlib with fixed-Huffman blocks of
 * (length 258, distance 1) matches, 13 bits per 258 bytes, so 64 Mpx take 400 KB. With
 * idat_bytes > 0 the IDAT is cut to that many bytes (and the PNG is otherwise intact). */
static uint8_t *zero_png(uint32_t w, uint32_t h, int rgba, size_t idat_bytes, size_t *size)
{
    const uint64_t raw = (uint64_t)h * (1 + (uint64_t)w * (rgba ? 4 : 1));
    bits z = { { 0 }, 0, 0 };
    const uint8_t hdr[2] = { 0x78, 0x01 };
    eb_put(&z.b, hdr, 2);
    put_bits(&z, 1, 1);    /* BFINAL */
    put_bits(&z, 1, 2);    /* fixed Huffman */
    put_huff(&z, 0x30, 8); /* literal 0 */
    uint64_t left = raw - 1;
    while (left > 0) {
        if (left >= 258) {
            put_huff(&z, 0xc5, 8); /* length code 285: 258 */
            put_huff(&z, 0, 5);    /* distance code 0: 1 */
            left -= 258;
        } else {
            put_huff(&z, 0x30, 8);
            left--;
        }
    }
    put_huff(&z, 0, 7); /* end of block */
    if (z.n)
        put_bits(&z, 0, 8 - z.n);
    const uint32_t adler_b = (uint32_t)(raw % 65521u * 1u), adler = adler_b << 16 | 1u;
    be32_put(&z.b, adler);

    eb_buf f = { 0 };
    const uint8_t sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
    eb_put(&f, sig, 8);
    eb_buf ihdr = { 0 };
    be32_put(&ihdr, w);
    be32_put(&ihdr, h);
    const uint8_t rest[5] = { 8, (uint8_t)(rgba ? 6 : 0), 0, 0, 0 };
    eb_put(&ihdr, rest, 5);
    png_chunk(&f, "IHDR", ihdr.p, (uint32_t)ihdr.n);
    const size_t n = idat_bytes && idat_bytes < z.b.n ? idat_bytes : z.b.n;
    png_chunk(&f, "IDAT", z.b.p, (uint32_t)n);
    png_chunk(&f, "IEND", NULL, 0);
    eb_free_buf(&ihdr);
    eb_free_buf(&z.b);
    *size = f.n;
    return f.p;
}

static void test_decode_limits(void)
{
    size_t size;
    uint8_t *px = NULL;
    int w = 0, h = 0, c = 0;
    /* The generator makes images stb decodes: 512 x 300 RGBA. */
    uint8_t *png = zero_png(512, 300, 1, 0, &size);
    CHECK(emx_image_decode(png, size, &px, &w, &h, &c) == EMX_OK && w == 512 && h == 300 &&
          c == 4 && px && px[0] == 0);
    emx_image_free(px);
    free(png);

    /* 8192 x 8193 gray: valid, 400 KB, but one row over EMX_MAX_IMAGE_PIXELS. */
    png = zero_png(8192, 8193, 0, 0, &size);
    px = (uint8_t *)1;
    emx_status st = emx_image_decode(png, size, &px, &w, &h, &c);
    printf("8192 x 8193 zero PNG (%zu bytes): %s\n", size, emx_status_str(st));
    CHECK(st == EMX_ERR_DECODE && px == NULL);
    emx_image_free(px == (uint8_t *)1 ? NULL : px);
    free(png);

    /* 16384 x 16384 RGBA announced, 2 KB of IDAT: stb allocated the 1 GiB it announces before
     * inflating (in WebAssembly the heap never shrinks back). It cannot hold what it claims:
     * deflate expands at most 1032:1, so it is refused before stb sees it. Timed: the
     * allocation alone is visible. */
    png = zero_png(4096, 4096, 1, 2048, &size);
    clock_t t0 = clock();
#ifdef __wasm__
    /* In WebAssembly the reservation is visible: the heap grew by 64 MiB, for good. */
    const size_t pages0 = __builtin_wasm_memory_size(0);
#endif
    st = emx_image_decode(png, size, &px, &w, &h, &c);
#ifdef __wasm__
    const size_t grown = (__builtin_wasm_memory_size(0) - pages0) * 65536;
    printf("wasm heap grown by %zu bytes\n", grown);
    CHECK(grown < (1u << 20));
#endif
    const double ms = 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("4096 x 4096 RGBA PNG cut to %zu bytes: %s (%.1f ms)\n", size, emx_status_str(st), ms);
    CHECK(st == EMX_ERR_DECODE && px == NULL);
    free(png);
}

/* ---- break 3: budgets ----------------------------------------------------------------- */

/* The defaults hold every shipped model with room to spare (8x: the ensemble with its 160 px
 * face backbone plans 51 MiB of the 512 MiB default); print what they use. */
static void test_shipped_within_budgets(void)
{
    static const char *paths[] = { "models/emoxnet-lite.emx", "models/emoxnet.emx",
                                   "models/blazeface.emx" };
    const emx_model_params def = emx_model_default_params();
    for (int i = 0; i < 3; i++) {
        size_t size;
        uint8_t *file = emx_test_read_file(paths[i], &size);
        if (!file) {
            printf("%s: not there, skipped\n", paths[i]);
            continue;
        }
        emx_model *m = NULL;
        CHECK(emx_model_load(file, size, NULL, &m) == EMX_OK);
        if (m) {
            const double macs = emx__graph_macs(m);
            const double mem = (double)m->planned_bytes;
            printf("%s: %.3g multiply-adds, %.1f MiB planned, %d ops, %d metadata keys\n", paths[i],
                   macs, mem / 1048576.0, m->n_ops, m->n_meta);
            CHECK(macs * 10 < (double)def.max_macs);
            CHECK(m->n_ops * 4 < def.max_ops && m->n_meta * 10 < def.max_meta_keys);
            CHECK(mem * 8 < (double)def.max_memory_bytes);
        }
        emx_model_free(m);
        free(file);
    }
}

/* input 4x4x1 -> n_extra ACTIVATION(none) ops -> conv 1x1 (c channels) -> head; metadata
 * keys as asked. */
static uint8_t *build_chain(int n_extra, int n_meta, size_t *size)
{
    eb_model mb;
    eb_init(&mb, 4, 4, 1, 0.5f, 0.25f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    int v = 0;
    for (int i = 0; i < n_extra; i++)
        v = eb_op(&mb, 9, 1, U32S((uint32_t)v), 1, I32S(0), 0, NULL);
    for (int i = 0; i < n_meta; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        eb_meta(&mb, key, "v");
    }
    eb_output(&mb, (uint32_t)head(&mb, v, 1, 1.0f));
    uint8_t *file = eb_finish(&mb, n_meta ? "ICTGDM" : "ICTGD", size);
    eb_free(&mb);
    return file;
}

/* 96 KB of fp16 weights, 1.2e11 multiply-adds per run: a 3x3 conv of 32 -> 32 channels...
 * on a 1024 x 1024 input, run 12 times (shared weights). Minutes of work per classify. */
static uint8_t *build_compute_bomb(size_t *size)
{
    eb_model mb;
    eb_init(&mb, 1024, 1024, 1, 0.5f, 0.25f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    float *w = calloc(32 * 32 * 9, sizeof(float)), *w1 = calloc(32 * 9, sizeof(float));
    const int t1 = eb_tensor(&mb, EB_F16, 4, U32S(32, 1, 3, 3), w1);
    const int tw = eb_tensor(&mb, EB_F16, 4, U32S(32, 32, 3, 3), w);
    const int tb = eb_tensor(&mb, EB_F32, 1, U32S(32), w);
    free(w);
    free(w1);
    int v = eb_op(&mb, 1, 1, U32S(0), 13, I32S(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 32, 1), 2,
                  U32S((uint32_t)t1, (uint32_t)tb));
    for (int i = 0; i < 12; i++)
        v = eb_op(&mb, 1, 1, U32S((uint32_t)v), 13, I32S(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 32, 1), 2,
                  U32S((uint32_t)tw, (uint32_t)tb));
    eb_output(&mb, (uint32_t)head(&mb, v, 32, 1.0f));
    uint8_t *file = eb_finish(&mb, "ICTGD", size);
    eb_free(&mb);
    return file;
}

/* A few hundred bytes planning 768 MiB: the input resized twice to 8192 x 8192 (2^26 floats,
 * the largest value the format allows), and the two added. */
static uint8_t *build_memory_bomb(size_t *size)
{
    eb_model mb;
    eb_init(&mb, 1, 1, 1, 0.5f, 0.25f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    const int a = eb_op(&mb, 12, 1, U32S(0), 2, I32S(8192, 8192), 0, NULL);
    const int b = eb_op(&mb, 12, 1, U32S(0), 2, I32S(8192, 8192), 0, NULL);
    const int v = eb_op(&mb, 6, 2, U32S((uint32_t)a, (uint32_t)b), 1, I32S(0), 0, NULL);
    eb_output(&mb, (uint32_t)head(&mb, v, 1, 1.0f));
    uint8_t *file = eb_finish(&mb, "ICTGD", size);
    eb_free(&mb);
    return file;
}

/* 255 GAP -> DENSE branches averaged, then a chain of softmaxes to the output: every branch's
 * walk to the output asked the whole graph for each value's reader (quadratic: seconds). */
static uint8_t *build_explain_chain(int chain, size_t *size)
{
    eb_model mb;
    eb_init(&mb, 2, 2, 1, 0.5f, 0.25f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    const int tw = eb_tensor(&mb, EB_F32, 2, U32S(2, 1), (const float[]){ 1, -1 });
    const int tb = eb_tensor(&mb, EB_F32, 1, U32S(2), (const float[]){ 0, 0 });
    enum { B = 16 };
    float wm[B];
    for (int i = 0; i < B; i++)
        wm[i] = 1.0f / B;
    const int twm = eb_tensor(&mb, EB_F32, 1, U32S(B), wm);
    uint32_t sm[B];
    for (int i = 0; i < B; i++) {
        const int g = eb_op(&mb, 5, 1, U32S(0), 0, NULL, 0, NULL);
        const int d =
            eb_op(&mb, 2, 1, U32S((uint32_t)g), 2, I32S(2, 0), 2, U32S((uint32_t)tw, (uint32_t)tb));
        sm[i] = (uint32_t)eb_op(&mb, 8, 1, U32S((uint32_t)d), 0, NULL, 0, NULL);
    }
    int v = eb_op(&mb, 10, B, sm, 0, NULL, 1, U32S((uint32_t)twm));
    for (int i = 0; i < chain; i++)
        v = eb_op(&mb, 10, 1, U32S((uint32_t)v), 0, NULL, 1,
                  U32S((uint32_t)eb_tensor(&mb, EB_F32, 1, U32S(1), (const float[]){ 1.0f })));
    eb_output(&mb, (uint32_t)v);
    uint8_t *file = eb_finish(&mb, "ICTGD", size);
    eb_free(&mb);
    return file;
}

static void test_budgets(void)
{
    size_t size;
    emx_model_params p = emx_model_default_params();
    uint8_t *file = build_chain(2100, 0, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_ERR_LIMIT);
    p.max_ops = 4096;
    CHECK(load(file, size, &p, NULL) == EMX_OK);
    free(file);

    p = emx_model_default_params();
    file = build_chain(0, 300, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_ERR_LIMIT);
    p.max_meta_keys = 300;
    CHECK(load(file, size, &p, NULL) == EMX_OK);
    free(file);

    p = emx_model_default_params();
    file = build_compute_bomb(&size);
    emx_status st = load(file, size, NULL, NULL);
    printf("compute bomb (%zu bytes): %s\n", size, emx_status_str(st));
    CHECK(st == EMX_ERR_LIMIT);
    p.max_macs = 200000000000ull; /* overridable: it loads (and is not run here) */
    CHECK(load(file, size, &p, NULL) == EMX_OK);
    free(file);

    file = build_memory_bomb(&size);
    st = load(file, size, NULL, NULL);
    printf("memory bomb (%zu bytes): %s\n", size, emx_status_str(st));
    CHECK(st == EMX_ERR_LIMIT);
    free(file);

    /* A zero-initialised struct (only use_reference set, as older callers do) keeps the
     * default budgets. */
    emx_model_params zero;
    memset(&zero, 0, sizeof zero);
    file = build_chain(2100, 0, &size);
    CHECK(load(file, size, &zero, NULL) == EMX_ERR_LIMIT);
    free(file);

    /* Explain's analysis is linear in the graph: 4000 ops load in about 2 ms (the quadratic
     * walk took 29 s for 4096). The bound leaves 1000x for a loaded machine (0.25 s was once
     * exceeded with the CPUs shared by a training job and two builds) and still catches the
     * quadratic walk 14x over. */
    file = build_explain_chain(4000, &size);
    p = emx_model_default_params();
    p.max_ops = 4096;
    clock_t t0 = clock();
    emx_model *m = NULL;
    st = load(file, size, &p, &m);
    const double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("explain chain, %d ops: %s in %.3f s\n", m ? m->n_ops : -1, emx_status_str(st), s);
    CHECK(st == EMX_OK && m && m->n_cam == 16);
    CHECK(s < 2.0);
    emx_model_free(m);
    free(file);
}

/* ---- break 4: probabilities or an error -------------------------------------------- */

/* input 2x2x1 -> conv 1x1 (2 channels, weights w) -> GAP -> DENSE -> tail. tail 0: softmax;
 * 1: none (raw logits); 2: softmax then WEIGHTED_MEAN of it twice with weights wm0, wm1. */
static uint8_t *build_tail(int tail, float w, float wm0, float wm1, size_t *size)
{
    eb_model mb;
    eb_init(&mb, 2, 2, 1, 0.0f, 1.0f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    const int tc = eb_tensor(&mb, EB_F32, 4, U32S(2, 1, 1, 1), (const float[]){ w, -w });
    const int tcb = eb_tensor(&mb, EB_F32, 1, U32S(2), (const float[]){ 0, 0 });
    const int c = eb_op(&mb, 1, 1, U32S(0), 13, I32S(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 2, 0), 2,
                        U32S((uint32_t)tc, (uint32_t)tcb));
    const int tw = eb_tensor(&mb, EB_F32, 2, U32S(2, 2), (const float[]){ w, -w, -w, w });
    const int g = eb_op(&mb, 5, 1, U32S((uint32_t)c), 0, NULL, 0, NULL);
    int v =
        eb_op(&mb, 2, 1, U32S((uint32_t)g), 2, I32S(2, 0), 2, U32S((uint32_t)tw, (uint32_t)tcb));
    if (tail != 1)
        v = eb_op(&mb, 8, 1, U32S((uint32_t)v), 0, NULL, 0, NULL);
    if (tail == 2) {
        const int twm = eb_tensor(&mb, EB_F32, 1, U32S(2), (const float[]){ wm0, wm1 });
        v = eb_op(&mb, 10, 2, U32S((uint32_t)v, (uint32_t)v), 0, NULL, 1, U32S((uint32_t)twm));
    }
    eb_output(&mb, (uint32_t)v);
    uint8_t *file = eb_finish(&mb, "ICTGD", size);
    eb_free(&mb);
    return file;
}

static void test_probabilities(void)
{
    size_t size;
    /* logits that are not probabilities (the graph returned 435.3): refused at load */
    uint8_t *file = build_tail(1, 1.0f, 0, 0, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_ERR_FORMAT);
    free(file);
    /* an ensemble of probabilities is fine; weights must be >= 0 and sum to 1 */
    file = build_tail(2, 1.0f, 0.25f, 0.75f, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_OK);
    free(file);
    file = build_tail(2, 1.0f, 1.5f, 0.5f, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_ERR_FORMAT);
    free(file);
    file = build_tail(2, 1.0f, 1.25f, -0.25f, &size);
    CHECK(load(file, size, NULL, NULL) == EMX_ERR_FORMAT);
    free(file);

    /* finite but huge weights: inf logits, NaN softmax. EMX_ERR_NUMERIC, not "neutral (NaN)". */
    for (int ref = 0; ref < 2; ref++) {
        file = build_tail(0, 1e30f, 0, 0, &size);
        emx_model_params p = emx_model_default_params();
        p.use_reference = ref;
        emx_model *m = NULL;
        CHECK(load(file, size, &p, &m) == EMX_OK);
        if (m) {
            const float in[4] = { 1, 2, 3, 4 };
            float probs[2] = { -7, -7 }, map[4];
            CHECK(emx_run(m, in, probs) == EMX_ERR_NUMERIC);
            CHECK(probs[0] == -7 && probs[1] == -7); /* nothing written */
            /* nothing to explain from a failed run */
            CHECK(emx_explain(m, -1, map, 2, 2) == EMX_ERR_UNSUPPORTED);
            static const uint8_t px[16] = { 0 };
            const emx_image img = { px, 4, 4, 1, 0 };
            CHECK(emx_classify(m, &img, NULL, probs) == EMX_OK); /* zeros: finite */
            const uint8_t px2[4] = { 255, 255, 255, 255 };
            const emx_image img2 = { px2, 2, 2, 1, 0 };
            CHECK(emx_classify(m, &img2, NULL, probs) == EMX_ERR_NUMERIC);
        }
        emx_model_free(m);
        free(file);
    }
}

/* ---- break 7: class names ------------------------------------------------------------- */

static emx_status load_names(const char *a, const char *b)
{
    eb_model mb;
    eb_init(&mb, 2, 2, 1, 0.0f, 1.0f);
    eb_class(&mb, a);
    eb_class(&mb, b);
    const int tw = eb_tensor(&mb, EB_F32, 2, U32S(2, 4), (const float[]){ 1, 0, 0, 0, 0, 0, 0, 1 });
    const int tb = eb_tensor(&mb, EB_F32, 1, U32S(2), (const float[]){ 0, 0 });
    const int d = eb_op(&mb, 2, 1, U32S(0), 2, I32S(2, 0), 2, U32S((uint32_t)tw, (uint32_t)tb));
    eb_output(&mb, (uint32_t)eb_op(&mb, 8, 1, U32S((uint32_t)d), 0, NULL, 0, NULL));
    size_t size;
    uint8_t *file = eb_finish(&mb, "ICTGD", &size);
    eb_free(&mb);
    const emx_status st = load(file, size, NULL, NULL);
    free(file);
    return st;
}

static void test_class_names(void)
{
    CHECK(load_names("happiness", "surprise") == EMX_OK);
    CHECK(load_names("Überraschung", "ニュートラル") == EMX_OK); /* UTF-8 is fine */
    CHECK(load_names("happy face", "sad-ish_2") == EMX_OK);
    CHECK(load_names("happy", "happy") == EMX_ERR_FORMAT); /* scores would collide */
    CHECK(load_names("", "b") == EMX_ERR_FORMAT);
    CHECK(load_names("__proto__", "b") == EMX_ERR_FORMAT); /* drops a JS score */
    CHECK(load_names("a", "\x1b[2Jhi") == EMX_ERR_FORMAT); /* terminal escapes */
    CHECK(load_names("a\nb", "c") == EMX_ERR_FORMAT);
    CHECK(load_names("a", "b\x7f") == EMX_ERR_FORMAT);
    CHECK(load_names("a", "\xc3") == EMX_ERR_FORMAT);     /* cut UTF-8 */
    CHECK(load_names("a", "\xc2\x9b") == EMX_ERR_FORMAT); /* C1 control (CSI) */
    CHECK(load_names(" a", "b") == EMX_ERR_FORMAT);       /* padding that hides */
    char longest[65];
    memset(longest, 'x', 64);
    longest[64] = 0;
    CHECK(load_names(longest, "b") == EMX_OK);
    char too_long[66];
    memset(too_long, 'x', 65);
    too_long[65] = 0;
    CHECK(load_names(too_long, "b") == EMX_ERR_FORMAT);
}

/* The new statuses have messages and names (the names JS can take from C). */
static void test_status_names(void)
{
    CHECK(strcmp(emx_status_name(EMX_ERR_LIMIT), "LIMIT") == 0);
    CHECK(strcmp(emx_status_name(EMX_ERR_NUMERIC), "NUMERIC") == 0);
    CHECK(strcmp(emx_status_name(EMX_ERR_FORMAT), "FORMAT") == 0);
    CHECK(strcmp(emx_status_name((emx_status)-99), "UNKNOWN") == 0);
    CHECK(strcmp(emx_status_str(EMX_ERR_LIMIT), "unknown status") != 0);
    CHECK(strcmp(emx_status_str(EMX_ERR_NUMERIC), "unknown status") != 0);
}

int main(void)
{
    test_status_names();
    test_size_overflow();
    test_shipped_within_budgets();
    test_budgets();
    test_probabilities();
    test_class_names();
    test_decode_limits();
    return emx_test_summary();
}
