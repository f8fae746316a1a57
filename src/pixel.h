/* pixel.h - the one grey formula (internal; the WebAssembly shim's drawing uses it too). */
#ifndef EMX_PIXEL_H
#define EMX_PIXEL_H

#include <stdint.h>

/* PIL's convert('L') in fixed point (Convert.c, L24): verified equal to PIL 9.4 on all 2^24
 * colours, where (299 R + 587 G + 114 B + 500) / 1000 differs on 9040 of them. The training
 * pipeline converts with PIL, so every grey pixel the core makes must use exactly this. */
static inline uint8_t emx__grey(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

#endif /* EMX_PIXEL_H */
