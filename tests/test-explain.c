/* test-explain.c - emx_explain (class activation maps) against PyTorch.
 *
 * tests/golden/NAME.cam.f32 (training/make_golden_cam.py) holds, for each golden input, the
 * raw map of every class computed in PyTorch from the features entering the last global
 * average pooling and the last Linear's weights, resized to the input (bilinear,
 * align_corners=False), mirrored back for flipped views and weighted like the ensemble's
 * predictions. The runtime must match within 1e-4 with the fast kernels and the reference
 * ops, for every class and for label -1 (the top class of the run). Also: the errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoxnet.h"
#include "testutil.h"

#define TOLERANCE 1e-4f

static void check_net(const char *name, const char *model_path)
{
    char path[512];
    size_t model_size = 0, in_size = 0, cam_size = 0;
    if (!model_path) {
        snprintf(path, sizeof path, "tests/golden/%s.emx", name);
        model_path = path;
    }
    void *file = emx_test_read_file(model_path, &model_size);
    char p2[512], p3[512];
    snprintf(p2, sizeof p2, "tests/golden/%s.input.f32", name);
    snprintf(p3, sizeof p3, "tests/golden/%s.cam.f32", name);
    float *inputs = emx_test_read_file(p2, &in_size);
    float *cams = emx_test_read_file(p3, &cam_size);
    CHECK(file && inputs && cams);
    if (!file || !inputs || !cams) {
        fprintf(stderr, "%s: cannot read its files\n", name);
        goto done;
    }
    for (int ref = 0; ref < 2; ref++) {
        emx_model_params params = emx_model_default_params();
        params.use_reference = ref;
        emx_model *m = NULL;
        CHECK(emx_model_load(file, model_size, &params, &m) == EMX_OK);
        if (!m)
            break;
        emx_input_spec spec = emx_model_input_spec(m);
        int n_cls = emx_model_num_classes(m), hw = spec.width * spec.height;
        size_t n_in = (size_t)hw * spec.channels;
        int n_cases = (int)(in_size / (n_in * sizeof(float)));
        CHECK(cam_size == (size_t)n_cases * n_cls * hw * sizeof(float));
        float *map = malloc((size_t)hw * sizeof(float)), probs[EMX_MAX_CLASSES];
        CHECK(emx_explain(m, -1, map, spec.width, spec.height) == EMX_ERR_UNSUPPORTED);
        float worst = 0.0f;
        for (int t = 0; t < n_cases && cam_size == (size_t)n_cases * n_cls * hw * sizeof(float);
             t++) {
            CHECK(emx_run(m, inputs + t * n_in, probs) == EMX_OK);
            int top = 0;
            for (int c = 1; c < n_cls; c++)
                if (probs[c] > probs[top])
                    top = c;
            for (int c = -1; c < n_cls; c++) {
                CHECK(emx_explain(m, c, map, spec.width, spec.height) == EMX_OK);
                const float *want = cams + ((size_t)t * n_cls + (c < 0 ? top : c)) * hw;
                float scale = 0.0f, d = emx_test_max_abs_diff(map, want, (size_t)hw, &scale);
                if (d > worst)
                    worst = d;
            }
        }
        printf("%-14s %s: max |CAM - PyTorch| = %.2g\n", name, ref ? "reference" : "fast     ",
               worst);
        CHECK(worst <= TOLERANCE);
        /* Other sizes and the errors. */
        float *big = malloc(97 * 61 * sizeof(float));
        CHECK(emx_explain(m, 0, big, 61, 97) == EMX_OK);
        free(big);
        CHECK(emx_explain(m, n_cls, map, spec.width, spec.height) == EMX_ERR_INVALID_ARG);
        CHECK(emx_explain(m, -2, map, spec.width, spec.height) == EMX_ERR_INVALID_ARG);
        CHECK(emx_explain(m, 0, map, 0, spec.height) == EMX_ERR_INVALID_ARG);
        CHECK(emx_explain(m, 0, NULL, spec.width, spec.height) == EMX_ERR_INVALID_ARG);
        CHECK(emx_explain(NULL, 0, map, spec.width, spec.height) == EMX_ERR_INVALID_ARG);
        free(map);
        emx_model_free(m);
    }
done:
    free(file);
    free(inputs);
    free(cams);
}

/* Heads that are not GAP + one Linear have no class activation map. */
static void check_unsupported(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "tests/golden/%s.emx", name);
    emx_model *m = NULL;
    CHECK(emx_model_load_file(path, NULL, &m) == EMX_OK);
    if (!m)
        return;
    float in[48 * 48] = {0}, probs[EMX_MAX_CLASSES], map[48 * 48];
    CHECK(emx_run(m, in, probs) == EMX_OK);
    CHECK(emx_explain(m, -1, map, 48, 48) == EMX_ERR_UNSUPPORTED);
    emx_model_free(m);
}

int main(void)
{
    const char *nets[] = {"resnet_rgb", "dwsep", "grouped", "se", "inception", "ensemble"};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        check_net(nets[i], NULL);
    check_net("emoxnet-lite", "models/emoxnet-lite.emx");
    check_unsupported("vgg");
    check_unsupported("avgpool_flatten");
    CHECK(strcmp(emx_status_str(EMX_ERR_UNSUPPORTED), "unknown status") != 0);

    /* A detector has nothing to explain. */
    emx_model *det = NULL;
    float map[16];
    if (emx_model_load_file("models/blazeface.emx", NULL, &det) == EMX_OK) {
        CHECK(emx_explain(det, -1, map, 4, 4) == EMX_ERR_UNSUPPORTED);
        emx_model_free(det);
    }
    return emx_test_summary();
}
