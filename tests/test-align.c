/* test-align.c - the eye-levelled crop of emx_analyze (src/align.c): a face tilted by +25 and
 * -25 degrees comes out with its eyes on one row, in the right order, and the crop's centre
 * moves towards the forehead along the face's own "up". Flipping the sign of the rotation
 * anywhere (the eye-line angle, the sampling's sine) passed every other test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
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

static void check_tilt(float degrees)
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
    emx__warp_crop(&img, W, cx, cy, side, angle, N, 1, crop);
    float x0, y0, x1, y1, xm, ym;
    centroid(crop, 0, N / 2, 0, 48, &x0, &y0);
    centroid(crop, N / 2, N, 0, 48, &x1, &y1);
    centroid(crop, 0, N, 48, N, &xm, &ym);
    printf("tilt %+.0f deg: eyes at (%.1f, %.1f) and (%.1f, %.1f) in the %dx%d crop\n",
           (double)degrees, (double)x0, (double)y0, (double)x1, (double)y1, N, N);
    CHECK(x0 > 0 && x1 > 0);
    CHECK(fabsf(y0 - y1) < 1.0f);             /* level */
    CHECK(x1 - x0 > 0.5f * 2 * r * N / side); /* in order, about their distance apart */
    printf("  mouth at (%.1f, %.1f)\n", (double)xm, (double)ym);
    CHECK(fabsf(xm - 0.5f * (x0 + x1)) < 1.0f && ym > y0 + 10); /* straight below them */
}

int main(void)
{
    check_tilt(25);
    check_tilt(-25);
    check_tilt(0);
    return emx_test_summary();
}
