/* image_decode.c - PNG and JPEG bytes to 8-bit pixels, with stb_image. Memory only (no stdio),
 * so the same code runs in a WebAssembly module without a filesystem. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "emoxnet.h"

#define MAX_SIDE 16384

#if defined(__GNUC__)
/* stb declares functions it leaves undefined under STBI_NO_*; GCC reports them at the end of
 * the file, past any pop, so this one stays off for the whole (small) file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#endif
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS MAX_SIDE
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* stb_image reads missing bytes as zeros, so a cut-off PNG can come back as a partly made-up
 * image. Walking the chunk lengths up to IEND catches every truncation before decoding.
 * Returns 1 for bytes that are not PNG: stb decides about those. */
static int png_complete(const uint8_t *p, size_t n)
{
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (n < 8 || memcmp(p, sig, 8) != 0)
        return 1;
    size_t pos = 8;
    for (;;) {
        if (n - pos < 12)
            return 0;
        uint32_t len = be32(p + pos);
        if (len > n - pos - 12)
            return 0;
        if (memcmp(p + pos + 4, "IEND", 4) == 0)
            return 1;
        pos += 12 + (size_t)len;
    }
}

/* stb_image 2.27 (Debian's libstb-dev, 0.0~git20220908) trusts the 16 code counts of a JPEG
 * Huffman table (DHT): when they add up to more than 256 it writes past the table's
 * size[257] and values[256] arrays (found by tests/fuzz/fuzz-decode.c; stb 2.28 refuses such
 * tables). stb is used as the system ships it, so this walks the JPEG's segments as stb does
 * (fill bytes, stuffed 0xFF 0x00 and restart markers in entropy-coded data, every segment
 * skipped by its length) and refuses any DHT table stb would overflow on. Bytes past the end
 * read as zero, as in stb. Returns 1 for bytes that are not JPEG, or whose tables are fine. */
static int jpeg_tables_ok(const uint8_t *p, size_t n)
{
    /* stb takes fill bytes before SOI too: 0xFF 0xFF ... 0xD8. */
    size_t pos = 1;
    if (n < 2 || p[0] != 0xff)
        return 1;
    while (pos < n && p[pos] == 0xff)
        pos++;
    if (pos >= n || p[pos++] != 0xd8)
        return 1;
    while (pos < n) {
        if (p[pos++] != 0xff)
            continue; /* entropy-coded data or junk, which stb skips too */
        while (pos < n && p[pos] == 0xff)
            pos++;
        if (pos >= n)
            break;
        const uint8_t m = p[pos++];
        if (m == 0x00 || m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7))
            continue; /* stuffed byte, TEM, SOI, RSTn: no length */
        if (m == 0xd9 || n - pos < 2)
            break; /* EOI, or a cut-off length that stb refuses */
        const size_t len = (size_t)p[pos] << 8 | p[pos + 1];
        if (m == 0xc4) {
            /* Mirrors stb's DHT loop: while L > 0, a table of 1 + 16 + sum(counts) bytes. */
            long left = (long)len - 2;
            size_t q = pos + 2;
            while (left > 0) {
                unsigned sum = 0;
                q++; /* class and id, which stb checks itself */
                for (int i = 0; i < 16; i++, q++)
                    sum += q < n ? p[q] : 0;
                if (sum > 256)
                    return 0;
                q += sum;
                left -= 17 + (long)sum;
            }
        }
        if (len < 2 || len > n - pos)
            break; /* stb fails on these before reading further segments */
        pos += len;
    }
    return 1;
}

emx_status emx_image_decode(const void *bytes, size_t size, uint8_t **pixels, int *width,
                            int *height, int *channels)
{
    if (pixels)
        *pixels = NULL;
    if (!bytes || !pixels || !width || !height || !channels)
        return EMX_ERR_INVALID_ARG;
    const uint8_t *p = bytes;
    int w = 0, h = 0, n = 0; /* set by stbi_info; zero keeps GCC -O1 from warning */
    if (size == 0 || size > INT_MAX || !png_complete(p, size) || !jpeg_tables_ok(p, size) ||
        !stbi_info_from_memory(p, (int)size, &w, &h, &n) || w < 1 || h < 1 || w > MAX_SIDE ||
        h > MAX_SIDE)
        return EMX_ERR_DECODE;
    /* emx_image has no gray + alpha layout; alpha is ignored downstream anyway. */
    int want = n == 2 ? 1 : 0;
    uint8_t *px = stbi_load_from_memory(p, (int)size, &w, &h, &n, want);
    if (!px)
        return EMX_ERR_DECODE;
    *pixels = px;
    *width = w;
    *height = h;
    *channels = want ? want : n;
    return EMX_OK;
}

void emx_image_free(uint8_t *pixels)
{
    stbi_image_free(pixels);
}
