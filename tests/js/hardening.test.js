// Issue 18, the package's side: hostile-but-possible arguments and models must give an EmxError
// (or a correct result), never a corrupted instance, a wrong score, a TypeError/RangeError or a
// NaN returned as success, and the model must keep working afterwards. Each test here failed
// before its fix.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, annotate, decodeImage, EmxError, FaceTracker } from '../../wasm/emoxnet.js';
import { Wasm } from '../../wasm/lib/wasm.js';
import { CORE_LIMITS, IMAGE_LIMITS, checkImage } from '../../wasm/lib/image.js';
import { STATUS_CODE } from '../../wasm/lib/errors.js';
import { classScores } from '../../wasm/lib/detector.js';
import { ema } from '../../wasm/lib/video.js';
import { ROOT, FERPLUS_DIR, LITE_MODEL, assertBuilt, makeDenseModel, makePng, twoFaceFrame } from './helpers.js';

const dense = makeDenseModel();
const good = () => ({ data: new Uint8Array(64).map((_, i) => (i * 37) % 256), width: 8, height: 8 });

before(assertBuilt);

async function codeOf(fn) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof EmxError, `expected an EmxError, got ${err && err.stack}`);
    return err.code;
  }
  return null;
}

async function expectCode(code, fn, what = code) {
  assert.equal(await codeOf(fn), code, what);
}

/** What a fresh model answers for good(): the reference a used one must still give. */
async function reference() {
  const m = await load(dense.bytes);
  try {
    return m.classify(good());
  } finally {
    m.dispose();
  }
}

function assertSameScores(got, want, what) {
  assert.equal(got.label, want.label, what);
  for (const k of Object.keys(want.scores)) assert.ok(Math.abs(got.scores[k] - want.scores[k]) < 1e-6, `${what}: ${k}`);
}

// ---- break 1: the buffer checked is the buffer copied ----

test('break 1: a Uint8Array whose length getter lies is refused, and the model still works', async () => {
  const want = await reference();
  const m = await load(dense.bytes);
  try {
    const data = new Uint8Array(1 << 20).fill(255);
    Object.defineProperty(data, 'length', { get: () => 64 });
    await expectCode('IMAGE', () => m.classify({ data, width: 8, height: 8 }), 'lying length (classify)');
    await expectCode('IMAGE', () => m.analyze({ data, width: 8, height: 8 }), 'lying length (analyze)');
    const input = new Float32Array(1 << 18);
    Object.defineProperty(input, 'length', { get: () => 64 });
    await expectCode('INVALID_ARG', () => m.run(input), 'lying length (run)');
    // PNG bytes whose length getter hides 1 MiB after them: decoded from what is really there
    const png = makePng(8, 8, 0, good().data);
    const padded = new Uint8Array(png.length + (1 << 20)).fill(255);
    padded.set(png);
    Object.defineProperty(padded, 'length', { get: () => png.length });
    const code = await codeOf(() => m.classify(padded));
    assert.ok(code === null || code === 'DECODE', `lying PNG length: ${code}`);
    await expectCode('DECODE', () => decodeImage(Object.defineProperty(new Uint8Array(0), 'length', { get: () => 1 << 30 })), 'no bytes claiming 1 GiB');
    assertSameScores(m.classify(good()), want, 'after the lying buffers');
  } finally {
    m.dispose();
  }
});

test('break 1: a resizable buffer grown, or a buffer transferred, during analyze() changes nothing', async () => {
  const want = await reference();
  for (const how of ['grow', 'transfer']) {
    const m = await load(dense.bytes);
    try {
      const rab = new ArrayBuffer(64, { maxByteLength: 1 << 22 });
      const data = new Uint8Array(rab); // length-tracking
      data.set(good().data);
      const p = m.analyze({ data, width: 8, height: 8 }); // the first call awaits the detector's load
      if (how === 'grow') {
        rab.resize(1 << 22);
        data.fill(255);
      } else {
        structuredClone(rab, { transfer: [rab] });
      }
      const code = await codeOf(() => p);
      assert.equal(code, null, `${how}: analyze() of the snapshot should succeed`);
      assertSameScores(m.classify(good()), want, `after a buffer that was ${how === 'grow' ? 'grown' : 'transferred'}`);
      // A detached buffer given directly: an EmxError, not a TypeError.
      if (how === 'transfer') {
        await expectCode('IMAGE', () => m.classify({ data, width: 8, height: 8 }), 'detached (classify)');
        await expectCode('IMAGE', () => m.analyze({ data, width: 8, height: 8 }), 'detached (analyze)');
      }
    } finally {
      m.dispose();
    }
  }
});

test('break 1: load(), decodeImage() and annotate() copy what they were given before awaiting', async () => {
  const buf = dense.bytes.slice().buffer;
  const p = load(buf);
  structuredClone(buf, { transfer: [buf] }); // the caller reuses its buffer at once
  const m = await p;
  assertSameScores(m.classify(good()), await reference(), 'model loaded from a transferred buffer');
  m.dispose();
  const img = good();
  const annotated = annotate(img, []);
  img.data.fill(0);
  assert.deepEqual((await decodeImage(await annotated)).data, good().data, 'annotate() encodes the pixels as they were at the call');
  const bytes = makePng(8, 8, 0, good().data);
  const q = decodeImage(bytes);
  bytes.fill(0); // no longer a PNG: decoding it after the await would fail
  assert.deepEqual((await q).data, good().data);
});

// ---- break 6: one set of image limits, checked before copying ----

test("break 6: images over the core's limits are refused before anything is copied", async () => {
  assert.deepEqual(IMAGE_LIMITS, { maxSide: 16384, maxPixels: 2 ** 26 });
  assert.throws(() => checkImage({ data: new Uint8Array(16385), width: 16385, height: 1 }), { code: 'IMAGE' });
  assert.throws(() => checkImage({ data: new Uint8Array(1), width: 8192, height: 8193 }), { code: 'IMAGE', message: /pixels/ });
  const m = await load(dense.bytes);
  try {
    const memory = () => m[Symbol.for('emoxnet.memory')].buffer.byteLength;
    const before = memory();
    // 16385 x 4096 gray: over both limits; before the fix JS copied its 67 MB, then C refused.
    const data = new Uint8Array(16385 * 4096);
    await expectCode('IMAGE', () => m.classify({ data, width: 16385, height: 4096 }));
    assert.equal(memory(), before, 'the wasm heap grew: the pixels were copied before the refusal');
  } finally {
    m.dispose();
  }
});

test("JS's limits and status names are the wasm builds' own", async () => {
  for (const variant of ['simd', 'scalar']) {
    const module = await WebAssembly.compile(readFileSync(join(ROOT, 'wasm', 'dist', `emoxnet-${variant}.wasm`)));
    const w = await Wasm.create(module);
    // The shipped builds answer for themselves (JS's copies are only the fallback for others).
    for (const name of ['emx_wasm_limit', 'emx_wasm_status_name', 'emx_wasm_load_budget']) {
      assert.equal(typeof w.ex[name], 'function', `${variant} exports ${name}`);
    }
    assert.deepEqual({ ...w.limits }, { ...CORE_LIMITS }, `${variant}: limits`);
    for (const [status, code] of STATUS_CODE) {
      assert.equal(w.string(w.call('emx_wasm_status_name', status)), code, `${variant}: status ${status}`);
    }
    assert.equal(w.string(w.call('emx_wasm_status_name', -(STATUS_CODE.size + 1))), 'UNKNOWN', `${variant}: a status JS does not know`);
  }
});

// ---- break 3: metadata-key budget ----

test('break 3: a model with too many metadata keys is LIMIT, quickly; the budget can be raised', async () => {
  const keys = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  const many = makeDenseModel({ meta: keys(300) });
  const err = await load(many.bytes).catch((e) => e);
  assert.ok(err instanceof EmxError && err.code === 'LIMIT', String(err));
  assert.equal(err.status, -13);
  const m = await load(many.bytes, { budget: { maxMetaKeys: 400 } });
  assert.equal(Object.keys(m.meta).length, 301);
  m.dispose();
  const huge = makeDenseModel({ meta: keys(80000) }).bytes;
  const t0 = performance.now();
  await expectCode('LIMIT', () => load(huge));
  assert.ok(performance.now() - t0 < 5000, `80000 keys took ${performance.now() - t0} ms (14 s before the fix)`);
  await expectCode('INVALID_ARG', () => load(dense.bytes, { budget: { maxMetaKeys: -1 } }));
  await expectCode('INVALID_ARG', () => load(dense.bytes, { budget: 5 }));
});

test("break 3: load()'s budgets reach the core (LIMIT), or are refused by a build without them", async () => {
  for (const budget of [{ maxOps: 1 }, { maxMacs: 1 }, { maxMemoryBytes: 1 }]) {
    await expectCode('LIMIT', () => load(dense.bytes, { budget }), JSON.stringify(budget));
  }
  const m = await load(dense.bytes, { budget: { maxOps: 2, maxMetaKeys: 1 } });
  m.dispose();
  // a build without budgets (an older custom .wasm) refuses them rather than ignoring them
  const w = await Wasm.create(await WebAssembly.compile(readFileSync(join(ROOT, 'wasm', 'dist', 'emoxnet-simd.wasm'))));
  w.ex = { ...w.ex, emx_wasm_load_budget: undefined };
  assert.throws(() => w.loadModel(dense.bytes, false, 'load', { maxOps: 1 }), { code: 'UNSUPPORTED' });
  assert.ok(w.loadModel(dense.bytes, false, 'load', { maxMetaKeys: 1 }) > 0); // (maxMetaKeys: JS checks it too)

});

// ---- break 4: probabilities or an error ----

test('break 4: a network that produces NaN gives NUMERIC, never NaN scores', async () => {
  const nan = makeDenseModel({ weightScale: 3e38 });
  const m = await load(nan.bytes).catch((e) => e);
  if (m instanceof Error) {
    // a core that refuses such weights at load is fine too
    assert.ok(m instanceof EmxError, String(m));
    return;
  }
  let err = null;
  try {
    const got = m.classify(good());
    assert.fail(`classify returned ${JSON.stringify(got.scores)} (${Object.values(got.scores)})`);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof EmxError, String(err && err.stack));
  assert.equal(err.code, 'NUMERIC');
  assert.equal(err.status, -14);
  await expectCode('NUMERIC', () => m.run(new Float32Array(64).fill(1)), 'run');
  await expectCode('UNSUPPORTED', () => m.explainLast(), 'nothing to explain after NUMERIC');
  // After a run that succeeded, a NUMERIC one leaves nothing to explain either: the earlier
  // result is gone (this model has no maps, so explaining that result would fail otherwise).
  const probs = m.run(new Float32Array(64)); // zeros: the output is softmax(bias), finite
  assert.ok(probs.every(Number.isFinite));
  await expectCode('NUMERIC', () => m.run(new Float32Array(64).fill(1)), 'run after a good one');
  assert.throws(() => m.explainLast(), { code: 'UNSUPPORTED', message: /nothing to explain/ });
  m.dispose();
  // The same through classify() on a model that explains: a map for the good result, none after
  // a NUMERIC one (the core's run then holds NaNs, not the result explained).
  const cam = await load(makeDenseModel({ gap: true, weightScale: 3e38 }).bytes);
  const even = { data: Uint8Array.from({ length: 64 }, (_, i) => 127 + (i & 1)), width: 8, height: 8, channels: 1 };
  assert.ok(Object.values(cam.classify(even).scores).every(Number.isFinite)); // mean 0: softmax(bias)
  assert.equal(cam.explainLast().data.length, 64);
  await expectCode('NUMERIC', () => cam.classify({ data: new Uint8Array(64).fill(255), width: 8, height: 8, channels: 1 }), 'classify');
  assert.throws(() => cam.explainLast(), { code: 'UNSUPPORTED', message: /nothing to explain/ });
  cam.dispose();
});

// ---- break 7: class names ----

test("break 7: scores keep every class, '__proto__' included; duplicate names are refused", async () => {
  const s = classScores(['__proto__', 'constructor', 'a'], [0.25, 0.5, 0.25]);
  assert.deepEqual(Object.keys(s), ['__proto__', 'constructor', 'a']);
  assert.equal(Object.getPrototypeOf(s), Object.prototype);
  assert.equal(s.__proto__, 0.25);
  const e = ema({ ['__proto__']: 0 }, s, 0.5);
  assert.deepEqual(Object.keys(e), ['__proto__', 'constructor', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(e, '__proto__').value, 0.125);

  const withProtoKey = await load(makeDenseModel({ meta: { ['__proto__']: 'x', license: 'MIT' } }).bytes);
  assert.deepEqual(Object.entries(withProtoKey.meta), [['name', 'test-dense'], ['__proto__', 'x'], ['license', 'MIT']]);
  withProtoKey.dispose();

  const dup = makeDenseModel({ classes: ['neutral', 'happiness', 'happiness', 'sadness'] });
  await expectCode('FORMAT', () => load(dup.bytes), 'duplicate class names');

  const proto = makeDenseModel({ classes: ['neutral', '__proto__', 'surprise', 'sadness'] });
  const m = await load(proto.bytes).catch((err) => err);
  if (m instanceof Error) {
    assert.ok(m instanceof EmxError && m.code === 'FORMAT', String(m)); // the core refuses it
  } else {
    const { scores } = m.classify(good());
    assert.deepEqual(Object.keys(scores), ['neutral', '__proto__', 'surprise', 'sadness']);
    assert.ok(Object.values(scores).every((v) => typeof v === 'number'));
    m.dispose();
  }
});

// ---- break 9: contract slips ----

test('break 9: hostile arguments give EmxError, never TypeError or RangeError', async () => {
  const m = await load(dense.bytes);
  const bare = Object.create(null);
  try {
    await expectCode('IMAGE', () => m.classify({ data: new Uint8Array(64), width: bare, height: 8 }), 'width without toString');
    await expectCode('BOX', () => m.classify(good(), { x: bare, y: 0, width: 8, height: 8 }), 'box.x without toString');
    await expectCode('BOX', () => m.classify(good(), { x: Symbol('x'), y: 0, width: 8, height: 8 }), 'box.x a Symbol');
    await expectCode('INVALID_ARG', () => m.detect(good(), { scoreThreshold: bare }), 'option without toString');
    await expectCode('INVALID_ARG', () => m.explainLast({ label: bare }), 'label without toString');
    await expectCode('INVALID_ARG', () => m.classify({ data: new Proxy(new Uint8Array(64), {}), width: 8, height: 8 }), 'a Proxy of pixels');
    await expectCode('INVALID_ARG', () => m.run(new Proxy(new Float32Array(64), {})), 'a Proxy of floats');
    await expectCode('INVALID_ARG', () => m.classify(new Proxy(makePng(8, 8, 0, good().data), {})), 'a Proxy of PNG bytes');
    await expectCode('INVALID_ARG', () => m.classify(Object.create(ArrayBuffer.prototype)), 'an ArrayBuffer look-alike');
    await expectCode('INVALID_ARG', () => annotate(good(), [{ box: { x: 0, y: 0, width: 4, height: 4 }, label: Symbol('x') }]), 'a Symbol label');
    await expectCode('INVALID_ARG', () => new FaceTracker().update(null), 'update(null)');
    await expectCode('INVALID_ARG', () => new FaceTracker().update([null]), 'update([null])');
    assert.deepEqual(new FaceTracker(null).update([]), []); // null: the defaults, as everywhere
    await expectCode('INVALID_ARG', () => new FaceTracker(5), 'new FaceTracker(5)');
    await expectCode('INVALID_ARG', () => load('http://[::1'), 'a malformed URL');
    await expectCode('INVALID_ARG', () => load('lite', { baseUrl: 'http://[::1' }), 'a malformed baseUrl');
    m.classify(good());
  } finally {
    m.dispose();
  }
});

test('break 9: dispose() from a getter of an argument gives DISPOSED', async () => {
  const disposingBox = (m) => ({ get x() { m.dispose(); return 0; }, y: 0, width: 8, height: 8 });
  let m = await load(dense.bytes);
  await expectCode('DISPOSED', () => m.classify(good(), disposingBox(m)), 'classify, box getter');
  m = await load(dense.bytes);
  await expectCode('DISPOSED', () => m.classify({ data: good().data, get width() { m.dispose(); return 8; }, height: 8 }), 'classify, image getter');
  m = await load(dense.bytes);
  await m.detect(good()); // the detector is loaded: no await before the pixels
  await expectCode('DISPOSED', () => m.analyze(good(), { get maxFaces() { m.dispose(); return 4; } }), 'analyze, option getter');
  m = await load(dense.bytes);
  m.classify(good());
  await expectCode('DISPOSED', () => m.explainLast({ get label() { m.dispose(); return null; } }), 'explainLast, option getter');
});

const VALID = join(FERPLUS_DIR, 'FER2013Valid');
const FACES = ['fer0028642.png', 'fer0028641.png'];

test('break 9: after analyze(), explainLast() explains the last labelled face, as documented', async (t) => {
  if (!FACES.every((f) => existsSync(join(VALID, f)))) return t.skip(`FER+ faces not found in ${VALID}`);
  const frame = twoFaceFrame(await Promise.all(FACES.map((f) => decodeImage(readFileSync(join(VALID, f))))));
  const m = await load(readFileSync(LITE_MODEL));
  try {
    const faces = await m.analyze(frame);
    assert.equal(faces.length, 2);
    const last = faces.filter((f) => f.label !== null).at(-1);
    // a classify() before analyze() whose top class differs from the last face's
    const probes = [0, 40, 90, 140, 200, 255].map((v) => ({ data: new Uint8Array(48 * 48).fill(v), width: 48, height: 48 }));
    const probe = probes.find((p) => m.classify(p).label !== last.label);
    if (!probe) return t.skip('no probe image with another top class');
    const before = m.classify(probe);
    const mapBefore = m.explainLast();
    assert.equal(mapBefore.explained, before.label);
    assert.deepEqual(await m.analyze(frame), faces);
    const after = m.explainLast();
    assert.equal(after.explained, last.label, 'explained is the last labelled face\'s top class');
    assert.deepEqual(after.data, m.explainLast({ label: last.label }).data);
    assert.notDeepEqual(after.data, mapBefore.data);
    // classify() again: back to its own run
    m.classify(probe);
    assert.equal(m.explainLast().explained, before.label);
  } finally {
    m.dispose();
  }
});

test('the FER+ class order: the package exports the one the CLI evaluates with', async () => {
  const { EXPRESSIONS } = await import('../../wasm/emoxnet.js');
  const { FERPLUS_CLASSES } = await import('../../bin/ferplus.js');
  assert.deepEqual([...EXPRESSIONS], [...FERPLUS_CLASSES]);
  const m = await load(readFileSync(LITE_MODEL));
  assert.deepEqual([...m.classNames], [...EXPRESSIONS], 'the shipped model');
  m.dispose();
});
