// spawn-turns.js - run two builds of a bench program REPS times each, taking turns and swapping
// which goes first every round, so a change in the machine's load hits both alike (the A/B
// scripts ops-ab.js and kernels-ab.js). Each run is a fresh Node process with relaxed SIMD
// enabled (the relaxed build needs it; the SIMD128 one ignores it).
import { spawnSync } from 'node:child_process';

// sides: { key: path to a .cjs }; args: the bench's own arguments; onRun(key, stdout) per run.
export function spawnInTurns(reps, sides, args, onRun) {
  const pairs = Object.entries(sides);
  for (let r = 0; r < reps; r++) {
    for (const [key, exe] of r % 2 === 0 ? pairs : [...pairs].reverse()) {
      const p = spawnSync(process.execPath, ['--no-experimental-fetch', '--experimental-wasm-relaxed-simd', exe, ...args],
        { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (p.status !== 0) throw new Error(`${exe} failed: ${(p.stderr || '').slice(-300)}`);
      onRun(key, p.stdout);
    }
  }
}
