/* gemm-config.c - the GEMM micro-kernels as a table (f32-gemm.inc), the dispatcher's picks,
 * and the size of their shared packed-weight layout (kernels.h). Its own file so both users,
 * the conv driver (conv2d.c) and the Winograd convolution (f32-conv3x3-winograd.c), depend on
 * it and not on each other. */
#include "kernels.h"

#define EMX_GEMM_UKERNEL(mr, nr, gemm, igemm) { #gemm, mr, nr, gemm, igemm },
const emx__gemm_config emx__gemm_configs[] = {
#include "f32-gemm.inc"
};
#undef EMX_GEMM_UKERNEL
const int emx__gemm_config_count = (int)(sizeof emx__gemm_configs / sizeof emx__gemm_configs[0]);

/* The largest MR wins: more rows reuse each loaded weight vector more times. */
const emx__gemm_config *emx__gemm_default(void)
{
    const emx__gemm_config *best = &emx__gemm_configs[0];
    for (int i = 1; i < emx__gemm_config_count; i++)
        if (emx__gemm_configs[i].mr > best->mr)
            best = &emx__gemm_configs[i];
    return best;
}

const emx__gemm_config *emx__gemm_single_row(void)
{
    for (int i = 0; i < emx__gemm_config_count; i++)
        if (emx__gemm_configs[i].mr == 1)
            return &emx__gemm_configs[i];
    return emx__gemm_default();
}

/* Floats of packed weights for n output channels over k rows: per panel of NR channels, NR
 * biases and k rows of NR weights. 64-bit: shapes come from files (see conv2d.c). */
uint64_t emx__gemm_packed_size(uint64_t n, uint64_t k)
{
    return (n + EMX_GEMM_NR - 1) / EMX_GEMM_NR * EMX_GEMM_NR * (1 + k);
}
