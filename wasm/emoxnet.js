// emoxnet.js - facial expression recognition in the browser and in Node, on the EmoXNet C core
// compiled to WebAssembly.
//
//     import { load } from 'emoxnet';
//     const model = await load('lite');
//     const { label, scores } = model.classify(imageData, { x: 120, y: 80, width: 96, height: 96 });
//     model.dispose();
//
// Why no Emscripten glue: the core is linked as a standalone .wasm (-sSTANDALONE_WASM) and
// instantiated here. Emscripten 3.1.6's generated JS breaks on Node 20 (it fetch()es file
// paths), drags in a virtual file system we do not need, and is not an ES module that bundlers
// handle well. The module only needs a handful of WASI imports, stubbed below.
//
// Why one instance per model: each instance has its own linear memory, so models are fully
// independent (like emx_model in C: no global state) and dispose() gives everything back by
// dropping the instance. Compiled WebAssembly.Modules are shared, so a second model costs an
// instantiation, not a compilation.
//
// This file must stay free of top-level Node imports: bundlers for the browser would otherwise
// try to resolve 'fs'. Node's file system is reached through a dynamic import whose specifier
// is computed at run time (see nodeFs()).

/** Class of every error this module throws on purpose. */
export class EmxError extends Error {
  /**
   * @param {string} code short machine-readable code, e.g. 'CHECKSUM', 'IMAGE', 'DISPOSED'
   * @param {string} message human-readable message
   * @param {number|null} [status] the C emx_status behind it (null when none applies)
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, status = null, options = undefined) {
    super(message, options);
    this.name = 'EmxError';
    this.code = code;
    this.status = status;
  }
}

// emx_status values (src/emoxnet.h) -> EmxError codes.
const STATUS_CODE = new Map([
  [-1, 'INVALID_ARG'],
  [-2, 'NO_MEMORY'],
  [-3, 'BAD_MAGIC'],
  [-4, 'VERSION'],
  [-5, 'TRUNCATED'],
  [-6, 'CHECKSUM'],
  [-7, 'FORMAT'],
  [-8, 'IMAGE'],
  [-9, 'BOX'],
  [-10, 'IO'],
  [-11, 'DECODE'],
  [-12, 'UNSUPPORTED'],
]);
const ST_INVALID_ARG = -1;
const ST_NO_MEMORY = -2;
const ST_IMAGE = -8;
const ST_BOX = -9;
const ST_DECODE = -11;

// Limits checked in JS before anything reaches wasm memory, so absurd arguments fail fast with
// a clear error instead of growing the heap to its maximum (2 GiB) or overflowing 32-bit
// arithmetic in C. Generous: a 32768 x 16384 RGBA image still passes.
const MAX_IMAGE_SIDE = 32768;
const MAX_IMAGE_BYTES = 2 ** 31 - 2 ** 28; // must fit in wasm32 memory with room to spare
const MAX_BOX_COORD = 2 ** 24; // exactly representable as f32, far beyond any real image

// Metadata keys from models/FORMAT.md. The C API has no way to enumerate keys, so the keys are
// read from the file's META chunk in JS (parseMetaKeys) and these are asked for in any case.
const KNOWN_META_KEYS = ['name', 'description', 'training_data', 'valid_accuracy', 'license', 'source', 'task', 'keypoints'];

// Shipped models, relative to this file (wasm/ -> ../models/).
const SHIPPED = {
  lite: '../models/emoxnet-lite.emx',
  ensemble: '../models/emoxnet.emx',
};
// The face detector detect()/analyze() load on first use (models/blazeface.md).
const SHIPPED_DETECTOR = '../models/blazeface.emx';
const DEFAULT_MAX_FACES = 32;
const MAX_MAX_FACES = 1024;
const MAX_TILES = 4; // EMX_DETECT_MAX_TILES

const IS_NODE =
  typeof process === 'object' &&
  process !== null &&
  typeof process.versions === 'object' &&
  process.versions !== null &&
  typeof process.versions.node === 'string' &&
  typeof window === 'undefined';

// ---------------------------------------------------------------------------------------------
// Fetching bytes

async function nodeFs() {
  // Computed specifier + ignore comments: webpack, Rollup, esbuild and Vite then leave this
  // import alone instead of failing to bundle a Node builtin for the browser.
  const name = ['node:', 'fs/promises'].join('');
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

// A string with a scheme of 2+ letters is a URL ("https:", "file:", "blob:", "data:"); anything
// else is a path on Node (so "C:\\models\\x.emx" stays a path) and a relative URL in browsers.
function isUrlString(s) {
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(s);
}

function baseUrl() {
  if (typeof document !== 'undefined' && document.baseURI) return document.baseURI;
  if (typeof location !== 'undefined' && location.href) return location.href;
  return import.meta.url;
}

/** Resolve a user-given location to a URL, or to a file-system path (string) on Node. */
function resolveLocation(where) {
  if (where instanceof URL) return where;
  if (typeof where !== 'string' || where === '') {
    throw new EmxError('INVALID_ARG', 'expected a non-empty string or URL');
  }
  if (isUrlString(where)) return new URL(where);
  if (IS_NODE) return where; // a path, relative to the working directory
  return new URL(where, baseUrl());
}

function describe(where) {
  if (!(where instanceof URL)) return String(where);
  // Node users think in paths: show file: URLs as one.
  return IS_NODE && where.protocol === 'file:' ? decodeURIComponent(where.pathname) : where.href;
}

async function readBytes(where) {
  try {
    if (IS_NODE && (typeof where === 'string' || where.protocol === 'file:')) {
      const fs = await nodeFs();
      const buf = await fs.readFile(where);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    if (typeof fetch !== 'function') throw new Error('fetch() is not available');
    const res = await fetch(where);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof EmxError) throw err;
    const why = err && err.code === 'ENOENT' ? 'no such file' : err && err.message ? err.message : String(err);
    throw new EmxError('LOAD', `cannot read ${describe(where)}: ${why}`, null, { cause: err });
  }
}

/** Bytes of a BufferSource as a Uint8Array view (no copy), or null when it is not one. */
function asBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Compiling and instantiating the wasm

// A tiny module using a SIMD128 instruction (i8x16.splat + i8x16.popcnt), as in
// wasm-feature-detect: validate() says whether this engine runs the SIMD build.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);
let simdCache;

/** Whether this JavaScript engine supports WebAssembly SIMD (128-bit). */
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

export function simdSupported() {
  if (simdCache === undefined) {
    try {
      simdCache = WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

// Compiled modules, shared by all models: key = URL/path of the .wasm (or the bytes object the
// caller handed in). Promises, so concurrent load() calls compile once.
const moduleByLocation = new Map();
const moduleByBytes = new WeakMap();

async function compileFrom(where) {
  if (!(IS_NODE && (typeof where === 'string' || where.protocol === 'file:')) &&
      typeof WebAssembly.compileStreaming === 'function' && typeof fetch === 'function') {
    // Streaming compilation overlaps download and compilation; it refuses responses without
    // the application/wasm MIME type, in which case we fall back to bytes.
    try {
      const res = await fetch(where);
      if (res.ok) return await WebAssembly.compileStreaming(res);
    } catch {
      /* fall through */
    }
  }
  const bytes = await readBytes(where);
  return WebAssembly.compile(bytes);
}

function wasmLocation(variant, options) {
  const file = `emoxnet-${variant}.wasm`;
  const fallback = new URL(`./dist/${file}`, import.meta.url);
  if (typeof options.locateFile === 'function') {
    const loc = options.locateFile(file, fallback);
    if (loc !== undefined && loc !== null) return resolveLocation(loc);
  }
  return fallback;
}

/** The WebAssembly.Module to use, per options: { wasmModule | wasmBinary | locateFile | simd }. */
async function getModule(options) {
  if (options.wasmModule !== undefined) {
    if (!(options.wasmModule instanceof WebAssembly.Module)) {
      throw new EmxError('INVALID_ARG', 'options.wasmModule must be a WebAssembly.Module');
    }
    return { module: options.wasmModule, variant: 'custom' };
  }
  if (options.wasmBinary !== undefined) {
    const bytes = asBytes(options.wasmBinary);
    if (!bytes) throw new EmxError('INVALID_ARG', 'options.wasmBinary must be an ArrayBuffer or Uint8Array');
    const key = options.wasmBinary;
    let p = moduleByBytes.get(key);
    if (!p) {
      p = WebAssembly.compile(bytes);
      moduleByBytes.set(key, p);
    }
    try {
      return { module: await p, variant: 'custom' };
    } catch (err) {
      moduleByBytes.delete(key);
      throw new EmxError('LOAD', `cannot compile options.wasmBinary: ${err.message}`, null, { cause: err });
    }
  }
  if (options.simd !== undefined && typeof options.simd !== 'boolean') {
    throw new EmxError('INVALID_ARG', 'options.simd must be a boolean');
  }
  const variant = (options.simd ?? simdSupported()) ? 'simd' : 'scalar';
  if (variant === 'simd' && !simdSupported()) {
    throw new EmxError('LOAD', 'this JavaScript engine does not support WebAssembly SIMD (use simd: false)');
  }
  const where = wasmLocation(variant, options);
  const key = describe(where);
  let p = moduleByLocation.get(key);
  if (!p) {
    p = compileFrom(where);
    moduleByLocation.set(key, p);
  }
  try {
    return { module: await p, variant };
  } catch (err) {
    moduleByLocation.delete(key); // let a later call retry (e.g. after the file was built)
    if (err instanceof EmxError) throw err;
    throw new EmxError('LOAD', `cannot compile ${key}: ${err.message}`, null, { cause: err });
  }
}

// WASI errno values (wasi_snapshot_preview1).
const WASI_ESPIPE = 70;
const WASI_ENOSYS = 52;

/**
 * One instance of the core with helpers over its memory. Views of the memory are created on
 * demand because memory.grow() (malloc growing the heap) detaches the old ArrayBuffer.
 */
class Wasm {
  static async create(module) {
    const self = new Wasm();
    const imports = {
      env: {
        // Standalone builds tell the embedder about heap growth; nothing to do since views
        // are never cached.
        emscripten_notify_memory_growth() {},
      },
      wasi_snapshot_preview1: {
        // The core writes nothing in normal operation; stdio output (if any) is dropped but
        // reported as written, so C stdio does not retry forever.
        fd_write(fd, iovs, iovsLen, nwritten) {
          const dv = new DataView(self.memory.buffer);
          let n = 0;
          for (let i = 0; i < iovsLen; i++) n += dv.getUint32(iovs + 8 * i + 4, true);
          dv.setUint32(nwritten, n, true);
          return 0;
        },
        fd_close() {
          return 0;
        },
        fd_seek() {
          return WASI_ESPIPE;
        },
        // exit()/abort() inside the core: unwind out of wasm; the instance is then unusable.
        proc_exit(code) {
          throw new EmxError('INTERNAL', `the wasm module exited (code ${code})`);
        },
      },
    };
    // Anything else the module imports (a future libc call): WASI functions report ENOSYS,
    // others throw when called. Instantiation itself never fails on a missing import.
    for (const imp of WebAssembly.Module.imports(module)) {
      const ns = (imports[imp.module] ??= {});
      if (imp.name in ns) continue;
      if (imp.kind !== 'function') {
        throw new EmxError('LOAD', `the wasm module imports ${imp.kind} ${imp.module}.${imp.name}, which this loader does not provide`);
      }
      ns[imp.name] =
        imp.module === 'wasi_snapshot_preview1'
          ? () => WASI_ENOSYS
          : () => {
              throw new EmxError('INTERNAL', `the wasm module called ${imp.module}.${imp.name}, which is not provided`);
            };
    }
    let instance;
    try {
      instance = await WebAssembly.instantiate(module, imports);
    } catch (err) {
      throw new EmxError('LOAD', `cannot instantiate the wasm module: ${err.message}`, null, { cause: err });
    }
    self.ex = instance.exports;
    self.memory = self.ex.memory;
    for (const name of ['memory', 'malloc', 'free', 'emx_wasm_load', 'emx_wasm_classify', 'emx_wasm_run', 'emx_wasm_decode']) {
      if (!(name in self.ex)) throw new EmxError('LOAD', `the wasm module does not export ${name}`);
    }
    // Reactor modules (--no-entry) run their static constructors here.
    if (typeof self.ex._initialize === 'function') self.call('_initialize');
    return self;
  }

  constructor() {
    this.ex = null;
    this.memory = null;
    this.broken = null; // set after a trap: the C heap may be inconsistent from then on
  }

  u8() {
    return new Uint8Array(this.memory.buffer);
  }

  /** Call an export; a trap (or exit) marks the instance broken and becomes an EmxError. */
  call(name, ...args) {
    if (this.broken) throw new EmxError('INTERNAL', `the wasm instance is unusable after an earlier error: ${this.broken}`);
    try {
      return this.ex[name](...args);
    } catch (err) {
      this.broken = err && err.message ? err.message : String(err);
      if (err instanceof EmxError) throw err;
      throw new EmxError('INTERNAL', `internal error in ${name}: ${this.broken}`, null, { cause: err });
    }
  }

  malloc(size) {
    const p = this.call('malloc', Math.max(1, size));
    if (!p) throw new EmxError('NO_MEMORY', `out of wasm memory allocating ${size} bytes`, ST_NO_MEMORY);
    return p >>> 0;
  }

  free(p) {
    if (p) this.call('free', p);
  }

  /** Copy bytes into a fresh allocation. */
  allocBytes(bytes) {
    const p = this.malloc(bytes.length);
    this.u8().set(bytes, p);
    return p;
  }

  allocString(s) {
    const b = new TextEncoder().encode(s);
    const p = this.malloc(b.length + 1);
    const u8 = this.u8();
    u8.set(b, p);
    u8[p + b.length] = 0;
    return p;
  }

  /** A NUL-terminated UTF-8 string at p (null for a NULL pointer). */
  string(p) {
    p >>>= 0;
    if (!p) return null;
    const u8 = this.u8();
    let end = p;
    while (end < u8.length && u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  }

  statusError(status, what) {
    const code = STATUS_CODE.get(status) ?? 'UNKNOWN';
    let text = null;
    try {
      text = this.string(this.call('emx_wasm_status_str', status));
    } catch {
      /* keep the code */
    }
    return new EmxError(code, `${what}: ${text ?? 'error'} (${code}, status ${status})`, status);
  }
}

// ---------------------------------------------------------------------------------------------
// Argument validation (JS side, so bad input never reaches C as garbage)

function isInt(n, lo, hi) {
  return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
}

function checkImage(image) {
  if (image === null || typeof image !== 'object') {
    throw new EmxError('INVALID_ARG', 'image must be an ImageData or {data, width, height, channels?}', ST_INVALID_ARG);
  }
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new EmxError('INVALID_ARG', 'image.data must be a Uint8Array or Uint8ClampedArray of 8-bit pixels', ST_INVALID_ARG);
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

function checkBox(box) {
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

// The META chunk's keys (FORMAT.md). Only called after the C loader accepted the file (magic,
// sizes and CRC checked), and still bounds-checked: any surprise just yields no keys.
function parseMetaKeys(bytes) {
  const keys = [];
  try {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = Math.min(dv.getUint32(8, true), bytes.length);
    const dec = new TextDecoder();
    let off = 16;
    while (off + 8 <= end) {
      const tag = String.fromCharCode(bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]);
      const size = dv.getUint32(off + 4, true);
      const body = off + 8;
      if (body + size > end) break;
      if (tag === 'META') {
        let p = body;
        const str = () => {
          const len = dv.getUint32(p, true);
          if (p + 4 + len > body + size) throw new Error('bad string');
          const s = dec.decode(bytes.subarray(p + 4, p + 4 + len));
          p += 4 + len;
          return s;
        };
        const n = dv.getUint32(p, true);
        p += 4;
        for (let i = 0; i < n; i++) {
          keys.push(str());
          str();
        }
        break;
      }
      off = body + ((size + 3) & ~3);
    }
  } catch {
    /* keep what we have */
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Models

/** A loaded model. Create with load(); release with dispose(). Not safe for re-entrant use. */
// detect()/analyze() options -> the C emx_detect_params, with the C defaults.
function checkDetectOptions(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new EmxError('INVALID_ARG', 'detect options must be an object', ST_INVALID_ARG);
  const num = (key, def, lo, hi) => {
    const v = options[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw new EmxError('INVALID_ARG', `options.${key} must be a number in ${lo}..${hi} (got ${String(v)})`, ST_INVALID_ARG);
    }
    return v;
  };
  const maxFaces = num('maxFaces', DEFAULT_MAX_FACES, 0, MAX_MAX_FACES);
  if (!Number.isInteger(maxFaces)) throw new EmxError('INVALID_ARG', `options.maxFaces must be an integer (got ${maxFaces})`, ST_INVALID_ARG);
  const tiles = num('tiles', 0, 0, MAX_TILES);
  if (!Number.isInteger(tiles)) throw new EmxError('INVALID_ARG', `options.tiles must be an integer in 0..${MAX_TILES} (got ${tiles})`, ST_INVALID_ARG);
  return {
    scoreThreshold: num('scoreThreshold', 0.5, 0, 1),
    iouThreshold: num('iouThreshold', 0.3, 0, 1),
    minFaceSize: num('minFaceSize', 0, 0, MAX_BOX_COORD),
    maxFaces,
    tiles,
  };
}

class Model {
  #w; // Wasm instance, null after dispose()
  #detector = 0; // emx_model* of the face detector in the same instance (lazy), or #model
  #detectorSource; // what load() was told to use for it
  #detectorLoading = null; // the pending first load, shared by concurrent calls
  #faces = 0; // face records for detect()/analyze(), grown on demand
  #facesCap = 0;
  #model = 0; // emx_model* in that instance
  #probs = 0; // num_classes floats, allocated once
  #input = 0; // the input tensor for run(), allocated once
  #pixels = 0; // pixel buffer for classify(), grown on demand, reused across calls
  #pixelsCap = 0;
  #inputLen;

  /** @internal use load() */
  constructor(w, modelPtr, variant, reference, bytes, detectorSource) {
    this.#w = w;
    this.#model = modelPtr;
    this.#detectorSource = detectorSource;
    const n = w.call('emx_wasm_num_classes', modelPtr);
    const names = [];
    for (let i = 0; i < n; i++) names.push(w.string(w.call('emx_wasm_class_name', modelPtr, i)) ?? `class${i}`);
    /** Class names in output order. */
    this.classNames = Object.freeze(names);
    /** The model's input tensor: height x width x channels floats, (pixel/255 - mean)/std. */
    this.inputSpec = Object.freeze({
      width: w.call('emx_wasm_input_width', modelPtr),
      height: w.call('emx_wasm_input_height', modelPtr),
      channels: w.call('emx_wasm_input_channels', modelPtr),
      mean: w.call('emx_wasm_input_mean', modelPtr),
      std: w.call('emx_wasm_input_std', modelPtr),
    });
    const meta = {};
    for (const key of new Set([...parseMetaKeys(bytes), ...KNOWN_META_KEYS])) {
      const kp = w.allocString(key);
      try {
        const v = w.string(w.call('emx_wasm_meta', modelPtr, kp));
        if (v !== null) meta[key] = v;
      } finally {
        w.free(kp);
      }
    }
    /** Metadata strings from the file (keys such as name, description, valid_accuracy). */
    this.meta = Object.freeze(meta);
    /** Which wasm build runs this model: 'simd', 'scalar' or 'custom' (wasmBinary/wasmModule). */
    this.variant = variant;
    /** Whether the plain C reference ops run instead of the optimised kernels. */
    this.reference = reference;
    this.#inputLen = this.inputSpec.width * this.inputSpec.height * this.inputSpec.channels;
    this.#probs = w.malloc(4 * Math.max(1, n));
    this.#input = w.malloc(4 * Math.max(1, this.#inputLen));
    /** Whether this file is a face detector (META task=detector): detect() only. */
    this.isDetector = meta.task === 'detector';
    if (this.isDetector) this.#detector = modelPtr;
  }

  #live() {
    if (!this.#w) throw new EmxError('DISPOSED', 'the model was disposed');
    return this.#w;
  }

  #readProbs(w) {
    const n = this.classNames.length;
    return new Float32Array(w.memory.buffer, this.#probs, n).slice();
  }

  /**
   * Classify a face. image: ImageData or {data, width, height, channels?}; box: the face in
   * pixel coordinates (whole image when omitted). Returns {label, scores}.
   */
  classify(image, box) {
    const w = this.#live();
    const img = checkImage(image);
    const b = checkBox(box);
    this.#upload(w, img);
    const st = w.call('emx_wasm_classify', this.#model, this.#pixels, img.width, img.height, img.channels,
      b ? 1 : 0, b ? b.x : 0, b ? b.y : 0, b ? b.width : 0, b ? b.height : 0, this.#probs);
    if (st !== 0) throw w.statusError(st, 'classify');
    const probs = this.#readProbs(w);
    const scores = {};
    let best = 0;
    for (let i = 0; i < probs.length; i++) {
      scores[this.classNames[i]] = probs[i];
      if (probs[i] > probs[best]) best = i;
    }
    return { label: this.classNames[best], scores };
  }

  /**
   * Why: classify a face and return a class activation map over the face crop the network
   * saw (the box, or the whole image, resized to the model input, e.g. 48 x 48):
   * {width, height, data: Float32Array (row-major), label, scores, explained}. explained is the
   * class the map is for: options.label (a class name or index), else the top class. The map
   * is the CAM (last features weighted by that class's dense weights, ensemble branches
   * weighted like their predictions; emx_explain in src/emoxnet.h), then normalised to 0..1:
   * negative evidence clipped to 0 (ReLU), divided by the maximum (all zeros when nothing is
   * positive). options.raw: true returns the unnormalised map (logit units) instead.
   */
  explain(image, box, options) {
    const { label, scores } = this.classify(image, box);
    const out = this.explainLast(options);
    return { ...out, label, scores };
  }

  /** The map of explain() for the most recent classify() or run(). */
  explainLast(options) {
    const w = this.#live();
    const o = options ?? {};
    if (typeof o !== 'object') throw new EmxError('INVALID_ARG', 'explain options must be an object', ST_INVALID_ARG);
    let idx = -1;
    if (o.label !== undefined && o.label !== null) {
      idx = typeof o.label === 'string' ? this.classNames.indexOf(o.label) : o.label;
      if (!isInt(idx, 0, this.classNames.length - 1)) {
        throw new EmxError('INVALID_ARG', `explain: unknown label ${String(o.label)} (one of ${this.classNames.join(', ')})`, ST_INVALID_ARG);
      }
    }
    const { width, height } = this.inputSpec;
    const mapPtr = w.malloc(4 * width * height);
    let data;
    try {
      const st = w.call('emx_wasm_explain', this.#model, idx, mapPtr, width, height);
      if (st !== 0) throw w.statusError(st, 'explain');
      data = new Float32Array(w.memory.buffer, mapPtr, width * height).slice();
    } finally {
      if (!w.broken) w.free(mapPtr);
    }
    if (idx < 0) {
      const probs = this.#readProbs(w);
      idx = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i] > probs[idx]) idx = i;
    }
    if (!o.raw) {
      let max = 0;
      for (const v of data) if (v > max) max = v;
      for (let i = 0; i < data.length; i++) data[i] = max > 0 && data[i] > 0 ? data[i] / max : 0;
    }
    return { width, height, data, explained: this.classNames[idx] };
  }

  #upload(w, img) {
    if (img.size > this.#pixelsCap) {
      // Grow with slack so a stream of slightly different sizes does not reallocate each time.
      const cap = Math.min(MAX_IMAGE_BYTES, Math.max(img.size, Math.ceil(this.#pixelsCap * 1.5)));
      w.free(this.#pixels);
      this.#pixels = 0;
      this.#pixelsCap = 0;
      this.#pixels = w.malloc(cap);
      this.#pixelsCap = cap;
    }
    w.u8().set(img.data, this.#pixels);
  }

  // Load the detector into this model's instance (once; concurrent callers share the load).
  async #ensureDetector() {
    if (this.#detector) return;
    if (!this.#detectorLoading) {
      this.#detectorLoading = (async () => {
        let bytes;
        try {
          bytes = await sourceBytes(this.#detectorSource);
        } catch (err) {
          if (err instanceof EmxError) throw new EmxError(err.code, `face detector: ${err.message}`, err.status, { cause: err });
          throw err;
        }
        const w = this.#live();
        if (this.#detector) return;
        const dataPtr = w.allocBytes(bytes);
        const statusPtr = w.malloc(4);
        let ptr = 0;
        let status;
        try {
          ptr = w.call('emx_wasm_load', dataPtr, bytes.length, this.reference ? 1 : 0, statusPtr) >>> 0;
          status = new Int32Array(w.memory.buffer, statusPtr, 1)[0];
        } finally {
          if (!w.broken) {
            w.free(dataPtr);
            w.free(statusPtr);
          }
        }
        if (status !== 0 || !ptr) throw w.statusError(status || ST_INVALID_ARG, 'loading the face detector');
        const keyPtr = w.allocString('task');
        const task = w.string(w.call('emx_wasm_meta', ptr, keyPtr));
        w.free(keyPtr);
        if (task !== 'detector') {
          w.call('emx_wasm_free', ptr);
          throw new EmxError('FORMAT', 'face detector: the file is not a detector (its META has no task=detector)', -7);
        }
        this.#detector = ptr;
      })();
      this.#detectorLoading.catch(() => {
        this.#detectorLoading = null; // a later call may try again (e.g. after a network error)
      });
    }
    await this.#detectorLoading;
  }

  async #faceCall(image, options, classify) {
    this.#live();
    const img = checkImage(image);
    const o = checkDetectOptions(options);
    if (classify && this.isDetector) {
      throw new EmxError('INVALID_ARG', 'analyze() needs an expression model; this model is a face detector (use detect())', ST_INVALID_ARG);
    }
    await this.#ensureDetector();
    const w = this.#live(); // disposed while the detector loaded?
    const nClasses = classify ? this.classNames.length : 0;
    const stride = w.call('emx_wasm_face_floats') + nClasses;
    const need = 4 * stride * Math.max(1, o.maxFaces);
    if (need > this.#facesCap) {
      w.free(this.#faces);
      this.#faces = 0;
      this.#facesCap = 0;
      this.#faces = w.malloc(need + 4); // + the face count
      this.#facesCap = need;
    }
    this.#upload(w, img);
    const countPtr = this.#faces + need;
    const st = classify
      ? w.call('emx_wasm_analyze', this.#detector, this.#model, this.#pixels, img.width, img.height, img.channels,
        o.scoreThreshold, o.iouThreshold, o.minFaceSize, o.maxFaces, o.tiles, this.#faces, countPtr)
      : w.call('emx_wasm_detect', this.#detector, this.#pixels, img.width, img.height, img.channels,
        o.scoreThreshold, o.iouThreshold, o.minFaceSize, o.maxFaces, o.tiles, this.#faces, countPtr);
    if (st !== 0) throw w.statusError(st, classify ? 'analyze' : 'detect');
    const n = new Int32Array(w.memory.buffer, countPtr, 1)[0];
    const rec = new Float32Array(w.memory.buffer, this.#faces, n * stride).slice();
    const faces = [];
    for (let i = 0; i < n; i++) {
      const r = rec.subarray(i * stride, (i + 1) * stride);
      const face = { box: { x: r[0], y: r[1], width: r[2], height: r[3] }, score: r[4] };
      if (r[5] > 0) {
        face.landmarks = [];
        for (let k = 0; k < r[5]; k++) face.landmarks.push({ x: r[6 + 2 * k], y: r[7 + 2 * k] });
      }
      if (classify) {
        const base = stride - nClasses;
        const label = r[base - 1];
        face.label = label >= 0 ? this.classNames[label] : null;
        face.scores = {};
        for (let c = 0; c < nClasses; c++) face.scores[this.classNames[c]] = r[base + c];
      }
      faces.push(face);
    }
    return faces;
  }

  /**
   * Find faces in a whole frame or photo. Resolves to [{box, score, landmarks}], best score
   * first (landmarks: the subject's right eye, left eye, nose tip, mouth, right ear, left ear).
   * options: {scoreThreshold = 0.5, iouThreshold = 0.3, minFaceSize = 0 (px), maxFaces = 32,
   * tiles = 0}. tiles N (2..4) also runs the detector on an N x N grid of overlapping windows
   * for small faces (group photos), at N * N + 1 times the detection cost (emx_detect_params).
   * The first call loads the face detector (models/blazeface.emx, or load()'s
   * options.detector) into this model's instance; later calls only compute.
   */
  async detect(image, options) {
    return this.#faceCall(image, options, false);
  }

  /**
   * detect(), then classify every face (cropped like FER+ faces, rotated so the eyes are
   * level): [{box, score, landmarks, label, scores}]. label is null for a face too large to
   * crop.
   */
  async analyze(image, options) {
    return this.#faceCall(image, options, true);
  }

  /** Run the network on a preprocessed input tensor (Float32Array, NHWC); returns the probabilities. */
  run(input) {
    const w = this.#live();
    if (!(input instanceof Float32Array)) {
      throw new EmxError('INVALID_ARG', 'run() takes a Float32Array', ST_INVALID_ARG);
    }
    if (input.length !== this.#inputLen) {
      const s = this.inputSpec;
      throw new EmxError('INVALID_ARG', `run() input has ${input.length} floats, expected ${s.height} x ${s.width} x ${s.channels} = ${this.#inputLen}`, ST_INVALID_ARG);
    }
    new Float32Array(w.memory.buffer, this.#input, this.#inputLen).set(input);
    const st = w.call('emx_wasm_run', this.#model, this.#input, this.#probs);
    if (st !== 0) throw w.statusError(st, 'run');
    return this.#readProbs(w);
  }

  /** Release the model and its wasm instance. Idempotent; later calls throw EmxError('DISPOSED'). */
  dispose() {
    const w = this.#w;
    if (!w) return;
    this.#w = null;
    if (!w.broken) {
      try {
        if (this.#detector && this.#detector !== this.#model) w.call('emx_wasm_free', this.#detector);
        w.call('emx_wasm_free', this.#model);
      } catch {
        /* the instance is dropped anyway */
      }
    }
    // The memory goes with the instance; nothing to free buffer by buffer.
    this.#model = this.#probs = this.#input = this.#pixels = this.#pixelsCap = 0;
    this.#detector = this.#faces = this.#facesCap = 0;
  }

  /** Whether dispose() was called. */
  get disposed() {
    return this.#w === null;
  }

  /** @internal for tests: the instance's memory (to check that calls do not leak). */
  get [Symbol.for('emoxnet.memory')]() {
    return this.#w ? this.#w.memory : null;
  }
}

function checkOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new EmxError('INVALID_ARG', 'options must be an object');
  if (options.locateFile !== undefined && typeof options.locateFile !== 'function') {
    throw new EmxError('INVALID_ARG', 'options.locateFile must be a function');
  }
  if (options.detector !== undefined && options.detector !== null && asBytes(options.detector) === null &&
      typeof options.detector !== 'string' && !(options.detector instanceof URL) &&
      !(typeof Blob !== 'undefined' && options.detector instanceof Blob)) {
    throw new EmxError('INVALID_ARG', 'options.detector must be .emx bytes, a URL or a path');
  }
  return options;
}

async function sourceBytes(source) {
  const direct = asBytes(source);
  if (direct) return direct;
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof source === 'string' && Object.prototype.hasOwnProperty.call(SHIPPED, source)) {
    return readBytes(new URL(SHIPPED[source], import.meta.url));
  }
  if (typeof source === 'string' || source instanceof URL) return readBytes(resolveLocation(source));
  throw new EmxError('INVALID_ARG', "load() takes .emx bytes (Uint8Array/ArrayBuffer), a URL or path, or 'lite' / 'ensemble'");
}

/**
 * Load a model. source: .emx bytes, a URL/path, or a shipped name ('lite', 'ensemble').
 * options: { wasmBinary, wasmModule, locateFile, simd, reference, detector }; detector: the
 * face detector detect()/analyze() load on first use (.emx bytes, URL or path; default the
 * shipped models/blazeface.emx).
 */
export async function load(source, options) {
  const opts = checkOptions(options);
  if (opts.reference !== undefined && typeof opts.reference !== 'boolean') {
    throw new EmxError('INVALID_ARG', 'options.reference must be a boolean');
  }
  const [bytes, { module, variant }] = await Promise.all([sourceBytes(source), getModule(opts)]);
  if (bytes.length === 0) throw new EmxError('TRUNCATED', 'load: the model is empty (0 bytes)', -5);
  const w = await Wasm.create(module);
  const reference = opts.reference === true;
  const dataPtr = w.malloc(bytes.length);
  const statusPtr = w.malloc(4);
  let modelPtr = 0;
  let status;
  try {
    w.u8().set(bytes, dataPtr);
    modelPtr = w.call('emx_wasm_load', dataPtr, bytes.length, reference ? 1 : 0, statusPtr) >>> 0;
    status = new Int32Array(w.memory.buffer, statusPtr, 1)[0];
  } finally {
    // The core copies what it needs, so the file bytes can go right away.
    if (!w.broken) {
      w.free(dataPtr);
      w.free(statusPtr);
    }
  }
  if (status !== 0 || !modelPtr) throw w.statusError(status || ST_INVALID_ARG, 'load');
  const detector = opts.detector ?? new URL(SHIPPED_DETECTOR, import.meta.url);
  return new Model(w, modelPtr, variant, reference, bytes, detector);
}

// ---------------------------------------------------------------------------------------------
// Image decoding

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
 * Draw faces (from detect() or analyze(): boxes, and "label NN%" or "face NN%") on a copy of
 * the image and encode it as PNG (stb_image_write in the core). Resolves to the PNG bytes.
 * faces may be empty (the image is just encoded). options select the wasm build as for load().
 */
export async function annotate(image, faces, options) {
  const img = checkImage(image);
  if (!Array.isArray(faces)) throw new EmxError('INVALID_ARG', 'annotate() takes an array of faces', ST_INVALID_ARG);
  const boxes = new Float32Array(4 * faces.length);
  const labels = [];
  faces.forEach((f, i) => {
    const b = checkBox(f && f.box);
    if (!b) throw new EmxError('BOX', `faces[${i}].box is missing`, ST_BOX);
    boxes.set([b.x, b.y, b.width, b.height], 4 * i);
    const pct = (v) => `${Math.round(100 * (Number.isFinite(v) ? v : 0))}%`;
    labels.push(f.label ? `${f.label} ${pct(f.scores?.[f.label])}` : `face ${pct(f.score)}`);
  });
  const text = new TextEncoder().encode(labels.map((l) => l.replace(/[^\x20-\x7e]/g, '?') + '\0').join(''));
  const { module, w } = await decoderInstance(options);
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

/**
 * Decode PNG or JPEG bytes with the core's stb_image. Returns {data, width, height, channels}
 * with channels 1 (gray), 3 (RGB) or 4 (RGBA); gray+alpha images come back as gray, so the
 * result can always be passed to classify().
 */
export async function decodeImage(bytes, options) {
  const src = asBytes(bytes);
  if (!src) throw new EmxError('INVALID_ARG', 'decodeImage() takes a Uint8Array or ArrayBuffer', ST_INVALID_ARG);
  if (src.length === 0) throw new EmxError('DECODE', 'decodeImage: no bytes to decode', ST_DECODE);
  const { module, w } = await decoderInstance(options);
  let inPtr = 0;
  let outPtr = 0;
  try {
    inPtr = w.allocBytes(src);
    outPtr = w.malloc(16);
    const st = w.call('emx_wasm_decode', inPtr, src.length, outPtr);
    if (st !== 0) throw w.statusError(st, 'decodeImage');
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
    if (w.broken) {
      decoders.delete(module);
    } else {
      w.free(inPtr);
      w.free(outPtr);
    }
  }
}
