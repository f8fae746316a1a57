/* testutil.c - see testutil.h */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

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
