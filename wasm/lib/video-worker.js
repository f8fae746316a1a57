// video-worker.js - the module worker behind watchVideo({ worker: true }) and the live demo
// (web/): holds the model (its own WebAssembly instance) and runs analyze() on the frames the
// page sends, so the page's main thread never waits on the network.
// Messages in:  {type:'load', model:'lite'|'ensemble'|URL, simd?:boolean, relaxed?:boolean, balance?:number,
//                baseUrl?, detect?}  (balance: load()'s, 0..1)
//               {type:'frame', id, bitmap:ImageBitmap | frame:VideoFrame | image:{data,width,height}, maxSide?,
//                explain?: boolean, detect?}  (explain: add each face's class activation map,
//                analyze()'s cam over its crop; detect: analyze() options for this frame, over
//                the load message's)
// Messages out: {type:'hello', offscreen, simd, relaxed}
//               {type:'loaded', model, variant, meta, classNames, balance, labelThresholds}
//               {type:'faces', id, model, labelThresholds, balance, faces, ms, busy, done, width, height}  (ms: analyze();
//                busy: the whole frame in the worker, pixels read included; done: when it was
//                done, performance.timeOrigin + performance.now())
//               {type:'error', stage:'load'|'frame', model?, id?, code, message}
import { load } from './model.js';
import { init } from './assets.js';
import { relaxedSimdSupported, simdSupported } from './wasm.js';
import { scaleFace } from './detector.js';

let model = null;
let modelName = null;
let detectOptions = { scoreThreshold: 0.5, maxFaces: 16 };
let canvas = null;
let ctx = null;
let queue = Promise.resolve();

const post = (msg) => self.postMessage(msg);
const errInfo = (err) => ({ code: (err && err.code) || 'UNKNOWN', message: (err && err.message) || String(err) });

async function doLoad({ model: name, simd, relaxed, balance, baseUrl, detect }) {
  const opts = {};
  if (simd === false) opts.simd = false;
  if (relaxed === false) opts.relaxed = false;
  if (balance !== undefined) opts.balance = balance;
  try {
    if (baseUrl) init({ baseUrl });
    if (detect) detectOptions = { ...detectOptions, ...detect };
    const next = await load(name, opts);
    if (next.isDetector) throw Object.assign(new Error(`${name} is a face detector, not an expression model`), { code: 'INVALID_ARG' });
    if (model) model.dispose();
    model = next;
    modelName = name;
    post({ type: 'loaded', model: name, variant: model.variant, meta: { ...model.meta }, classNames: [...model.classNames], balance: model.balance, labelThresholds: { ...model.labelThresholds } });
  } catch (err) {
    post({ type: 'error', stage: 'load', model: name, current: modelName, ...errInfo(err) });
    return;
  }
  try {
    // detect() loads the face detector on its first call: do it now, not on the first frame
    await model.detect({ data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 });
  } catch (err) {
    post({ type: 'error', stage: 'frame', ...errInfo(err) });
  }
}

// Where VideoFrame.copyTo() converts to RGBA (Chromium), a frame's pixels are read by it into
// one reused buffer (analyze() copies them when it starts): about half the time of drawing the
// frame and reading it back. false once an engine refused (then drawImage, as for bitmaps).
let copyRgba = true;
let rgba = null;

/**
 * Pixels of the frame (msg.bitmap, msg.frame: a VideoFrame, or msg.image), scaled so the
 * longer side is at most maxSide; and that scale relative to the video (msg.width). The
 * bitmap or frame is closed.
 */
async function pixels(msg) {
  if (msg.image) return { image: msg.image, scale: 1 };
  const src = msg.frame || msg.bitmap;
  try {
    const sw = msg.frame ? src.displayWidth : src.width;
    const sh = msg.frame ? src.displayHeight : src.height;
    const scale = Math.min(1, (msg.maxSide || 640) / Math.max(sw, sh));
    const w = Math.max(1, Math.round(sw * scale));
    const h = Math.max(1, Math.round(sh * scale));
    const rect = msg.frame && src.visibleRect;
    if (copyRgba && rect && w === sw && h === sh && rect.width === w && rect.height === h) {
      try {
        if (!rgba || rgba.length !== w * h * 4) rgba = new Uint8Array(w * h * 4);
        await src.copyTo(rgba, { format: 'RGBA', colorSpace: 'srgb' });
        return { image: { data: rgba, width: w, height: h, channels: 4 }, scale: w / msg.width };
      } catch {
        copyRgba = false; // this engine's copyTo() converts no formats: drawn below from now on
      }
    }
    if (!canvas || canvas.width !== w || canvas.height !== h) {
      canvas = new OffscreenCanvas(w, h);
      ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    ctx.drawImage(src, 0, 0, w, h);
    return { image: ctx.getImageData(0, 0, w, h), scale: w / msg.width };
  } finally {
    src.close();
  }
}

async function doFrame(msg) {
  const start = performance.now();
  try {
    if (!model) throw Object.assign(new Error('no model loaded'), { code: 'LOAD' });
    const { image, scale } = await pixels(msg);
    const t0 = performance.now();
    // explain: each face's map comes with it, from the run that labelled it, over its crop.
    const options = { ...detectOptions, ...msg.detect, explain: !!msg.explain };
    const found = await model.analyze(image, options);
    const ms = performance.now() - t0;
    const k = 1 / scale;
    const faces = found.map((f) => scaleFace({ ...f, landmarks: f.landmarks || [] }, k));
    // busy: the whole frame here (reading its pixels too); done: when, in ms since the epoch
    // (performance.timeOrigin-based: comparable across threads); for watchVideo's pacing
    const end = performance.now();
    post({ type: 'faces', id: msg.id, model: modelName, labelThresholds: { ...model.labelThresholds }, balance: model.balance, faces, ms, busy: end - start, done: performance.timeOrigin + end, width: msg.width, height: msg.height });
  } catch (err) {
    for (const x of [msg.bitmap, msg.frame]) if (x && typeof x.close === 'function') x.close();
    post({ type: 'error', stage: 'frame', id: msg.id, ...errInfo(err) });
  }
}

self.onmessage = ({ data }) => {
  if (data.type === 'load') queue = queue.then(() => doLoad(data));
  else if (data.type === 'frame') queue = queue.then(() => doFrame(data));
};

post({ type: 'hello', offscreen: typeof OffscreenCanvas === 'function', simd: simdSupported(), relaxed: relaxedSimdSupported() });
