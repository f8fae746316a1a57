// perface.js - the per-face and detect+classify figures, as one function that runs unchanged in
// Node and in a browser page (browser.bench.js runs it in both and prints them side by side).
// It only uses wasm/emoxnet.js's public API, given as `api`.
//
// Timing: each sample is `group` back-to-back calls divided by `group`, median over the samples.
// Browsers coarsen performance.now() (Chromium: 100 us without cross-origin isolation, 5 us
// with it), too coarse for a 1 ms call on a page that is not isolated; a group of 10 calls
// brings that to 10 us whatever the page's headers. Every figure warms up first: V8
// runs wasm in Liftoff at first and tiers up to TurboFan in the background.

/** A deterministic face-like 48x48 gray image: content does not change the work done. */
export function syntheticFace() {
  const face = { data: new Uint8Array(48 * 48), width: 48, height: 48, channels: 1 };
  for (let i = 0; i < face.data.length; i++) face.data[i] = (i * 37 + (i >> 6) * 11) & 255;
  return face;
}

// The builds measure() can compare, and the load() options that pick each one.
export const BUILDS = Object.freeze({
  relaxed: { label: 'relaxed SIMD', options: { relaxed: true } },
  simd: { label: 'SIMD128', options: { simd: true, relaxed: false } },
  scalar: { label: 'scalar', options: { simd: false } },
});

/**
 * Time each of fns (one per build) the same way, taking turns sample by sample: on shared cores
 * a load change then hits every build alike, so their ratio survives it.
 */
async function sampleTurns(fns, { runs, group, warm }) {
  for (const fn of fns) for (let i = 0; i < warm; i++) await fn();
  const t = fns.map(() => []);
  for (let s = 0; s < runs; s++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < group; i++) await fn();
      t[k].push((performance.now() - t0) / group);
    }
  }
  return t.map((x) => {
    x.sort((a, b) => a - b);
    return { med: x[Math.floor(x.length / 2)], p95: x[Math.min(x.length - 1, Math.floor(x.length * 0.95))] };
  });
}

/**
 * api: { load, relaxedSimdSupported } of wasm/emoxnet.js; frame: a 640x480 RGB image with one
 * face ({ data, width, height, channels }); runs: samples per figure; group: calls per sample;
 * warm: warm-up calls; builds: which .wasm builds to compare (BUILDS keys; 'relaxed' is left out
 * where the engine lacks relaxed SIMD). Returns [{ key, build, label, med, p95, note? }].
 */
export async function measure(api, { frame, runs = 50, group = 10, warm = 200, builds = ['simd'] }) {
  const face = syntheticFace();
  const use = builds.filter((b) => b !== 'relaxed' || api.relaxedSimdSupported());
  const out = [];
  const opts = { runs, group, warm };
  const slow = { runs, group: 1, warm: Math.min(warm, 30) };
  const push = (key, label, results, notes = []) =>
    results.forEach((r, k) => out.push({ key, build: use[k], label, ...r, ...(notes[k] ? { note: notes[k] } : {}) }));
  for (const [key, label, which] of [['lite', 'EmoXNetLite classify() per face (flip TTA)', 'lite'],
    ['ensemble', 'EmoXNet ensemble classify() per face (flip TTA)', 'ensemble']]) {
    const ms = [];
    for (const b of use) ms.push(await api.load(which, BUILDS[b].options));
    push(key, label, await sampleTurns(ms.map((m) => () => m.classify(face)), key === 'ensemble' ? slow : opts));
    if (key === 'lite') {
      // the detector alone, then detect + classify one face with Lite
      const faces = [];
      for (const m of ms) faces.push(await m.analyze(frame)); // loads the detector
      push('detect', 'detect(), 640x480 frame', await sampleTurns(ms.map((m) => () => m.detect(frame)), slow));
      const r = await sampleTurns(ms.map((m, k) => async () => { faces[k] = await m.analyze(frame); }), slow);
      push('analyze', 'detect + classify (analyze()), 640x480, one face, Lite', r, faces.map((f) => `${f.length} face(s) found`));
    }
    for (const m of ms) m.dispose();
  }
  return out;
}

/** Time `fn(side)` for each side, the sides taking turns call by call (a change in the machine's
 * load then hits all alike), after `warm` calls each: per side, the wall and CPU milliseconds
 * (process.cpuUsage: user + system of this single-threaded process) of `runs` calls. */
export async function takeTurns(sides, fn, { runs, warm }) {
  for (let i = 0; i < warm; i++) for (const s of sides) await fn(s);
  const wall = sides.map(() => []), cpu = sides.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < sides.length; k++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      await fn(sides[k]);
      const t1 = performance.now(), c1 = process.cpuUsage(c0);
      wall[k].push(t1 - t0);
      cpu[k].push((c1.user + c1.system) / 1000);
    }
  }
  return { wall, cpu };
}
