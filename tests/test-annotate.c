/* test-annotate.c - the WebAssembly shim for detection and annotation (wasm/emx_wasm_detect.c),
 * compiled natively: face records match emx_detect/emx_analyze, boxes and labels are drawn
 * inside the image whatever the boxes (off-image, NaN, huge), and PNG encoding round-trips
 * through emx_image_decode. */
#include "../wasm/emx_wasm_detect.c"

#include <stdio.h>

#include "testutil.h"

static void test_records(void)
{
    emx_model *det = NULL, *cls = NULL;
    CHECK(emx_model_load_file("models/blazeface.emx", NULL, &det) == EMX_OK);
    CHECK(emx_model_load_file("tests/golden/vgg.emx", NULL, &cls) == EMX_OK);
    if (!det || !cls)
        return;
    /* a bright square on grey is no face; the point is the plumbing, on any result */
    static uint8_t px[96 * 64 * 3];
    uint32_t s = 5;
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)emx_test_rand(&s);
    emx_image img = { px, 96, 64, 3, 0 };
    emx_face faces[4];
    int n = -1, m = -1;
    float rec[4 * (EMX_WASM_FACE_FLOATS + 8)];
    emx_detect_params p = emx_detect_default_params();
    p.score_threshold = 0.0f; /* every anchor passes: records to compare */
    CHECK(emx_detect(det, &img, &p, faces, 4, &n) == EMX_OK && n == 4);
    CHECK(emx_wasm_detect(det, px, 96, 64, 3, 0.0f, p.iou_threshold, 0, 4, 0, rec, &m) == EMX_OK);
    CHECK(m == n);
    for (int i = 0; i < m && i < n; i++)
        CHECK(rec[i * EMX_WASM_FACE_FLOATS] == faces[i].box.x &&
              rec[i * EMX_WASM_FACE_FLOATS + 4] == faces[i].score &&
              rec[i * EMX_WASM_FACE_FLOATS + 5] == 6 &&
              rec[i * EMX_WASM_FACE_FLOATS + 18] == faces[i].crop.cx &&
              rec[i * EMX_WASM_FACE_FLOATS + 21] == faces[i].crop.angle &&
              rec[i * EMX_WASM_FACE_FLOATS + 22] == -1);
    CHECK(emx_wasm_analyze(det, cls, px, 96, 64, 3, 0.0f, 0.3f, 0, 4, 0, rec, &m, NULL, 0, 0) ==
          EMX_OK);
    CHECK(m == 4);
    for (int i = 0; i < m; i++) {
        const float *r = rec + i * (EMX_WASM_FACE_FLOATS + 8);
        float sum = 0;
        for (int c = 0; c < 8; c++)
            sum += r[EMX_WASM_FACE_FLOATS + c];
        CHECK(r[22] >= 0 && r[22] < 8 && sum > 0.999f && sum < 1.001f);
    }
    CHECK(emx_wasm_analyze(det, NULL, px, 96, 64, 3, 0.5f, 0.3f, 0, 4, 0, rec, &m, NULL, 0, 0) ==
          EMX_ERR_INVALID_ARG);
    /* maps: emx_analyze_explain's (a classifier without them: UNSUPPORTED, as there) */
    float maps[4 * 6 * 5];
    CHECK(emx_wasm_analyze(det, cls, px, 96, 64, 3, 0.0f, 0.3f, 0, 4, 0, rec, &m, maps, 6, 5) ==
          EMX_ERR_UNSUPPORTED);
    emx_model *lite = NULL;
    CHECK(emx_model_load_file("models/emoxnet-lite.emx", NULL, &lite) == EMX_OK);
    if (lite) {
        float want[4 * 6 * 5];
        CHECK(emx_analyze_explain(det, lite, &img, &p, faces, 4, &n, want, 6, 5) == EMX_OK);
        CHECK(emx_wasm_analyze(det, lite, px, 96, 64, 3, 0.0f, p.iou_threshold, 0, 4, 0, rec, &m,
                               maps, 6, 5) == EMX_OK);
        CHECK(m == n && n == 4 && !memcmp(maps, want, sizeof maps));
        emx_model_free(lite);
    }
    CHECK(emx_wasm_detect(det, px, 96, 64, 3, 0.5f, 0.3f, 0, -1, 0, rec, &m) ==
          EMX_ERR_INVALID_ARG);
    CHECK(emx_wasm_detect(det, px, 96, 64, 3, 0.5f, 0.3f, 0, 4, 5, rec, &m) == EMX_ERR_INVALID_ARG);
    CHECK(emx_wasm_detect(det, px, 96, 64, 3, 0.5f, 0.3f, 0, 4, 2, rec, &m) == EMX_OK);
    CHECK(emx_wasm_detect(det, px, 0, 64, 3, 0.5f, 0.3f, 0, 4, 0, rec, &m) == EMX_ERR_IMAGE);
    CHECK(emx_wasm_face_floats() == 23);
    emx_model_free(det);
    emx_model_free(cls);
}

/* Every field of a record, at its offset, from a face whose fields all differ (only 4 of
 * the then 19 were checked, so swapping landmark x and y or two box fields went unnoticed). */
static void test_record_fields(void)
{
    emx_face f;
    memset(&f, 0, sizeof f);
    f.box = (emx_box){ 11.5f, 12.5f, 13.5f, 14.5f };
    f.score = 0.625f;
    f.n_landmarks = 6;
    for (int i = 0; i < 6; i++) {
        f.landmarks[i][0] = 100.0f + i;
        f.landmarks[i][1] = 200.0f + i;
    }
    f.crop = (emx_crop){ 31.5f, 32.5f, 33.5f, 0.25f };
    f.label = 3;
    for (int c = 0; c < 8; c++)
        f.probs[c] = 0.01f * (float)(c + 1);
    float out[EMX_WASM_FACE_FLOATS + 8];
    emx__wasm_record(&f, 8, out);
    CHECK(out[0] == 11.5f && out[1] == 12.5f && out[2] == 13.5f && out[3] == 14.5f);
    CHECK(out[4] == 0.625f && out[5] == 6.0f);
    int lm_ok = 1;
    for (int i = 0; i < 6; i++)
        lm_ok &= out[6 + 2 * i] == 100.0f + i && out[7 + 2 * i] == 200.0f + i;
    CHECK(lm_ok);
    CHECK(out[18] == 31.5f && out[19] == 32.5f && out[20] == 33.5f && out[21] == 0.25f);
    CHECK(out[22] == 3.0f);
    int probs_ok = 1;
    for (int c = 0; c < 8; c++)
        probs_ok &= out[EMX_WASM_FACE_FLOATS + c] == 0.01f * (float)(c + 1);
    CHECK(probs_ok);
    /* landmarks past n_landmarks are written as 0, not left over */
    f.n_landmarks = 2;
    for (int i = 0; i < EMX_WASM_FACE_FLOATS; i++)
        out[i] = -5;
    emx__wasm_record(&f, 0, out);
    CHECK(out[5] == 2.0f && out[9] == 201.0f && out[10] == 0.0f && out[17] == 0.0f);
}

static void test_draw_and_png(void)
{
    for (int ch = 1; ch <= 4; ch++) {
        if (ch == 2)
            continue;
        const int w = 160, h = 120;
        uint8_t *px = calloc((size_t)w * h * ch, 1);
        const float boxes[] = { 20, 40, 60,  50,  -30, -30, 1e9f,   50, NAN,   1,
                                2,  3,  150, 110, 40,  40,  -1e30f, 5,  1e30f, 1e30f };
        emx_wasm_draw_faces(px, w, h, ch, boxes, 5,
                            "happiness 91%\0x\0\0long label that runs off the image edge\0z");
        CHECK(px[((size_t)40 * w + 50) * ch] != 0); /* top edge of box 0 */
        CHECK(px[((size_t)60 * w + 50) * ch] == 0); /* inside box 0: untouched */
        int text = 0;                               /* label above box 0 */
        for (int y = 20; y < 40; y++)
            for (int x = 20; x < 80; x++)
                text += px[((size_t)y * w + x) * ch] == 255;
        CHECK(text > 20);
        int size = 0;
        uint8_t *png = emx_wasm_encode_png(px, w, h, ch, &size);
        CHECK(png && size > 8 && memcmp(png, "\x89PNG", 4) == 0);
        uint8_t *back = NULL;
        int bw, bh, bc;
        CHECK(png && emx_image_decode(png, (size_t)size, &back, &bw, &bh, &bc) == EMX_OK);
        CHECK(back && bw == w && bh == h && bc == (ch == 4 ? 4 : ch));
        if (back && bc == ch)
            CHECK(memcmp(back, px, (size_t)w * h * ch) == 0);
        emx_image_free(back);
        free(png);
        free(px);
    }
    int size = 7;
    uint8_t one = 0;
    CHECK(emx_wasm_encode_png(&one, 0, 1, 1, &size) == NULL && size == 0);
    CHECK(emx_wasm_encode_png(&one, 1, 1, 2, &size) == NULL);
    CHECK(emx_wasm_encode_png(NULL, 1, 1, 1, &size) == NULL);
    emx_wasm_draw_faces(NULL, 1, 1, 1, NULL, 1, NULL); /* ignored, no crash */
}

int main(void)
{
    test_records();
    test_record_fields();
    test_draw_and_png();
    return emx_test_summary();
}
