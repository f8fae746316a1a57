// The live demo's pure helpers, in Node (no browser): label placement (web/labels.js), the group
// summary (web/summary.js), the recording behind the timelines and exports (web/timeline.js) and
// where the overlay draws each heat map (web/overlay.js, through a context that records where
// every image lands).
import test from 'node:test';
import assert from 'node:assert/strict';
import { placeLabels } from '../../web/labels.js';
import { groupSummary } from '../../web/summary.js';
import { Recorder, WINDOW_MS } from '../../web/timeline.js';
import { drawOverlay } from '../../web/overlay.js';
import { thresholdNote } from '../../web/face-list.js';

const CLASSES = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'];
const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test('labels: never overlap each other, stay in the picture, even when faces crowd', () => {
  let s = 7;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let trial = 0; trial < 200; trial++) {
    const W = 640;
    const H = 480;
    const n = 1 + Math.floor(rand() * 12);
    const boxes = Array.from({ length: n }, () => {
      const size = 30 + rand() * 150;
      return { x: rand() * (W - size), y: rand() * (H - size), width: size, height: size };
    });
    const sizes = boxes.map(() => ({ w: 60 + rand() * 80, h: 22 }));
    const out = placeLabels(boxes, sizes, W, H);
    assert.equal(out.length, n);
    const placed = out.filter(Boolean);
    for (const r of placed) assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= W + 1e-9 && r.y + r.h <= H + 1e-9, JSON.stringify(r));
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) assert.ok(!hit(placed[i], placed[j]), `trial ${trial}: ${JSON.stringify([placed[i], placed[j]])}`);
    }
  }
});

test('labels: above each face when there is room, and off other faces', () => {
  // two faces side by side with room above: each label right above its own box
  const boxes = [{ x: 100, y: 200, width: 100, height: 100 }, { x: 300, y: 200, width: 100, height: 100 }];
  const out = placeLabels(boxes, [{ w: 90, h: 20 }, { w: 90, h: 20 }], 640, 480);
  assert.deepEqual(out, [{ x: 100, y: 180, w: 90, h: 20 }, { x: 300, y: 180, w: 90, h: 20 }]);
  // a face right under another: its label does not go over the face above it
  const stacked = [{ x: 100, y: 100, width: 100, height: 100 }, { x: 100, y: 205, width: 100, height: 100 }];
  const out2 = placeLabels(stacked, [{ w: 90, h: 20 }, { w: 90, h: 20 }], 640, 480);
  assert.ok(!hit(out2[1], { x: 100, y: 100, w: 100, h: 100 }), JSON.stringify(out2));
});

test('face cards: a label named by its threshold, below the top score, says so and names the top', () => {
  const scores = { neutral: 0.7, happiness: 0.1, surprise: 0.05, sadness: 0.05, anger: 0.03, disgust: 0.01, fear: 0.01, contempt: 0.05 };
  assert.equal(thresholdNote({ label: 'contempt', scores }), 'reached its threshold (neutral 70%)');
  assert.equal(thresholdNote({ label: 'neutral', scores }), '');
  assert.equal(thresholdNote({ label: null, scores }), '');
  // a tie with the top is not "below" it
  assert.equal(thresholdNote({ label: 'contempt', scores: { ...scores, neutral: 0.05, happiness: 0.05 } }), '');
});

test('group summary: from two faces, the most common expression first', () => {
  assert.equal(groupSummary([]), '');
  assert.equal(groupSummary([{ label: 'happiness' }]), '');
  const six = ['happiness', 'happiness', 'neutral', 'happiness', 'happiness', 'happiness'].map((label) => ({ label }));
  assert.equal(groupSummary(six), '5 of 6 happy · 1 neutral');
  assert.equal(groupSummary([{ label: 'surprise' }, { label: null }]), '1 of 2 surprised · 1 unclassified');
});

test('recording: rows per face, the last minute per face, CSV and JSON', () => {
  const r = new Recorder(CLASSES);
  const face = (id, label) => ({ id, label, box: { x: 1, y: 2, width: 30, height: 30 }, scores: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.93 : 0.01])) });
  r.add([face(1, 'happiness'), face(2, 'surprise')], { model: 'lite', source: 'camera', now: 1000 });
  r.add([face(1, 'happiness'), { id: 3, box: { x: 0, y: 0, width: 9, height: 9 }, label: null, scores: {} }], { model: 'lite', source: 'camera', now: 1500 });
  r.add([face(1, 'neutral')], { model: 'lite', source: 'camera', now: 1000 + WINDOW_MS + 800 });
  assert.equal(r.rows.length, 4, 'a face without scores is not recorded');
  assert.deepEqual(r.recent(1).map((x) => x.t), [WINDOW_MS + 800], 'only the last minute');
  const csv = r.toCSV().trim().split('\n');
  assert.equal(csv[0], 'time_s,face,label,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,x,y,width,height,model,source');
  assert.equal(csv[1], '0.000,1,happiness,0.0100,0.9300,0.0100,0.0100,0.0100,0.0100,0.0100,0.0100,1.0,2.0,30.0,30.0,lite,camera');
  assert.equal(csv.length, 5);
  const json = r.toJSON();
  assert.deepEqual(json.classes, CLASSES);
  assert.equal(json.rows[2].t, 0.5);
  assert.equal(json.rows[3].label, 'neutral');
  r.clear();
  assert.equal(r.rows.length, 0);
});

/** A 2D context that keeps the current transform and records where drawImage()'s corners land. */
function recordingContext(width, height) {
  let m = [1, 0, 0, 1, 0, 0];
  const stack = [];
  const mul = (a, b) => [a[0] * b[0] + a[2] * b[1], a[1] * b[0] + a[3] * b[1], a[0] * b[2] + a[2] * b[3], a[1] * b[2] + a[3] * b[3], a[0] * b[4] + a[2] * b[5] + a[4], a[1] * b[4] + a[3] * b[5] + a[5]];
  const at = (x, y) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
  const images = [];
  return {
    canvas: { width, height },
    images,
    save: () => stack.push(m),
    restore: () => { m = stack.pop(); },
    translate: (x, y) => { m = mul(m, [1, 0, 0, 1, x, y]); },
    rotate: (a) => { m = mul(m, [Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a), 0, 0]); },
    scale: (x, y) => { m = mul(m, [x, 0, 0, y, 0, 0]); },
    setTransform: (...t) => { m = t; },
    // corners in the order top-left, top-right, bottom-left, bottom-right of the image
    drawImage: (img, x, y, w, h) => images.push([[x, y], [x + w, y], [x, y + h], [x + w, y + h]].map(([u, v]) => at(u, v))),
    measureText: (t) => ({ width: 7 * t.length }),
    strokeRect() {},
    fillRect() {},
    fillText() {},
  };
}

test('heat maps: drawn over the crop the face was classified on, turned with it, mirrored with the view', () => {
  // heat.js paints the map on a canvas of its own: a stand-in that only has to exist here
  globalThis.document ??= { createElement: () => ({ getContext: () => ({ createImageData: (w, h) => ({ data: new Uint8ClampedArray(w * h * 4) }), putImageData() {} }) }) };
  const W = 640;
  const H = 480;
  const cam = { width: 4, height: 4, data: new Float32Array(16).fill(0.5) };
  const crop = { cx: 420, cy: 200, side: 180, angle: 0.35 }; // about 20 degrees, clockwise
  const face = { id: 1, box: { x: 350, y: 140, width: 140, height: 140 }, label: 'happiness', scores: { happiness: 0.9 }, crop, cam };
  // where the crop's corners are, in the face's own frame: (u, v) from its centre
  const corner = ([u, v], mirrored) => {
    const x = crop.cx + u * Math.cos(crop.angle) - v * Math.sin(crop.angle);
    const y = crop.cy + u * Math.sin(crop.angle) + v * Math.cos(crop.angle);
    return [mirrored ? W - x : x, y];
  };
  const s = crop.side / 2;
  for (const mirrored of [false, true]) {
    const ctx = recordingContext(W, H);
    const { heatCrops } = drawOverlay(ctx, [face], { mirrored, heatOpacity: 0.6, colors: ['#f00'], cssWidth: W, compact: false });
    assert.equal(ctx.images.length, 1);
    const want = [[-s, -s], [s, -s], [-s, s], [s, s]].map((p) => corner(p, mirrored));
    ctx.images[0].forEach((p, i) => {
      assert.ok(Math.hypot(p[0] - want[i][0], p[1] - want[i][1]) < 1e-6, `mirrored ${mirrored}: corner ${i} at ${p}, expected ${want[i]}`);
    });
    assert.deepEqual(heatCrops, [{ ...crop, cx: mirrored ? W - crop.cx : crop.cx, angle: mirrored ? -crop.angle : crop.angle }]);
    // no maps at opacity 0, nor for a face without one
    const off = recordingContext(W, H);
    drawOverlay(off, [face, { ...face, id: 2, cam: undefined }], { mirrored, heatOpacity: 0, colors: ['#f00'], cssWidth: W, compact: false });
    assert.equal(off.images.length, 0);
  }
});
