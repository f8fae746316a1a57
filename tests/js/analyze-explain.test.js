// analyze(image, { explain: true }) (issue 19, item 6): each face's class activation map comes
// from the run that labelled it, on its eye-levelled crop (C emx_analyze_explain), and
// face.crop says where that crop was, so nothing re-derives the crop in JS or classifies twice.
//   - a level face's map equals explain() on the square face.crop describes, bit for bit;
//   - a turned face's crop turns with it, and its map is not the unrotated square's (the demo
//     used to draw that one while the label came from the aligned crop);
//   - the last face's map is explainLast()'s; without explain the faces are the same, no cam;
//   - detect() reports the same crops; bad options and unexplainable models are typed errors.
// Real FER+ Valid faces (skipped without them).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, decodeImage } from '../../wasm/emoxnet.js';
import { GOLDEN_DIR, FERPLUS_DIR, LITE_MODEL, assertBuilt } from './helpers.js';

const VALID = join(FERPLUS_DIR, 'FER2013Valid');
const haveData = existsSync(join(VALID, 'label.csv'));
const W = 640;
const H = 480;
const DEG = Math.PI / 180;

before(() => assertBuilt());

function frame() {
  return { data: new Uint8Array(W * H * 3).fill(120), width: W, height: H, channels: 3 };
}

/** Paste a grey face, size px a side, top-left (x, y) before turning it by deg (clockwise). */
function paste(f, face, x, y, size, deg = 0) {
  const c = Math.cos(deg * DEG);
  const s = Math.sin(deg * DEG);
  const cx = x + size / 2;
  const cy = y + size / 2;
  const r = Math.ceil(size * 0.75);
  for (let py = Math.floor(cy - r); py <= cy + r; py++) {
    for (let px = Math.floor(cx - r); px <= cx + r; px++) {
      if (px < 0 || py < 0 || px >= W || py >= H) continue;
      const dx = px + 0.5 - cx;
      const dy = py + 0.5 - cy;
      const u = dx * c + dy * s + size / 2;
      const v = -dx * s + dy * c + size / 2;
      if (u < 0 || v < 0 || u >= size || v >= size) continue;
      const g = face.data[Math.floor((v * face.height) / size) * face.width + Math.floor((u * face.width) / size)];
      f.data.fill(g, (py * W + px) * 3, (py * W + px) * 3 + 3);
    }
  }
}

const cropBox = (c) => ({ x: c.cx - c.side / 2, y: c.cy - c.side / 2, width: c.side, height: c.side });
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** FER+ faces, and the first one whose crop is level (angle 0) at x = 40 and one nearly level
 * at x = 360 (few real faces have eyes level within 2 degrees: they are looked for). */
async function pickFaces(model) {
  const files = readdirSync(VALID).filter((f) => f.endsWith('.png')).sort().slice(0, 60);
  let level = null;
  let turned = null;
  for (const file of files) {
    const face = await decodeImage(readFileSync(join(VALID, file)));
    const angleAt = async (x) => {
      const f = frame();
      paste(f, face, x, 120, 220);
      const found = await model.detect(f);
      return found.length === 1 ? found[0].crop.angle : NaN;
    };
    if (!level && (await angleAt(40)) === 0) level = face;
    else if (!turned) {
      const a = await angleAt(360);
      if (Math.abs(a) < 8 * DEG) turned = { face, angle: a };
    }
    if (level && turned) break;
  }
  return { level, turned };
}

test('analyze({ explain: true }): every face its map, from its own run, over its own crop', async (t) => {
  if (!haveData) return t.skip(`FER+ Valid not found in ${VALID}`);
  const m = await load(readFileSync(LITE_MODEL));
  try {
    const { level, turned } = await pickFaces(m);
    assert.ok(level && turned, 'a level and a nearly level face among the first 60');
    const f = frame();
    paste(f, level, 40, 120, 220);
    paste(f, turned.face, 360, 120, 220, 20);
    const faces = await m.analyze(f, { explain: true });
    assert.equal(faces.length, 2);
    // the last face's map is what the classifier still holds: explainLast()'s, exactly
    const last = faces.at(-1);
    assert.deepEqual(m.explainLast({ label: last.label }).data, last.cam.data);
    // without explain: the same faces, no maps; detect(): the same crops
    const plain = await m.analyze(f);
    assert.deepEqual(faces.map(({ cam, ...rest }) => rest), plain);
    assert.ok(plain.every((p) => !('cam' in p)));
    assert.deepEqual((await m.detect(f)).map((d) => d.crop), plain.map((p) => p.crop));
    for (const face of faces) {
      const { cam, crop } = face;
      assert.equal(cam.width, m.inputSpec.width);
      assert.equal(cam.height, m.inputSpec.height);
      assert.ok(cam.data instanceof Float32Array && cam.data.length === cam.width * cam.height);
      assert.equal(Math.max(...cam.data), 1);
      assert.ok(Math.min(...cam.data) >= 0);
      // the crop: a square around the face's box, bigger than it
      assert.ok(crop.side > Math.max(face.box.width, face.box.height));
      assert.ok(Math.abs(crop.cx - (face.box.x + face.box.width / 2)) < crop.side / 4);
      const flat = m.explain(f, cropBox(crop), { label: face.label });
      if (crop.cx < W / 2) {
        // level: the square itself, classified as a box: the same run, the same map
        assert.equal(crop.angle, 0);
        assert.equal(flat.label, face.label);
        assert.deepEqual(flat.data, cam.data);
      } else {
        // turned 20 degrees: the crop turns with the face, and the map is not the square's
        assert.ok(Math.abs(crop.angle - turned.angle - 20 * DEG) < 6 * DEG, `angle ${crop.angle / DEG} deg`);
        const d = maxDiff(cam.data, flat.data);
        assert.ok(d > 0.1, `the turned face's map differs from the unrotated crop's (max |diff| ${d})`);
      }
    }
  } finally {
    m.dispose();
  }
});

test('analyze() explain option: booleans only, analyze() only; a model without maps says so', async () => {
  const m = await load(readFileSync(LITE_MODEL));
  const blank = frame();
  try {
    assert.deepEqual(await m.analyze(blank, { explain: true }), []);
    assert.deepEqual(await m.analyze(blank, { explain: false }), []);
    for (const bad of ['yes', 1, {}, 'true']) {
      await assert.rejects(m.analyze(blank, { explain: bad }), { code: 'INVALID_ARG' }, String(bad));
    }
    await assert.rejects(m.detect(blank, { explain: true }), { code: 'INVALID_ARG' });
  } finally {
    m.dispose();
  }
  // a network without global average pooling + one dense layer has no class activation map
  const vgg = await load(readFileSync(join(GOLDEN_DIR, 'vgg.emx')));
  try {
    await assert.rejects(vgg.analyze(blank, { explain: true }), { code: 'UNSUPPORTED' });
    assert.deepEqual(await vgg.analyze(blank), []);
  } finally {
    vgg.dispose();
  }
});
