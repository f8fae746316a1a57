// codec.js - PNG/JPEG decoding (stb_image in the core) and annotate(): faces drawn on a copy of
// an image and encoded as PNG (stb_image_write). Node users and the CLI need no image library.
import { EmxError, ST_BOX, ST_DECODE, ST_NO_MEMORY, invalidArg } from './errors.js';
import { byteView } from './io.js';
import { checkBox, checkImage } from './image.js';
import { Wasm, getModule } from './wasm.js';
import { checkOptions } from './options.js';

/**
 * Decode PNG/JPEG bytes in instance w, synchronously. Returns {data, width, height, channels}
 * (channels 1, 3 or 4). Throws EmxError('DECODE') for anything that is not a readable image.
 */
export function decodeWith(w, src, what = 'decodeImage') {
  if (src.length === 0) throw new EmxError('DECODE', `${what}: no bytes to decode`, ST_DECODE);
  let inPtr = 0;
  let outPtr = 0;
  try {
    inPtr = w.allocBytes(src);
    outPtr = w.malloc(16);
    const st = w.call('emx_wasm_decode', inPtr, src.length, outPtr);
    if (st !== 0) throw w.statusError(st, what);
    const [pix, width, height, channels] = new Int32Array(w.memory.buffer, outPtr, 4);
    try {
      const n = width * height * channels;
      const raw = new Uint8Array(w.memory.buffer, pix >>> 0, n);
      // The core already returns gray for gray+alpha; kept so an older core cannot hand
      // classify() a 2-channel image.
      if (channels === 2) {
        const gray = new Uint8Array(width * height);
        for (let i = 0; i < gray.length; i++) gray[i] = raw[2 * i];
        return { data: gray, width, height, channels: 1 };
      }
      return { data: raw.slice(), width, height, channels };
    } finally {
      w.call('emx_wasm_image_free', pix);
    }
  } finally {
    if (!w.broken) {
      w.free(inPtr);
      w.free(outPtr);
    }
  }
}

// One decoding instance per compiled module, reused across calls (decoding is synchronous, so
// calls never interleave). Its heap grows to the largest image decoded.
const decoders = new WeakMap();

async function decoderInstance(options) {
  const { module } = await getModule(checkOptions(options));
  let wp = decoders.get(module);
  if (!wp) {
    wp = Wasm.create(module);
    decoders.set(module, wp);
  }
  try {
    return { module, w: await wp };
  } catch (err) {
    decoders.delete(module);
    throw err;
  }
}

/**
 * Decode PNG or JPEG bytes with the core's stb_image. Returns {data, width, height, channels}
 * with channels 1 (gray), 3 (RGB) or 4 (RGBA); gray+alpha images come back as gray, so the
 * result can always be passed to classify().
 */
export async function decodeImage(bytes, options) {
  const given = byteView(bytes);
  if (!given) throw invalidArg('decodeImage() takes a Uint8Array or ArrayBuffer');
  if (given.length === 0) throw new EmxError('DECODE', 'decodeImage: no bytes to decode', ST_DECODE);
  const src = given.slice(); // the bytes as they are now: the caller's buffer may change during the await
  const { module, w } = await decoderInstance(options);
  try {
    return decodeWith(w, src);
  } finally {
    if (w.broken) decoders.delete(module);
  }
}

/**
 * Draw faces (from detect() or analyze(): boxes, and "label NN%" or "face NN%") on a copy of
 * the image and encode it as PNG (stb_image_write in the core). Resolves to the PNG bytes.
 * faces may be empty (the image is just encoded). options select the wasm build as for load().
 */
export async function annotate(image, faces, options) {
  const given = checkImage(image);
  const snapshot = { data: given.data.slice(), width: given.width, height: given.height, channels: given.channels };
  if (!Array.isArray(faces)) throw invalidArg('annotate() takes an array of faces');
  const boxes = new Float32Array(4 * faces.length);
  const labels = [];
  faces.forEach((f, i) => {
    const b = checkBox(f && f.box);
    if (!b) throw new EmxError('BOX', `faces[${i}].box is missing`, ST_BOX);
    boxes.set([b.x, b.y, b.width, b.height], 4 * i);
    const pct = (v) => `${Math.round(100 * (Number.isFinite(v) ? v : 0))}%`;
    const label = f.label;
    if (label !== undefined && label !== null && typeof label !== 'string') {
      throw invalidArg(`faces[${i}].label must be a class name or null`);
    }
    const scores = f.scores;
    const score = label && scores !== null && typeof scores === 'object' && Object.prototype.hasOwnProperty.call(scores, label) ? scores[label] : undefined;
    labels.push(label ? `${label} ${pct(score)}` : `face ${pct(f.score)}`);
  });
  const text = new TextEncoder().encode(labels.map((l) => l.replace(/[^\x20-\x7e]/g, '?') + '\0').join(''));
  const { module, w } = await decoderInstance(options);
  // The pixels as they were when the call started (the caller's buffer may change during the
  // await), checked against this instance's own limits.
  const img = checkImage(snapshot, w.limits);
  let pixPtr = 0;
  let boxPtr = 0;
  let textPtr = 0;
  let sizePtr = 0;
  try {
    pixPtr = w.allocBytes(img.data);
    boxPtr = w.allocBytes(new Uint8Array(boxes.buffer));
    textPtr = w.allocBytes(text.length ? text : new Uint8Array(1));
    sizePtr = w.malloc(4);
    w.call('emx_wasm_draw_faces', pixPtr, img.width, img.height, img.channels, boxPtr, faces.length, textPtr);
    const png = w.call('emx_wasm_encode_png', pixPtr, img.width, img.height, img.channels, sizePtr) >>> 0;
    if (!png) throw new EmxError('NO_MEMORY', 'annotate: PNG encoding failed', ST_NO_MEMORY);
    const size = new Int32Array(w.memory.buffer, sizePtr, 1)[0];
    const out = new Uint8Array(w.memory.buffer, png, size).slice();
    w.free(png);
    return out;
  } finally {
    if (w.broken) {
      decoders.delete(module);
    } else {
      w.free(pixPtr);
      w.free(boxPtr);
      w.free(textPtr);
      w.free(sizePtr);
    }
  }
}
