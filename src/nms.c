/* nms.c - detections to faces: MediaPipe's weighted non-maximum suppression over every
 * pass's candidates, the mapping back to frame pixels, the minimum size, and (with tiles) the
 * rule dropping a face that lies mostly inside a larger one (see detect.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#define CONTAINED 0.5f /* tiles: a face with more of its box inside a larger face is dropped */

static int by_score_desc(const void *pa, const void *pb)
{
    const float a = ((const cand *)pa)->score, b = ((const cand *)pb)->score;
    return (a < b) - (a > b);
}

static float iou(const cand *a, const cand *b)
{
    const float iw = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
    const float ih = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (iw <= 0 || ih <= 0)
        return 0.0f;
    const float inter = iw * ih;
    const float u = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
    return u > 0 ? inter / u : 0.0f;
}

/* Fraction of b's area inside a (boxes in frame pixels). */
static float inside(const emx_box *a, const emx_box *b)
{
    const float iw = fminf(a->x + a->width, b->x + b->width) - fmaxf(a->x, b->x);
    const float ih = fminf(a->y + a->height, b->y + b->height) - fmaxf(a->y, b->y);
    const float area = b->width * b->height;
    return iw > 0 && ih > 0 && area > 0 ? iw * ih / area : 0.0f;
}

static void to_face(const cand *c, const emx_model *m, const letterbox *lb, int nk, emx_face *f)
{
    const float iw = (float)m->input.width, ih = (float)m->input.height, s = lb->scale;
    /* every field set, the unused ones 0 (landmarks past nk, probs past the classifier's
     * classes): the caller's array may hold anything, and a face must not (clang -O0 found
     * emx_analyze's and emx_analyze_explain's faces differing in those bytes) */
    memset(f, 0, sizeof *f);
    f->box.x = (c->x0 * iw - lb->ox) / s;
    f->box.y = (c->y0 * ih - lb->oy) / s;
    f->box.width = (c->x1 - c->x0) * iw / s;
    f->box.height = (c->y1 - c->y0) * ih / s;
    f->score = c->score;
    f->n_landmarks = nk;
    for (int j = 0; j < nk; j++) {
        f->landmarks[j][0] = (c->kp[j][0] * iw - lb->ox) / s;
        f->landmarks[j][1] = (c->kp[j][1] * ih - lb->oy) / s;
    }
    f->crop = emx__face_crop(f);
    f->label = -1;
}

int emx__nms(const emx_model *m, const letterbox *lbp, const emx_detect_params *pp, int tiles,
             cand *cands, size_t n, emx_face *faces, int max_faces)
{
    const letterbox lb = *lbp;
    const emx_detect_params p = *pp;
    qsort(cands, n, sizeof *cands, by_score_desc);
    int limit = max_faces;
    if (p.max_faces > 0 && p.max_faces < limit)
        limit = p.max_faces;
    const int nk = (m->det_coords - 4) / 2;
    int out = 0;
    /* Weighted NMS: the best remaining candidate absorbs every remaining one overlapping it
     * by more than iou_threshold; the merged box and keypoints are their score-weighted mean,
     * its score the best one's. Absorbed candidates get score -1. */
    for (size_t i = 0; i < n && out < limit; i++) {
        if (cands[i].score < 0)
            continue;
        cand merged = cands[i];
        double wsum = 0, acc[4 + 2 * EMX_MAX_LANDMARKS] = { 0 };
        for (size_t j = i; j < n; j++) {
            if (cands[j].score < 0 || (j != i && iou(&cands[i], &cands[j]) <= p.iou_threshold))
                continue;
            const double w = cands[j].score;
            acc[0] += w * cands[j].x0, acc[1] += w * cands[j].y0;
            acc[2] += w * cands[j].x1, acc[3] += w * cands[j].y1;
            for (int q = 0; q < nk; q++) {
                acc[4 + 2 * q] += w * cands[j].kp[q][0];
                acc[5 + 2 * q] += w * cands[j].kp[q][1];
            }
            wsum += w;
            if (j != i)
                cands[j].score = -1.0f;
        }
        merged.x0 = (float)(acc[0] / wsum), merged.y0 = (float)(acc[1] / wsum);
        merged.x1 = (float)(acc[2] / wsum), merged.y1 = (float)(acc[3] / wsum);
        for (int q = 0; q < nk; q++) {
            merged.kp[q][0] = (float)(acc[4 + 2 * q] / wsum);
            merged.kp[q][1] = (float)(acc[5 + 2 * q] / wsum);
        }
        /* faces below the minimum size (larger box side, frame pixels) are dropped after
         * merging, so the size tested is the one reported */
        emx_face *f = &faces[out];
        to_face(&merged, m, &lb, nk, f);
        if (!(fmaxf(f->box.width, f->box.height) >= p.min_face_size))
            continue;
        if (tiles) {
            /* a part of a larger face, seen magnified by a window: drop the smaller one,
             * whichever scored higher (faces[] stays best first) */
            const float area = f->box.width * f->box.height;
            int drop = 0;
            for (int q = 0; q < out && !drop; q++)
                drop = faces[q].box.width * faces[q].box.height >= area &&
                       inside(&faces[q].box, &f->box) > CONTAINED;
            if (drop)
                continue;
            int kept = 0;
            for (int q = 0; q < out; q++)
                if (!(faces[q].box.width * faces[q].box.height < area &&
                      inside(&f->box, &faces[q].box) > CONTAINED))
                    faces[kept++] = faces[q];
            if (kept < out) {
                faces[kept] = *f;
                out = kept;
            }
        }
        out++;
    }
    return out;
}
