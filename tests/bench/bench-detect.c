/* bench-detect.c - detect + classify (emx_analyze) on a 640x480 frame with one face, single
 * thread: median milliseconds over repeated runs after warm-up. Built natively (build dirs) and,
 * for the number that matters, as WebAssembly SIMD128 (the wasm build: bench-detect.cjs, run with
 * `node --no-experimental-fetch build-wasm/bench-detect.cjs`).
 *
 *   bench-detect [CLASSIFIER.emx [FACE.png [RUNS]]]
 *
 * The face (a 48x48 FER+ face by default) is upscaled to 200 px and pasted on a grey frame.
 * Without a trained expression model in models/, tests/golden/vgg.emx (48x48 grey, 8
 * classes, a small VGG-style net) stands in for the classifier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoxnet.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *cls_path = argc > 1 ? argv[1] : "tests/golden/vgg.emx";
    const char *face_path =
        argc > 2 ? argv[2] : "../shared/data/ferplus/FER2013Valid/fer0028642.png";
    const int runs = argc > 3 ? atoi(argv[3]) : 50;
    emx_model *det = NULL, *cls = NULL;
    emx_status st = emx_model_load_file("models/blazeface.emx", NULL, &det);
    if (st == EMX_OK)
        st = emx_model_load_file(cls_path, NULL, &cls);
    if (st != EMX_OK) {
        fprintf(stderr, "bench-detect: %s\n", emx_status_str(st));
        return 1;
    }
    const int W = 640, H = 480, S = 200, X = 220, Y = 130;
    uint8_t *frame = malloc((size_t)W * H * 3);
    memset(frame, 118, (size_t)W * H * 3);
    size_t size = 0;
    void *bytes = read_all(face_path, &size);
    uint8_t *px = NULL;
    int fw = 0, fh = 0, fc = 0;
    if (bytes && emx_image_decode(bytes, size, &px, &fw, &fh, &fc) == EMX_OK) {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                const uint8_t *p = px + ((size_t)(y * fh / S) * fw + x * fw / S) * fc;
                uint8_t *o = frame + ((size_t)(y + Y) * W + x + X) * 3;
                o[0] = p[0], o[1] = p[fc >= 3 ? 1 : 0], o[2] = p[fc >= 3 ? 2 : 0];
            }
    } else {
        fprintf(stderr, "bench-detect: no face image at %s; timing an empty frame\n", face_path);
    }
    emx_image img = { frame, W, H, 3, 0 };
    emx_face faces[8];
    int n = 0;
    for (int i = 0; i < 5; i++)
        emx_analyze(det, cls, &img, NULL, faces, 8, &n);
    double *t = malloc(sizeof(double) * (size_t)runs), *td = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        emx_detect(det, &img, NULL, faces, 8, &n);
        double t1 = now_ms();
        emx_analyze(det, cls, &img, NULL, faces, 8, &n);
        double t2 = now_ms();
        td[i] = t1 - t0;
        t[i] = t2 - t1;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    qsort(td, (size_t)runs, sizeof *td, cmp);
    printf("640x480 frame, %d face(s) found", n);
    if (n > 0)
        printf(" (box %.0f,%.0f %.0fx%.0f, score %.2f)", faces[0].box.x, faces[0].box.y,
               faces[0].box.width, faces[0].box.height, faces[0].score);
    printf("\ndetect only:        median %.2f ms (min %.2f) over %d runs\n", td[runs / 2], td[0],
           runs);
    printf("detect + classify:  median %.2f ms (min %.2f) over %d runs, classifier %s\n",
           t[runs / 2], t[0], runs, cls_path);
    emx_image_free(px);
    free(bytes);
    free(frame);
    free(t);
    free(td);
    emx_model_free(det);
    emx_model_free(cls);
    return 0;
}
