/* f32-pad-channels.c - zero channels before/after each pixel's (PAD_CHANNELS). Memory-bound:
 * per pixel one block copy and two block fills, which the C library vectorises. */
#include <string.h>

#include "kernels.h"

void emx__pad_channels(int hw, int c, int pad_before, int pad_after, const float *in, float *out)
{
    const size_t oc = (size_t)pad_before + (size_t)c + (size_t)pad_after;
    for (int p = 0; p < hw; p++) {
        float *o = out + (size_t)p * oc;
        if (pad_before)
            memset(o, 0, (size_t)pad_before * sizeof(float));
        memcpy(o + pad_before, in + (size_t)p * c, (size_t)c * sizeof(float));
        if (pad_after)
            memset(o + pad_before + c, 0, (size_t)pad_after * sizeof(float));
    }
}
