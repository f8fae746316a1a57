// engines.bench.js - the same network, the same weights, three WebAssembly engines, single
// thread, after warm-up: our core (wasm/dist/emoxnet-simd.wasm), TF.js with
// @tensorflow/tfjs-backend-wasm (XNNPACK inside; the network rebuilt in TF.js layers, our
// weights loaded) and onnxruntime-web (wasm, SIMD) on the ONNX export of the same PyTorch model.
// Then batches of 1/4/16 faces, and face-api.js's expression net (@vladmandic/face-api, its
// shipped weights) on the same crops: speed and FER+ Valid accuracy under our protocol.
//
//   /usr/bin/python3 training/export_onnx.py        # writes build/bench/{lite,large}.*
//   node --no-experimental-fetch tests/bench/engines.bench.js [--runs N] [--skip-accuracy]
//
// All three engines run one pass (no flip TTA): build/bench/*.emx are exported without it.
// Outputs are checked equal to ours within 1e-4 on 3 inputs before anything is timed.
// Peak WASM memory: every WebAssembly.Memory an engine creates or exports is recorded (memory
// only grows, so its size after the runs is the peak).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
let runs = 200;
let skipAccuracy = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Math.max(200, Number(args[++i]));
  else if (args[i] === '--skip-accuracy') skipAccuracy = true;
  else throw new Error(`unknown argument ${args[i]}`);
}
const benchDir = join(root, 'build', 'bench');
if (!existsSync(join(benchDir, 'lite.graph.json'))) {
  console.log('build/bench/ is missing: run /usr/bin/python3 training/export_onnx.py first');
  process.exit(1);
}

// ---- record WebAssembly memories per engine -------------------------------------------------
let engineTag = 'none';
const memories = new Map(); // tag -> Set<WebAssembly.Memory>
function noteMemories(obj) {
  if (!obj) return;
  const set = memories.get(engineTag) ?? new Set();
  memories.set(engineTag, set);
  const scan = (o) => {
    for (const v of Object.values(o)) {
      if (v instanceof WebAssembly.Memory) set.add(v);
      else if (v && typeof v === 'object' && !(v instanceof WebAssembly.Module)) {
        for (const w of Object.values(v)) if (w instanceof WebAssembly.Memory) set.add(w);
      }
    }
  };
  scan(obj);
}
{
  const inst = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (src, imports) {
    noteMemories(imports);
    const r = await inst.call(WebAssembly, src, imports);
    noteMemories((r.instance ?? r).exports);
    return r;
  };
  const instS = WebAssembly.instantiateStreaming;
  if (instS) {
    WebAssembly.instantiateStreaming = async function (src, imports) {
      noteMemories(imports);
      const r = await instS.call(WebAssembly, src, imports);
      noteMemories(r.instance.exports);
      return r;
    };
  }
  const Inst = WebAssembly.Instance;
  WebAssembly.Instance = new Proxy(Inst, {
    construct(T, a) {
      noteMemories(a[1]);
      const r = new T(...a);
      noteMemories(r.exports);
      return r;
    },
  });
}
// ORT and TF.js keep one module per process (all their models share it, so the figure after a
// network's runs is the peak so far); ours has one instance per model.
const memMiB = (tag) => {
  let b = 0;
  for (const m of memories.get(tag) ?? []) b += m.buffer.byteLength;
  return b ? (b / 2 ** 20).toFixed(1) : 'n/a';
};

// ---- engines --------------------------------------------------------------------------------
const { load } = await import('../../wasm/emoxnet.js');
const tf = require('@tensorflow/tfjs');
const tfwasm = require('@tensorflow/tfjs-backend-wasm');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the single-thread SIMD build
tfwasm.setThreadsCount(1);
tfwasm.setWasmPaths(join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
engineTag = 'tfjs';
await tf.setBackend('wasm');
await tf.ready();
engineTag = 'none';
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
async function time(fn, n = runs) {
  for (let i = 0; i < Math.max(50, n / 4); i++) await fn(); // warm-up: V8 tier-up, allocator
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { med: pct(t, 0.5), p95: pct(t, 0.95) };
}

function tfModel(graph, bin) {
  const f32 = (r) => new Float32Array(bin.buffer, bin.byteOffset + r.offset, r.shape.reduce((a, b) => a * b, 1));
  const t = {};
  const weights = [];
  for (const L of graph.layers) {
    const x = L.inputs.map((n) => t[n]);
    let y;
    if (L.op === 'input') y = tf.input({ shape: graph.input });
    else if (L.op === 'conv') {
      const [kh, kw] = L.kernel;
      const same = L.stride[0] === 1 && L.stride[1] === 1 && L.pad[0] === (kh >> 1) && L.pad[1] === (kw >> 1);
      let z = x[0];
      if (!same && (L.pad[0] || L.pad[1])) {
        z = tf.layers.zeroPadding2d({ padding: [[L.pad[0], L.pad[0]], [L.pad[1], L.pad[1]]] }).apply(z);
      }
      const layer = tf.layers.conv2d({ filters: L.filters, kernelSize: L.kernel, strides: L.stride,
        padding: same ? 'same' : 'valid', useBias: true });
      y = layer.apply(z);
      weights.push([layer, [tf.tensor(f32(L.w), L.w.shape), tf.tensor(f32(L.b), L.b.shape)]]);
    } else if (L.op === 'relu') y = tf.layers.reLU().apply(x[0]);
    else if (L.op === 'maxpool') y = tf.layers.maxPooling2d({ poolSize: L.kernel, strides: L.stride }).apply(x[0]);
    else if (L.op === 'gap') y = tf.layers.globalAveragePooling2d({}).apply(x[0]);
    else if (L.op === 'add') y = tf.layers.add().apply(x);
    else if (L.op === 'dense') {
      const layer = tf.layers.dense({ units: L.units });
      y = layer.apply(x[0]);
      weights.push([layer, [tf.tensor(f32(L.w), L.w.shape), tf.tensor(f32(L.b), L.b.shape)]]);
    } else if (L.op === 'softmax') y = tf.layers.softmax().apply(x[0]);
    else throw new Error(`unknown op ${L.op}`);
    t[L.name] = y;
  }
  const model = tf.model({ inputs: t[graph.layers[0].name], outputs: t.probs });
  for (const [layer, w] of weights) {
    layer.setWeights(w);
    tf.dispose(w);
  }
  return model;
}

function inputs(n, seed) {
  const x = new Float32Array(n * 48 * 48);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 2; // N(0,1)-like range of a normalised face
  }
  return x;
}
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const rows = [];
const batchRows = [];
// member: the shipped ensemble's largest member (trained weights), when export_onnx.py wrote it
const LABELS = { lite: 'EmoXNetLite', member: 'largest shipped member', large: 'largest design member' };
for (const name of ['lite', 'member', 'large'].filter((n) => existsSync(join(benchDir, `${n}.graph.json`)))) {
  const graph = JSON.parse(readFileSync(join(benchDir, `${name}.graph.json`), 'utf8'));
  const bin = readFileSync(join(benchDir, `${name}.weights.bin`));
  const emxPath = join(benchDir, `${name}.emx`);
  const onnxPath = join(benchDir, `${name}.onnx`);

  engineTag = `ours:${name}`;
  const ours = await load(emxPath, { simd: true });
  engineTag = `tfjs:${name}`;
  const tm = tfModel(graph, bin);
  engineTag = 'ort';
  const sess = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', intraOpNumThreads: 1,
  });
  engineTag = 'none';

  const runOurs = (x, n) => {
    const out = new Float32Array(n * 8);
    for (let i = 0; i < n; i++) out.set(ours.run(x.subarray(i * 2304, (i + 1) * 2304)), i * 8);
    return out;
  };
  const runTf = (x, n) => {
    const xt = tf.tensor4d(x, [n, 48, 48, 1]);
    const y = tm.predict(xt);
    const d = y.dataSync();
    tf.dispose([xt, y]);
    return d;
  };
  // NCHW with one channel has the same memory layout as NHWC: the same Float32Array feeds all.
  const runOrt = async (x, n) => (await sess.run({ input: new ort.Tensor('float32', x, [n, 1, 48, 48]) })).probs.data;

  let dTf = 0, dOrt = 0;
  for (let k = 0; k < 3; k++) {
    const x = inputs(1, 77 + k);
    const a = runOurs(x, 1);
    dTf = Math.max(dTf, maxDiff(a, runTf(x, 1)));
    dOrt = Math.max(dOrt, maxDiff(a, await runOrt(x, 1)));
  }
  const x1 = inputs(1, 5);
  const tOurs = await time(() => runOurs(x1, 1));
  const tTf = await time(() => runTf(x1, 1));
  const tOrt = await time(() => runOrt(x1, 1));
  const fp16 = statSync(emxPath).size;
  const f32 = bin.length;
  const label = `${LABELS[name]} (${graph.label.startsWith("'") ? graph.label.split(',')[0] + ', ' : ''}${(graph.params / 1e6).toFixed(2)} M params)`;
  rows.push([label, 'EmoXNet WASM (ours)', tOurs, `${fp16} (fp16 .emx)`, memMiB(`ours:${name}`), '-', '1.00']);
  rows.push([label, `TF.js ${tf.version.tfjs} wasm (XNNPACK)`, tTf, `${f32} (f32)`, memMiB('tfjs'),
    dTf.toExponential(1), (tOurs.med / tTf.med).toFixed(2)]);
  rows.push([label, `onnxruntime-web ${ort.env.versions?.web ?? ''} wasm`, tOrt, `${statSync(onnxPath).size} (f32 .onnx)`,
    memMiB('ort'), dOrt.toExponential(1), (tOurs.med / tOrt.med).toFixed(2)]);
  if (dTf > 1e-4 || dOrt > 1e-4) console.log(`WARNING ${name}: outputs differ from ours by more than 1e-4 (tfjs ${dTf}, ort ${dOrt})`);

  // Batches on the shipped network only (the large one at 16 faces would take minutes).
  for (const n of name === 'lite' ? [1, 4, 16] : []) {
    const x = inputs(n, 9);
    const o = await time(() => runOurs(x, n));
    const t = await time(() => runTf(x, n));
    const q = await time(() => runOrt(x, n));
    batchRows.push([name, n, o, t, q]);
  }
  ours.dispose();
  tm.dispose();
  await sess.release();
}

const f3 = (v) => v.toFixed(3);
console.log(`### Same network, same weights, three engines (one pass, no TTA; ${runs} timed runs after warm-up, single thread)`);
console.log();
console.log('| network | engine | ms/face median | ms/face p95 | weight bytes | peak WASM MiB | max abs diff vs ours | ours/theirs (median) | speed-up of ours |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [net, eng, t, wb, mem, d, ratio] of rows) {
  console.log(`| ${net} | ${eng} | ${f3(t.med)} | ${f3(t.p95)} | ${wb} | ${mem} | ${d} | ${ratio} | ${(1 / Number(ratio)).toFixed(2)}x |`);
}
console.log();
console.log('### Batches: ms per batch, median (ours: run() per face; TF.js / ORT: batch dimension)');
console.log();
console.log('| network | faces | ours | TF.js wasm | ORT web | ours/TF.js | ours/ORT |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [net, n, o, t, q] of batchRows) {
  console.log(`| ${net} | ${n} | ${f3(o.med)} | ${f3(t.med)} | ${f3(q.med)} | ${(o.med / t.med).toFixed(2)} | ${(o.med / q.med).toFixed(2)} |`);
}

// ---- face-api.js expression net -------------------------------------------------------------
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const faceModelDir = join(root, 'node_modules', '@vladmandic', 'face-api', 'model');
engineTag = 'tfjs';
await faceapi.nets.faceExpressionNet.loadFromDisk(faceModelDir);
engineTag = 'none';
const FA_TO_FERPLUS = { neutral: 0, happy: 1, surprised: 2, sad: 3, angry: 4, disgusted: 5, fearful: 6 };
// A 48x48 gray crop as face-api input: RGB 0..255 (it resizes to 112x112 itself).
const faToTensor = (gray) => tf.tidy(() => tf.tensor3d(gray, [48, 48, 1], 'int32').tile([1, 1, 3]));
async function faClassify(gray) {
  const t = faToTensor(gray);
  const r = await faceapi.nets.faceExpressionNet.predictExpressions(t);
  t.dispose();
  return r;
}
const lite = await load(join(root, 'models', 'emoxnet-lite.emx'), { simd: true });
const face = new Uint8Array(48 * 48);
for (let i = 0; i < face.length; i++) face[i] = (i * 37 + (i >> 6) * 11) & 255;
const faceImg = { data: face, width: 48, height: 48, channels: 1 };
const tLite = await time(() => lite.classify(faceImg));
const tFa = await time(() => faClassify(face));
const faBytes = statSync(join(faceModelDir, 'face_expression_model.bin')).size;

let accLine = '(skipped: --skip-accuracy)';
let accOurs = '', accFa = '';
const ferDir = process.env.EMX_FERPLUS_DIR ?? join(root, '..', 'shared', 'data', 'ferplus', 'FER2013Valid');
if (!skipAccuracy && existsSync(join(ferDir, 'label.csv'))) {
  const { parseLabelCsv, keptRows } = await import('../../bin/ferplus.js');
  const { decodeImage } = await import('../../wasm/emoxnet.js');
  const kept = keptRows(parseLabelCsv(readFileSync(join(ferDir, 'label.csv'), 'utf8')));
  let okOurs = 0, okFa = 0;
  const classes = lite.classNames;
  for (const row of kept) {
    const img = await decodeImage(readFileSync(join(ferDir, row.file)));
    const r = lite.classify(img, row.box ?? undefined);
    let best = 0;
    for (let k = 1; k < 8; k++) if (r.scores[classes[k]] > r.scores[classes[best]]) best = k;
    okOurs += best === row.label;
    // face-api on the same 48x48 crop, gray -> RGB
    const g = new Uint8Array(img.width * img.height);
    for (let i = 0; i < g.length; i++) g[i] = img.data[i * img.channels];
    const t = tf.tidy(() => tf.tensor3d(g, [img.height, img.width, 1], 'int32').tile([1, 1, 3]));
    const e = await faceapi.nets.faceExpressionNet.predictExpressions(t);
    t.dispose();
    let fb = null;
    for (const k of Object.keys(FA_TO_FERPLUS)) if (fb === null || e[k] > e[fb]) fb = k;
    okFa += FA_TO_FERPLUS[fb] === row.label; // contempt (7) is never predicted: counted wrong
  }
  accOurs = `${((100 * okOurs) / kept.length).toFixed(1)}%`;
  accFa = `${((100 * okFa) / kept.length).toFixed(1)}%`;
  accLine = `FER+ Valid, ${kept.length} kept images, 8-class majority protocol (face-api has no contempt: counted wrong)`;
}
console.log();
console.log('### What users pick today: face-api.js expression net vs EmoXNetLite (classify(), incl. preprocessing, shipped models)');
console.log();
console.log('| model | ms/face median | ms/face p95 | weight bytes | FER+ Valid accuracy |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| EmoXNetLite (ours, WASM, flip TTA) | ${f3(tLite.med)} | ${f3(tLite.p95)} | ${statSync(join(root, 'models', 'emoxnet-lite.emx')).size} | ${accOurs} |`);
console.log(`| face-api.js faceExpressionNet (@vladmandic/face-api ${require('@vladmandic/face-api/package.json').version}, tfjs wasm) | ${f3(tFa.med)} | ${f3(tFa.p95)} | ${faBytes} | ${accFa} |`);
console.log();
console.log(accLine);
lite.dispose();
