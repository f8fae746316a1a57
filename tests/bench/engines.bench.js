// engines.bench.js - the same network, the same weights, three WebAssembly engines, single
// thread, after warm-up: our core (load()'s pick: wasm/dist/emoxnet-relaxed.wasm where the engine
// has relaxed SIMD, i.e. Node 20 with --experimental-wasm-relaxed-simd, else emoxnet-simd.wasm;
// the table names the build), TF.js with
// @tensorflow/tfjs-backend-wasm (XNNPACK inside; the network rebuilt from tf ops with our
// weights, to-tfjs.js) and onnxruntime-web (wasm, SIMD) on an ONNX model written from the same
// .emx (to-onnx.js). Then batches of 1/4/16 faces, and face-api.js's expression net
// (@vladmandic/face-api, its shipped weights) on the same crops: speed and FER+ Valid accuracy
// under our protocol.
//
//   node --no-experimental-fetch [--experimental-wasm-relaxed-simd] tests/bench/engines.bench.js
//        [--runs N] [--skip-accuracy] [--smoke] [--nets KEY,KEY...]
//
// Networks (networks.js), all from files in the repository, no Python, no checkpoints: the
// shipped EmoXNetLite and every distinct member architecture of the shipped ensemble (one pass:
// no flip TTA, no ensemble mean, no CALIBRATE, for all engines alike), a MobileNetV1 with
// depthwise convolutions and the VGG design member (random weights). Each is written to
// build/bench/NAME.{emx,onnx} for inspection; every engine gets the numbers read back from
// the .emx bytes. Outputs are checked equal to ours within 1e-4 on 3 inputs before anything is
// timed; a larger difference fails the run (exit 1).
// --smoke: 3 timed runs per cell, no accuracy pass: keeps the bench from rotting (npm test).
// --nets: time only the networks with these keys (lite, member-resnet-s, member-lite-w,
// member-sewide-s, mobilenet, vgg; an unknown key fails and lists them), and skip the face-api
// section: e.g. `--nets mobilenet --skip-accuracy` re-measures one row in a minute or two.
// Peak WASM memory: every WebAssembly.Memory an engine creates or exports is recorded (memory
// only grows, so its size after the runs is the peak).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { load } from '../../wasm/emoxnet.js';
import { readEmx, writeEmx } from './emx-file.js';
import { agreement, initEngines, inputs, loadAll } from './engines.js';
import { cost, memberNetworks, mobileNet, signature, vggDesign } from './networks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
let runs = 200;
let warm = null;
let skipAccuracy = false;
let only = null; // --nets: Set of network keys, null = all
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--skip-accuracy') skipAccuracy = true;
  else if (args[i] === '--smoke') { skipAccuracy = true; runs = 3; warm = 2; }
  else if (args[i] === '--nets') only = new Set(args[++i].split(','));
  else throw new Error(`unknown argument ${args[i]}`);
}
const benchDir = join(root, 'build', 'bench');
mkdirSync(benchDir, { recursive: true });

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
const engines = await initEngines(root, { beforeTf: () => { engineTag = 'tfjs'; }, afterTf: () => { engineTag = 'none'; } });
const { tf, ort } = engines;

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
// The engines take turns, one call each per round, so a change in the machine's load (shared
// cores) hits all of them alike. Each warms up first (V8 tier-up, allocators). Besides wall time
// each call's CPU time is taken (process.cpuUsage, user + system, all engines single-threaded on
// this thread): when other processes share the cores, a call is preempted more often the longer
// it runs, which inflates long calls' wall medians more than short ones' and so biases wall
// ratios; CPU time only counts the work. On an idle machine the two agree.
async function timeSideBySide(fns, n = runs) {
  for (const fn of fns) for (let i = 0; i < (warm ?? Math.max(50, n / 4)); i++) await fn();
  const wall = fns.map(() => []), cpu = fns.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, fn] of fns.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      wall[k].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
  return wall.map((x, k) => {
    x.sort((a, b) => a - b);
    cpu[k].sort((a, b) => a - b);
    return { med: pct(x, 0.5), p95: pct(x, 0.95), cpu: pct(cpu[k], 0.5) };
  });
}

// ---- the networks ---------------------------------------------------------------------------
const nets = [];
const seen = new Set();
const add = (key, label, model) => {
  const sig = signature(model);
  if (seen.has(sig)) return; // e.g. the ensemble's own copy of Lite
  seen.add(sig);
  const bytes = writeEmx(model);
  nets.push({ key, label, bytes, model: readEmx(bytes) }); // every engine gets the numbers in the bytes
};
const shipped = (f) => readEmx(readFileSync(join(root, 'models', f)));
add('lite', 'EmoXNetLite (shipped)', memberNetworks(shipped('emoxnet-lite.emx'), 'EmoXNetLite')[0].model);
const members = memberNetworks(shipped('emoxnet.emx'), 'EmoXNet')
  .map((n) => ({ ...n, params: cost(n.model).params })).sort((x, y) => y.params - x.params);
members.forEach((n, i) => add(`member-${n.name.replace(/[^a-z0-9-]+/gi, '_')}`,
  `'${n.name}', ${i === 0 ? 'largest' : 'other'} member of the shipped ensemble`, n.model));
add('mobilenet', 'MobileNetV1, depthwise (FaceResNet shape, 112 px, random weights)', mobileNet());
add('vgg', 'VGG design member (64-128-256-320, random weights)', vggDesign());
if (only) {
  const unknown = [...only].filter((k) => !nets.some((n) => n.key === k));
  if (unknown.length) throw new Error(`--nets: unknown ${unknown.join(', ')} (known: ${nets.map((n) => n.key).join(', ')})`);
  nets.splice(0, nets.length, ...nets.filter((n) => only.has(n.key)));
}

const rows = [];
const batchRows = [];
let failed = false;
for (const { key, label: what, bytes, model } of nets) {
  const net = await loadAll(engines, bytes, (e) => {
    engineTag = e === 'ours' ? `ours:${key}` : e === 'tfjs' ? `tfjs:${key}` : e; // TF.js and ORT: one module for all nets
  });
  const { runOurs, runTf, runOrt, nchw, hwc, onnx, variant } = net;
  writeFileSync(join(benchDir, `${key}.emx`), bytes);
  writeFileSync(join(benchDir, `${key}.onnx`), onnx);
  const { tf: dTf, ort: dOrt } = await agreement(net);
  if (!(dTf <= 1e-4 && dOrt <= 1e-4)) { // NaN fails too
    console.log(`FAIL ${key}: outputs differ from ours by more than 1e-4 (tfjs ${dTf}, ort ${dOrt}); not timed`);
    failed = true;
  } else {
    const x1 = inputs(1, hwc, 5), x1c = nchw(x1, 1);
    const [tOurs, tTf, tOrt] = await timeSideBySide([() => runOurs(x1, 1), () => runTf(x1, 1), () => runOrt(x1c, 1)]);
    const { params, flops } = cost(model);
    const label = `${what} (${(params / 1e6).toFixed(2)} M params, ${(flops / 1e6).toFixed(0)} MFLOP)`;
    rows.push([label, `EmoXNet WASM (ours, ${variant} build)`, tOurs, `${bytes.length} (fp16 .emx)`, memMiB(`ours:${key}`), '-', tOurs]);
    rows.push([label, `TF.js ${tf.version.tfjs} wasm (XNNPACK)`, tTf, `${4 * params} (f32)`, memMiB('tfjs'),
      dTf.toExponential(1), tOurs]);
    rows.push([label, `onnxruntime-web ${ort.env.versions?.web ?? ''} wasm`, tOrt, `${onnx.length} (f32 .onnx)`,
      memMiB('ort'), dOrt.toExponential(1), tOurs]);

    // Batches on the shipped Lite only (the large ones at 16 faces would take minutes).
    for (const n of key === 'lite' ? [1, 4, 16] : []) {
      const x = inputs(n, hwc, 9), xc = nchw(x, n);
      const [o, t, q] = await timeSideBySide([() => runOurs(x, n), () => runTf(x, n), () => runOrt(xc, n)]);
      batchRows.push([key, n, o, t, q]);
    }
  }
  await net.dispose();
}

const f3 = (v) => v.toFixed(3);
console.log(`### Same network, same weights, three engines (one pass, no TTA, no CALIBRATE; ${runs} timed runs each, engines taking turns, after warm-up, single thread)`);
console.log();
console.log('| network | engine | ms/face median | ms/face p95 | CPU ms/face median | weight bytes | peak WASM MiB | max abs diff vs ours | speed-up of ours (wall) | speed-up of ours (CPU) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [net, eng, t, wb, mem, d, o] of rows) {
  console.log(`| ${net} | ${eng} | ${f3(t.med)} | ${f3(t.p95)} | ${f3(t.cpu)} | ${wb} | ${mem} | ${d} | ${(t.med / o.med).toFixed(2)}x | ${(t.cpu / o.cpu).toFixed(2)}x |`);
}
console.log();
console.log('### Batches: ms per batch, median (ours: run() per face; TF.js / ORT: batch dimension)');
console.log();
console.log('| network | faces | ours | TF.js wasm | ORT web | ours/TF.js | ours/ORT | ours/TF.js (CPU) | ours/ORT (CPU) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [net, n, o, t, q] of batchRows) {
  console.log(`| ${net} | ${n} | ${f3(o.med)} | ${f3(t.med)} | ${f3(q.med)} | ${(o.med / t.med).toFixed(2)} | ${(o.med / q.med).toFixed(2)} | ${(o.cpu / t.cpu).toFixed(2)} | ${(o.cpu / q.cpu).toFixed(2)} |`);
}

if (only) process.exit(failed ? 1 : 0); // --nets: the selected networks only

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
const [tLite, tFa] = await timeSideBySide([() => lite.classify(faceImg), () => faClassify(face)]);
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
console.log('| model | ms/face median | ms/face p95 | CPU ms/face median | weight bytes | FER+ Valid accuracy |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| EmoXNetLite (ours, WASM, flip TTA) | ${f3(tLite.med)} | ${f3(tLite.p95)} | ${f3(tLite.cpu)} | ${statSync(join(root, 'models', 'emoxnet-lite.emx')).size} | ${accOurs} |`);
console.log(`| face-api.js faceExpressionNet (@vladmandic/face-api ${require('@vladmandic/face-api/package.json').version}, tfjs wasm) | ${f3(tFa.med)} | ${f3(tFa.p95)} | ${f3(tFa.cpu)} | ${faBytes} | ${accFa} |`);
console.log();
console.log(accLine);
lite.dispose();
if (failed) process.exit(1);
