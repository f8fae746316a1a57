/* f32-dwconv-minmax.c - depthwise convolution (groups == in_c == out_c), channels vectorised
 * in blocks of 4 (packing: kernels.h). No GEMM here: each output channel reads one input
 * channel, so there is no reuse across channels to block for; the work is loads +
 * multiply-adds per tap, and what decides the speed is how few loads and how little control
 * flow surround them.
 *
 * 3x3 with dilation 1 (every depthwise layer of BlazeFace and MobileNets), as XNNPACK's
 * dwconv micro-kernels do it:
 *   - rows: each output row gets its 3 input row pointers up front; a row outside the input
 *     points at a row of zeros (scratch), so the top and bottom borders run the same
 *     unrolled code as the interior, with no bounds check per pixel;
 *   - tiles: at stride 1 (and at stride 2 on both axes, channel-inner) two output rows go
 *     together in 2 x 2 tiles: each input vector of the tile is loaded once and feeds every
 *     accumulator it belongs to (16 loads for 36 multiply-adds at stride 1); single rows go
 *     two pixels per step (12 loads for 18);
 *   - edges: the at most one or two pixels per row and side whose window crosses the
 *     left/right edge run their 6 inside taps (one missing column: padding 1, or TF "same"
 *     stride 2 on the right), or read a zero pixel for the missing columns (other paddings);
 *   - loop order: with few channels (BlazeFace's 24-42) block by block along the rows, the
 *     block's 9 tap vectors in registers (emx__dw3x3; stride 2: emx__dw3x3_s2); from 48
 *     channels channel-inner: every block of a tile before the next tile, taps read from L1
 *     (emx__dw3x3_cinner says why: L1 set conflicts at power-of-two pixel strides), the edge
 *     columns in tiles that skip the column outside the input (EMX__DW3X3_WALK).
 * Channel counts that are not a multiple of 4 (BlazeFace has 42) end with one more block
 * over the last 4 channels, overlapping the previous one: it recomputes up to 3 channels
 * with identical results instead of running a scalar tail. Fewer than 4 channels, other kernel
 * sizes and dilated kernels take the bounds-checked generic path. */
#include "kernels.h"
#include "simd/simd.h"

#include <string.h>

/* Blocks: c / 4 full ones, then (c % 4 != 0) one over channels [max(c - 4, 0), c). */
static int emx__dw_blocks(int c)
{
    return (c + EMX_DW_CB - 1) / EMX_DW_CB;
}

/* first channel of block b */
static int emx__dw_block_start(int c, int b)
{
    const int start = b * EMX_DW_CB;
    if (start + EMX_DW_CB <= c)
        return start;
    return c >= EMX_DW_CB ? c - EMX_DW_CB : 0;
}

uint64_t emx__dwconv_packed_size(const emx__conv_shape *s)
{
    return (uint64_t)emx__dw_blocks(s->out_c) * EMX_DW_CB * (1 + (uint64_t)s->kh * (uint64_t)s->kw);
}

/* Channel counts that are a multiple of 512 make a pixel 2 KB (or 4 KB, ...) long, and then
 * every pixel of a 2 x 2 tile's 4 x 4 (stride 1) input window, and its 4 output pixels, fall
 * into the same one or two of L1's 64 sets (address bits 6-11 where a way is 4 KB, as on x86
 * cores; Arm cores with 8-16 KB ways conflict less, and there the copy is only a cost): 10 or
 * more lines per set that the channel-inner loop reuses from one block to the next, more than
 * the 8 ways hold. Copying the input rows into scratch at a row pitch of 1 KB modulo 4 KB
 * spreads the window over four set groups (4 lines each, 2 outputs). bench-kernels, the copy
 * included, alternating runs (session 14; 7x7x520 and 7x7x496 ran 23 GFLOP/s throughout):
 * MobileNet's 7x7x512 18.2-18.8 -> 20.8-21.4 GFLOP/s in SIMD128 (19.4-19.8 -> 22.9-23.1
 * relaxed), 8x8x512 and 14x14x512 19.5-20.9 -> 24.6-25.4. (1 x 2 tiles instead, 7 lines per
 * set without a copy, ran 7x7x512 slower: 17.0.) */
static int emx__dw_restage(const emx__conv_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->dil_h == 1 && s->dil_w == 1 && s->in_c % 512 == 0 &&
           s->in_c > 0 && s->stride_w <= 2;
}

/* the restaged rows' pitch in floats: the row, then up to 1023 floats to make it 1 KB mod 4 KB */
static size_t emx__dw_restage_pitch(const emx__conv_shape *s)
{
    const size_t row = (size_t)s->in_w * (size_t)s->in_c;
    return row + (1024 + 256 - row % 1024) % 1024;
}

uint64_t emx__dwconv_scratch_size(const emx__conv_shape *s)
{
    const uint64_t zero_row = (uint64_t)s->in_w * (uint64_t)s->in_c + EMX_DW_CB;
    if (!emx__dw_restage(s))
        return zero_row;
    return zero_row + (uint64_t)s->in_h * emx__dw_restage_pitch(s);
}

void emx__dwconv_pack(const emx__conv_shape *s, const float *weight, const float *bias,
                      float *packed)
{
    const int taps = s->kh * s->kw;
    const int blocks = emx__dw_blocks(s->out_c);
    for (int b = 0; b < blocks; b++) {
        float *pb = packed + (size_t)b * EMX_DW_CB * (1 + taps);
        const int start = emx__dw_block_start(s->out_c, b);
        for (int l = 0; l < EMX_DW_CB; l++) {
            const int ch = start + l;
            const int ok = ch < s->out_c;
            pb[l] = ok && bias ? bias[ch] : 0.0f;
            /* PyTorch weight [C][1][kh][kw]: tap t of channel ch is weight[ch * taps + t] */
            for (int t = 0; t < taps; t++)
                pb[(size_t)(1 + t) * EMX_DW_CB + l] = ok ? weight[(size_t)ch * taps + t] : 0.0f;
        }
    }
}

static inline emx_v4f emx__dw_clamp(emx_v4f v, emx_v4f vmin, emx_v4f vmax)
{
    return emx_v4f_min(emx_v4f_max(v, vmin), vmax);
}

/* one block of 4 channels at one output pixel, any kernel, bounds-checked */
static inline emx_v4f emx__dw_block_generic(const emx__conv_shape *s, const float *wb,
                                            const float *in, int iy0, int ix0, int ch)
{
    emx_v4f vacc = emx_v4f_load(wb);
    for (int ky = 0; ky < s->kh; ky++) {
        const int iy = iy0 + ky * s->dil_h;
        if (iy < 0 || iy >= s->in_h)
            continue;
        for (int kx = 0; kx < s->kw; kx++) {
            const int ix = ix0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w)
                continue;
            const float *px = in + ((size_t)iy * s->in_w + ix) * s->in_c + ch;
            vacc = emx_v4f_muladd(emx_v4f_load(px),
                                  emx_v4f_load(wb + (1 + ky * s->kw + kx) * EMX_DW_CB), vacc);
        }
    }
    return vacc;
}

static inline float emx__dw_scalar(const emx__conv_shape *s, const float *wb, const float *in,
                                   int iy0, int ix0, int ch, int lane)
{
    float acc = wb[lane];
    for (int ky = 0; ky < s->kh; ky++) {
        const int iy = iy0 + ky * s->dil_h;
        if (iy < 0 || iy >= s->in_h)
            continue;
        for (int kx = 0; kx < s->kw; kx++) {
            const int ix = ix0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w)
                continue;
            acc += in[((size_t)iy * s->in_w + ix) * s->in_c + ch] *
                   wb[(1 + ky * s->kw + kx) * EMX_DW_CB + lane];
        }
    }
    return acc;
}

/* Any kernel: bounds-checked per tap. Fewer than 4 channels run lane by lane. */
static void emx__dw_generic(const emx__conv_shape *s, const float *packed, const float *in,
                            float *out, const emx__minmax_params *params)
{
    const int c = s->in_c, taps = s->kh * s->kw, blocks = emx__dw_blocks(c);
    const size_t block_stride = (size_t)EMX_DW_CB * (1 + taps);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    for (int oy = 0; oy < s->out_h; oy++) {
        const int iy0 = oy * s->stride_h - s->pad_top;
        float *orow = out + (size_t)oy * s->out_w * c;
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * block_stride;
            const int ch = emx__dw_block_start(c, b);
            for (int ox = 0; ox < s->out_w; ox++) {
                const int ix0 = ox * s->stride_w - s->pad_left;
                if (c >= EMX_DW_CB) {
                    emx_v4f vacc = emx__dw_block_generic(s, wb, in, iy0, ix0, ch);
                    emx_v4f_store(orow + (size_t)ox * c + ch, emx__dw_clamp(vacc, vmin, vmax));
                    continue;
                }
                for (int l = 0; l < c; l++) {
                    float v = emx__dw_scalar(s, wb, in, iy0, ix0, l, l);
                    v = v < params->min ? params->min : v;
                    v = v > params->max ? params->max : v;
                    orow[(size_t)ox * c + l] = v;
                }
            }
        }
    }
}

/* Which loop (emx__f32_dwconv_minmax__simd): channel-inner (emx__dw3x3_cinner, strides 1 and
 * 2) from this many channels; below it block by block along the rows (emx__dw3x3, stride 1
 * and > 2; stride 2: emx__dw3x3_s2). Session 7 put the limit at 128 (channel-inner, then with
 * its edge pixels one by one, ran BlazeFace's 48-96 channels 6-18% slower in the network);
 * with its edge tiles (EMX__DW3X3_WALK, session 8) it runs them faster: bench-ops, BlazeFace,
 * side by side with main, 16x16x48..80 11.6-18.8 -> 9.8-15.5 us, 8x8x88/2 and 8x8x96 7.4-8.1
 * -> 4.7-6.0 us. Below 48 (64x64x24, 32x32x28-36) block by block stays faster. */
#define EMX__DW_CINNER_MIN_C 48
/* ... and 32 channels on wide maps (session 9): MobileNet's (faceres) 56x56x32 ran 96 -> 73 us
 * channel-inner (ops-ab, relaxed, 6 runs), BlazeFace's 32x32x32 0.98x and 32x32x36 0.88x. */
#define EMX__DW_CINNER_C32_MIN_W 48
/* At stride 2 from 28 channels: BlazeFace's 16x16x42/2 ran 13.3 -> 14.9 GFLOP/s channel-inner in
 * bench-kernels (3 runs alternating, best), 12.2 -> 11.9 us in the network; 64x64x28/2 stayed on
 * emx__dw3x3_s2 until session 15's stride-2 tile stores made the channel-inner tiles the faster:
 * session 17, kernels-ab.js (24 turns), lower-quartile 31.2 -> 24.3 us relaxed, 34.6 -> 30.4 us
 * SIMD128 (GEMM/dw 2.11x -> 1.65x, 1.65x -> 1.52x); in BlazeFace (ops-ab.js) 1.04x in both.
 * A constant pixel stride for 28 (EMX__DW_RUN2_CASE) measured no faster and is not kept. */
#define EMX__DW_CINNER_MIN_C_S2 28

#if defined(__GNUC__)
#define EMX__DW_INLINE static inline __attribute__((always_inline))
#else
#define EMX__DW_INLINE static inline
#endif

/* The 9 taps of one pixel: p[ky][kx] points at the input (or a zero pixel) for this block. */
EMX__DW_INLINE void emx__dw3x3_pixel(const float *const *p0, const float *const *p1,
                                     const float *const *p2, const emx_v4f *w, emx_v4f vbias,
                                     float *o, emx_v4f vmin, emx_v4f vmax)
{
    emx_v4f va = emx_v4f_muladd(emx_v4f_load(p0[0]), w[0], vbias);
    emx_v4f vb = emx_v4f_mul(emx_v4f_load(p0[1]), w[1]);
    va = emx_v4f_muladd(emx_v4f_load(p0[2]), w[2], va);
    vb = emx_v4f_muladd(emx_v4f_load(p1[0]), w[3], vb);
    va = emx_v4f_muladd(emx_v4f_load(p1[1]), w[4], va);
    vb = emx_v4f_muladd(emx_v4f_load(p1[2]), w[5], vb);
    va = emx_v4f_muladd(emx_v4f_load(p2[0]), w[6], va);
    vb = emx_v4f_muladd(emx_v4f_load(p2[1]), w[7], vb);
    va = emx_v4f_muladd(emx_v4f_load(p2[2]), w[8], va);
    emx_v4f_store(o, emx__dw_clamp(emx_v4f_add(va, vb), vmin, vmax));
}

/* The 3x3 window's pixel pointers for the output pixel whose window starts at column ix0:
 * columns outside [0, in_w) read the zero pixel z. */
EMX__DW_INLINE void emx__dw3x3_window(const float *r0, const float *r1, const float *r2, int ix0,
                                      int in_w, size_t cs, const float *z, const float **p0,
                                      const float **p1, const float **p2)
{
    for (int k = 0; k < 3; k++) {
        const int ix = ix0 + k, inside = ix >= 0 && ix < in_w;
        const size_t off = (size_t)(inside ? ix : 0) * cs;
        p0[k] = inside ? r0 + off : z;
        p1[k] = inside ? r1 + off : z;
        p2[k] = inside ? r2 + off : z;
    }
}

/* One output pixel whose window crosses the left or right edge. The usual case, one column
 * missing (padding 1; TF "same" stride 2 on the right), runs its 6 taps straight; otherwise
 * the missing columns read the zero pixel z. */
EMX__DW_INLINE void emx__dw3x3_edge(const float *r0, const float *r1, const float *r2, int ix0,
                                    int in_w, size_t cs, const float *z, const emx_v4f *w,
                                    emx_v4f vbias, float *o, emx_v4f vmin, emx_v4f vmax)
{
    /* (constant tap indices: a computed index into w would send the taps to the stack). The
     * two chains add the taps in emx__dw3x3_pixel's order, minus the zero pixel's exact
     * "+ 0" terms: the results are bit for bit those of the 9-tap pixel on a zero column. */
    if (ix0 == -1 && in_w >= 2) { /* taps 1, 2 on columns 0, 1 */
        emx_v4f va = emx_v4f_muladd(emx_v4f_load(r0 + cs), w[2], vbias);
        emx_v4f vb = emx_v4f_mul(emx_v4f_load(r0), w[1]);
        va = emx_v4f_muladd(emx_v4f_load(r1), w[4], va);
        vb = emx_v4f_muladd(emx_v4f_load(r1 + cs), w[5], vb);
        vb = emx_v4f_muladd(emx_v4f_load(r2), w[7], vb);
        va = emx_v4f_muladd(emx_v4f_load(r2 + cs), w[8], va);
        emx_v4f_store(o, emx__dw_clamp(emx_v4f_add(va, vb), vmin, vmax));
        return;
    }
    if (ix0 >= 0 && ix0 + 2 == in_w) { /* taps 0, 1 on the last two columns */
        const size_t off = (size_t)ix0 * cs;
        emx_v4f va = emx_v4f_muladd(emx_v4f_load(r0 + off), w[0], vbias);
        emx_v4f vb = emx_v4f_mul(emx_v4f_load(r0 + off + cs), w[1]);
        vb = emx_v4f_muladd(emx_v4f_load(r1 + off), w[3], vb);
        va = emx_v4f_muladd(emx_v4f_load(r1 + off + cs), w[4], va);
        va = emx_v4f_muladd(emx_v4f_load(r2 + off), w[6], va);
        vb = emx_v4f_muladd(emx_v4f_load(r2 + off + cs), w[7], vb);
        emx_v4f_store(o, emx__dw_clamp(emx_v4f_add(va, vb), vmin, vmax));
        return;
    }
    const float *p0[3], *p1[3], *p2[3];
    emx__dw3x3_window(r0, r1, r2, ix0, in_w, cs, z, p0, p1, p2);
    emx__dw3x3_pixel(p0, p1, p2, w, vbias, o, vmin, vmax);
}

/* One output pixel whose 3 columns are inside the input, starting at offset off. */
EMX__DW_INLINE void emx__dw3x3_inner(const float *r0, const float *r1, const float *r2, size_t off,
                                     size_t cs, const emx_v4f *w, emx_v4f vbias, float *o,
                                     emx_v4f vmin, emx_v4f vmax)
{
    const float *p0[3] = { r0 + off, r0 + off + cs, r0 + off + 2 * cs };
    const float *p1[3] = { r1 + off, r1 + off + cs, r1 + off + 2 * cs };
    const float *p2[3] = { r2 + off, r2 + off + cs, r2 + off + 2 * cs };
    emx__dw3x3_pixel(p0, p1, p2, w, vbias, o, vmin, vmax);
}

/* A 2 x 2 tile of output pixels (rows oy, oy + 1; columns ox, ox + 1) for stride S on both
 * axes (1 or 2, a constant once inlined): its (S + 3) x (S + 3) input vectors are each loaded
 * once (16 loads for 36 multiply-adds at stride 1, 25 at stride 2, against 12 and 15 for 18 in
 * the two-pixel row loop) and go straight into the up to 4 accumulators they feed. Live: 9 tap
 * vectors, 4 accumulators and the loaded input, 14 of the 16 vector registers.
 * klo, khi (constants once inlined): the first and last of the tile's S + 3 input columns it
 * reads. At the edges (emx__dw3x3_tile_kind) the one column outside the input is not read at
 * all (its taps would add exact zeros), so the edge pixels run in tiles like the interior
 * instead of one by one. r[j] points at input row j of the tile, at the tile's column klo.
 * N (a constant): 2 columns, or 1 for an odd last column (EMX__DW3X3_WALK's COL): the left
 * column's sums alone, in the same order, so the same values. */
EMX__DW_INLINE void emx__dw3x3_tile2xn(const int S, const int N, const int klo, const int khi,
                                       const float *const *r, size_t cs, const emx_v4f *w,
                                       const float *bias, float *oa, float *ob,
                                       const emx__minmax_params *params)
{
    emx_v4f a0 = emx_v4f_load(bias), a1 = a0, b0 = a0, b1 = a0;
    for (int j = 0; j < S + 3; j++) {
        for (int k = klo; k <= khi; k++) {
            const emx_v4f x = emx_v4f_load(r[j] + (size_t)(k - klo) * cs);
            /* row j is tap row j of the upper output row and j - S of the lower; column k is
             * tap column k of the left output pixel and k - S of the right one */
            if (j <= 2 && k <= 2)
                a0 = emx_v4f_muladd(x, w[j * 3 + k], a0);
            if (N == 2 && j <= 2 && k >= S && k - S <= 2)
                a1 = emx_v4f_muladd(x, w[j * 3 + k - S], a1);
            if (j >= S && j - S <= 2 && k <= 2)
                b0 = emx_v4f_muladd(x, w[(j - S) * 3 + k], b0);
            if (N == 2 && j >= S && j - S <= 2 && k >= S && k - S <= 2)
                b1 = emx_v4f_muladd(x, w[(j - S) * 3 + k - S], b1);
        }
        if (S == 2) {
            /* A store after each input row: V8 (TurboFan) keeps loads and stores in order but
             * schedules arithmetic late, so without them it loads all 25 input vectors first
             * and spills most of them (9 taps and 4 sums hold 13 of its 15 vector registers);
             * a row's sums must now be done before the next row is loaded. Stack references
             * in a channel-inner tile: 45-50 -> 16-20. Rows 0, 1 and 3 store a partial sum
             * that a later store overwrites (docs/BENCHMARKS.md, session 15). */
            if (j < 2) {
                emx_v4f_store(oa, a0);
            } else if (j == 2) {
                const emx_v4f vmin = emx_v4f_load_splat(&params->min);
                const emx_v4f vmax = emx_v4f_load_splat(&params->max);
                emx_v4f_store(oa, emx__dw_clamp(a0, vmin, vmax));
                if (N == 2)
                    emx_v4f_store(oa + cs, emx__dw_clamp(a1, vmin, vmax));
            } else if (j == 3) {
                emx_v4f_store(ob, b0);
            }
        }
    }
    const emx_v4f vmin = emx_v4f_load_splat(&params->min), vmax = emx_v4f_load_splat(&params->max);
    if (S != 2) {
        emx_v4f_store(oa, emx__dw_clamp(a0, vmin, vmax));
        if (N == 2)
            emx_v4f_store(oa + cs, emx__dw_clamp(a1, vmin, vmax));
    }
    emx_v4f_store(ob, emx__dw_clamp(b0, vmin, vmax));
    if (N == 2)
        emx_v4f_store(ob + cs, emx__dw_clamp(b1, vmin, vmax));
}

/* The 2 x 2 tile. */
EMX__DW_INLINE void emx__dw3x3_tile2x2(const int S, const int klo, const int khi,
                                       const float *const *r, size_t cs, const emx_v4f *w,
                                       const float *bias, float *oa, float *ob,
                                       const emx__minmax_params *params)
{
    emx__dw3x3_tile2xn(S, 2, klo, khi, r, cs, w, bias, oa, ob, params);
}

/* Two output pixels of one row (columns ox, ox + 1) at stride S (1 or 2), reading input
 * columns klo..khi of the pair's S + 3 as emx__dw3x3_tile2x2 does: i0..i2 point at column klo
 * in the pair's 3 input rows. */
EMX__DW_INLINE void emx__dw3x3_tile1x2(const int S, const int klo, const int khi, const float *i0,
                                       const float *i1, const float *i2, size_t cs,
                                       const emx_v4f *w, emx_v4f vbias, float *o, emx_v4f vmin,
                                       emx_v4f vmax)
{
    const float *r[3] = { i0, i1, i2 };
    emx_v4f a0 = vbias, a1 = vbias;
    for (int j = 0; j < 3; j++)
        for (int k = klo; k <= khi; k++) {
            const emx_v4f x = emx_v4f_load(r[j] + (size_t)(k - klo) * cs);
            if (k <= 2)
                a0 = emx_v4f_muladd(x, w[j * 3 + k], a0);
            if (k >= S && k - S <= 2)
                a1 = emx_v4f_muladd(x, w[j * 3 + k - S], a1);
        }
    emx_v4f_store(o, emx__dw_clamp(a0, vmin, vmax));
    emx_v4f_store(o + cs, emx__dw_clamp(a1, vmin, vmax));
}

/* Geometry shared by every row of one 3x3 depthwise conv. */
typedef struct emx__dw3x3_geom {
    int sw, pl, in_w, out_w;
    int ox_lo, ox_hi; /* output columns whose 3 input columns are all inside the input */
    size_t cs;        /* floats per pixel (channels) */
    const float *z;   /* a zero pixel */
} emx__dw3x3_geom;

/* Which of its S + 3 input columns, from ix0 = ox * S - pl on, the tile of output columns ox,
 * ox + 1 reads: 0 all; 1 all but the first, left of the input (padding 1); 2 all but the last,
 * right of the input (padding 1, or TF "same" at stride 2); 3 anything else (wider padding, an
 * input narrower than the tile): pixel by pixel through emx__dw3x3_edge. */
static inline int emx__dw3x3_tile_kind(int S, int ix0, int in_w)
{
    const int last = ix0 + S + 2;
    if (ix0 >= 0 && last < in_w)
        return 0;
    if (ix0 == -1 && last < in_w)
        return 1;
    if (ix0 >= 0 && last == in_w)
        return 2;
    return 3;
}

/* One output row (or pair of rows) in tiles of two columns, left to right: the interior's full
 * tiles in a tight loop, the edge tiles of emx__dw3x3_tile_kind around it, and an odd last
 * column. With padding 1 every pixel of a row runs in tiles: on the small maps (MobileNet's
 * 7x7, BlazeFace's 8x8) a quarter of the pixels were edge pixels, run one at a time. The odd
 * last column at the right edge (padding 1, TF "same" at stride 2: the usual odd width) runs
 * as a tile one column wide (COL); any other odd last column as a tile overlapping the one
 * before it, which computes that column again in the same order (the same value). Until
 * session 16 every odd column overlapped: on a 7-wide map one computed pixel in eight was
 * wasted. The one-column tile exists only for the usual edge because each inlined copy costs
 * code: one-column tiles for all three edge kinds grew the modules by 9.5-25 KB, for the one
 * kind by 1.5-4.4 KB.
 * RUN(S, IX, OX, N): N full tiles from output column OX on, the first at input column IX;
 * TILE(S, KLO, KHI, IX, OX): the tile at output column OX, its column KLO at input column IX;
 * COL(S, IX, OX): output column OX alone, input columns IX, IX + 1 (its window's third is
 * right of the input);
 * PIXEL(OX): output column OX alone (emx__dw3x3_edge: any window). */
#define EMX__DW3X3_WALK(S, g, RUN, TILE, COL, PIXEL)                                               \
    for (int ox_ = 0; ox_ < (g)->out_w;) {                                                         \
        if (ox_ >= (g)->ox_lo && ox_ + 2 <= (g)->ox_hi) {                                          \
            const int n_ = ((g)->ox_hi - ox_) / 2;                                                 \
            RUN(S, (size_t)(ox_ * S - (g)->pl), ox_, n_);                                          \
            ox_ += 2 * n_;                                                                         \
            continue;                                                                              \
        }                                                                                          \
        const int odd_ = ox_ + 2 > (g)->out_w, cx_ = ox_ * S - (g)->pl;                            \
        if (odd_ && cx_ >= 0 && cx_ + 2 == (g)->in_w) {                                            \
            COL(S, (size_t)cx_, ox_);                                                              \
            break;                                                                                 \
        }                                                                                          \
        const int tx_ = odd_ ? (g)->out_w - 2 : ox_;                                               \
        const int ix_ = tx_ * S - (g)->pl;                                                         \
        switch (tx_ < 0 ? 3 : emx__dw3x3_tile_kind(S, ix_, (g)->in_w)) {                           \
        case 0: TILE(S, 0, S + 2, (size_t)ix_, tx_); break;                                        \
        case 1: TILE(S, 1, S + 2, (size_t)(ix_ + 1), tx_); break;                                  \
        case 2: TILE(S, 0, S + 1, (size_t)ix_, tx_); break;                                        \
        default:                                                                                   \
            PIXEL(ox_);                                                                            \
            ox_++;                                                                                 \
            continue;                                                                              \
        }                                                                                          \
        ox_ = tx_ + 2;                                                                             \
    }

/* One output row of one block: r0..r2 are its input rows at the block's first channel (or the
 * zero row), orow the output row at the block's first channel. */
EMX__DW_INLINE void emx__dw3x3_row(const emx__dw3x3_geom *g, const float *r0, const float *r1,
                                   const float *r2, const emx_v4f *w, emx_v4f vbias, float *orow,
                                   emx_v4f vmin, emx_v4f vmax)
{
    const int sw = g->sw, pl = g->pl, ox_hi = g->ox_hi;
    const size_t cs = g->cs;
    int ox = 0;
    for (; ox < g->ox_lo; ox++) /* left edge */
        emx__dw3x3_edge(r0, r1, r2, ox * sw - pl, g->in_w, cs, g->z, w, vbias,
                        orow + (size_t)ox * cs, vmin, vmax);
    /* only when a tile runs: with no interior (a row narrower than the padded kernel, ox_lo
     * clamped to ox_hi) ox - pl is negative, and the pointer would be formed out of bounds */
    if (sw == 1 && ox + 2 <= ox_hi) {
        const float *i0 = r0 + (size_t)(ox - pl) * cs, *i1 = r1 + (size_t)(ox - pl) * cs;
        const float *i2 = r2 + (size_t)(ox - pl) * cs;
        float *o = orow + (size_t)ox * cs;
        for (; ox + 2 <= ox_hi; ox += 2) {
            emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + cs);
            emx_v4f x2 = emx_v4f_load(i0 + 2 * cs), x3 = emx_v4f_load(i0 + 3 * cs);
            emx_v4f va = emx_v4f_muladd(x0, w[0], vbias);
            emx_v4f vb = emx_v4f_muladd(x1, w[0], vbias);
            va = emx_v4f_muladd(x1, w[1], va), vb = emx_v4f_muladd(x2, w[1], vb);
            va = emx_v4f_muladd(x2, w[2], va), vb = emx_v4f_muladd(x3, w[2], vb);
            x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + cs);
            x2 = emx_v4f_load(i1 + 2 * cs), x3 = emx_v4f_load(i1 + 3 * cs);
            va = emx_v4f_muladd(x0, w[3], va), vb = emx_v4f_muladd(x1, w[3], vb);
            va = emx_v4f_muladd(x1, w[4], va), vb = emx_v4f_muladd(x2, w[4], vb);
            va = emx_v4f_muladd(x2, w[5], va), vb = emx_v4f_muladd(x3, w[5], vb);
            x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + cs);
            x2 = emx_v4f_load(i2 + 2 * cs), x3 = emx_v4f_load(i2 + 3 * cs);
            va = emx_v4f_muladd(x0, w[6], va), vb = emx_v4f_muladd(x1, w[6], vb);
            va = emx_v4f_muladd(x1, w[7], va), vb = emx_v4f_muladd(x2, w[7], vb);
            va = emx_v4f_muladd(x2, w[8], va), vb = emx_v4f_muladd(x3, w[8], vb);
            emx_v4f_store(o, emx__dw_clamp(va, vmin, vmax));
            emx_v4f_store(o + cs, emx__dw_clamp(vb, vmin, vmax));
            i0 += 2 * cs, i1 += 2 * cs, i2 += 2 * cs, o += 2 * cs;
        }
    }
    for (; ox < ox_hi; ox++) /* the odd one out, and strides > 1 */
        emx__dw3x3_inner(r0, r1, r2, (size_t)(ox * sw - pl) * cs, cs, w, vbias,
                         orow + (size_t)ox * cs, vmin, vmax);
    for (ox = ox > g->ox_hi ? ox : g->ox_hi; ox < g->out_w; ox++) /* right edge */
        emx__dw3x3_edge(r0, r1, r2, ox * sw - pl, g->in_w, cs, g->z, w, vbias,
                        orow + (size_t)ox * cs, vmin, vmax);
}

/* Two output rows of one block at stride S (1 or 2) on both axes: the interior in 2 x 2 tiles,
 * the edge columns and an odd last column row by row. r[0..S+2]: the input rows of the pair. */
EMX__DW_INLINE void emx__dw3x3_rows2(const int S, const emx__dw3x3_geom *g, const float *const *r,
                                     const emx_v4f *w, const float *bias, float *oa, float *ob,
                                     const emx__minmax_params *params)
{
    const int pl = g->pl;
    const size_t cs = g->cs;
    const emx_v4f vbias = emx_v4f_load(bias);
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    int ox = 0;
    for (; ox < g->ox_lo; ox++) {
        emx__dw3x3_edge(r[0], r[1], r[2], ox * S - pl, g->in_w, cs, g->z, w, vbias,
                        oa + (size_t)ox * cs, vmin, vmax);
        emx__dw3x3_edge(r[S], r[S + 1], r[S + 2], ox * S - pl, g->in_w, cs, g->z, w, vbias,
                        ob + (size_t)ox * cs, vmin, vmax);
    }
    if (ox + 2 <= g->ox_hi) { /* the interior tiles (none: ox * S - pl may be negative) */
        const float *t[5];
        for (int j = 0; j < S + 3; j++)
            t[j] = r[j] + (size_t)(ox * S - pl) * cs;
        for (; ox + 2 <= g->ox_hi; ox += 2) {
            emx__dw3x3_tile2x2(S, 0, S + 2, t, cs, w, bias, oa + (size_t)ox * cs,
                               ob + (size_t)ox * cs, params);
            for (int j = 0; j < S + 3; j++)
                t[j] += (size_t)(2 * S) * cs;
        }
    }
    if (ox < g->ox_hi) { /* the odd column */
        const size_t off = (size_t)(ox * S - pl) * cs;
        emx__dw3x3_inner(r[0], r[1], r[2], off, cs, w, vbias, oa + (size_t)ox * cs, vmin, vmax);
        emx__dw3x3_inner(r[S], r[S + 1], r[S + 2], off, cs, w, vbias, ob + (size_t)ox * cs, vmin,
                         vmax);
        ox++;
    }
    for (; ox < g->out_w; ox++) { /* the right edge */
        emx__dw3x3_edge(r[0], r[1], r[2], ox * S - pl, g->in_w, cs, g->z, w, vbias,
                        oa + (size_t)ox * cs, vmin, vmax);
        emx__dw3x3_edge(r[S], r[S + 1], r[S + 2], ox * S - pl, g->in_w, cs, g->z, w, vbias,
                        ob + (size_t)ox * cs, vmin, vmax);
    }
}

/* n full 2 x 2 tiles in a row (stride S) for every block, channel-inner: r[j] the pair's input
 * rows, off the first tile's first input column (floats), oa / ob the output rows at the first
 * tile. C: the pixel stride in floats (channels), a constant where emx__dw3x3_cinner_tiles
 * knows it: a wasm load takes a constant offset from its address, so the tile's 25 (stride 2)
 * or 16 (stride 1) loads then come from S + 3 row pointers without an integer add each (V8
 * keeps a runtime offset's sums in registers or on the stack). bench-kernels, SIMD128, best of
 * 3 alternating: MobileNet 56x56x64/2 14.6 -> 16.7 GFLOP/s, BlazeFace 16x16x42/2 14.9 -> 16.9,
 * 8x8x96 21.1 -> 22.7; 7x7x512 unchanged. */
EMX__DW_INLINE void emx__dw3x3_run2(const int S, const int C, const float *const *r, size_t off,
                                    int n, float *oa, float *ob, const float *packed,
                                    const emx__minmax_params *params)
{
    const size_t cs = (size_t)C;
    const int blocks = emx__dw_blocks(C);
    for (int i = 0; i < n; i++, off += (size_t)(2 * S) * cs, oa += 2 * cs, ob += 2 * cs)
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * EMX_DW_CB * 10;
            const size_t ch = (size_t)emx__dw_block_start(C, b);
            emx_v4f w[9];
            for (int k = 0; k < 9; k++)
                w[k] = emx_v4f_load(wb + 4 * (k + 1));
            const float *t[5];
            for (int j = 0; j < S + 3; j++)
                t[j] = r[j] + off + ch;
            emx__dw3x3_tile2x2(S, 0, S + 2, t, cs, w, wb, oa + ch, ob + ch, params);
        }
}

/* emx__dw3x3_run2 with the pixel stride a constant for the depthwise layers of the shipped
 * models from EMX__DW_CINNER_MIN_C(_S2) channels on (BlazeFace; MobileNetV1, the faceres
 * member), a variable for any other: each constant is one more copy of the loop (~1.5 KB). */
#define EMX__DW_RUN2_CASE(S, C)                                                                    \
    case C: emx__dw3x3_run2(S, C, r, off, n, oa, ob, packed, params); return;
/* (Not in the plain-C module, EMX_NO_SIMD: there the copies only add code, ~55 KB.) */
#if (defined(__wasm_simd128__) || defined(__SSE2__)) && !defined(EMX_NO_SIMD)
#define EMX__DW_RUN2_CONSTANTS 1
#else
#define EMX__DW_RUN2_CONSTANTS 0
#endif
static void emx__dw3x3_tiles_s1(int c, const float *const *r, size_t off, int n, float *oa,
                                float *ob, const float *packed, const emx__minmax_params *params)
{
    switch (EMX__DW_RUN2_CONSTANTS ? c : 0) {
        EMX__DW_RUN2_CASE(1, 32)
        EMX__DW_RUN2_CASE(1, 48)
        EMX__DW_RUN2_CASE(1, 56)
        EMX__DW_RUN2_CASE(1, 64)
        EMX__DW_RUN2_CASE(1, 72)
        EMX__DW_RUN2_CASE(1, 80)
        EMX__DW_RUN2_CASE(1, 96)
        EMX__DW_RUN2_CASE(1, 128)
        EMX__DW_RUN2_CASE(1, 256)
        EMX__DW_RUN2_CASE(1, 512)
        EMX__DW_RUN2_CASE(1, 1024)
    default: emx__dw3x3_run2(1, c, r, off, n, oa, ob, packed, params);
    }
}

static void emx__dw3x3_tiles_s2(int c, const float *const *r, size_t off, int n, float *oa,
                                float *ob, const float *packed, const emx__minmax_params *params)
{
    switch (EMX__DW_RUN2_CONSTANTS ? c : 0) {
        EMX__DW_RUN2_CASE(2, 42)
        EMX__DW_RUN2_CASE(2, 64)
        EMX__DW_RUN2_CASE(2, 88)
        EMX__DW_RUN2_CASE(2, 128)
        EMX__DW_RUN2_CASE(2, 256)
        EMX__DW_RUN2_CASE(2, 512)
    default: emx__dw3x3_run2(2, c, r, off, n, oa, ob, packed, params);
    }
}
#undef EMX__DW_RUN2_CASE

/* Many channels (c >= EMX__DW_CINNER_MIN_C): the same taps, but for each output pixel (or 2 x
 * 2 / 1 x 2 tile) every block of channels in turn, the tap vectors read from L1 per block
 * instead of held in registers along a row. Block by block along a row, as emx__dw3x3_rows2
 * goes, reads 16 bytes per pixel at a stride of c x 4 bytes: with 128-512 channels that stride
 * is 512-2048 bytes, a power of two, so a tile's rows all fall into 2-8 of L1's 64 sets and
 * evict each other before the next block reuses their lines (MobileNet's 7x7x512 ran at 11
 * GFLOP/s, 3x below the 1x1 GEMM). Channel by channel, a pixel's lines are read once, in
 * order, and the extra weight loads (10 per tile per block, from a 40 x c-float table in L1)
 * do not limit it: the multiply-adds do. S: the horizontal stride, 1 or 2. */
EMX__DW_INLINE void emx__dw3x3_cinner(const int S, const emx__conv_shape *s, const float *packed,
                                      const float *in, float *out, float *zero,
                                      const emx__minmax_params *params)
{
    const int c = s->in_c, blocks = emx__dw_blocks(c);
    const int sh = s->stride_h, pl = s->pad_left, in_w = s->in_w, out_w = s->out_w;
    const size_t row_stride = (size_t)in_w * c, cs = (size_t)c;
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    memset(zero, 0, (row_stride + EMX_DW_CB) * sizeof(float));
    emx__dw3x3_geom g;
    g.sw = S, g.pl = pl, g.in_w = in_w, g.out_w = out_w, g.cs = cs, g.z = zero;
    int ox_lo = (pl + S - 1) / S, ox_hi = in_w >= 3 - pl ? (in_w - 3 + pl) / S + 1 : 0;
    ox_hi = ox_hi > out_w ? out_w : ox_hi;
    ox_lo = ox_lo > ox_hi ? ox_hi : ox_lo;
    g.ox_lo = ox_lo, g.ox_hi = ox_hi;
    const int pairs = sh == S ? s->out_h / 2 : 0;
    size_t in_pitch = row_stride;
    if (emx__dw_restage(s)) {
        float *rows = zero + row_stride + EMX_DW_CB;
        in_pitch = emx__dw_restage_pitch(s);
        for (int y = 0; y < s->in_h; y++)
            memcpy(rows + (size_t)y * in_pitch, in + (size_t)y * row_stride,
                   row_stride * sizeof(float));
        in = rows;
    }
/* for each block: w[9] and vbias of block b, ch its first channel */
#define EMX__DW_BLOCKS(...)                                                                        \
    for (int b = 0; b < blocks; b++) {                                                             \
        const float *wb = packed + (size_t)b * EMX_DW_CB * 10;                                     \
        const size_t ch = (size_t)emx__dw_block_start(c, b);                                       \
        emx_v4f w[9];                                                                              \
        for (int k = 0; k < 9; k++)                                                                \
            w[k] = emx_v4f_load(wb + 4 * (k + 1));                                                 \
        const emx_v4f vbias = emx_v4f_load(wb);                                                    \
        __VA_ARGS__                                                                                \
    }
    for (int oy = 0; oy < s->out_h;) {
        const int two = oy / 2 < pairs, n_rows = two ? S + 3 : 3;
        const int iy0 = oy * sh - s->pad_top;
        const float *r[5];
        for (int k = 0; k < n_rows; k++)
            r[k] = iy0 + k >= 0 && iy0 + k < s->in_h ? in + (size_t)(iy0 + k) * in_pitch : zero;
        float *oa = out + (size_t)oy * out_w * cs, *ob = oa + (size_t)out_w * cs;
#define EMX__DW_T2N(S_, N_, KLO, KHI, IX, OX)                                                      \
    do {                                                                                           \
        const size_t off_ = (IX)*cs, oo_ = (size_t)(OX)*cs;                                        \
        EMX__DW_BLOCKS({                                                                           \
            const float *t_[5];                                                                    \
            for (int j_ = 0; j_ < S_ + 3; j_++)                                                    \
                t_[j_] = r[j_] + off_ + ch;                                                        \
            (void)vbias;                                                                           \
            emx__dw3x3_tile2xn(S_, N_, KLO, KHI, t_, cs, w, wb, oa + oo_ + ch, ob + oo_ + ch,      \
                               params);                                                            \
        })                                                                                         \
    } while (0)
#define EMX__DW_T2(S_, KLO, KHI, IX, OX) EMX__DW_T2N(S_, 2, KLO, KHI, IX, OX)
#define EMX__DW_C2(S_, IX, OX)           EMX__DW_T2N(S_, 1, 0, 1, IX, OX)
#define EMX__DW_P2(OX)                                                                             \
    do {                                                                                           \
        const int ix0_ = (OX)*S - pl;                                                              \
        EMX__DW_BLOCKS({                                                                           \
            emx__dw3x3_edge(r[0] + ch, r[1] + ch, r[2] + ch, ix0_, in_w, cs, zero, w, vbias,       \
                            oa + (size_t)(OX)*cs + ch, vmin, vmax);                                \
            emx__dw3x3_edge(r[S] + ch, r[S + 1] + ch, r[S + 2] + ch, ix0_, in_w, cs, zero, w,      \
                            vbias, ob + (size_t)(OX)*cs + ch, vmin, vmax);                         \
        })                                                                                         \
    } while (0)
#define EMX__DW_T1(S_, KLO, KHI, IX, OX)                                                           \
    do {                                                                                           \
        const size_t off_ = (IX)*cs, oo_ = (size_t)(OX)*cs;                                        \
        EMX__DW_BLOCKS({                                                                           \
            emx__dw3x3_tile1x2(S_, KLO, KHI, r[0] + off_ + ch, r[1] + off_ + ch, r[2] + off_ + ch, \
                               cs, w, vbias, oa + oo_ + ch, vmin, vmax);                           \
        })                                                                                         \
    } while (0)
#define EMX__DW_P1(OX)                                                                             \
    do {                                                                                           \
        const int ix0_ = (OX)*S - pl;                                                              \
        EMX__DW_BLOCKS({                                                                           \
            emx__dw3x3_edge(r[0] + ch, r[1] + ch, r[2] + ch, ix0_, in_w, cs, zero, w, vbias,       \
                            oa + (size_t)(OX)*cs + ch, vmin, vmax);                                \
        })                                                                                         \
    } while (0)
#define EMX__DW_R2(S_, IX, OX, N)                                                                  \
    (S_ == 1 ? emx__dw3x3_tiles_s1 : emx__dw3x3_tiles_s2)(c, r, (IX)*cs, N, oa + (size_t)(OX)*cs,  \
                                                          ob + (size_t)(OX)*cs, packed, params)
#define EMX__DW_R1(S_, IX, OX, N)                                                                  \
    for (int i_ = 0; i_ < (N); i_++)                                                               \
    EMX__DW_T1(S_, 0, S_ + 2, (IX) + (size_t)(2 * S_ * i_), (OX) + 2 * i_)
/* one row, one column: emx__dw3x3_edge runs the right edge's 6 taps straight */
#define EMX__DW_C1(S_, IX, OX) EMX__DW_P1(OX)
        if (two) {
            EMX__DW3X3_WALK(S, &g, EMX__DW_R2, EMX__DW_T2, EMX__DW_C2, EMX__DW_P2)
        } else {
            EMX__DW3X3_WALK(S, &g, EMX__DW_R1, EMX__DW_T1, EMX__DW_C1, EMX__DW_P1)
        }
#undef EMX__DW_R2
#undef EMX__DW_R1
#undef EMX__DW_T2N
#undef EMX__DW_T2
#undef EMX__DW_C2
#undef EMX__DW_C1
#undef EMX__DW_P2
#undef EMX__DW_T1
#undef EMX__DW_P1
#undef EMX__DW_BLOCKS
        oy += two ? 2 : 1;
    }
}

/* 3x3, dilation 1, c >= 4: see the top of the file. */
static void emx__dw3x3(const emx__conv_shape *s, const float *packed, const float *in, float *out,
                       float *zero, const emx__minmax_params *params)
{
    const int c = s->in_c, blocks = emx__dw_blocks(c);
    const int sw = s->stride_w, sh = s->stride_h, pl = s->pad_left, in_w = s->in_w;
    const size_t block_stride = (size_t)EMX_DW_CB * 10;
    const size_t row_stride = (size_t)in_w * c, cs = (size_t)c;
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    memset(zero, 0, (row_stride + EMX_DW_CB) * sizeof(float));
    emx__dw3x3_geom g;
    g.sw = sw, g.pl = pl, g.in_w = in_w, g.out_w = s->out_w, g.cs = cs, g.z = zero;
    /* output columns [ox_lo, ox_hi) have all 3 input columns inside the input */
    int ox_lo = (pl + sw - 1) / sw, ox_hi = in_w >= 3 - pl ? (in_w - 3 + pl) / sw + 1 : 0;
    ox_hi = ox_hi > s->out_w ? s->out_w : ox_hi;
    ox_lo = ox_lo > ox_hi ? ox_hi : ox_lo;
    g.ox_lo = ox_lo, g.ox_hi = ox_hi;
    /* stride 1: pairs of rows in 2 x 2 tiles. At stride 2 the tile (25 loads, 36 multiply-adds)
     * measured slower than the row loop in wasm (MobileNet 56x56x64/2: 13.8 -> 9.7 GFLOP/s) */
    const int pairs = sh == 1 && sw == 1 ? s->out_h / 2 : 0;

    for (int oy = 0; oy < s->out_h;) {
        const int two = oy / 2 < pairs, n_rows = two ? sh + 3 : 3;
        const int iy0 = oy * sh - s->pad_top;
        const float *rows[5];
        for (int k = 0; k < n_rows; k++)
            rows[k] =
                iy0 + k >= 0 && iy0 + k < s->in_h ? in + (size_t)(iy0 + k) * row_stride : zero;
        float *orow = out + (size_t)oy * s->out_w * cs;
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * block_stride;
            const size_t ch = (size_t)emx__dw_block_start(c, b);
            emx_v4f w[9];
            for (int k = 0; k < 9; k++)
                w[k] = emx_v4f_load(wb + 4 * (k + 1));
            const float *r[5];
            for (int k = 0; k < n_rows; k++)
                r[k] = rows[k] + ch;
            if (two)
                emx__dw3x3_rows2(1, &g, r, w, wb, orow + ch, orow + (size_t)s->out_w * cs + ch,
                                 params);
            else
                emx__dw3x3_row(&g, r[0], r[1], r[2], w, emx_v4f_load(wb), orow + ch, vmin, vmax);
        }
        oy += two ? 2 : 1;
    }
}

/* The 9 taps of one pixel: p[ky][kx] points at the input (or a zero pixel) for this block. */
#define EMX__DW3X3_PIXEL_S2(p0, p1, p2, o)                                                         \
    do {                                                                                           \
        emx_v4f va = emx_v4f_muladd(emx_v4f_load(p0[0]), vw0, vbias);                              \
        emx_v4f vb = emx_v4f_mul(emx_v4f_load(p0[1]), vw1);                                        \
        va = emx_v4f_muladd(emx_v4f_load(p0[2]), vw2, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p1[0]), vw3, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p1[1]), vw4, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p1[2]), vw5, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p2[0]), vw6, va);                                         \
        vb = emx_v4f_muladd(emx_v4f_load(p2[1]), vw7, vb);                                         \
        va = emx_v4f_muladd(emx_v4f_load(p2[2]), vw8, va);                                         \
        emx_v4f_store(o, emx__dw_clamp(emx_v4f_add(va, vb), vmin, vmax));                          \
    } while (0)

/* Stride 2 with fewer than EMX__DW_CINNER_MIN_C_S2 channels: the row loop of issue 20's first
 * round, but for its edge pairs (edge_lo, edge_hi: a tile of emx__dw3x3_tile_kind instead of
 * a window pixel and an odd pixel). Every restructuring of its loop tried here (2 x 2 tiles,
 * the 6-tap edges, the shared row function, channel-inner, EMX__DW3X3_WALK in 1 x 2 tiles)
 * ran BlazeFace's stride-2 layers as fast or 10-25% slower (bench-ops / bench-kernels). */
static void emx__dw3x3_s2(const emx__conv_shape *s, const float *packed, const float *in,
                          float *out, float *zero, const emx__minmax_params *params)
{
    const int c = s->in_c, blocks = emx__dw_blocks(c);
    const int sw = s->stride_w, pl = s->pad_left, in_w = s->in_w, out_w = s->out_w;
    const size_t block_stride = (size_t)EMX_DW_CB * 10;
    const size_t row_stride = (size_t)in_w * c, cs = (size_t)c;
    const emx_v4f vmin = emx_v4f_splat(params->min), vmax = emx_v4f_splat(params->max);
    memset(zero, 0, (row_stride + EMX_DW_CB) * sizeof(float));
    /* output columns [ox_lo, ox_hi) have all 3 input columns inside the input */
    int ox_lo = (pl + sw - 1) / sw, ox_hi = in_w >= 3 - pl ? (in_w - 3 + pl) / sw + 1 : 0;
    ox_hi = ox_hi > out_w ? out_w : ox_hi;
    ox_lo = ox_lo > ox_hi ? ox_hi : ox_lo;
    /* stride 2: the edge pairs emx__dw3x3_tile_kind runs as tiles (1: the first two
     * pixels, 2: the last two) */
    const int edge_lo = out_w >= 2 && ox_lo == 1 && emx__dw3x3_tile_kind(2, -pl, in_w) == 1;
    const int edge_hi =
        out_w >= 2 + 2 * edge_lo && emx__dw3x3_tile_kind(2, (out_w - 2) * 2 - pl, in_w) == 2;

    for (int oy = 0; oy < s->out_h; oy++) {
        const int iy0 = oy * s->stride_h - s->pad_top;
        const float *rows[3];
        for (int k = 0; k < 3; k++)
            rows[k] =
                iy0 + k >= 0 && iy0 + k < s->in_h ? in + (size_t)(iy0 + k) * row_stride : zero;
        float *orow = out + (size_t)oy * out_w * cs;
        for (int b = 0; b < blocks; b++) {
            const float *wb = packed + (size_t)b * block_stride;
            const size_t ch = (size_t)emx__dw_block_start(c, b);
            const emx_v4f vbias = emx_v4f_load(wb);
            const emx_v4f vw0 = emx_v4f_load(wb + 4), vw1 = emx_v4f_load(wb + 8);
            const emx_v4f vw2 = emx_v4f_load(wb + 12), vw3 = emx_v4f_load(wb + 16);
            const emx_v4f vw4 = emx_v4f_load(wb + 20), vw5 = emx_v4f_load(wb + 24);
            const emx_v4f vw6 = emx_v4f_load(wb + 28), vw7 = emx_v4f_load(wb + 32);
            const emx_v4f vw8 = emx_v4f_load(wb + 36);
            const float *r0 = rows[0] + ch, *r1 = rows[1] + ch, *r2 = rows[2] + ch;
            const float *z = zero; /* a zero pixel for the columns outside */
            int ox = 0;
            if (sw == 2 && edge_lo) { /* padding 1: the first two pixels in one pair */
                const emx_v4f w[9] = { vw0, vw1, vw2, vw3, vw4, vw5, vw6, vw7, vw8 };
                emx__dw3x3_tile1x2(2, 1, 4, r0, r1, r2, cs, w, vbias, orow + ch, vmin, vmax);
                ox = 2;
            }
            /* left and right edges: missing columns read the zero pixel */
            for (int pass = 0; pass < 2; pass++) {
                const int end = pass == 0 ? ox_lo : out_w;
                if (pass == 1)
                    ox = ox > ox_hi ? ox : ox_hi;
                for (; ox < end; ox++) {
                    const int ix0 = ox * sw - pl;
                    const float *p0[3], *p1[3], *p2[3];
                    emx__dw3x3_window(r0, r1, r2, ix0, in_w, cs, z, p0, p1, p2);
                    EMX__DW3X3_PIXEL_S2(p0, p1, p2, orow + (size_t)ox * cs + ch);
                }
                if (pass == 1)
                    break;
                /* interior */
                /* only when a tile runs: with no interior ox - pl may be negative */
                if (sw == 1 && ox + 2 <= ox_hi) {
                    const float *i0 = r0 + (size_t)(ox - pl) * cs,
                                *i1 = r1 + (size_t)(ox - pl) * cs;
                    const float *i2 = r2 + (size_t)(ox - pl) * cs;
                    float *o = orow + (size_t)ox * cs + ch;
                    for (; ox + 2 <= ox_hi; ox += 2) {
                        emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + cs);
                        emx_v4f x2 = emx_v4f_load(i0 + 2 * cs), x3 = emx_v4f_load(i0 + 3 * cs);
                        emx_v4f va = emx_v4f_muladd(x0, vw0, vbias);
                        emx_v4f vb = emx_v4f_muladd(x1, vw0, vbias);
                        va = emx_v4f_muladd(x1, vw1, va), vb = emx_v4f_muladd(x2, vw1, vb);
                        va = emx_v4f_muladd(x2, vw2, va), vb = emx_v4f_muladd(x3, vw2, vb);
                        x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + cs);
                        x2 = emx_v4f_load(i1 + 2 * cs), x3 = emx_v4f_load(i1 + 3 * cs);
                        va = emx_v4f_muladd(x0, vw3, va), vb = emx_v4f_muladd(x1, vw3, vb);
                        va = emx_v4f_muladd(x1, vw4, va), vb = emx_v4f_muladd(x2, vw4, vb);
                        va = emx_v4f_muladd(x2, vw5, va), vb = emx_v4f_muladd(x3, vw5, vb);
                        x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + cs);
                        x2 = emx_v4f_load(i2 + 2 * cs), x3 = emx_v4f_load(i2 + 3 * cs);
                        va = emx_v4f_muladd(x0, vw6, va), vb = emx_v4f_muladd(x1, vw6, vb);
                        va = emx_v4f_muladd(x1, vw7, va), vb = emx_v4f_muladd(x2, vw7, vb);
                        va = emx_v4f_muladd(x2, vw8, va), vb = emx_v4f_muladd(x3, vw8, vb);
                        emx_v4f_store(o, emx__dw_clamp(va, vmin, vmax));
                        emx_v4f_store(o + cs, emx__dw_clamp(vb, vmin, vmax));
                        i0 += 2 * cs, i1 += 2 * cs, i2 += 2 * cs, o += 2 * cs;
                    }
                } else if (sw == 2 && ox + 2 <= ox_hi) {
                    const float *i0 = r0 + (size_t)(2 * ox - pl) * cs;
                    const float *i1 = r1 + (size_t)(2 * ox - pl) * cs;
                    const float *i2 = r2 + (size_t)(2 * ox - pl) * cs;
                    float *o = orow + (size_t)ox * cs + ch;
                    for (; ox + 2 <= ox_hi; ox += 2) {
                        emx_v4f x0 = emx_v4f_load(i0), x1 = emx_v4f_load(i0 + cs);
                        emx_v4f x2 = emx_v4f_load(i0 + 2 * cs);
                        emx_v4f va = emx_v4f_muladd(x0, vw0, vbias);
                        emx_v4f vb = emx_v4f_muladd(x2, vw0, vbias);
                        va = emx_v4f_muladd(x1, vw1, va), va = emx_v4f_muladd(x2, vw2, va);
                        x0 = emx_v4f_load(i0 + 3 * cs), x1 = emx_v4f_load(i0 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw1, vb), vb = emx_v4f_muladd(x1, vw2, vb);
                        x0 = emx_v4f_load(i1), x1 = emx_v4f_load(i1 + cs);
                        x2 = emx_v4f_load(i1 + 2 * cs);
                        va = emx_v4f_muladd(x0, vw3, va), va = emx_v4f_muladd(x1, vw4, va);
                        va = emx_v4f_muladd(x2, vw5, va), vb = emx_v4f_muladd(x2, vw3, vb);
                        x0 = emx_v4f_load(i1 + 3 * cs), x1 = emx_v4f_load(i1 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw4, vb), vb = emx_v4f_muladd(x1, vw5, vb);
                        x0 = emx_v4f_load(i2), x1 = emx_v4f_load(i2 + cs);
                        x2 = emx_v4f_load(i2 + 2 * cs);
                        va = emx_v4f_muladd(x0, vw6, va), va = emx_v4f_muladd(x1, vw7, va);
                        va = emx_v4f_muladd(x2, vw8, va), vb = emx_v4f_muladd(x2, vw6, vb);
                        x0 = emx_v4f_load(i2 + 3 * cs), x1 = emx_v4f_load(i2 + 4 * cs);
                        vb = emx_v4f_muladd(x0, vw7, vb), vb = emx_v4f_muladd(x1, vw8, vb);
                        emx_v4f_store(o, emx__dw_clamp(va, vmin, vmax));
                        emx_v4f_store(o + cs, emx__dw_clamp(vb, vmin, vmax));
                        i0 += 4 * cs, i1 += 4 * cs, i2 += 4 * cs, o += 2 * cs;
                    }
                }
                if (sw == 2 && ox + 2 == out_w && edge_hi) {
                    /* the last two pixels in one pair, the last one's third column outside
                     * (padding 1 on the right of an odd width; TF "same" on an even one) */
                    const emx_v4f w[9] = { vw0, vw1, vw2, vw3, vw4, vw5, vw6, vw7, vw8 };
                    const size_t off = (size_t)(2 * ox - pl) * cs;
                    emx__dw3x3_tile1x2(2, 0, 3, r0 + off, r1 + off, r2 + off, cs, w, vbias,
                                       orow + (size_t)ox * cs + ch, vmin, vmax);
                    ox = out_w;
                }
                for (; ox < ox_hi; ox++) { /* the odd one out, and strides > 2 */
                    const size_t off = (size_t)(ox * sw - pl) * cs;
                    const float *p0[3] = { r0 + off, r0 + off + cs, r0 + off + 2 * cs };
                    const float *p1[3] = { r1 + off, r1 + off + cs, r1 + off + 2 * cs };
                    const float *p2[3] = { r2 + off, r2 + off + cs, r2 + off + 2 * cs };
                    EMX__DW3X3_PIXEL_S2(p0, p1, p2, orow + (size_t)ox * cs + ch);
                }
            }
        }
    }
}

void emx__f32_dwconv_minmax__simd(const emx__conv_shape *s, const float *packed, const float *in,
                                  float *out, float *scratch, const emx__minmax_params *params)
{
    if (s->kh == 3 && s->kw == 3 && s->dil_h == 1 && s->dil_w == 1 && s->in_c >= EMX_DW_CB) {
        if ((s->in_c >= EMX__DW_CINNER_MIN_C ||
             (s->in_c == 32 && s->out_w >= EMX__DW_CINNER_C32_MIN_W)) &&
            s->stride_w == 1)
            emx__dw3x3_cinner(1, s, packed, in, out, scratch, params);
        else if (s->in_c >= EMX__DW_CINNER_MIN_C_S2 && s->stride_w == 2)
            emx__dw3x3_cinner(2, s, packed, in, out, scratch, params);
        else if (s->stride_w == 2)
            emx__dw3x3_s2(s, packed, in, out, scratch, params);
        else
            emx__dw3x3(s, packed, in, out, scratch, params);
    } else {
        emx__dw_generic(s, packed, in, out, params);
    }
}
