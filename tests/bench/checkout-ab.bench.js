// checkout-ab.bench.js - this checkout's package against another checkout's, each with its own
// JS, WebAssembly and model files, taking turns call by call in one process (so a change in the
// machine's load hits both alike). What it is for: a speed-up "since then" measured on the
// machine at hand, e.g. against the tree on which issue 20 was filed, whose goals were set as
// milliseconds on another machine (docs/BENCHMARKS.md, "Session 12").
//
//   node --experimental-wasm-relaxed-simd --no-experimental-fetch tests/bench/checkout-ab.bench.js \
//       --other DIR [--runs N] [--warm N] [--simd128]
//
// DIR: a checkout of the repository with its wasm built (sh scripts/build.sh there), e.g.
//   git worktree add /tmp/issue20-start 47c1428^ && (cd /tmp/issue20-start && sh scripts/build.sh)
// This checkout runs the build load() picks (relaxed SIMD where the engine has it, as users
// get); --simd128 forces SIMD128 here too, to separate the kernels from the relaxed build.
// The other checkout runs its own default. Inputs are the same bytes for both: the synthetic
// 48x48 face and the one-face 640x480 frame of the other figures (tests/bench/frame.js).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { load } from '../../wasm/emoxnet.js';
import { oneFaceFrame } from './frame.js';
import { syntheticFace, takeTurns } from './perface.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
let runs = 300, warm = 100, other = null, simd128 = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--other') other = resolve(args[++i]);
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--warm') warm = Number(args[++i]);
  else if (args[i] === '--simd128') simd128 = true;
  else throw new Error(`unknown argument ${args[i]}`);
}
if (!other) throw new Error('--other DIR (a checkout with its wasm built) is required');
if (!(runs >= 5) || !(warm >= 2)) throw new Error('--runs needs >= 5 and --warm >= 2');

const otherApi = await import(pathToFileURL(join(other, 'wasm', 'emoxnet.js')).href);
const sides = [
  { name: 'this', root, load, opts: simd128 ? { relaxed: false } : {} },
  { name: 'other', root: other, load: otherApi.load, opts: {} },
];
const face = syntheticFace();
const { frame, face: hasFace } = await oneFaceFrame(root);
for (const s of sides) {
  s.lite = await s.load(readFileSync(join(s.root, 'models', 'emoxnet-lite.emx')), s.opts);
  s.ens = await s.load(readFileSync(join(s.root, 'models', 'emoxnet.emx')), s.opts);
  await s.lite.analyze(frame); // loads the detector
}

const figures = [
  ['EmoXNetLite classify() per face (preprocessing + flip TTA)', (s) => s.lite.classify(face), 1],
  ['EmoXNet ensemble classify() per face (flip TTA)', (s) => s.ens.classify(face), 0.25],
  ['detect(), 640x480 frame', (s) => s.lite.detect(frame), 0.5],
  [`detect + classify (analyze()), 640x480, one face, Lite${hasFace ? '' : ' (no FER+ face: nothing found)'}`, (s) => s.lite.analyze(frame), 0.5],
];
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`ms per call (CPU time medians), single thread, ${process.version}; this: ${sides[0].lite.variant}, ` +
  `other (${other}): ${sides[1].lite.variant}; turns call by call`);
console.log('| figure | this CPU ms | other CPU ms | speed-up (other / this, CPU) | speed-up (wall) |');
console.log('|---|---:|---:|---:|---:|');
for (const [label, fn, scale] of figures) {
  const n = Math.max(5, Math.round(runs * scale)), w = Math.max(2, Math.round(warm * scale));
  const { wall, cpu } = await takeTurns(sides, fn, { runs: n, warm: w });
  const [c0, c1] = cpu.map(med), [w0, w1] = wall.map(med);
  console.log(`| ${label} | ${c0.toFixed(3)} | ${c1.toFixed(3)} | ${(c1 / c0).toFixed(2)}x | ${(w1 / w0).toFixed(2)}x |`);
}
for (const s of sides) { s.lite.dispose(); s.ens.dispose(); }
