// Shared helpers for the Node tests of the WebAssembly build: paths, raw float files, and tiny
// writers for .emx models and PNG images, so the API and error tests run on files built here
// (with answers computable in JS) without waiting for trained models or golden files.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { FERPLUS_CLASSES } from '../../bin/ferplus.js';
import { crc32 } from '../bench/emx-file.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GOLDEN_DIR = join(ROOT, 'tests', 'golden');

/** A model card's headline, "**NN.NN%** on n = N images" (training/card_valid.py writes it):
 * { top1: 'NN.NN', n }, or null when the card has none. The README, the demo's menu and the
 * eval check all hold their figures to it. */
export function cardHeadline(card) {
  const m = readFileSync(join(ROOT, 'models', card), 'utf8').match(/\*\*(\d+\.\d\d)%\*\* on n = (\d+) images/);
  return m && { top1: m[1], n: Number(m[2]) };
}
// EMOXNET_LITE_MODEL: try the real-data tests on another .emx (e.g. a fresh training snapshot).
export const LITE_MODEL = process.env.EMOXNET_LITE_MODEL || join(ROOT, 'models', 'emoxnet-lite.emx');
export const FERPLUS_DIR = process.env.FERPLUS_DIR || join(ROOT, '..', 'shared', 'data', 'ferplus');
// The FER+ class order has one home, bin/ferplus.js (the CLI's eval protocol).
export const FER_CLASSES = FERPLUS_CLASSES;

/** Both wasm builds must exist: the tests are meaningless without them. */
export function assertBuilt() {
  for (const v of ['simd', 'scalar']) {
    const p = join(ROOT, 'wasm', 'dist', `emoxnet-${v}.wasm`);
    if (!existsSync(p)) throw new Error(`${p} is missing: run scripts/build.sh (npm run build) first`);
  }
}

/** A little-endian float32 file as a Float32Array. */
export function readF32(path) {
  const b = readFileSync(path);
  if (b.length % 4) throw new Error(`${path}: ${b.length} bytes is not a whole number of floats`);
  const out = new Float32Array(b.length / 4);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

/** tests/golden/manifest.txt as [{name, cases}] (empty when absent). */
// manifest.txt: golden nets `NAME N_CASES`; shipped.txt: shipped models `NAME N_CASES PATH`
// (PATH relative to the repository root).
export function goldenManifest(file = 'manifest.txt') {
  const p = join(GOLDEN_DIR, file);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, n, model] = l.split(/\s+/);
      return { name, cases: Number(n), model };
    });
}

// One CRC-32 (the .emx checksum) for the tests and the benchmarks' .emx reader/writer.
export { crc32 } from '../bench/emx-file.js';

class Writer {
  constructor() {
    this.parts = [];
  }
  u32(v) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(v) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.parts.push(b);
    return this;
  }
  f32(v) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(b);
    return this;
  }
  str(s) {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.parts.push(b);
    return this;
  }
  bytes(b) {
    this.parts.push(Buffer.from(b));
    return this;
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

function chunk(tag, payload) {
  const pad = (4 - (payload.length % 4)) % 4;
  return Buffer.concat([Buffer.from(tag, 'ascii'), new Writer().u32(payload.length).done(), payload, Buffer.alloc(pad)]);
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

/**
 * A one-layer classifier as an .emx (models/FORMAT.md): input H x W x C, DENSE to the 8 FER+
 * classes (or `classes`), SOFTMAX. Returns {bytes, weight, bias, spec} so tests can compute the
 * answer in JS. weightScale: the weights' range (huge values make the softmax NaN).
 */
export function makeDenseModel({ height = 8, width = 8, channels = 1, mean = 0.5, std = 0.25, seed = 7, meta = {}, classes = FER_CLASSES, weightScale = 0.5, labelThresholds = null, gap = false } = {}) {
  // gap: a GLOBAL_AVGPOOL before the DENSE (which then reads the channels): a class activation
  // map branch (emx_explain) over the input itself
  const inLen = gap ? channels : height * width * channels;
  const K = classes.length;
  const rnd = prng(seed);
  const weight = Float32Array.from({ length: K * inLen }, () => rnd() * weightScale);
  const bias = Float32Array.from({ length: K }, () => rnd() * 0.1);
  // labelThresholds (one per class): a CALIBRATE after the SOFTMAX with identity params
  // (1, then K zero shifts) and those label thresholds (models/FORMAT.md)
  const calib = labelThresholds ? Float32Array.from([1, ...new Array(K).fill(0), ...labelThresholds]) : null;
  const data = Buffer.concat([Buffer.from(weight.buffer), Buffer.from(bias.buffer), ...(calib ? [Buffer.from(calib.buffer)] : [])]);

  const inpt = new Writer().u32(height).u32(width).u32(channels).f32(mean).f32(std).done();
  const clss = new Writer().u32(K);
  for (const c of classes) clss.str(c);
  const tens = new Writer().u32(calib ? 3 : 2);
  tens.str('fc.weight').u32(0).u32(2).u32(K).u32(inLen).u32(0).u32(weight.byteLength);
  tens.str('fc.bias').u32(0).u32(1).u32(K).u32(weight.byteLength).u32(bias.byteLength);
  if (calib) tens.str('calibration.params').u32(0).u32(1).u32(calib.length).u32(weight.byteLength + bias.byteLength).u32(calib.byteLength);
  const g = gap ? 1 : 0; // values after the pooling move up by one
  const grph = new Writer().u32(2 + g + (calib ? 1 : 0));
  if (gap) grph.u32(5).u32(1).u32(0).u32(0).u32(0); // GLOBAL_AVGPOOL(v0) -> v1
  grph.u32(2).u32(1).u32(g).u32(2).i32(K).i32(0).u32(2).u32(0).u32(1); // DENSE -> v1 + g
  grph.u32(8).u32(1).u32(1 + g).u32(0).u32(0); // SOFTMAX -> v2 + g
  if (calib) grph.u32(15).u32(1).u32(2 + g).u32(0).u32(1).u32(2); // CALIBRATE -> v3 + g
  grph.u32(1).u32(2 + g + (calib ? 1 : 0));
  const metaW = new Writer();
  const entries = Object.entries({ name: 'test-dense', ...meta });
  metaW.u32(entries.length);
  for (const [k, v] of entries) metaW.str(k).str(v);

  const body = Buffer.concat([
    chunk('INPT', inpt),
    chunk('CLSS', clss.done()),
    chunk('TENS', tens.done()),
    chunk('GRPH', grph.done()),
    chunk('DATA', data),
    chunk('META', metaW.done()),
  ]);
  const header = new Writer().bytes(Buffer.from('EMXN')).u32(1).u32(16 + body.length).u32(crc32(body)).done();
  return {
    bytes: new Uint8Array(Buffer.concat([header, body])),
    weight,
    bias,
    spec: { height, width, channels, mean, std },
  };
}

/** What makeDenseModel's network outputs for a preprocessed input (float64 reference). */
export function denseForward(m, input) {
  const K = m.bias.length;
  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = m.bias[k];
    for (let i = 0; i < input.length; i++) s += m.weight[k * input.length + i] * input[i];
    z[k] = s;
  }
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const t = e.reduce((a, b) => a + b, 0);
  return Array.from(e, (v) => v / t);
}

/** A PNG (no filtering) of 8-bit pixels; colorType 0 gray, 2 RGB, 4 gray+alpha, 6 RGBA. */
export function makePng(width, height, colorType, pixels) {
  const ch = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const raw = Buffer.alloc(height * (1 + width * ch));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * ch)] = 0;
    Buffer.from(pixels.buffer, pixels.byteOffset + y * width * ch, width * ch).copy(raw, y * (1 + width * ch) + 1);
  }
  const pngChunk = (type, data) => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', deflateSync(raw)),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/**
 * A 640x480 grey RGB frame with two gray faces pasted into it (nearest neighbour), big enough
 * for the detector: faces[0] at (30, 60) 200 px wide, faces[1] at (360, 180) 220 px (decoded
 * images, e.g. two FER+ crops).
 */
export function twoFaceFrame(faces) {
  const W = 640;
  const H = 480;
  const frame = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
  const paste = (face, x, y, size) => {
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const g = face.data[(Math.floor((v * face.height) / size) * face.width + Math.floor((u * face.width) / size)) * face.channels];
        frame.data.fill(g, ((y + v) * W + x + u) * 3, ((y + v) * W + x + u) * 3 + 3);
      }
    }
  };
  paste(faces[0], 30, 60, 200);
  paste(faces[1], 360, 180, 220);
  return frame;
}
