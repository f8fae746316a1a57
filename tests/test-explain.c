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
#include "emx_builder.h"
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
    float in[48 * 48] = { 0 }, probs[EMX_MAX_CLASSES], map[48 * 48];
    CHECK(emx_run(m, in, probs) == EMX_OK);
    CHECK(emx_explain(m, -1, map, 48, 48) == EMX_ERR_UNSUPPORTED);
    emx_model_free(m);
}

/* The map's orientation: a 6-high, 4-wide feature grid explained at its own size must give
 * map[y * 4 + x] = sum_k W[label][k] F(y, x, k) exactly, and at 8 x 3 the bilinear resize of
 * that. A map written transposed (map_w and map_h swapped) passed the square golden maps. */
static void check_orientation(void)
{
    eb_model mb;
    eb_init(&mb, 6, 4, 1, 0.0f, 1.0f);
    eb_class(&mb, "a");
    eb_class(&mb, "b");
    const int tc =
        eb_tensor(&mb, EB_F32, 4, (const uint32_t[]){ 2, 1, 1, 1 }, (const float[]){ 1.0f, -0.5f });
    const int tcb =
        eb_tensor(&mb, EB_F32, 1, (const uint32_t[]){ 2 }, (const float[]){ 0.25f, 2.0f });
    const int c = eb_op(&mb, EMX_OP_CONV2D, 1, (const uint32_t[]){ 0 }, 13,
                        (const int32_t[]){ 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 2, EMX_ACT_RELU }, 2,
                        (const uint32_t[]){ (uint32_t)tc, (uint32_t)tcb });
    const int tw = eb_tensor(&mb, EB_F32, 2, (const uint32_t[]){ 2, 2 },
                             (const float[]){ 0.75f, -1.5f, 2.0f, 0.5f });
    const int g =
        eb_op(&mb, EMX_OP_GLOBAL_AVGPOOL, 1, (const uint32_t[]){ (uint32_t)c }, 0, NULL, 0, NULL);
    const int d =
        eb_op(&mb, EMX_OP_DENSE, 1, (const uint32_t[]){ (uint32_t)g }, 2, (const int32_t[]){ 2, 0 },
              2, (const uint32_t[]){ (uint32_t)tw, (uint32_t)tcb });
    eb_output(&mb, (uint32_t)eb_op(&mb, EMX_OP_SOFTMAX, 1, (const uint32_t[]){ (uint32_t)d }, 0,
                                   NULL, 0, NULL));
    size_t size;
    uint8_t *file = eb_finish(&mb, "ICTGD", &size);
    eb_free(&mb);
    emx_model *m = NULL;
    CHECK(emx_model_load(file, size, NULL, &m) == EMX_OK);
    free(file);
    if (!m)
        return;
    float in[24], probs[2];
    for (int i = 0; i < 24; i++)
        in[i] = (float)((i * 7) % 11) - 3.0f; /* no symmetry to hide a transpose */
    CHECK(emx_run(m, in, probs) == EMX_OK);
    int fh = 0, fw = 0, fc = 0;
    const float *feat = emx__value(m, c, &fh, &fw, &fc);
    CHECK(feat && fh == 6 && fw == 4 && fc == 2);
    const float wl[2][2] = { { 0.75f, -1.5f }, { 2.0f, 0.5f } };
    for (int label = 0; label < 2 && feat; label++) {
        float want[24], map[24], wide[24], want_wide[24];
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 4; x++) {
                const float *px = feat + (y * 4 + x) * 2;
                want[y * 4 + x] = wl[label][0] * px[0] + wl[label][1] * px[1];
            }
        CHECK(emx_explain(m, label, map, 4, 6) == EMX_OK);
        float dmax = 0;
        for (int i = 0; i < 24; i++)
            dmax = fmaxf(dmax, fabsf(map[i] - want[i]));
        CHECK(dmax < 1e-5f);
        CHECK(emx_explain(m, label, wide, 8, 3) == EMX_OK);
        emx__resize_bilinear(6, 4, 1, 3, 8, want, want_wide);
        dmax = 0;
        for (int i = 0; i < 24; i++)
            dmax = fmaxf(dmax, fabsf(wide[i] - want_wide[i]));
        CHECK(dmax < 1e-5f);
    }
    emx_model_free(m);
}

int main(void)
{
    check_orientation();
    const char *nets[] = { "resnet_rgb", "dwsep", "grouped", "se", "inception", "ensemble" };
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
