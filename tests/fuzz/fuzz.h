/* fuzz.h - shared by the fuzz targets (tests/fuzz/fuzz-*.c).
 *
 * Each target defines one entry point, named EMX_FUZZ_ENTRY: LLVMFuzzerTestOneInput when it is
 * built as a libFuzzer binary (CMake option EMX_FUZZ), or a plain function when
 * tests/test-fuzz-regress.c #includes the three targets to replay the saved crashes and the
 * seed corpora in an ordinary ctest. A target reports a bug by crashing (a sanitizer, or
 * emx_fuzz_fail's abort()); returning means the input was handled. */
#ifndef EMX_FUZZ_H
#define EMX_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "emoxnet.h"

/* The small golden models the classify paths run; CMake passes their absolute paths so the
 * binaries work from any directory. */
#ifndef EMX_FUZZ_GRAY_MODEL
#define EMX_FUZZ_GRAY_MODEL "tests/golden/vgg.emx"
#endif
#ifndef EMX_FUZZ_RGB_MODEL
#define EMX_FUZZ_RGB_MODEL "tests/golden/resnet_rgb.emx"
#endif

static inline void emx_fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz invariant violated: %s\n", what);
    abort();
}

/* Loaded once per process and never freed (LeakSanitizer ignores still-reachable statics). */
static inline emx_model *emx_fuzz_model(int rgb)
{
    static emx_model *models[2];
    if (!models[rgb]) {
        const char *path = rgb ? EMX_FUZZ_RGB_MODEL : EMX_FUZZ_GRAY_MODEL;
        emx_status st = emx_model_load_file(path, NULL, &models[rgb]);
        if (st != EMX_OK) {
            fprintf(stderr, "cannot load %s: %s\n", path, emx_status_str(st));
            abort();
        }
    }
    return models[rgb];
}

/* Scores of a good classify: finite probabilities (the golden models end in a softmax). */
static inline void emx_fuzz_check_probs(const emx_model *m, const float *probs)
{
    for (int i = 0; i < emx_model_num_classes(m); i++)
        if (!(probs[i] >= 0.0f && probs[i] <= 1.0f))
            emx_fuzz_fail("classify returned a score outside [0, 1]");
}

#endif /* EMX_FUZZ_H */
