// Bad input must come back as an EmxError with the right code, never as a crash, a trap or a
// silently wrong answer, and the module must keep working afterwards.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { load, decodeImage, EmxError } from '../../wasm/emoxnet.js';
import { assertBuilt, makeDenseModel, crc32, makePng } from './helpers.js';

const dense = makeDenseModel();
const good = { data: new Uint8Array(64).fill(128), width: 8, height: 8 };

before(assertBuilt);

/** Assert that fn() throws (or rejects with) an EmxError with this code. */
async function expectCode(code, fn, what = code) {
  let err = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: no error thrown`);
  assert.ok(err instanceof EmxError, `${what}: expected EmxError, got ${err && err.stack}`);
  assert.ok(err instanceof Error);
  assert.equal(err.code, code, `${what}: ${err.message}`);
  return err;
}

function withCrc(bytes) {
  const b = bytes.slice();
  new DataView(b.buffer).setUint32(12, crc32(b.subarray(16)), true);
  return b;
}

test('damaged model files are refused with the matching code and C status', async () => {
  const truncated = dense.bytes.slice(0, dense.bytes.length - 10);
  let err = await expectCode('TRUNCATED', () => load(truncated), 'truncated');
  assert.equal(err.status, -5);

  const flipped = dense.bytes.slice();
  flipped[Math.floor(flipped.length / 2)] ^= 0x10;
  err = await expectCode('CHECKSUM', () => load(flipped), 'bit flip');
  assert.equal(err.status, -6);

  const magic = dense.bytes.slice();
  magic.set([0x50, 0x4b, 0x03, 0x04], 0); // a zip file, say
  err = await expectCode('BAD_MAGIC', () => load(magic), 'wrong magic');
  assert.equal(err.status, -3);

  const version = dense.bytes.slice();
  new DataView(version.buffer).setUint32(4, 2, true);
  err = await expectCode('VERSION', () => load(version), 'version 2');
  assert.equal(err.status, -4);

  // A consistent file (CRC recomputed) with an invalid field: channels = 2 in INPT.
  const format = dense.bytes.slice();
  new DataView(format.buffer).setUint32(16 + 8 + 8, 2, true);
  err = await expectCode('FORMAT', () => load(withCrc(format)), 'channels 2');
  assert.equal(err.status, -7);

  await expectCode('TRUNCATED', () => load(new Uint8Array(0)), 'empty');
  await expectCode('TRUNCATED', () => load(dense.bytes.slice(0, 12)), 'header only');
  // Any prefix of a valid file is refused cleanly (TRUNCATED for all but the shortest ones).
  for (let n = 1; n < dense.bytes.length; n += 37) {
    await assert.rejects(load(dense.bytes.slice(0, n)), (e) => e instanceof EmxError && e.code !== 'INTERNAL', `prefix ${n}`);
  }
});

test('every single-byte corruption is an EmxError, never a crash', async () => {
  // Sweep the header and first chunks with CRC fixed up, so the field checks (not only the
  // checksum) see the damage.
  const codes = new Set();
  for (let i = 0; i < Math.min(dense.bytes.length, 200); i++) {
    const b = dense.bytes.slice();
    b[i] ^= 0xa5;
    const damaged = i >= 16 ? withCrc(b) : b;
    try {
      const m = await load(damaged);
      m.run(new Float32Array(m.inputSpec.width * m.inputSpec.height * m.inputSpec.channels));
      m.dispose();
    } catch (err) {
      assert.ok(err instanceof EmxError, `byte ${i}: ${err && err.stack}`);
      assert.notEqual(err.code, 'INTERNAL', `byte ${i}: ${err.message}`);
      codes.add(err.code);
    }
  }
  assert.ok(codes.has('FORMAT') && codes.has('BAD_MAGIC'), [...codes].join(','));
});

test('load() argument errors', async () => {
  await expectCode('INVALID_ARG', () => load(42));
  await expectCode('INVALID_ARG', () => load(null));
  await expectCode('INVALID_ARG', () => load({}));
  await expectCode('INVALID_ARG', () => load(dense.bytes, { simd: 'yes' }));
  await expectCode('INVALID_ARG', () => load(dense.bytes, { reference: 1 }));
  await expectCode('INVALID_ARG', () => load(dense.bytes, 'options'));
  await expectCode('INVALID_ARG', () => load(dense.bytes, { wasmModule: {} }));
  await expectCode('LOAD', () => load('/no/such/model.emx'));
  await expectCode('LOAD', () => load(dense.bytes, { wasmBinary: new Uint8Array([0, 97, 115, 109, 9]) }));
  await expectCode('LOAD', () => load(dense.bytes, { locateFile: () => '/no/such.wasm' }));
});

test('bad images are refused: zero size, wrong channels, wrong length, wrong types', async () => {
  const m = await load(dense.bytes);
  const cases = [
    ['IMAGE', { data: new Uint8Array(0), width: 0, height: 0 }, 'zero size'],
    ['IMAGE', { data: new Uint8Array(0), width: 8, height: 0 }, 'zero height'],
    ['IMAGE', { data: new Uint8Array(64), width: -8, height: -8 }, 'negative'],
    ['IMAGE', { data: new Uint8Array(64), width: 8.5, height: 8 }, 'non-integer'],
    ['IMAGE', { data: new Uint8Array(64), width: NaN, height: 8 }, 'NaN width'],
    ['IMAGE', { data: new Uint8Array(64), width: '8', height: 8 }, 'string width'],
    ['IMAGE', { data: new Uint8Array(64), width: 1e9, height: 1e9 }, 'huge'],
    ['IMAGE', { data: new Uint8Array(128), width: 8, height: 8, channels: 2 }, 'channels 2'],
    ['IMAGE', { data: new Uint8Array(64 * 5), width: 8, height: 8, channels: 5 }, 'channels 5'],
    ['IMAGE', { data: new Uint8Array(128), width: 8, height: 8 }, 'cannot infer channels'],
    ['IMAGE', { data: new Uint8Array(63), width: 8, height: 8, channels: 1 }, 'data too short'],
    ['IMAGE', { data: new Uint8Array(64 * 3 - 1), width: 8, height: 8, channels: 3 }, 'rgb too short'],
    ['IMAGE', { data: new Uint8Array(65), width: 8, height: 8, channels: 1 }, 'data too long'],
    ['INVALID_ARG', { data: new Float32Array(64), width: 8, height: 8 }, 'float data'],
    ['INVALID_ARG', { data: Array(64).fill(0), width: 8, height: 8 }, 'plain array'],
    ['INVALID_ARG', { width: 8, height: 8 }, 'no data'],
    ['INVALID_ARG', null, 'null image'],
    ['INVALID_ARG', 'image.png', 'string image'],
  ];
  for (const [code, img, what] of cases) {
    const err = await expectCode(code, () => m.classify(img), what);
    if (code === 'IMAGE') assert.equal(err.status, -8);
  }
  m.dispose();
});

test('bad boxes are refused: NaN, infinite, empty, outside the frame', async () => {
  const m = await load(dense.bytes);
  const cases = [
    [{ x: NaN, y: 0, width: 4, height: 4 }, 'NaN x'],
    [{ x: 0, y: 0, width: NaN, height: 4 }, 'NaN width'],
    [{ x: 0, y: Infinity, width: 4, height: 4 }, 'infinite y'],
    [{ x: 0, y: 0, width: 0, height: 4 }, 'zero width'],
    [{ x: 0, y: 0, width: 4, height: -1 }, 'negative height'],
    [{ x: 0, y: 0, width: 1e30, height: 4 }, 'huge'],
    [{ x: 100, y: 100, width: 10, height: 10 }, 'outside (C check)'],
    [{ x: -20, y: 0, width: 10, height: 10 }, 'left of the image (C check)'],
    [{ x: 0, y: 8, width: 4, height: 4 }, 'just below the image (C check)'],
    [{ x: '0', y: 0, width: 4, height: 4 }, 'string'],
    [{ x: 0, y: 0 }, 'missing size'],
    ['0,0,4,4', 'string box'],
  ];
  for (const [box, what] of cases) {
    const err = await expectCode('BOX', () => m.classify(good, box), what);
    assert.equal(err.status, -9);
  }
  m.dispose();
});

test('run() argument errors', async () => {
  const m = await load(dense.bytes);
  await expectCode('INVALID_ARG', () => m.run(new Float32Array(63)), 'short');
  await expectCode('INVALID_ARG', () => m.run(new Float32Array(65)), 'long');
  await expectCode('INVALID_ARG', () => m.run(new Float64Array(64)), 'float64');
  await expectCode('INVALID_ARG', () => m.run(Array(64).fill(0)), 'array');
  await expectCode('INVALID_ARG', () => m.run(), 'nothing');
  m.dispose();
});

test('dispose() is idempotent and every later call throws DISPOSED', async () => {
  const m = await load(dense.bytes);
  m.dispose();
  m.dispose();
  assert.equal(m.disposed, true);
  await expectCode('DISPOSED', () => m.classify(good));
  await expectCode('DISPOSED', () => m.run(new Float32Array(64)));
  assert.equal(m.classNames.length, 8); // plain data stays readable
});

test('the module and the model stay usable after errors', async () => {
  const m = await load(dense.bytes);
  const before = m.classify(good);
  for (let i = 0; i < 3; i++) {
    await expectCode('IMAGE', () => m.classify({ data: new Uint8Array(3), width: 8, height: 8 }));
    await expectCode('BOX', () => m.classify(good, { x: 50, y: 50, width: 1, height: 1 }));
    await expectCode('BOX', () => m.classify(good, { x: NaN, y: 0, width: 1, height: 1 }));
    await expectCode('CHECKSUM', () => load(Uint8Array.from(dense.bytes, (v, j) => (j === 100 ? v ^ 1 : v))));
    await expectCode('DECODE', () => decodeImage(new Uint8Array([1, 2, 3, 4, 5])));
  }
  assert.deepEqual(m.classify(good), before);
  const other = await load(dense.bytes);
  assert.deepEqual(other.classify(good), before);
  other.dispose();
  m.dispose();
});

test('decodeImage() errors', async () => {
  await expectCode('DECODE', () => decodeImage(new Uint8Array(0)), 'empty');
  await expectCode('DECODE', () => decodeImage(new TextEncoder().encode('not an image at all')), 'text');
  const png = makePng(4, 4, 0, new Uint8Array(16));
  await expectCode('DECODE', () => decodeImage(png.slice(0, 30)), 'truncated PNG');
  await expectCode('INVALID_ARG', () => decodeImage('photo.png'), 'path string');
  await expectCode('INVALID_ARG', () => decodeImage(null), 'null');
  const ok = await decodeImage(png);
  assert.equal(ok.width, 4);
});

test('detached buffers (transferred to a worker) give typed errors; the model stays usable', async () => {
  const detach = (view) => structuredClone(view.buffer, { transfer: [view.buffer] });
  const m = await load(dense.bytes);
  const pixels = new Uint8Array(64).fill(128);
  detach(pixels);
  assert.throws(() => m.classify({ data: pixels, width: 8, height: 8 }), (e) => e instanceof EmxError && e.code === 'IMAGE');
  const input = new Float32Array(m.inputSpec.width * m.inputSpec.height * m.inputSpec.channels);
  detach(input);
  assert.throws(() => m.run(input), (e) => e instanceof EmxError && e.code === 'INVALID_ARG');
  const bytes = new Uint8Array(dense.bytes);
  detach(bytes);
  await assert.rejects(load(bytes), (e) => e instanceof EmxError && e.code === 'TRUNCATED');
  assert.ok(m.classify(good).label, 'still classifies after the errors');
  m.dispose();
});

test('a failed read carries the hint it was given, and none when given none', async () => {
  // The model loader and the .wasm loader share this one place for "how to serve the files".
  const { readBytes } = await import('../../wasm/lib/io.js');
  const missing = new URL('./no-such-file.emx', import.meta.url).pathname;
  const hinted = await expectCode('LOAD', () => readBytes(missing, 'serve the files'));
  assert.match(hinted.message, /no such file \(serve the files\)$/);
  assert.ok(hinted.cause instanceof EmxError, 'the hinted error keeps the original as its cause');
  const bare = await expectCode('LOAD', () => readBytes(missing));
  assert.match(bare.message, /no such file$/);
});
