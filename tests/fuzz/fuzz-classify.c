/* fuzz-classify.c - emx_classify with hostile frames and boxes on a small golden model.
 *
 * Input layout (missing bytes read as zero):
 *   0      flags: bit 0 RGB model (resnet_rgb) instead of gray (vgg); bit 1 no box (NULL);
 *          bit 2 box from raw float bits (NaN, infinities, 1e38...) instead of small integers;
 *          bit 3 explicit stride; bit 4 also emx_preprocess into a caller buffer
 *   1, 2   width - 1, height - 1 (frames up to 256 x 256, to keep runs fast)
 *   3      channels: 1, 3 or 4 (and now and then an invalid count: 0, 2, 5)
 *   4      stride padding in bytes (bit 3), or a stride below the row size when >= 250
 *   5..20  box: four little-endian f32, or four i32 scaled down to a few hundred pixels
 *   21..   pixels, repeated to fill the frame
 * The frame buffer is exactly (height - 1) * stride + width * channels bytes, so ASan catches
 * any read past its last pixel. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef EMX_FUZZ_ENTRY
#define EMX_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

static uint32_t fuzz_classify_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size);
int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    enum { HDR = 21 };
    uint8_t hdr[HDR] = { 0 };
    memcpy(hdr, data, size < HDR ? size : HDR);
    const uint8_t *pix = data + (size < HDR ? size : HDR);
    size_t n_pix = size < HDR ? 0 : size - HDR;

    const int flags = hdr[0];
    const int w = hdr[1] + 1, h = hdr[2] + 1;
    static const int chans[8] = { 1, 3, 4, 1, 3, 4, 0, 2 };
    const int c = hdr[3] == 255 ? 5 : chans[hdr[3] & 7];
    const int row = w * c;
    int stride = 0;
    if (flags & 8)
        stride = hdr[4] >= 250 ? row - (hdr[4] - 249) : row + hdr[4];
    const size_t bytes_stride = stride > row ? (size_t)stride : (size_t)row;
    const size_t frame = (size_t)(h - 1) * bytes_stride + (size_t)row;

    uint8_t *buf = malloc(frame ? frame : 1);
    if (!buf)
        return 0;
    for (size_t i = 0; i < frame; i++)
        buf[i] = n_pix ? pix[i % n_pix] : (uint8_t)(i * 37);

    emx_box box;
    float *f = &box.x;
    for (int i = 0; i < 4; i++) {
        uint32_t u = fuzz_classify_u32(hdr + 5 + 4 * i);
        if (flags & 4)
            memcpy(&f[i], &u, sizeof f[i]);
        else
            f[i] = (float)(int32_t)u / 8388608.0f * 300.0f; /* about -300 .. 300, fractional */
    }
    emx_model *m = emx_fuzz_model(flags & 1);
    emx_image img = { buf, w, h, c, stride };
    const emx_box *b = (flags & 2) ? NULL : &box;
    float probs[EMX_MAX_CLASSES];
    emx_status st = emx_classify(m, &img, b, probs);
    if (st == EMX_OK) {
        emx_fuzz_check_probs(m, probs);
        if (c != 1 && c != 3 && c != 4)
            emx_fuzz_fail("classify accepted an invalid channel count");
        if (stride != 0 && stride < row)
            emx_fuzz_fail("classify accepted a stride below the row size");
    } else if (st != EMX_ERR_IMAGE && st != EMX_ERR_BOX) {
        emx_fuzz_fail("classify failed with a status other than IMAGE or BOX");
    }
    if (flags & 16) {
        emx_input_spec in = emx_model_input_spec(m);
        size_t count = (size_t)in.width * (size_t)in.height * (size_t)in.channels;
        float *tensor = malloc(count * sizeof *tensor);
        if (tensor) {
            emx_status st2 = emx_preprocess(m, &img, b, tensor);
            if (st2 != st)
                emx_fuzz_fail("preprocess and classify disagree");
            free(tensor);
        }
    }
    free(buf);
    return 0;
}
