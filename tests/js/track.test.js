// Unit tests of the package's face tracking (wasm/lib/video.js, used by watchVideo and the demo): box overlap and EMA smoothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FaceTracker, iou, ema, argmax } from '../../wasm/lib/video.js';

const box = (x, y, s = 100) => ({ x, y, width: s, height: s });
const face = (b, happy) => ({ box: b, score: 0.9, label: happy > 0.5 ? 'happiness' : 'neutral', scores: { neutral: 1 - happy, happiness: happy } });

test('iou, ema, argmax', () => {
  assert.equal(iou(box(0, 0), box(0, 0)), 1);
  assert.equal(iou(box(0, 0), box(200, 0)), 0);
  assert.ok(Math.abs(iou(box(0, 0), box(50, 0)) - 1 / 3) < 1e-12);
  assert.equal(iou({ x: 0, y: 0, width: 0, height: 0 }, box(0, 0)), 0);
  assert.deepEqual(ema({ a: 0, b: 1 }, { a: 1, b: 1 }, 0.25), { a: 0.25, b: 1 });
  assert.deepEqual(ema(null, { a: 0.5 }, 0.1), { a: 0.5 });
  assert.equal(argmax({ a: 0.2, b: 0.7, c: 0.7 }), 'b');
  assert.equal(argmax({}), null);
});

test('tracks keep their id while boxes overlap, new faces get new ids', () => {
  const tr = new FaceTracker({ alpha: 0.5 });
  const f1 = tr.update([face(box(0, 0), 0.9), face(box(300, 0), 0.1)]);
  assert.deepEqual(f1.map((f) => f.id), [1, 2]);
  // moved a little, order swapped: ids follow the boxes, not the order
  const f2 = tr.update([face(box(305, 5), 0.1), face(box(8, 4), 0.9)]);
  assert.deepEqual(f2.map((f) => f.id), [2, 1]);
  assert.deepEqual(f2.map((f) => f.age), [2, 2]);
  // a face far away is a new track
  const f3 = tr.update([face(box(600, 400), 0.5)]);
  assert.deepEqual(f3.map((f) => f.id), [3]);
});

test('scores and boxes are exponential moving averages; label follows the smoothed scores', () => {
  const tr = new FaceTracker({ alpha: 0.5 });
  tr.update([face(box(0, 0), 1)]);
  const [a] = tr.update([face(box(10, 0), 0)]);
  assert.equal(a.scores.happiness, 0.5);
  assert.equal(a.box.x, 5);
  assert.equal(a.raw.scores.happiness, 0);
  const [b] = tr.update([face(box(10, 0), 0)]);
  assert.equal(b.scores.happiness, 0.25);
  assert.equal(b.label, 'neutral');
  // one odd frame does not flip a steady label
  const t2 = new FaceTracker({ alpha: 0.3 });
  for (let i = 0; i < 5; i++) t2.update([face(box(0, 0), 0.95)]);
  const [c] = t2.update([face(box(0, 0), 0.1)]);
  assert.equal(c.label, 'happiness');
  assert.equal(c.raw.label, 'neutral');
});

test('alpha 1 passes scores through; lost tracks expire after maxMissed frames', () => {
  const tr = new FaceTracker({ alpha: 1, maxMissed: 2 });
  tr.update([face(box(0, 0), 0.9)]);
  const [a] = tr.update([face(box(0, 0), 0.2)]);
  assert.equal(a.scores.happiness, 0.2);
  assert.equal(a.id, 1);
  tr.update([]);
  tr.update([]);
  assert.equal(tr.update([face(box(0, 0), 0.2)])[0].id, 1, 'survives 2 missed frames');
  tr.update([]);
  tr.update([]);
  tr.update([]);
  assert.equal(tr.update([face(box(0, 0), 0.2)])[0].id, 2, 'expired after 3');
  tr.reset();
  assert.equal(tr.tracks.length, 0);
  // a face without scores (too large to classify) keeps its track's scores
  const t2 = new FaceTracker({ alpha: 0.5 });
  t2.update([face(box(0, 0), 0.8)]);
  const [b] = t2.update([{ box: box(0, 0), score: 0.9, label: null, scores: {} }]);
  assert.equal(b.scores.happiness, 0.8);
  assert.equal(b.label, 'happiness');
});
