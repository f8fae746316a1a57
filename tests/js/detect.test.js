// Face detection through the WebAssembly build: model.detect() / model.analyze() on synthetic
// frames (real FER+ Valid faces upscaled and pasted at known places; skipped without the data),
// options and errors, the lazily loaded detector, annotate(), and the CLI on a full photo
// (`classify` reports every face, `--annotate` writes a PNG).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, decodeImage, annotate, autoTiles, EmxError } from '../../wasm/emoxnet.js';
import { ROOT, GOLDEN_DIR, FERPLUS_DIR, FER_CLASSES, assertBuilt, makePng } from './helpers.js';

const DETECTOR = join(ROOT, 'models', 'blazeface.emx');
const CLASSIFIER = join(GOLDEN_DIR, 'vgg.emx'); // 48x48 gray, 8 classes: plumbing, not accuracy
const VALID = join(FERPLUS_DIR, 'FER2013Valid');
const FACES = ['fer0028642.png', 'fer0028641.png', 'fer0028644.png', 'fer0028645.png'];
const haveFaces = FACES.every((f) => existsSync(join(VALID, f)));
const W = 640;
const H = 480;

let dir;
before(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'emoxnet-detect-'));
});

function blankFrame(value = 118) {
  return { data: new Uint8Array(W * H * 3).fill(value), width: W, height: H, channels: 3 };
}

// Paste a gray face, nearest-neighbour upscaled to size, at (x, y); mirrored when asked.
function paste(frame, face, x, y, size, mirror = false) {
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const su = Math.floor(((mirror ? size - 1 - u : u) * face.width) / size);
      const sv = Math.floor((v * face.height) / size);
      const g = face.data[(sv * face.width + su) * face.channels];
      const o = ((y + v) * frame.width + x + u) * 3;
      frame.data[o] = frame.data[o + 1] = frame.data[o + 2] = g;
    }
  }
}

async function faces() {
  return Promise.all(FACES.map(async (f) => decodeImage(readFileSync(join(VALID, f)))));
}

// The detector's box is tighter than a FER+ crop (brows to mouth): its centre must lie in the
// pasted square and its side between 0.5 and 1.1 of the square's.
function matches(box, x, y, size) {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return cx > x && cx < x + size && cy > y && cy < y + size && box.width > 0.5 * size && box.width < 1.1 * size;
}

test('detect + analyze: faces at known places, best first, landmarks, scores', async (t) => {
  if (!haveFaces) return t.skip(`FER+ faces not found in ${VALID} (set FERPLUS_DIR)`);
  const [a, b] = await faces();
  const frame = blankFrame();
  paste(frame, a, 30, 60, 200);
  paste(frame, b, 360, 180, 220, true);
  const model = await load(readFileSync(CLASSIFIER));
  try {
    const found = await model.detect(frame);
    assert.equal(found.length, 2);
    assert.ok(found[0].score >= found[1].score);
    const placed = [[30, 60, 200], [360, 180, 220]];
    for (const [x, y, s] of placed) assert.ok(found.some((f) => matches(f.box, x, y, s)), `no face at ${x},${y}`);
    for (const f of found) {
      assert.equal(f.landmarks.length, 6);
      assert.ok(f.score >= 0.5 && f.score <= 1);
      assert.equal(f.label, undefined);
      // the eyes sit in the upper half of the box
      assert.ok(f.landmarks[0].y < f.box.y + f.box.height / 2 && f.landmarks[1].y < f.box.y + f.box.height / 2);
    }
    const analyzed = await model.analyze(frame);
    assert.equal(analyzed.length, 2);
    for (const f of analyzed) {
      assert.ok(FER_CLASSES.includes(f.label));
      assert.deepEqual(Object.keys(f.scores), FER_CLASSES);
      const sum = Object.values(f.scores).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3);
      assert.equal(f.label, Object.entries(f.scores).sort((p, q) => q[1] - p[1])[0][0]);
    }
    // options: maxFaces, minFaceSize, scoreThreshold
    assert.equal((await model.detect(frame, { maxFaces: 1 })).length, 1);
    assert.equal((await model.detect(frame, { maxFaces: 0 })).length, 0);
    const smaller = Math.min(...found.map((f) => f.box.width));
    assert.equal((await model.detect(frame, { minFaceSize: smaller + 1 })).length, 1);
    assert.equal((await model.detect(frame, { scoreThreshold: 1 })).length, 0);
    // RGBA and gray frames of the same picture find the same faces
    const rgba = { data: new Uint8Array(W * H * 4), width: W, height: H };
    const gray = { data: new Uint8Array(W * H), width: W, height: H, channels: 1 };
    for (let i = 0; i < W * H; i++) {
      rgba.data.set([frame.data[3 * i], frame.data[3 * i + 1], frame.data[3 * i + 2], 255], 4 * i);
      gray.data[i] = frame.data[3 * i];
    }
    assert.equal((await model.detect(rgba)).length, 2);
    assert.equal((await model.detect(gray)).length, 2);
  } finally {
    model.dispose();
  }
});

test('frames without faces, tiny and huge frames, bad options', async () => {
  const model = await load(readFileSync(CLASSIFIER));
  try {
    assert.deepEqual(await model.detect(blankFrame()), []);
    assert.deepEqual(await model.analyze(blankFrame(0)), []);
    assert.deepEqual(await model.detect({ data: new Uint8Array([9, 9, 9]), width: 1, height: 1 }), []);
    assert.deepEqual(await model.detect({ data: new Uint8Array(8000), width: 8000, height: 1, channels: 1 }), []);
    await assert.rejects(model.detect({ data: new Uint8Array(3), width: 0, height: 1 }), { code: 'IMAGE' });
    await assert.rejects(model.detect({ data: new Uint8Array(10), width: 40000, height: 1 }), { code: 'IMAGE' });
    await assert.rejects(model.detect(null), { code: 'INVALID_ARG' });
    for (const bad of [{ scoreThreshold: 2 }, { iouThreshold: -1 }, { minFaceSize: NaN }, { maxFaces: 1.5 }, { maxFaces: 5000 }, 'x',
      { tiles: 5 }, { tiles: -1 }, { tiles: 1.5 }, { tiles: '2' }, { tiles: NaN }, { tiles: Infinity }]) {
      await assert.rejects(model.detect(blankFrame(), bad), { code: 'INVALID_ARG' }, JSON.stringify(bad));
    }
    await assert.rejects(model.analyze(blankFrame(), { tiles: 5 }), { code: 'INVALID_ARG' });
    for (const tiles of [0, 1, 2, 3, 4, null, undefined]) assert.deepEqual(await model.detect(blankFrame(), { tiles }), []);
    assert.deepEqual(await model.detect({ data: new Uint8Array([9, 9, 9]), width: 1, height: 1 }, { tiles: 4 }), []);
  } finally {
    model.dispose();
  }
  await assert.rejects(model.detect(blankFrame()), { code: 'DISPOSED' });
});

// A group photo: 12 FER+ Valid faces of 100 px in a 4 x 3 grid of 160 px cells, below what
// the whole-frame pass finds (tests/test-detect.c measures the same layout natively).
async function groupFrame() {
  const files = readdirSync(VALID).filter((f) => f.endsWith('.png')).sort().slice(0, 12);
  const frame = blankFrame();
  const placed = [];
  for (let k = 0; k < files.length; k++) {
    const x = (k % 4) * 160 + 30;
    const y = Math.floor(k / 4) * 160 + 30;
    paste(frame, await decodeImage(readFileSync(join(VALID, files[k]))), x, y, 100);
    placed.push([x, y, 100]);
  }
  return { frame, placed };
}

test('tiles: small faces in a group photo found with tiles, each once', async (t) => {
  if (!haveFaces) return t.skip(`FER+ faces not found in ${VALID} (set FERPLUS_DIR)`);
  const { frame, placed } = await groupFrame();
  const model = await load(readFileSync(CLASSIFIER));
  try {
    const whole = await model.detect(frame);
    const tiled = await model.detect(frame, { tiles: 3 });
    assert.ok(whole.length <= 4, `tiles 0 found ${whole.length} of 12`);
    assert.ok(tiled.length >= 10, `tiles 3 found ${tiled.length} of 12`); // measured 11 (tiles 0: 0)
    // each detection is one placed face, and no face twice
    const seen = new Set();
    for (const f of tiled) {
      const k = placed.findIndex(([x, y, s]) => matches(f.box, x, y, s));
      assert.ok(k >= 0, `a face matching no placed one: ${JSON.stringify(f.box)}`);
      assert.ok(!seen.has(k), `face ${k} reported twice`);
      seen.add(k);
    }
    for (let i = 1; i < tiled.length; i++) assert.ok(tiled[i - 1].score >= tiled[i].score);
    // analyze takes the same option: the same boxes, classified
    const analyzed = await model.analyze(frame, { tiles: 3 });
    assert.deepEqual(analyzed.map((f) => f.box), tiled.map((f) => f.box));
    for (const f of analyzed) assert.ok(FER_CLASSES.includes(f.label));
    // tiles 0 and 1 are the default: the same result, bit for bit
    assert.deepEqual(await model.detect(frame, { tiles: 0 }), whole);
    assert.deepEqual(await model.detect(frame, { tiles: 1 }), whole);
  } finally {
    model.dispose();
  }
});

test("tiles 'auto': the tiling chosen from the image size (still photos)", async (t) => {
  // one pass for small images (tiles would look for faces under ~48 px), more for larger ones
  assert.equal(autoTiles(48, 48), 0);
  assert.equal(autoTiles(300, 1000), 0);
  assert.equal(autoTiles(640, 360), 2);
  assert.equal(autoTiles(640, 480), 3);
  assert.equal(autoTiles(1280, 720), 4);
  assert.equal(autoTiles(4000, 3000), 4);
  if (!haveFaces) return t.skip(`FER+ faces not found in ${VALID} (set FERPLUS_DIR)`);
  const { frame } = await groupFrame();
  const model = await load(readFileSync(CLASSIFIER));
  try {
    const n = autoTiles(frame.width, frame.height);
    assert.deepEqual(await model.detect(frame, { tiles: 'auto' }), await model.detect(frame, { tiles: n }));
    assert.ok((await model.detect(frame, { tiles: 'auto' })).length >= 10);
    await assert.rejects(model.detect(frame, { tiles: 'many' }), { code: 'INVALID_ARG' });
  } finally {
    model.dispose();
  }
});

test('the detector: loaded once, lazily, from options.detector; a detector file itself', async () => {
  // concurrent first calls share one load
  const model = await load(readFileSync(CLASSIFIER), { detector: readFileSync(DETECTOR) });
  const results = await Promise.all([model.detect(blankFrame()), model.detect(blankFrame()), model.analyze(blankFrame())]);
  assert.deepEqual(results, [[], [], []]);
  model.dispose();
  // a detector that is not one, and one that is not there
  const wrong = await load(readFileSync(CLASSIFIER), { detector: readFileSync(CLASSIFIER) });
  await assert.rejects(wrong.detect(blankFrame()), (err) => err instanceof EmxError && err.code === 'FORMAT');
  wrong.dispose();
  const missing = await load(readFileSync(CLASSIFIER), { detector: join(dir, 'nope.emx') });
  await assert.rejects(missing.detect(blankFrame()), (err) => err instanceof EmxError && err.code === 'LOAD' && /face detector/.test(err.message));
  missing.dispose();
  await assert.rejects(load(readFileSync(CLASSIFIER), { detector: 42 }), { code: 'INVALID_ARG' });
  // the detector loaded as a model: detect() works, analyze() and classify() do not
  const det = await load(DETECTOR);
  assert.equal(det.isDetector, true);
  assert.equal(det.meta.task, 'detector');
  assert.deepEqual(det.classNames, ['face']);
  assert.deepEqual(await det.detect(blankFrame()), []);
  await assert.rejects(det.analyze(blankFrame()), { code: 'INVALID_ARG' });
  assert.throws(() => det.classify(blankFrame()), { code: 'INVALID_ARG' });
  det.dispose();
});

test('annotate: boxes and labels drawn, PNG that decodes back', async () => {
  const frame = blankFrame(40);
  const png = await annotate(frame, [
    { box: { x: 100, y: 120, width: 150, height: 150 }, score: 0.9, label: 'happiness', scores: { happiness: 0.8 } },
    { box: { x: -50, y: 400, width: 900, height: 300 }, score: 0.7 },
  ]);
  const back = await decodeImage(png);
  assert.equal(back.width, W);
  assert.equal(back.height, H);
  assert.equal(back.channels, 3);
  const px = (x, y) => back.data[(y * W + x) * 3];
  assert.notEqual(px(175, 120), 40); // top edge of the first box
  assert.equal(px(175, 190), 40); // its inside is untouched
  assert.equal(frame.data[(120 * W + 175) * 3], 40); // the caller's frame too
  await assert.rejects(annotate(frame, [{ score: 1 }]), { code: 'BOX' });
  await assert.rejects(annotate(frame, 'x'), { code: 'INVALID_ARG' });
  assert.ok((await annotate(frame, [])).length > 100);
});

test('CLI: classify on a full photo reports every face; --annotate writes a PNG', async (t) => {
  if (!haveFaces) return t.skip(`FER+ faces not found in ${VALID} (set FERPLUS_DIR)`);
  const [a, b] = await faces();
  const frame = blankFrame();
  paste(frame, a, 30, 60, 200);
  paste(frame, b, 360, 180, 220);
  const photo = join(dir, 'photo.png');
  writeFileSync(photo, makePng(W, H, 2, frame.data));
  const out = join(dir, 'annotated.png');
  const cli = (...args) => spawnSync(process.execPath, [join(ROOT, 'bin', 'emoxnet.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  const r = cli('classify', photo, '--model', CLASSIFIER, '--json', '--annotate', out);
  assert.equal(r.status, 0, r.stderr);
  const obj = JSON.parse(r.stdout.trim());
  assert.equal(obj.faces.length, 2);
  for (const f of obj.faces) {
    assert.ok(FER_CLASSES.includes(f.label));
    assert.equal(f.landmarks.length, 6);
  }
  const png = await decodeImage(readFileSync(out));
  assert.equal(png.width, W);
  const text = cli('classify', photo, '--model', CLASSIFIER, '--max-faces', '1');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /photo\.png: 1 face\n {2}face 1: \w+ \(0\.\d+\) at x=\d+ y=\d+ \d+x\d+, detector score 0\.\d\d/);
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, makePng(W, H, 2, blankFrame().data));
  assert.match(cli('classify', empty, '--model', CLASSIFIER).stdout, /no face found/);
  // --whole: the old behaviour, one result for the whole image
  assert.ok(FER_CLASSES.includes(JSON.parse(cli('classify', photo, '--model', CLASSIFIER, '--json', '--whole').stdout).label));
  const two = cli('classify', photo, empty, '--model', CLASSIFIER, '--annotate', out);
  assert.equal(two.status, 2);
  assert.match(two.stderr, /--annotate takes exactly one IMAGE/);
  assert.equal(cli('classify', photo, '--model', CLASSIFIER, '--threshold', '2').status, 2);
  // --tiles: a group photo's small faces
  const group = join(dir, 'group.png');
  writeFileSync(group, makePng(W, H, 2, (await groupFrame()).frame.data));
  const tiled = cli('classify', group, '--model', CLASSIFIER, '--json', '--tiles', '3');
  assert.equal(tiled.status, 0, tiled.stderr);
  const plain = cli('classify', group, '--model', CLASSIFIER, '--json', '--tiles', '0'); // (default: auto, tests/js/cli-tiles.test.js)
  assert.ok(JSON.parse(tiled.stdout).faces.length >= 10);
  assert.ok(JSON.parse(plain.stdout).faces.length <= 4);
  for (const bad of ['5', '-1', '1.5', 'x']) {
    const r = cli('classify', group, '--model', CLASSIFIER, '--tiles', bad);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /--tiles takes an integer in 0\.\.4/);
  }
  assert.match(cli('--help').stdout, /--tiles N/);
});
