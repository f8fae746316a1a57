// media.js - turning what web apps hold (a <video>, an <img>, a canvas, an ImageBitmap, a
// VideoFrame) into raw RGBA pixels, synchronously, so classify() stays synchronous. Encoded
// PNG/JPEG bytes are decoded by the caller's wasm instance (see model.js), which works in Node
// and browsers alike.
import { coreError, EmxError, invalidArg, ST_IMAGE } from './errors.js';
import { byteView } from './io.js';
import { isRawImage } from './image.js';

const has = (name) => typeof globalThis[name] === 'function';
const is = (x, name) => has(name) && x instanceof globalThis[name];

/** What is accepted, for error messages. */
const ACCEPTED =
  'ImageData, {data, width, height, channels?}, PNG/JPEG bytes (Uint8Array/ArrayBuffer), HTMLVideoElement, ' +
  'HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap or VideoFrame';

/**
 * The drawable's size, or null when `x` is not a drawable this module knows. Throws
 * EmxError('IMAGE') for a drawable with no pixels yet (a video before its first frame, an
 * image still loading or broken).
 */
function drawableSize(x) {
  if (is(x, 'HTMLVideoElement')) {
    // HAVE_CURRENT_DATA (2): a frame is there to draw.
    if (x.readyState < 2 || !x.videoWidth) {
      throw new EmxError('IMAGE', 'the <video> has no frame yet (wait for its loadeddata event)', ST_IMAGE);
    }
    return [x.videoWidth, x.videoHeight];
  }
  if (is(x, 'HTMLImageElement')) {
    if (!x.complete || !x.naturalWidth) {
      throw new EmxError('IMAGE', 'the <img> is not loaded (or failed to load): wait for img.decode()', ST_IMAGE);
    }
    return [x.naturalWidth, x.naturalHeight];
  }
  if (is(x, 'VideoFrame')) return [x.displayWidth, x.displayHeight];
  if (is(x, 'HTMLCanvasElement') || is(x, 'OffscreenCanvas') || is(x, 'ImageBitmap')) return [x.width, x.height];
  return null;
}

// One scratch canvas, reused: allocating a canvas per video frame is the slow part.
let scratch = null;
let scratchCtx = null;

function context2d(width, height) {
  if (!scratch) {
    if (has('OffscreenCanvas')) scratch = new OffscreenCanvas(width, height);
    else if (typeof document !== 'undefined') scratch = document.createElement('canvas');
    else throw coreError('UNSUPPORTED', 'no canvas in this environment to read the pixels of a media element');
    // willReadFrequently keeps the canvas on the CPU, where getImageData() is cheap.
    scratchCtx = scratch.getContext('2d', { willReadFrequently: true });
  }
  if (scratch.width !== width) scratch.width = width;
  if (scratch.height !== height) scratch.height = height;
  return scratchCtx;
}

/**
 * Raw pixels of `input` as {data, width, height, channels?}: raw images pass through, PNG/JPEG
 * bytes go to decode(bytes), drawables are drawn once onto a scratch canvas and read back.
 * Throws EmxError('INVALID_ARG') for anything else.
 */
export function toRawImage(input, decode) {
  if (isRawImage(input)) return input;
  // Encoded files come as a Uint8Array (a Node Buffer is one) or an ArrayBuffer; other typed
  // arrays are not bytes of a file, so they are refused rather than decoded as garbage.
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = byteView(input); // null for a Proxy or a look-alike with that prototype
    if (!bytes) throw invalidArg(`unsupported image input (${describeValue(input)} that is not a real one); expected ${ACCEPTED}`);
    return decode(bytes);
  }
  const size = input !== null && typeof input === 'object' ? drawableSize(input) : null;
  if (!size) throw invalidArg(`unsupported image input (${describeValue(input)}); expected ${ACCEPTED}`);
  return drawPixels(input, size[0], size[1]);
}

/**
 * The pixels of a drawable (see drawableSize) scaled to width x height, as ImageData. Throws
 * EmxError('IMAGE') when they cannot be read (cross-origin without CORS).
 */
export function drawPixels(input, width, height) {
  if (!(width > 0 && height > 0)) throw new EmxError('IMAGE', `the image has no pixels (${width} x ${height})`, ST_IMAGE);
  const ctx = context2d(width, height);
  try {
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(input, 0, 0, width, height);
    return ctx.getImageData(0, 0, width, height);
  } catch (err) {
    // SecurityError: a cross-origin image or video without CORS taints the canvas, for good;
    // drop it so the next image gets a clean one.
    scratch = null;
    scratchCtx = null;
    const why = err && err.name === 'SecurityError' ? 'it is cross-origin without CORS (set crossOrigin="anonymous" and serve it with Access-Control-Allow-Origin)' : err && err.message;
    throw new EmxError('IMAGE', `cannot read the pixels of the ${describeValue(input)}: ${why}`, ST_IMAGE, { cause: err });
  }
}

function describeValue(x) {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x.constructor && x.constructor.name) || 'object';
}
