// The README is the package's page on the npm registry, where links relative to the repository
// do not resolve: every link and image must be absolute (or an in-page anchor). Its two commands
// must stay the ones CI runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from '../../wasm/emoxnet.js';
import { ROOT, assertBuilt, cardHeadline } from './helpers.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('README links and images are absolute (they must work on the npm registry page)', () => {
  const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]);
  targets.push(...[...readme.matchAll(/<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"/g)].map((m) => m[1]));
  for (const t of targets) assert.match(t, /^(https?:\/\/|#)/, `relative link ${t} breaks on the registry page`);
});

test('README: install line, quick starts, the two commands, and .ci/run runs the test command', () => {
  assert.match(readme, /npm install emoxnet/);
  for (const section of ['With a bundler', 'Node', 'Video and camera', 'esbuild', 'Errors', 'Labels', 'Licence']) {
    assert.ok(readme.includes(section), section);
  }
  const test = 'sh scripts/setup.sh && npm test';
  assert.ok(readme.includes(test));
  assert.ok(readme.includes('sh scripts/setup.sh && npm run build && npm start'));
  assert.ok(readFileSync(join(ROOT, '.ci', 'run'), 'utf8').includes(test));
});

test('licence and model terms: LICENSE, package.json, each card and the README', () => {
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license, 'MIT');
  for (const card of ['emoxnet-lite.md', 'emoxnet.md']) {
    const text = readFileSync(join(ROOT, 'models', card), 'utf8');
    assert.match(text, /## Terms of use/, card);
    assert.match(text, /FER2013[^\n]*\n?[^\n]*research use/, card);
    assert.match(text, /FER\+[^\n]*MIT/, card);
  }
  assert.match(readFileSync(join(ROOT, 'models', 'blazeface.md'), 'utf8'), /Apache License 2\.0/);
  for (const term of ['research use', 'MIT', 'Apache-2.0']) assert.ok(readme.includes(term), term);
});

test("README's label thresholds are the shipped files' (they went stale after two new models)", async () => {
  assertBuilt();
  const text = readme.replace(/\s+/g, ' ');
  for (const [name, source] of [['EmoXNet', 'ensemble'], ['the Lite', 'lite']]) {
    const m = text.match(new RegExp('`\\{ disgust: ([\\d.]+), contempt: ([\\d.]+) \\}` for ' + name));
    assert.ok(m, `README gives ${name}'s label thresholds`);
    const model = await load(source);
    try {
      const t = model.labelThresholds;
      assert.equal(Number(m[1]), Number(t.disgust.toFixed(3)), `${name} disgust: README ${m[1]}, file ${t.disgust}`);
      assert.equal(Number(m[2]), Number(t.contempt.toFixed(3)), `${name} contempt: README ${m[2]}, file ${t.contempt}`);
    } finally {
      model.dispose();
    }
  }
});

test("README's headline accuracies are the cards' (a model shipped without the README following fails)", () => {
  const cardTop1 = (card) => cardHeadline(card).top1;
  for (const [bullet, card] of [['EmoXNetLite', 'emoxnet-lite.md'], ['EmoXNet', 'emoxnet.md']]) {
    const m = readme.match(new RegExp(`^- \\*\\*${bullet}\\*\\* \\([^)]*\\): (\\d+\\.\\d\\d)% on FER\\+ Valid`, 'm'));
    assert.ok(m, `README's ${bullet} bullet gives its FER+ Valid accuracy`);
    assert.equal(m[1], cardTop1(card), `${bullet}: README ${m[1]}%, card ${cardTop1(card)}%`);
  }
});
