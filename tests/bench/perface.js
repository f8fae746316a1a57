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

async function sample(fn, { runs, group, warm }) {
  for (let i = 0; i < warm; i++) await fn();
  const t = [];
  for (let s = 0; s < runs; s++) {
    const t0 = performance.now();
    for (let i = 0; i < group; i++) await fn();
    t.push((performance.now() - t0) / group);
  }
  t.sort((a, b) => a - b);
  return { med: t[Math.floor(t.length / 2)], p95: t[Math.min(t.length - 1, Math.floor(t.length * 0.95))] };
}

/**
 * api: { load } of wasm/emoxnet.js; frame: a 640x480 RGB image with one face ({ data, width,
 * height, channels }); runs: samples per figure; group: calls per sample; warm: warm-up calls.
 * Returns [{ key, label, med, p95, note? }].
 */
export async function measure(api, { frame, runs = 50, group = 10, warm = 200 }) {
  const face = syntheticFace();
  const out = [];
  const opts = { runs, group, warm };
  for (const [key, label, which] of [['lite', 'EmoXNetLite classify() per face (flip TTA)', 'lite'],
    ['ensemble', 'EmoXNet ensemble classify() per face (flip TTA)', 'ensemble']]) {
    const m = await api.load(which, { simd: true });
    out.push({ key, label, ...(await sample(() => m.classify(face), key === 'ensemble' ? { ...opts, group: 1, warm: Math.min(warm, 30) } : opts)) });
    if (key === 'lite') {
      // the detector alone, then detect + classify one face with Lite
      let faces = await m.analyze(frame); // loads the detector
      const detOpts = { runs, group: 1, warm: Math.min(warm, 30) };
      out.push({ key: 'detect', label: 'detect(), 640x480 frame', ...(await sample(() => m.detect(frame), detOpts)) });
      const r = await sample(async () => { faces = await m.analyze(frame); }, detOpts);
      out.push({ key: 'analyze', label: 'detect + classify (analyze()), 640x480, one face, Lite', ...r, note: `${faces.length} face(s) found` });
    }
    m.dispose();
  }
  return out;
}
