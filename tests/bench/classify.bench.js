// classify.bench.js - milliseconds per face for the expression models through the WebAssembly
// package, single thread, after warm-up (V8 runs a function in Liftoff first and tiers up
// later): median and p95 of N runs of model.classify on one 48x48 FER+-sized face.
//
//   node --no-experimental-fetch tests/bench/classify.bench.js [MODEL.emx ...] [--runs N] [--warm N]
// (--warm: warm-up calls, default 200; the smoke run in npm test uses a few)
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { load } from '../../wasm/emoxnet.js';

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
console.log('| model | build | ms/face median | ms/face p95 | runs |');
console.log('|---|---|---:|---:|---:|');
for (const path of models) {
  for (const simd of [true, false]) {
    const m = await load(path, { simd });
    for (let i = 0; i < warm; i++) m.classify(face); // warm-up: reach V8's optimising tier
    const t = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      m.classify(face);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    console.log(`| ${m.meta.name ?? relative(root, path)} | ${simd ? 'wasm SIMD128' : 'wasm scalar'} | ` +
                `${pct(t, 0.5).toFixed(3)} | ${pct(t, 0.95).toFixed(3)} | ${runs} |`);
    m.dispose();
  }
}
