/* align.c - the crop emx_analyze classifies for a detected face: the box enlarged to a
 * FER+-style forehead-to-chin square, rotated so the eye line is level, sampled straight into
 * the classifier's input. */
#include <math.h>

#include "detect.h"
#include "pixel.h"

/* Sample a square of side `side` frame pixels centred on (cx, cy), rotated by angle (radians,
 * the direction of the eye line), straight into the classifier's input tensor (W x H,
 * normalised), in one pass: no intermediate crop, no separate resize; edge pixels are repeated
 * outside the frame. Shrinking (the usual case: a face of
 * 100-400 frame pixels into 48) averages k x k point samples per input pixel, k = ceil(frame
 * pixels per input pixel), capped at 8: spaced at most one frame pixel apart, they visit every
 * frame pixel of the pixel's footprint about once, i.e. an area (box) filter, at a quarter of
 * the reads of bilinear samples and with no resampling pass after. Enlarging (faces smaller than
 * the input) samples bilinearly. Channels are averaged and rounded
 * before the grey conversion (PIL's formula, as in emx_preprocess), then normalised as
 * ToTensor + Normalize. */
/* fminf(fmaxf(v, 0), hi) for the sample positions below (NaN -> 0 as well): in wasm fminf and
 * fmaxf are libc calls (their NaN rule is not f32.min's), four per sample, which cost more than
 * the sampling itself */
static inline float clamp0(float v, float hi)
{
    return v > 0.0f ? (v < hi ? v : hi) : 0.0f;
}

void emx__warp_input(const emx_image *img, size_t stride, float cx, float cy, float side,
                     float angle, const emx_input_spec *in, float *out)
{
    enum { MAX_K = 8 };
    const int W = in->width, H = in->height, nc = in->channels, ch = img->channels;
    const float c = cosf(angle), s = sinf(angle);
    const float step_x = side / (float)W, step_y = side / (float)H;
    int kx = (int)ceilf(step_x), ky = (int)ceilf(step_y);
    kx = kx < 1 ? 1 : kx > MAX_K ? MAX_K : kx;
    ky = ky < 1 ? 1 : ky > MAX_K ? MAX_K : ky;
    const float a = 1.0f / (255.0f * in->std), b = -in->mean / in->std;
    if (kx == 1 && ky == 1) {
        /* enlarging: bilinear at each input pixel's centre */
        for (int v = 0; v < H; v++)
            for (int u = 0; u < W; u++) {
                const float dx = (u + 0.5f) * step_x - 0.5f * side;
                const float dy = (v + 0.5f) * step_y - 0.5f * side;
                float sx = cx + dx * c - dy * s - 0.5f, sy = cy + dx * s + dy * c - 0.5f;
                sx = clamp0(sx, (float)(img->width - 1));
                sy = clamp0(sy, (float)(img->height - 1));
                const int x0 = (int)sx, y0 = (int)sy;
                const int x1 = x0 + 1 < img->width ? x0 + 1 : x0,
                          y1 = y0 + 1 < img->height ? y0 + 1 : y0;
                const float fx = sx - x0, fy = sy - y0;
                const uint8_t *r0 = img->data + (size_t)y0 * stride,
                              *r1 = img->data + (size_t)y1 * stride;
                uint8_t q[3];
                for (int k = 0; k < 3; k++) {
                    const int kk = ch == 1 ? 0 : k;
                    const float val =
                        (r0[x0 * ch + kk] * (1 - fx) + r0[x1 * ch + kk] * fx) * (1 - fy) +
                        (r1[x0 * ch + kk] * (1 - fx) + r1[x1 * ch + kk] * fx) * fy;
                    q[k] = (uint8_t)(val + 0.5f);
                }
                float *o = out + ((size_t)v * W + u) * nc;
                if (nc == 1)
                    o[0] = emx__grey(q[0], q[1], q[2]) * a + b;
                else
                    o[0] = q[0] * a + b, o[1] = q[1] * a + b, o[2] = q[2] * a + b;
            }
        return;
    }
    /* one output row at a time: k_y rows of samples, k_x samples per pixel along each */
    uint32_t acc[3 * EMX_MAX_INPUT_SIDE];
    const float sub_x = step_x / (float)kx, sub_y = step_y / (float)ky;
    const float wmax = (float)img->width - 0.5f, hmax = (float)img->height - 0.5f;
    const uint32_t n = (uint32_t)(kx * ky);
    for (int v = 0; v < H; v++) {
        for (int i = 0; i < 3 * W; i++)
            acc[i] = 0;
        for (int j = 0; j < ky; j++) {
            /* sample (u, i) of this row sits at dx = (u * kx + i + 0.5) * sub_x - side / 2 in
             * the crop, dy fixed; frame position: centre + rotation of (dx, dy) */
            const float dy = ((float)(v * ky + j) + 0.5f) * sub_y - 0.5f * side;
            const float dx0 = 0.5f * sub_x - 0.5f * side;
            float sx = cx + dx0 * c - dy * s, sy = cy + dx0 * s + dy * c;
            const float dsx = sub_x * c, dsy = sub_x * s;
            uint32_t *ac = acc;
            for (int u = 0; u < W; u++, ac += 3)
                for (int i = 0; i < kx; i++, sx += dsx, sy += dsy) {
                    /* nearest frame pixel, edge pixels repeated outside the frame */
                    const float x = clamp0(sx, wmax), y = clamp0(sy, hmax);
                    const uint8_t *p = img->data + (size_t)(int)y * stride + (size_t)(int)x * ch;
                    if (ch == 1)
                        ac[0] += p[0], ac[1] += p[0], ac[2] += p[0];
                    else
                        ac[0] += p[0], ac[1] += p[1], ac[2] += p[2];
                }
        }
        float *o = out + (size_t)v * W * nc;
        for (int u = 0; u < W; u++) {
            const unsigned r = (acc[3 * u] + n / 2) / n, g = (acc[3 * u + 1] + n / 2) / n,
                           bl = (acc[3 * u + 2] + n / 2) / n;
            if (nc == 1)
                o[u] = emx__grey(r, g, bl) * a + b;
            else
                o[3 * u] = r * a + b, o[3 * u + 1] = g * a + b, o[3 * u + 2] = bl * a + b;
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
