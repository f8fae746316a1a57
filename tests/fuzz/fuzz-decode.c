/* fuzz-decode.c - the CLI's image path: emx_image_decode on arbitrary bytes (PNG, JPEG or
 * anything else), then, as `emoxnet classify` does, emx_classify of the whole decoded image
 * with a small golden model. Every decoded pixel is read, so a buffer shorter than
 * width x height x channels shows up under ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef EMX_FUZZ_ENTRY
#define EMX_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size);
int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    uint8_t *px = (uint8_t *)(uintptr_t)1;
    int w = -1, h = -1, c = -1;
    emx_status st = emx_image_decode(data, size, &px, &w, &h, &c);
    if (st != EMX_OK) {
        if (px != NULL)
            emx_fuzz_fail("failed decode left *pixels set");
        if (st != EMX_ERR_DECODE && !(st == EMX_ERR_INVALID_ARG && size == 0))
            emx_fuzz_fail("decode failed with a status other than EMX_ERR_DECODE");
        return 0;
    }
    if (!px || w < 1 || h < 1 || w > 16384 || h > 16384 || (c != 1 && c != 3 && c != 4))
        emx_fuzz_fail("decode succeeded with an invalid image");
    size_t n = (size_t)w * (size_t)h * (size_t)c;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += px[i];
    /* Classify as the CLI does (whole image is the face); large images are skipped only to keep
     * the fuzzer fast (fuzz-classify covers the preprocessing on its own). */
    if (n <= (size_t)1 << 20) {
        emx_model *m = emx_fuzz_model(sum & 1);
        emx_image img = { px, w, h, c, 0 };
        float probs[EMX_MAX_CLASSES];
        if (emx_classify(m, &img, NULL, probs) != EMX_OK)
            emx_fuzz_fail("classify of a decoded image failed");
        emx_fuzz_check_probs(m, probs);
    }
    emx_image_free(px);
    return 0;
}
