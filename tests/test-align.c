/* test-align.c - the eye-levelled crop of emx_analyze (src/align.c): a face tilted by +25 and
 * -25 degrees comes out with its eyes on one row, in the right order, and the crop's centre
 * moves towards the forehead along the face's own "up", through both of emx__warp_input's
 * samplers (shrinking: box filter; enlarging: bilinear). Flipping the sign of the rotation
 * anywhere (the eye-line angle, either sampler's sine) passed every other test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "pixel.h"
#include "testutil.h"

#define W     200
#define MAX_N 128

static uint8_t img_px[W * W];

static void dot(float x, float y)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++)
            img_px[((int)lroundf(y) + dy) * W + (int)lroundf(x) + dx] = 255;
}

/* Brightness-weighted centre of the N x N crop's columns [x0, x1), rows [y0, y1). */
static void centroid(const uint8_t *crop, int N, int x0, int x1, int y0, int y1, float *cx,
                     float *cy)
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

/* N = 64 shrinks the crop (side ~98 frame pixels: emx__warp_input's box filter), N = 128
 * enlarges it (its bilinear branch). */
static void check_tilt(float degrees, int N)
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
    static uint8_t crop[MAX_N * MAX_N];
    static float t[MAX_N * MAX_N];
    const emx_image img = { img_px, W, W, 1, 0 };
    /* emx__warp_input (what emx_analyze runs), read back as bytes */
    const emx_input_spec spec = { N, N, 1, 0.0f, 1.0f / 255.0f };
    emx__warp_input(&img, W, cx, cy, side, angle, &spec, t);
    for (int i = 0; i < N * N; i++)
        crop[i] = (uint8_t)lroundf(t[i]);
    float x0, y0, x1, y1, xm, ym;
    const int eyes_end = N * 3 / 4; /* eyes above this row, the mouth below */
    centroid(crop, N, 0, N / 2, 0, eyes_end, &x0, &y0);
    centroid(crop, N, N / 2, N, 0, eyes_end, &x1, &y1);
    centroid(crop, N, 0, N, eyes_end, N, &xm, &ym);
    printf("tilt %+.0f deg (%s): eyes at (%.1f, %.1f) and (%.1f, %.1f) in the %dx%d crop\n",
           (double)degrees, N < side ? "shrinking" : "enlarging", (double)x0, (double)y0,
           (double)x1, (double)y1, N, N);
    CHECK(x0 > 0 && x1 > 0);
    CHECK(fabsf(y0 - y1) < N / 64.0f);        /* level */
    CHECK(x1 - x0 > 0.5f * 2 * r * N / side); /* in order, about their distance apart */
    printf("  mouth at (%.1f, %.1f)\n", (double)xm, (double)ym);
    CHECK(fabsf(xm - 0.5f * (x0 + x1)) < N / 64.0f && ym > y0 + N * 10 / 64); /* below them */
}

/* The enlarging branch's definition, in double: channel k of the frame at (sx, sy) in pixel
 * units (centres at integer + 0.5), clamped to the pixel centres, then rounded. */
static uint8_t bilinear(const uint8_t *px, int fw, int fh, int ch, double sx, double sy, int k)
{
    sx = fmin(fmax(sx - 0.5, 0.0), fw - 1.0), sy = fmin(fmax(sy - 0.5, 0.0), fh - 1.0);
    const int x0 = (int)sx, y0 = (int)sy;
    const int x1 = x0 + 1 < fw ? x0 + 1 : x0, y1 = y0 + 1 < fh ? y0 + 1 : y0;
    const double fx = sx - x0, fy = sy - y0;
#define P(x, y) ((double)px[((size_t)(y)*fw + (x)) * ch + k])
    const double v = (P(x0, y0) * (1 - fx) + P(x1, y0) * fx) * (1 - fy) +
                     (P(x0, y1) * (1 - fx) + P(x1, y1) * fx) * fy;
#undef P
    return (uint8_t)(v + 0.5);
}

/* emx__warp_input against its definition. Shrinking by 4 (side 192 into 48) with the centre on
 * a pixel corner puts the 4 x 4 samples of each input pixel on the centres of a 4 x 4 block of
 * frame pixels: the output is each block's rounded mean (per channel, then grey, then
 * normalised). Turned by 90 degrees it is the same blocks, transposed and mirrored. Enlarging
 * (side 24 into 48) is bilinear sampling at each input pixel's centre (bilinear() below,
 * edge pixels repeated), rounded per channel, grey, normalised. */
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
    /* crops reaching past the frame's bottom-right and top-left corners: samples outside it
     * repeat the edge pixels (the clamp of the sample position) */
    static const int corners[2][2] = { { FW - 120, FH - 100 }, { -40, -60 } };
    int bad_edge = 0;
    for (int e = 0; e < 2; e++) {
        const int ex = corners[e][0], ey = corners[e][1];
        emx__warp_input(&img, FW * 3, ex + 96.0f, ey + 96.0f, 192.0f, 0.0f, &spec, out);
        for (int v = 0; v < IN; v++)
            for (int u = 0; u < IN; u++) {
                unsigned sum[3] = { 0, 0, 0 };
                for (int j = 0; j < 4; j++)
                    for (int i = 0; i < 4; i++) {
                        int fx = ex + 4 * u + i, fy = ey + 4 * v + j;
                        fx = fx < 0 ? 0 : fx >= FW ? FW - 1 : fx;
                        fy = fy < 0 ? 0 : fy >= FH ? FH - 1 : fy;
                        for (int k = 0; k < 3; k++)
                            sum[k] += rgb[((size_t)fy * FW + fx) * 3 + k];
                    }
                const uint8_t g =
                    emx__grey((sum[0] + 8) / 16, (sum[1] + 8) / 16, (sum[2] + 8) / 16);
                bad_edge += fabsf(out[v * IN + u] - ((float)g / 255.0f - 0.5f) / 0.25f) > 1e-5f;
            }
    }
    CHECK(bad_edge == 0);
    if (bad_edge)
        fprintf(stderr, "emx__warp_input: %d pixels of crops past the frame's corners differ\n",
                bad_edge);
    if (bad || bad_rot)
        fprintf(stderr, "emx__warp_input: %d pixels differ from the block means, %d turned\n", bad,
                bad_rot);
    /* enlarging: bilinear samples at the input pixels' centres, turned by 0.3 rad about the
     * crop's centre (the frame position of crop offset (dx, dy) is centre + R(a) (dx, dy)).
     * Float rounding in the sampler may move a sample's value across a .5 by a hair: allow one
     * grey level on a few pixels, never more. */
    const double ecx = 150.3, ecy = 120.7, eside = 24.0, ea = 0.3;
    emx__warp_input(&img, FW * 3, (float)ecx, (float)ecy, (float)eside, (float)ea, &spec, out);
    int bad_up = 0, off_by_one = 0;
    for (int v = 0; v < IN; v++)
        for (int u = 0; u < IN; u++) {
            const double dx = (u + 0.5) * eside / IN - 0.5 * eside;
            const double dy = (v + 0.5) * eside / IN - 0.5 * eside;
            const double sx = ecx + dx * cos(ea) - dy * sin(ea),
                         sy = ecy + dx * sin(ea) + dy * cos(ea);
            const uint8_t g =
                emx__grey(bilinear(rgb, FW, FH, 3, sx, sy, 0), bilinear(rgb, FW, FH, 3, sx, sy, 1),
                          bilinear(rgb, FW, FH, 3, sx, sy, 2));
            const float d = fabsf(out[v * IN + u] - ((float)g / 255.0f - 0.5f) / 0.25f);
            bad_up += d > 1.01f / (255.0f * 0.25f);
            off_by_one += d > 1e-5f;
        }
    CHECK(off_by_one < IN * IN / 50);
    CHECK(bad_up == 0);
    printf("emx__warp_input: block means %d/%d, turned %d/%d, enlarged %d/%d pixels wrong "
           "(%d a grey level off)\n",
           bad, IN * IN, bad_rot, IN * IN, bad_up, IN * IN, off_by_one);
}

int main(void)
{
    for (int n = 64; n <= MAX_N; n += MAX_N - 64) {
        check_tilt(25, n);
        check_tilt(-25, n);
        check_tilt(0, n);
    }
    check_warp_input();
    return emx_test_summary();
}
