// wasm.js - picking, compiling and instantiating the core's .wasm, and the Wasm class: one
// instance with helpers over its memory.
//
// Why no Emscripten glue: the core is linked as a standalone .wasm (-sSTANDALONE_WASM) and
// instantiated here. Emscripten 3.1.6's generated JS breaks on Node 20 (it fetch()es file
// paths), drags in a virtual file system we do not need, and is not an ES module that bundlers
// handle well. The module only needs a handful of WASI imports, stubbed below.
import { EmxError, STATUS_CODE, ST_NO_MEMORY, coreError, invalidArg } from './errors.js';
import { CORE_LIMITS } from './image.js';
import { asBytes, byteView, describe, firstBytes, isLocalFile, readBytes, resolveLocation } from './io.js';
import { ASSET_HINT, WASM_FILES, assetLocation, isDefaultLocation } from './assets.js';

// A tiny module using a SIMD128 instruction (i8x16.splat + i8x16.popcnt), as in
// wasm-feature-detect: validate() says whether this engine runs the SIMD build.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);
let simdCache;

/** Whether this JavaScript engine supports WebAssembly SIMD (128-bit). */
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

// A tiny module using the relaxed-SIMD instruction the relaxed build is made of:
// (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))), with
// the final opcode 0xfd 0x85 0x02. Chromium >= 114 validates it; Node 20 only with
// --experimental-wasm-relaxed-simd, so there the SIMD128 build runs.
const V128_ZERO = [253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 253, 133, 2, 11,
]);
let relaxedCache;

/** Whether this JavaScript engine supports WebAssembly relaxed SIMD (fused multiply-add). */
export function relaxedSimdSupported() {
  if (relaxedCache === undefined) {
    try {
      relaxedCache = simdSupported() && WebAssembly.validate(RELAXED_PROBE);
    } catch {
      relaxedCache = false;
    }
  }
  return relaxedCache;
}

/**
 * Which build load() options pick: 'relaxed' (relaxed SIMD: fused multiply-add), 'simd'
 * (SIMD128) or 'scalar', the fastest this engine runs unless options say otherwise
 * (simd: false -> scalar; relaxed: false -> SIMD128; true for either insists, and throws where
 * the engine cannot run it).
 */
export function pickVariant(options = {}) {
  for (const key of ['simd', 'relaxed']) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw invalidArg(`options.${key} must be a boolean`);
  }
  if (options.simd === false) {
    if (options.relaxed === true) throw invalidArg('options.relaxed: true needs SIMD (not simd: false)');
    return 'scalar';
  }
  if (!simdSupported()) {
    if (options.simd === true || options.relaxed === true) {
      throw new EmxError('LOAD', 'this JavaScript engine does not support WebAssembly SIMD (use simd: false)');
    }
    return 'scalar';
  }
  if (options.relaxed === true && !relaxedSimdSupported()) {
    throw new EmxError('LOAD', 'this JavaScript engine does not support WebAssembly relaxed SIMD (use relaxed: false; Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  return options.relaxed !== false && relaxedSimdSupported() ? 'relaxed' : 'simd';
}

// Node 20 (and 22 before 22.16) can deadlock while an asynchronous WebAssembly compile or
// instantiate is all the process waits for: with no active handle its event loop goes idle and
// the main thread blocks until every background task has finished (NodePlatform::DrainTasks),
// while a background TurboFan job waits for the main thread to collect garbage
// (nodejs/node#54918, fixed by #58047). The process then hangs for ever: our CI's Node stage
// stalled in tests/js/classify.test.js (sessions 20 and 22), 1 run in 26 of that file alone.
// A timer keeps the loop in its poll, where the compile's and the collector's foreground tasks
// wake it, until the promise settles. Harmless in browsers and in fixed Nodes.
export async function keepLoopAlive(promise) {
  const timer = typeof setInterval === 'function' ? setInterval(() => {}, 2 ** 30) : null;
  try {
    return await promise;
  } finally {
    if (timer !== null) clearInterval(timer);
  }
}

// Compiled modules, shared by all models: key = URL/path of the .wasm (or the bytes object the
// caller handed in). Promises, so concurrent load() calls compile once.
const moduleByLocation = new Map();
const moduleByBytes = new WeakMap();

const WASM_MAGIC = [0, 0x61, 0x73, 0x6d];

async function compileFrom(where, hint) {
  if (!isLocalFile(where) && typeof WebAssembly.compileStreaming === 'function' && typeof fetch === 'function') {
    // Streaming compilation overlaps download and compilation; it refuses responses without
    // the application/wasm MIME type, in which case we fall back to bytes.
    try {
      const res = await fetch(where);
      if (res.ok) return await WebAssembly.compileStreaming(res);
    } catch {
      /* fall through */
    }
  }
  const { bytes, from } = await readBytes(where, hint);
  if (!WASM_MAGIC.every((b, i) => bytes[i] === b)) {
    // Typically a dev server's index.html fallback for a file it does not have.
    throw new EmxError('LOAD', `${describe(where)} is not a WebAssembly module: got ${from}, body ${firstBytes(bytes)}${hint ? ` (${hint})` : ''}`);
  }
  return WebAssembly.compile(bytes);
}

function wasmLocation(variant, options) {
  const file = WASM_FILES[variant];
  const fallback = assetLocation(file, options);
  if (typeof options.locateFile === 'function') {
    const loc = options.locateFile(file, fallback);
    if (loc !== undefined && loc !== null) return resolveLocation(loc);
  }
  return fallback;
}

/** The WebAssembly.Module to use, per options: { wasmModule | wasmBinary | locateFile | baseUrl | simd | relaxed }. */
export async function getModule(options) {
  if (options.wasmModule !== undefined) {
    if (!(options.wasmModule instanceof WebAssembly.Module)) {
      throw invalidArg('options.wasmModule must be a WebAssembly.Module');
    }
    return { module: options.wasmModule, variant: 'custom' };
  }
  if (options.wasmBinary !== undefined) {
    const bytes = asBytes(options.wasmBinary);
    if (!bytes) throw invalidArg('options.wasmBinary must be an ArrayBuffer or Uint8Array');
    const key = options.wasmBinary;
    let p = moduleByBytes.get(key);
    if (!p) {
      p = keepLoopAlive(WebAssembly.compile(bytes));
      moduleByBytes.set(key, p);
    }
    try {
      return { module: await p, variant: 'custom' };
    } catch (err) {
      moduleByBytes.delete(key);
      throw new EmxError('LOAD', `cannot compile options.wasmBinary: ${err.message}`, null, { cause: err });
    }
  }
  const variant = pickVariant(options);
  try {
    return await moduleOf(variant, options);
  } catch (err) {
    // The relaxed build picked by default (not asked for) and missing where the app serves the
    // package's files (a folder copied by an older `emoxnet assets`, a CDN without it): run the
    // SIMD128 build as before it existed, rather than fail.
    if (variant !== 'relaxed' || options.relaxed === true || !(err instanceof EmxError) || err.code !== 'LOAD') throw err;
    return moduleOf('simd', options);
  }
}

async function moduleOf(variant, options) {
  const where = wasmLocation(variant, options);
  const key = describe(where);
  let p = moduleByLocation.get(key);
  if (!p) {
    // the whole of it kept alive: the bytes' compile and compileStreaming's, which goes on
    // after the download's socket has closed
    p = keepLoopAlive(compileFrom(where, isDefaultLocation(options) && !isLocalFile(where) ? ASSET_HINT : null));
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
 * One instance per model: each has its own linear memory, so models are fully independent
 * (like emx_model in C: no global state) and dispose() gives everything back by dropping the
 * instance. Compiled WebAssembly.Modules are shared, so a second model costs an
 * instantiation, not a compilation.
 */
export class Wasm {
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
      instance = await keepLoopAlive(WebAssembly.instantiate(module, imports));
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
    this.limitsCache = null;
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

  /** Copy bytes (a BufferSource, read as io.js byteView does) into a fresh allocation. */
  allocBytes(bytes) {
    const src = byteView(bytes);
    const p = this.malloc(src.length);
    this.u8().set(src, p);
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

  /** The EmxError code of an emx_status: the core's own name when it exports one. */
  statusCode(status) {
    if (typeof this.ex.emx_wasm_status_name === 'function' && !this.broken) {
      try {
        const name = this.string(this.call('emx_wasm_status_name', status));
        if (name && name !== 'UNKNOWN') return name;
      } catch {
        /* fall back to the table */
      }
    }
    return STATUS_CODE.get(status) ?? 'UNKNOWN';
  }

  statusError(status, what) {
    const code = this.statusCode(status);
    let text = null;
    try {
      text = this.string(this.call('emx_wasm_status_str', status));
    } catch {
      /* keep the code */
    }
    return new EmxError(code, `${what}: ${text ?? 'error'} (${code}, status ${status})`, status);
  }

  /**
   * The core's limits and default load budgets (emx_wasm_limit; for a build without it, the
   * same numbers as known here): {maxSide, maxPixels} for images (image.js checkImage),
   * maxClasses, maxTiles, and the budgets maxMacs, maxMemoryBytes, maxOps, maxMetaKeys.
   */
  get limits() {
    if (!this.limitsCache) {
      const out = { ...CORE_LIMITS };
      if (typeof this.ex.emx_wasm_limit === 'function') {
        const get = (which) => this.call('emx_wasm_limit', which);
        out.maxSide = get(0);
        out.maxPixels = get(1);
        out.maxClasses = get(2);
        out.maxTiles = get(4);
        out.maxMacs = get(5) * 1e6;
        out.maxMemoryBytes = get(6) * 2 ** 20;
        out.maxOps = get(7);
        out.maxMetaKeys = get(8);
      }
      this.limitsCache = Object.freeze(out);
    }
    return this.limitsCache;
  }

  /**
   * The one way a model file gets into an instance (expression models and the detector):
   * copy the bytes in, let the C core validate and unpack them, free the copy. Returns the
   * emx_model pointer; throws the C status as an EmxError prefixed with `what`. budget: load()'s
   * options.budget ({maxMacs, maxMemoryBytes, maxOps, maxMetaKeys}; absent ones take the core's
   * defaults), passed to emx_wasm_load_budget where the build has it.
   */
  loadModel(bytes, reference, what, budget = {}) {
    const src = byteView(bytes);
    const withBudget = typeof this.ex.emx_wasm_load_budget === 'function';
    if (!withBudget && (budget.maxMacs || budget.maxMemoryBytes || budget.maxOps)) {
      // (maxMetaKeys is also checked in JS: meta.js)
      throw coreError('UNSUPPORTED', `${what}: this wasm build has no load budgets (emx_wasm_load_budget); options.budget needs a newer build`);
    }
    const dataPtr = this.malloc(src.length);
    const statusPtr = this.malloc(4);
    let ptr = 0;
    let status;
    try {
      this.u8().set(src, dataPtr);
      ptr = withBudget
          ? this.call('emx_wasm_load_budget', dataPtr, src.length, reference ? 1 : 0, budget.maxMacs ?? 0,
            budget.maxMemoryBytes ?? 0, budget.maxOps ?? 0, budget.maxMetaKeys ?? 0, statusPtr) >>> 0
          : this.call('emx_wasm_load', dataPtr, src.length, reference ? 1 : 0, statusPtr) >>> 0;
      status = new Int32Array(this.memory.buffer, statusPtr, 1)[0];
    } finally {
      // The core copies what it needs, so the file bytes can go right away.
      if (!this.broken) {
        this.free(dataPtr);
        this.free(statusPtr);
      }
    }
    if (status !== 0 || !ptr) throw this.statusError(status || -1, what);
    return ptr;
  }

  /** The model's META value for key (null when absent). */
  meta(modelPtr, key) {
    const kp = this.allocString(key);
    try {
      return this.string(this.call('emx_wasm_meta', modelPtr, kp));
    } finally {
      this.free(kp);
    }
  }
}
