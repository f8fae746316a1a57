// The shipped model's card must state what `emoxnet eval` measures on FER+ Valid through WASM:
// run the CLI on the whole Valid folder and compare with the bold accuracy and n in the card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FERPLUS_DIR, ROOT, cardHeadline } from './helpers.js';

const VALID = join(FERPLUS_DIR, 'FER2013Valid');

// Both cards are written by training/pipeline.py --ship (training/recipes/*.json).
const CARDS = [['models/emoxnet-lite.emx', 'models/emoxnet-lite.md'], ['models/emoxnet.emx', 'models/emoxnet.md']];

for (const [model, card] of CARDS) {
  test(`${card} matches emoxnet eval on FER+ Valid`, (t) => {
    if (!existsSync(join(VALID, 'label.csv'))) return t.skip(`${VALID} not found (set FERPLUS_DIR)`);
    const head = cardHeadline(card.replace('models/', ''));
    assert.ok(head, `${card} states no "**ACC%** on n = N images" line`);
    const out = execFileSync(process.execPath,
      [join(ROOT, 'bin', 'emoxnet.js'), 'eval', VALID, '--model', join(ROOT, model), '--json'],
      { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop());
    t.diagnostic(`${model}: ${r.correct}/${r.n} = ${(r.accuracy * 100).toFixed(2)}%`);
    assert.equal(r.n, head.n);
    assert.equal((r.accuracy * 100).toFixed(2), head.top1);
    // Same figure the PyTorch export reported and stored in the file's metadata.
    const meta = readFileSync(join(ROOT, model));
    assert.ok(meta.includes(Buffer.from(head.top1)), `${model} metadata lacks valid_accuracy ${head.top1}`);
  });
}
