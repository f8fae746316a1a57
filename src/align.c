/* align.c - the crop emx_analyze classifies for a detected face: the box enlarged to a
 * FER+-style forehead-to-chin square, rotated so the eye line is level, sampled bilinearly. */
#include <math.h>

#include "detect.h"
#include "pixel.h"

/* Sample a square of side `side` frame pixels centred on (cx, cy), rotated by angle (radians,
 * the direction of the eye line), into an n x n crop in the classifier's channel count:
 * bilinear, edge pixels repeated outside the frame. */
void emx__warp_crop(const emx_image *img, size_t stride, float cx, float cy, float side,
                    float angle, int n, int nc, uint8_t *dst)
{
    const float c = cosf(angle), s = sinf(angle), step = side / n;
    const int ch = img->channels;
    for (int v = 0; v < n; v++)
        for (int u = 0; u < n; u++) {
            const float dx = (u + 0.5f) * step - 0.5f * side, dy = (v + 0.5f) * step - 0.5f * side;
            float sx = cx + dx * c - dy * s - 0.5f, sy = cy + dx * s + dy * c - 0.5f;
            sx = fminf(fmaxf(sx, 0.0f), (float)(img->width - 1));
            sy = fminf(fmaxf(sy, 0.0f), (float)(img->height - 1));
            const int x0 = (int)sx, y0 = (int)sy;
            const int x1 = x0 + 1 < img->width ? x0 + 1 : x0,
                      y1 = y0 + 1 < img->height ? y0 + 1 : y0;
            const float fx = sx - x0, fy = sy - y0;
            const uint8_t *p00 = img->data + (size_t)y0 * stride + (size_t)x0 * ch;
            const uint8_t *p01 = img->data + (size_t)y0 * stride + (size_t)x1 * ch;
            const uint8_t *p10 = img->data + (size_t)y1 * stride + (size_t)x0 * ch;
            const uint8_t *p11 = img->data + (size_t)y1 * stride + (size_t)x1 * ch;
            float rgb[3];
            for (int k = 0; k < 3; k++) {
                const int kk = ch == 1 ? 0 : k;
                rgb[k] = (p00[kk] * (1 - fx) + p01[kk] * fx) * (1 - fy) +
                         (p10[kk] * (1 - fx) + p11[kk] * fx) * fy;
            }
            uint8_t *o = dst + ((size_t)v * n + u) * nc;
            if (nc == 1) {
                uint8_t q[3];
                for (int k = 0; k < 3; k++)
                    q[k] = (uint8_t)(rgb[k] + 0.5f);
                o[0] = emx__grey(q[0], q[1], q[2]);
            } else {
                for (int k = 0; k < 3; k++)
                    o[k] = (uint8_t)(rgb[k] + 0.5f);
            }
        }
}

/* FER+ crops run from the hairline to below the chin; BlazeFace's box is smaller and lower.
 * Measured on 300 FER+ Valid faces pasted at 200 px (tests/test-detect.c): the crop's side
 * is 1.22 +- 0.20 box sides and its centre 0.114 +- 0.077 box sides above the box's (and
 * 0.003 +- 0.065 to the right). The crop is the box mapped through those means, in the face's
 * own frame (rotated by the eye line). */
/* The one place these numbers live: every caller reads the crop from emx_face.crop. */
#define CROP_SCALE 1.22f
#define CROP_UP    0.114f

emx_crop emx__face_crop(const emx_face *f)
{
    float a = 0.0f;
    if (f->n_landmarks >= 2)
        a = atan2f(f->landmarks[1][1] - f->landmarks[0][1],
                   f->landmarks[1][0] - f->landmarks[0][0]);
    /* Nearly level eyes: not worth resampling (the plain crop is sharper), so not rotated, and
     * reported as such so that what is drawn on the crop lands where it was taken. */
    if (fabsf(a) < LEVEL_EPS)
        a = 0.0f;
    const float bs = fmaxf(f->box.width, f->box.height);
    /* "up" in the face's frame is (sin a, -cos a) in the image */
    emx_crop c = { f->box.x + 0.5f * f->box.width + sinf(a) * CROP_UP * bs,
                   f->box.y + 0.5f * f->box.height - cosf(a) * CROP_UP * bs, bs * CROP_SCALE, a };
    return c;
}
