/* preprocess.c - image + face box -> the model's normalised input tensor, computing the same
 * numbers as the training pipeline (PIL crop, convert('L'), ToTensor, Normalize). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pixel.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#include <stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define MAX_CROP_SIDE EMX_MAX_IMAGE_SIDE
/* A box may cover at most this many times the pixels of the image (or of the model's input,
 * when that is larger). The crop is materialised with its edge padding before resizing, so
 * without this a 100 x 30 frame with a 16000 x 16000 box (a detector's garbage, or hostile
 * input) costs a 768 MB buffer and seconds of resizing; in WebAssembly that memory is never
 * given back. Found by tests/fuzz/fuzz-classify.c (tests/fuzz/regress/classify-*). */
#define MAX_CROP_AREA_FACTOR 64

typedef struct rect {
    int x0, y0, w, h;
} rect;

emx_status emx__check_image(const emx_image *img, size_t *stride)
{
    if (!img->data || img->width < 1 || img->height < 1 || img->width > EMX_MAX_IMAGE_SIDE ||
        img->height > EMX_MAX_IMAGE_SIDE ||
        (int64_t)img->width * img->height > EMX_MAX_IMAGE_PIXELS ||
        (img->channels != 1 && img->channels != 3 && img->channels != 4))
        return EMX_ERR_IMAGE;
    size_t row = (size_t)img->width * (size_t)img->channels;
    if (img->stride != 0 && (img->stride < 0 || (size_t)img->stride < row))
        return EMX_ERR_IMAGE;
    *stride = img->stride ? (size_t)img->stride : row;
    return EMX_OK;
}

/* The integer pixel rectangle covering the box (floor of the start, ceil of the end), so a
 * box on pixel boundaries crops exactly those pixels. Computed in double: float coordinates
 * up to 1e38 must be rejected, not overflow an int. */
static emx_status box_rect(const emx_image *img, const emx_box *box, const emx_input_spec *in,
                           rect *r)
{
    if (!box) {
        *r = (rect){ 0, 0, img->width, img->height };
        return EMX_OK;
    }
    if (!isfinite(box->x) || !isfinite(box->y) || !isfinite(box->width) || !isfinite(box->height) ||
        !(box->width > 0) || !(box->height > 0))
        return EMX_ERR_BOX;
    double x0 = floor((double)box->x), x1 = ceil((double)box->x + box->width);
    double y0 = floor((double)box->y), y1 = ceil((double)box->y + box->height);
    /* A box of positive size covers at least the pixel it starts in, even when its size is
     * lost in the addition (y = 2, height = 1e-25: y + height == 2); an empty rectangle would
     * reach stb_image_resize as a 0-pixel image (0/0 scale, NaN to int). Found by
     * tests/fuzz/fuzz-classify.c (tests/fuzz/regress/classify-subpixel-box). */
    if (x1 <= x0)
        x1 = x0 + 1;
    if (y1 <= y0)
        y1 = y0 + 1;
    if (x1 <= 0 || y1 <= 0 || x0 >= img->width || y0 >= img->height)
        return EMX_ERR_BOX;
    /* A box far larger than any image is a caller bug, and its crop would not fit in memory. */
    if (x1 - x0 > MAX_CROP_SIDE || y1 - y0 > MAX_CROP_SIDE)
        return EMX_ERR_BOX;
    double img_px = (double)img->width * img->height, in_px = (double)in->width * in->height;
    if ((x1 - x0) * (y1 - y0) > MAX_CROP_AREA_FACTOR * (img_px > in_px ? img_px : in_px))
        return EMX_ERR_BOX;
    *r = (rect){ (int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0) };
    return EMX_OK;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t gray(const uint8_t *p)
{
    return emx__grey(p[0], p[1], p[2]);
}

/* Copy the rectangle in the model's channel count: pixels outside the image (frame_w x
 * frame_h) repeat the nearest edge pixel; RGB(A) becomes gray for gray models, gray is
 * repeated for RGB models, alpha is ignored (as PIL's convert() does). img holds the frame's
 * pixels from (ox, oy) on: the whole frame (0, 0), or a window of it that covers every pixel
 * the clamped rectangle reads (emx__preprocess_window checks that). */
static void crop(const emx_image *img, size_t stride, int frame_w, int frame_h, int ox, int oy,
                 const rect *r, int nc, uint8_t *dst)
{
    for (int y = 0; y < r->h; y++) {
        const uint8_t *row = img->data + (size_t)(clampi(r->y0 + y, 0, frame_h - 1) - oy) * stride;
        for (int x = 0; x < r->w; x++) {
            const uint8_t *p =
                row + (size_t)(clampi(r->x0 + x, 0, frame_w - 1) - ox) * img->channels;
            if (nc == 1)
                *dst++ = img->channels == 1 ? p[0] : gray(p);
            else if (img->channels == 1)
                dst[0] = dst[1] = dst[2] = p[0], dst += 3;
            else
                dst[0] = p[0], dst[1] = p[1], dst[2] = p[2], dst += 3;
        }
    }
}

static void normalise(const uint8_t *px, size_t n, const emx_input_spec *in, float *out)
{
    /* Same float32 operations as ToTensor (p / 255) then Normalize ((x - mean) / std). */
    for (size_t i = 0; i < n; i++)
        out[i] = ((float)px[i] / 255.0f - in->mean) / in->std;
}

/* The rectangle r of the frame (frame_w x frame_h, its pixels from (ox, oy) on in image)
 * into the model's input. */
static emx_status preprocess_rect(const emx_model *model, const emx_image *image, size_t stride,
                                  int frame_w, int frame_h, int ox, int oy, const rect *r,
                                  float *out)
{
    const emx_input_spec *in = &model->input;
    const int nc = in->channels;
    const size_t n_out = (size_t)in->width * (size_t)in->height * (size_t)nc;

    uint8_t *cropped = malloc((size_t)r->w * (size_t)r->h * (size_t)nc);
    uint8_t *resized = NULL;
    if (!cropped)
        return EMX_ERR_NO_MEMORY;
    crop(image, stride, frame_w, frame_h, ox, oy, r, nc, cropped);
    const uint8_t *px = cropped;
    /* A crop already at the input size is used as is: filtering would change the pixels, and
     * 48x48 FER+ images must give exactly the numbers the network was trained on. */
    if (r->w != in->width || r->h != in->height) {
        resized = malloc(n_out);
        if (!resized ||
            !stbir_resize_uint8_generic(cropped, r->w, r->h, 0, resized, in->width, in->height, 0,
                                        nc, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                        STBIR_FILTER_DEFAULT, STBIR_COLORSPACE_LINEAR, NULL)) {
            free(resized);
            free(cropped);
            return EMX_ERR_NO_MEMORY;
        }
        px = resized;
    }
    normalise(px, n_out, in, out);
    free(resized);
    free(cropped);
    return EMX_OK;
}

emx_status emx_preprocess(const emx_model *model, const emx_image *image, const emx_box *box,
                          float *out)
{
    if (!model || !image || !out)
        return EMX_ERR_INVALID_ARG;
    size_t stride;
    rect r;
    emx_status st = emx__check_image(image, &stride);
    if (st == EMX_OK)
        st = box_rect(image, box, &model->input, &r);
    if (st != EMX_OK)
        return st;
    return preprocess_rect(model, image, stride, image->width, image->height, 0, 0, &r, out);
}

emx_status emx__preprocess_window(const emx_model *model, const emx_image *window, int frame_w,
                                  int frame_h, int ox, int oy, const emx_box *box, float *out)
{
    if (!model || !window || !box || !out)
        return EMX_ERR_INVALID_ARG;
    size_t stride;
    rect r;
    /* the frame as the caller sees it: its size decides the box's rectangle and its clamping,
     * exactly as emx_preprocess on the whole frame */
    const emx_image frame = { window->data, frame_w, frame_h, window->channels, 0 };
    emx_status st = emx__check_image(window, &stride);
    if (st == EMX_OK)
        st = emx__check_image(&frame, &(size_t){ 0 });
    if (st == EMX_OK)
        st = box_rect(&frame, box, &model->input, &r);
    if (st != EMX_OK)
        return st;
    /* the pixels the clamped rectangle reads must all be in the window */
    const int x0 = clampi(r.x0, 0, frame_w - 1), x1 = clampi(r.x0 + r.w - 1, 0, frame_w - 1);
    const int y0 = clampi(r.y0, 0, frame_h - 1), y1 = clampi(r.y0 + r.h - 1, 0, frame_h - 1);
    if (ox < 0 || oy < 0 || x0 < ox || y0 < oy || x1 >= ox + window->width ||
        y1 >= oy + window->height)
        return EMX_ERR_INVALID_ARG;
    return preprocess_rect(model, window, stride, frame_w, frame_h, ox, oy, &r, out);
}
