/* analyze.c - emx_analyze: faces found by emx_detect, each classified on its eye-levelled
 * crop (align.c: a turned one sampled straight into the model's input); emx_analyze_explain also
 * keeps each face's class activation map, taken from that face's own run before the next face
 * overwrites it. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "detect.h"

/* Classify one face on f->crop: a level crop as an axis-aligned box (emx_classify crops and
 * resizes it: the numbers explain() and classify() give for that box, bit for bit); a turned one
 * sampled straight into the classifier's input in one pass (align.c: area-averaged when
 * shrinking, grey and normalisation fused; issue 20 measured the former warp at frame
 * resolution + stb resize at 1.3 ms of the 6 ms of detect + classify), then run. */
static emx_status classify_face(emx_model *cls, const emx_image *image, size_t stride, emx_face *f)
{
    const emx_crop c = f->crop;
    if (c.angle == 0.0f) {
        const emx_box b = { c.cx - 0.5f * c.side, c.cy - 0.5f * c.side, c.side, c.side };
        return emx_classify(cls, image, &b, f->probs);
    }
    /* A face too large to crop stays EMX_ERR_BOX, as documented (emx_analyze): the limits
     * emx_classify puts on a box (its side, and 64 times the image's or the input's pixels). */
    const double img_px = (double)image->width * image->height,
                 in_px = (double)cls->input.width * cls->input.height;
    if (!(c.side <= (float)EMX_MAX_IMAGE_SIDE) ||
        (double)c.side * c.side > 64.0 * (img_px > in_px ? img_px : in_px))
        return EMX_ERR_BOX;
    emx__warp_input(image, stride, c.cx, c.cy, c.side, c.angle, &cls->input,
                    emx__value_ptr(cls, 0));
    return emx_run(cls, emx__value_ptr(cls, 0), f->probs);
}

/* maps may be NULL (emx_analyze); else checked by emx_analyze_explain. */
static emx_status analyze(emx_model *det, emx_model *cls, const emx_image *image,
                          const emx_detect_params *params, emx_face *faces, int max_faces,
                          int *n_faces, float *maps, int map_w, int map_h)
{
    int n = 0;
    emx_status st = emx_detect(det, image, params, faces, max_faces, &n);
    if (st != EMX_OK)
        return st;
    size_t stride =
        image->stride ? (size_t)image->stride : (size_t)image->width * (size_t)image->channels;
    const size_t map_len = (size_t)map_w * (size_t)map_h;
    for (int i = 0; i < n; i++) {
        emx_face *f = &faces[i];
        float *map = maps ? maps + (size_t)i * map_len : NULL;
        st = classify_face(cls, image, stride, f);
        if (st == EMX_ERR_BOX) { /* a face too large to crop: reported, not classified */
            memset(f->probs, 0, sizeof f->probs);
            f->label = -1;
            if (map)
                memset(map, 0, map_len * sizeof *map);
            continue;
        }
        if (st != EMX_OK)
            return st;
        const int best = emx__pick_label(cls, f->probs);
        f->label = best;
        /* Now, while the classifier still holds this face's features. */
        if (map && (st = emx_explain(cls, best, map, map_w, map_h)) != EMX_OK)
            return st;
    }
    *n_faces = n;
    return EMX_OK;
}

emx_status emx_analyze(emx_model *det, emx_model *cls, const emx_image *image,
                       const emx_detect_params *params, emx_face *faces, int max_faces,
                       int *n_faces)
{
    if (n_faces)
        *n_faces = 0;
    if (!cls || cls->is_detector)
        return EMX_ERR_INVALID_ARG;
    return analyze(det, cls, image, params, faces, max_faces, n_faces, NULL, 0, 0);
}

emx_status emx_analyze_explain(emx_model *det, emx_model *cls, const emx_image *image,
                               const emx_detect_params *params, emx_face *faces, int max_faces,
                               int *n_faces, float *maps, int map_w, int map_h)
{
    if (n_faces)
        *n_faces = 0;
    if (!cls || cls->is_detector || map_w < 1 || map_h < 1 || map_w > 4096 || map_h > 4096 ||
        (max_faces > 0 && !maps))
        return EMX_ERR_INVALID_ARG;
    /* A buffer of max_faces maps must be addressable (a 32-bit size_t: wasm32). */
    if (max_faces > 0 && (uint64_t)max_faces * (uint64_t)map_w * (uint64_t)map_h >
                             (uint64_t)(SIZE_MAX / sizeof(float)))
        return EMX_ERR_INVALID_ARG;
    /* Refused before anything runs, rather than after the detector and a first face. */
    if (cls->n_cam == 0)
        return EMX_ERR_UNSUPPORTED;
    return analyze(det, cls, image, params, faces, max_faces, n_faces, maps, map_w, map_h);
}
