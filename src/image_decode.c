/* image_decode.c - PNG and JPEG bytes to 8-bit pixels, with stb_image. Memory only (no stdio),
 * so the same code runs in a WebAssembly module without a filesystem. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "emoxnet.h"

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
#define STBI_MAX_DIMENSIONS EMX_MAX_IMAGE_SIDE
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
    static const uint8_t sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
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

/* A PNG's IDAT data must be able to hold the image it announces: stb allocates the whole
 * inflated size (height x (1 + row bytes)) before inflating, so a 1 MB file claiming
 * 16384 x 16384 RGBA reserved 1 GiB and failed afterwards, and in WebAssembly the heap never
 * shrinks back. Deflate expands at most 1032:1 (258-byte matches in 2 bits); anything
 * claiming more than that of its IDAT bytes cannot decode and is refused here, before stb.
 * Returns 1 for bytes that are not PNG, or are plausible. */
static int png_plausible(const uint8_t *p, size_t n)
{
    static const uint8_t sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
    if (n < 33 || memcmp(p, sig, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0)
        return 1; /* not PNG, or stb refuses it */
    const uint64_t w = be32(p + 16), h = be32(p + 20), depth = p[24];
    static const unsigned samples_of[7] = { 1, 0, 3, 1, 2, 0, 4 }; /* by colour type */
    const unsigned samples = p[25] < 7 ? samples_of[p[25]] : 0;
    if (samples == 0 || depth == 0 || depth > 16)
        return 1;                                                 /* stb refuses it */
    const uint64_t raw = h * (1 + (w * samples * depth + 7) / 8); /* non-interlaced: least */
    uint64_t idat = 0;
    for (size_t pos = 8; n - pos >= 12;) {
        const uint32_t len = be32(p + pos);
        if (len > n - pos - 12)
            break;
        if (memcmp(p + pos + 4, "IDAT", 4) == 0)
            idat += len;
        pos += 12 + (size_t)len;
    }
    return raw <= 1032 * idat + 1024;
}

/* stb_image 2.27 (Debian's libstb-dev, 0.0~git20220908) trusts a JPEG's Huffman tables in two
 * ways that tests/fuzz/fuzz-decode.c turned into out-of-bounds accesses:
 *  - a table (DHT) whose 16 code counts add up to more than 256 makes it write past its
 *    size[257] and values[256] arrays (stb 2.28 refuses such tables);
 *  - a scan (SOS) that uses a table no DHT defined makes it decode with its never-initialised
 *    table memory (its decoder state is malloc'd), indexing values[] with garbage (stb 2.28
 *    bounds the index).
 * stb is used as the system ships it, so this walks the JPEG's segments as stb does (fill
 * bytes, stuffed 0xFF 0x00 and restart markers in entropy-coded data, every segment skipped by
 * its length, bytes past the end read as zero) and refuses such files before stb sees them.
 * A scan only needs the tables it decodes with: baseline, the DC and AC tables of its
 * components; progressive, the DC table in a first DC scan, the AC table in an AC scan.
 * Returns 1 for bytes that are not JPEG, or whose tables are fine. */
static uint8_t jpeg_byte(const uint8_t *p, size_t n, size_t i)
{
    return i < n ? p[i] : 0;
}

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
    unsigned defined = 0; /* bit 4 * class + id: DC tables 0..3, AC tables 4..7 */
    int progressive = 0;
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
        if (m == 0xc0 || m == 0xc1 || m == 0xc2) {
            progressive = m == 0xc2;
        } else if (m == 0xc4) {
            /* Mirrors stb's DHT loop: while L > 0, a table of 1 + 16 + sum(counts) bytes. */
            long left = (long)len - 2;
            size_t q = pos + 2;
            while (left > 0) {
                const uint8_t tc_th = jpeg_byte(p, n, q++);
                if (tc_th >> 4 > 1 || (tc_th & 15) > 3)
                    break; /* stb refuses the file */
                unsigned sum = 0;
                for (int i = 0; i < 16; i++, q++)
                    sum += jpeg_byte(p, n, q);
                if (sum > 256)
                    return 0;
                defined |= 1u << (4 * (tc_th >> 4) + (tc_th & 15));
                q += sum;
                left -= 17 + (long)sum;
            }
        } else if (m == 0xda) {
            /* SOS: Ns, Ns x (component, DC table << 4 | AC table), Ss, Se, Ah << 4 | Al. */
            const size_t q = pos + 2;
            const unsigned ns = jpeg_byte(p, n, q);
            const unsigned ss = jpeg_byte(p, n, q + 1 + 2 * ns);
            const unsigned ah = jpeg_byte(p, n, q + 3 + 2 * ns) >> 4;
            const int uses_dc = !progressive || (ss == 0 && ah == 0);
            const int uses_ac = !progressive || ss != 0;
            for (unsigned i = 0; i < ns && i < 4; i++) {
                const uint8_t t = jpeg_byte(p, n, q + 2 + 2 * i);
                if ((uses_dc && ((t >> 4) > 3 || !(defined >> (t >> 4) & 1))) ||
                    (uses_ac && ((t & 15) > 3 || !(defined >> (4 + (t & 15)) & 1))))
                    return 0;
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
    if (size == 0 || size > INT_MAX || !png_complete(p, size) || !png_plausible(p, size) ||
        !jpeg_tables_ok(p, size) || !stbi_info_from_memory(p, (int)size, &w, &h, &n) || w < 1 ||
        h < 1 || w > EMX_MAX_IMAGE_SIDE || h > EMX_MAX_IMAGE_SIDE ||
        (int64_t)w * h > EMX_MAX_IMAGE_PIXELS)
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
