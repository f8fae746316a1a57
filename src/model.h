/* model.h - the loaded network (internal to the core, not installed).
 *
 * Loading runs in three passes, each in its own file:
 *   model_load.c   parse and validate the .emx container (models/FORMAT.md) into this struct
 *   shape_infer.c  check every op against its attributes, tensors and input shapes, and infer
 *                  the shape of every value
 *   plan.c         liveness-based workspace plan and weight packing: after it, emx_run
 *                  (runtime.c) never allocates
 */
#ifndef EMX_MODEL_H
#define EMX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "emoxnet.h"
#include "ops.h"

/* Op ids are stored in files: frozen, append only (models/FORMAT.md). */
typedef enum emx__op_type {
    EMX_OP_CONV2D = 1,
    EMX_OP_DENSE = 2,
    EMX_OP_MAXPOOL2D = 3,
    EMX_OP_AVGPOOL2D = 4,
    EMX_OP_GLOBAL_AVGPOOL = 5,
    EMX_OP_ADD = 6,
    EMX_OP_CONCAT = 7,
    EMX_OP_SOFTMAX = 8,
    EMX_OP_ACTIVATION = 9,
    EMX_OP_WEIGHTED_MEAN = 10,
    EMX_OP_FLIP_W = 11,
    EMX_OP_RESIZE_BILINEAR = 12,
    EMX_OP_MUL_CHANNEL = 13,
    EMX_OP_PAD_CHANNELS = 14,
    EMX_OP_CALIBRATE = 15,
    EMX_OP_COUNT_ = 16
} emx__op_type;

/* Limits from models/FORMAT.md ("Limits a reader enforces"). */
#define EMX_FORMAT_VERSION   1u
#define EMX_MAX_FILE_SIZE    (256u << 20)
#define EMX_MAX_STRING       4096u
#define EMX_MAX_TENSORS      4096u
#define EMX_MAX_OPS          4096u
#define EMX_MAX_OUTPUTS      16u
#define EMX_MAX_DIM          65536u
#define EMX_MAX_VALUE_FLOATS (1u << 26)
#define EMX_MAX_INPUT_SIDE   1024u
#define EMX_MAX_OP_INPUTS    16
#define EMX_MAX_OP_ATTRS     13 /* CONV2D has the most */
#define EMX_MAX_OP_TENSORS   2

typedef struct emx__tensor {
    int ndim;
    int dims[4];
    size_t count; /* elements */
    float *data;  /* widened to fp32; NULL after planning unless params.use_reference */
} emx__tensor;

/* A graph value: value 0 is the input, value k >= 1 the output of op k - 1. */
typedef struct emx__graph_value {
    int h, w, c;
    size_t count;  /* h * w * c, at most EMX_MAX_VALUE_FLOATS */
    int last_use;  /* position (execution order) of the last op reading it; -1 when none does */
    int keep;      /* never reuse its buffer, so emx__value() can read it after a run */
    size_t offset; /* floats from the start of the workspace */
} emx__graph_value;

typedef struct emx__op {
    int type;
    int n_inputs, inputs[EMX_MAX_OP_INPUTS];
    int n_attrs;
    int32_t attrs[EMX_MAX_OP_ATTRS];
    int n_tensors, tensors[EMX_MAX_OP_TENSORS];
    /* Filled by shape_infer.c: */
    emx__act act;
    emx__conv_shape conv; /* CONV2D, DENSE (DENSE as a 1x1 conv over a 1x1xK input) */
    emx__pool_shape pool; /* MAXPOOL2D, AVGPOOL2D */
    /* Filled by plan.c: packed conv weights, or a copy of WEIGHTED_MEAN's weights. */
    size_t packed_offset; /* floats from the start of model->packed */
    int next_op;          /* plan.c: the op run after this one (-1: the last) */
    /* plan.c: a CONV2D whose twin (below) runs right after it computes both in one call
     * (emx__conv2d_pair): pair_with is the twin's index here, -1 otherwise; paired is set on
     * the twin, whose own turn then does nothing (fast path only). mirror: the twin reads
     * FLIP_W of this op's input and the pair is computed from this op's input alone
     * (emx__conv2d_mirror_pair); plan_fusions then skips a FLIP_W nothing else reads. */
    int pair_with, paired, mirror;
    /* plan.c, fast path only: a 1x1 CONV2D computing the residual ADD res_add (its only reader)
     * as act(conv + value res_value, res_c channels, zero-padded), written straight into the
     * ADD's output; fused is set on that ADD and on a PAD_CHANNELS widening the shortcut (and
     * on a FLIP_W only mirror pairs read, see mirror): their turn does nothing and their own
     * outputs are never materialised. */
    int res_add, res_value, res_c, fused;
    /* plan.c, fast path only: a CONV2D whose only reader is a 2x2 MAXPOOL2D it computes in its
     * output transform (emx__conv2d_pool_n), writing the pool's output; fused is set on the
     * pool. A pair's twin then pools too (its pool_op set as well). -1 otherwise. */
    int pool_op;
} emx__op;

struct emx_model {
    emx_model_params params;
    emx_input_spec input;

    int n_classes;
    char **class_names; /* NUL-terminated copies */
    /* emx_set_label_weights: the labels the core picks maximise probs[c] * label_weights[c] */
    int has_label_weights;
    float label_weights[EMX_MAX_CLASSES];
    /* The file's label thresholds (CALIBRATE's params after the log-prior shifts, FORMAT.md;
     * emx__load_label_thresholds): a class whose probability reaches its threshold is the label
     * even when another class is more probable. 0: no threshold for that class. */
    int has_label_thresholds;
    float label_thresholds[EMX_MAX_CLASSES];
    int n_meta;
    char **meta; /* key 0, value 0, key 1, value 1, ... */

    int n_tensors;
    emx__tensor *tensors;
    float *tensor_data; /* all widened tensors, one block */

    int n_ops;
    emx__op *ops;
    int n_values; /* n_ops + 1 */
    emx__graph_value *values;
    int n_outputs;
    int outputs[EMX_MAX_OUTPUTS];

    float *packed;       /* weights in the fast kernels' layout */
    void *packed_raw;    /* what to free: packed is aligned inside it */
    float *workspace;    /* activations, then scratch: the only memory a run touches */
    void *workspace_raw; /* what to free: workspace is aligned inside it */
    size_t workspace_floats;
    float *scratch; /* inside the workspace */
    size_t scratch_floats;
    int cam_value; /* input of the last GLOBAL_AVGPOOL, or -1 */
    /* Class-activation-map branches (explain.c, found by emx__cam_analyze at plan time): each
     * GLOBAL_AVGPOOL(feat) -> DENSE(no activation, num_classes outputs) whose logits reach
     * output 0 through SOFTMAX / WEIGHTED_MEAN only. Their feature values are kept alive. */
    int n_cam;
    struct emx__cam_branch {
        int feat;     /* the value global-average-pooled */
        int flip;     /* 1: the branch saw the input mirrored (odd number of FLIP_W) */
        float weight; /* product of the WEIGHTED_MEAN weights on the way to the output */
        float *dense; /* [num_classes][feat.c] copy of the dense weights (in cam_weights) */
    } * cam;
    float *cam_weights;     /* one block for every branch's dense copy */
    uint64_t cam_floats;    /* its size, counted in the memory budget */
    uint64_t planned_bytes; /* activations + scratch + packed + CAM weights (plan.c) */
    int has_run;            /* 1 after the first successful emx_run */
    /* Execution order (plan.c): the file's op order, except that an op computing the same as an
     * earlier one on the other view of flip test-time augmentation (same op, same weights, the
     * mirrored input) runs right after it, while its weights are still in cache. */
    int first_op;

    /* Detectors (META task=detector, models/FORMAT.md "Detector models"): the graph outputs
     * are n_levels pairs (scores [H,W,A], regressors [H,W,A*det_coords]); filled by
     * shape_infer.c, read by detect.c. */
    int is_detector;
    int det_coords;    /* 4 box numbers + 2 per keypoint */
    void *det_scratch; /* detect.c: candidates and the resized frame, allocated lazily */
    size_t det_scratch_size;
};

/* IEEE CRC-32 as zlib.crc32(data, crc); start with crc = 0. */
uint32_t emx__crc32(uint32_t crc, const void *data, size_t size);

/* IEEE half to float, exact (subnormals, infinities and NaN kept). */
float emx__fp16_to_fp32(uint16_t h);

/* Passes of emx_model_load(); each returns EMX_OK or the status of the first problem. */
emx_status emx__infer_shapes(emx_model *m);
/* graph_check.c: the multiply-add budget (EMX_ERR_LIMIT), and output 0 of a classifier being
 * a probability distribution by construction (EMX_ERR_FORMAT otherwise). */
emx_status emx__check_compute(const emx_model *m);
double emx__graph_macs(const emx_model *m); /* what emx__check_compute compares */
emx_status emx__check_outputs(const emx_model *m);
/* The label thresholds a CALIBRATE on output 0 may carry (graph_check.c), into
 * m->label_thresholds; EMX_ERR_FORMAT for thresholds outside [0, 1] or on another value. */
emx_status emx__load_label_thresholds(emx_model *m);
/* n probabilities in [0, 1] (with the weight-sum tolerance), else EMX_ERR_NUMERIC (NaN, inf). */
emx_status emx__check_probs(const float *p, int n);
emx_status emx__plan(emx_model *m);
/* Find the class-activation-map branches (model->cam); called by emx__plan before the
 * activations are planned and the original weights are dropped. */
emx_status emx__cam_analyze(emx_model *m);

/* Where value v lives during a run. */
static inline float *emx__value_ptr(const emx_model *m, int v)
{
    return m->workspace + m->values[v].offset;
}

/* The square emx_analyze classifies for a detected face (align.c; emx_crop in emoxnet.h):
 * from its box and eye landmarks. */
emx_crop emx__face_crop(const emx_face *f);

/* Run the graph on the input already in value 0's buffer (emx_classify preprocesses there). */
void emx__forward(emx_model *m);
/* Op k alone (emx__forward runs them from first_op along next_op): per-op profiling in
 * tests/bench/bench-ops.c. */
void emx__run_op(emx_model *m, int k);

/* Value v (0 <= v < n_values) as computed by the last emx_run/emx_classify, with its shape;
 * NULL when v is out of range or its buffer is reused during a run (only values with keep set
 * survive: the graph outputs and model->cam_value, the feature map a class-activation map
 * needs). The pointer is owned by the model and valid until the next run or emx_model_free. */
const float *emx__value(const emx_model *m, int v, int *h, int *w, int *c);

/* Validates an emx_image (data, size, channels 1/3/4, stride) and returns its row stride in
 * bytes; EMX_ERR_IMAGE otherwise. Shared by emx_preprocess and emx_detect (src/preprocess.c). */
emx_status emx__check_image(const emx_image *img, size_t *stride);
/* emx_preprocess of a box of a frame_w x frame_h frame of which only a window is in memory:
 * window holds the frame's pixels from (ox, oy) on. The numbers are emx_preprocess's on the
 * whole frame, bit for bit; EMX_ERR_INVALID_ARG when the box's crop (edge pixels repeated)
 * reads a pixel outside the window. For callers that must copy frames first (the WebAssembly
 * package: a 640x480 RGBA frame is 1.2 MB, most of it outside a face's box). */
emx_status emx__preprocess_window(const emx_model *model, const emx_image *window, int frame_w,
                                  int frame_h, int ox, int oy, const emx_box *box, float *out);
/* emx_classify through emx__preprocess_window (api.c) */
emx_status emx__classify_window(emx_model *model, const emx_image *window, int frame_w, int frame_h,
                                int ox, int oy, const emx_box *box, float *probs);

/* The label the core picks from a run's probabilities p (emx_analyze, emx_explain -1,
 * emx_pick_label): the class whose p[c] reaches the file's threshold for it (of several such
 * classes the one with the lowest threshold, then the likelier), else the largest p[c], or
 * p[c] * label_weights[c] after emx_set_label_weights; the first on ties. A threshold is a
 * decision fitted on validation data for a class that is rarely the most probable even when it
 * is the right answer (contempt and disgust in the shipped models: training/calibrate.py). The
 * lowest threshold wins because it marks the class the model under-ranks most: real contempt
 * faces also give disgust more than its threshold, and the likelier would hand them to disgust.
 * A threshold reads the model's own output, never the weighted scores, since it was fitted on
 * that (weights that favour a class 200-fold would otherwise push nearly every face over it). */
static inline int emx__pick_label(const emx_model *m, const float *p)
{
    /* unweighted: every weight 1 (p * 1.0f is p exactly) */
    const float *w = m->has_label_weights ? m->label_weights : NULL;
    int best = 0, hit = -1;
    for (int c = 0; c < m->n_classes; c++) {
        if (c > 0 && p[c] * (w ? w[c] : 1.0f) > p[best] * (w ? w[best] : 1.0f))
            best = c;
        const float t = m->has_label_thresholds ? m->label_thresholds[c] : 0.0f;
        if (t > 0.0f && p[c] >= t &&
            (hit < 0 || t < m->label_thresholds[hit] ||
             (t == m->label_thresholds[hit] && p[c] > p[hit])))
            hit = c;
    }
    return hit >= 0 ? hit : best;
}

#endif /* EMX_MODEL_H */
