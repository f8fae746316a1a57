// ops-ab.js - per-op A/B of two bench-ops builds (tests/bench/bench-ops.c compiled to
// WebAssembly: build-wasm/bench-ops.cjs, bench-ops-relaxed.cjs), e.g. main's against a branch's:
//
//   node tests/bench/ops-ab.js BASE/bench-ops-relaxed.cjs build-wasm/bench-ops-relaxed.cjs [REPS [MODEL]]
//
// Runs the two REPS times each (default 6), taking turns run by run and swapping which goes
// first, so a change in the machine's load hits both alike; prints per op (> 2 us) the median
// of the runs' medians for each and base / current (> 1: current is faster), then the sums.
// On shared cores load still moves single runs by 10-30%: read ops that did not change (the
// maxpools, conv 0) as the noise floor.
import { spawnInTurns } from './spawn-turns.js';

const [base, cur, repsArg, model = 'models/emoxnet-lite.emx'] = process.argv.slice(2);
if (!base || !cur) throw new Error('usage: node tests/bench/ops-ab.js BASE.cjs CURRENT.cjs [REPS [MODEL]]');
const reps = Number(repsArg ?? 6);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const runs = { base: [], cur: [] };
spawnInTurns(reps, { base, cur }, [model, '200'], (key, stdout) => {
  const ops = new Map();
  let forward = NaN;
  for (const line of stdout.split('\n')) {
    const fw = line.match(/forward median ([\d.]+) us/);
    if (fw) forward = Number(fw[1]);
    const f = line.trim().split(/\s+/);
    if (f.length > 5 && /^\d+$/.test(f[0])) ops.set(Number(f[0]), { name: f.slice(1, 4).join(' '), us: Number(f[f.length - 3]) });
  }
  runs[key].push({ ops, forward });
});

let sumBase = 0, sumCur = 0;
for (const [i, { name }] of runs.base[0].ops) {
  const b = med(runs.base.map((x) => x.ops.get(i).us)), c = med(runs.cur.map((x) => x.ops.get(i).us));
  sumBase += b, sumCur += c;
  if (b > 2) console.log(`${String(i).padStart(3)} ${name.padEnd(28)} base ${b.toFixed(1).padStart(7)}  current ${c.toFixed(1).padStart(7)}  ${(b / c).toFixed(3)}x`);
}
const fb = med(runs.base.map((x) => x.forward)), fc = med(runs.cur.map((x) => x.forward));
console.log(`sum of op medians: base ${sumBase.toFixed(1)} us, current ${sumCur.toFixed(1)} us, ${(sumBase / sumCur).toFixed(3)}x; forward medians ${fb.toFixed(1)} / ${fc.toFixed(1)} us, ${(fb / fc).toFixed(3)}x (${reps} runs each)`);
