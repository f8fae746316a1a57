// The size budgets the page and the package promise (README): a browser downloads the whole
// file before the first answer, so a model that grows past its budget is a regression even if
// it is more accurate. The pipeline keeps an ensemble under it (recipe "max_mb").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const BUDGETS = [['models/emoxnet-lite.emx', 1e6], ['models/emoxnet.emx', 16e6]];

for (const [file, max] of BUDGETS) {
  test(`${file} is within its ${max / 1e6} MB budget`, () => {
    const bytes = statSync(join(ROOT, file)).size;
    assert.ok(bytes <= max, `${file}: ${bytes.toLocaleString('en')} bytes, budget ${max.toLocaleString('en')}`);
  });
}
