/* ops.h - the operators the runtime executes, each in two implementations:
 *   emx__*_ref   plain C, written for clarity, never optimised: the oracle (src/ops_ref.c)
 *   emx__*       fast path: SIMD micro-kernels over packed weights (src/kernels/)
 * Every tensor is one image, NHWC (H x W x C, C fastest), fp32.
 * Fast kernels never allocate: the runtime hands them a scratch buffer sized by the
 * *_scratch_size() functions at load time. */
#ifndef EMX_OPS_H
#define EMX_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Activation codes are frozen: they are stored in .emx files (models/FORMAT.md). */
typedef enum emx__act {
    EMX_ACT_NONE = 0,
    EMX_ACT_RELU = 1,
    EMX_ACT_RELU6 = 2,
    EMX_ACT_SILU = 3,
    EMX_ACT_HARDSWISH = 4,
    EMX_ACT_SIGMOID = 5,
    EMX_ACT_COUNT_ = 6
} emx__act;

/* Scalar activation: shared by the reference ops and the kernels' tails. */
float emx__act_scalar(float x, emx__act act);

/* ---- convolution (also dense: a 1x1 conv over a 1x1 input with in_c = H*W*C) ---- */
typedef struct emx__conv_shape {
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int kh, kw, stride_h, stride_w, dil_h, dil_w;
    int pad_top, pad_left; /* bottom/right padding is implied by out_h/out_w */
    int groups;            /* in_c and out_c are multiples of groups */
    emx__act act;
} emx__conv_shape;

/* Weights arrive in PyTorch order [out_c][in_c/groups][kh][kw], bias [out_c]. */
void emx__conv2d_ref(const emx__conv_shape *s, const float *weight, const float *bias,
                     const float *in, float *out);

uint64_t emx__conv2d_packed_size(const emx__conv_shape *s); /* floats */
void emx__conv2d_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed);
uint64_t emx__conv2d_scratch_size(const emx__conv_shape *s); /* floats */
void emx__conv2d(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                 float *scratch);
/* act(conv(in) + res) for a 1x1 conv without activation (emx__conv2d_residual_ok): res has
 * res_c <= out_c channels per pixel, the rest add zero (a channel-padded shortcut). */
int emx__conv2d_residual_ok(const emx__conv_shape *s);
void emx__conv2d_residual(const emx__conv_shape *s, const float *packed, const float *in,
                          float *out, const float *res, int res_c, emx__act act);
/* The same conv on two images (flip test-time augmentation's views): same results as two
 * emx__conv2d calls; out0/out1 must not overlap in0/in1. */
void emx__conv2d_pair(const emx__conv_shape *s, const float *packed, const float *in0,
                      const float *in1, float *out0, float *out1, float *scratch);
/* The conv on in and on its mirror (FLIP_W of in) in one pass, where emx__conv2d_mirror_ok
 * (a 3x3 conv of a one-channel image, stride 1 across, "same" width): same results as
 * emx__conv2d on in and on the mirror; the mirror itself is never read. */
int emx__conv2d_mirror_ok(const emx__conv_shape *s);
void emx__conv2d_mirror_pair(const emx__conv_shape *s, const float *packed, const float *in,
                             float *out0, float *out1, float *scratch);

/* ---- pooling ---- */
typedef struct emx__pool_shape {
    int in_h, in_w, c, out_h, out_w;
    int kh, kw, stride_h, stride_w, pad_top, pad_left;
    int count_include_pad; /* avg pool only */
} emx__pool_shape;

void emx__maxpool2d_ref(const emx__pool_shape *s, const float *in, float *out);
void emx__avgpool2d_ref(const emx__pool_shape *s, const float *in, float *out);
void emx__global_avgpool_ref(int hw, int c, const float *in, float *out);
void emx__maxpool2d(const emx__pool_shape *s, const float *in, float *out);
void emx__avgpool2d(const emx__pool_shape *s, const float *in, float *out);
void emx__global_avgpool(int hw, int c, const float *in, float *out);
/* A conv and the MAXPOOL2D reading it in one pass, where emx__conv2d_pool_ok (a Winograd
 * F(6x6) conv with a clamp activation, a 2x2 / 2 pool without padding): ins[i] (n = 1, or 2 for
 * a pair) -> outs[i], the pool's output, the same as emx__conv2d then emx__maxpool2d. */
int emx__conv2d_pool_ok(const emx__conv_shape *s, const emx__pool_shape *p);
void emx__conv2d_pool_n(const emx__conv_shape *s, const float *packed, int n,
                        const float *const *ins, float *const *outs, float *scratch);

/* ---- elementwise ---- */
void emx__add_ref(size_t n, const float *a, const float *b, float *out, emx__act act);
void emx__activation_ref(size_t n, const float *in, float *out, emx__act act);
void emx__mul_channel_ref(int hw, int c, const float *x, const float *scale, float *out);
void emx__add(size_t n, const float *a, const float *b, float *out, emx__act act);
void emx__activation(size_t n, const float *in, float *out, emx__act act);
void emx__mul_channel(int hw, int c, const float *x, const float *scale, float *out);

/* Zero channels around each pixel's: out has pad_before + c + pad_after channels (TF's Pad
 * over channels, which BlazeFace's residual blocks use to widen their shortcut). */
void emx__pad_channels_ref(int hw, int c, int pad_before, int pad_after, const float *in,
                           float *out);
void emx__pad_channels(int hw, int c, int pad_before, int pad_after, const float *in, float *out);

/* out = sum_i w[i] * ins[i] */
void emx__weighted_mean_ref(size_t n, int n_in, const float *const *ins, const float *w,
                            float *out);
void emx__weighted_mean(size_t n, int n_in, const float *const *ins, const float *w, float *out);

/* ---- data movement (one implementation each: they move bytes, no arithmetic to vectorise
 * beyond memcpy) ---- */
/* Concatenate along channels: input i has cs[i] channels; out has sum(cs) channels. */
void emx__concat(int hw, int n_in, const float *const *ins, const int *cs, float *out);
void emx__flip_w(int h, int w, int c, const float *in, float *out);
/* F.interpolate(mode='bilinear', align_corners=False) */
void emx__resize_bilinear(int in_h, int in_w, int c, int out_h, int out_w, const float *in,
                          float *out);
/* The same, bit for bit, separably (kernels/f32-resize-bilinear.c): the runtime's; scratch of
 * emx__resize_bilinear_scratch_size(out_w, c) floats */
uint64_t emx__resize_bilinear_scratch_size(int out_w, int c);
void emx__f32_resize_bilinear(int in_h, int in_w, int c, int out_h, int out_w, const float *in,
                              float *out, float *scratch);
/* Both take output pixel d's two source indices and the second one's weight from this one
 * definition of PyTorch's source coordinate (ops_ref.c), so they cannot drift apart. */
void emx__bilinear_coord(int d, int in_n, int out_n, int *i0, int *i1, float *l1);

/* ---- softmax over n values (numerically stable: subtracts the max) ---- */
void emx__softmax(int n, const float *in, float *out);

/* ---- calibration of n probabilities: softmax(params[0] * log(p) + params[1 + i]), i.e. a
 * temperature 1/params[0] and a per-class log-prior shift, fitted on validation data ---- */
void emx__calibrate(int n, const float *in, const float *params, float *out);

#endif /* EMX_OPS_H */
