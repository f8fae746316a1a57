/* load_file.c - emx_model_load_file. Its own file so a WebAssembly module without a
 * filesystem, which never calls it, links no stdio file functions. */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static emx_status read_all(FILE *f, void **data, size_t *size)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return EMX_ERR_IO;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        return EMX_ERR_IO;
    /* Anything larger cannot be a valid model; don't allocate for it. */
    if ((unsigned long)len > EMX_MAX_FILE_SIZE)
        return EMX_ERR_FORMAT;
    *size = (size_t)len;
    *data = malloc(*size ? *size : 1);
    if (!*data)
        return EMX_ERR_NO_MEMORY;
    if (fread(*data, 1, *size, f) != *size) {
        free(*data);
        *data = NULL;
        return EMX_ERR_IO;
    }
    return EMX_OK;
}

emx_status emx_model_load_file(const char *path, const emx_model_params *params, emx_model **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return EMX_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f)
        return EMX_ERR_IO;
    void *data = NULL;
    size_t size = 0;
    emx_status st = read_all(f, &data, &size);
    fclose(f);
    if (st == EMX_OK)
        st = emx_model_load(data, size, params, out);
    free(data);
    return st;
}
