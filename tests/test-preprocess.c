/* test-preprocess.c - emx_preprocess on images whose expected tensors are known exactly:
 * identity copies, PIL's grayscale, edge replication outside the image, constant resizes,
 * and every invalid image or box; and emx__preprocess_window (a box of a frame of which only a
 * window is in memory: the WebAssembly package's classify() copies no more) against
 * emx_preprocess on the whole frame, bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"
#include "emx_builder.h"
#include "model.h"
#include "testutil.h"

/* A model that only has an input spec worth having: global average pool then softmax. */
static emx_model *spec_model(int h, int w, int c, float mean, float sd)
{
    eb_model mb;
    eb_init(&mb, (uint32_t)h, (uint32_t)w, (uint32_t)c, mean, sd);
    static const char *names[3] = { "c0", "c1", "c2" }; /* names must be unique */
    for (int i = 0; i < c; i++)
        eb_class(&mb, names[i]);
    eb_op(&mb, EMX_OP_GLOBAL_AVGPOOL, 1, (const uint32_t[]){ 0 }, 0, NULL, 0, NULL);
    eb_op(&mb, EMX_OP_SOFTMAX, 1, (const uint32_t[]){ 1 }, 0, NULL, 0, NULL);
    eb_output(&mb, 2);
    size_t size;
    uint8_t *file = eb_finish(&mb, "ICTGD", &size);
    emx_model *m = NULL;
    CHECK(emx_model_load(file, size, NULL, &m) == EMX_OK);
    free(file);
    eb_free(&mb);
    return m;
}

static float norm(int p, float mean, float sd)
{
    return ((float)p / 255.0f - mean) / sd;
}

/* Pixel values back from a mean 0, std 1 tensor. */
static int pixel(float v)
{
    return (int)lrintf(v * 255.0f);
}

static void test_identity(void)
{
    emx_model *m = spec_model(48, 48, 1, 0.5f, 0.25f);
    if (!m)
        return;
    uint8_t img[48 * 48];
    uint32_t rng = 7;
    for (int i = 0; i < 48 * 48; i++)
        img[i] = (uint8_t)emx_test_rand(&rng);
    float out[48 * 48];
    emx_image im = { img, 48, 48, 1, 0 };
    CHECK(emx_preprocess(m, &im, NULL, out) == EMX_OK);
    int exact = 1;
    for (int i = 0; i < 48 * 48; i++)
        exact &= out[i] == norm(img[i], 0.5f, 0.25f);
    CHECK(exact);
    /* The same pixels through a box on pixel boundaries of a larger, padded-stride image. */
    uint8_t big[60 * 70];
    memset(big, 0xee, sizeof big);
    for (int y = 0; y < 48; y++)
        memcpy(big + (y + 5) * 70 + 9, img + y * 48, 48);
    emx_image bi = { big, 60, 60, 1, 70 };
    emx_box box = { 9, 5, 48, 48 };
    float out2[48 * 48];
    CHECK(emx_preprocess(m, &bi, &box, out2) == EMX_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0);
    /* Fractional edges round outwards: [8.5, 56.2) covers pixels 8..56, 49 wide: resized. */
    box = (emx_box){ 8.5f, 5, 47.7f, 48 };
    CHECK(emx_preprocess(m, &bi, &box, out2) == EMX_OK);
    CHECK(memcmp(out, out2, sizeof out) != 0);
    float probs[1];
    CHECK(emx_classify(m, &im, NULL, probs) == EMX_OK && probs[0] == 1.0f);
    emx_model_free(m);
}

static void test_gray_conversion(void)
{
    /* Expected values from PIL 9.4 Image.convert('L'); the last four are where the rounded
     * decimal formula (299 R + 587 G + 114 B + 500) / 1000 is off by one. */
    static const uint8_t rgb[12][3] = { { 255, 0, 0 },    { 0, 255, 0 },    { 0, 0, 255 },
                                        { 10, 200, 30 },  { 1, 1, 1 },      { 255, 255, 255 },
                                        { 3, 2, 1 },      { 37, 191, 245 }, { 231, 131, 31 },
                                        { 163, 99, 225 }, { 84, 16, 228 },  { 205, 77, 79 } };
    static const int want[12] = { 76, 150, 29, 124, 1, 255, 2, 151, 149, 132, 60, 115 };
    emx_model *m = spec_model(1, 12, 1, 0, 1);
    if (!m)
        return;
    uint8_t rgba[12 * 4];
    for (int i = 0; i < 12; i++) {
        memcpy(rgba + 4 * i, rgb[i], 3);
        rgba[4 * i + 3] = (uint8_t)(i * 20); /* alpha must not matter */
    }
    float a[12], b[12];
    emx_image im3 = { &rgb[0][0], 12, 1, 3, 0 }, im4 = { rgba, 12, 1, 4, 48 };
    CHECK(emx_preprocess(m, &im3, NULL, a) == EMX_OK);
    CHECK(emx_preprocess(m, &im4, NULL, b) == EMX_OK);
    for (int i = 0; i < 12; i++) {
        CHECK(pixel(a[i]) == want[i]);
        CHECK(a[i] == b[i]);
    }
    emx_model_free(m);

    /* An RGB model keeps colour, and repeats gray into all three channels. */
    m = spec_model(1, 12, 3, 0, 1);
    if (!m)
        return;
    float c[36];
    CHECK(emx_preprocess(m, &im4, NULL, c) == EMX_OK);
    int same = 1;
    for (int i = 0; i < 36; i++)
        same &= pixel(c[i]) == rgb[i / 3][i % 3];
    CHECK(same);
    uint8_t gray[12];
    for (int i = 0; i < 12; i++)
        gray[i] = (uint8_t)(i * 21);
    emx_image im1 = { gray, 12, 1, 1, 0 };
    CHECK(emx_preprocess(m, &im1, NULL, c) == EMX_OK);
    same = 1;
    for (int i = 0; i < 36; i++)
        same &= pixel(c[i]) == gray[i / 3];
    CHECK(same);
    emx_model_free(m);
}

static void test_edges(void)
{
    /* 3 wide, 2 tall: pixel (x, y) = 10 * (y * 3 + x) + 1. */
    uint8_t img[6];
    for (int i = 0; i < 6; i++)
        img[i] = (uint8_t)(10 * i + 1);
    emx_image im = { img, 3, 2, 1, 0 };
    emx_model *m = spec_model(4, 5, 1, 0, 1);
    if (!m)
        return;
    /* Box x in [-1, 4), y in [-1, 3): one pixel of replicated edge on every side. */
    emx_box box = { -1, -1, 5, 4 };
    float out[20];
    CHECK(emx_preprocess(m, &im, &box, out) == EMX_OK);
    int exact = 1;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++) {
            int sx = x - 1 < 0 ? 0 : x - 1 > 2 ? 2 : x - 1;
            int sy = y - 1 < 0 ? 0 : y - 1 > 1 ? 1 : y - 1;
            exact &= pixel(out[y * 5 + x]) == img[sy * 3 + sx];
        }
    CHECK(exact);
    /* Overlapping by a fraction of a pixel still counts: [-4.5, 0.5) covers pixel 0. */
    box = (emx_box){ -4.5f, -2.5f, 5, 4 };
    CHECK(emx_preprocess(m, &im, &box, out) == EMX_OK);
    CHECK(pixel(out[0]) == img[0]);
    emx_model_free(m);
}

static void test_resize_constant(void)
{
    emx_model *m = spec_model(48, 48, 1, 0, 1);
    if (!m)
        return;
    static uint8_t img[100 * 80 * 3];
    memset(img, 77, sizeof img);
    float out[48 * 48];
    for (int up = 0; up < 2; up++) {
        /* down (100x80 -> 48x48) and up (20x30 -> 48x48), rgb converted to gray */
        emx_image im = { img, up ? 20 : 100, up ? 30 : 80, 3, 0 };
        emx_box box = { 3.25f, 2.5f, up ? 10.0f : 60.0f, up ? 17.0f : 70.0f };
        CHECK(emx_preprocess(m, &im, up ? &box : NULL, out) == EMX_OK);
        int constant = 1;
        for (int i = 0; i < 48 * 48; i++)
            constant &= out[i] == norm(77, 0, 1);
        CHECK(constant);
    }
    emx_model_free(m);
}

static void test_errors(void)
{
    emx_model *m = spec_model(8, 8, 1, 0, 1);
    if (!m)
        return;
    uint8_t img[16 * 16 * 4] = { 0 };
    float out[64], probs[1];
    emx_image ok = { img, 16, 16, 4, 0 };
    CHECK(emx_preprocess(m, &ok, NULL, out) == EMX_OK);
    emx_image bad;
    bad = ok, bad.data = NULL;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.width = 0;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.height = -3;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.width = 16385;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.channels = 2;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.channels = 0;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.stride = 63;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    bad = ok, bad.stride = -64;
    CHECK(emx_preprocess(m, &bad, NULL, out) == EMX_ERR_IMAGE);
    CHECK(emx_classify(m, &bad, NULL, probs) == EMX_ERR_IMAGE);

    static const emx_box boxes[] = {
        { NAN, 0, 4, 4 },        { 0, NAN, 4, 4 },       { 0, 0, NAN, 4 },
        { 0, 0, 4, INFINITY },   { -INFINITY, 0, 4, 4 }, { 0, 0, 0, 4 },
        { 0, 0, 4, 0 },          { 2, 2, -1, 4 },        { 16, 0, 4, 4 },
        { 0, 16, 4, 4 },         { -4, 0, 4, 4 },        { 0, -4.5f, 4, 4.5f },
        { -1e30f, 0, 1e30f, 4 }, { 0, 0, 1e30f, 4 },     { -20000, -20000, 40000, 40000 },
    };
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        emx_status st = emx_preprocess(m, &ok, &boxes[i], out);
        if (st != EMX_ERR_BOX)
            fprintf(stderr, "box %zu: %s\n", i, emx_status_str(st));
        CHECK(st == EMX_ERR_BOX);
    }
    CHECK(emx_classify(m, &ok, &boxes[0], probs) == EMX_ERR_BOX);
    /* Mostly padding: over 64 times the image's 256 pixels (136 x 136 = 18496) is refused,
     * 128 x 128 = 16384 (64 times) is fine. */
    CHECK(emx_preprocess(m, &ok, &(emx_box){ -60, -60, 136, 136 }, out) == EMX_ERR_BOX);
    CHECK(emx_preprocess(m, &ok, &(emx_box){ -56, -56, 128, 128 }, out) == EMX_OK);
    /* A positive size lost in y + height (2 + 1e-25 == 2) still covers one pixel. */
    CHECK(emx_preprocess(m, &ok, &(emx_box){ 2, 2, 1e-25f, 1e-30f }, out) == EMX_OK);
    CHECK(emx_preprocess(NULL, &ok, NULL, out) == EMX_ERR_INVALID_ARG);
    CHECK(emx_preprocess(m, NULL, NULL, out) == EMX_ERR_INVALID_ARG);
    CHECK(emx_preprocess(m, &ok, NULL, NULL) == EMX_ERR_INVALID_ARG);
    CHECK(emx_classify(NULL, &ok, NULL, probs) == EMX_ERR_INVALID_ARG);
    CHECK(emx_classify(m, &ok, NULL, NULL) == EMX_ERR_INVALID_ARG);
    emx_model_free(m);
}

/* Windows of a 97 x 61 frame around many boxes (inside, across every edge, sub-pixel, larger
 * than the frame) give emx_preprocess's tensor exactly; a window one pixel too small is refused. */
static void test_window(void)
{
    enum { FW = 97, FH = 61 };
    static const int chans[] = { 1, 3, 4 };
    emx_test_rng rng;
    emx_test_rng_seed(&rng, 11);
    int n = 0, bad = 0, refused = 0;
    for (int ci = 0; ci < 3; ci++) {
        const int ch = chans[ci];
        for (int mc = 1; mc <= 3; mc += 2) {
            emx_model *m = spec_model(24, 24, mc, 0.5f, 0.25f);
            static uint8_t px[FW * FH * 4], win[FW * FH * 4];
            for (int i = 0; i < FW * FH * ch; i++)
                px[i] = (uint8_t)emx_test_rng_int(&rng, 0, 255);
            const emx_image frame = { px, FW, FH, ch, 0 };
            for (int t = 0; t < 60; t++) {
                emx_box box = { emx_test_rng_float(&rng, -30, FW + 5),
                                emx_test_rng_float(&rng, -30, FH + 5),
                                emx_test_rng_float(&rng, 0.2f, 80), 0 };
                box.height = t % 3 ? box.width : emx_test_rng_float(&rng, 0.2f, 80);
                if (t % 10 == 0) /* integer boxes, pixel-exact crops */
                    box.x = floorf(box.x), box.y = floorf(box.y), box.width = ceilf(box.width),
                    box.height = ceilf(box.height);
                float want[24 * 24 * 3], got[24 * 24 * 3];
                const emx_status sw = emx_preprocess(m, &frame, &box, want);
                /* the window: the box's pixels inside the frame and a random margin */
                const int mg = t % 4;
                int x0 = (int)floorf(box.x) - mg, y0 = (int)floorf(box.y) - mg;
                int x1 = (int)ceilf(box.x + box.width) + mg,
                    y1 = (int)ceilf(box.y + box.height) + mg;
                x0 = x0 < 0 ? 0 : x0 > FW - 1 ? FW - 1 : x0;
                y0 = y0 < 0 ? 0 : y0 > FH - 1 ? FH - 1 : y0;
                x1 = x1 > FW ? FW : x1 <= x0 ? x0 + 1 : x1;
                y1 = y1 > FH ? FH : y1 <= y0 ? y0 + 1 : y1;
                const int ww = x1 - x0, wh = y1 - y0;
                for (int y = 0; y < wh; y++)
                    memcpy(win + (size_t)y * ww * ch, px + ((size_t)(y0 + y) * FW + x0) * ch,
                           (size_t)ww * ch);
                const emx_image w = { win, ww, wh, ch, 0 };
                const emx_status sg = emx__preprocess_window(m, &w, FW, FH, x0, y0, &box, got);
                n++;
                if (sw != sg || (sw == EMX_OK && memcmp(want, got, 24 * 24 * (size_t)mc * 4))) {
                    bad++;
                    fprintf(stderr, "window: box %g,%g %gx%g, window %d,%d %dx%d: %d vs %d\n",
                            (double)box.x, (double)box.y, (double)box.width, (double)box.height, x0,
                            y0, ww, wh, (int)sw, (int)sg);
                }
                /* one column short on the right, when the crop reads it */
                if (sw == EMX_OK && ww > 1 && x1 < FW && x0 + ww - 1 < box.x + box.width) {
                    const emx_image w2 = { win, ww - 1, wh, ch, ww * ch };
                    refused += emx__preprocess_window(m, &w2, FW, FH, x0, y0, &box, got) ==
                               EMX_ERR_INVALID_ARG;
                }
            }
            emx_model_free(m);
        }
    }
    printf("window: %d boxes, %d differ from the whole frame; %d short windows refused\n", n, bad,
           refused);
    CHECK(bad == 0);
    CHECK(refused > 20);
}

int main(void)
{
    test_window();
    test_identity();
    test_gray_conversion();
    test_edges();
    test_resize_constant();
    test_errors();
    return emx_test_summary();
}
