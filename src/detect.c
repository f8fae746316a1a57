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

#include "detect.h"
#include "pixel.h"

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

/* Scratch kept by the detector: the resized frame, then candidates for `passes` detector
 * passes. Allocated on the first call and enlarged (once) when a call needs
 * room for more passes (tiles); never shrunk. */
emx_status emx__detect_scratch(emx_model *m, int passes, cand **cands, uint8_t **resized)
{
    /* 64-bit: 8 output pairs of 2^26 anchors x 17 passes x 68 bytes wraps a 32-bit size_t
     * (to a buffer the decoder then overruns); the model's memory budget bounds it. */
    const uint64_t nc = n_anchors(m) * (uint64_t)passes;
    const size_t rs = (size_t)m->input.width * (size_t)m->input.height * 4;
    const size_t fixed = (rs + 15) & ~(size_t)15;
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
    *cands = (cand *)(void *)((uint8_t *)m->det_scratch + fixed);
    return EMX_OK;
}

/* Shrinking, one output row at a time: the rows of its footprint are summed per source byte
 * first (flat passes along contiguous bytes, channels interleaved as in the frame, alpha
 * included, in 16-bit lanes: loops the compiler vectorises), then each output pixel takes the
 * sum of its columns: the same integer sums as adding up each footprint pixel by pixel (so the
 * same bytes as the loop in emx__resize_frame, which stays for footprints wider than the
 * buffer). Footprints are q = W / w or q + 1 columns wide; when q columns' sums fit 16 bits
 * (q * rows <= 257: 640x480 -> 128x96 is 5 x 5), every q-column sum of the row comes from q - 1
 * flat passes, else each pixel loops over its columns. Output columns step through
 * floor(x W / w) without a division (ratio_step), and the rounded mean (sum + n/2) / n of n
 * pixels is floor((sum + n/2 + 0.5) * (1/n)) in double: exact, as the true quotient's fraction
 * stays at least 0.5/n from an integer, far above the rounding error (floor_small). In wasm the
 * five 64-bit divisions per output pixel, 32-bit column sums and per-pixel column loops these
 * replace made 0.80 ms of a 640x480 RGB frame's letterbox; 0.40 ms now (SIMD128, loaded
 * machine). Source bytes go through stack buffers in chunks of 3 * SHRINK_COLS. */
enum { SHRINK_COLS = 2048 };
/* footprints of fewer pixels sum in 32 bits: 255 * n + n / 2 < 2^31 */
#define SHRINK_SUM32 8000000u

/* source columns the column buffer holds for ch channels */
static int shrink_cols(int ch)
{
    return 3 * SHRINK_COLS / ch;
}

/* floor(k * num / den) for k, k + 1, ... without a division per step (a 64-bit division per
 * output column and chunk test cost more than the rest of the letterbox in wasm) */
typedef struct ratio_step {
    int v;           /* floor(k * num / den) */
    int64_t r;       /* k * num mod den */
    int dq;          /* num / den */
    int64_t dr, den; /* num mod den, den */
} ratio_step;

static ratio_step ratio_at(int k, int num, int den)
{
    const int64_t t = (int64_t)k * num;
    ratio_step s = { (int)(t / den), t % den, num / den, num % den, den };
    return s;
}

static void ratio_next(ratio_step *s)
{
    s->v += s->dq, s->r += s->dr;
    if (s->r >= s->den)
        s->r -= s->den, s->v++;
}

/* floor(v) for 0 <= v < 2^31 whose fraction stays clear of 0 and 1 by far more than v's
 * rounding error (the rounded means below, v < 256: by at least 0.5/n): v - 0.5 rounded to the nearest integer by adding 1.5 * 2^52, read
 * from the low mantissa bits. A plain (unsigned)v compiles to a range check, a branch and a
 * trapping conversion in wasm, per channel of every output pixel. */
static unsigned floor_small(double v)
{
    const double t = (v - 0.5) + 6755399441055744.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    return (unsigned)(uint32_t)bits;
}

static void put_pixel(uint8_t *o, int nc, const unsigned px[3])
{
    if (nc == 1)
        o[0] = emx__grey(px[0], px[1], px[2]);
    else
        o[0] = (uint8_t)px[0], o[1] = (uint8_t)px[1], o[2] = (uint8_t)px[2];
}

/* Callers make sure one output column spans fewer than shrink_cols(channels) source columns. */
static void shrink_frame(const emx_image *img, size_t stride, int w, int h, int nc, uint8_t *dst)
{
    uint32_t col[3 * SHRINK_COLS];
    uint16_t col16[3 * SHRINK_COLS], hs[3 * SHRINK_COLS];
    const int ch = img->channels, W = img->width, H = img->height, cols = shrink_cols(ch);
    for (int y = 0; y < h; y++) {
        int y0 = (int)((int64_t)y * H / h), y1 = (int)((int64_t)(y + 1) * H / h);
        if (y1 <= y0)
            y1 = y0 + 1;
        uint64_t last_n = 0;
        double inv = 0.0;
        ratio_step xs = ratio_at(0, W, w); /* .v: the first source column of output column x */
        for (int xa = 0; xa < w;) {
            /* output columns [xa, xb) whose source columns [c0, c1) fit the buffer */
            const int c0 = xs.v;
            int xb = xa;
            ratio_step end = xs;
            for (ratio_step t = end; xb < w; xb++, end = t) {
                ratio_next(&t);
                if (t.v - c0 > cols)
                    break;
            }
            const int c1 = end.v <= c0 ? c0 + 1 : end.v;
            const size_t nv = (size_t)(c1 - c0) * (size_t)ch;
            const int q = W / w, rows = y1 - y0; /* footprints are q or q + 1 columns wide */
            if ((int64_t)q * rows <= 257) {
                /* A q-column footprint's sum fits 16 bits: all q-column sums of the row at once,
                 * in q - 1 flat passes (hs[i] = col16[i] + col16[i + ch] + ...), instead of a
                 * loop over columns per output pixel; a (q + 1)-th column is added after. */
                memset(col16, 0, nv * sizeof col16[0]);
                for (int yy = y0; yy < y1; yy++) {
                    const uint8_t *p = img->data + (size_t)yy * stride + (size_t)c0 * ch;
                    for (size_t i = 0; i < nv; i++)
                        col16[i] = (uint16_t)(col16[i] + p[i]);
                }
                const size_t nh = nv - (size_t)(q - 1) * ch; /* nv >= q * ch */
                memcpy(hs, col16, nh * sizeof hs[0]);
                for (int j = 1; j < q; j++) {
                    const uint16_t *cj = col16 + (size_t)j * ch;
                    for (size_t i = 0; i < nh; i++)
                        hs[i] = (uint16_t)(hs[i] + cj[i]);
                }
                for (int x = xa; x < xb; x++) {
                    const int x0 = xs.v;
                    ratio_next(&xs);
                    const int m = xs.v - x0;
                    const size_t b = (size_t)(x0 - c0) * ch, e = b + (size_t)q * ch;
                    const uint64_t n = (uint64_t)rows * (uint64_t)m;
                    if (n != last_n)
                        last_n = n, inv = 1.0 / (double)n;
                    const int32_t half = (int32_t)(n / 2);
                    unsigned px[3];
                    for (int k = 0; k < 3; k++) {
                        const size_t kk = ch == 1 ? 0 : (size_t)k;
                        const int32_t a =
                            (int32_t)hs[b + kk] + (m > q ? (int32_t)col16[e + kk] : 0);
                        px[k] = floor_small(((double)(a + half) + 0.5) * inv);
                    }
                    put_pixel(dst + ((size_t)y * w + x) * nc, nc, px);
                }
                xa = xb;
                continue;
            }
            memset(col, 0, nv * sizeof col[0]);
            for (int yy = y0; yy < y1;) {
                /* up to 257 rows at a time in 16 bits (257 * 255 < 65536): twice the lanes */
                const int y2 = y1 - yy > 257 ? yy + 257 : y1;
                memset(col16, 0, nv * sizeof col16[0]);
                for (; yy < y2; yy++) {
                    const uint8_t *p = img->data + (size_t)yy * stride + (size_t)c0 * ch;
                    for (size_t i = 0; i < nv; i++)
                        col16[i] = (uint16_t)(col16[i] + p[i]);
                }
                for (size_t i = 0; i < nv; i++)
                    col[i] += col16[i];
            }
            for (int x = xa; x < xb; x++) {
                const int x0 = xs.v;
                ratio_next(&xs);
                const int x1 = xs.v <= x0 ? x0 + 1 : xs.v;
                const uint32_t *cp = col + (size_t)(x0 - c0) * ch;
                const uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
                if (n != last_n)
                    last_n = n, inv = 1.0 / (double)n;
                unsigned px[3];
                if (n < SHRINK_SUM32) { /* every sum + n / 2 below 2^31: 32-bit integers */
                    int32_t a0 = 0, a1 = 0, a2 = 0;
                    if (ch == 1)
                        for (int i = x0; i < x1; i++)
                            a0 += (int32_t)*cp++;
                    else
                        for (int i = x0; i < x1; i++, cp += ch)
                            a0 += (int32_t)cp[0], a1 += (int32_t)cp[1], a2 += (int32_t)cp[2];
                    if (ch == 1)
                        a1 = a2 = a0;
                    const int32_t half = (int32_t)(n / 2);
                    px[0] = floor_small(((double)(a0 + half) + 0.5) * inv);
                    px[1] = floor_small(((double)(a1 + half) + 0.5) * inv);
                    px[2] = floor_small(((double)(a2 + half) + 0.5) * inv);
                } else {
                    uint64_t acc[3] = { 0, 0, 0 };
                    if (ch == 1)
                        for (int i = x0; i < x1; i++)
                            acc[0] += *cp++;
                    else
                        for (int i = x0; i < x1; i++, cp += ch)
                            acc[0] += cp[0], acc[1] += cp[1], acc[2] += cp[2];
                    for (int k = 0; k < 3; k++)
                        px[k] = floor_small(((double)(acc[ch == 1 ? 0 : k] + n / 2) + 0.5) * inv);
                }
                put_pixel(dst + ((size_t)y * w + x) * nc, nc, px);
            }
            xa = xb;
        }
    }
}

void emx__resize_frame(const emx_image *img, size_t stride, int w, int h, int nc, uint8_t *dst)
{
    const int ch = img->channels, W = img->width, H = img->height;
    if (W >= w && H >= h && W / w + 2 <= shrink_cols(ch)) {
        shrink_frame(img, stride, w, h, nc, dst);
        return;
    }
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
                uint64_t acc[3] = { 0, 0, 0 };
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
                o[0] = emx__grey(px[0], px[1], px[2]);
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
    emx__resize_frame(img, stride, w, h, nc, resized);
    float *x = emx__value_ptr(m, 0);
    const size_t row = (size_t)in->width * nc, left = (size_t)lb->ox * nc, body = (size_t)w * nc;
    /* only the bands around the frame are cleared: the frame's rows are written next */
    memset(x, 0, (size_t)lb->oy * row * sizeof(float));
    memset(x + (size_t)(lb->oy + h) * row, 0,
           (size_t)(in->height - lb->oy - h) * row * sizeof(float));
    const float a = 1.0f / (255.0f * in->std), b = -in->mean / in->std;
    /* the 256 normalised values once: wasm has no byte-to-float vector conversion, and the
     * vectorised loop converted lane by lane */
    float norm[256];
    for (int v = 0; v < 256; v++)
        norm[v] = v * a + b;
    for (int y = 0; y < h; y++) {
        const uint8_t *p = resized + (size_t)y * body;
        float *o = x + (size_t)(y + lb->oy) * row;
        memset(o, 0, left * sizeof(float));
        for (size_t i = 0; i < body; i++)
            o[left + i] = norm[p[i]];
        memset(o + left + body, 0, (row - left - body) * sizeof(float));
    }
    return EMX_OK;
}

static size_t decode(const emx_model *m, float score_threshold, cand *out)
{
    const float iw = (float)m->input.width, ih = (float)m->input.height;
    const int k = m->det_coords, nk = (k - 4) / 2;
    /* compare logits: sigmoid(x) >= t  <=>  x >= log(t / (1 - t)) */
    const float t = score_threshold <= 0.0f   ? -INFINITY
                    : score_threshold >= 1.0f ? INFINITY
                                              : logf(score_threshold / (1.0f - score_threshold));
    size_t n = 0;
    for (int l = 0; l < m->n_outputs; l += 2) {
        const emx__graph_value *vs = &m->values[m->outputs[l]];
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

/* One pass over window (wx, wy, ww, wh) of the frame, cell (tx, ty) of an n x n grid: decode
 * into out, drop detections reaching past the window's inner edges, map the rest into the
 * whole-frame pass's input-normalised space (full). Returns how many were kept. */
static size_t tile_pass(emx_model *m, const emx_image *img, size_t stride, uint8_t *resized,
                        const letterbox *full, float score_threshold, int wx, int wy, int ww,
                        int wh, int tx, int ty, int n, cand *out)
{
    const emx_image win = { img->data + (size_t)wy * stride + (size_t)wx * img->channels, ww, wh,
                            img->channels, (int)stride };
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
    if (!m || !image || !n_faces || max_faces < 0 || (max_faces > 0 && !faces) || !m->is_detector)
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
    uint8_t *resized;
    letterbox lb;
    if ((st = emx__detect_scratch(m, tiles * tiles + 1, &cands, &resized)) != EMX_OK ||
        (st = letterbox_input(m, image, stride, resized, &lb)) != EMX_OK)
        return st;
    emx__forward(m);

    size_t n = decode(m, p.score_threshold, cands);
    for (int ty = 0; ty < tiles; ty++)
        for (int tx = 0; tx < tiles; tx++) {
            int wx, wy, ww, wh;
            tile_span(image->width, tx, tiles, &wx, &ww);
            tile_span(image->height, ty, tiles, &wy, &wh);
            n += tile_pass(m, image, stride, resized, &lb, p.score_threshold, wx, wy, ww, wh, tx,
                           ty, tiles, cands + n);
        }
    *n_faces = emx__nms(m, &lb, &p, tiles, cands, n, faces, max_faces);
    return EMX_OK;
}
