// `emoxnet classify|eval --balance B` (load()'s balance option through the CLI): the numbers
// are the balanced model's, eval's JSON records the balance, bad values are usage errors. On a
// small FER+-layout folder made here (as cli.test.js) and on FER+ Valid when it is present.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, decodeImage } from '../../wasm/emoxnet.js';
import { FERPLUS_CLASSES } from '../../bin/ferplus.js';
import { ROOT, FERPLUS_DIR, LITE_MODEL, assertBuilt, makeDenseModel, makePng, prng } from './helpers.js';

const BIN = join(ROOT, 'bin', 'emoxnet.js');
const cli = (...args) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

let dir;
let modelPath;
let modelBytes;
const N = 12;
const imageFile = (i) => join(dir, `fer${String(i).padStart(7, '0')}.png`);

before(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'emx-cli-balance-'));
  modelPath = join(dir, 'dense.emx');
  modelBytes = makeDenseModel().bytes;
  writeFileSync(modelPath, modelBytes);
  const rnd = prng(23);
  const lines = [];
  for (let i = 0; i < N; i++) {
    writeFileSync(imageFile(i), makePng(12, 12, 0, Uint8Array.from({ length: 144 }, () => Math.floor((rnd() + 1) * 127))));
    const votes = new Array(10).fill(0);
    votes[i % 8] = 10; // every class, so each has a recall
    lines.push(`fer${String(i).padStart(7, '0')}.png,"(0, 0, 12, 12)",${votes.join(',')}`);
  }
  writeFileSync(join(dir, 'label.csv'), lines.join('\n') + '\n');
});

test('eval --balance: the balanced model scored, the balance in the JSON; 0 as without the flag', async () => {
  const m = await load(modelBytes, { balance: 0.7 });
  const confusion = FERPLUS_CLASSES.map(() => new Array(8).fill(0));
  for (let i = 0; i < N; i++) {
    const img = await decodeImage(readFileSync(imageFile(i)));
    const { label } = m.classify(img, { x: 0, y: 0, width: 12, height: 12 });
    confusion[i % 8][FERPLUS_CLASSES.indexOf(label)]++;
  }
  m.dispose();
  const r = cli('eval', dir, '--model', modelPath, '--balance', '0.7', '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.balance, 0.7);
  assert.deepEqual(s.confusion, confusion);
  const none = JSON.parse(cli('eval', dir, '--model', modelPath, '--json').out);
  const zero = JSON.parse(cli('eval', dir, '--model', modelPath, '--balance=0', '--json').out);
  assert.equal(none.balance, 0);
  assert.deepEqual({ ...zero, seconds: 0 }, { ...none, seconds: 0 });
  assert.notDeepEqual(none.confusion, s.confusion, 'the balance changed some prediction');
  // the text report names it
  assert.match(cli('eval', dir, '--model', modelPath, '--balance', '0.7').out, /--balance 0\.7/);
});

test('classify --balance: the balanced scores and label', async () => {
  const file = imageFile(3);
  const m = await load(modelBytes, { balance: 1 });
  const want = m.classify(await decodeImage(readFileSync(file)));
  m.dispose();
  const r = cli('classify', file, '--model', modelPath, '--balance', '1', '--json');
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(r.out);
  assert.equal(got.label, want.label);
  for (const c of FERPLUS_CLASSES) assert.ok(Math.abs(got.scores[c] - want.scores[c]) < 1e-12, c);
});

test('--balance: a number in 0..1; a model with other classes cannot be balanced', () => {
  for (const bad of ['-0.1', '1.5', 'NaN', 'half', '']) {
    const r = cli('eval', dir, '--model', modelPath, '--balance', bad);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /--balance takes a number in 0\.\.1/);
  }
  const other = join(dir, 'other.emx');
  writeFileSync(other, makeDenseModel({ classes: ['a', 'b', 'c'] }).bytes);
  const r = cli('classify', imageFile(0), '--model', other, '--balance', '0.5');
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot load model .*balance.*FER\+/);
  assert.doesNotMatch(r.err, /^\s+at /m);
});

test('eval --balance 0.5 on FER+ Valid with the lite model (first 50 images)', (t) => {
  const valid = join(FERPLUS_DIR, 'FER2013Valid');
  if (!existsSync(LITE_MODEL)) return t.skip(`${LITE_MODEL} not built yet`);
  if (!existsSync(join(valid, 'label.csv'))) return t.skip(`${valid} not found (set FERPLUS_DIR)`);
  const r = cli('eval', valid, '--model', LITE_MODEL, '--balance', '0.5', '--limit', '50', '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.n, 50);
  assert.equal(s.balance, 0.5);
  t.diagnostic(`lite, balance 0.5, first 50 Valid images: accuracy ${(100 * s.accuracy).toFixed(1)}%, mean recall ${(100 * s.mean_class_recall).toFixed(1)}%`);
});
