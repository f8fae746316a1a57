// Node 20 can deadlock while an asynchronous WebAssembly compile or instantiate is all a
// process waits for (nodejs/node#54918: the idle event loop blocks the main thread on the
// background tasks, and a background TurboFan job waits on it to collect garbage). Our CI's
// Node stage stalled for it twice in tests/js/classify.test.js (`gdb -p PID -batch -ex "thread
// apply all bt"` on a hung run: the main thread in NodePlatform::DrainTasks, a compile job in
// CollectionBarrier::AwaitCollectionBackground). The loader keeps the event loop alive with a
// timer while such a promise is pending (wasm/lib/wasm.js keepLoopAlive); these tests check that
// it does, which a hang that strikes 1 run in 20-40 could not show reliably.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../../wasm/emoxnet.js';
import { keepLoopAlive } from '../../wasm/lib/wasm.js';
import { ROOT, makeDenseModel } from './helpers.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('keepLoopAlive: a timer while the promise is pending, none after it settles either way', async () => {
  const base = timers();
  let resolve;
  const p = keepLoopAlive(new Promise((r) => (resolve = r)));
  await tick();
  assert.equal(timers(), base + 1);
  resolve(42);
  assert.equal(await p, 42);
  assert.equal(timers(), base);
  let reject;
  const q = keepLoopAlive(new Promise((_, r) => (reject = r)));
  await tick();
  assert.equal(timers(), base + 1);
  reject(new Error('no'));
  await assert.rejects(q, /no/);
  assert.equal(timers(), base);
});

// WebAssembly.compile and .instantiate held until the test lets them go: what is alive while
// load() waits on each.
async function aliveDuring(name, start) {
  const real = WebAssembly[name];
  let release;
  const gate = new Promise((r) => (release = r));
  WebAssembly[name] = (...args) => gate.then(() => real.apply(WebAssembly, args));
  try {
    const base = timers();
    const loading = start();
    let alive = 0;
    for (let i = 0; i < 50 && alive === 0; i++) {
      await tick();
      alive = timers() - base;
    }
    release();
    const model = await loading;
    model.dispose();
    return { alive, after: timers() - base };
  } finally {
    WebAssembly[name] = real;
  }
}

test('load(): the event loop stays alive while the wasm module compiles and instantiates', async () => {
  const wasmBinary = readFileSync(join(ROOT, 'wasm/dist/emoxnet-scalar.wasm'));
  const bytes = makeDenseModel().bytes;
  // a fresh copy of the bytes each time: compiled modules are cached by their source
  const compiling = await aliveDuring('compile', () => load(bytes, { wasmBinary: new Uint8Array(wasmBinary) }));
  assert.deepEqual(compiling, { alive: 1, after: 0 });
  const instantiating = await aliveDuring('instantiate', () => load(bytes, { wasmBinary: new Uint8Array(wasmBinary) }));
  assert.deepEqual(instantiating, { alive: 1, after: 0 });
  // from a file (the package's own path): a copy at a new place, which no cache holds yet
  const copy = join(mkdtempSync(join(tmpdir(), 'emx-loop-')), 'emoxnet-scalar.wasm');
  copyFileSync(join(ROOT, 'wasm/dist/emoxnet-scalar.wasm'), copy);
  const fromFile = await aliveDuring('compile', () => load(bytes, { simd: false, locateFile: () => copy }));
  assert.deepEqual(fromFile, { alive: 1, after: 0 });
});
