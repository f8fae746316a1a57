// perface-ab.bench.js - the per-face table (issue 20 goals 2 and 3): EmoXNetLite one pass and
// with flip TTA, the ensemble with flip TTA, detect() and detect + classify (analyze()) of the
// 640x480 one-face frame, through the WebAssembly package, single thread, after warm-up.
//
//   node --no-experimental-fetch tests/bench/perface-ab.bench.js [--baseline DIR] [--runs N] [--warm N] [--scalar]
//        [--ensemble FILE]
//
// --scalar: the non-SIMD builds (emoxnet-scalar.wasm) instead.
// --ensemble FILE: one more table, the shipped ensemble and another .emx (e.g. `git show
// REV:models/emoxnet.emx`) classifying the same face, taking turns call by call on the current
// build: what a new ensemble costs against the old one, as a ratio measured side by side.
// --relaxed-both: both builds relaxed SIMD (the baseline's emoxnet-relaxed.wasm): the A/B of a
// change to the relaxed build alone (needs --experimental-wasm-relaxed-simd on Node 20).
// --relaxed: the current build is the relaxed-SIMD one (fused multiply-add; Node 20 needs
// --experimental-wasm-relaxed-simd), the baseline stays SIMD128: the speed-up then holds both.
// With --baseline DIR (a folder holding an older emoxnet-simd.wasm, e.g. copied from a checkout
// of main) both builds run every figure, taking turns call by call, so a change in the
// machine's load hits both alike; the last columns are baseline / current (> 1: current is
// faster), from wall time and from CPU time (process.cpuUsage: user + system of this
// single-threaded process; on shared cores preemption inflates wall time, not CPU time).
// "one pass" is model.run() of the one-pass network cut from models/emoxnet-lite.emx
// (networks.js memberNetworks: no FLIP_W, mean or CALIBRATE); the others are the public calls.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { load } from '../../wasm/emoxnet.js';
import { readEmx, writeEmx } from './emx-file.js';
import { oneFaceFrame } from './frame.js';
import { memberNetworks } from './networks.js';
import { syntheticFace, takeTurns } from './perface.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
let runs = 200, warm = 100, baseline = null, simd = true, relaxed = false, relaxedBoth = false, otherEns = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--scalar') simd = false;
  else if (args[i] === '--relaxed') relaxed = true;
  else if (args[i] === '--relaxed-both') relaxed = relaxedBoth = true;
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--warm') warm = Number(args[++i]);
  else if (args[i] === '--baseline') baseline = args[++i];
  else if (args[i] === '--ensemble') otherEns = args[++i];
  else throw new Error(`unknown argument ${args[i]}`);
}

// SIMD128 (or scalar) by default, as the baseline is; relaxed SIMD only when asked
const builds = [{ name: 'current', opts: { simd, relaxed: relaxed && simd } }];
const wasmFile = !simd ? 'emoxnet-scalar.wasm' : relaxedBoth ? 'emoxnet-relaxed.wasm' : 'emoxnet-simd.wasm';
if (baseline) builds.push({ name: 'baseline', opts: { wasmBinary: readFileSync(join(baseline, wasmFile)) } });

const face = syntheticFace();
const { frame, face: hasFace } = await oneFaceFrame(root);
const liteBytes = readFileSync(join(root, 'models', 'emoxnet-lite.emx'));
const onePass = writeEmx(memberNetworks(readEmx(liteBytes), 'EmoXNetLite')[0].model);
const input = new Float32Array(48 * 48);
for (let i = 0; i < input.length; i++) input[i] = ((i * 37) % 255) / 255 - 0.5;

// Per build: the models each figure needs, loaded once.
for (const b of builds) {
  b.one = await load(onePass, b.opts);
  b.lite = await load(liteBytes, b.opts);
  b.ens = await load(readFileSync(join(root, 'models', 'emoxnet.emx')), b.opts);
  await b.lite.analyze(frame); // loads the detector
}
if (relaxed && builds[0].lite.variant !== 'relaxed') {
  throw new Error(`--relaxed: the ${builds[0].lite.variant} build loaded (Node 20: run node with --experimental-wasm-relaxed-simd)`);
}

const figures = [
  ['EmoXNetLite, one pass (run(), 48x48 input)', (b) => b.one.run(input), 1],
  ['EmoXNetLite classify() per face (preprocessing + flip TTA)', (b) => b.lite.classify(face), 1],
  ['EmoXNet ensemble classify() per face (flip TTA)', (b) => b.ens.classify(face), 0.25],
  ['detect(), 640x480 frame', (b) => b.lite.detect(frame), 0.5],
  [`detect + classify (analyze()), 640x480, one face, Lite${hasFace ? '' : ' (no FER+ face: nothing found)'}`, (b) => b.lite.analyze(frame), 0.5],
];

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const head = ['figure', ...builds.flatMap((b) => [`${b.name} ms median`, `${b.name} p95`, `${b.name} CPU ms median`])];
if (baseline) head.push('speed-up (wall)', 'speed-up (CPU)');
console.log(`ms per call, single thread, current: ${builds[0].lite.variant}${baseline ? ', baseline: ' + (!simd ? 'scalar' : relaxedBoth ? 'relaxed' : 'SIMD128') : ''}, ${process.version}; builds take turns call by call`);
console.log(`| ${head.join(' | ')} |`);
console.log(`|---|${head.slice(1).map(() => '---:').join('|')}|`);
for (const [label, fn, scale] of figures) {
  const n = Math.max(5, Math.round(runs * scale)), w = Math.max(2, Math.round(warm * scale));
  const { wall, cpu } = await takeTurns(builds, fn, { runs: n, warm: w });
  const cells = builds.flatMap((_, k) => [med(wall[k]).toFixed(3), p95(wall[k]).toFixed(3), med(cpu[k]).toFixed(3)]);
  if (baseline) cells.push(`${(med(wall[1]) / med(wall[0])).toFixed(2)}x`, `${(med(cpu[1]) / med(cpu[0])).toFixed(2)}x`);
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
if (otherEns) {
  const pair = [{ m: builds[0].ens }, { m: await load(readFileSync(otherEns), builds[0].opts) }];
  const { wall, cpu } = await takeTurns(pair, (b) => b.m.classify(face), { runs: Math.max(5, Math.round(runs / 4)), warm: Math.max(2, Math.round(warm / 4)) });
  console.log(`\nclassify() per face (flip TTA), ms, current build, the two files taking turns call by call`);
  console.log('| file | ms median | p95 | CPU ms median |\n|---|---:|---:|---:|');
  pair.forEach((_, k) => console.log(`| ${k ? otherEns : 'models/emoxnet.emx'} | ${med(wall[k]).toFixed(3)} | ${p95(wall[k]).toFixed(3)} | ${med(cpu[k]).toFixed(3)} |`));
  console.log(`models/emoxnet.emx / ${otherEns}: ${(med(wall[0]) / med(wall[1])).toFixed(2)}x wall, ${(med(cpu[0]) / med(cpu[1])).toFixed(2)}x CPU`);
  pair[1].m.dispose();
}
for (const b of builds) { b.one.dispose(); b.lite.dispose(); b.ens.dispose(); }
