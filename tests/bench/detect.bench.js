// detect.bench.js - detect + classify (model.analyze) on a 640x480 frame with one face, through
// the WebAssembly package (SIMD128, single thread): median milliseconds after warm-up.
//
//   node --no-experimental-fetch tests/bench/detect.bench.js [CLASSIFIER.emx] [--runs N] [--scalar]
//
// The face is a FER+ Valid image upscaled to 200 px on a grey frame (../shared/data/ferplus,
// or EMX_FERPLUS_DIR); without it a synthetic frame is timed (no face: detection only).
// Without CLASSIFIER, models/emoxnet-lite.emx, else tests/golden/vgg.emx as a stand-in.
// The C-level twin is tools/bench-detect.c (build-wasm*/bench-detect.cjs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { load, decodeImage } from '../../wasm/emoxnet.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
let runs = 100;
let simd = true;
let classifier = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--scalar') simd = false;
  else classifier = args[i];
}
if (!classifier) {
  const lite = join(root, 'models', 'emoxnet-lite.emx');
  classifier = existsSync(lite) ? lite : join(root, 'tests', 'golden', 'vgg.emx');
}

const W = 640, H = 480, S = 200, X = 220, Y = 130;
const frame = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
const ferDir = process.env.EMX_FERPLUS_DIR ?? join(root, '..', 'shared', 'data', 'ferplus', 'FER2013Valid');
const facePath = join(ferDir, 'fer0028642.png');
if (existsSync(facePath)) {
  const face = await decodeImage(readFileSync(facePath));
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const src = (Math.floor((y * face.height) / S) * face.width + Math.floor((x * face.width) / S)) * face.channels;
      const dst = ((y + Y) * W + x + X) * 3;
      for (let c = 0; c < 3; c++) frame.data[dst + c] = face.data[src + (face.channels >= 3 ? c : 0)];
    }
  }
} else {
  console.error(`no FER+ face at ${facePath}: timing a frame without faces`);
}

const model = await load(readFileSync(classifier), { simd });
let faces = [];
for (let i = 0; i < 10; i++) faces = await model.analyze(frame); // warm-up (also loads the detector)
const timeIt = async (fn) => {
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(runs / 2)], min: t[0] };
};
const det = await timeIt(() => model.detect(frame));
const all = await timeIt(() => model.analyze(frame));
const f = faces[0];
console.log(`640x480 frame, ${faces.length} face(s)${f ? ` (box ${f.box.x.toFixed(0)},${f.box.y.toFixed(0)} ${f.box.width.toFixed(0)}x${f.box.height.toFixed(0)}, score ${f.score.toFixed(2)}, ${f.label})` : ''}, wasm ${model.variant}, single thread`);
console.log(`detect:            median ${det.median.toFixed(2)} ms (min ${det.min.toFixed(2)}) over ${runs} runs`);
console.log(`detect + classify: median ${all.median.toFixed(2)} ms (min ${all.min.toFixed(2)}) over ${runs} runs, classifier ${classifier}`);
model.dispose();
