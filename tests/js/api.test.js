// The JavaScript API of the WebAssembly build (wasm/emoxnet.js) on models built by
// tests/js/helpers.js, whose outputs can be computed in JS: loading from every kind of source,
// run() and classify() against a JS forward pass, image formats, boxes, decoding, memory reuse.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer } from 'node:http';
import { load, decodeImage, simdSupported, EmxError } from '../../wasm/emoxnet.js';
import { ROOT, FER_CLASSES, assertBuilt, makeDenseModel, denseForward, makePng, prng, readF32 } from './helpers.js';

const TOL = 1e-4;
const dense = makeDenseModel({ meta: { description: 'a test net', custom: 'ünïcode ✓' } });

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randomBytes(n, seed) {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor((r() + 1) * 127.99));
}

// What preprocessing must produce when the image already has the input size (no resize).
function normalise(gray, spec) {
  return Float32Array.from(gray, (p) => (p / 255 - spec.mean) / spec.std);
}

before(assertBuilt);

test('SIMD is detected on Node 20', () => {
  assert.equal(simdSupported(), true);
});

test('load() takes Uint8Array, ArrayBuffer, Buffer, DataView, Blob, a path and a file: URL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emx-'));
  const file = join(dir, 'dense.emx');
  writeFileSync(file, dense.bytes);
  const copy = dense.bytes.slice();
  const sources = [
    copy,
    copy.buffer,
    Buffer.from(copy),
    new DataView(copy.buffer),
    new Blob([copy]),
    file,
    pathToFileURL(file),
    pathToFileURL(file).href,
  ];
  for (const src of sources) {
    const m = await load(src);
    assert.deepEqual(m.classNames, FER_CLASSES);
    m.dispose();
  }
});

test('http: models and .wasm are fetched (streaming compile, wrong MIME type falls back)', async () => {
  const files = {
    '/m.emx': [dense.bytes, 'application/octet-stream'],
    '/good/emoxnet-scalar.wasm': [readFileSync(join(ROOT, 'wasm/dist/emoxnet-scalar.wasm')), 'application/wasm'],
    '/plain/emoxnet-scalar.wasm': [readFileSync(join(ROOT, 'wasm/dist/emoxnet-scalar.wasm')), 'text/plain'],
  };
  const server = createServer((req, res) => {
    const f = files[req.url];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1] }).end(f[0]);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const dirName of ['good', 'plain']) {
      const m = await load(`${base}/m.emx`, { simd: false, locateFile: (name) => new URL(`${base}/${dirName}/${name}`) });
      assert.deepEqual(m.classNames, FER_CLASSES);
      m.dispose();
    }
    await assert.rejects(load(`${base}/missing.emx`), (e) => e.code === 'LOAD' && /404/.test(e.message));
    await assert.rejects(load(dense.bytes, { simd: false, locateFile: () => `${base}/none.wasm` }), (e) => e.code === 'LOAD');
  } finally {
    server.close();
  }
});

test('classNames, inputSpec and meta come from the file', async () => {
  const m = await load(dense.bytes);
  assert.deepEqual([...m.classNames], FER_CLASSES);
  assert.equal(m.inputSpec.width, 8);
  assert.equal(m.inputSpec.height, 8);
  assert.equal(m.inputSpec.channels, 1);
  assert.equal(m.inputSpec.mean, 0.5);
  assert.equal(m.inputSpec.std, 0.25);
  assert.deepEqual({ ...m.meta }, { name: 'test-dense', description: 'a test net', custom: 'ünïcode ✓' });
  assert.ok(Object.isFrozen(m.classNames) && Object.isFrozen(m.meta) && Object.isFrozen(m.inputSpec));
  m.dispose();
});

test('run() matches a JS forward pass: simd, scalar, reference', async () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 2);
  const want = denseForward(dense, x);
  for (const simd of [true, false]) {
    for (const reference of [false, true]) {
      const m = await load(dense.bytes, { simd, reference });
      assert.equal(m.variant, simd ? 'simd' : 'scalar');
      assert.equal(m.reference, reference);
      const got = m.run(x);
      assert.ok(got instanceof Float32Array && got.length === 8);
      assert.ok(maxDiff(got, want) < TOL, `simd=${simd} reference=${reference}: ${maxDiff(got, want)}`);
      m.dispose();
    }
  }
});

test('wasmBinary and wasmModule options', async () => {
  const bin = readFileSync(join(ROOT, 'wasm/dist/emoxnet-scalar.wasm'));
  const a = await load(dense.bytes, { wasmBinary: bin });
  assert.equal(a.variant, 'custom');
  const mod = await WebAssembly.compile(bin);
  const b = await load(dense.bytes, { wasmModule: mod });
  const x = new Float32Array(64).fill(0.25);
  assert.deepEqual(a.run(x), b.run(x));
  a.dispose();
  b.dispose();
  const c = await load(dense.bytes, { locateFile: (name) => join(ROOT, 'wasm/dist', name), simd: false });
  assert.equal(c.variant, 'scalar');
  c.dispose();
});

test('classify() = run() on (pixel/255 - mean)/std when the image has the input size', async () => {
  const m = await load(dense.bytes);
  const gray = randomBytes(64, 3);
  const got = m.classify({ data: gray, width: 8, height: 8 });
  const want = denseForward(dense, normalise(gray, m.inputSpec));
  assert.deepEqual(Object.keys(got.scores), FER_CLASSES);
  const probs = FER_CLASSES.map((c) => got.scores[c]);
  assert.ok(maxDiff(probs, want) < TOL, `max diff ${maxDiff(probs, want)}`);
  const best = want.indexOf(Math.max(...want));
  assert.equal(got.label, FER_CLASSES[best]);
  m.dispose();
});

test('gray, RGB, RGBA and ImageData-like inputs agree (PIL grayscale conversion)', async () => {
  const m = await load(dense.bytes);
  const rgb = randomBytes(8 * 8 * 3, 11);
  const rgba = new Uint8ClampedArray(8 * 8 * 4);
  const gray = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
    rgba.set([r, g, b, 255 - i], 4 * i); // alpha is ignored
    gray[i] = Math.round((299 * r + 587 * g + 114 * b) / 1000);
  }
  const a = m.classify({ data: gray, width: 8, height: 8, channels: 1 });
  const b = m.classify({ data: rgb, width: 8, height: 8 }); // channels inferred: 3
  const c = m.classify({ data: rgba, width: 8, height: 8, colorSpace: 'srgb' }); // ImageData shape
  for (const k of FER_CLASSES) {
    assert.ok(Math.abs(a.scores[k] - b.scores[k]) < TOL, `rgb ${k}`);
    assert.ok(Math.abs(a.scores[k] - c.scores[k]) < TOL, `rgba ${k}`);
  }
  m.dispose();
});

test('a box covering the image equals no box; boxes partly outside are accepted', async () => {
  const m = await load(dense.bytes);
  const img = { data: randomBytes(32 * 24, 5), width: 32, height: 24 };
  const whole = m.classify(img);
  const boxed = m.classify(img, { x: 0, y: 0, width: 32, height: 24 });
  for (const k of FER_CLASSES) assert.ok(Math.abs(whole.scores[k] - boxed.scores[k]) < TOL);
  const partly = m.classify(img, { x: -10, y: 20, width: 16.5, height: 16 });
  const sum = Object.values(partly.scores).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4);
  assert.ok(m.classify(img, null).label === whole.label);
  m.dispose();
});

test('decodeImage() decodes gray, RGB, RGBA and gray+alpha PNGs', async () => {
  const w = 5;
  const h = 3;
  const px = (ch) => randomBytes(w * h * ch, ch);
  for (const [type, ch, outCh] of [[0, 1, 1], [2, 3, 3], [6, 4, 4], [4, 2, 1]]) {
    const pixels = px(ch);
    const img = await decodeImage(makePng(w, h, type, pixels));
    assert.equal(img.width, w);
    assert.equal(img.height, h);
    assert.equal(img.channels, outCh);
    const want = ch === 2 ? pixels.filter((_, i) => i % 2 === 0) : pixels; // gray+alpha -> gray
    assert.deepEqual(img.data, want, `PNG color type ${type}`);
  }
  // ArrayBuffer input and the scalar build
  const img = await decodeImage(makePng(2, 2, 0, new Uint8Array([1, 2, 3, 4])).buffer, { simd: false });
  assert.deepEqual([...img.data], [1, 2, 3, 4]);
});

test('decoded images feed classify() directly', async () => {
  const m = await load(dense.bytes);
  const gray = randomBytes(64, 9);
  const img = await decodeImage(makePng(8, 8, 0, gray));
  const a = m.classify(img);
  const b = m.classify({ data: gray, width: 8, height: 8 });
  assert.deepEqual(a, b);
  m.dispose();
});

test('repeated calls do not grow wasm memory (buffers are reused)', async () => {
  const m = await load(dense.bytes);
  const memory = m[Symbol.for('emoxnet.memory')];
  const big = { data: randomBytes(320 * 240 * 4, 2), width: 320, height: 240 };
  const x = new Float32Array(64).fill(0.1);
  for (let i = 0; i < 20; i++) {
    m.classify(big, { x: 10, y: 10, width: 100, height: 100 });
    m.run(x);
  }
  const before = memory.buffer.byteLength;
  for (let i = 0; i < 500; i++) {
    m.classify(big, { x: 10, y: 10, width: 100, height: 100 });
    m.classify({ data: randomBytes(64, i), width: 8, height: 8 });
    m.run(x);
  }
  assert.equal(memory.buffer.byteLength, before);
  m.dispose();
  assert.equal(m[Symbol.for('emoxnet.memory')], null);
});

test('models are independent (one instance each)', async () => {
  const a = await load(dense.bytes);
  const other = makeDenseModel({ seed: 99 });
  const b = await load(other.bytes);
  const x = Float32Array.from({ length: 64 }, (_, i) => (i % 7) / 7);
  const ra = a.run(x);
  b.dispose();
  assert.deepEqual(a.run(x), ra);
  assert.ok(maxDiff(ra, denseForward(other, x)) > 1e-3);
  a.dispose();
});

test("shipped names resolve next to the package ('lite' -> models/emoxnet-lite.emx)", async () => {
  try {
    const m = await load('lite');
    assert.equal(m.classNames.length, 8);
    m.dispose();
  } catch (err) {
    assert.ok(err instanceof EmxError, String(err));
    assert.equal(err.code, 'LOAD');
    assert.match(err.message, /models\/emoxnet-lite\.emx/);
  }
});

test("the shipped ensemble ('ensemble' -> models/emoxnet.emx) loads and classifies", async () => {
  const m = await load('ensemble');
  try {
    assert.deepEqual(m.classNames, FER_CLASSES);
    assert.equal(m.isDetector, false);
    const spec = m.inputSpec;
    assert.deepEqual([spec.width, spec.height, spec.channels], [48, 48, 1]);
    // a 48x48 grayscale face-sized image: no resize, so classify() must equal run() on the
    // normalised pixels (the path the golden files check against PyTorch)
    const r = prng(11);
    const gray = Uint8Array.from({ length: 48 * 48 }, (_, i) => Math.max(0, Math.min(255, Math.round(128 + 60 * Math.sin(i / 37) + 40 * r()))));
    const res = m.classify({ data: gray, width: 48, height: 48, channels: 1 });
    const p = FER_CLASSES.map((c) => res.scores[c]);
    assert.equal(p.length, 8);
    for (const v of p) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, String(v));
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, `scores sum to ${p.reduce((a, b) => a + b, 0)}`);
    assert.equal(res.label, FER_CLASSES[p.indexOf(Math.max(...p))]);
    const ran = m.run(normalise(gray, spec));
    assert.ok(maxDiff(ran, p) < 1e-5, `classify vs run: ${maxDiff(ran, p)}`);
    // the golden cases written with the ensemble (training/ensemble.py --golden emoxnet), when
    // present: the same top label as PyTorch (golden.test.js checks the values to 1e-4)
    const gin = join(ROOT, 'tests/golden/emoxnet.input.f32');
    const gexp = join(ROOT, 'tests/golden/emoxnet.expected.f32');
    if (existsSync(gin) && existsSync(gexp)) {
      const input = readF32(gin);
      const expected = readF32(gexp);
      const n = 48 * 48;
      for (let c = 0; c < input.length / n; c++) {
        const got = Array.from(m.run(input.subarray(c * n, (c + 1) * n)));
        const want = Array.from(expected.subarray(c * 8, (c + 1) * 8));
        assert.equal(got.indexOf(Math.max(...got)), want.indexOf(Math.max(...want)), `golden case ${c}`);
      }
    }
  } finally {
    m.dispose();
  }
});

test('the package modules import no Node builtins statically (bundlers must not see them)', () => {
  const dir = join(ROOT, 'wasm', 'lib');
  const files = [join(ROOT, 'wasm/emoxnet.js'), ...readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f))];
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    // Static imports may only name the package's own modules.
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
      assert.match(m[1], /^\.\.?\//, `${f} imports ${m[1]}`);
    }
    assert.doesNotMatch(src, /^\s*import\s+['"](?!\.)/m, f);
    assert.doesNotMatch(src, /\brequire\s*\(/, f);
    assert.doesNotMatch(src, /import\s*\(\s*['"](node:)?fs/, f);
  }
});
