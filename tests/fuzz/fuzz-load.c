/* fuzz-load.c - emx_model_load on arbitrary bytes, then one run of any model that loads.
 *
 * Byte 0 is a mode, the rest is the file:
 *   bit 0 clear: before loading, set the header's total_size to the real length and recompute
 *                the CRC-32, so mutations get past the checksum into the chunk parsers (with
 *                the bit set the bytes go in untouched, covering the header checks);
 *   bit 1 set:   load with use_reference (the plain C ops run instead of the SIMD kernels).
 * A model that loads is run once on a zero input (a detector: emx_detect on a black frame),
 * under the same sanitizers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef EMX_FUZZ_ENTRY
#define EMX_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* zlib's CRC-32 (the format's), bit by bit: the harness must not trust the code under test. */
static uint32_t fuzz_load_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void fuzz_load_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size);
int EMX_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t mode = data[0];
    size_t n = size - 1;
    /* An exact-size copy, so ASan sees any read past the end of the file. */
    uint8_t *file = malloc(n ? n : 1);
    if (!file)
        return 0;
    memcpy(file, data + 1, n);
    if (!(mode & 1) && n >= 16 && n <= UINT32_MAX) {
        fuzz_load_put32(file + 8, (uint32_t)n);
        fuzz_load_put32(file + 12, fuzz_load_crc32(file + 16, n - 16));
    }
    emx_model_params params = emx_model_default_params();
    params.use_reference = (mode & 2) != 0;
    emx_model *m = (emx_model *)(uintptr_t)1; /* must come back NULL on failure */
    emx_status st = emx_model_load(file, n, &params, &m);
    free(file); /* the model must not keep pointers into the caller's buffer */
    if (st != EMX_OK) {
        if (m != NULL)
            emx_fuzz_fail("failed load left *out set");
        if (st > 0 || st < EMX_ERR_NUMERIC) /* the lowest status */
            emx_fuzz_fail("load returned an unknown status");
        return 0;
    }
    if (!m)
        emx_fuzz_fail("EMX_OK without a model");

    emx_input_spec in = emx_model_input_spec(m);
    int nc = emx_model_num_classes(m);
    if (in.width < 1 || in.height < 1 || (in.channels != 1 && in.channels != 3) || nc < 1 ||
        nc > EMX_MAX_CLASSES)
        emx_fuzz_fail("loaded model has an invalid input spec or class count");
    for (int i = 0; i < nc; i++)
        if (!emx_model_class_name(m, i))
            emx_fuzz_fail("class name missing");
    (void)emx_model_meta(m, "name");
    /* Running is bounded by the loader's limits, not by the harness: every model that loads is
     * run once (inputs are at most 1024 x 1024 x 3). */
    size_t count = (size_t)in.width * (size_t)in.height * (size_t)in.channels;
    float *input = calloc(count, sizeof *input);
    float probs[EMX_MAX_CLASSES];
#ifdef EMX_MAX_LANDMARKS /* the face detection API (emx_detect) is in emoxnet.h */
    const char *task = emx_model_meta(m, "task");
    if (task && strcmp(task, "detector") == 0) {
        /* A detector (META task=detector) runs through emx_detect on a whole (black) frame of
         * its input size; emx_run refuses it. */
        uint8_t *px = calloc(count, 1);
        emx_image img = { px, in.width, in.height, in.channels, 0 };
        emx_face faces[4];
        int n_faces = -1;
        /* EMX_ERR_LIMIT: anchors whose scratch exceeds the memory budget (issue 18) */
        const emx_status ds = px ? emx_detect(m, &img, NULL, faces, 4, &n_faces) : EMX_OK;
        if (ds != EMX_OK && ds != EMX_ERR_LIMIT)
            emx_fuzz_fail("detect with a loaded detector failed");
        if (px && (n_faces < 0 || n_faces > 4))
            emx_fuzz_fail("detect returned an invalid face count");
        free(px);
    } else
#endif
        if (input) {
        /* mutated weights may overflow: probabilities or EMX_ERR_NUMERIC, never NaN as OK */
        const emx_status rs = emx_run(m, input, probs);
        if (rs != EMX_OK && rs != EMX_ERR_NUMERIC)
            emx_fuzz_fail("run of a loaded model failed");
        if (rs == EMX_OK)
            for (int i = 0; i < emx_model_num_classes(m); i++)
                if (!(probs[i] >= 0.0f && probs[i] <= 1.01f))
                    emx_fuzz_fail("run returned a non-probability as success");
    }
    free(input);
    emx_model_free(m);
    return 0;
}
