// bench.test.js - keeps `npm run bench` from rotting (run by `npm test` through node --test):
// the .emx reader/writer, the member extraction and the ONNX / TF.js converters are checked for
// correctness, then every benchmark runs a few iterations (timings printed, never asserted:
// speed is proven by the benchmarks' side-by-side ratios, not by timed tests).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { load } from '../../wasm/emoxnet.js';
import { ACT, F16, OP, inferShapes, readEmx, writeEmx } from './emx-file.js';
import { agreement, initEngines, inputs, loadAll, maxDiff } from './engines.js';
import { memberNetworks, mobileNet, subgraph } from './networks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shipped = (f) => readFileSync(join(root, 'models', f));
const SHIPPED = ['emoxnet-lite.emx', 'emoxnet.emx', 'blazeface.emx'];

test('emx-file: reading and rewriting a shipped file gives back the same bytes', () => {
  for (const f of SHIPPED) {
    const b = shipped(f);
    assert.deepEqual(writeEmx(readEmx(b)), new Uint8Array(b), f);
  }
  const bad = new Uint8Array(shipped('emoxnet-lite.emx'));
  bad[100] ^= 1;
  assert.throws(() => readEmx(bad), /CRC/);
});

test('networks: members of the shipped files are one pass, without flip, mean or CALIBRATE', () => {
  const lite = memberNetworks(readEmx(shipped('emoxnet-lite.emx')), 'EmoXNetLite');
  assert.equal(lite.length, 1);
  const ens = readEmx(shipped('emoxnet.emx'));
  const members = memberNetworks(ens, 'EmoXNet');
  const desc = new Map(ens.meta).get('description');
  assert.ok(members.length >= 2, 'the ensemble has members');
  for (const { name, model } of [...lite, ...members]) {
    const types = new Set(model.ops.map((o) => o.type));
    for (const t of [OP.FLIP_W, OP.WEIGHTED_MEAN, OP.CALIBRATE]) assert.ok(!types.has(t), `${name}: op ${t}`);
    assert.equal(model.ops.at(-1).type, OP.SOFTMAX, name);
    if (desc.startsWith('Ensemble of') && model !== lite[0].model) assert.ok(desc.includes(name), `${name} named from the description`);
  }
});

// The shipped output, rebuilt from the subgraphs: sum_i w_i * head_i(x) (flipped heads included),
// then CALIBRATE as FORMAT.md defines it. Proves subgraph() cuts exactly what the file computes.
test('networks: the subgraphs of a shipped file recombine into its output', async () => {
  for (const f of ['emoxnet-lite.emx', 'emoxnet.emx']) {
    const m = readEmx(shipped(f));
    const full = await load(shipped(f), { simd: true });
    const cal = m.ops[m.outputs[0] - 1];
    assert.equal(cal.type, OP.CALIBRATE, `${f} ends in CALIBRATE`);
    const mean = m.ops[cal.inputs[0] - 1];
    assert.equal(mean.type, OP.WEIGHTED_MEAN);
    const heads = [];
    for (const h of mean.inputs) heads.push(await load(writeEmx(subgraph(m, h, `head ${h}`)), { simd: true }));
    const w = m.tensors[mean.tensors[0]].data, p = m.tensors[cal.tensors[0]].data;
    for (let k = 0; k < 2; k++) {
      const x = inputs(1, 48 * 48, 5 + k);
      const avg = new Float64Array(8);
      heads.forEach((net, i) => net.run(x).forEach((v, c) => { avg[c] += w[i] * v; }));
      const z = Array.from(avg, (v, c) => p[0] * Math.log(Math.max(v, 1e-30)) + p[1 + c]);
      const zmax = Math.max(...z), e = z.map((v) => Math.exp(v - zmax)), s = e.reduce((a, b) => a + b);
      assert.ok(maxDiff(full.run(x), e.map((v) => v / s)) < 1e-5, f);
    }
    for (const h of heads) h.dispose();
    full.dispose();
  }
});

// Every op of FORMAT.md and every branch of the converters (grouped and depthwise convs with a
// channel multiplier, asymmetric padding, pooling with padding both ways, dense on a spatial
// input, activations the engines cannot fuse), random weights.
function everyOpNetwork() {
  let s = 12345;
  const gauss = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 0.5) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * s) / 2 ** 32);
  };
  const m = {
    input: { height: 20, width: 24, channels: 3, mean: 0.5, std: 0.25 },
    classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], tensors: [], ops: [], outputs: [], meta: [['name', 'every op']],
  };
  const T = (dims, std) => {
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => std * gauss());
    m.tensors.push({ name: `t${m.tensors.length}`, dtype: F16, dims, data });
    return m.tensors.length - 1;
  };
  const op = (type, inputs, attrs = [], tensors = []) => { m.ops.push({ type, inputs, attrs, tensors }); return m.ops.length; };
  const ch = (v) => inferShapes(m)[v][2];
  const conv = (x, oc, k, st, pads, g, act) => op(OP.CONV2D, [x], [k, k, st, st, ...pads, 1, 1, g, oc, act],
    [T([oc, ch(x) / g, k, k], Math.sqrt(2 / ((ch(x) / g) * k * k))), T([oc], 0.1)]);
  const a = conv(0, 12, 3, 1, [1, 1, 1, 1], 1, ACT.RELU);
  const b = conv(a, 12, 3, 1, [1, 1, 1, 1], 4, ACT.HARDSWISH); // grouped
  const c = conv(b, 24, 3, 2, [0, 0, 1, 1], 12, ACT.SILU); // depthwise x2, TF-style 'same' padding
  const d = op(OP.AVGPOOL2D, [c], [3, 3, 1, 1, 1, 1, 1, 1, 0]);
  const e = op(OP.MAXPOOL2D, [d], [3, 3, 2, 2, 1, 1, 1, 1]);
  const f = op(OP.ACTIVATION, [e], [ACT.SIGMOID]);
  const g = op(OP.PAD_CHANNELS, [e], [2, 3]);
  const h = op(OP.CONCAT, [g, f]);
  const se = conv(op(OP.GLOBAL_AVGPOOL, [h]), ch(h), 1, 1, [0, 0, 0, 0], 1, ACT.SIGMOID);
  const i = op(OP.ADD, [op(OP.MUL_CHANNEL, [h, se]), h], [ACT.RELU6]);
  const j = op(OP.RESIZE_BILINEAR, [i], [7, 9]);
  const k = op(OP.AVGPOOL2D, [j], [2, 2, 2, 2, 1, 1, 1, 1, 1]);
  const l = op(OP.ADD, [k, op(OP.FLIP_W, [k])], [ACT.NONE]);
  // logits spread over several units, so a wrong layout moves the probabilities by >> 1e-4
  const dense = (x, act) => {
    const n = inferShapes(m)[x].reduce((p, q) => p * q, 1);
    return op(OP.DENSE, [x], [8, act], [T([8, n], 4 / Math.sqrt(n)), T([8], 0.1)]);
  };
  const p1 = op(OP.SOFTMAX, [dense(l, ACT.NONE)]); // dense on a spatial input (H, W, C order)
  const p2 = op(OP.SOFTMAX, [dense(op(OP.ACTIVATION, [dense(k, ACT.SIGMOID)], [ACT.SILU]), ACT.NONE)]);
  const mean = op(OP.WEIGHTED_MEAN, [p1, p2], [], [T([2], 1)]);
  m.tensors.at(-1).data.set([0.7, 0.3]);
  m.outputs = [op(OP.CALIBRATE, [mean], [], [T([9], 0.2)])];
  m.tensors.at(-1).data[0] = 0.8; // 1/T: keeps the output sensitive to its input
  return m;
}

test('converters: our core, TF.js and ONNX Runtime agree within 1e-4 on every op and on whole shipped files', async () => {
  const engines = await initEngines(root);
  const cases = [
    ['every op (synthetic)', writeEmx(everyOpNetwork())],
    ['MobileNetV1 (random)', writeEmx(mobileNet())],
    ['emoxnet-lite.emx, whole file (flip TTA, CALIBRATE)', shipped('emoxnet-lite.emx')],
    ['emoxnet.emx, whole file', shipped('emoxnet.emx')],
  ];
  for (const [name, bytes] of cases) {
    const net = await loadAll(engines, bytes);
    const d = await agreement(net);
    // a check within 1e-4 means something only if the outputs themselves move much more than that
    const spread = maxDiff(net.runOurs(inputs(1, net.hwc, 1), 1), net.runOurs(inputs(1, net.hwc, 2), 1));
    assert.ok(spread > 5e-3, `${name}: outputs barely depend on the input (${spread})`);
    console.log(`# ${name}: max |diff| vs ours: TF.js ${d.tf.toExponential(1)}, ORT ${d.ort.toExponential(1)}; output spread over inputs ${spread.toFixed(3)}`);
    assert.ok(d.tf <= 1e-4 && d.ort <= 1e-4, `${name}: ${JSON.stringify(d)}`);
    await net.dispose();
  }
});

// ---- smoke runs of every benchmark npm run bench runs ------------------------------------------
const run = (cmd, args, expect) => {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 120000 });
  const out = `${r.stdout}${r.stderr}`;
  console.log(out.split('\n').map((l) => `# ${l}`).join('\n'));
  assert.equal(r.status, 0, `${args.join(' ')} exited ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
  for (const re of expect) assert.match(out, re);
};
const NODE = [process.execPath, '--no-experimental-fetch'];
// Node 20 runs the relaxed-SIMD build only with this flag (scripts/bench.sh passes it the same way)
const RELAXED = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', '0']).status === 0 ? ['--experimental-wasm-relaxed-simd'] : [];

test('smoke: classify.bench.js', () => run(NODE[0], [NODE[1], ...RELAXED, 'tests/bench/classify.bench.js', '--runs', '3', '--warm', '2'],
  [/EmoXNetLite \| wasm SIMD128/, /EmoXNetLite \| wasm relaxed SIMD/]));
test('smoke: engines.bench.js --smoke (outputs checked within 1e-4 before timing)', () =>
  run(NODE[0], [NODE[1], 'tests/bench/engines.bench.js', '--smoke'], [/EmoXNetLite \(shipped\)/, /MobileNetV1/, /face-api/]));
test('smoke: perface-ab.bench.js (against the same build as a baseline)', () =>
  run(NODE[0], [NODE[1], 'tests/bench/perface-ab.bench.js', '--runs', '3', '--warm', '2', '--baseline', 'wasm/dist',
    '--ensemble', 'models/emoxnet.emx'],
    [/EmoXNetLite, one pass/, /ensemble classify\(\)/, /detect \+ classify \(analyze\(\)\)/, /speed-up \(CPU\)/,
      /models\/emoxnet\.emx \/ models\/emoxnet\.emx: [\d.]+x wall/]));
test('smoke: checkout-ab.bench.js (this checkout against itself)', () =>
  run(NODE[0], [NODE[1], ...RELAXED, 'tests/bench/checkout-ab.bench.js', '--other', '.', '--runs', '5', '--warm', '2'],
    [/EmoXNetLite classify\(\)/, /ensemble classify\(\)/, /analyze\(\)\), 640x480, one face, Lite \|/, /speed-up \(other \/ this, CPU\)/]));
test('smoke: analyze-agree.js (against the same build: every label agrees)', () =>
  run(NODE[0], [NODE[1], 'tests/bench/analyze-agree.js', 'wasm/dist', '5'], [/same label (\d+)\/\1;|SKIP/]));
test('smoke: bench-ops (native and wasm)', { skip: !existsSync(join(root, 'build', 'bench-ops')) && 'not built' }, () => {
  run(join(root, 'build', 'bench-ops'), ['models/blazeface.emx', '2'], [/forward median/, /\+add/]);
  run(NODE[0], [NODE[1], 'build-wasm/bench-ops.cjs', 'models/emoxnet-lite.emx', '2'], [/forward median/, /\+twin/]);
});
test('smoke: detect.bench.js', () => run(NODE[0], [NODE[1], 'tests/bench/detect.bench.js', '--runs', '3'], [/detect \+ classify: median/]));
test('smoke: bench-kernels (native and wasm)', { skip: !existsSync(join(root, 'build', 'bench-kernels')) && 'not built' }, () => {
  run(join(root, 'build', 'bench-kernels'), ['0.001'], [/peak 128-bit SIMD/]);
  run(NODE[0], [NODE[1], 'build-wasm/bench-kernels.cjs', '0.001'], [/peak 128-bit SIMD/]);
  run(NODE[0], [NODE[1], ...RELAXED, 'build-wasm/bench-kernels-relaxed.cjs', '0.001'], [/bench-kernels \(wasmrelaxed\)/, /peak 128-bit SIMD/]);
});
// playwright-core needs fetch's globals: no --no-experimental-fetch here
test('smoke: browser.bench.js (Node and headless Chromium)', () =>
  run(NODE[0], [...RELAXED, 'tests/bench/browser.bench.js', '--smoke'], [/EmoXNetLite classify\(\) per face/, /Chromium|SKIP browser/, /relaxed SIMD/]));
test('smoke: page-fps.bench.js (the live page, 4x throttled)', () =>
  run(NODE[0], ['tests/bench/page-fps.bench.js', '--smoke'], [/analysed fps|SKIP page fps/]));
