// detector.js - what detect()/analyze() share with the C core: their options (the C
// emx_detect_params) and the face records the wasm shim writes (wasm/emx_wasm_detect.c), with
// each face's crop as the core reports it (emx_crop: its geometry lives in src/align.c only).
import { EmxError, ST_NUMERIC, invalidArg, show } from './errors.js';
import { CORE_LIMITS, MAX_BOX_COORD } from './image.js';
import { applyBalance } from './balance.js';

const DEFAULT_MAX_FACES = 32;
const MAX_MAX_FACES = 1024;

/**
 * The tiling for a still image of this size (detect/analyze option tiles: 'auto'): the largest N
 * whose smallest findable face, about 2/(N+1) of the fifth of the shorter side that one
 * whole-frame pass needs, is still AUTO_MIN_FACE px, enough to classify (FER+ faces are 48 px);
 * 0 (one pass) when even N = 2 would look for smaller faces. Costs N * N + 1 detector passes,
 * which a photo affords and a live video usually does not.
 */
export function autoTiles(width, height, maxTiles = CORE_LIMITS.maxTiles) {
  const n = Math.floor((2 * Math.min(width, height)) / (5 * AUTO_MIN_FACE)) - 1;
  return n < 2 ? 0 : Math.min(maxTiles, n);
}
const AUTO_MIN_FACE = 48;

/**
 * detect()/analyze() options -> the C emx_detect_params, with the C defaults. limits: the
 * instance's (Wasm#limits; maxTiles is EMX_DETECT_MAX_TILES). image: {width, height}, resolves
 * tiles: 'auto'; without it (options are read before the pixels) tiles stays 'auto' for
 * resolveTiles().
 */
export function checkDetectOptions(options, limits = CORE_LIMITS, image = null) {
  const MAX_TILES = limits.maxTiles;
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw invalidArg('detect options must be an object');
  const num = (key, def, lo, hi) => {
    const v = options[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw invalidArg(`options.${key} must be a number in ${lo}..${hi} (got ${show(v)})`);
    }
    return v;
  };
  const maxFaces = num('maxFaces', DEFAULT_MAX_FACES, 0, MAX_MAX_FACES);
  if (!Number.isInteger(maxFaces)) throw invalidArg(`options.maxFaces must be an integer (got ${maxFaces})`);
  const auto = options.tiles === 'auto';
  const tiles = auto ? (image ? autoTiles(image.width, image.height, MAX_TILES) : 'auto') : num('tiles', 0, 0, MAX_TILES);
  if (!auto && !Number.isInteger(tiles)) throw invalidArg(`options.tiles must be an integer in 0..${MAX_TILES} or 'auto' (got ${tiles})`);
  return {
    scoreThreshold: num('scoreThreshold', 0.5, 0, 1),
    iouThreshold: num('iouThreshold', 0.3, 0, 1),
    minFaceSize: num('minFaceSize', 0, 0, MAX_BOX_COORD),
    maxFaces,
    tiles,
  };
}

/** checkDetectOptions()'s result with tiles: 'auto' resolved for this image. */
export function resolveTiles(o, image, limits = CORE_LIMITS) {
  return o.tiles === 'auto' ? { ...o, tiles: autoTiles(image.width, image.height, limits.maxTiles) } : o;
}

/**
 * {name: score} for class names and their scores, built with Object.fromEntries: every name
 * becomes an own data property, '__proto__' and 'constructor' included, and nothing is set on
 * a prototype. The names are unique (Model checks them at load).
 */
export function classScores(classNames, probs) {
  return Object.fromEntries(classNames.map((name, i) => [name, probs[i]]));
}

/**
 * Whether every score is a probability (finite, in 0..1 up to rounding). The core returns
 * EMX_ERR_NUMERIC otherwise; checked here too so that a build without that check cannot hand out
 * NaN as a result.
 */
export function areProbabilities(probs) {
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p <= 1 + 1e-4)) return false;
  }
  return true;
}

/** The EmxError('NUMERIC') for scores that are not probabilities. */
export function numericError(what) {
  return new EmxError('NUMERIC', `${what}: the network produced scores that are not probabilities (NaN, infinite or out of 0..1)`, ST_NUMERIC);
}

/** Where a record's crop (cx, cy, side, angle) starts: after box, score, count, 6 landmarks. */
const CROP_AT = 18;

/**
 * Face objects from the shim's float records: box (4), score, landmark count, 2 x landmarks,
 * crop (4), the label index (-1 from detect()), then for analyze() one probability per class
 * (stride floats each). Also returns lastLabelled: the index of the last face with a label (-1
 * when none), the face whose classification the model keeps for explainLast(). weights (null:
 * none): load()'s balance factors (balance.js), which a labelled face's scores are balanced by;
 * the record's label is the core's, picked with the same factors (emx_set_label_weights).
 */
export function readFaces(rec, n, stride, classNames, weights = null) {
  const nClasses = classNames ? classNames.length : 0;
  const faces = [];
  let lastLabelled = -1;
  for (let i = 0; i < n; i++) {
    const r = rec.subarray(i * stride, (i + 1) * stride);
    const face = { box: { x: r[0], y: r[1], width: r[2], height: r[3] }, score: r[4] };
    if (r[5] > 0) {
      face.landmarks = [];
      for (let k = 0; k < r[5]; k++) face.landmarks.push({ x: r[6 + 2 * k], y: r[7 + 2 * k] });
    }
    face.crop = { cx: r[CROP_AT], cy: r[CROP_AT + 1], side: r[CROP_AT + 2], angle: r[CROP_AT + 3] };
    if (nClasses) {
      const base = stride - nClasses;
      const label = r[base - 1];
      let probs = r.subarray(base, base + nClasses);
      if (label >= 0) {
        if (!Number.isInteger(label) || label >= nClasses || !areProbabilities(probs)) throw numericError('analyze');
        lastLabelled = i;
        // the core picked the label with the same factors (emx_set_label_weights): only the
        // scores are balanced here
        if (weights) probs = applyBalance(probs, weights);
      }
      face.label = label >= 0 ? classNames[label] : null;
      face.scores = classScores(classNames, probs);
    }
    faces.push(face);
  }
  return { faces, lastLabelled };
}

/** A face from a frame analysed at 1/k of its size, in the full frame's pixels. */
export function scaleFace(f, k) {
  if (k === 1) return f;
  const out = { ...f, box: { x: f.box.x * k, y: f.box.y * k, width: f.box.width * k, height: f.box.height * k } };
  if (f.landmarks) out.landmarks = f.landmarks.map((p) => ({ x: p.x * k, y: p.y * k }));
  if (f.crop) out.crop = { cx: f.crop.cx * k, cy: f.crop.cy * k, side: f.crop.side * k, angle: f.crop.angle };
  return out;
}
