// The live demo (web/) in a real browser: Debian's Chromium, headless, driven by playwright-core,
// with a fake camera playing a y4m built from known FER+ Valid faces (make-y4m.js). Checks that
// the page finds both faces and labels the clearly happy one "happiness", the failure states
// (permission denied, no camera, file://, insecure origin, model failing to load, ensemble
// failing to load), switching to the ensemble, the relaxed-SIMD build and the SIMD128 and
// non-SIMD fallbacks, the photo path, and the phone-sized layout; screenshots go to
// build/screenshots/ (git-ignored). Setup: harness.js.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, PLACES } from './make-y4m.js';
import { SHOTS, btest, ftest, demoHarness, listedFaces, waitForFaces, checkFaces } from './harness.js';

const h = demoHarness();
const openPage = (...a) => h.openPage(...a);

ftest('camera: finds every face, labels the happy one, shows fps, ms and 8 bars per face', async () => {
  const { context, page, logs } = await openPage(h.camBrowser);
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    // let the smoothed scores settle over a few frames
    await page.waitForTimeout(1500);
    checkFaces(await listedFaces(page));
    assert.match(await page.textContent('#fps'), /^\d+(\.\d)?$/);
    assert.match(await page.textContent('#ms'), /^\d+(\.\d)?$/);
    // Chromium >= 114 runs relaxed SIMD: the page picks that build (fused multiply-add)
    assert.match(await page.textContent('#backend'), /Lite · wasm relaxed/);
    assert.equal(await page.locator('#faces li').first().getByRole('meter').count(), 8);
    const happy = page.locator('#faces li[data-label="happiness"]').first();
    assert.ok(Number(await happy.getByRole('meter', { name: 'happiness' }).getAttribute('aria-valuenow')) >= 50);
    assert.equal(await page.locator('#error').isHidden(), true, await page.textContent('#error'));
    await page.screenshot({ path: join(SHOTS, 'demo-desktop.png') });

    // smoothing off keeps working
    await page.getByLabel('Smooth over frames').uncheck();
    await page.waitForTimeout(800);
    checkFaces(await listedFaces(page));

    // heat maps: every face gets its class activation map drawn over it
    await page.getByLabel('Show where the model looks').check();
    await page.waitForFunction((k) => Number(document.body.dataset.explained) >= k, PLACES.length, { timeout: 30000 });
    checkFaces(await listedFaces(page));
    await page.evaluate(() => window.scrollTo(0, 0)); // checking the box scrolled down to it
    await page.screenshot({ path: join(SHOTS, 'demo-explain.png') });
    await page.getByLabel('Show where the model looks').uncheck();

    // switch to the ensemble (models/emoxnet.emx): it loads, and labels the same faces
    await page.selectOption('#model', 'ensemble');
    await page.waitForSelector('body[data-model="ensemble"]', { timeout: 60000 });
    assert.match(await page.textContent('#backend'), /^Ensemble · wasm relaxed/);
    assert.match(await page.textContent('#modelInfo'), /^EmoXNet\b/);
    assert.equal(await page.inputValue('#model'), 'ensemble');
    await page.waitForSelector('body[data-faces-model="ensemble"]', { timeout: 60000 });
    await waitForFaces(page, 2, logs);
    await page.waitForTimeout(1500);
    checkFaces(await listedFaces(page));
    assert.equal(await page.locator('#faces li').first().getByRole('meter').count(), 8);
    assert.equal(await page.locator('#error').isHidden(), true, await page.textContent('#error'));
    await page.screenshot({ path: join(SHOTS, 'demo-ensemble.png') });

    // snapshot: a PNG download
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save snapshot' }).click()]);
    assert.match(download.suggestedFilename(), /^emoxnet-.*\.png$/);
  } finally {
    await context.close();
  }
});

ftest('ensemble failing to load (404): a clear message, and Lite keeps running', async () => {
  const { context, page, logs } = await openPage(h.camBrowser, { path: null });
  try {
    await page.route('**/models/emoxnet.emx', (r) => r.fulfill({ status: 404, body: 'gone' }));
    // asked for at start (?model=ensemble): the page says so and falls back to Lite
    await page.goto(h.url + '?model=ensemble');
    await page.waitForSelector('#error[data-kind="model"]:not([hidden])', { timeout: 30000 });
    assert.match(await page.textContent('#error'), /ensemble model is not available.*Falling back to Lite.*HTTP 404/i);
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    // a switch that fails keeps the current model running
    await page.selectOption('#model', 'ensemble');
    await page.waitForFunction(() => /Still using Lite/.test(document.getElementById('error').textContent), null, { timeout: 30000 });
    assert.match(await page.textContent('#error'), /ensemble model is not available.*Still using Lite.*HTTP 404/i);
    assert.equal(await page.getAttribute('#error', 'data-kind'), 'model');
    assert.equal(await page.inputValue('#model'), 'lite');
    assert.match(await page.textContent('#backend'), /^Lite · wasm relaxed/);
    await page.screenshot({ path: join(SHOTS, 'demo-ensemble-missing.png') });
    const ms = await page.textContent('#ms');
    await page.waitForFunction((v) => document.getElementById('ms').textContent !== v, ms, { timeout: 30000 });
    await page.waitForTimeout(800);
    assert.equal(await page.getAttribute('body', 'data-faces-model'), 'lite');
    checkFaces(await listedFaces(page));
  } finally {
    await context.close();
  }
});

btest('camera permission denied: the page says so and how to fix it', async () => {
  const { context, page } = await openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await page.waitForSelector('#error[data-kind="camera-denied"]:not([hidden])', { timeout: 30000 });
    assert.match(await page.getByRole('alert').textContent(), /permission was denied/i);
    await page.screenshot({ path: join(SHOTS, 'demo-denied.png') });
  } finally {
    await context.close();
  }
});

ftest('phone-sized portrait viewport (390x844): no sideways scrolling, faces listed', async () => {
  const { context, page, logs } = await openPage(h.camBrowser, { viewport: { width: 390, height: 844 } });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    await page.waitForTimeout(1000);
    checkFaces(await listedFaces(page));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);
    await page.screenshot({ path: join(SHOTS, 'demo-phone-390x844.png') });
    await page.screenshot({ path: join(SHOTS, 'demo-phone-390x844-full.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

ftest('photo picker: analyses a still image without the camera', async () => {
  const { context, page, logs } = await openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.setInputFiles('#file', join(h.dir, 'faces.png'));
    await waitForFaces(page, 2, logs);
    checkFaces(await listedFaces(page));
    assert.equal(await page.textContent('#fps'), '–');
    await page.screenshot({ path: join(SHOTS, 'demo-photo.png') });
  } finally {
    await context.close();
  }
});

ftest('non-SIMD build (?simd=0): a notice, and the same faces', async () => {
  const { context, page, logs } = await openPage(h.camBrowser, { path: '?simd=0' });
  try {
    await page.waitForSelector('body[data-variant="scalar"]', { timeout: 30000 });
    assert.match(await page.textContent('#notice'), /non-SIMD/);
    await page.setInputFiles('#file', join(h.dir, 'faces.png'));
    await waitForFaces(page, 2, logs);
    checkFaces(await listedFaces(page));
  } finally {
    await context.close();
  }
});

ftest('SIMD128 build where relaxed SIMD would run (?relaxed=0): the same faces', async () => {
  const { context, page, logs } = await openPage(h.camBrowser, { path: '?relaxed=0' });
  try {
    await page.waitForSelector('body[data-variant="simd"]', { timeout: 30000 });
    assert.match(await page.textContent('#backend'), /^Lite · wasm simd/);
    await page.setInputFiles('#file', join(h.dir, 'faces.png'));
    await waitForFaces(page, 2, logs);
    checkFaces(await listedFaces(page));
  } finally {
    await context.close();
  }
});

btest('model failing to load: a clear message', async () => {
  const { context, page } = await openPage(h.camBrowser, { path: null });
  try {
    await page.route('**/models/emoxnet-lite.emx', (r) => r.fulfill({ status: 404, body: 'gone' }));
    await page.goto(h.url);
    await page.waitForSelector('#error[data-kind="model-fatal"]:not([hidden])', { timeout: 30000 });
    assert.match(await page.textContent('#error'), /expression model failed to load.*HTTP 404/);
    await page.unroute('**/models/emoxnet-lite.emx');
    await page.route('**/models/blazeface.emx', (r) => r.fulfill({ status: 404, body: 'gone' }));
    await page.reload();
    await page.waitForSelector('#error[data-kind="detector"]:not([hidden])', { timeout: 30000 });
    assert.match(await page.textContent('#error'), /face detector failed to load/);
  } finally {
    await context.close();
  }
});

btest('insecure origin and file://: the page explains what to do', async () => {
  const { context, page } = await openPage(h.camBrowser, { path: null });
  try {
    // http on a name other than localhost is not a secure context: no camera, photos still work
    await page.goto(h.url.replace('127.0.0.1', 'emoxnet.test'));
    await page.waitForSelector('#error[data-kind="insecure-origin"]:not([hidden])', { timeout: 30000 });
    assert.match(await page.textContent('#error'), /secure origin/);
    assert.equal(await page.isDisabled('#cameraBtn'), true);
    await page.goto(pathToFileURL(join(ROOT, 'web', 'index.html')).href);
    await page.waitForSelector('body[data-state="file-protocol"]');
    assert.match(await page.textContent('#error'), /file:\/\/.*npm start/);
  } finally {
    await context.close();
  }
});

btest('no camera: the page says so', async () => {
  const browser = await h.launch(['--use-fake-ui-for-media-stream']);
  try {
    const { page } = await openPage(browser);
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await page.waitForSelector('#error:not([hidden])', { timeout: 30000 });
    assert.equal(await page.getAttribute('#error', 'data-kind'), 'no-camera', await page.textContent('#error'));
    assert.match(await page.textContent('#error'), /No camera was found/);
  } finally {
    await browser.close();
  }
});
