#!/usr/bin/env node
// cam-figure.js - the README figure models/cam-grid.png: one FER+ Valid face per class (the
// first, in label.csv order, with the most annotator votes for that class among those the
// model gets right; for a class it gets right on no face, e.g. contempt, the most voted one),
// on top, and below it the class activation map of that class
// (model.explain) blended over the face, labelled with the class and its score.
//
//     node tools/cam-figure.js [OUT.png]      (default models/cam-grid.png; FERPLUS_DIR as the tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { load, decodeImage, annotate } from '../wasm/emoxnet.js';
import { parseLabelCsv, keptRows } from '../bin/ferplus.js';
import { blendHeat } from '../bin/heatmap.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const VALID = join(process.env.FERPLUS_DIR || join(ROOT, '..', 'shared', 'data', 'ferplus'), 'FER2013Valid');
const OUT = process.argv[2] || join(ROOT, 'models', 'cam-grid.png');
const TILE = 192; // 48x48 faces scaled 4x
const GAP = 4;

const model = await load(join(ROOT, 'models', 'emoxnet-lite.emx'));
const rows = keptRows(parseLabelCsv(readFileSync(join(VALID, 'label.csv'), 'utf8')));
const n = model.classNames.length;
const COLS = 4;
const ROWS = Math.ceil(n / COLS);
const LABEL = 40; // room for annotate()'s label above each pair
const PAIR = 2 * TILE;
const W = COLS * PAIR + (COLS + 1) * 3 * GAP;
const H = ROWS * (PAIR / 2 + LABEL + 3 * GAP) + 3 * GAP;
const grid = { data: new Uint8Array(W * H * 3).fill(255), width: W, height: H, channels: 3 };
const labels = [];
for (let c = 0; c < n; c++) {
  const name = model.classNames[c];
  let best = null;
  let fallback = null; // no face of the class classified right (contempt): the most voted one
  for (const r of rows.filter((row) => row.label === c)) {
    const img = await decodeImage(readFileSync(join(VALID, r.file)));
    const e = model.explain(img, r.box, { label: c });
    if (!fallback || r.votes[c] > fallback.r.votes[c]) fallback = { r, img, e };
    if (e.label !== name) continue;
    if (!best || r.votes[c] > best.r.votes[c]) best = { r, img, e };
    if (r.votes[c] === 10) break;
  }
  best = best ?? fallback;
  const plain = blendHeat(best.img, [], TILE);
  const heat = blendHeat(best.img, [{ map: best.e, x: 0, y: 0, w: best.img.width, h: best.img.height }], TILE);
  const x0 = 3 * GAP + (c % COLS) * (PAIR + 3 * GAP);
  const y0 = 3 * GAP + LABEL + Math.floor(c / COLS) * (TILE + LABEL + 3 * GAP);
  for (const [tile, dx] of [[plain, 0], [heat, TILE]]) {
    for (let y = 0; y < TILE; y++) {
      grid.data.set(tile.data.subarray(y * tile.width * 3, (y * tile.width + TILE) * 3), ((y0 + y) * W + x0 + dx) * 3);
    }
  }
  labels.push({ box: { x: x0, y: y0, width: PAIR, height: TILE }, score: 1, label: name, scores: best.e.scores });
  process.stdout.write(`${name.padEnd(10)} ${best.r.file} votes ${best.r.votes[c]}/10 score ${best.e.scores[name].toFixed(3)}, predicted ${best.e.label}\n`);
}
writeFileSync(OUT, await annotate(grid, labels));
process.stdout.write(`wrote ${OUT}\n`);
model.dispose();
