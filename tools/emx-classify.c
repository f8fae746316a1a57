/* emx-classify - the native twin of `emoxnet classify`: load an .emx model, decode a PNG or
 * JPEG with emx_image_decode, classify the whole image (or a box) and print the class scores.
 * Small on purpose: scripts/valgrind.sh runs it under memcheck to check the core's whole path
 * (file loading, decoding, preprocessing, planning, kernels, frees) for leaks and bad reads.
 *
 *   emx-classify MODEL.emx IMAGE [x y width height]
 */
#include <stdio.h>
#include <stdlib.h>

#include "emoxnet.h"

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    void *data = NULL;
    long len;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc(len ? (size_t)len : 1)) != NULL) {
        if (fread(data, 1, (size_t)len, f) == (size_t)len) {
            *size = (size_t)len;
        } else {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 7) {
        fprintf(stderr, "usage: %s MODEL.emx IMAGE [x y width height]\n", argv[0]);
        return 2;
    }
    emx_model *model = NULL;
    emx_status st = emx_model_load_file(argv[1], NULL, &model);
    if (st != EMX_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], emx_status_str(st));
        return 1;
    }
    size_t size = 0;
    void *bytes = read_file(argv[2], &size);
    if (!bytes) {
        fprintf(stderr, "%s: cannot read\n", argv[2]);
        emx_model_free(model);
        return 1;
    }
    uint8_t *px = NULL;
    int w = 0, h = 0, c = 0;
    st = emx_image_decode(bytes, size, &px, &w, &h, &c);
    free(bytes);
    if (st != EMX_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], emx_status_str(st));
        emx_model_free(model);
        return 1;
    }
    emx_image img = { px, w, h, c, 0 };
    emx_box box;
    if (argc == 7)
        box = (emx_box){ strtof(argv[3], NULL), strtof(argv[4], NULL), strtof(argv[5], NULL),
                         strtof(argv[6], NULL) };
    float probs[EMX_MAX_CLASSES];
    st = emx_classify(model, &img, argc == 7 ? &box : NULL, probs);
    emx_image_free(px);
    if (st != EMX_OK) {
        fprintf(stderr, "classify: %s\n", emx_status_str(st));
        emx_model_free(model);
        return 1;
    }
    int best = 0;
    for (int i = 0; i < emx_model_num_classes(model); i++)
        printf("%-12s %.6f\n", emx_model_class_name(model, i), probs[i]);
    emx_pick_label(model, probs, &best); /* the file's label thresholds apply, as in analyze */
    printf("label: %s (%dx%d, %d channels)\n", emx_model_class_name(model, best), w, h, c);
    emx_model_free(model);
    return 0;
}
