/* testutil.c - see testutil.h */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"

int emx_test_passed = 0;
int emx_test_failed = 0;

int emx_test_summary(void)
{
    printf("%d passed, %d failed\n", emx_test_passed, emx_test_failed);
    fflush(stdout);
    return emx_test_failed ? 1 : 0;
}

void emx_test_rng_seed(emx_test_rng *r, uint64_t seed)
{
    r->state = seed ? seed : 0x9E3779B97F4A7C15ull; /* xorshift's state must not be 0 */
}

uint32_t emx_test_rng_u32(emx_test_rng *r)
{
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

float emx_test_rng_float(emx_test_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)(emx_test_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

int emx_test_rng_int(emx_test_rng *r, int lo, int hi)
{
    return lo + (int)(emx_test_rng_u32(r) % (uint32_t)(hi - lo + 1));
}

void emx_test_rng_fill(emx_test_rng *r, float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        p[i] = emx_test_rng_float(r, lo, hi);
}

uint32_t emx_test_rand(uint32_t *state)
{
    uint32_t x = *state ? *state : 2463534242u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

float emx_test_randf(uint32_t *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)(emx_test_rand(state) >> 8) * (1.0f / 16777216.0f);
}

void *emx_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0; /* lets text files be used as C strings */
        if (size)
            *size = (size_t)n;
    }
    return buf;
}

float emx_test_max_abs_diff(const float *a, const float *b, size_t n, float *max_abs_b)
{
    float err = 0.0f, mag = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float d = fabsf(a[i] - b[i]);
        if (!(d <= err))
            err = isnan(d) ? INFINITY : d;
        if (fabsf(b[i]) > mag)
            mag = fabsf(b[i]);
    }
    if (max_abs_b)
        *max_abs_b = mag;
    return err;
}

int emx_test_ferplus_faces(const char *dir, uint8_t (*faces)[48 * 48], int max)
{
    if (!dir)
        dir = getenv("EMX_FERPLUS_DIR");
    if (!dir)
        dir = "../shared/data/ferplus/FER2013Valid";
    char path[1024];
    snprintf(path, sizeof path, "%s/label.csv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    int n = 0;
    char line[512];
    while (n < max && fgets(line, sizeof line, fp)) {
        char name[64];
        int v[10];
        if (sscanf(line, "%63[^,],\"(%*d, %*d, %*d, %*d)\",%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", name,
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 11)
            continue;
        int sum = 0, best = 0;
        for (int i = 0; i < 10; i++) {
            if (v[i] <= 1)
                v[i] = 0;
            sum += v[i];
            if (v[i] > v[best])
                best = i;
        }
        if (!(v[best] * 2 > sum) || best >= 8)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t size = 0;
        void *bytes = emx_test_read_file(path, &size);
        uint8_t *px = NULL;
        int w, h, c;
        if (bytes && emx_image_decode(bytes, size, &px, &w, &h, &c) == EMX_OK && w == 48 &&
            h == 48 && c == 1)
            memcpy(faces[n++], px, 48 * 48);
        emx_image_free(px);
        free(bytes);
    }
    fclose(fp);
    return n;
}

void emx_test_paste_face(uint8_t *rgb, int w, int h, const uint8_t *face, int x, int y, int size,
                         float deg, int mirror)
{
    const float a = deg * 3.14159265f / 180.0f, c = cosf(a), s = sinf(a);
    const float cx = x + 0.5f * size, cy = y + 0.5f * size;
    const int r = (int)ceilf(size * 0.75f);
    for (int py = (int)cy - r; py <= (int)cy + r; py++)
        for (int px = (int)cx - r; px <= (int)cx + r; px++) {
            if (px < 0 || py < 0 || px >= w || py >= h)
                continue;
            /* frame -> face square coordinates (inverse rotation) */
            const float dx = px + 0.5f - cx, dy = py + 0.5f - cy;
            float u = dx * c + dy * s + 0.5f * size, v = -dx * s + dy * c + 0.5f * size;
            if (u < 0 || v < 0 || u >= size || v >= size)
                continue;
            if (mirror)
                u = size - u;
            float fu = u * 48.0f / size - 0.5f, fv = v * 48.0f / size - 0.5f;
            fu = fminf(fmaxf(fu, 0), 47), fv = fminf(fmaxf(fv, 0), 47);
            const int u0 = (int)fu, v0 = (int)fv, u1 = u0 < 47 ? u0 + 1 : u0,
                      v1 = v0 < 47 ? v0 + 1 : v0;
            const float tu = fu - u0, tv = fv - v0;
            const float g = (face[v0 * 48 + u0] * (1 - tu) + face[v0 * 48 + u1] * tu) * (1 - tv) +
                            (face[v1 * 48 + u0] * (1 - tu) + face[v1 * 48 + u1] * tu) * tv;
            uint8_t *o = rgb + ((size_t)py * w + px) * 3;
            o[0] = o[1] = o[2] = (uint8_t)(g + 0.5f);
        }
}
