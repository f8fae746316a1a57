// heatmap.js - class activation maps (model.explain) drawn over images: the CLI's --explain
// and tools/cam-figure.js.

// A jet-like colour map: 0 blue, 0.5 green, 1 red.
export function heatColour(v) {
  const c = (x) => Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - x)));
  return [255 * c(3), 255 * c(2), 255 * c(1)];
}

// Bilinear sample (align_corners=False) of a map at fractional map coordinates (u, v).
function sampleMap(e, u, v) {
  const x = Math.max(0, Math.min(e.width - 1, u - 0.5));
  const y = Math.max(0, Math.min(e.height - 1, v - 0.5));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, e.width - 1);
  const y1 = Math.min(y0 + 1, e.height - 1);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx, yy) => e.data[yy * e.width + xx];
  return (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
}

/**
 * The image as RGB, scaled up (nearest) so small face crops stay visible, with each explained
 * region's 0..1 map blended in: regions are {map, x, y, w, h, angle?} in image pixels, the
 * rectangle turned by angle (radians, clockwise on screen) about its centre, as a face's crop
 * from analyze() is (emx_crop: x = cx - side / 2, ...); the map's rows run along its turned
 * top edge.
 */
export function blendHeat(img, regions, minSide = 192) {
  const k = Math.max(1, Math.ceil(minSide / Math.max(img.width, img.height)));
  const W = img.width * k;
  const H = img.height * k;
  const out = new Uint8Array(W * H * 3);
  const ch = img.channels;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const si = (Math.floor(y / k) * img.width + Math.floor(x / k)) * ch;
      const o = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = img.data[si + (ch >= 3 ? c : 0)];
    }
  }
  for (const r of regions) {
    const a = r.angle || 0;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const cx = r.x + r.w / 2;
    const cy = r.y + r.h / 2;
    // the turned rectangle's bounding box, in output pixels
    const ex = Math.abs((r.w / 2) * cos) + Math.abs((r.h / 2) * sin);
    const ey = Math.abs((r.w / 2) * sin) + Math.abs((r.h / 2) * cos);
    const x0 = Math.max(0, Math.floor((cx - ex) * k));
    const y0 = Math.max(0, Math.floor((cy - ey) * k));
    const x1 = Math.min(W, Math.ceil((cx + ex) * k));
    const y1 = Math.min(H, Math.ceil((cy + ey) * k));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        // image offset from the centre, turned back into the region's own frame
        const dx = (x + 0.5) / k - cx;
        const dy = (y + 0.5) / k - cy;
        const u = dx * cos + dy * sin + r.w / 2;
        const v = -dx * sin + dy * cos + r.h / 2;
        if (u < 0 || v < 0 || u >= r.w || v >= r.h) continue;
        const val = sampleMap(r.map, (u / r.w) * r.map.width, (v / r.h) * r.map.height);
        const col = heatColour(val);
        const alpha = 0.25 + 0.35 * val;
        const o = (y * W + x) * 3;
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(out[o + c] * (1 - alpha) + col[c] * alpha);
      }
    }
  }
  return { data: out, width: W, height: H, channels: 3, scale: k };
}
