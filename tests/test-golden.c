/* test-golden.c - the C runtime against PyTorch. tests/golden/manifest.txt lists models as
 * "NAME N_CASES" lines (blank lines and # comments allowed); for each, NAME.emx, NAME.input.f32
 * (N_CASES input tensors, HWC float32) and NAME.expected.f32 (N_CASES x num_classes softmax
 * probabilities), written by the exporter from PyTorch. Both the fast kernels and the reference
 * ops must match within 1e-4 on every case. The .f32 files are little-endian, read as host
 * floats: every target (x86, arm, wasm) is little-endian.
 * EMX_GOLDEN_DIR overrides the directory (to check files freshly made elsewhere). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"
#include "testutil.h"

#define TOLERANCE 1e-4f

static const char *dir = "tests/golden";

static void *read_golden(const char *name, const char *suffix, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    void *data = emx_test_read_file(path, size);
    if (!data)
        fprintf(stderr, "cannot read %s\n", path);
    CHECK(data != NULL);
    return data;
}

static void check_model(const char *name, int n_cases)
{
    size_t model_size = 0, in_size = 0, want_size = 0;
    void *file = read_golden(name, ".emx", &model_size);
    float *inputs = read_golden(name, ".input.f32", &in_size);
    float *want = read_golden(name, ".expected.f32", &want_size);
    for (int ref = 0; ref < 2 && file && inputs && want; ref++) {
        emx_model_params params = emx_model_default_params();
        params.use_reference = ref;
        emx_model *m = NULL;
        emx_status st = emx_model_load(file, model_size, &params, &m);
        if (st != EMX_OK)
            fprintf(stderr, "%s: %s\n", name, emx_status_str(st));
        CHECK(st == EMX_OK);
        if (!m)
            break;
        emx_input_spec spec = emx_model_input_spec(m);
        size_t n_in = (size_t)spec.height * spec.width * spec.channels;
        int n_cls = emx_model_num_classes(m);
        CHECK(in_size == (size_t)n_cases * n_in * sizeof(float));
        CHECK(want_size == (size_t)n_cases * n_cls * sizeof(float));
        if (in_size != (size_t)n_cases * n_in * sizeof(float) ||
            want_size != (size_t)n_cases * n_cls * sizeof(float)) {
            fprintf(stderr, "%s: file sizes do not match %d cases of %zu inputs, %d classes\n",
                    name, n_cases, n_in, n_cls);
            emx_model_free(m);
            break;
        }
        float worst = 0, probs[EMX_MAX_CLASSES];
        int bad_cases = 0;
        for (int k = 0; k < n_cases; k++) {
            CHECK(emx_run(m, inputs + (size_t)k * n_in, probs) == EMX_OK);
            float diff = 0;
            for (int j = 0; j < n_cls; j++) {
                float d = fabsf(probs[j] - want[(size_t)k * n_cls + j]);
                diff = isnan(d) ? INFINITY : fmaxf(diff, d);
            }
            worst = fmaxf(worst, diff);
            bad_cases += !(diff <= TOLERANCE);
        }
        CHECK(bad_cases == 0);
        printf("%s (%s): %d cases, max |diff| %.3g, %d over %g\n", name,
               ref ? "reference" : "fast", n_cases, (double)worst, bad_cases,
               (double)TOLERANCE);
        emx_model_free(m);
    }
    free(file);
    free(inputs);
    free(want);
}

int main(void)
{
    if (getenv("EMX_GOLDEN_DIR"))
        dir = getenv("EMX_GOLDEN_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s is missing: the exporter (training/make_golden.py) has not written "
                        "the golden files yet. Failing so it is noticed.\n", path);
        CHECK(f != NULL);
        return emx_test_summary();
    }
    char line[512];
    int n_models = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256];
        int n_cases;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || *s == '\0')
            continue;
        if (sscanf(s, "%255s %d", name, &n_cases) != 2 || n_cases < 1) {
            fprintf(stderr, "manifest: bad line: %s", line);
            CHECK(0);
            continue;
        }
        check_model(name, n_cases);
        n_models++;
    }
    fclose(f);
    if (n_models == 0)
        fprintf(stderr, "%s lists no models\n", path);
    CHECK(n_models > 0);
    return emx_test_summary();
}
