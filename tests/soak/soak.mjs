// soak.mjs - long-running robustness check of the WebAssembly module through its JS API
// (wasm/emoxnet.js): many classify() calls must leave WebAssembly memory and the JS heap flat,
// and load/dispose cycles (successful and failing) must give every instance back.
//
//   node --expose-gc tests/soak/soak.mjs [--calls N] [--cycles N] [--scalar]
//
// Defaults: 100,000 classify calls on a 48x48 gray frame, then 100,000 on random frames
// (1..256 px a side, 1/3/4 channels, with and without a box), 1,000 load/dispose cycles and
// 1,000 failing loads, on tests/golden/vgg.emx; then 10,000 analyze() calls (face detector +
// models/emoxnet-lite.emx) on a 640x480 frame holding one FER+ face upscaled to 200 px (a
// face-less frame when ../shared/data/ferplus is absent), every other one with explain: true
// (each face's class activation map: a maps buffer allocated and freed per call), with the same
// memory bounds. Prints the figures as one JSON line at the end
// and exits 1 when a bound is exceeded. Slow (minutes): not part of `npm test`.
//
// Bounds and why:
//  * WebAssembly memory may not grow at all after warm-up (0 bytes). The module never shrinks
//    its memory, so any leak of L bytes per call shows up as growth once N * L exceeds the free
//    heap, which is at most the memory size M: with N = 100,000 and M = 8 MiB (the initial
//    memory, which these calls never grow), every leak of 84 bytes or more per call is caught
//    (a leaked crop or resized image would be >= 48*48 bytes). Smaller leaks need a heap-in-use figure the JS
//    API does not expose (see docs/ROBUSTNESS.md); the C core's leaks are covered exactly by
//    LeakSanitizer (fuzzers, EMX_SANITIZE ctest) and valgrind.
//  * JS heap (heapUsed after a full GC) may grow by at most 2 MiB over 100,000 calls, i.e.
//    under 21 bytes per call: less than any JS object a call could retain (an empty object
//    is already 28+ bytes, a Float32Array view far more), while leaving room for V8's own
//    caches (inline caches, code) settling after warm-up.
//  * load/dispose: of 1,000 disposed models' memories, at most 16 may still be alive after
//    GC (finalizers run late), and RSS may grow by at most 64 MiB, where keeping even one in
//    eight instances (8 MiB of initial memory each) would add 1 GiB.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { load, decodeImage, EmxError } from '../../wasm/emoxnet.js';

const MEM = Symbol.for('emoxnet.memory');
const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CALLS = opt('--calls', 100000);
const CYCLES = opt('--cycles', 1000);
const ANALYZE = opt('--analyze', 10000);
const SIMD = !args.includes('--scalar');
const MODEL = fileURLToPath(new URL('../golden/vgg.emx', import.meta.url));

if (typeof globalThis.gc !== 'function') {
  console.error('soak.mjs: run with node --expose-gc');
  process.exit(2);
}

// xorshift32: the same frames on every run.
let seed = 0x9e3779b9;
function rand() {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

async function settle() {
  // Two GCs with turns of the event loop between them, so FinalizationRegistry callbacks and
  // weak references are processed.
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

function frame(w, h, c) {
  const data = new Uint8Array(w * h * c);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 + w * 7 + h) >>> 24;
  return { data, width: w, height: h, channels: c };
}

const failures = [];
function bound(name, value, max, unit) {
  const ok = value <= max;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${value} ${unit} (bound ${max})`);
  if (!ok) failures.push(name);
}

async function soakClassify(model, label, frames, pick) {
  const mem = model[MEM];
  // Warm-up: every frame once (the JS pixel buffer grows to the largest, the C heap reaches
  // its steady state), then the baseline.
  for (const f of frames) model.classify(f.image, f.box);
  await settle();
  const mem0 = mem.buffer.byteLength;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let checksum = 0;
  for (let i = 0; i < CALLS; i++) {
    const f = frames[pick(i)];
    const { scores } = model.classify(f.image, f.box);
    if (i % 1000 === 0) checksum += Object.values(scores).reduce((a, b) => a + b, 0);
  }
  const ms = performance.now() - t0;
  await settle();
  const mem1 = mem.buffer.byteLength;
  const heap1 = process.memoryUsage().heapUsed;
  const res = {
    calls: CALLS,
    us_per_call: +((ms * 1000) / CALLS).toFixed(1),
    wasm_memory_bytes: mem1,
    wasm_growth_bytes: mem1 - mem0,
    js_heap_before: heap0,
    js_heap_growth_bytes: heap1 - heap0,
  };
  console.log(`${label}: ${JSON.stringify(res)}`);
  if (Math.abs(checksum / Math.ceil(CALLS / 1000) - 1) > 1e-3) failures.push(`${label}: scores do not sum to 1`);
  bound(`${label} wasm memory growth`, res.wasm_growth_bytes, 0, 'bytes');
  bound(`${label} JS heap growth`, res.js_heap_growth_bytes, 2 * MiB, 'bytes');
  return res;
}

async function soakLoad(bytes) {
  const damaged = bytes.slice();
  damaged[damaged.length - 1] ^= 0xff; // CRC mismatch: load fails inside C, after instantiation
  const memories = new FinalizationRegistry(() => collected++);
  let collected = 0;
  let registered = 0;
  // Warm-up, then baseline.
  for (let i = 0; i < 10; i++) (await load(bytes, { simd: SIMD })).dispose();
  await settle();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const img = frame(48, 48, 1).data;
  let failed = 0;
  for (let i = 0; i < CYCLES; i++) {
    const m = await load(bytes, { simd: SIMD });
    memories.register(m[MEM], i);
    registered++;
    m.classify({ data: img, width: 48, height: 48, channels: 1 });
    m.dispose();
    try {
      await load(damaged, { simd: SIMD });
    } catch (err) {
      if (err instanceof EmxError && err.code === 'CHECKSUM') failed++;
      else throw err;
    }
    if (i % 100 === 99) await settle();
  }
  const ms = performance.now() - t0;
  await settle();
  await settle();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  const res = {
    cycles: CYCLES,
    failing_loads: failed,
    ms_per_cycle: +(ms / CYCLES).toFixed(2),
    memories_alive: registered - collected,
    rss_growth_bytes: rss1 - rss0,
    js_heap_growth_bytes: heap1 - heap0,
  };
  console.log(`load/dispose: ${JSON.stringify(res)}`);
  if (failed !== CYCLES) failures.push('damaged model did not fail with CHECKSUM every time');
  bound('load/dispose memories still alive', res.memories_alive, 16, 'instances');
  bound('load/dispose RSS growth', res.rss_growth_bytes, 64 * MiB, 'bytes');
  bound('load/dispose JS heap growth', res.js_heap_growth_bytes, 2 * MiB, 'bytes');
  return res;
}

const bytes = new Uint8Array(readFileSync(MODEL));
const model = await load(bytes, { simd: SIMD });
const spec = model.inputSpec;
console.log(`model ${MODEL} (${spec.width}x${spec.height}x${spec.channels}, ${model.variant}), node ${process.version}`);

// 1. The common case: frames already at the input size (FER+ style 48x48 crops).
const fixed = [];
for (let k = 0; k < 8; k++) {
  const f = frame(48, 48, 1);
  f.data.fill(k * 31, 0, 48 * k);
  fixed.push({ image: f, box: undefined });
}
const r48 = await soakClassify(model, '48x48', fixed, (i) => i & 7);

// 2. Random frames: sizes 1..256, 1/3/4 channels, no box / box inside / box half outside.
const pool = [];
for (let k = 0; k < 64; k++) {
  const w = randInt(1, 256);
  const h = randInt(1, 256);
  const c = [1, 3, 4][randInt(0, 2)];
  const kind = randInt(0, 2);
  let box;
  if (kind === 1) {
    const bw = randInt(1, w);
    const bh = randInt(1, h);
    box = { x: randInt(0, w - bw) + rand(), y: randInt(0, h - bh) + rand(), width: bw, height: bh };
  } else if (kind === 2) {
    box = { x: -w / 2 + rand(), y: h / 3, width: w * 1.5, height: h * (0.5 + rand()) };
  }
  pool.push({ image: frame(w, h, c), box });
}
const rRand = await soakClassify(model, 'random frames', pool, () => randInt(0, pool.length - 1));
model.dispose();

const rLoad = await soakLoad(bytes);

// 3. analyze(): detection + alignment + classification of whole frames.
async function soakAnalyze(n) {
  const lite = await load(fileURLToPath(new URL('../../models/emoxnet-lite.emx', import.meta.url)), { simd: SIMD });
  const W = 640, H = 480, S = 200;
  const img = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
  const facePath = fileURLToPath(new URL('../../../shared/data/ferplus/FER2013Valid/fer0028642.png', import.meta.url));
  let expected = 0;
  if (existsSync(facePath)) {
    const face = await decodeImage(readFileSync(facePath));
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const v = face.data[(Math.floor((y * 48) / S) * 48 + Math.floor((x * 48) / S)) * face.channels];
        img.data.fill(v, ((130 + y) * W + 220 + x) * 3, ((130 + y) * W + 221 + x) * 3);
      }
    }
    expected = 1;
  }
  const mem = lite[MEM];
  // warm-up: detector loaded, heaps settled (with and without maps)
  for (let i = 0; i < 20; i++) await lite.analyze(img, { explain: (i & 1) === 1 });
  await settle();
  const mem0 = mem.buffer.byteLength;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let wrongCount = 0;
  for (let i = 0; i < n; i++) {
    const explain = (i & 1) === 1;
    const faces = await lite.analyze(img, { explain });
    if (faces.length !== expected || (explain && faces.some((f) => !f.cam))) wrongCount++;
  }
  const ms = performance.now() - t0;
  await settle();
  const res = {
    calls: n,
    faces_per_frame: expected,
    frames_with_other_count: wrongCount,
    ms_per_call: +(ms / n).toFixed(2),
    wasm_growth_bytes: mem.buffer.byteLength - mem0,
    js_heap_growth_bytes: process.memoryUsage().heapUsed - heap0,
  };
  console.log(`analyze: ${JSON.stringify(res)}`);
  if (wrongCount) failures.push(`analyze found a different number of faces in ${wrongCount} frames`);
  bound('analyze wasm memory growth', res.wasm_growth_bytes, 0, 'bytes');
  bound('analyze JS heap growth', res.js_heap_growth_bytes, 2 * MiB, 'bytes');
  lite.dispose();
  return res;
}
const rAnalyze = ANALYZE > 0 ? await soakAnalyze(ANALYZE) : null;
console.log(JSON.stringify({ simd: SIMD, node: process.version, fixed48: r48, random: rRand, load: rLoad, analyze: rAnalyze }));
if (failures.length) {
  console.error(`soak FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('soak ok');
