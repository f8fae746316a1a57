// The class activation map of a face (analyze()'s face.cam: 0..1 over its crop) as a
// translucent colour image masked to the face: an ellipse with soft edges, so no hard-edged
// square lies over hair and background. Blue (ignored) through green and yellow to red (what decided the label); the
// same ramp draws the legend.

const SIZE = 64; // the map is drawn from a 64x64 image, upscaled smoothly
const cache = new WeakMap(); // cam object -> canvas (a frame's maps are drawn every refresh)

/** The ramp: t in 0..1 -> [r, g, b]. */
export function ramp(t) {
  const c = (u) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(u))));
  return [c(4 * t - 3), c(4 * t - 2), c(4 * t - 1)];
}

// The face inside its crop (analyze()'s face.crop, in the crop's own turned frame): centred
// across, a little below the crop's centre (the core moves the crop up 0.114 box sides and makes
// it 1.22 box sides: the box centre is 0.093 of the crop lower).
const CX = 0.5;
const CY = 0.55;
const RX = 0.38;
const RY = 0.45;

function mask(u, v) {
  const d = Math.hypot((u - CX) / RX, (v - CY) / RY);
  if (d >= 1) return 0;
  if (d <= 0.7) return 1;
  const t = (1 - d) / 0.3;
  return t * t * (3 - 2 * t);
}

/** A canvas of the map (bilinear from heat.data), alpha = opacity-free strength x mask. */
export function heatCanvas(heat) {
  let c = cache.get(heat);
  if (c) return c;
  c = document.createElement('canvas');
  c.width = c.height = SIZE;
  const cx = c.getContext('2d');
  const img = cx.createImageData(SIZE, SIZE);
  const { width: hw, height: hh, data } = heat;
  const at = (x, y) => data[Math.min(hh - 1, Math.max(0, y)) * hw + Math.min(hw - 1, Math.max(0, x))];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const sx = ((x + 0.5) * hw) / SIZE - 0.5;
      const sy = ((y + 0.5) * hh) / SIZE - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
      const m = mask((x + 0.5) / SIZE, (y + 0.5) / SIZE);
      img.data.set([...ramp(v), Math.round(255 * m * (0.35 + 0.65 * v))], (y * SIZE + x) * 4);
    }
  }
  cx.putImageData(img, 0, 0);
  cache.set(heat, c);
  return c;
}

/** The legend's gradient as a CSS linear-gradient (left: ignored, right: decided). */
export function legendGradient() {
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `rgb(${ramp(t).join(',')}) ${t * 100}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
