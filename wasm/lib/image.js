// image.js - validation of raw pixel images and face boxes, in JS, so bad input never reaches
// C as garbage and fails with a typed error before anything is copied.
import { EmxError, ST_BOX, ST_IMAGE, invalidArg } from './errors.js';

// Limits checked in JS before anything reaches wasm memory, so absurd arguments fail fast with
// a clear error instead of growing the heap to its maximum (2 GiB) or overflowing 32-bit
// arithmetic in C. Generous: a 32768 x 16384 RGBA image still passes.
export const MAX_IMAGE_SIDE = 32768;
export const MAX_IMAGE_BYTES = 2 ** 31 - 2 ** 28; // must fit in wasm32 memory with room to spare
export const MAX_BOX_COORD = 2 ** 24; // exactly representable as f32, far beyond any real image

export function isInt(n, lo, hi) {
  return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
}

/** Whether x looks like a raw image ({data, width, height}, ImageData included). */
export function isRawImage(x) {
  return x !== null && typeof x === 'object' && 'data' in x && 'width' in x && 'height' in x;
}

/** A raw image checked: {data, width, height, channels, size}. */
export function checkImage(image) {
  if (image === null || typeof image !== 'object') {
    throw invalidArg('image must be an ImageData or {data, width, height, channels?}');
  }
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw invalidArg('image.data must be a Uint8Array or Uint8ClampedArray of 8-bit pixels');
  }
  if (!isInt(width, 1, MAX_IMAGE_SIDE) || !isInt(height, 1, MAX_IMAGE_SIDE)) {
    throw new EmxError('IMAGE', `image width and height must be integers in 1..${MAX_IMAGE_SIDE} (got ${String(width)} x ${String(height)})`, ST_IMAGE);
  }
  const pixels = width * height;
  let channels = image.channels;
  if (channels === undefined || channels === null) {
    channels = data.length / pixels;
    if (channels !== 1 && channels !== 3 && channels !== 4) {
      throw new EmxError('IMAGE', `image.data has ${data.length} bytes, which is not ${width} x ${height} x 1, 3 or 4 channels`, ST_IMAGE);
    }
  } else if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new EmxError('IMAGE', `image.channels must be 1, 3 or 4 (got ${String(channels)})`, ST_IMAGE);
  }
  const size = pixels * channels;
  if (size > MAX_IMAGE_BYTES) throw new EmxError('IMAGE', `image too large (${size} bytes)`, ST_IMAGE);
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
      throw new EmxError('BOX', `box.${k} must be a finite number of pixels (got ${String(v)})`, ST_BOX);
    }
  }
  if (!(width > 0 && height > 0)) throw new EmxError('BOX', `box is empty (${width} x ${height})`, ST_BOX);
  return { x, y, width, height };
}
