// detect.bench.js - detect + classify (model.analyze) on a 640x480 frame with one face, through
// the WebAssembly package (SIMD128, single thread): median milliseconds after warm-up.
//
//   node --no-experimental-fetch tests/bench/detect.bench.js [CLASSIFIER.emx] [--runs N] [--scalar]
//        [--faces 1,4,16]   (also: frames holding 1, 4, 16 faces in a grid: one table row each)
//        [--tiles 0,3]      (with --faces: run every count at each of these tiles values;
//                            default: tiles 0, then tiles 3 again for counts tiles 0 misses faces in)
//
// The face is a FER+ Valid image upscaled to 200 px on a grey frame (../shared/data/ferplus,
// or EMX_FERPLUS_DIR); without it a synthetic frame is timed (no face: detection only).
// Without CLASSIFIER, models/emoxnet-lite.emx, else tests/golden/vgg.emx as a stand-in.
// The C-level twin is tests/bench/bench-detect.c (build-wasm*/bench-detect.cjs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { load, decodeImage } from '../../wasm/emoxnet.js';
import { H, W, ferValidDir, oneFaceFrame } from './frame.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
let runs = 100;
let simd = true;
let classifier = null;
let faceCounts = null;
let tilesList = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--scalar') simd = false;
  else if (args[i] === '--faces') faceCounts = args[++i].split(',').map(Number);
  else if (args[i] === '--tiles') tilesList = args[++i].split(',').map(Number);
  else classifier = args[i];
}
if (!classifier) {
  const lite = join(root, 'models', 'emoxnet-lite.emx');
  classifier = existsSync(lite) ? lite : join(root, 'tests', 'golden', 'vgg.emx');
}

const { frame, face: haveFace, facePath } = await oneFaceFrame(root);
if (!haveFace) console.error(`no FER+ face at ${facePath}: timing a frame without faces`);
const ferDir = ferValidDir(root);

const model = await load(readFileSync(classifier), { simd });
let faces = [];
for (let i = 0; i < 10; i++) faces = await model.analyze(frame); // warm-up (also loads the detector)
// n timed calls of fn, sorted ascending (ms)
const sortedTimes = async (fn, n) => {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b);
};
const timeIt = async (fn) => {
  const t = await sortedTimes(fn, runs);
  return { median: t[Math.floor(runs / 2)], min: t[0] };
};
const det = await timeIt(() => model.detect(frame));
const all = await timeIt(() => model.analyze(frame));
const f = faces[0];
console.log(`640x480 frame, ${faces.length} face(s)${f ? ` (box ${f.box.x.toFixed(0)},${f.box.y.toFixed(0)} ${f.box.width.toFixed(0)}x${f.box.height.toFixed(0)}, score ${f.score.toFixed(2)}, ${f.label})` : ''}, wasm ${model.variant}, single thread`);
console.log(`detect:            median ${det.median.toFixed(2)} ms (min ${det.min.toFixed(2)}) over ${runs} runs`);
console.log(`detect + classify: median ${all.median.toFixed(2)} ms (min ${all.min.toFixed(2)}) over ${runs} runs, classifier ${classifier}`);

// Frames with N faces: N different FER+ Valid faces in a sqrt(N) x sqrt(N) grid, each scaled to
// fill most of its cell (smaller faces as N grows: 96 px at 16, below what one detector pass
// over the whole frame finds, hence the tiles rows). found: detections whose box centre lies in
// a different pasted face's square, of the faces placed (+ any other detections).
if (faceCounts && existsSync(ferDir)) {
  const files = readdirSync(ferDir).filter((f) => f.endsWith('.png')).sort().slice(0, 16);
  const imgs = [];
  for (const f of files) imgs.push(await decodeImage(readFileSync(join(ferDir, f))));
  console.log();
  console.log('| faces in 640x480 frame | face px | tiles | found | detect ms median | detect + classify ms median | p95 | ms per face | runs |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of faceCounts) {
    const g = Math.ceil(Math.sqrt(n));
    const cw = Math.floor(W / g), ch = Math.floor(H / g), s = Math.floor(Math.min(cw, ch) * 0.8);
    const fr = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
    const squares = [];
    for (let k = 0; k < n; k++) {
      const img = imgs[k % imgs.length];
      const ox = (k % g) * cw + ((cw - s) >> 1), oy = Math.floor(k / g) * ch + ((ch - s) >> 1);
      squares.push([ox, oy]);
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const src = (Math.floor((y * img.height) / s) * img.width + Math.floor((x * img.width) / s)) * img.channels;
          const dst = ((y + oy) * W + x + ox) * 3;
          for (let c = 0; c < 3; c++) fr.data[dst + c] = img.data[src + (img.channels >= 3 ? c : 0)];
        }
      }
    }
    const row = async (tiles) => {
      const opts = { tiles };
      let found = [];
      for (let i = 0; i < 20; i++) found = await model.analyze(fr, opts);
      const hit = new Set();
      let other = 0;
      for (const f of found) {
        const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
        const k = squares.findIndex(([x, y]) => cx > x && cx < x + s && cy > y && cy < y + s);
        if (k < 0 || hit.has(k)) other++;
        else hit.add(k);
      }
      const r = Math.max(runs, 200);
      const td = await sortedTimes(() => model.detect(fr, opts), r);
      const t = await sortedTimes(() => model.analyze(fr, opts), r);
      const med = t[Math.floor(r / 2)];
      console.log(`| ${n} | ${s} | ${tiles} | ${hit.size}/${n}${other ? ` + ${other}` : ''} | ${td[Math.floor(r / 2)].toFixed(2)} | ${med.toFixed(2)} | ${t[Math.floor(r * 0.95)].toFixed(2)} | ${found.length ? (med / found.length).toFixed(2) : '-'} | ${r} |`);
      return hit.size;
    };
    if (tilesList) {
      for (const tiles of tilesList) await row(tiles);
    } else if ((await row(0)) < n) {
      await row(3);
    }
  }
}
model.dispose();
