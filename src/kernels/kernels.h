/* kernels.h - internal interface of the fast kernels (src/kernels/): micro-kernels, the
 * table the conv driver dispatches through, and helpers shared between kernel files.
 * Not part of the public API; tests and tests/bench/bench-kernels.c include it to reach every
 * listed micro-kernel, not only the one the dispatcher picks. */
#ifndef EMX_KERNELS_H
#define EMX_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"

/* Output clamp fused into every micro-kernel: relu and relu6 are a min/max, so they cost
 * two instructions per vector in registers instead of another pass over memory. */
typedef struct emx__minmax_params {
    float min, max;
} emx__minmax_params;

/* Fills *p with the clamp for act; returns 1 when act still needs a tail pass
 * (silu, hard-swish, sigmoid), 0 when the clamp is the whole activation. */
int emx__minmax_for_act(emx__act act, emx__minmax_params *p);

/* ---- GEMM micro-kernels --------------------------------------------------------------
 * All share one packed-weight layout, so any of them runs any packed conv:
 *   per panel of EMX_GEMM_NR output channels: NR biases, then K rows of NR weights
 *   (row k holds weight k of each of the panel's channels; channels past the end are 0).
 * K runs over (ky, kx, ic) with ic fastest: NHWC keeps a pixel's channels contiguous, so
 * one kernel tap is one contiguous run of the input. The inner loop is then: splat one
 * input value per row, load NR weights (two vectors), multiply-add into MR x NR
 * accumulators. With MR = 4: 8 accumulators + 2 weight vectors + 1 splat = 11 of the 16
 * registers SSE2 and V8's x64 backend have; the 8 independent accumulators also cover the
 * 4-cycle add latency at 2 adds per cycle.
 *
 * gemm:  rows are mr pixels at a, a + a_stride, ... (a 1x1, stride-1 conv on NHWC)
 * igemm: rows are gathered through an indirection buffer of ks * MR pointers ([tap][row]);
 *        each non-`zero` pointer is offset by a_offset (the group's first channel), `zero`
 *        points at kc zeros and stands for padding.
 * Both compute nc output channels (all panels), mr <= MR rows (rows past mr alias the last
 * one: harmless duplicate work instead of a slower tail kernel), output row stride
 * cm_stride, all strides in floats. */
#define EMX_GEMM_NR 8

typedef void (*emx__gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *a,
                                     size_t a_stride, const float *w, float *c, size_t cm_stride,
                                     const emx__minmax_params *params);
typedef void (*emx__igemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, size_t ks, const float **a,
                                      const float *w, float *c, size_t cm_stride, size_t a_offset,
                                      const float *zero, const emx__minmax_params *params);

#define EMX_GEMM_UKERNEL(mr, nr, gemm, igemm)                                                      \
    void gemm(size_t mr_, size_t nc, size_t kc, const float *a, size_t a_stride, const float *w,   \
              float *c, size_t cm_stride, const emx__minmax_params *params);                       \
    void igemm(size_t mr_, size_t nc, size_t kc, size_t ks, const float **a, const float *w,       \
               float *c, size_t cm_stride, size_t a_offset, const float *zero,                     \
               const emx__minmax_params *params);
#include "f32-gemm.inc"
#undef EMX_GEMM_UKERNEL

/* Floats of packed weights for n output channels over k rows: the layout above. */
uint64_t emx__gemm_packed_size(uint64_t n, uint64_t k);

typedef struct emx__gemm_config {
    const char *name;
    int mr, nr;
    emx__gemm_ukernel_fn gemm;
    emx__igemm_ukernel_fn igemm;
} emx__gemm_config;

/* Every kernel of f32-gemm.inc, in list order; the dispatcher's pick; the 1-row kernel used
 * for single rows (dense layers, leftover pixels). */
extern const emx__gemm_config emx__gemm_configs[];
extern const int emx__gemm_config_count;
const emx__gemm_config *emx__gemm_default(void);
const emx__gemm_config *emx__gemm_single_row(void);

/* Output channels per cache block of a 1x1 conv's GEMM over k input channels (conv2d.c):
 * n when the weights fit the block size, else a multiple of EMX_GEMM_NR. */
size_t emx__gemm_nblock(size_t k, size_t n);

/* emx__conv2d with a chosen main micro-kernel (tests and the benchmark cover each one).
 * The scratch from emx__conv2d_scratch_size() is large enough for every listed kernel. */
void emx__conv2d_with(const emx__gemm_config *cfg, const emx__conv_shape *s, const float *packed,
                      const float *in, float *out, float *scratch);

/* ---- depthwise (groups == in_c == out_c) ----------------------------------------------
 * Packed per block of 4 channels: 4 biases, then kh*kw taps of 4 weights: one vector per
 * tap, so a 3x3 block's weights stay in 9 registers across a whole row. When c % 4 != 0 the
 * last block covers the last 4 channels (overlapping its neighbour; lanes past c are 0 when
 * c < 4). Scratch: a row of zeros standing for the padding rows. */
#define EMX_DW_CB 4
uint64_t emx__dwconv_packed_size(const emx__conv_shape *s);
uint64_t emx__dwconv_scratch_size(const emx__conv_shape *s);
void emx__dwconv_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed);
void emx__f32_dwconv_minmax__simd(const emx__conv_shape *s, const float *packed, const float *in,
                                  float *out, float *scratch, const emx__minmax_params *params);

/* ---- 3x3 stride-1 "same" convs as Winograd F(m x m, 3x3), m = 2..4 (f32-conv3x3-winograd.c) ---
 * emx__wino_applies() decides per shape (the conv driver routes such convs here); the GEMMs
 * run through cfg (full row blocks) and single (one-row leftovers). emx__wino_enabled = 0
 * (benchmarks only) sends them to igemm instead; it must not change between packing a conv's
 * weights and running it, since the two routes pack differently. */
extern int emx__wino_enabled;
int emx__wino_applies(const emx__conv_shape *s);
/* Output tile side m of F(m x m, 3x3) for a shape emx__wino_applies() to: 2, 3 or 4.
 * emx__wino_f4_enabled = 0 (tests, benchmarks) forces 2; the same rule as above about
 * changing it between packing and running applies. */
extern int emx__wino_f4_enabled;
/* emx__wino_f6_enabled = 0 (tests, benchmarks) keeps F(6x6) out: F(4x4) or less */
extern int emx__wino_f6_enabled;
int emx__wino_tile(const emx__conv_shape *s);
uint64_t emx__wino_packed_size(const emx__conv_shape *s);
void emx__wino_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                    float *packed);
uint64_t emx__wino_scratch_size(const emx__conv_shape *s);
/* n (1 or 2) images through the same weights in one pass: ins[i] -> outs[i]; pool (only
 * where emx__wino_pool_ok): outs[i] get the conv's output max-pooled 2x2 / 2 instead,
 * out_h / 2 x out_w / 2 x out_c (the map itself is never written) */
void emx__wino_conv_n(const emx__gemm_config *cfg, const emx__gemm_config *single,
                      const emx__conv_shape *s, const float *packed, int n, const float *const *ins,
                      float *const *outs, int pool, float *scratch);
/* F(6x6) convs whose activation is a clamp (none, relu, relu6) can pool in their output
 * transform */
int emx__wino_pool_ok(const emx__conv_shape *s);
/* The a^2 GEMMs of a tile block in one call (f32-wino-gemm-4x8.c): for b < batch,
 * c[b] (m rows of nc, row stride nc) = a[b] (m rows of kc, row stride kc) x w[b] + its biases,
 * w[b] packed as above; a, w and c step by a_batch, w_batch and c_batch floats; nc % 4 == 0.
 * emx__wino_conv_n runs it when cfg is the 4x8 kernel, the listed kernels otherwise. */
void emx__f32_wino_gemm_4x8__simd(size_t batch, size_t m, size_t nc, size_t kc, const float *a,
                                  size_t a_batch, const float *w, size_t w_batch, float *c,
                                  size_t c_batch);
void emx__wino_conv(const emx__gemm_config *cfg, const emx__gemm_config *single,
                    const emx__conv_shape *s, const float *packed, const float *in, float *out,
                    float *scratch);

/* ---- 3x3 convs of a one-channel input (f32-conv3x3-c1.c): direct, out_c % 4 == 0; weights
 * packed by emx__dwconv_pack (same layout) ---- */
int emx__conv3x3_c1_applies(const emx__conv_shape *s);
uint64_t emx__conv3x3_c1_scratch_size(const emx__conv_shape *s);
void emx__conv3x3_c1(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                     float *scratch, const emx__minmax_params *params);
/* the conv of in (out0) and of its mirror (out1) in one pass, bit for bit two emx__conv3x3_c1
 * calls; applies to stride 1 across with one column of padding each side */
int emx__conv3x3_c1_mirror_applies(const emx__conv_shape *s);
void emx__conv3x3_c1_mirror(const emx__conv_shape *s, const float *packed, const float *in,
                            float *out0, float *out1, float *scratch,
                            const emx__minmax_params *params);

/* ---- direct convs of a thin input (f32-conv-thin.c): 1-4 input channels, out_c % 8 == 0,
 * weights in the GEMM layout (emx__conv2d_pack's generic route); scratch: the padded input
 * and a flag per padded row ---- */
int emx__conv_thin_applies(const emx__conv_shape *s);
uint64_t emx__conv_thin_scratch_size(const emx__conv_shape *s);
void emx__conv_thin(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                    float *scratch, const emx__minmax_params *params);

/* ---- activations ---- */
/* out[i] = act(in[i]) vectorised (in == out allowed); exp via a degree-5 polynomial after
 * range reduction, within a few ulp of expf. */
void emx__act_apply(size_t n, const float *in, float *out, emx__act act);

#endif /* EMX_KERNELS_H */
