/* emoxnet.h - facial expression recognition on device. The only public header.
 *
 * Basic usage:
 *
 *     emx_model *model = NULL;
 *     emx_status st = emx_model_load_file("models/emoxnet-lite.emx", NULL, &model);
 *     if (st != EMX_OK) { fprintf(stderr, "%s\n", emx_status_str(st)); return 1; }
 *
 *     emx_image img = { rgba_pixels, width, height, 4, width * 4 };
 *     emx_box face = { 120, 80, 96, 96 };            // or pass NULL for the whole image
 *     float probs[EMX_MAX_CLASSES];
 *     st = emx_classify(model, &img, &face, probs);  // probs[i] is emx_model_class_name(model, i)
 *
 *     emx_model_free(model);
 *
 * Threading: a model owns one preallocated workspace, so calls on the same model must not run
 * concurrently. Separate models are independent; there is no global state.
 * Ownership: every pointer returned by this API is owned by the model and lives until
 * emx_model_free(); callers own every buffer they pass in.
 */
#ifndef EMOXNET_H
#define EMOXNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMX_MAX_CLASSES 64

typedef enum emx_status {
    EMX_OK = 0,
    EMX_ERR_INVALID_ARG = -1,  /* NULL pointer, bad enum, NaN or negative size */
    EMX_ERR_NO_MEMORY = -2,
    EMX_ERR_BAD_MAGIC = -3,    /* not an .emx file */
    EMX_ERR_VERSION = -4,      /* .emx version this build does not read */
    EMX_ERR_TRUNCATED = -5,    /* file shorter than its header says */
    EMX_ERR_CHECKSUM = -6,     /* CRC-32 mismatch: the file was damaged */
    EMX_ERR_FORMAT = -7,       /* a size, offset, shape, op or attribute is invalid */
    EMX_ERR_IMAGE = -8,        /* zero-size image, bad channel count, stride too small */
    EMX_ERR_BOX = -9,          /* box empty, NaN, not overlapping the image, or > 16384 px a side */
    EMX_ERR_IO = -10,          /* file could not be read */
    EMX_ERR_DECODE = -11       /* image bytes could not be decoded */
} emx_status;

/* A static English message for a status ("ok" for EMX_OK). Never NULL. */
const char *emx_status_str(emx_status status);

typedef struct emx_model emx_model;

typedef struct emx_model_params {
    int use_reference; /* 1: run the plain C reference ops instead of the SIMD kernels (tests) */
} emx_model_params;

emx_model_params emx_model_default_params(void);

/* Load a model from an .emx buffer. The bytes are copied/unpacked; the buffer may be freed
 * afterwards. params may be NULL for defaults. On error *out is set to NULL. */
emx_status emx_model_load(const void *data, size_t size, const emx_model_params *params,
                          emx_model **out);
/* Thin wrapper: read a file, then emx_model_load(). */
emx_status emx_model_load_file(const char *path, const emx_model_params *params,
                               emx_model **out);
void emx_model_free(emx_model *model); /* NULL is fine */

typedef struct emx_input_spec {
    int width, height, channels; /* channels: 1 grayscale, 3 RGB */
    float mean, std;             /* input = (pixel / 255 - mean) / std */
} emx_input_spec;

emx_input_spec emx_model_input_spec(const emx_model *model);
int emx_model_num_classes(const emx_model *model);
/* Class name i (0 <= i < num_classes), or NULL when i is out of range. */
const char *emx_model_class_name(const emx_model *model, int i);
/* Metadata value for key, or NULL when the file has none. */
const char *emx_model_meta(const emx_model *model, const char *key);

/* An image in memory: 8-bit pixels, row-major, channels 1 (gray), 3 (RGB) or 4 (RGBA).
 * stride is bytes per row (>= width * channels), 0 meaning tightly packed. */
typedef struct emx_image {
    const uint8_t *data;
    int width, height, channels, stride;
} emx_image;

/* A face box in pixel coordinates of the image. Parts outside the image are filled by
 * repeating the edge pixels; a box with no overlap with the image is EMX_ERR_BOX. */
typedef struct emx_box {
    float x, y, width, height;
} emx_box;

/* Crop (box may be NULL: whole image), convert, resize and normalise an image into the model's
 * input tensor: out holds height*width*channels floats, NHWC. */
emx_status emx_preprocess(const emx_model *model, const emx_image *image, const emx_box *box,
                          float *out);

/* Run the network on an already preprocessed input tensor. probs receives num_classes floats. */
emx_status emx_run(emx_model *model, const float *input, float *probs);

/* emx_preprocess + emx_run. */
emx_status emx_classify(emx_model *model, const emx_image *image, const emx_box *box,
                        float *probs);

/* Decode PNG or JPEG bytes (stb_image) into 8-bit pixels with their own channel count (1, 3 or
 * 4: gray + alpha comes back as gray, as emx_image has no such layout). Images over 16384 pixels
 * a side and truncated PNGs are EMX_ERR_DECODE.
 * On success *pixels is malloc'd and owned by the caller: release it with emx_image_free(). */
emx_status emx_image_decode(const void *bytes, size_t size, uint8_t **pixels, int *width,
                            int *height, int *channels);
void emx_image_free(uint8_t *pixels);

#ifdef __cplusplus
}
#endif
#endif /* EMOXNET_H */
