/* test-fuzz-regress.c - replays, without libFuzzer, every input the fuzz targets have kept:
 * the crashes found by fuzzing (tests/fuzz/regress/<target>-<name>, one file each, kept after
 * the fix) and the seed corpora (tests/fuzz/corpus-<target>/). The three targets are compiled
 * in here as plain functions; run under EMX_SANITIZE a regression is an ASan/UBSan report, in
 * any build a broken invariant is an abort(). */
#define _DEFAULT_SOURCE /* dirent's d_name with -std=c11 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define EMX_FUZZ_ENTRY emx_fuzz_load
#include "fuzz/fuzz-load.c"
#undef EMX_FUZZ_ENTRY
#define EMX_FUZZ_ENTRY emx_fuzz_decode
#include "fuzz/fuzz-decode.c"
#undef EMX_FUZZ_ENTRY
#define EMX_FUZZ_ENTRY emx_fuzz_classify
#include "fuzz/fuzz-classify.c"
#undef EMX_FUZZ_ENTRY

typedef int (*fuzz_fn)(const uint8_t *, size_t);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn on every file of dir whose name starts with prefix; returns how many. */
static int replay(const char *dir, const char *prefix, fuzz_fn fn)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[1024];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024)
        if (e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size = 0;
        uint8_t *bytes = emx_test_read_file(path, &size);
        CHECK(bytes != NULL);
        if (bytes) {
            printf("  %s (%zu bytes)\n", path, size);
            fflush(stdout);
            CHECK(fn(bytes, size) == 0);
            free(bytes);
        }
        free(names[i]);
    }
    return n;
}

int main(void)
{
    static const struct {
        const char *name;
        fuzz_fn fn;
    } targets[] = { { "load", emx_fuzz_load },
                    { "decode", emx_fuzz_decode },
                    { "classify", emx_fuzz_classify } };
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char dir[256], prefix[64];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus-%s", targets[t].name);
        snprintf(prefix, sizeof prefix, "%s-", targets[t].name);
        int seeds = replay(dir, "", targets[t].fn);
        int crashes = replay("tests/fuzz/regress", prefix, targets[t].fn);
        printf("%s: %d seeds, %d regression inputs\n", targets[t].name, seeds, crashes);
        CHECK(seeds > 0); /* the corpus must be there: run from the repository root */
    }
    /* Edge inputs every target must take: nothing at all, and one byte. */
    static const uint8_t one[1] = { 0 };
    CHECK(emx_fuzz_load(one, 0) == 0 && emx_fuzz_load(one, 1) == 0);
    CHECK(emx_fuzz_decode(one, 0) == 0 && emx_fuzz_decode(one, 1) == 0);
    CHECK(emx_fuzz_classify(one, 0) == 0 && emx_fuzz_classify(one, 1) == 0);
    return emx_test_summary();
}
