/* test-decode.c - emx_image_decode on small fixtures (tests/fixtures/, written by PIL): exact
 * pixels for PNG, close ones for JPEG, and clean failures for damaged or foreign bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"
#include "testutil.h"

typedef struct decoded {
    emx_status st;
    uint8_t *px;
    int w, h, c;
} decoded;

static decoded decode(const void *bytes, size_t size)
{
    decoded d = { 0 };
    d.st = emx_image_decode(bytes, size, &d.px, &d.w, &d.h, &d.c);
    return d;
}

static uint8_t *fixture(const char *name, size_t *size)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/%s", name);
    uint8_t *bytes = emx_test_read_file(path, size);
    if (!bytes)
        fprintf(stderr, "cannot read %s (run from the repository root)\n", path);
    CHECK(bytes != NULL);
    return bytes;
}

static void test_png_pixels(void)
{
    size_t size;
    uint8_t *bytes = fixture("rgb-5x3.png", &size);
    if (bytes) {
        decoded d = decode(bytes, size);
        CHECK(d.st == EMX_OK && d.w == 5 && d.h == 3 && d.c == 3);
        int exact = d.st == EMX_OK;
        for (int y = 0; exact && y < 3; y++)
            for (int x = 0; x < 5; x++) {
                const uint8_t *p = d.px + (y * 5 + x) * 3;
                exact &= p[0] == 40 * x + 7 && p[1] == 90 * y + 3 && p[2] == 25 * (x + y) + 11;
            }
        CHECK(exact);
        emx_image_free(d.px);

        /* Every truncation fails cleanly: stb alone would fill missing data with zeros. */
        int all_fail = 1;
        for (size_t n = 0; n < size; n++) {
            d = decode(bytes, n);
            all_fail &= d.st == EMX_ERR_DECODE && d.px == NULL;
            emx_image_free(d.px);
        }
        CHECK(all_fail);
        free(bytes);
    }

    bytes = fixture("gray-4x4.png", &size);
    if (bytes) {
        decoded d = decode(bytes, size);
        CHECK(d.st == EMX_OK && d.w == 4 && d.h == 4 && d.c == 1);
        int exact = d.st == EMX_OK;
        for (int i = 0; exact && i < 16; i++)
            exact &= d.px[i] == 16 * i + 5;
        CHECK(exact);
        emx_image_free(d.px);
        free(bytes);
    }

    bytes = fixture("rgba-3x2.png", &size);
    if (bytes) {
        decoded d = decode(bytes, size);
        CHECK(d.st == EMX_OK && d.w == 3 && d.h == 2 && d.c == 4);
        int exact = d.st == EMX_OK;
        for (int y = 0; exact && y < 2; y++)
            for (int x = 0; x < 3; x++) {
                const uint8_t *p = d.px + (y * 3 + x) * 4;
                exact &= p[0] == x * 100 && p[1] == y * 100 && p[2] == 50 &&
                         p[3] == 30 * x + 60 * y + 10;
            }
        CHECK(exact);
        emx_image_free(d.px);
        free(bytes);
    }

    /* Gray + alpha has no emx_image layout: it comes back as gray. */
    bytes = fixture("gray-alpha-2x2.png", &size);
    if (bytes) {
        decoded d = decode(bytes, size);
        CHECK(d.st == EMX_OK && d.w == 2 && d.h == 2 && d.c == 1);
        int exact = d.st == EMX_OK;
        for (int i = 0; exact && i < 4; i++)
            exact &= d.px[i] == 60 * i + 20;
        CHECK(exact);
        emx_image_free(d.px);
        free(bytes);
    }
}

static void test_jpeg(void)
{
    size_t size;
    uint8_t *bytes = fixture("gray-8x8.jpg", &size);
    if (!bytes)
        return;
    decoded d = decode(bytes, size);
    CHECK(d.st == EMX_OK && d.w == 8 && d.h == 8 && d.c == 1);
    int close = d.st == EMX_OK;
    for (int i = 0; close && i < 64; i++)
        close &= abs(d.px[i] - 128) <= 2;
    CHECK(close);
    emx_image_free(d.px);
    /* A JPEG cut short may decode partly (stb is lenient there), but must never crash. */
    for (size_t n = 0; n < size; n++) {
        d = decode(bytes, n);
        CHECK(d.st == EMX_OK ? d.px != NULL : d.px == NULL);
        emx_image_free(d.px);
    }
    free(bytes);
}

static void test_garbage(void)
{
    uint32_t rng = 5;
    uint8_t junk[4096];
    int all_fail = 1;
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 1 + emx_test_rand(&rng) % sizeof junk;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)emx_test_rand(&rng);
        decoded d = decode(junk, n);
        all_fail &= d.st == EMX_ERR_DECODE && d.px == NULL;
        emx_image_free(d.px);
    }
    CHECK(all_fail);
    /* A PNG signature followed by garbage. */
    static const uint8_t sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
    memcpy(junk, sig, 8);
    CHECK(decode(junk, 64).st == EMX_ERR_DECODE);
    CHECK(decode(junk, 0).st == EMX_ERR_DECODE);

    uint8_t *px = (uint8_t *)1;
    int w, h, c;
    CHECK(emx_image_decode(NULL, 10, &px, &w, &h, &c) == EMX_ERR_INVALID_ARG && px == NULL);
    CHECK(emx_image_decode(junk, 10, NULL, &w, &h, &c) == EMX_ERR_INVALID_ARG);
    CHECK(emx_image_decode(junk, 10, &px, NULL, &h, &c) == EMX_ERR_INVALID_ARG);
    emx_image_free(NULL);
}

int main(void)
{
    test_png_pixels();
    test_jpeg();
    test_garbage();
    return emx_test_summary();
}
