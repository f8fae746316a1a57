// detector.js - what detect()/analyze() share with the C core: their options (the C
// emx_detect_params), the face records the wasm shim writes (wasm/emx_wasm_detect.c), and the
// crop geometry analyze() uses (src/detect.c).
import { invalidArg } from './errors.js';
import { MAX_BOX_COORD } from './image.js';

const DEFAULT_MAX_FACES = 32;
const MAX_MAX_FACES = 1024;
const MAX_TILES = 4; // EMX_DETECT_MAX_TILES

/**
 * The tiling for a still image of this size (detect/analyze option tiles: 'auto'): the largest N
 * whose smallest findable face, about 2/(N+1) of the fifth of the shorter side that one
 * whole-frame pass needs, is still AUTO_MIN_FACE px, enough to classify (FER+ faces are 48 px);
 * 0 (one pass) when even N = 2 would look for smaller faces. Costs N * N + 1 detector passes,
 * which a photo affords and a live video usually does not.
 */
export function autoTiles(width, height) {
  const n = Math.floor((2 * Math.min(width, height)) / (5 * AUTO_MIN_FACE)) - 1;
  return n < 2 ? 0 : Math.min(MAX_TILES, n);
}
const AUTO_MIN_FACE = 48;

/**
 * detect()/analyze() options -> the C emx_detect_params, with the C defaults. image (its width
 * and height) resolves tiles: 'auto'.
 */
export function checkDetectOptions(options, image) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw invalidArg('detect options must be an object');
  const num = (key, def, lo, hi) => {
    const v = options[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw invalidArg(`options.${key} must be a number in ${lo}..${hi} (got ${String(v)})`);
    }
    return v;
  };
  const maxFaces = num('maxFaces', DEFAULT_MAX_FACES, 0, MAX_MAX_FACES);
  if (!Number.isInteger(maxFaces)) throw invalidArg(`options.maxFaces must be an integer (got ${maxFaces})`);
  const tiles = options.tiles === 'auto' && image ? autoTiles(image.width, image.height) : num('tiles', 0, 0, MAX_TILES);
  if (!Number.isInteger(tiles)) throw invalidArg(`options.tiles must be an integer in 0..${MAX_TILES} or 'auto' (got ${tiles})`);
  return {
    scoreThreshold: num('scoreThreshold', 0.5, 0, 1),
    iouThreshold: num('iouThreshold', 0.3, 0, 1),
    minFaceSize: num('minFaceSize', 0, 0, MAX_BOX_COORD),
    maxFaces,
    tiles,
  };
}

/**
 * Face objects from the shim's float records: box (4), score, landmark count, 2 x landmarks,
 * then for analyze() the label index and one probability per class (stride floats each).
 */
export function readFaces(rec, n, stride, classNames) {
  const nClasses = classNames ? classNames.length : 0;
  const faces = [];
  for (let i = 0; i < n; i++) {
    const r = rec.subarray(i * stride, (i + 1) * stride);
    const face = { box: { x: r[0], y: r[1], width: r[2], height: r[3] }, score: r[4] };
    if (r[5] > 0) {
      face.landmarks = [];
      for (let k = 0; k < r[5]; k++) face.landmarks.push({ x: r[6 + 2 * k], y: r[7 + 2 * k] });
    }
    if (nClasses) {
      const base = stride - nClasses;
      const label = r[base - 1];
      face.label = label >= 0 ? classNames[label] : null;
      face.scores = {};
      for (let c = 0; c < nClasses; c++) face.scores[classNames[c]] = r[base + c];
    }
    faces.push(face);
  }
  return faces;
}

/**
 * The square crop that analyze() classifies for a detected face box (before eye alignment):
 * the detector's box enlarged 1.22x and moved up 0.114 box sides, so it frames a face the way
 * FER+'s 48x48 crops do. Keep in step with CROP_SCALE / CROP_UP in src/detect.c. Use it to
 * explain() a face that analyze() found.
 */
export function analysisCrop(box) {
  const bs = Math.max(box.width, box.height);
  const side = 1.22 * bs;
  return {
    x: box.x + box.width / 2 - side / 2,
    y: box.y + box.height / 2 - 0.114 * bs - side / 2,
    width: side,
    height: side,
  };
}

/** A face from a frame analysed at 1/k of its size, in the full frame's pixels. */
export function scaleFace(f, k) {
  if (k === 1) return f;
  const out = { ...f, box: { x: f.box.x * k, y: f.box.y * k, width: f.box.width * k, height: f.box.height * k } };
  if (f.landmarks) out.landmarks = f.landmarks.map((p) => ({ x: p.x * k, y: p.y * k }));
  return out;
}
