/* emx_wasm_detect.c - the flat shim (see emx_wasm.c) for face detection, plus what the CLI's
 * `--annotate out.png` needs: drawing boxes and labels into an image and encoding it as PNG
 * (stb_easy_font and stb_image_write from Debian's libstb-dev). Plain C: tests/test-annotate.c
 * compiles it natively too.
 *
 * Face records, as floats, EMX_WASM_FACE_FLOATS (23) per face:
 *   x, y, width, height, score, n_landmarks, 6 x (x, y) landmarks,
 *   crop cx, cy, side, angle (emx_crop), label (-1 from detect)
 * and emx_wasm_analyze appends the classifier's num_classes probabilities to each record.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"
#include "pixel.h" /* src/: the core's one grey formula */

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#include <stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define EMX_WASM_FACE_FLOATS (6 + 2 * EMX_MAX_LANDMARKS + 4 + 1)
#define EMX_WASM_CROP        (6 + 2 * EMX_MAX_LANDMARKS)

static void emx__wasm_record(const emx_face *f, int n_probs, float *out)
{
    out[0] = f->box.x;
    out[1] = f->box.y;
    out[2] = f->box.width;
    out[3] = f->box.height;
    out[4] = f->score;
    out[5] = (float)f->n_landmarks;
    for (int i = 0; i < EMX_MAX_LANDMARKS; i++) {
        out[6 + 2 * i] = i < f->n_landmarks ? f->landmarks[i][0] : 0.0f;
        out[7 + 2 * i] = i < f->n_landmarks ? f->landmarks[i][1] : 0.0f;
    }
    out[EMX_WASM_CROP] = f->crop.cx;
    out[EMX_WASM_CROP + 1] = f->crop.cy;
    out[EMX_WASM_CROP + 2] = f->crop.side;
    out[EMX_WASM_CROP + 3] = f->crop.angle;
    out[EMX_WASM_CROP + 4] = (float)f->label;
    for (int c = 0; c < n_probs; c++)
        out[EMX_WASM_FACE_FLOATS + c] = f->probs[c];
}

/* classifier may be NULL (detect only); tiles: emx_detect_params.tiles. out holds max_faces
 * records of EMX_WASM_FACE_FLOATS (+ num_classes with a classifier) floats; *n_faces gets the
 * count. maps (classifier only; NULL: none): max_faces class activation maps of map_w x
 * map_h floats, emx_analyze_explain's.
 * Returns an emx_status. */
static int emx__wasm_faces(emx_model *detector, emx_model *classifier, const uint8_t *pixels,
                           int width, int height, int channels, float score_threshold,
                           float iou_threshold, float min_face_size, int max_faces, int tiles,
                           float *out, int *n_faces, float *maps, int map_w, int map_h)
{
    if (!n_faces)
        return EMX_ERR_INVALID_ARG;
    *n_faces = 0;
    if (max_faces < 0 || max_faces > 1024 || (max_faces > 0 && !out))
        return EMX_ERR_INVALID_ARG;
    emx_face *faces = NULL;
    if (max_faces > 0 && !(faces = malloc((size_t)max_faces * sizeof *faces)))
        return EMX_ERR_NO_MEMORY;
    emx_image img = { pixels, width, height, channels, 0 };
    emx_detect_params p = emx_detect_default_params();
    p.score_threshold = score_threshold;
    p.iou_threshold = iou_threshold;
    p.min_face_size = min_face_size;
    p.tiles = tiles;
    int n = 0;
    emx_status st;
    if (!classifier)
        st = emx_detect(detector, &img, &p, faces, max_faces, &n);
    else if (maps)
        st = emx_analyze_explain(detector, classifier, &img, &p, faces, max_faces, &n, maps, map_w,
                                 map_h);
    else
        st = emx_analyze(detector, classifier, &img, &p, faces, max_faces, &n);
    const int n_probs = classifier ? emx_model_num_classes(classifier) : 0;
    for (int i = 0; st == EMX_OK && i < n; i++)
        emx__wasm_record(&faces[i], n_probs, out + (size_t)i * (EMX_WASM_FACE_FLOATS + n_probs));
    if (st == EMX_OK)
        *n_faces = n;
    free(faces);
    return (int)st;
}

int emx_wasm_detect(emx_model *detector, const uint8_t *pixels, int width, int height, int channels,
                    float score_threshold, float iou_threshold, float min_face_size, int max_faces,
                    int tiles, float *out, int *n_faces)
{
    return emx__wasm_faces(detector, NULL, pixels, width, height, channels, score_threshold,
                           iou_threshold, min_face_size, max_faces, tiles, out, n_faces, NULL, 0,
                           0);
}

/* maps: NULL, or max_faces * map_w * map_h floats for each face's class activation map over
 * its crop (the record's cx, cy, side, angle): emx_analyze_explain. */
int emx_wasm_analyze(emx_model *detector, emx_model *classifier, const uint8_t *pixels, int width,
                     int height, int channels, float score_threshold, float iou_threshold,
                     float min_face_size, int max_faces, int tiles, float *out, int *n_faces,
                     float *maps, int map_w, int map_h)
{
    if (!classifier)
        return EMX_ERR_INVALID_ARG;
    return emx__wasm_faces(detector, classifier, pixels, width, height, channels, score_threshold,
                           iou_threshold, min_face_size, max_faces, tiles, out, n_faces, maps,
                           map_w, map_h);
}

int emx_wasm_face_floats(void)
{
    return EMX_WASM_FACE_FLOATS;
}

/* ---- annotation ---- */

static void emx__fill(uint8_t *px, int w, int h, int ch, int x0, int y0, int x1, int y1,
                      const uint8_t rgb[3])
{
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > w ? w : x1;
    y1 = y1 > h ? h : y1;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * ch;
            if (ch == 1) {
                p[0] = emx__grey(rgb[0], rgb[1], rgb[2]);
            } else {
                p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
                if (ch == 4)
                    p[3] = 255;
            }
        }
}

static int emx__clampi(double v)
{
    return v < -1e6 ? -1000000 : v > 1e6 ? 1000000 : (int)floor(v);
}

/* Draw n boxes (n * 4 floats: x, y, width, height) and their labels (n NUL-terminated
 * strings one after another; labels may be 0) into an image in place (channels 1, 3 or 4,
 * tightly packed). Line width and text size follow the image size. */
void emx_wasm_draw_faces(uint8_t *pixels, int width, int height, int channels, const float *boxes,
                         int n, const char *labels)
{
    static const uint8_t colors[6][3] = { { 255, 64, 64 }, { 64, 200, 64 },  { 64, 128, 255 },
                                          { 255, 192, 0 }, { 200, 64, 255 }, { 0, 200, 200 } };
    static const uint8_t white[3] = { 255, 255, 255 };
    if (!pixels || !boxes || width < 1 || height < 1 || n < 0 ||
        (channels != 1 && channels != 3 && channels != 4))
        return;
    const int t = width > height ? (width + 319) / 320 : (height + 319) / 320; /* line px */
    const int scale = t < 2 ? 2 : t;                                           /* font px */
    const char *label = labels;
    for (int i = 0; i < n; i++) {
        const float *b = boxes + 4 * i;
        const uint8_t *c = colors[i % 6];
        if (isfinite(b[0]) && isfinite(b[1]) && isfinite(b[2]) && isfinite(b[3])) {
            const int x0 = emx__clampi(b[0]), y0 = emx__clampi(b[1]);
            const int x1 = emx__clampi((double)b[0] + b[2]), y1 = emx__clampi((double)b[1] + b[3]);
            emx__fill(pixels, width, height, channels, x0, y0, x1, y0 + t, c);
            emx__fill(pixels, width, height, channels, x0, y1 - t, x1, y1, c);
            emx__fill(pixels, width, height, channels, x0, y0, x0 + t, y1, c);
            emx__fill(pixels, width, height, channels, x1 - t, y0, x1, y1, c);
            if (label && *label) {
                char text[128];
                size_t len = strlen(label);
                len = len < sizeof text - 1 ? len : sizeof text - 1;
                memcpy(text, label, len);
                text[len] = 0;
                static char quads[128 * 270]; /* stb_easy_font: ~270 bytes per character */
                const int nq = stb_easy_font_print(0, 0, text, NULL, quads, (int)sizeof quads);
                const int tw = stb_easy_font_width(text) * scale, th = 9 * scale;
                int lx = x0, ly = y0 - th - t;
                if (ly < 0)
                    ly = y0 + t; /* no room above: inside the box */
                emx__fill(pixels, width, height, channels, lx, ly, lx + tw + 2 * scale, ly + th, c);
                for (int q = 0; q < nq; q++) {
                    const float *v = (const float *)(void *)(quads + q * 64);
                    /* vertices are 16 bytes: x, y, z, colour; a quad's corners 0 and 2 */
                    const float qx0 = v[0], qy0 = v[1], qx1 = v[8], qy1 = v[9];
                    emx__fill(pixels, width, height, channels, lx + scale + (int)(qx0 * scale),
                              ly + scale + (int)(qy0 * scale), lx + scale + (int)(qx1 * scale),
                              ly + scale + (int)(qy1 * scale), white);
                }
            }
        }
        if (label)
            label += strlen(label) + 1;
    }
}

typedef struct emx__png_buf {
    uint8_t *data;
    size_t size, cap;
    int failed;
} emx__png_buf;

static void emx__png_write(void *ctx, void *data, int size)
{
    emx__png_buf *b = ctx;
    if (b->failed || size <= 0)
        return;
    if (b->size + (size_t)size > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 65536) + (size_t)size;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, (size_t)size);
    b->size += (size_t)size;
}

/* PNG bytes of a tightly packed image (channels 1, 3 or 4). Returns a malloc'd buffer (free
 * it with free()) and its length in *size; 0 on failure. */
uint8_t *emx_wasm_encode_png(const uint8_t *pixels, int width, int height, int channels, int *size)
{
    if (!size)
        return NULL;
    *size = 0;
    if (!pixels || width < 1 || height < 1 || width > EMX_MAX_IMAGE_SIDE ||
        height > EMX_MAX_IMAGE_SIDE || (int64_t)width * height > EMX_MAX_IMAGE_PIXELS ||
        (channels != 1 && channels != 3 && channels != 4))
        return NULL;
    emx__png_buf b = { NULL, 0, 0, 0 };
    if (!stbi_write_png_to_func(emx__png_write, &b, width, height, channels, pixels,
                                width * channels) ||
        b.failed || b.size > INT32_MAX) {
        free(b.data);
        return NULL;
    }
    *size = (int)b.size;
    return b.data;
}
