// The README is the package's page on the npm registry, where links relative to the repository
// do not resolve: every link and image must be absolute (or an in-page anchor). Its two commands
// must stay the ones CI runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

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
