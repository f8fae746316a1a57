/* emx_wasm.c - a flat shim over include/emoxnet.h for wasm/emoxnet.js.
 *
 * Why a shim: the JS side instantiates a standalone .wasm itself (no Emscripten glue), so it
 * can only pass numbers across the boundary. Every function here takes and returns scalars
 * (ints, floats, and pointers, which are 32-bit offsets into the module's memory); structs
 * are assembled on the C side. Out-values come back through small int arrays the caller
 * allocates in wasm memory.
 *
 * Ownership follows emoxnet.h: strings returned here are owned by the model (valid until
 * emx_wasm_free), buffers passed in are owned by the caller (allocated with malloc/free,
 * which are exported too). There is no global state: every JS model has its own instance.
 */
#include <stdint.h>
#include <stdlib.h>

#include "emoxnet.h"
#include "model.h" /* emx__classify_window */

/* ---- models ---- */

emx_model *emx_wasm_load_budget(const void *data, int size, int use_reference, double max_macs,
                                double max_memory_bytes, int max_ops, int max_meta_keys,
                                int *status);

/* Load an .emx from size bytes at data. Returns the model (0 on error) and writes the
 * emx_status to *status (a single int the caller allocated). */
emx_model *emx_wasm_load(const void *data, int size, int use_reference, int *status)
{
    return emx_wasm_load_budget(data, size, use_reference, 0, 0, 0, 0, status);
}

/* emx_wasm_load with budgets (emx_model_params; 0 for a default): multiply-adds and memory
 * bytes as doubles, since JS numbers carry them exactly up to 2^53. */
emx_model *emx_wasm_load_budget(const void *data, int size, int use_reference, double max_macs,
                                double max_memory_bytes, int max_ops, int max_meta_keys,
                                int *status)
{
    emx_model *model = NULL;
    emx_status st;
    if (!status)
        return NULL;
    if (!data || size <= 0 || !(max_macs >= 0 && max_macs <= 9e18) ||
        !(max_memory_bytes >= 0 && max_memory_bytes <= 9e18) || max_ops < 0 || max_meta_keys < 0) {
        *status = EMX_ERR_INVALID_ARG;
        return NULL;
    }
    emx_model_params params = emx_model_default_params();
    params.use_reference = use_reference ? 1 : 0;
    if (max_macs > 0)
        params.max_macs = (uint64_t)max_macs;
    if (max_memory_bytes > 0)
        params.max_memory_bytes = (uint64_t)max_memory_bytes;
    if (max_ops > 0)
        params.max_ops = max_ops;
    if (max_meta_keys > 0)
        params.max_meta_keys = max_meta_keys;
    st = emx_model_load(data, (size_t)size, &params, &model);
    *status = (int)st;
    return st == EMX_OK ? model : NULL;
}

void emx_wasm_free(emx_model *model)
{
    emx_model_free(model);
}

int emx_wasm_num_classes(const emx_model *model)
{
    return emx_model_num_classes(model);
}

const char *emx_wasm_class_name(const emx_model *model, int i)
{
    return emx_model_class_name(model, i);
}

/* key is a NUL-terminated UTF-8 string in wasm memory; returns 0 when the file has none. */
const char *emx_wasm_meta(const emx_model *model, const char *key)
{
    return emx_model_meta(model, key);
}

/* The input spec, one field per call: returning a struct would need a hidden out-pointer,
 * which is exactly the ABI detail JS should not have to know. */
int emx_wasm_input_width(const emx_model *model)
{
    return emx_model_input_spec(model).width;
}
int emx_wasm_input_height(const emx_model *model)
{
    return emx_model_input_spec(model).height;
}
int emx_wasm_input_channels(const emx_model *model)
{
    return emx_model_input_spec(model).channels;
}
float emx_wasm_input_mean(const emx_model *model)
{
    return emx_model_input_spec(model).mean;
}
float emx_wasm_input_std(const emx_model *model)
{
    return emx_model_input_spec(model).std;
}

/* ---- inference ---- */

static void emx__wasm_image_box(const uint8_t *pixels, int width, int height, int channels,
                                float bx, float by, float bw, float bh, emx_image *img,
                                emx_box *box)
{
    img->data = pixels;
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->stride = 0; /* JS always hands over tightly packed rows */
    box->x = bx;
    box->y = by;
    box->width = bw;
    box->height = bh;
}

/* pixels: width*height*channels bytes. has_box = 0 means the whole image (box args ignored).
 * probs receives num_classes floats. Returns an emx_status. */
int emx_wasm_classify(emx_model *model, const uint8_t *pixels, int width, int height, int channels,
                      int has_box, float bx, float by, float bw, float bh, float *probs)
{
    emx_image img;
    emx_box box;
    emx__wasm_image_box(pixels, width, height, channels, bx, by, bw, bh, &img, &box);
    return (int)emx_classify(model, &img, has_box ? &box : NULL, probs);
}

/* emx_wasm_classify of a box of a frame_w x frame_h frame of which JS copied only a window:
 * width x height pixels from (ox, oy) on (the rows and columns the box's crop can read).
 * Same numbers as the whole frame; EMX_ERR_INVALID_ARG when the crop reads outside the window
 * (JS then copies the whole frame). */
int emx_wasm_classify_window(emx_model *model, const uint8_t *pixels, int width, int height,
                             int channels, int frame_w, int frame_h, int ox, int oy, float bx,
                             float by, float bw, float bh, float *probs)
{
    emx_image img;
    emx_box box;
    emx__wasm_image_box(pixels, width, height, channels, bx, by, bw, bh, &img, &box);
    return (int)emx__classify_window(model, &img, frame_w, frame_h, ox, oy, &box, probs);
}

/* Same arguments as emx_wasm_classify; out receives the model's input tensor
 * (height*width*channels floats, NHWC). Lets JS check preprocessing on its own. */
int emx_wasm_preprocess(const emx_model *model, const uint8_t *pixels, int width, int height,
                        int channels, int has_box, float bx, float by, float bw, float bh,
                        float *out)
{
    emx_image img;
    emx_box box;
    emx__wasm_image_box(pixels, width, height, channels, bx, by, bw, bh, &img, &box);
    return (int)emx_preprocess(model, &img, has_box ? &box : NULL, out);
}

int emx_wasm_run(emx_model *model, const float *input, float *probs)
{
    return (int)emx_run(model, input, probs);
}

/* Class activation map of the most recent classify/run (emx_explain): label -1 for the top
 * class; map receives map_h * map_w raw floats. Returns an emx_status. */
int emx_wasm_explain(const emx_model *model, int label, float *map, int map_w, int map_h)
{
    return (int)emx_explain(model, label, map, map_w, map_h);
}

/* emx_set_label_weights (load()'s balance option: its prior^-b factors, so that the labels the
 * core picks, and analyze()'s maps with them, are the balanced ones); n 0 clears them. */
int emx_wasm_set_label_weights(emx_model *model, const float *weights, int n)
{
    return (int)emx_set_label_weights(model, n ? weights : NULL, n);
}

/* emx_model_label_threshold: class i's label threshold from the file (0: none), which
 * classify()'s and FaceTracker's labels follow as analyze()'s do (balance.js pickLabel). */
float emx_wasm_label_threshold(const emx_model *model, int i)
{
    return emx_model_label_threshold(model, i);
}

const char *emx_wasm_status_str(int status)
{
    return emx_status_str((emx_status)status);
}

/* The status's short name ("FORMAT", "NUMERIC", ...): JS can build its code table from this
 * instead of repeating the list. */
const char *emx_wasm_status_name(int status)
{
    return emx_status_name((emx_status)status);
}

/* ---- limits, from the C headers, so JS checks the same numbers before copying ---- */

/* which: 0 largest image side, 1 most image pixels, 2 most classes, 3 most landmarks,
 * 4 most detection tiles, 5 default multiply-add budget (millions), 6 default memory budget
 * (MiB), 7 default op budget, 8 default metadata-key budget; -1 for any other. */
int emx_wasm_limit(int which)
{
    switch (which) {
    case 0: return EMX_MAX_IMAGE_SIDE;
    case 1: return EMX_MAX_IMAGE_PIXELS;
    case 2: return EMX_MAX_CLASSES;
    case 3: return EMX_MAX_LANDMARKS;
    case 4: return EMX_DETECT_MAX_TILES;
    case 5: return (int)(EMX_DEFAULT_MAX_MACS / 1000000u);
    case 6: return (int)(EMX_DEFAULT_MAX_MEMORY_BYTES >> 20);
    case 7: return EMX_DEFAULT_MAX_OPS;
    case 8: return EMX_DEFAULT_MAX_META_KEYS;
    }
    return -1;
}

/* ---- image decoding (stb_image inside the core) ---- */

/* Decode PNG/JPEG bytes. out is 4 ints: [pixels pointer, width, height, channels].
 * Returns an emx_status; on success release out[0] with emx_wasm_image_free. */
int emx_wasm_decode(const void *bytes, int size, int32_t *out)
{
    uint8_t *pixels = NULL;
    int w = 0, h = 0, c = 0;
    emx_status st;
    if (!out)
        return EMX_ERR_INVALID_ARG;
    out[0] = out[1] = out[2] = out[3] = 0;
    if (!bytes || size <= 0)
        return EMX_ERR_INVALID_ARG;
    st = emx_image_decode(bytes, (size_t)size, &pixels, &w, &h, &c);
    if (st != EMX_OK)
        return (int)st;
    out[0] = (int32_t)(uintptr_t)pixels;
    out[1] = w;
    out[2] = h;
    out[3] = c;
    return EMX_OK;
}

void emx_wasm_image_free(uint8_t *pixels)
{
    emx_image_free(pixels);
}
