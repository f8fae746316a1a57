// A model file's label thresholds (CALIBRATE's params, models/FORMAT.md): classify()'s label,
// explainLast()'s default class, FaceTracker's label of smoothed scores and `emoxnet eval`'s
// predictions all follow the core's rule (emx_pick_label): the class whose score reaches its
// threshold, else the top score. The thresholds are set here from the scores a model without
// them gives, so the test knows which class each rule must name.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, FaceTracker, EmxError, EXPRESSIONS } from '../../wasm/emoxnet.js';
import { applyBalance, balanceWeights, pickLabel } from '../../wasm/lib/balance.js';
import { ROOT, assertBuilt, makeDenseModel, makePng, prng } from './helpers.js';

before(() => assertBuilt());

const K = EXPRESSIONS.length;
const IMAGE = { data: Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256), width: 8, height: 8, channels: 1 };

/** Thresholds: 0 everywhere but `value` for class `name`. */
function only(name, value) {
  const t = new Array(K).fill(0);
  t[EXPRESSIONS.indexOf(name)] = value;
  return t;
}

const rank = (scores) => Object.keys(scores).sort((a, b) => scores[b] - scores[a]);
const labelOfTop = (scores) => rank(scores)[0];

test('pickLabel: a reached threshold wins, the lower of two (then the likelier); none: the argmax, first on ties', () => {
  assert.equal(pickLabel([0.5, 0.3, 0.2], null), 0);
  assert.equal(pickLabel([0.5, 0.3, 0.2], [0, 0, 0.2]), 2);         // reached exactly
  assert.equal(pickLabel([0.5, 0.3, 0.2], [0, 0, 0.2000001]), 0);
  assert.equal(pickLabel([0.5, 0.3, 0.2], [0, 0.25, 0.15]), 2);      // two reached: the lower threshold, not the likelier
  assert.equal(pickLabel([0.5, 0.2, 0.3], [0, 0.15, 0.25]), 1);      // ... whichever comes first
  assert.equal(pickLabel([0.5, 0.2, 0.3], [0, 0.15, 0.15]), 2);      // equal thresholds: the likelier, not the first
  assert.equal(pickLabel([0.5, 0.3, 0.2], [0.9, 0, 0]), 0);          // a missed one changes nothing
  assert.equal(pickLabel([0.4, 0.4, 0.2], [0, 0, 0]), 0);
  // the thresholds read raw (the model's output) when scores are balanced ones
  assert.equal(pickLabel([0.5, 0.2, 0.3], [0, 0, 0.25], [0.7, 0.2, 0.1]), 0);
  assert.equal(pickLabel([0.5, 0.2, 0.3], [0, 0, 0.25], [0.6, 0.1, 0.3]), 2);
});

test("classify() labels the class that reaches the file's threshold; the scores stay the same", async () => {
  const plain = await load(makeDenseModel().bytes);
  const base = plain.classify(IMAGE);
  plain.dispose();
  const [top, second] = rank(base.scores);
  assert.equal(base.label, top);
  const p = base.scores[second];
  // the threshold stored as float32 at exactly the score (a float32 too): reached
  const at = Math.fround(p);
  const m = await load(makeDenseModel({ labelThresholds: only(second, at) }).bytes);
  assert.deepEqual(m.labelThresholds, { [second]: at });
  const r = m.classify(IMAGE);
  assert.equal(r.label, second);
  for (const c of EXPRESSIONS) assert.ok(Math.abs(r.scores[c] - base.scores[c]) < 1e-6, c);
  m.dispose();
  // one float32 step above the score: not reached, the top class again
  const above = new Float32Array([at]);
  new Uint32Array(above.buffer)[0] += 1;
  const m2 = await load(makeDenseModel({ labelThresholds: only(second, above[0]) }).bytes);
  assert.equal(m2.classify(IMAGE).label, top);
  m2.dispose();
});

test('explain() and explainLast() explain the label the threshold picked', async () => {
  const opts = { gap: true, weightScale: 8 }; // a class activation map branch: GAP -> DENSE
  const plain = await load(makeDenseModel(opts).bytes);
  const base = plain.classify(IMAGE);
  plain.dispose();
  const [top, second] = rank(base.scores);
  const m = await load(makeDenseModel({ ...opts, labelThresholds: only(second, base.scores[second] * 0.99) }).bytes);
  const ex = m.explain(IMAGE);
  assert.equal(ex.label, second);
  assert.equal(ex.explained, second);
  assert.equal(m.explainLast().explained, second);
  assert.equal(m.explainLast({ label: top }).explained, top); // asked for: still any class
  m.dispose();
});

test("balance: the threshold reads the model's own output, not the balanced scores", async () => {
  const raw = (await load(makeDenseModel().bytes)).classify(IMAGE).scores;
  const plain = await load(makeDenseModel().bytes, { balance: 0.5 });
  const base = plain.classify(IMAGE);
  plain.dispose();
  // contempt, the rarest class, gains most from the balance: a threshold between its raw and its
  // balanced score is not reached
  assert.ok(base.scores.contempt > raw.contempt * 1.1 && base.label !== 'contempt');
  const between = await load(makeDenseModel({ labelThresholds: only('contempt', (raw.contempt + base.scores.contempt) / 2) }).bytes, { balance: 0.5 });
  assert.equal(between.classify(IMAGE).label, base.label);
  between.dispose();
  const reach = await load(makeDenseModel({ labelThresholds: only('contempt', raw.contempt * 0.999) }).bytes, { balance: 0.5 });
  assert.equal(reach.classify(IMAGE).label, 'contempt');
  reach.dispose();
});

test("the loader refuses thresholds that are no probability (FORMAT)", async () => {
  for (const bad of [1.5, -0.25]) {
    await assert.rejects(load(makeDenseModel({ labelThresholds: only('contempt', bad) }).bytes), (e) => e instanceof EmxError && e.code === 'FORMAT');
  }
});

test("FaceTracker labels the smoothed scores by the model's thresholds", () => {
  const face = (scores) => ({ box: { x: 0, y: 0, width: 10, height: 10 }, scores });
  const scores = { neutral: 0.6, happiness: 0.1, contempt: 0.3 };
  assert.equal(new FaceTracker().update([face(scores)])[0].label, 'neutral');
  const t = new FaceTracker({ alpha: 0.5, labelThresholds: { contempt: 0.25 } });
  assert.equal(t.update([face(scores)])[0].label, 'contempt');
  // smoothed: contempt 0.3 -> (0.3 + 0.1) / 2 = 0.2, under its threshold
  assert.equal(t.update([face({ neutral: 0.8, happiness: 0.1, contempt: 0.1 })])[0].label, 'neutral');
  // a threshold for a class the faces do not have, or inherited from the prototype, is ignored
  const inherited = Object.create({ neutral: 0.01 });
  assert.equal(new FaceTracker({ labelThresholds: inherited }).update([face({ neutral: 0.1, happiness: 0.9 })])[0].label, 'happiness');
  assert.throws(() => new FaceTracker({ labelThresholds: null }), (e) => e instanceof EmxError && e.code === 'INVALID_ARG');
  // balanced scores (balance 1): the threshold reads the raw probabilities behind them
  const rawP = [0.6, 0.2, 0.1, 0.05, 0.03, 0.01, 0.005, 0.005];
  const shown = Object.fromEntries(EXPRESSIONS.map((c, i) => [c, applyBalance(rawP, balanceWeights(1))[i]]));
  assert.ok(shown.contempt > 0.01);
  const bal = (thr) => new FaceTracker({ labelThresholds: { contempt: thr }, balance: 1 }).update([face(shown)])[0].label;
  assert.equal(bal(0.01), labelOfTop(shown)); // raw 0.005: not reached
  assert.equal(bal(0.004), 'contempt');
});

test("emoxnet eval scores the model's labels, thresholds included", () => {
  const dir = mkdtempSync(join(tmpdir(), 'emx-thr-'));
  // contempt's threshold is tiny: every face is labelled contempt, whatever scores highest
  writeFileSync(join(dir, 'thr.emx'), makeDenseModel({ labelThresholds: only('contempt', 1e-6) }).bytes);
  const rnd = prng(5);
  const lines = [0, 1, 2, 7].map((cls, i) => {
    const name = `fer${String(i).padStart(7, '0')}.png`;
    writeFileSync(join(dir, name), makePng(8, 8, 0, Uint8Array.from({ length: 64 }, () => Math.floor((rnd() + 1) * 127))));
    const v = new Array(10).fill(0);
    v[cls] = 10;
    return `${name},"(0, 0, 8, 8)",${v.join(',')}`;
  });
  writeFileSync(join(dir, 'label.csv'), lines.join('\n') + '\n');
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'emoxnet.js'), 'eval', dir, '--model', join(dir, 'thr.emx'), '--json', '--predictions', join(dir, 'p.csv')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.n, 4);
  assert.equal(s.accuracy, 0.25); // only the contempt face is right
  const preds = readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n').slice(1).map((row) => Number(row.split(',')[2]));
  assert.deepEqual(preds, [7, 7, 7, 7]);
});
