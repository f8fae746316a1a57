/* detect.c - faces in whole frames: letterbox the frame into the detector's input, run it,
 * decode its anchors (MediaPipe's SSD anchors, BlazeFace's fixed-size variant), merge
 * overlapping detections (weighted non-maximum suppression, MediaPipe's "WEIGHTED"), map
 * them back to frame pixels; emx_analyze then classifies an eye-levelled crop of each face.
 *
 * The detector's outputs come in pairs per feature-map level (shape_infer.c checked them):
 * scores [H, W, A] (logits) and regressors [H, W, A * K], K = 4 + 2 * keypoints. Anchor (y, x,
 * a) sits at the cell centre ((x + 0.5) / W, (y + 0.5) / H) of the input, in input units, and
 * its regressors are offsets in input pixels: centre x, centre y, width, height, then x, y of
 * each keypoint relative to the anchor centre.
 *
 * Tiles (emx_detect_params.tiles = N >= 2): the detector also runs on each window of an N x N
 * grid, each window letterboxed into the input exactly as the whole frame is. Window k (per
 * axis) spans [k, k + 2] / (N + 1) of the frame side: neighbours overlap by half a window
 * (stride 1/(N+1)), so any interval no longer than 1/(N+1) of the side lies whole in some
 * window (take k = floor(start * (N+1)), clamped to N - 1). A detection whose box reaches
 * past a window's inner edge (one that is not the frame's edge) is dropped: it is a face cut
 * by the window, whole in a neighbour or, when larger than the windows cover, found by the
 * whole-frame pass (it finds most FER+ faces above about a quarter of a 640x480 frame's
 * height; windows hold faces up to 1/(N+1) of it whole, and at N = 4, 96 px, 87 of 90 faces
 * of 128 px are still found, so the ranges meet). Dropping also a band inside the edge
 * (2-10% of the window) lost more faces than it removed duplicates on 9- and 16-face grids
 * of FER+ faces. The kept detections are mapped into the whole-frame pass's input-normalised
 * space, and every pass's candidates go through one weighted NMS, so a face seen by several
 * passes comes out once, its box their weighted mean. A window can also see a magnified part
 * of a large face as a small face (scores 0.5-0.65 on FER+ faces filling most of the frame),
 * so with tiles a face lying mostly (over CONTAINED of its box) inside a larger reported face
 * is dropped. The whole-frame pass is computed exactly as without tiles, and neither rule
 * applies then, so tiles 0 gives the same bits as before tiles existed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define WARP_SIDE 256 /* rotated crops are sampled at most this large, then resized */
#define CONTAINED 0.5f /* tiles: a face with more of its box inside a larger face is dropped */

typedef struct cand {
    float score;
    float x0, y0, x1, y1;                 /* input-normalised units */
    float kp[EMX_MAX_LANDMARKS][2];
} cand;

typedef struct letterbox {
    float scale;  /* input pixels per frame pixel */
    int ox, oy;   /* top-left of the resized frame in the input */
} letterbox;

emx_detect_params emx_detect_default_params(void)
{
    emx_detect_params p;
    p.score_threshold = 0.5f;
    p.iou_threshold = 0.3f;
    p.min_face_size = 0.0f;
    p.max_faces = 0;
    p.tiles = 0;
    return p;
}

static uint64_t n_anchors(const emx_model *m)
{
    uint64_t n = 0;
    for (int i = 0; i < m->n_outputs; i += 2)
        n += m->values[m->outputs[i]].count;
    return n;
}

/* Scratch kept by the detector: the resized frame, the warped face crop, then candidates for
 * `passes` detector passes. Allocated on the first call and enlarged (once) when a call needs
 * room for more passes (tiles); never shrunk. */
static emx_status scratch(emx_model *m, int passes, cand **cands, uint8_t **resized,
                          uint8_t **warp)
{
    /* 64-bit: 8 output pairs of 2^26 anchors x 17 passes x 68 bytes wraps a 32-bit size_t
     * (to a buffer the decoder then overruns); the model's memory budget bounds it. */
    const uint64_t nc = n_anchors(m) * (uint64_t)passes;
    const size_t rs = (size_t)m->input.width * (size_t)m->input.height * 4;
    const size_t fixed = (rs + (size_t)WARP_SIDE * WARP_SIDE * 3 + 15) & ~(size_t)15;
    const uint64_t need64 = (uint64_t)fixed + nc * sizeof(cand);
    if (need64 > m->params.max_memory_bytes)
        return EMX_ERR_LIMIT;
    if (need64 > SIZE_MAX)
        return EMX_ERR_NO_MEMORY;
    const size_t need = (size_t)need64;
    if (!m->det_scratch || m->det_scratch_size < need) {
        free(m->det_scratch);
        m->det_scratch_size = 0;
        if (!(m->det_scratch = malloc(need)))
            return EMX_ERR_NO_MEMORY;
        m->det_scratch_size = need;
    }
    *resized = m->det_scratch;
    *warp = *resized + rs;
    *cands = (cand *)(void *)((uint8_t *)m->det_scratch + fixed);
    return EMX_OK;
}

/* Frame (any channel count) -> w x h RGB or grey bytes. Shrinking averages each output
 * pixel's footprint (a box filter: every source pixel is read once, which matters at 640x480
 * -> 128x96, where stb_image_resize's windowed filters cost more than the network);
 * enlarging (frames smaller than the input) samples bilinearly. */
static void resize_frame(const emx_image *img, size_t stride, int w, int h, int nc,
                         uint8_t *dst)
{
    const int ch = img->channels, W = img->width, H = img->height;
    for (int y = 0; y < h; y++) {
        int y0 = (int)((int64_t)y * H / h), y1 = (int)((int64_t)(y + 1) * H / h);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int x = 0; x < w; x++) {
            unsigned px[3];
            if (W >= w && H >= h) {
                int x0 = (int)((int64_t)x * W / w), x1 = (int)((int64_t)(x + 1) * W / w);
                if (x1 <= x0)
                    x1 = x0 + 1;
                uint64_t acc[3] = {0, 0, 0};
                for (int yy = y0; yy < y1; yy++) {
                    const uint8_t *p = img->data + (size_t)yy * stride + (size_t)x0 * ch;
                    if (ch == 1)
                        for (int xx = x0; xx < x1; xx++, p++)
                            acc[0] += p[0];
                    else
                        for (int xx = x0; xx < x1; xx++, p += ch)
                            acc[0] += p[0], acc[1] += p[1], acc[2] += p[2];
                }
                const uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
                for (int k = 0; k < 3; k++)
                    px[k] = (unsigned)((acc[ch == 1 ? 0 : k] + n / 2) / n);
            } else {
                float sx = (x + 0.5f) * W / w - 0.5f, sy = (y + 0.5f) * H / h - 0.5f;
                sx = fminf(fmaxf(sx, 0.0f), (float)(W - 1));
                sy = fminf(fmaxf(sy, 0.0f), (float)(H - 1));
                const int ix = (int)sx, iy = (int)sy;
                const int jx = ix + 1 < W ? ix + 1 : ix, jy = iy + 1 < H ? iy + 1 : iy;
                const float fx = sx - ix, fy = sy - iy;
                for (int k = 0; k < 3; k++) {
                    const int kk = ch == 1 ? 0 : k;
                    const uint8_t *r0 = img->data + (size_t)iy * stride;
                    const uint8_t *r1 = img->data + (size_t)jy * stride;
                    float v = (r0[ix * ch + kk] * (1 - fx) + r0[jx * ch + kk] * fx) * (1 - fy) +
                              (r1[ix * ch + kk] * (1 - fx) + r1[jx * ch + kk] * fx) * fy;
                    px[k] = (unsigned)(v + 0.5f);
                }
            }
            uint8_t *o = dst + ((size_t)y * w + x) * nc;
            if (nc == 1)
                o[0] = (uint8_t)((px[0] * 19595u + px[1] * 38470u + px[2] * 7471u + 0x8000u) >> 16);
            else
                o[0] = (uint8_t)px[0], o[1] = (uint8_t)px[1], o[2] = (uint8_t)px[2];
        }
    }
}

/* Resize the frame, keeping its aspect ratio, into the middle of the input; the bands
 * around it are 0 after normalisation (mid grey). */
static emx_status letterbox_input(emx_model *m, const emx_image *img, size_t stride,
                                  uint8_t *resized, letterbox *lb)
{
    const emx_input_spec *in = &m->input;
    const double s = fmin((double)in->width / img->width, (double)in->height / img->height);
    int w = (int)lround(img->width * s), h = (int)lround(img->height * s);
    w = w < 1 ? 1 : w > in->width ? in->width : w;
    h = h < 1 ? 1 : h > in->height ? in->height : h;
    lb->scale = (float)s;
    lb->ox = (in->width - w) / 2;
    lb->oy = (in->height - h) / 2;
    const int nc = in->channels;
    resize_frame(img, stride, w, h, nc, resized);
    float *x = emx__value_ptr(m, 0);
    memset(x, 0, (size_t)in->width * in->height * nc * sizeof(float));
    const float a = 1.0f / (255.0f * in->std), b = -in->mean / in->std;
    for (int y = 0; y < h; y++) {
        const uint8_t *p = resized + (size_t)y * w * nc;
        float *o = x + ((size_t)(y + lb->oy) * in->width + lb->ox) * nc;
        for (int i = 0; i < w * nc; i++)
            o[i] = p[i] * a + b;
    }
    return EMX_OK;
}

static size_t decode(const emx_model *m, float score_threshold, cand *out)
{
    const float iw = (float)m->input.width, ih = (float)m->input.height;
    const int k = m->det_coords, nk = (k - 4) / 2;
    /* compare logits: sigmoid(x) >= t  <=>  x >= log(t / (1 - t)) */
    const float t = score_threshold <= 0.0f ? -INFINITY
                    : score_threshold >= 1.0f ? INFINITY
                                              : logf(score_threshold / (1.0f - score_threshold));
    size_t n = 0;
    for (int l = 0; l < m->n_outputs; l += 2) {
        const emx_value *vs = &m->values[m->outputs[l]];
        const float *sc = emx__value_ptr(m, m->outputs[l]);
        const float *rg = emx__value_ptr(m, m->outputs[l + 1]);
        const int H = vs->h, W = vs->w, A = vs->c;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int a = 0; a < A; a++) {
                    const size_t i = ((size_t)y * W + x) * A + a;
                    const float s = sc[i];
                    if (!(s >= t))
                        continue;
                    const float *r = rg + i * k;
                    const float ax = (x + 0.5f) / W, ay = (y + 0.5f) / H;
                    const float cx = r[0] / iw + ax, cy = r[1] / ih + ay;
                    const float hw = 0.5f * r[2] / iw, hh = 0.5f * r[3] / ih;
                    if (!(hw > 0) || !(hh > 0) || !isfinite(cx) || !isfinite(cy))
                        continue;
                    cand *c = &out[n++];
                    const float sc_clamped = s < -100.0f ? -100.0f : s > 100.0f ? 100.0f : s;
                    c->score = 1.0f / (1.0f + expf(-sc_clamped));
                    c->x0 = cx - hw, c->x1 = cx + hw, c->y0 = cy - hh, c->y1 = cy + hh;
                    for (int j = 0; j < nk && j < EMX_MAX_LANDMARKS; j++) {
                        c->kp[j][0] = r[4 + 2 * j] / iw + ax;
                        c->kp[j][1] = r[5 + 2 * j] / ih + ay;
                    }
                }
    }
    return n;
}

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

static void to_face(const cand *c, const emx_model *m, const letterbox *lb, int nk,
                    emx_face *f)
{
    const float iw = (float)m->input.width, ih = (float)m->input.height, s = lb->scale;
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
    f->label = -1;
}

/* One pass over window (wx, wy, ww, wh) of the frame, cell (tx, ty) of an n x n grid: decode
 * into out, drop detections reaching past the window's inner edges, map the rest into the
 * whole-frame pass's input-normalised space (full). Returns how many were kept. */
static size_t tile_pass(emx_model *m, const emx_image *img, size_t stride, uint8_t *resized,
                        const letterbox *full, float score_threshold, int wx, int wy, int ww,
                        int wh, int tx, int ty, int n, cand *out)
{
    const emx_image win = {img->data + (size_t)wy * stride + (size_t)wx * img->channels, ww, wh,
                           img->channels, (int)stride};
    letterbox lb;
    letterbox_input(m, &win, stride, resized, &lb);
    emx__forward(m);
    const size_t got = decode(m, score_threshold, out);
    const float iw = (float)m->input.width, ih = (float)m->input.height;
    const int nk = (m->det_coords - 4) / 2;
    /* input-normalised (window pass) -> window pixels -> frame pixels -> normalised (full) */
    const float ax = iw / lb.scale, bx = (float)wx - lb.ox / lb.scale;
    const float ay = ih / lb.scale, by = (float)wy - lb.oy / lb.scale;
    size_t kept = 0;
    for (size_t i = 0; i < got; i++) {
        cand c = out[i];
        const float x0 = c.x0 * ax + bx - wx, x1 = c.x1 * ax + bx - wx;
        const float y0 = c.y0 * ay + by - wy, y1 = c.y1 * ay + by - wy;
        if ((tx > 0 && x0 < 0) || (tx < n - 1 && x1 > ww) || (ty > 0 && y0 < 0) ||
            (ty < n - 1 && y1 > wh))
            continue;
        c.x0 = ((c.x0 * ax + bx) * full->scale + full->ox) / iw;
        c.x1 = ((c.x1 * ax + bx) * full->scale + full->ox) / iw;
        c.y0 = ((c.y0 * ay + by) * full->scale + full->oy) / ih;
        c.y1 = ((c.y1 * ay + by) * full->scale + full->oy) / ih;
        for (int j = 0; j < nk && j < EMX_MAX_LANDMARKS; j++) {
            c.kp[j][0] = ((c.kp[j][0] * ax + bx) * full->scale + full->ox) / iw;
            c.kp[j][1] = ((c.kp[j][1] * ay + by) * full->scale + full->oy) / ih;
        }
        out[kept++] = c;
    }
    return kept;
}

/* Window k of n along a side of `size` pixels: [k, k + 2] / (n + 1) of it, at least 1 px. */
static void tile_span(int size, int k, int n, int *start, int *len)
{
    int a = (int)((int64_t)k * size / (n + 1)), b = (int)((int64_t)(k + 2) * size / (n + 1));
    a = a > size - 1 ? size - 1 : a;
    b = b <= a ? a + 1 : b > size ? size : b;
    *start = a, *len = b - a;
}

emx_status emx_detect(emx_model *m, const emx_image *image, const emx_detect_params *params,
                      emx_face *faces, int max_faces, int *n_faces)
{
    if (n_faces)
        *n_faces = 0;
    if (!m || !image || !n_faces || max_faces < 0 || (max_faces > 0 && !faces) ||
        !m->is_detector)
        return EMX_ERR_INVALID_ARG;
    emx_detect_params p = params ? *params : emx_detect_default_params();
    if (!(p.score_threshold >= 0 && p.score_threshold <= 1) ||
        !(p.iou_threshold >= 0 && p.iou_threshold <= 1) || !(p.min_face_size >= 0) ||
        !isfinite(p.min_face_size) || p.max_faces < 0 || p.tiles < 0 ||
        p.tiles > EMX_DETECT_MAX_TILES)
        return EMX_ERR_INVALID_ARG;
    const int tiles = p.tiles >= 2 ? p.tiles : 0;
    size_t stride;
    emx_status st = emx__check_image(image, &stride);
    if (st != EMX_OK)
        return st;
    cand *cands;
    uint8_t *resized, *warp;
    letterbox lb;
    if ((st = scratch(m, tiles * tiles + 1, &cands, &resized, &warp)) != EMX_OK ||
        (st = letterbox_input(m, image, stride, resized, &lb)) != EMX_OK)
        return st;
    emx__forward(m);

    size_t n = decode(m, p.score_threshold, cands);
    for (int ty = 0; ty < tiles; ty++)
        for (int tx = 0; tx < tiles; tx++) {
            int wx, wy, ww, wh;
            tile_span(image->width, tx, tiles, &wx, &ww);
            tile_span(image->height, ty, tiles, &wy, &wh);
            n += tile_pass(m, image, stride, resized, &lb, p.score_threshold, wx, wy, ww, wh,
                           tx, ty, tiles, cands + n);
        }
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
        double wsum = 0, acc[4 + 2 * EMX_MAX_LANDMARKS] = {0};
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
    *n_faces = out;
    return EMX_OK;
}

/* ---- classification of each face ---- */

/* Sample a square of side `side` frame pixels centred on (cx, cy), rotated by angle (radians,
 * the direction of the eye line), into an n x n crop in the classifier's channel count:
 * bilinear, edge pixels repeated outside the frame. */
static void warp_crop(const emx_image *img, size_t stride, float cx, float cy, float side,
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
            const int x1 = x0 + 1 < img->width ? x0 + 1 : x0, y1 = y0 + 1 < img->height ? y0 + 1 : y0;
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
                o[0] = (uint8_t)((q[0] * 19595u + q[1] * 38470u + q[2] * 7471u + 0x8000u) >> 16);
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
/* analysisCrop() in wasm/emoxnet.js repeats these two numbers for explain(): keep in step. */
#define CROP_SCALE 1.22f
#define CROP_UP 0.114f
#define LEVEL_EPS 0.035f /* radians (2 degrees): below this the crop is not rotated */

void emx__face_crop(const emx_face *f, float *cx, float *cy, float *side, float *angle)
{
    float a = 0.0f;
    if (f->n_landmarks >= 2)
        a = atan2f(f->landmarks[1][1] - f->landmarks[0][1],
                   f->landmarks[1][0] - f->landmarks[0][0]);
    const float bs = fmaxf(f->box.width, f->box.height);
    /* "up" in the face's frame is (sin a, -cos a) in the image */
    *cx = f->box.x + 0.5f * f->box.width + sinf(a) * CROP_UP * bs;
    *cy = f->box.y + 0.5f * f->box.height - cosf(a) * CROP_UP * bs;
    *side = bs * CROP_SCALE;
    *angle = a;
}

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
    size_t stride = image->stride ? (size_t)image->stride
                                  : (size_t)image->width * (size_t)image->channels;
    cand *cands;
    uint8_t *resized, *warp;
    if ((st = scratch(det, 1, &cands, &resized, &warp)) != EMX_OK)
        return st;
    const int nc = cls->input.channels;
    for (int i = 0; i < n; i++) {
        emx_face *f = &faces[i];
        float cx, cy, side, angle;
        emx__face_crop(f, &cx, &cy, &side, &angle);
        if (fabsf(angle) < LEVEL_EPS) {
            const emx_box b = {cx - 0.5f * side, cy - 0.5f * side, side, side};
            st = emx_classify(cls, image, &b, f->probs);
        } else {
            int w = (int)ceilf(side);
            w = w < cls->input.width ? cls->input.width : w;
            w = w > WARP_SIDE ? WARP_SIDE : w;
            warp_crop(image, stride, cx, cy, side, angle, w, nc, warp);
            const emx_image crop = {warp, w, w, nc, 0};
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
