// classify.bench.js - milliseconds per face for the expression models through the WebAssembly
// package, single thread, after warm-up (V8 runs a function in Liftoff first and tiers up
// later): median and p95 of N runs of model.classify on one 48x48 FER+-sized face.
//
//   node --no-experimental-fetch [--experimental-wasm-relaxed-simd] tests/bench/classify.bench.js
//        [MODEL.emx ...] [--runs N] [--warm N]
// (--warm: warm-up calls, default 200; the smoke run in npm test uses a few)
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { load, relaxedSimdSupported } from '../../wasm/emoxnet.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
let runs = 500;
let warm = 200;
const models = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--warm') warm = Number(args[++i]);
  else models.push(args[i]);
}
if (models.length === 0) {
  for (const f of ['emoxnet-lite.emx', 'emoxnet.emx']) {
    if (existsSync(join(root, 'models', f))) models.push(join(root, 'models', f));
  }
}

// A deterministic face-like 48x48 gray image: content does not change the work done.
const face = { data: new Uint8Array(48 * 48), width: 48, height: 48, channels: 1 };
for (let i = 0; i < face.data.length; i++) face.data[i] = (i * 37 + (i >> 6) * 11) & 255;

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
// The builds this engine runs: relaxed SIMD only where it validates (Node 20: with
// --experimental-wasm-relaxed-simd, as npm run bench passes it). They take turns call by call,
// so on shared cores a load change hits every build alike and the ratio column survives it.
const builds = [
  ...(relaxedSimdSupported() ? [['wasm relaxed SIMD', { relaxed: true }]] : []),
  ['wasm SIMD128', { simd: true, relaxed: false }],
  ['wasm scalar', { simd: false }],
];
if (!relaxedSimdSupported()) console.log('(no relaxed SIMD in this engine: node --experimental-wasm-relaxed-simd adds its row)');
console.log('| model | build | ms/face median | ms/face p95 | runs | SIMD128 median / this median |');
console.log('|---|---|---:|---:|---:|---:|');
for (const path of models) {
  const ms = [];
  for (const [, options] of builds) ms.push(await load(path, options));
  for (const m of ms) for (let i = 0; i < warm; i++) m.classify(face); // warm-up: reach V8's optimising tier
  const t = ms.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, m] of ms.entries()) {
      const t0 = performance.now();
      m.classify(face);
      t[k].push(performance.now() - t0);
    }
  }
  for (const x of t) x.sort((a, b) => a - b);
  const simdMed = pct(t[builds.findIndex(([name]) => name === 'wasm SIMD128')], 0.5);
  for (const [k, m] of ms.entries()) {
    console.log(`| ${m.meta.name ?? relative(root, path)} | ${builds[k][0]} | ${pct(t[k], 0.5).toFixed(3)} | ` +
                `${pct(t[k], 0.95).toFixed(3)} | ${runs} | ${(simdMed / pct(t[k], 0.5)).toFixed(2)}x |`);
    m.dispose();
  }
}
