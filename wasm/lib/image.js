// image.js - validation of raw pixel images and face boxes, in JS, so bad input never reaches
// C as garbage and fails with a typed error before anything is copied.
import { EmxError, ST_BOX, ST_IMAGE, invalidArg, show } from './errors.js';
import { byteView, typedArrayKind } from './io.js';

// The C core's image limits (EMX_MAX_IMAGE_SIDE and EMX_MAX_IMAGE_PIXELS in include/emoxnet.h),
// checked here before anything is copied into wasm memory, so an oversized image fails at once
// instead of after seconds of copying. An instance answers its own (Wasm#limits, from
// emx_wasm_limit); these are the same numbers for checks made before an instance exists, and
// tests/js/hardening.test.js checks they equal what the wasm builds export.
export const IMAGE_LIMITS = Object.freeze({ maxSide: 16384, maxPixels: 2 ** 26 });
/** All of the core's limits and default load budgets, for a wasm build without emx_wasm_limit. */
export const CORE_LIMITS = Object.freeze({
  ...IMAGE_LIMITS,
  maxClasses: 64, // EMX_MAX_CLASSES
  maxTiles: 4, // EMX_DETECT_MAX_TILES
  maxMacs: 2e10, // EMX_DEFAULT_MAX_MACS
  maxMemoryBytes: 2 ** 29, // EMX_DEFAULT_MAX_MEMORY_BYTES
  maxOps: 2048, // EMX_DEFAULT_MAX_OPS
  maxMetaKeys: 256, // EMX_DEFAULT_MAX_META_KEYS
});
export const MAX_BOX_COORD = 2 ** 24; // exactly representable as f32, far beyond any real image

export function isInt(n, lo, hi) {
  return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
}

/** Whether x looks like a raw image ({data, width, height}, ImageData included). */
export function isRawImage(x) {
  return x !== null && typeof x === 'object' && 'data' in x && 'width' in x && 'height' in x;
}

/**
 * A raw image checked: {data, width, height, channels, size}. data is a new fixed-length view of
 * exactly the `size` bytes that were checked, made after every property of `image` was read:
 * copy it before any await or any other code of the caller's runs (see io.js byteView).
 * limits: {maxSide, maxPixels}, an instance's (Wasm#limits) or IMAGE_LIMITS.
 */
export function checkImage(image, limits = IMAGE_LIMITS) {
  if (image === null || typeof image !== 'object') {
    throw invalidArg('image must be an ImageData or {data, width, height, channels?}');
  }
  const { data: given, width, height } = image;
  const kind = typedArrayKind(given);
  if (kind !== 'Uint8Array' && kind !== 'Uint8ClampedArray') {
    throw invalidArg('image.data must be a Uint8Array or Uint8ClampedArray of 8-bit pixels');
  }
  const { maxSide, maxPixels } = limits;
  if (!isInt(width, 1, maxSide) || !isInt(height, 1, maxSide)) {
    throw new EmxError('IMAGE', `image width and height must be integers in 1..${maxSide} (got ${show(width)} x ${show(height)})`, ST_IMAGE);
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new EmxError('IMAGE', `image too large: ${width} x ${height} is over ${maxPixels} pixels`, ST_IMAGE);
  }
  let channels = image.channels;
  // The last read of the caller's object was just above: from here on nothing of theirs runs,
  // and data is what gets copied.
  const data = byteView(given);
  if (channels === undefined || channels === null) {
    channels = data.length / pixels;
    if (channels !== 1 && channels !== 3 && channels !== 4) {
      throw new EmxError('IMAGE', `image.data has ${data.length} bytes, which is not ${width} x ${height} x 1, 3 or 4 channels`, ST_IMAGE);
    }
  } else if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new EmxError('IMAGE', `image.channels must be 1, 3 or 4 (got ${show(channels)})`, ST_IMAGE);
  }
  const size = pixels * channels;
  if (data.length !== size) {
    throw new EmxError('IMAGE', `image.data has ${data.length} bytes, expected ${width} x ${height} x ${channels} = ${size}`, ST_IMAGE);
  }
  return { data, width, height, channels, size };
}

/** A box checked ({x, y, width, height}), or null when none was given. */
export function checkBox(box) {
  if (box === undefined || box === null) return null;
  if (typeof box !== 'object') throw new EmxError('BOX', 'box must be {x, y, width, height}', ST_BOX);
  const { x, y, width, height } = box;
  for (const [k, v] of [['x', x], ['y', y], ['width', width], ['height', height]]) {
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_BOX_COORD) {
      throw new EmxError('BOX', `box.${k} must be a finite number of pixels (got ${show(v)})`, ST_BOX);
    }
  }
  if (!(width > 0 && height > 0)) throw new EmxError('BOX', `box is empty (${width} x ${height})`, ST_BOX);
  return { x, y, width, height };
}
