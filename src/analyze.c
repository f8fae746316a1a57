/* analyze.c - emx_analyze: faces found by emx_detect, each classified on its eye-levelled
 * crop (align.c) by the expression model. */
#include <math.h>
#include <string.h>

#include "detect.h"

emx_status emx_analyze(emx_model *det, emx_model *cls, const emx_image *image,
                       const emx_detect_params *params, emx_face *faces, int max_faces,
                       int *n_faces)
{
    if (n_faces)
        *n_faces = 0;
    if (!cls || cls->is_detector)
        return EMX_ERR_INVALID_ARG;
    int n = 0;
    emx_status st = emx_detect(det, image, params, faces, max_faces, &n);
    if (st != EMX_OK)
        return st;
    size_t stride =
        image->stride ? (size_t)image->stride : (size_t)image->width * (size_t)image->channels;
    cand *cands;
    uint8_t *resized, *warp;
    if ((st = emx__detect_scratch(det, 1, &cands, &resized, &warp)) != EMX_OK)
        return st;
    const int nc = cls->input.channels;
    for (int i = 0; i < n; i++) {
        emx_face *f = &faces[i];
        float cx, cy, side, angle;
        emx__face_crop(f, &cx, &cy, &side, &angle);
        if (fabsf(angle) < LEVEL_EPS) {
            const emx_box b = { cx - 0.5f * side, cy - 0.5f * side, side, side };
            st = emx_classify(cls, image, &b, f->probs);
        } else {
            int w = (int)ceilf(side);
            w = w < cls->input.width ? cls->input.width : w;
            w = w > WARP_SIDE ? WARP_SIDE : w;
            emx__warp_crop(image, stride, cx, cy, side, angle, w, nc, warp);
            const emx_image crop = { warp, w, w, nc, 0 };
            st = emx_classify(cls, &crop, NULL, f->probs);
        }
        if (st == EMX_ERR_BOX) { /* a face too large to crop: reported, not classified */
            memset(f->probs, 0, sizeof f->probs);
            f->label = -1;
            continue;
        }
        if (st != EMX_OK)
            return st;
        int best = 0;
        for (int c = 1; c < cls->n_classes; c++)
            if (f->probs[c] > f->probs[best])
                best = c;
        f->label = best;
    }
    *n_faces = n;
    return EMX_OK;
}
