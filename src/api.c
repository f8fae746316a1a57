/* api.c - the small public functions: statuses, parameters, accessors, emx_classify. */
#include <float.h>
#include <string.h>

#include "model.h"

const char *emx_status_str(emx_status status)
{
    switch (status) {
    case EMX_OK: return "ok";
    case EMX_ERR_INVALID_ARG: return "invalid argument";
    case EMX_ERR_NO_MEMORY: return "out of memory";
    case EMX_ERR_BAD_MAGIC: return "not an .emx model file";
    case EMX_ERR_VERSION: return "unsupported .emx version";
    case EMX_ERR_TRUNCATED: return "model file is truncated";
    case EMX_ERR_CHECKSUM: return "model file is damaged (CRC-32 mismatch)";
    case EMX_ERR_FORMAT: return "invalid model file contents";
    case EMX_ERR_IMAGE: return "invalid image (size, channels or stride)";
    case EMX_ERR_BOX:
        return "invalid face box (empty, NaN, outside the image or far larger than it)";
    case EMX_ERR_IO: return "file could not be read";
    case EMX_ERR_DECODE: return "image could not be decoded";
    case EMX_ERR_UNSUPPORTED: return "not supported by this model (or nothing run yet to explain)";
    case EMX_ERR_LIMIT:
        return "model exceeds a load-time budget (compute, memory, ops or metadata)";
    case EMX_ERR_NUMERIC:
        return "the network produced invalid probabilities (NaN, infinite or out of range)";
    }
    return "unknown status";
}

const char *emx_status_name(emx_status status)
{
    switch (status) {
    case EMX_OK: return "OK";
    case EMX_ERR_INVALID_ARG: return "INVALID_ARG";
    case EMX_ERR_NO_MEMORY: return "NO_MEMORY";
    case EMX_ERR_BAD_MAGIC: return "BAD_MAGIC";
    case EMX_ERR_VERSION: return "VERSION";
    case EMX_ERR_TRUNCATED: return "TRUNCATED";
    case EMX_ERR_CHECKSUM: return "CHECKSUM";
    case EMX_ERR_FORMAT: return "FORMAT";
    case EMX_ERR_IMAGE: return "IMAGE";
    case EMX_ERR_BOX: return "BOX";
    case EMX_ERR_IO: return "IO";
    case EMX_ERR_DECODE: return "DECODE";
    case EMX_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case EMX_ERR_LIMIT: return "LIMIT";
    case EMX_ERR_NUMERIC: return "NUMERIC";
    }
    return "UNKNOWN";
}

emx_model_params emx_model_default_params(void)
{
    emx_model_params p;
    memset(&p, 0, sizeof p);
    p.max_macs = EMX_DEFAULT_MAX_MACS;
    p.max_memory_bytes = EMX_DEFAULT_MAX_MEMORY_BYTES;
    p.max_ops = EMX_DEFAULT_MAX_OPS;
    p.max_meta_keys = EMX_DEFAULT_MAX_META_KEYS;
    return p;
}

emx_input_spec emx_model_input_spec(const emx_model *model)
{
    if (!model) {
        emx_input_spec none;
        memset(&none, 0, sizeof none);
        return none;
    }
    return model->input;
}

int emx_model_num_classes(const emx_model *model)
{
    return model ? model->n_classes : 0;
}

emx_status emx_set_label_weights(emx_model *model, const float *weights, int n)
{
    if (!model || model->is_detector)
        return EMX_ERR_INVALID_ARG;
    if (!weights && n == 0) {
        model->has_label_weights = 0;
        return EMX_OK;
    }
    if (!weights || n != model->n_classes)
        return EMX_ERR_INVALID_ARG;
    for (int c = 0; c < n; c++) /* (NaN fails the comparison too) */
        if (!(weights[c] > 0.0f && weights[c] <= FLT_MAX))
            return EMX_ERR_INVALID_ARG;
    memcpy(model->label_weights, weights, (size_t)n * sizeof *weights);
    model->has_label_weights = 1;
    return EMX_OK;
}

const char *emx_model_class_name(const emx_model *model, int i)
{
    if (!model || i < 0 || i >= model->n_classes)
        return NULL;
    return model->class_names[i];
}

float emx_model_label_threshold(const emx_model *model, int i)
{
    if (!model || i < 0 || i >= model->n_classes || !model->has_label_thresholds)
        return 0.0f;
    return model->label_thresholds[i];
}

emx_status emx_pick_label(const emx_model *model, const float *probs, int *label)
{
    if (!model || model->is_detector || !probs || !label)
        return EMX_ERR_INVALID_ARG;
    *label = emx__pick_label(model, probs);
    return EMX_OK;
}

const char *emx_model_meta(const emx_model *model, const char *key)
{
    if (!model || !key)
        return NULL;
    for (int i = 0; i < model->n_meta; i++)
        if (strcmp(model->meta[2 * i], key) == 0)
            return model->meta[2 * i + 1];
    return NULL;
}

emx_status emx_classify(emx_model *model, const emx_image *image, const emx_box *box, float *probs)
{
    if (!model || !image || !probs || model->is_detector)
        return EMX_ERR_INVALID_ARG;
    /* Preprocess straight into the graph input's buffer: no copy, no allocation. */
    float *in = emx__value_ptr(model, 0);
    emx_status st = emx_preprocess(model, image, box, in);
    if (st != EMX_OK)
        return st;
    return emx_run(model, in, probs);
}

emx_status emx__classify_window(emx_model *model, const emx_image *window, int frame_w, int frame_h,
                                int ox, int oy, const emx_box *box, float *probs)
{
    if (!model || !window || !probs || model->is_detector)
        return EMX_ERR_INVALID_ARG;
    float *in = emx__value_ptr(model, 0);
    emx_status st = emx__preprocess_window(model, window, frame_w, frame_h, ox, oy, box, in);
    if (st != EMX_OK)
        return st;
    return emx_run(model, in, probs);
}
