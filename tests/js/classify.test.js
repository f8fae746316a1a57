// The shipped lite model on real FER+ Valid faces (decoded by the wasm stb_image path, as the
// CLI does). Skipped, visibly, until models/emoxnet-lite.emx exists or when FER+ is absent
// (FERPLUS_DIR overrides the data location).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, decodeImage } from '../../wasm/emoxnet.js';
import { FERPLUS_CLASSES, parseLabelCsv, keptRows } from '../../bin/ferplus.js';
import { FERPLUS_DIR, LITE_MODEL, assertBuilt } from './helpers.js';

const VALID = join(FERPLUS_DIR, 'FER2013Valid');
const N_FACES = 40;

// Faces the annotators agree on: at least 8 of 10 votes for one emotion.
function clearFaces() {
  const rows = keptRows(parseLabelCsv(readFileSync(join(VALID, 'label.csv'), 'utf8')));
  return rows.filter((r) => r.votes[r.label] >= 8).slice(0, N_FACES);
}

test('lite model on clearly-labelled FER+ Valid faces', async (t) => {
  if (!existsSync(LITE_MODEL)) return t.skip(`${LITE_MODEL} not built yet`);
  if (!existsSync(join(VALID, 'label.csv'))) return t.skip(`${VALID} not found (set FERPLUS_DIR)`);
  assertBuilt();
  const simd = await load(LITE_MODEL, { simd: true });
  const scalar = await load(LITE_MODEL, { simd: false });
  assert.deepEqual([...simd.classNames], FERPLUS_CLASSES);
  const faces = clearFaces();
  assert.ok(faces.length >= 20, `only ${faces.length} clear faces`);
  let agree = 0;
  for (const f of faces) {
    const img = await decodeImage(readFileSync(join(VALID, f.file)));
    assert.equal(img.width, 48);
    assert.equal(img.height, 48);
    const a = simd.classify(img, f.box);
    const b = scalar.classify(img, f.box);
    const sum = Object.values(a.scores).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `${f.file}: scores sum to ${sum}`);
    for (const c of FERPLUS_CLASSES) {
      assert.ok(Math.abs(a.scores[c] - b.scores[c]) < 1e-4, `${f.file} ${c}: simd ${a.scores[c]} vs scalar ${b.scores[c]}`);
    }
    if (a.label === FERPLUS_CLASSES[f.label]) agree++;
  }
  t.diagnostic(`${simd.meta.name ?? 'lite'}: ${agree}/${faces.length} clearly-labelled Valid faces agree with their label`);
  // Measured for the shipped models/emoxnet-lite.emx: a retrained model updates this count,
  // and numerical drift in the core changes it.
  assert.equal(agree, 38, `${agree}/${faces.length} clear faces right; the shipped model gets 38`);
  simd.dispose();
  scalar.dispose();
});
