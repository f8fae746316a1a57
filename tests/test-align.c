/* test-align.c - the eye-levelled crop of emx_analyze (src/align.c): a face tilted by +25 and
 * -25 degrees comes out with its eyes on one row, in the right order, and the crop's centre
 * moves towards the forehead along the face's own "up". Flipping the sign of the rotation
 * anywhere (the eye-line angle, the sampling's sine) passed every other test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "pixel.h"
#include "testutil.h"

#define W 200
#define N 64

static uint8_t img_px[W * W];

static void dot(float x, float y)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++)
            img_px[((int)lroundf(y) + dy) * W + (int)lroundf(x) + dx] = 255;
}

/* Brightness-weighted centre of the crop's columns [x0, x1), rows [y0, y1). */
static void centroid(const uint8_t *crop, int x0, int x1, int y0, int y1, float *cx, float *cy)
{
    double sx = 0, sy = 0, s = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            sx += (double)crop[y * N + x] * x;
            sy += (double)crop[y * N + x] * y;
            s += crop[y * N + x];
        }
    *cx = s > 0 ? (float)(sx / s) : -1;
    *cy = s > 0 ? (float)(sy / s) : -1;
}

static void check_tilt(float degrees, int fused)
{
    const float a = degrees * 3.14159265f / 180.0f, c = 100.0f, r = 20.0f;
    memset(img_px, 0, sizeof img_px);
    /* landmarks[0]: the subject's right eye, on the image's left; [1] the other one */
    const float lx = c - r * cosf(a), ly = c - r * sinf(a);
    const float rx = c + r * cosf(a), ry = c + r * sinf(a);
    dot(lx, ly);
    dot(rx, ry);
    /* the mouth, below the eyes' midpoint in the face's own frame: (-sin a, cos a) is down */
    dot(c - 30 * sinf(a), c + 30 * cosf(a));
    emx_face f;
    memset(&f, 0, sizeof f);
    f.box = (emx_box){ c - 40, c - 40, 80, 80 };
    f.n_landmarks = 2;
    f.landmarks[0][0] = lx, f.landmarks[0][1] = ly;
    f.landmarks[1][0] = rx, f.landmarks[1][1] = ry;
    const emx_crop k = emx__face_crop(&f);
    const float cx = k.cx, cy = k.cy, side = k.side, angle = k.angle;
    CHECK(fabsf(angle - a) < 1e-4f);
    /* up in the face's frame is (sin a, -cos a) in the image: the centre moves that way */
    CHECK(a == 0 ? fabsf(cx - c) < 1e-3f : (cx - c) * sinf(a) > 0);
    CHECK(cy < c);
    uint8_t crop[N * N];
    const emx_image img = { img_px, W, W, 1, 0 };
    if (fused) { /* emx__warp_input (what emx_analyze runs), read back as bytes */
        const emx_input_spec spec = { N, N, 1, 0.0f, 1.0f / 255.0f };
        static float t[N * N];
        emx__warp_input(&img, W, cx, cy, side, angle, &spec, t);
        for (int i = 0; i < N * N; i++)
            crop[i] = (uint8_t)lroundf(t[i]);
    } else {
        emx__warp_crop(&img, W, cx, cy, side, angle, N, 1, crop);
    }
    float x0, y0, x1, y1, xm, ym;
    centroid(crop, 0, N / 2, 0, 48, &x0, &y0);
    centroid(crop, N / 2, N, 0, 48, &x1, &y1);
    centroid(crop, 0, N, 48, N, &xm, &ym);
    printf("tilt %+.0f deg (%s): eyes at (%.1f, %.1f) and (%.1f, %.1f) in the %dx%d crop\n",
           (double)degrees, fused ? "emx__warp_input" : "emx__warp_crop", (double)x0, (double)y0,
           (double)x1, (double)y1, N, N);
    CHECK(x0 > 0 && x1 > 0);
    CHECK(fabsf(y0 - y1) < 1.0f);             /* level */
    CHECK(x1 - x0 > 0.5f * 2 * r * N / side); /* in order, about their distance apart */
    printf("  mouth at (%.1f, %.1f)\n", (double)xm, (double)ym);
    CHECK(fabsf(xm - 0.5f * (x0 + x1)) < 1.0f && ym > y0 + 10); /* straight below them */
}

/* emx__warp_input against its definition. Shrinking by 4 (side 192 into 48) with the centre on
 * a pixel corner puts the 4 x 4 samples of each input pixel on the centres of a 4 x 4 block of
 * frame pixels: the output is each block's rounded mean (per channel, then grey, then
 * normalised). Turned by 90 degrees it is the same blocks, transposed and mirrored. Enlarging
 * (side 24 into 48) is emx__warp_crop's bilinear sampling, normalised. */
static void check_warp_input(void)
{
    enum { FW = 300, FH = 260, IN = 48 };
    static uint8_t rgb[FW * FH * 3];
    emx_test_rng rng;
    emx_test_rng_seed(&rng, 5);
    for (int i = 0; i < FW * FH * 3; i++)
        rgb[i] = (uint8_t)emx_test_rng_int(&rng, 0, 255);
    const emx_image img = { rgb, FW, FH, 3, 0 };
    const emx_input_spec spec = { IN, IN, 1, 0.5f, 0.25f };
    static float out[IN * IN], rot[IN * IN];
    const int x0 = 60, y0 = 40; /* the crop's top-left frame pixel */
    emx__warp_input(&img, FW * 3, x0 + 96.0f, y0 + 96.0f, 192.0f, 0.0f, &spec, out);
    emx__warp_input(&img, FW * 3, x0 + 96.0f, y0 + 96.0f, 192.0f, 1.57079633f, &spec, rot);
    int bad = 0, bad_rot = 0;
    for (int v = 0; v < IN; v++)
        for (int u = 0; u < IN; u++) {
            unsigned sum[3] = { 0, 0, 0 };
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                    for (int k = 0; k < 3; k++)
                        sum[k] += rgb[((size_t)(y0 + 4 * v + j) * FW + x0 + 4 * u + i) * 3 + k];
            const uint8_t g = emx__grey((sum[0] + 8) / 16, (sum[1] + 8) / 16, (sum[2] + 8) / 16);
            const float want = ((float)g / 255.0f - 0.5f) / 0.25f;
            bad += fabsf(out[v * IN + u] - want) > 1e-5f;
            /* turned by +90 degrees, crop (dx, dy) samples frame (cx - dy, cy + dx): this block
             * is pixel (v, IN - 1 - u) of the turned crop */
            bad_rot += fabsf(rot[(IN - 1 - u) * IN + v] - want) > 1e-5f;
        }
    CHECK(bad == 0);
    CHECK(bad_rot == 0);
    if (bad || bad_rot)
        fprintf(stderr, "emx__warp_input: %d pixels differ from the block means, %d turned\n", bad,
                bad_rot);
    /* enlarging: the bilinear sampler of emx__warp_crop, grey, normalised */
    static uint8_t crop[IN * IN];
    emx__warp_crop(&img, FW * 3, 150.3f, 120.7f, 24.0f, 0.3f, IN, 1, crop);
    emx__warp_input(&img, FW * 3, 150.3f, 120.7f, 24.0f, 0.3f, &spec, out);
    int bad_up = 0;
    for (int i = 0; i < IN * IN; i++)
        bad_up += fabsf(out[i] - ((float)crop[i] / 255.0f - 0.5f) / 0.25f) > 1e-5f;
    CHECK(bad_up == 0);
    printf("emx__warp_input: block means %d/%d, turned %d/%d, enlarged %d/%d pixels wrong\n", bad,
           IN * IN, bad_rot, IN * IN, bad_up, IN * IN);
}

int main(void)
{
    for (int fused = 0; fused <= 1; fused++) {
        check_tilt(25, fused);
        check_tilt(-25, fused);
        check_tilt(0, fused);
    }
    check_warp_input();
    return emx_test_summary();
}
