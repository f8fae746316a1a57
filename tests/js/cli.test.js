// bin/emoxnet.js end to end: help, errors (a clear one-line message and a nonzero exit, never a
// stack trace), classify, and eval on a small FER+-layout folder whose answers the test computes
// through the API.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../../wasm/emoxnet.js';
import { FERPLUS_CLASSES } from '../../bin/ferplus.js';
import { ROOT, FERPLUS_DIR, LITE_MODEL, assertBuilt, makeDenseModel, makePng, prng } from './helpers.js';

const BIN = join(ROOT, 'bin', 'emoxnet.js');

function cli(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function assertCleanError(r, pattern) {
  assert.notEqual(r.code, 0);
  assert.match(r.err, pattern);
  assert.doesNotMatch(r.err, /^\s+at /m, 'stack trace printed');
}

let dir;
let modelPath;
const votes = [
  [0, 9, 0, 0, 0, 0, 0, 0, 1, 0], // happiness
  [8, 0, 0, 0, 2, 0, 0, 0, 0, 0], // neutral
  [4, 0, 0, 0, 1, 0, 0, 4, 1, 0], // dropped: no majority
  [0, 0, 7, 3, 0, 0, 0, 0, 0, 0], // surprise
  [0, 0, 0, 0, 0, 0, 0, 0, 2, 8], // dropped: not a face
  [0, 0, 0, 0, 6, 2, 2, 0, 0, 0], // anger
  [0, 0, 0, 0, 0, 0, 0, 10, 0, 0], // contempt
];

before(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'emx-cli-'));
  modelPath = join(dir, 'dense.emx');
  writeFileSync(modelPath, makeDenseModel().bytes);
  const rnd = prng(17);
  const lines = votes.map((v, i) => {
    const name = `fer${String(i).padStart(7, '0')}.png`;
    writeFileSync(join(dir, name), makePng(12, 12, 0, Uint8Array.from({ length: 144 }, () => Math.floor((rnd() + 1) * 127))));
    return `${name},"(0, 0, 12, 12)",${v.join(',')}`;
  });
  writeFileSync(join(dir, 'label.csv'), lines.join('\n') + '\n');
});

test('--help and usage errors', () => {
  const h = cli('--help');
  assert.equal(h.code, 0);
  assert.match(h.out, /emoxnet classify IMAGE/);
  assert.match(h.out, /emoxnet eval DIR/);
  assertCleanError(cli('frobnicate'), /unknown command/);
  assertCleanError(cli('eval'), /exactly one DIR/);
  assertCleanError(cli('classify', '--bogus', 'x.png'), /unknown option --bogus/);
  assertCleanError(cli('eval', dir, '--limit', '0'), /positive integer/);
  assert.equal(cli().code, 2);
});

test('eval: missing folder, missing label.csv, missing model, unreadable image', () => {
  assertCleanError(cli('eval', join(dir, 'nope')), /no such directory/);
  const empty = mkdtempSync(join(tmpdir(), 'emx-empty-'));
  assertCleanError(cli('eval', empty, '--model', modelPath), /label\.csv/);
  assertCleanError(cli('eval', dir, '--model', join(dir, 'missing.emx')), /cannot load model/);
  const bad = mkdtempSync(join(tmpdir(), 'emx-bad-'));
  writeFileSync(join(bad, 'label.csv'), 'x.png,"(0, 0, 4, 4)",9,0,0,0,0,0,0,0,0,0\ny.png,"(0, 0, 4, 4)",9,0,0,0,0,0,0,0,0,0\n');
  writeFileSync(join(bad, 'x.png'), 'this is not a png');
  assertCleanError(cli('eval', bad, '--model', modelPath), /cannot decode image .*x\.png/);
  writeFileSync(join(bad, 'x.png'), makePng(4, 4, 0, new Uint8Array(16)));
  assertCleanError(cli('eval', bad, '--model', modelPath), /cannot read image .*y\.png: no such file/);
  writeFileSync(join(bad, 'label.csv'), 'x.png,"(0, 0, 4, 4)",9,0,0\n');
  assertCleanError(cli('eval', bad, '--model', modelPath), /line 1/);
});

test('eval --json: the protocol, the confusion matrix and the model name', async () => {
  const r = cli('eval', dir, '--model', modelPath, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, ''); // no progress bar when stderr is not a TTY
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]);
  assert.equal(s.model, 'test-dense');
  assert.equal(s.n, 5);
  assert.deepEqual(Object.keys(s.per_class), FERPLUS_CLASSES);
  assert.equal(s.confusion.length, 8);
  assert.ok(s.confusion.every((row) => row.length === 8));
  // Same answers through the API.
  const m = await load(modelPath);
  const { decodeImage } = await import('../../wasm/emoxnet.js');
  const want = Array.from({ length: 8 }, () => new Array(8).fill(0));
  const labels = { 0: 1, 1: 0, 3: 2, 5: 4, 6: 7 };
  for (const [i, label] of Object.entries(labels)) {
    const img = await decodeImage(readFileSync(join(dir, `fer${String(i).padStart(7, '0')}.png`)));
    want[label][FERPLUS_CLASSES.indexOf(m.classify(img).label)]++;
  }
  m.dispose();
  assert.deepEqual(s.confusion, want);
  const correct = want.reduce((a, row, k) => a + row[k], 0);
  assert.equal(s.accuracy, correct / 5);
  assert.equal(s.per_class.disgust, null); // no disgust image: recall undefined
  assert.equal(s.per_class.happiness, want[1][1]);
  const recalls = Object.values(s.per_class).filter((r) => r !== null);
  assert.equal(s.mean_class_recall, recalls.reduce((a, b) => a + b, 0) / recalls.length);
  assert.ok(s.ece >= 0 && s.ece <= 1 && s.ece_bins === 15, `ece ${s.ece}`);

  const limited = JSON.parse(cli('eval', dir, '--model', modelPath, '--json', '--limit', '2').out);
  assert.equal(limited.n, 2);
  const text = cli('eval', dir, '--model', modelPath, '--scalar');
  assert.equal(text.code, 0);
  assert.match(text.out, /accuracy/);
  assert.match(text.out, /confusion matrix/);
  assert.match(text.out, /mean per-class recall +\d+\.\d\d%/);
  assert.match(text.out, /calibration error \(ECE, 15 bins\) +\d+\.\d\d%/);
  assert.match(text.out, /scalar wasm/);
});

test('eval --predictions: one row per scored image, matching the confusion matrix', () => {
  const out = join(dir, 'pred.csv');
  const r = cli('eval', dir, '--model', modelPath, '--json', '--predictions', out);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows[0], `file,label,pred,${FERPLUS_CLASSES.join(',')}`);
  assert.equal(rows.length, 1 + s.n);
  const confusion = Array.from({ length: 8 }, () => new Array(8).fill(0));
  for (const row of rows.slice(1)) {
    const [file, label, pred, ...p] = row.split(',');
    assert.match(file, /^fer\d{7}\.png$/);
    const probs = p.map(Number);
    assert.equal(probs.length, 8);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(probs.indexOf(Math.max(...probs)), Number(pred));
    confusion[Number(label)][Number(pred)]++;
  }
  assert.deepEqual(confusion, s.confusion);
  assertCleanError(cli('eval', dir, '--model', modelPath, '--predictions', join(dir, 'no', 'such', 'p.csv')), /cannot write/);
});

test('classify: text and --json output; a bad file fails alone', () => {
  const a = join(dir, 'fer0000000.png');
  const b = join(dir, 'fer0000001.png');
  const r = cli('classify', a, b, '--model', modelPath, '--json');
  assert.equal(r.code, 0, r.err);
  const objs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(objs.length, 2);
  for (const o of objs) {
    assert.deepEqual(Object.keys(o.scores), FERPLUS_CLASSES);
    assert.ok(FERPLUS_CLASSES.includes(o.label));
  }
  const t = cli('classify', a, join(dir, 'label.csv'), '--model', modelPath);
  assert.equal(t.code, 1);
  assert.match(t.out, /fer0000000\.png: \w+ \(/);
  assert.match(t.out, /contempt/);
  assertCleanError(t, /cannot decode image .*label\.csv/);
});

test('eval on FER+ Valid with the lite model (first 100 images)', (t) => {
  const valid = join(FERPLUS_DIR, 'FER2013Valid');
  if (!existsSync(LITE_MODEL)) return t.skip(`${LITE_MODEL} not built yet`);
  if (!existsSync(join(valid, 'label.csv'))) return t.skip(`${valid} not found (set FERPLUS_DIR)`);
  const r = cli('eval', valid, '--model', LITE_MODEL, '--json', '--limit', '100');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out.trim().split('\n').pop());
  assert.equal(s.n, 100);
  t.diagnostic(`lite, first 100 Valid images: accuracy ${(100 * s.accuracy).toFixed(1)}%`);
});

test('assets DIR copies the six runtime files init({ baseUrl }) expects', () => {
  const out = mkdtempSync(join(tmpdir(), 'emx-cli-assets-'));
  const r = cli('assets', join(out, 'sub'));
  assert.equal(r.code, 0, r.err);
  for (const [from, name] of [['wasm/dist', 'emoxnet-relaxed.wasm'], ['wasm/dist', 'emoxnet-simd.wasm'], ['wasm/dist', 'emoxnet-scalar.wasm'], ['models', 'emoxnet-lite.emx'], ['models', 'emoxnet.emx'], ['models', 'blazeface.emx']]) {
    assert.deepEqual(readFileSync(join(out, 'sub', name)), readFileSync(join(ROOT, from, name)), name);
  }
  assertCleanError(cli('assets'), /assets takes one folder/);
});
