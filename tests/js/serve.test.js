// The dev server (scripts/serve.js) serves only what the demo needs, inside its root, with
// cross-origin isolation headers (issue 18, break 8: it followed symlinks out of web/ and served
// build/CMakeCache.txt and training/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.js';

test('serve: demo files only, real paths inside the root, COOP/COEP', async () => {
  const root = mkdtempSync(join(tmpdir(), 'emx-serve-'));
  const outside = mkdtempSync(join(tmpdir(), 'emx-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'SECRET-CONTENT');
  mkdirSync(join(root, 'web'));
  mkdirSync(join(root, 'wasm', 'dist'), { recursive: true });
  mkdirSync(join(root, 'models'));
  mkdirSync(join(root, 'build'));
  mkdirSync(join(root, 'training'));
  writeFileSync(join(root, 'web', 'index.html'), '<p>demo</p>');
  writeFileSync(join(root, 'wasm', 'emoxnet.js'), 'export {}');
  writeFileSync(join(root, 'wasm', 'emx_wasm.c'), 'C-CONTENT');
  writeFileSync(join(root, 'wasm', 'dist', 'emoxnet-simd.wasm'), 'wasm');
  writeFileSync(join(root, 'models', 'm.emx'), 'EMXN');
  writeFileSync(join(root, 'models', 'm.md'), 'CARD-CONTENT');
  writeFileSync(join(root, 'models', 'm.txt'), 'NOTES-CONTENT'); // not a model or a card: 404
  writeFileSync(join(root, 'build', 'CMakeCache.txt'), 'CACHE-CONTENT');
  writeFileSync(join(root, 'training', 'train.py'), 'TRAIN-CONTENT');
  symlinkSync(outside, join(root, 'web', 'escape'));
  symlinkSync(join(root, 'build'), join(root, 'web', 'build-link'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'models', 'secret.emx'));
  const { server, url } = await serve({ root, port: 0 });
  const origin = new URL(url).origin;
  try {
    const get = async (path) => {
      const res = await fetch(origin + path, { redirect: 'manual' });
      return { status: res.status, body: await res.text(), headers: res.headers };
    };
    const page = await get('/web/');
    assert.equal(page.status, 200);
    assert.equal(page.body, '<p>demo</p>');
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    // the cards too: the page's limitations note links models/*.md
    for (const ok of ['/wasm/emoxnet.js', '/wasm/dist/emoxnet-simd.wasm', '/models/m.emx', '/models/m.md']) {
      assert.equal((await get(ok)).status, 200, ok);
    }
    const wasm = await get('/wasm/dist/emoxnet-simd.wasm');
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    for (const bad of ['/build/CMakeCache.txt', '/training/train.py', '/wasm/emx_wasm.c', '/models/m.txt',
      '/web/escape/secret.txt', '/web/build-link/CMakeCache.txt', '/models/secret.emx', '/package.json',
      '/web/../build/CMakeCache.txt', '/%2e%2e/etc/passwd']) {
      const r = await get(bad);
      assert.ok(r.status === 404 || r.status === 403, `${bad}: ${r.status}`);
      assert.ok(!/-CONTENT/.test(r.body), `${bad} leaked its contents`);
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    }
  } finally {
    server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
