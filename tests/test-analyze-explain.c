/* test-analyze-explain.c - emx_analyze_explain: each face's class activation map comes from
 * that face's own run on its own eye-levelled crop, and faces[i].crop is that crop.
 *
 * A frame of two real FER+ faces (../shared/data/ferplus; skipped, saying so, without it), one
 * upright and one turned 20 degrees. For each face found, the crop is rebuilt from
 * faces[i].crop alone, classified and explained with emx_explain: the map emx_analyze_explain
 * returned must be that map exactly; for the turned face it must also differ from the map of
 * the unrotated square around the same centre (issue 19: the demo's heat map came from an
 * unrotated crop while the label came from the aligned one). Also: the scores and crops are
 * emx_analyze's, bit for bit, and the errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "testutil.h"

#define W    640
#define H    480
#define MAPW 48
#define MAPH 48

#define N_FACES 40
static uint8_t faces48[N_FACES][48 * 48];
static int n_faces48;
static uint8_t frame[W * H * 3];

/* The crop c, classified as emx_analyze does it (emx_crop): a level crop as a box, a turned
 * one sampled straight into the classifier's input (emx__warp_input, src/align.c), then run. */
static emx_status classify_crop(emx_model *cls, const emx_image *img, emx_crop c, float *probs)
{
    if (c.angle == 0.0f) {
        const emx_box b = { c.cx - 0.5f * c.side, c.cy - 0.5f * c.side, c.side, c.side };
        return emx_classify(cls, img, &b, probs);
    }
    const emx_input_spec spec = emx_model_input_spec(cls);
    static float input[EMX_MAX_INPUT_SIDE * EMX_MAX_INPUT_SIDE * 3 / 64];
    if ((size_t)spec.width * spec.height * spec.channels > sizeof input / sizeof input[0])
        return EMX_ERR_INVALID_ARG;
    emx__warp_input(img, (size_t)img->width * 3, c.cx, c.cy, c.side, c.angle, &spec, input);
    return emx_run(cls, input, probs);
}

static float max_abs(const float *a, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i]));
    return m;
}

/* The eye-line angle (degrees) of face k pasted upright alone at (x, 120), or NAN when not
 * found once. */
static float upright_angle(emx_model *det, int k, int x)
{
    memset(frame, 120, sizeof frame);
    emx_test_paste_face(frame, W, H, faces48[k], x, 120, 220, 0, 0);
    const emx_image img = { frame, W, H, 3, 0 };
    emx_face f[2];
    int n = 0;
    if (emx_detect(det, &img, NULL, f, 2, &n) != EMX_OK || n != 1)
        return NAN;
    return f[0].crop.angle * 180.0f / 3.14159265f;
}

/* emx_set_label_weights: face labels, their maps and emx_explain(-1) follow the weighted
 * argmax; the probabilities do not change; clearing restores the plain labels. plain: the
 * faces analysed without weights. */
static void check_label_weights(emx_model *det, emx_model *cls, const emx_image *img,
                                const emx_face *plain, int n)
{
    const int nc = emx_model_num_classes(cls);
    /* weights that make face 0's least probable class its label, and change nothing else's
     * order by construction of the test's own argmax below */
    const float *p0 = plain[0].probs;
    int low = 0;
    for (int c = 1; c < nc; c++)
        if (p0[c] < p0[low])
            low = c;
    float w[EMX_MAX_CLASSES];
    for (int c = 0; c < nc; c++)
        w[c] = 1.0f;
    w[low] = 4.0f * p0[plain[0].label] / p0[low];
    CHECK(emx_set_label_weights(cls, w, nc) == EMX_OK);
    emx_face faces[4];
    static float maps[4 * MAPW * MAPH];
    int m = -1;
    CHECK(emx_analyze_explain(det, cls, img, NULL, faces, 4, &m, maps, MAPW, MAPH) == EMX_OK);
    CHECK(m == n);
    CHECK(faces[0].label == low && low != plain[0].label);
    for (int i = 0; i < m && i < n; i++) {
        int want = 0;
        for (int c = 1; c < nc; c++)
            if (plain[i].probs[c] * w[c] > plain[i].probs[want] * w[want])
                want = c;
        CHECK(faces[i].label == want);
        CHECK(!memcmp(faces[i].probs, plain[i].probs, sizeof faces[i].probs));
        /* the map is the weighted label's, from the face's own run */
        float probs[EMX_MAX_CLASSES], want_map[MAPW * MAPH], top[MAPW * MAPH], s = 0;
        CHECK(classify_crop(cls, img, faces[i].crop, probs) == EMX_OK);
        CHECK(emx_explain(cls, want, want_map, MAPW, MAPH) == EMX_OK);
        CHECK(emx_test_max_abs_diff(maps + (size_t)i * MAPW * MAPH, want_map, MAPW * MAPH, &s) ==
              0.0f);
        /* emx_explain's -1 is the weighted label too */
        CHECK(emx_explain(cls, -1, top, MAPW, MAPH) == EMX_OK);
        CHECK(emx_test_max_abs_diff(top, want_map, MAPW * MAPH, &s) == 0.0f);
    }
    /* refused: wrong count, bad weights, a detector; the weights set stay */
    float bad[EMX_MAX_CLASSES];
    memcpy(bad, w, sizeof bad);
    CHECK(emx_set_label_weights(cls, w, nc - 1) == EMX_ERR_INVALID_ARG);
    CHECK(emx_set_label_weights(cls, NULL, nc) == EMX_ERR_INVALID_ARG);
    CHECK(emx_set_label_weights(NULL, w, nc) == EMX_ERR_INVALID_ARG);
    CHECK(emx_set_label_weights(det, w, nc) == EMX_ERR_INVALID_ARG);
    const float odd[] = { 0.0f, -1.0f, NAN, INFINITY };
    for (int k = 0; k < 4; k++) {
        bad[1] = odd[k];
        CHECK(emx_set_label_weights(cls, bad, nc) == EMX_ERR_INVALID_ARG);
    }
    CHECK(emx_analyze(det, cls, img, NULL, faces, 4, &m) == EMX_OK && m == n &&
          faces[0].label == low);
    /* cleared: the plain labels again */
    CHECK(emx_set_label_weights(cls, NULL, 0) == EMX_OK);
    CHECK(emx_analyze(det, cls, img, NULL, faces, 4, &m) == EMX_OK && m == n);
    for (int i = 0; i < m && i < n; i++)
        CHECK(faces[i].label == plain[i].label);
}

static void check_maps(emx_model *det, emx_model *cls)
{
    /* A face whose crop is level as it is (the box path) and one turned 20 degrees beside it
     * (the rotated path): real faces' eye lines are rarely level, so they are picked. */
    int lv = -1, tn = -1;
    float tn_angle = 0;
    for (int k = 0; k < n_faces48 && (lv < 0 || tn < 0); k++) {
        const float a = upright_angle(det, k, 40), b = upright_angle(det, k, 360);
        if (lv < 0 && a == 0.0f)
            lv = k;
        else if (tn < 0 && fabsf(b) < 8.0f)
            tn = k, tn_angle = b;
    }
    CHECK(lv >= 0 && tn >= 0);
    if (lv < 0 || tn < 0)
        return;
    memset(frame, 120, sizeof frame);
    emx_test_paste_face(frame, W, H, faces48[lv], 40, 120, 220, 0, 0);
    emx_test_paste_face(frame, W, H, faces48[tn], 360, 120, 220, 20, 0);
    const emx_image img = { frame, W, H, 3, 0 };
    emx_face faces[4], plain[4];
    static float maps[4 * MAPW * MAPH];
    int n = -1, n_plain = -1;
    /* arrays that held something else: every byte of a face returned is written, the unused
     * fields 0 (they were left as found: clang -O0 told the two calls' faces apart by them) */
    memset(faces, 0xff, sizeof faces), memset(plain, 0xab, sizeof plain);
    CHECK(emx_analyze_explain(det, cls, &img, NULL, faces, 4, &n, maps, MAPW, MAPH) == EMX_OK);
    CHECK(n == 2);
    if (n < 1)
        return;
    const int n_classes = emx_model_num_classes(cls);
    for (int i = 0; i < n && i < 4; i++) {
        int unset = 0;
        for (int k = n_classes; k < EMX_MAX_CLASSES; k++)
            unset += faces[i].probs[k] != 0.0f;
        for (int j = faces[i].n_landmarks; j < EMX_MAX_LANDMARKS; j++)
            unset += faces[i].landmarks[j][0] != 0.0f || faces[i].landmarks[j][1] != 0.0f;
        CHECK(unset == 0);
    }
    /* Afterwards emx_explain explains the last labelled face, as after emx_analyze. */
    float last[MAPW * MAPH], s = 0;
    CHECK(emx_explain(cls, faces[n - 1].label, last, MAPW, MAPH) == EMX_OK);
    CHECK(emx_test_max_abs_diff(last, maps + (size_t)(n - 1) * MAPW * MAPH, MAPW * MAPH, &s) ==
          0.0f);
    CHECK(emx_analyze(det, cls, &img, NULL, plain, 4, &n_plain) == EMX_OK && n_plain == n);
    int turned = 0, level = 0;
    for (int i = 0; i < n && i < 4; i++) {
        const emx_face *f = &faces[i];
        const emx_crop c = f->crop, want_c = emx__face_crop(f);
        const float deg = c.angle * 180.0f / 3.14159265f;
        printf("face %d: label %d, crop centre (%.1f, %.1f), side %.1f, angle %.1f deg\n", i,
               f->label, (double)c.cx, (double)c.cy, (double)c.side, (double)deg);
        CHECK(!memcmp(&c, &want_c, sizeof c));
        CHECK(!memcmp(&c, &plain[i].crop, sizeof c) && f->label == plain[i].label &&
              !memcmp(f->probs, plain[i].probs, sizeof f->probs));
        CHECK(f->label >= 0);
        float probs[EMX_MAX_CLASSES], want[MAPW * MAPH], flat[MAPW * MAPH];
        CHECK(classify_crop(cls, &img, c, probs) == EMX_OK);
        CHECK(!memcmp(probs, f->probs, sizeof(float) * (size_t)emx_model_num_classes(cls)));
        CHECK(emx_explain(cls, f->label, want, MAPW, MAPH) == EMX_OK);
        const float *got = maps + (size_t)i * MAPW * MAPH;
        float scale = 0, d = emx_test_max_abs_diff(got, want, MAPW * MAPH, &scale);
        printf("  map vs emx_explain on its crop: max |diff| %.3g (map max %.3g)\n", (double)d,
               (double)scale);
        CHECK(d == 0.0f && scale > 0.0f);
        if (c.cx < W / 2) { /* the level face */
            level++;
            CHECK(c.angle == 0.0f);
            continue;
        }
        turned++;
        /* the crop turns with the face */
        CHECK(fabsf(deg - tn_angle - 20.0f) < 6.0f);
        /* The same square, not turned: another crop, so another map. */
        const emx_crop upright = { c.cx, c.cy, c.side, 0.0f };
        CHECK(classify_crop(cls, &img, upright, probs) == EMX_OK);
        CHECK(emx_explain(cls, f->label, flat, MAPW, MAPH) == EMX_OK);
        d = emx_test_max_abs_diff(got, flat, MAPW * MAPH, &scale);
        printf("  map vs the unrotated crop's: max |diff| %.3g\n", (double)d);
        CHECK(d > 0.1f * max_abs(got, MAPW * MAPH));
    }
    CHECK(turned == 1 && level == 1);
    check_label_weights(det, cls, &img, faces, n);
}

static void check_errors(emx_model *det, emx_model *cls)
{
    static uint8_t blank[64 * 64 * 3];
    const emx_image img = { blank, 64, 64, 3, 0 };
    emx_face faces[2];
    float maps[2 * 4];
    int n = -1;
    CHECK(emx_analyze_explain(det, cls, &img, NULL, faces, 2, &n, NULL, 2, 2) ==
              EMX_ERR_INVALID_ARG &&
          n == 0);
    CHECK(emx_analyze_explain(det, cls, &img, NULL, faces, 2, &n, maps, 0, 2) ==
          EMX_ERR_INVALID_ARG);
    CHECK(emx_analyze_explain(det, cls, &img, NULL, faces, 2, &n, maps, 2, 4097) ==
          EMX_ERR_INVALID_ARG);
    CHECK(emx_analyze_explain(det, det, &img, NULL, faces, 2, &n, maps, 2, 2) ==
          EMX_ERR_INVALID_ARG);
    CHECK(emx_analyze_explain(det, NULL, &img, NULL, faces, 2, &n, maps, 2, 2) ==
          EMX_ERR_INVALID_ARG);
    CHECK(emx_analyze_explain(det, cls, NULL, NULL, faces, 2, &n, maps, 2, 2) ==
          EMX_ERR_INVALID_ARG);
    n = -1;
    CHECK(emx_analyze_explain(det, cls, &img, NULL, faces, 2, &n, maps, 2, 2) == EMX_OK && n == 0);
    CHECK(emx_analyze_explain(det, cls, &img, NULL, NULL, 0, &n, NULL, 2, 2) == EMX_OK && n == 0);
    /* Maps that a 32-bit size_t cannot address (wasm32, -m32) are refused, not wrapped. */
    emx_status st = emx_analyze_explain(det, cls, &img, NULL, faces, 1 << 20, &n, maps, 4096, 4096);
    CHECK(sizeof(size_t) == 4 ? st == EMX_ERR_INVALID_ARG : st == EMX_OK && n == 0);
    /* A classifier without a class activation map: refused before anything runs. */
    emx_model *vgg = NULL;
    CHECK(emx_model_load_file("tests/golden/vgg.emx", NULL, &vgg) == EMX_OK);
    if (vgg) {
        n = -1;
        CHECK(emx_analyze_explain(det, vgg, &img, NULL, faces, 2, &n, maps, 2, 2) ==
                  EMX_ERR_UNSUPPORTED &&
              n == 0);
        emx_model_free(vgg);
    }
}

int main(void)
{
    emx_model *det = NULL, *cls = NULL;
    CHECK(emx_model_load_file("models/blazeface.emx", NULL, &det) == EMX_OK);
    CHECK(emx_model_load_file("models/emoxnet-lite.emx", NULL, &cls) == EMX_OK);
    if (det && cls) {
        check_errors(det, cls);
        n_faces48 = emx_test_ferplus_faces(NULL, faces48, N_FACES);
        if (n_faces48 >= 2)
            check_maps(det, cls);
        else
            printf("SKIP maps of found faces: no FER+ Valid faces (set EMX_FERPLUS_DIR)\n");
    }
    emx_model_free(det);
    emx_model_free(cls);
    return emx_test_summary();
}
