/* detect.h - what the detection files share (internal): candidates in the detector's
 * input-normalised space, the letterbox mapping frames into the input, and the steps
 *   detect.c    letterbox the frame (and tiles), run the detector, decode its anchors
 *   nms.c       weighted non-maximum suppression, then frame-pixel faces
 *   align.c     the eye-levelled, FER+-shaped crop of a face
 *   analyze.c   emx_analyze: detection, then each face's crop classified */
#ifndef EMX_DETECT_H
#define EMX_DETECT_H

#include "model.h"

typedef struct cand {
    float score;
    float x0, y0, x1, y1; /* input-normalised units */
    float kp[EMX_MAX_LANDMARKS][2];
} cand;

typedef struct letterbox {
    float scale; /* input pixels per frame pixel */
    int ox, oy;  /* top-left of the resized frame in the input */
} letterbox;

/* Scratch kept by the detector (detect.c): the resized frame, then candidates for `passes`
 * detector passes. EMX_ERR_LIMIT beyond the model's memory budget. */
emx_status emx__detect_scratch(emx_model *m, int passes, cand **cands, uint8_t **resized);

/* Frame (any channel count, rows `stride` bytes apart) -> w x h RGB (nc 3) or grey (nc 1)
 * bytes. Shrinking averages each output pixel's footprint, rounded (a box filter: every source
 * pixel is read once, which matters at 640x480 -> 128x96, where stb_image_resize's windowed
 * filters cost more than the network); enlarging (frames smaller than the input) samples
 * bilinearly. The letterbox of detect.c; tests/test-detect.c checks it against a plain loop. */
void emx__resize_frame(const emx_image *img, size_t stride, int w, int h, int nc, uint8_t *dst);

/* Sort n candidates best first, merge them (weighted NMS, p->iou_threshold), map the merged
 * ones through lb to frame pixels and write at most max_faces (and p->max_faces) faces of at
 * least p->min_face_size; with tiles, faces mostly inside a larger one are dropped. Returns
 * the number written. */
int emx__nms(const emx_model *m, const letterbox *lb, const emx_detect_params *p, int tiles,
             cand *cands, size_t n, emx_face *faces, int max_faces);

/* A rotated square of the image sampled straight into the classifier's normalised input
 * tensor (align.c). */
void emx__warp_input(const emx_image *img, size_t stride, float cx, float cy, float side,
                     float angle, const emx_input_spec *in, float *out);

#define LEVEL_EPS 0.035f /* radians (2 degrees): below this the crop is not rotated */

#endif /* EMX_DETECT_H */
