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

/* model_path: a shipped model (relative to the repository root) instead of NAME.emx. */
static void check_model(const char *name, int n_cases, const char *model_path)
{
    size_t model_size = 0, in_size = 0, want_size = 0;
    void *file = model_path ? emx_test_read_file(model_path, &model_size)
                            : read_golden(name, ".emx", &model_size);
    if (model_path && !file)
        fprintf(stderr, "cannot read %s\n", model_path);
    CHECK(file != NULL);
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
        printf("%s (%s): %d cases, max |diff| %.3g, %d over %g\n", name, ref ? "reference" : "fast",
               n_cases, (double)worst, bad_cases, (double)TOLERANCE);
        emx_model_free(m);
    }
    free(file);
    free(inputs);
    free(want);
}

/* Reads one manifest; returns the number of models checked, or -1 when it is missing.
 * Lines: "NAME N_CASES" (golden nets, NAME.emx beside the manifest) or
 * "NAME N_CASES MODEL_PATH" (shipped models: shipped.txt). */
static int run_manifest(const char *file_name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file_name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int n_models = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256], model_path[256];
        int n_cases;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || *s == '\0')
            continue;
        int fields = sscanf(s, "%255s %d %255s", name, &n_cases, model_path);
        if (fields < 2 || n_cases < 1) {
            fprintf(stderr, "%s: bad line: %s", file_name, line);
            CHECK(0);
            continue;
        }
        check_model(name, n_cases, fields == 3 ? model_path : NULL);
        n_models++;
    }
    fclose(f);
    return n_models;
}

int main(void)
{
    if (getenv("EMX_GOLDEN_DIR"))
        dir = getenv("EMX_GOLDEN_DIR");
    int n_models = run_manifest("manifest.txt");
    if (n_models < 0)
        fprintf(stderr,
                "%s/manifest.txt is missing: run training/make_golden.py. Failing so it "
                "is noticed.\n",
                dir);
    CHECK(n_models > 0);
    /* Shipped models: their golden outputs come from training/export_checkpoint.py --golden. */
    int n_shipped = run_manifest("shipped.txt");
    if (n_shipped < 0)
        fprintf(stderr, "%s/shipped.txt is missing\n", dir);
    CHECK(n_shipped > 0);
    return emx_test_summary();
}
