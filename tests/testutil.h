/* testutil.h - small helpers shared by every tests/test-*.c (linked into each of them).
 * Tests count their checks and end with one summary line, "N passed, M failed", and a
 * nonzero exit status when anything failed, so ctest and a human read the same result. */
#ifndef EMX_TESTUTIL_H
#define EMX_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int emx_test_passed;
extern int emx_test_failed;

/* Counts one check; on failure prints file:line and the condition, and carries on. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            emx_test_passed++;                                                                     \
        } else {                                                                                   \
            emx_test_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Prints "N passed, M failed" and returns the process exit status (0 when nothing failed). */
int emx_test_summary(void);

/* xorshift64*: a fixed seed gives the same numbers on every platform, so a failure prints
 * a shape that reproduces. */
typedef struct emx_test_rng {
    uint64_t state;
} emx_test_rng;
void emx_test_rng_seed(emx_test_rng *r, uint64_t seed);
uint32_t emx_test_rng_u32(emx_test_rng *r);
float emx_test_rng_float(emx_test_rng *r, float lo, float hi); /* uniform in [lo, hi) */
int emx_test_rng_int(emx_test_rng *r, int lo, int hi);         /* uniform in [lo, hi] */
void emx_test_rng_fill(emx_test_rng *r, float *p, size_t n, float lo, float hi);

/* xorshift32 over a bare uint32_t state (nonzero; 0 is replaced by a fixed seed), for tests
 * that keep their generator in a plain integer. */
uint32_t emx_test_rand(uint32_t *state);
float emx_test_randf(uint32_t *state, float lo, float hi); /* uniform in [lo, hi) */

/* Reads a whole file into malloc'd memory (caller frees); NULL if it cannot. */
void *emx_test_read_file(const char *path, size_t *size);

/* Largest |a[i] - b[i]| and largest |b[i]| over n floats (NaN counts as infinite error). */
float emx_test_max_abs_diff(const float *a, const float *b, size_t n, float *max_abs_b);

/* Up to max 48x48 grey FER+ faces from dir (label.csv + PNGs) whose majority label is an
 * emotion (the protocol of ../shared/data/README.md), in file order; returns how many (0 when
 * the data is absent: the caller skips, saying so). dir NULL: $EMX_FERPLUS_DIR, else
 * ../shared/data/ferplus/FER2013Valid. */
int emx_test_ferplus_faces(const char *dir, uint8_t (*faces)[48 * 48], int max);

/* Paste a 48x48 grey face into a tightly packed w x h RGB frame, upscaled bilinearly to
 * size x size with its top-left at (x, y) before rotation by deg degrees about its centre
 * (clockwise on screen; mirrored first when asked). */
void emx_test_paste_face(uint8_t *rgb, int w, int h, const uint8_t *face, int x, int y, int size,
                         float deg, int mirror);

#endif /* EMX_TESTUTIL_H */
