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
    EMX_ERR_INVALID_ARG = -1, /* NULL pointer, bad enum, NaN or negative size */
    EMX_ERR_NO_MEMORY = -2,
    EMX_ERR_BAD_MAGIC = -3,    /* not an .emx file */
    EMX_ERR_VERSION = -4,      /* .emx version this build does not read */
    EMX_ERR_TRUNCATED = -5,    /* file shorter than its header says */
    EMX_ERR_CHECKSUM = -6,     /* CRC-32 mismatch: the file was damaged */
    EMX_ERR_FORMAT = -7,       /* a size, offset, shape, op or attribute is invalid */
    EMX_ERR_IMAGE = -8,        /* zero-size image, bad channel count, stride too small */
    EMX_ERR_BOX = -9,          /* box empty, NaN, not overlapping the image, over
                                  EMX_MAX_IMAGE_SIDE px a side,
                                  or over 64 times the pixels of the image (or of the model's
                                  input, when larger) */
    EMX_ERR_IO = -10,          /* file could not be read */
    EMX_ERR_DECODE = -11,      /* image bytes could not be decoded */
    EMX_ERR_UNSUPPORTED = -12, /* emx_explain: the graph has no class-activation-map branch,
                                  or no emx_run/emx_classify has happened yet */
    EMX_ERR_LIMIT = -13,       /* the model exceeds a load-time budget (emx_model_params:
                                  multiply-adds per run, memory, ops, metadata keys), or a
                                  detection would need more scratch than its memory budget */
    EMX_ERR_NUMERIC = -14      /* the network produced NaN, infinite or out-of-range
                                  probabilities (e.g. finite but huge weights) */
} emx_status;

/* A static English message for a status ("ok" for EMX_OK). Never NULL. */
const char *emx_status_str(emx_status status);
/* Its short name, the code wasm/emoxnet.js gives EmxError ("OK", "INVALID_ARG", ...,
 * "NUMERIC"; "UNKNOWN" for any other number): the one list of status names. */
const char *emx_status_name(emx_status status);

typedef struct emx_model emx_model;

/* Budgets a model must fit at load, so a small hostile-but-valid file cannot make a run take
 * minutes or the heap grow by gigabytes (a 96 KB graph of 10^12 multiply-adds, a 576-byte one
 * planning 1.5 GB). The defaults are far above every real model (the shipped ensemble, the
 * largest: 0.47 G multiply-adds, 16.5 MiB, 199 ops, 7 metadata keys); a model over one fails to
 * load with EMX_ERR_LIMIT. A field left 0 takes its default. */
#define EMX_DEFAULT_MAX_MACS         20000000000ull /* 2e10 multiply-adds per run */
#define EMX_DEFAULT_MAX_MEMORY_BYTES (1ull << 29)   /* 512 MiB */
#define EMX_DEFAULT_MAX_OPS          2048
#define EMX_DEFAULT_MAX_META_KEYS    256

typedef struct emx_model_params {
    int use_reference; /* 1: run the plain C reference ops instead of the SIMD kernels (tests) */
    uint64_t max_macs; /* multiply-adds (and comparable element operations) one run may do */
    uint64_t max_memory_bytes; /* what the model allocates beyond its widened weights:
                                * activations, scratch, packed weights, class-activation-map
                                * weights; for a detector also the detection scratch (checked
                                * by emx_detect, which returns EMX_ERR_LIMIT beyond it) */
    int max_ops;               /* graph ops (the format allows 4096) */
    int max_meta_keys;         /* metadata key/value pairs */
} emx_model_params;

/* The defaults above, use_reference 0. */
emx_model_params emx_model_default_params(void);

/* Load a model from an .emx buffer. The bytes are copied/unpacked; the buffer may be freed
 * afterwards. params may be NULL for defaults. On error *out is set to NULL. */
emx_status emx_model_load(const void *data, size_t size, const emx_model_params *params,
                          emx_model **out);
/* Thin wrapper: read a file, then emx_model_load(). */
emx_status emx_model_load_file(const char *path, const emx_model_params *params, emx_model **out);
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
/* Class i's label threshold from the file (0 <= i < num_classes; 0 when it has none or i is
 * out of range): the label is class i whenever its probability reaches this, even when another
 * class is more probable (emx_pick_label). A calibrated file may set one for a class the model
 * rarely ranks first even when it is right (the shipped models: contempt and disgust). */
float emx_model_label_threshold(const emx_model *model, int i);

/* The one set of image limits, for every entry point (emx_image_decode, emx_preprocess,
 * emx_classify, emx_detect, emx_analyze; the WebAssembly shim exports them for JS): at most
 * EMX_MAX_IMAGE_SIDE pixels a side and EMX_MAX_IMAGE_PIXELS pixels (64 Mpx: an 8192 x 8192
 * RGBA image is 256 MiB, a quarter of what wasm32 can address without trouble). */
#define EMX_MAX_IMAGE_SIDE   16384
#define EMX_MAX_IMAGE_PIXELS (1 << 26)

/* An image in memory: 8-bit pixels, row-major, channels 1 (gray), 3 (RGB) or 4 (RGBA).
 * stride is bytes per row (>= width * channels), 0 meaning tightly packed. */
typedef struct emx_image {
    const uint8_t *data;
    int width, height, channels, stride;
} emx_image;

/* A face box in pixel coordinates of the image. Parts outside the image are filled by
 * repeating the edge pixels; a box with no overlap with the image, or one covering more than
 * 64 times the image's pixels (mostly padding), is EMX_ERR_BOX. */
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
emx_status emx_classify(emx_model *model, const emx_image *image, const emx_box *box, float *probs);

/* Explain the most recent emx_run/emx_classify (or the last labelled face of emx_analyze;
 * emx_analyze_explain gives every face's map) with a class activation map: where in the input
 * crop the evidence for class `label` lies (-1: the most probable class of that run, weighted
 * as emx_set_label_weights says). Writes
 * map_h * map_w floats, row-major, covering the model's input (the preprocessed face crop) at
 * any resolution; pass the input spec's size for the network's own view.
 *
 * For a network ending in global average pooling + one dense layer (logits z = W g + b with
 * g = mean over pixels of the last features F), CAM_c(y, x) = sum_k W[c][k] F(y, x, k): its mean
 * over the feature grid is z_c - b_c, so it splits the class score over the image exactly.
 * Each map is resized to map_h x map_w bilinearly (align_corners=False, as F.interpolate),
 * mirrored back for branches that saw the input through FLIP_W, and the branches of an
 * ensemble / flip-TTA graph are summed with the weights WEIGHTED_MEAN gives their predictions.
 * The map is raw (logit units, bias excluded, may be negative); wasm/emoxnet.js normalises it.
 * No second pass through the network: the features were kept from the run. Allocates a small
 * temporary buffer. EMX_ERR_UNSUPPORTED when the model has no such branch (e.g. a Linear +
 * ReLU + Linear head) or nothing has run yet; EMX_ERR_INVALID_ARG for a bad label or size
 * (each side 1..4096). */
emx_status emx_explain(const emx_model *model, int label, float *map, int map_w, int map_h);

/* Per-class weights for the labels the core picks itself: emx_analyze's face labels (and so
 * emx_analyze_explain's maps) and emx_explain's label -1 become the class with the largest
 * probs[c] * weights[c] instead of the largest probability. The probabilities are not changed:
 * a caller who reports them multiplies and renormalises them the same way (wasm/emoxnet.js's
 * balance option, weights prior^-b, does, and sets them here so that a face's map is its
 * reported label's). n must be the model's number of classes and every weight finite and > 0;
 * weights NULL with n 0 clears them. EMX_ERR_INVALID_ARG otherwise, and for a detector; the
 * model's weights are unchanged after an error. */
emx_status emx_set_label_weights(emx_model *model, const float *weights, int n);

/* The label of probs (num_classes floats from emx_run/emx_classify of this model) by the rule
 * emx_analyze and emx_explain (-1) use: the class whose probability reaches its label threshold
 * (emx_model_label_threshold; of several, the lowest threshold, then the most probable), else
 * the largest probs[c], or probs[c] * weights[c] after emx_set_label_weights; the first on ties.
 * The thresholds read the probabilities themselves, not the weighted scores: they were fitted on
 * the model's output.
 * Without thresholds or weights, the argmax. Writes the class index to *label;
 * EMX_ERR_INVALID_ARG for NULL arguments or a detector. */
emx_status emx_pick_label(const emx_model *model, const float *probs, int *label);

/* Decode PNG or JPEG bytes (stb_image) into 8-bit pixels with their own channel count (1, 3 or
 * 4: gray + alpha comes back as gray, as emx_image has no such layout). Images over the limits
 * above, truncated PNGs, PNGs whose compressed data is too short for the size they announce
 * (checked before anything is allocated: deflate expands at most 1032:1, so a 1 MB "bomb"
 * cannot make the decoder reserve a gigabyte first) and JPEGs with invalid Huffman tables
 * are EMX_ERR_DECODE; nothing stays allocated after a failure.
 * On success *pixels is malloc'd and owned by the caller: release it with emx_image_free(). */
emx_status emx_image_decode(const void *bytes, size_t size, uint8_t **pixels, int *width,
                            int *height, int *channels);
void emx_image_free(uint8_t *pixels);

/* ---- Face detection on whole frames ----
 *
 *     emx_model *det = NULL, *expr = NULL;
 *     emx_model_load_file("models/blazeface.emx", NULL, &det);   // META task=detector
 *     emx_model_load_file("models/emoxnet-lite.emx", NULL, &expr);
 *     emx_detect_params dp = emx_detect_default_params();
 *     emx_face faces[8];
 *     int n = 0;
 *     st = emx_analyze(det, expr, &frame, &dp, faces, 8, &n);
 *     // faces[i].box, .score, .landmarks, .crop, .label, .probs[] for i < n, best score first
 *     static float maps[8 * 48 * 48];  // or, with why each face got its label:
 *     st = emx_analyze_explain(det, expr, &frame, &dp, faces, 8, &n, maps, 48, 48);
 *     // faces[i]'s class activation map at maps + i * 48 * 48, over faces[i].crop
 *
 * A detector is an .emx model whose META has task=detector (models/FORMAT.md, "Detector
 * models"); emx_classify/emx_run refuse it with EMX_ERR_INVALID_ARG, and emx_detect refuses
 * a classifier the same way. The detector's scratch (a few hundred KiB) is allocated on its
 * first emx_detect and kept by the model (enlarged once by the first call with more tiles);
 * later calls allocate only emx_classify's crop buffers. The same threading rule as
 * emx_classify holds: one call at a time per model. */

#define EMX_MAX_LANDMARKS 6

typedef struct emx_detect_params {
    float score_threshold; /* 0.5: minimum detector confidence (0..1) */
    float iou_threshold;   /* 0.3: detections overlapping the best one by more are merged
                            * into it (score-weighted average, as MediaPipe does) */
    float min_face_size;   /* 0: faces whose box side (the larger) is below it, in image
                            * pixels, are dropped */
    int max_faces;         /* 0: as many as the caller's array holds; else at most this many */
    int tiles;             /* 0 (or 1): one detector pass over the whole image. N = 2..
                            * EMX_DETECT_MAX_TILES: also one pass on each window of an N x N
                            * grid, for faces too small for the whole-image pass (BlazeFace
                            * front misses most faces under about a fifth of the image height,
                            * ~100 px in 640x480: group photos). Each window is 2/(N+1) of the
                            * image's width and height, neighbours overlapping by half a window,
                            * so a face up to 1/(N+1) of the image side is whole in some window,
                            * and faces about 2/(N+1) the size the whole-image pass needs are
                            * found (FER+ faces in 640x480, found of 80: 96 px: 6 without
                            * tiles, 72 with 2, 79 with 3; 72 px: 0, 30 with 2, 72 with 3, 79
                            * with 4).
                            * Detections reaching past a window's inner edge are dropped (a cut
                            * face, whole in a neighbour), and so are, with tiles, faces lying
                            * mostly inside a larger face (a part seen magnified); all passes
                            * go through one weighted NMS, so a face seen by several passes is
                            * reported once. Cost: N * N + 1 detector passes (tiles 2: about
                            * 5x the detection time, 3: 10x, 4: 17x); the scratch is enlarged
                            * once to hold that many passes' candidates (about 1 MiB at 4).
                            * Negative or above EMX_DETECT_MAX_TILES: EMX_ERR_INVALID_ARG. */
} emx_detect_params;

#define EMX_DETECT_MAX_TILES 4

emx_detect_params emx_detect_default_params(void);

/* The square crop emx_analyze classifies for a face: the detector's box enlarged to a
 * forehead-to-chin square (as FER+ crops are) and turned so the eyes are level. Reported so
 * that callers draw on the crop (a class activation map, emx_analyze_explain) where it was
 * taken, without re-deriving its geometry. Centre (cx, cy) and side in image pixels; angle in
 * radians, the direction of the eye line (0 when it is within 2 degrees of level: the crop is
 * then not rotated), positive clockwise on screen (y down): the point (u, v) of the crop, in
 * pixels from its centre (u right, v down in the face's own frame), lies at image pixel
 * (cx + u cos(angle) - v sin(angle), cy + u sin(angle) + v cos(angle)). A canvas draws an
 * image over it with translate(cx, cy), rotate(angle), drawImage(img, -side/2, -side/2,
 * side, side). */
typedef struct emx_crop {
    float cx, cy, side, angle;
} emx_crop;

typedef struct emx_face {
    emx_box box;     /* in image pixels; may reach outside the image for cut-off faces */
    float score;     /* detector confidence, 0..1 */
    int n_landmarks; /* BlazeFace: 6, in this order: the subject's right eye, left eye,
                            * nose tip, mouth centre, right ear tragion, left ear tragion */
    float landmarks[EMX_MAX_LANDMARKS][2]; /* x, y in image pixels; 0 past n_landmarks */
    emx_crop crop;                         /* the crop emx_analyze classifies (emx_detect:
                                            * the one it would classify) */
    int label;                             /* emx_analyze: most probable class (weighted:
                                            * emx_set_label_weights); emx_detect: -1 */
    float probs[EMX_MAX_CLASSES];          /* emx_analyze: the classifier's num_classes scores,
                                            * then 0; emx_detect: all 0 */
} emx_face;

/* Find faces in a whole image. Writes up to max_faces (>= 0) faces, best score first, and
 * their number to *n_faces (0 for an image without faces: that is EMX_OK). params may be
 * NULL for defaults. Images within EMX_MAX_IMAGE_SIDE / _PIXELS; larger, empty or malformed images
 * are EMX_ERR_IMAGE. */
emx_status emx_detect(emx_model *detector, const emx_image *image, const emx_detect_params *params,
                      emx_face *faces, int max_faces, int *n_faces);

/* emx_detect, then classify every face with the expression model on its crop (face->crop,
 * see emx_crop), and fill label and probs. A face too large to crop (EMX_ERR_BOX from
 * emx_classify) is reported with label -1 and zero probs. */
emx_status emx_analyze(emx_model *detector, emx_model *classifier, const emx_image *image,
                       const emx_detect_params *params, emx_face *faces, int max_faces,
                       int *n_faces);

/* emx_analyze, plus each face's class activation map: why the classifier gave that face its
 * label. The map is emx_explain's for the face's label, computed right after the face was
 * classified, from that same run on that same (eye-levelled) crop: no second classification,
 * and it covers faces[i].crop exactly (row 0 along the crop's top edge in the face's own
 * frame; draw it rotated with the crop). maps: max_faces * map_h * map_w floats, caller-owned;
 * face i's map starts at maps + i * map_w * map_h, raw (logit units, as emx_explain); a face
 * without a label gets zeros. EMX_ERR_UNSUPPORTED (before anything runs) when the classifier
 * has no class-activation-map branch; EMX_ERR_INVALID_ARG for a missing buffer or a map side
 * outside 1..4096. Afterwards emx_explain explains the last labelled face, as after
 * emx_analyze. */
emx_status emx_analyze_explain(emx_model *detector, emx_model *classifier, const emx_image *image,
                               const emx_detect_params *params, emx_face *faces, int max_faces,
                               int *n_faces, float *maps, int map_w, int map_h);

#ifdef __cplusplus
}
#endif
#endif /* EMOXNET_H */
