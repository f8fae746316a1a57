// kernels-ab.js - A/B of two bench-kernels builds' non-GEMM rows (tests/bench/bench-kernels.c
// compiled to WebAssembly: build-wasm/bench-kernels.cjs, bench-kernels-relaxed.cjs), e.g. main's
// against a branch's, as ops-ab.js does for whole models:
//
//   node tests/bench/kernels-ab.js BASE/bench-kernels.cjs build-wasm/bench-kernels.cjs [REPS]
//
// Runs the two REPS times each (default 30; a run takes about a second), taking turns and
// swapping which goes first. Prints per depthwise row, for each build, the microseconds' minimum,
// lower quartile and median over the runs and the median of the row's GEMM/dw ratio (the same
// run's 1x1 GEMM GFLOP/s over the depthwise one: issue 20's goal 5). On this 2-core VM a run is
// either fast or slow as a whole (GEMM 16-30 GFLOP/s), so medians of single figures move 10-30%
// between sessions; the minimum and lower quartile of the time separate two builds first. Stop
// background work (kill -STOP) while it runs.
import { spawnInTurns } from './spawn-turns.js';

const [base, cur, repsArg] = process.argv.slice(2);
if (!base || !cur) throw new Error('usage: node tests/bench/kernels-ab.js BASE.cjs CURRENT.cjs [REPS]');
const reps = Number(repsArg ?? 30);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const q = (xs, f) => sorted(xs)[Math.floor((xs.length - 1) * f)];

const rows = new Map(); // name -> { base: {us: [], ratio: []}, cur: ... }
spawnInTurns(reps, { base, cur }, ['0.2', '--non-gemm'], (key, stdout) => {
  for (const line of stdout.split('\n')) {
    // "MobileNet 7x7x512 /1   0.452   10.76   4.78   42.0   16.81   1.56x   1528.1"
    const m = line.match(/^(\S+ \d+x\d+x\d+ \/\d)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+([\d.]+)x/);
    if (!m) continue;
    if (!rows.has(m[1])) rows.set(m[1], { base: { us: [], ratio: [] }, cur: { us: [], ratio: [] } });
    rows.get(m[1])[key].us.push(Number(m[2]));
    rows.get(m[1])[key].ratio.push(Number(m[3]));
  }
});
if (rows.size === 0) throw new Error('no depthwise rows in the bench output');

console.log(`${reps} runs each, turns taken; us: min / q25 / median; GEMM/dw: median`);
const cell = (v) => `${q(v.us, 0).toFixed(1).padStart(6)} ${q(v.us, 0.25).toFixed(1).padStart(6)} ${q(v.us, 0.5).toFixed(1).padStart(6)}  ${q(v.ratio, 0.5).toFixed(2)}x`;
console.log(`${'layer'.padEnd(24)} ${'base'.padEnd(28)} ${'current'.padEnd(28)} q25 base/current`);
for (const [name, v] of rows)
  console.log(`${name.padEnd(24)} ${cell(v.base).padEnd(28)} ${cell(v.cur).padEnd(28)} ${(q(v.base.us, 0.25) / q(v.cur.us, 0.25)).toFixed(3)}x`);
