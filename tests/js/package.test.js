// What the package does for an app beyond the network itself: finding its files (init({ baseUrl }),
// per-load baseUrl, the exports map), telling a wrong answer from a server apart from a broken
// file (URL, status, content-type, first bytes), model names, and the inputs classify(),
// explain(), detect() and analyze() take in Node (raw pixels, PNG/JPEG bytes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { load, init, decodeImage, FaceTracker, watchVideo, EXPRESSIONS, EmxError } from '../../wasm/emoxnet.js';
import { ROOT, FER_CLASSES, assertBuilt, makeDenseModel, makePng } from './helpers.js';

const dense = makeDenseModel();
const ASSETS = [
  ['wasm/dist', 'emoxnet-relaxed.wasm'],
  ['wasm/dist', 'emoxnet-simd.wasm'],
  ['wasm/dist', 'emoxnet-scalar.wasm'],
  ['models', 'emoxnet-lite.emx'],
  ['models', 'blazeface.emx'],
];
const HTML = '<!doctype html><html><body>app</body></html>';

let server;
let base;
let hits;
// /assets/NAME: the package's files; /spa/*: index.html for everything (a dev server's or SPA
// host's fallback); /gone/*: 404 with an HTML body.
before(async () => {
  assertBuilt();
  const files = Object.fromEntries(ASSETS.map(([dir, name]) => [name, readFileSync(join(ROOT, dir, name))]));
  hits = [];
  server = createServer((req, res) => {
    hits.push(req.url);
    const [, area, name] = req.url.split('/');
    if (area === 'assets' && files[name]) {
      res.writeHead(200, { 'content-type': name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream' }).end(files[name]);
    } else if (area === 'spa') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(HTML);
    } else {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  init({ baseUrl: null });
  server.close();
});

test('init({ baseUrl }) serves the .wasm, the model and the detector from one folder', async () => {
  init({ baseUrl: `${base}/assets/` });
  try {
    hits.length = 0;
    const m = await load('lite', { simd: false });
    assert.deepEqual(m.classNames, FER_CLASSES);
    await m.detect({ data: new Uint8Array(64 * 64), width: 64, height: 64 });
    assert.deepEqual([...new Set(hits)].sort(), ['/assets/blazeface.emx', '/assets/emoxnet-lite.emx', '/assets/emoxnet-scalar.wasm']);
    m.dispose();
  } finally {
    init({ baseUrl: null });
  }
});

test('baseUrl as a load() option and as a Node folder path; init(null) restores the packaged files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emx-assets-'));
  for (const [from, name] of ASSETS) copyFileSync(join(ROOT, from, name), join(dir, name));
  const a = await load('lite', { baseUrl: dir });
  assert.equal(a.meta.name, 'EmoXNetLite');
  a.dispose();
  init({ baseUrl: `${base}/gone` }); // no trailing slash: still a folder
  await assert.rejects(load('lite'), (e) => e.code === 'LOAD' && e.message.includes(`${base}/gone/emoxnet-lite.emx`));
  init({ baseUrl: null });
  const b = await load('lite');
  b.dispose();
  assert.throws(() => init({ baseUrl: 42 }), { code: 'INVALID_ARG' });
  assert.throws(() => init(), { code: 'INVALID_ARG' });
});

test('an HTML page in place of a model: BAD_MAGIC naming the URL, status, content-type and first bytes', async () => {
  await assert.rejects(load(`${base}/spa/model.emx`), (e) => {
    assert.ok(e instanceof EmxError);
    assert.equal(e.code, 'BAD_MAGIC');
    assert.match(e.message, new RegExp(`${base}/spa/model\\.emx`));
    assert.match(e.message, /HTTP 200/);
    assert.match(e.message, /text\/html/);
    assert.match(e.message, /<!doctype html>/);
    return true;
  });
  // The same for a shipped model whose default place answers with HTML: plus a hint.
  await assert.rejects(load('lite', { baseUrl: `${base}/spa/` }), (e) => e.code === 'BAD_MAGIC' && /text\/html/.test(e.message));
});

test('a 404: LOAD naming the URL, the status, content-type and body; a .wasm that is HTML: LOAD naming it', async () => {
  await assert.rejects(load(`${base}/gone/m.emx`), (e) => {
    assert.equal(e.code, 'LOAD');
    assert.match(e.message, new RegExp(`${base}/gone/m\\.emx`));
    assert.match(e.message, /HTTP 404/);
    assert.match(e.message, /text\/html/);
    assert.match(e.message, /Not Found/);
    return true;
  });
  await assert.rejects(load(dense.bytes, { simd: false, locateFile: () => `${base}/spa/emoxnet-scalar.wasm` }), (e) => {
    assert.equal(e.code, 'LOAD');
    assert.match(e.message, /spa\/emoxnet-scalar\.wasm is not a WebAssembly module/);
    assert.match(e.message, /text\/html/);
    return true;
  });
  // An empty answer is named too.
  await assert.rejects(load(`${base}/gone/`), (e) => e.code === 'LOAD');
});

test('an unknown model name lists the valid ones', async () => {
  for (const name of ['lit', 'Lite', 'emoxnet']) {
    await assert.rejects(load(name), (e) => e.code === 'INVALID_ARG' && /'lite'/.test(e.message) && /'ensemble'/.test(e.message) && e.message.includes(name));
  }
});

test('the exports map exposes the models, the .wasm builds and the video worker (emoxnet/models/*, emoxnet/wasm/*, emoxnet/video-worker)', () => {
  // Self-reference: this file is inside the package, so 'emoxnet/...' resolves through its exports.
  for (const [spec, file] of [
    ['emoxnet/models/emoxnet-lite.emx', 'models/emoxnet-lite.emx'],
    ['emoxnet/models/blazeface.emx', 'models/blazeface.emx'],
    ['emoxnet/wasm/emoxnet-relaxed.wasm', 'wasm/dist/emoxnet-relaxed.wasm'],
    ['emoxnet/wasm/emoxnet-simd.wasm', 'wasm/dist/emoxnet-simd.wasm'],
    ['emoxnet', 'wasm/emoxnet.js'],
    ['emoxnet/video-worker', 'wasm/lib/video-worker.js'],
  ]) {
    assert.equal(fileURLToPath(import.meta.resolve(spec)), join(ROOT, file));
  }
});

test('PNG and JPEG bytes go straight into classify(), explain(), detect() and analyze()', async () => {
  const m = await load(dense.bytes);
  const gray = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
  const png = makePng(8, 8, 0, gray);
  const want = m.classify({ data: gray, width: 8, height: 8 });
  assert.deepEqual(m.classify(png), want);
  assert.deepEqual(m.classify(png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength)), want);
  assert.deepEqual(m.classify(Buffer.from(png)), want);
  const jpg = readFileSync(join(ROOT, 'tests/fixtures/gray-8x8.jpg'));
  assert.deepEqual(m.classify(jpg), m.classify(await decodeImage(jpg)));
  m.dispose();
  const lite = await load('lite');
  const big = makePng(64, 64, 0, Uint8Array.from({ length: 64 * 64 }, (_, i) => (i * 7) % 251));
  const e = lite.explain(big);
  assert.deepEqual(e, lite.explain(await decodeImage(big)));
  assert.equal(e.width, 48);
  assert.deepEqual(await lite.detect(big), []);
  assert.deepEqual(await lite.analyze(big), []);
  lite.dispose();
});

test('bad inputs: bytes that are no image give DECODE; other values INVALID_ARG naming what is accepted', async () => {
  const m = await load(dense.bytes);
  assert.throws(() => m.classify(new Uint8Array([1, 2, 3, 4, 5])), { code: 'DECODE' });
  assert.throws(() => m.classify(new Uint8Array(0)), { code: 'DECODE' });
  for (const bad of ['face.png', 42, null, undefined, {}, { width: 2, height: 2 }, [1, 2, 3], new Float32Array(4)]) {
    assert.throws(() => m.classify(bad), (e) => e instanceof EmxError && e.code === 'INVALID_ARG', String(bad));
  }
  assert.throws(() => m.classify({}), /HTMLVideoElement/);
  await assert.rejects(m.analyze('x'), { code: 'INVALID_ARG' });
  // The model stays usable.
  assert.equal(m.classify({ data: new Uint8Array(64), width: 8, height: 8 }).label.length > 0, true);
  m.dispose();
});

test('the package exports the expressions, the tracker and watchVideo (which checks its arguments)', () => {
  assert.deepEqual([...EXPRESSIONS], FER_CLASSES);
  assert.ok(Object.isFrozen(EXPRESSIONS));
  const t = new FaceTracker();
  const [f] = t.update([{ box: { x: 0, y: 0, width: 10, height: 10 }, score: 1, scores: { happiness: 0.9, neutral: 0.1 } }]);
  assert.equal(f.id, 1);
  assert.equal(f.label, 'happiness');
  assert.throws(() => watchVideo(null, { onFaces() {} }), { code: 'INVALID_ARG' });
  assert.throws(() => watchVideo({ videoWidth: 0 }, {}), { code: 'INVALID_ARG' });
  assert.throws(() => watchVideo({ videoWidth: 0 }, { onFaces() {}, maxSide: 0 }), { code: 'INVALID_ARG' });
  assert.throws(() => watchVideo({ videoWidth: 0 }, { onFaces() {}, worker: true, model: new Uint8Array(4) }), { code: 'INVALID_ARG' });
});
