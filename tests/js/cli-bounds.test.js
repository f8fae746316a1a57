// bin/emoxnet.js reads within bounds (issue 18, breaks 5 and 9's eval part): regular files only
// (`classify /dev/zero` and `--model /dev/zero` grew without end), size caps, label.csv names
// confined to the folder and read line by line, one missing image or a (NaN, ...) box reported
// and counted instead of ending the run or being silently ignored.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, LITE_MODEL, assertBuilt, makePng } from './helpers.js';

const BIN = join(ROOT, 'bin', 'emoxnet.js');
const cli = (...args) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
};

let work;
before(() => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'emx-cli-bounds-'));
});

test('classify and --model refuse what is not a regular file, at once', { skip: !existsSync('/dev/zero') }, () => {
  let r = cli('classify', '/dev/zero');
  assert.equal(r.signal, null, 'killed by the timeout: it read without end');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /not a regular file/);
  r = cli('classify', '--model', '/dev/zero', join(ROOT, 'tests', 'fixtures', 'gray-4x4.png'));
  assert.equal(r.signal, null);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /not a regular file/);
  r = cli('classify', work);
  assert.match(r.err, /not a regular file/);
});

test('a model file over the format limit is refused before reading it', () => {
  const big = join(work, 'big.emx');
  writeFileSync(big, '');
  truncateSync(big, 300 * 2 ** 20); // sparse: no disk used
  const r = cli('classify', '--model', big, join(ROOT, 'tests', 'fixtures', 'gray-4x4.png'));
  assert.notEqual(r.code, 0);
  assert.match(r.err, /over the \d+-byte limit/);
});

function folder(name, rows) {
  const dir = join(work, name);
  mkdirSync(dir);
  const px = new Uint8Array(48 * 48).map((_, i) => (i * 7) % 256);
  writeFileSync(join(dir, 'a.png'), makePng(48, 48, 0, px));
  writeFileSync(join(dir, 'b.png'), makePng(48, 48, 0, px.map((v) => 255 - v)));
  writeFileSync(join(dir, 'label.csv'), rows.join('\n') + '\n');
  return dir;
}

const HAPPY = '0,9,0,0,0,0,0,0,1,0';

test('eval: a missing image and a (NaN, ...) box are reported and counted, the rest scored', { skip: !existsSync(LITE_MODEL) }, () => {
  const dir = folder('mixed', [
    `a.png,"(0, 0, 48, 48)",${HAPPY}`,
    `missing.png,"(0, 0, 48, 48)",${HAPPY}`,
    `b.png,"(NaN, 0, 48, 48)",${HAPPY}`,
    `b.png,,${HAPPY}`,
  ]);
  const r = cli('eval', dir, '--json');
  assert.equal(r.code, 1, 'scored on fewer images than listed: nonzero exit');
  const s = JSON.parse(r.out);
  assert.equal(s.n, 2);
  assert.equal(s.skipped, 1);
  assert.equal(s.bad_rows, 1);
  assert.match(r.err, /missing\.png.*no such file/);
  assert.match(r.err, /b\.png: malformed face box \(label\.csv line 3\)/);
});

test('eval: names in label.csv stay inside the folder', { skip: !existsSync(LITE_MODEL) }, () => {
  const outside = join(work, 'outside.png');
  writeFileSync(outside, makePng(48, 48, 0, new Uint8Array(48 * 48)));
  const dir = folder('escape', [
    `a.png,,${HAPPY}`,
    `../outside.png,,${HAPPY}`,
    `${outside},,${HAPPY}`,
    `sub/../../outside.png,,${HAPPY}`,
  ]);
  const r = cli('eval', dir, '--json');
  assert.equal(r.code, 1);
  const s = JSON.parse(r.out);
  assert.equal(s.n, 1, 'only a.png is scored');
  assert.equal(s.bad_rows, 3);
  assert.equal((r.err.match(/not a file inside/g) || []).length, 3);
});

test('eval: an oversized label.csv is refused without reading it', () => {
  const dir = join(work, 'huge');
  mkdirSync(dir);
  writeFileSync(join(dir, 'label.csv'), '');
  truncateSync(join(dir, 'label.csv'), 300 * 2 ** 20);
  const r = cli('eval', dir);
  assert.equal(r.signal, null);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /label\.csv: \d+ bytes, over the \d+-byte limit/);
  assert.doesNotMatch(r.err, /^\s+at /m);
});
