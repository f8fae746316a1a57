// The live demo's broken items of issue 19, each asserted to stay fixed, in Chromium with the
// fake camera (setup: harness.js): 1 fatal load errors disable the camera and photos; 2 Stop
// camera clears the results; 3 photos find small faces (tiles chosen from the image size);
// 4 no face on a blurred non-face the detector scores 0.67; 6 each heat map is drawn over the
// crop C classified (turned with it), masked to the face, with a legend; 7 notices do not
// move the page, and messages name the real address.
// (5, one analysis per camera frame, needs a slow camera: demo-rate.test.js.)
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, GROUP, makeGroupScene, makeBlobs, makeScene, toPng } from './make-y4m.js';
import { load } from '../../wasm/emoxnet.js';
import { SHOTS, btest, ftest, demoHarness, listedFaces, waitForFaces } from './harness.js';

const h = demoHarness();

/** Opens a photo in the page and waits until its analysis is listed; returns the faces. */
async function analysePhoto(page, file) {
  await page.setInputFiles('#file', file);
  await page.waitForFunction((name) => document.body.dataset.photoDone === name, file.split('/').pop(), { timeout: 60000 });
  return listedFaces(page);
}

btest('1: after a fatal load error, Start camera and photos stay disabled and the error stays', async () => {
  const { context, page } = await h.openPage(h.camBrowser, { path: null });
  try {
    await page.route('**/models/emoxnet-lite.emx', (r) => r.fulfill({ status: 404, body: 'gone' }));
    await page.goto(h.url);
    await page.waitForSelector('#error[data-kind="model-fatal"]:not([hidden])', { timeout: 30000 });
    const text = await page.textContent('#error');
    assert.equal(await page.isDisabled('#cameraBtn'), true, 'Start camera must be disabled');
    assert.equal(await page.isDisabled('#file'), true, 'the photo picker must be disabled');
    await page.locator('#cameraBtn').click({ force: true }).catch(() => {});
    await page.waitForTimeout(500);
    assert.equal(await page.getAttribute('body', 'data-camera'), null, 'the camera must not start');
    assert.equal(await page.textContent('#error'), text, 'the error must stay');

    // the detector, the WebAssembly build or the worker missing is as fatal
    await page.unroute('**/models/emoxnet-lite.emx');
    for (const [pattern, kind] of [['**/models/blazeface.emx', 'detector'], ['**/wasm/dist/*.wasm', 'model-fatal'], ['**/web/worker.js', 'worker']]) {
      await page.route(pattern, (r) => r.fulfill({ status: 404, body: 'gone' }));
      await page.reload();
      await page.waitForSelector(`#error[data-kind="${kind}"]:not([hidden])`, { timeout: 30000 });
      assert.equal(await page.isDisabled('#cameraBtn'), true, `Start camera must be disabled (${pattern} missing)`);
      assert.equal(await page.isDisabled('#file'), true, `the photo picker must be disabled (${pattern} missing)`);
      await page.unroute(pattern);
    }
  } finally {
    await context.close();
  }
});

ftest('2: Stop camera clears the faces, the count and the timings, and late frames stay out', async () => {
  const { context, page, logs } = await h.openPage(h.camBrowser);
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    await page.getByRole('button', { name: 'Stop camera' }).click();
    const check = async (when) => {
      assert.equal(await page.locator('#faces li').count(), 0, `face cards ${when}`);
      assert.equal(await page.textContent('#faceCount'), '0', `face count ${when}`);
      assert.equal(await page.textContent('#fps'), '–', `fps ${when}`);
      assert.equal(await page.textContent('#ms'), '–', `ms/frame ${when}`);
      assert.equal(await page.isVisible('#placeholder'), true, `placeholder ${when}`);
    };
    await check('right after Stop');
    await page.waitForTimeout(1500); // a frame in the worker would be back by now
    await check('1.5 s after Stop');
  } finally {
    await context.close();
  }
});

ftest('3: a group photo with faces at 1/7 of its height: every face found (tiles from the image size)', async () => {
  const g = await makeGroupScene();
  const file = join(h.dir, 'group.png');
  writeFileSync(file, toPng(g.rgb, g.width, g.height));
  const { context, page } = await h.openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    const faces = await analysePhoto(page, file);
    assert.equal(faces.length, GROUP.at.length, JSON.stringify(faces));
    for (const [x, y] of GROUP.at) {
      assert.ok(faces.some((f) => f.cx > x && f.cx < x + GROUP.size && f.cy > y && f.cy < y + GROUP.size), `no face at ${x},${y}`);
    }
    await page.screenshot({ path: join(SHOTS, 'demo-group.png') });
    // labels on the photo never overlap each other
    const boxes = JSON.parse(await page.getAttribute('#canvas', 'data-labels'));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        assert.ok(apart, `labels ${i + 1} and ${j + 1} overlap: ${JSON.stringify([a, b])}`);
      }
    }
  } finally {
    await context.close();
  }
});

btest('4: a blurred non-face the detector scores 0.67 gets no face box', async () => {
  const b = makeBlobs();
  const file = join(h.dir, 'blobs.png');
  writeFileSync(file, toPng(b.rgb, b.width, b.height));
  const { context, page } = await h.openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    const faces = await analysePhoto(page, file);
    assert.deepEqual(faces, []);
    assert.equal(await page.isVisible('#noFaces'), true);
  } finally {
    await context.close();
  }
});

ftest('6: each heat map is drawn over the crop C classified (turned with it), masked to the face, with a legend', async () => {
  // The crops emx_analyze reports for the photos, computed here in Node with the page's photo
  // settings (threshold 0.7, tiles auto): the page must draw each map exactly there.
  const turned = await makeScene({ turn: 20 });
  writeFileSync(join(h.dir, 'turned.png'), toPng(turned.rgb, turned.width, turned.height));
  const model = await load('lite');
  const expected = {};
  for (const [name, sc] of [['faces.png', h.scene], ['turned.png', turned]]) {
    const found = await model.analyze({ data: sc.rgb, width: sc.width, height: sc.height, channels: 3 }, { scoreThreshold: 0.7, tiles: 'auto' });
    expected[name] = found.map((f) => f.crop).sort((p, q) => p.cx - q.cx);
  }
  model.dispose();
  const { context, page, logs } = await h.openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    // a pixel just inside the corner of each map's turned square, and one at the face's
    // centre, maps on and off (the same crops)
    const probe = () => page.evaluate(() => {
      const c = document.getElementById('canvas');
      const px = (x, y) => [...c.getContext('2d').getImageData(Math.round(x), Math.round(y), 1, 1).data];
      const at = (r, u, v) => [r.cx + u * r.side * Math.cos(r.angle) - v * r.side * Math.sin(r.angle), r.cy + u * r.side * Math.sin(r.angle) + v * r.side * Math.cos(r.angle)];
      return JSON.parse(c.dataset.heatCrops || '[]').map((r) => ({ corner: px(...at(r, -0.46, -0.46)), centre: px(...at(r, 0, 0.05)) }));
    });
    const diff = (a, b) => Math.max(...a.slice(0, 3).map((v, k) => Math.abs(v - b[k])));
    assert.equal(await page.isVisible('#heatLegend'), false, 'no legend while maps are off');
    await page.getByLabel('Show where the model looks').check();
    for (const name of ['faces.png', 'turned.png']) {
      await page.setInputFiles('#file', join(h.dir, name));
      await page.waitForFunction((n) => document.body.dataset.photoDone === n, name, { timeout: 60000 });
      await page.waitForFunction(() => Number(document.body.dataset.explained) >= 2, null, { timeout: 30000 });
      await page.waitForFunction(() => JSON.parse(document.getElementById('canvas').dataset.heatCrops || '[]').length >= 2);
      const crops = await page.getAttribute('#canvas', 'data-heat-crops');
      const drawn = JSON.parse(crops).sort((p, q) => p.cx - q.cx);
      assert.equal(drawn.length, expected[name].length, `${name}: one map per face`);
      drawn.forEach((d, i) => {
        const e = expected[name][i];
        const near = Math.abs(d.cx - e.cx) < 1 && Math.abs(d.cy - e.cy) < 1 && Math.abs(d.side - e.side) < 1 && Math.abs(d.angle - e.angle) < 0.01;
        assert.ok(near, `${name}: map ${i + 1} drawn at ${JSON.stringify(d)}, the crop C classified is ${JSON.stringify(e)}`);
      });
      const on = await probe();
      // maps off: the photo is analysed again without them; once that answer is drawn, the
      // same places are probed (the crops put back for probe() only)
      await page.getByLabel('Show where the model looks').uncheck();
      await page.waitForFunction(() => document.body.dataset.explained === '0' && !document.getElementById('canvas').dataset.heatCrops, null, { timeout: 30000 });
      await page.evaluate((v) => { document.getElementById('canvas').dataset.heatCrops = v; }, crops);
      const off = await probe();
      await page.evaluate(() => { delete document.getElementById('canvas').dataset.heatCrops; });
      for (let i = 0; i < on.length; i++) {
        assert.ok(diff(on[i].corner, off[i].corner) <= 6, `${name}: map ${i + 1} tints the corner of its square (${on[i].corner} vs ${off[i].corner})`);
        assert.ok(diff(on[i].centre, off[i].centre) > 6, `${name}: map ${i + 1} does not tint the face (${on[i].centre} vs ${off[i].centre})`);
      }
      // maps on again: wait for the analysis that brings them
      await page.getByLabel('Show where the model looks').check();
      await page.waitForFunction(() => Number(document.body.dataset.explained) >= 2 && JSON.parse(document.getElementById('canvas').dataset.heatCrops || '[]').length >= 2, null, { timeout: 30000 });
      // the opacity slider: the map over the face fades with it
      const tintAt = async (v) => {
        await page.locator('#heatOpacity').fill(String(v));
        await page.locator('#heatOpacity').dispatchEvent('input');
        return (await probe())[0].centre;
      };
      const strong = await tintAt(100);
      const faint = await tintAt(10);
      assert.ok(diff(strong, off[0].centre) > 2 * diff(faint, off[0].centre), `opacity 100: ${strong}, 10: ${faint}, no map: ${off[0].centre}`);
      await tintAt(70);
      if (name === 'turned.png') {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(SHOTS, 'demo-explain-turned.png') });
      }
    }
    // the turned face's map is turned: its crop's angle moved with the face (by about 20 degrees)
    const turn = (expected['turned.png'][1].angle - expected['faces.png'][1].angle) * (180 / Math.PI);
    assert.ok(turn > 10 && turn < 35, `the right face's crop turned by ${turn} degrees`);
    assert.equal(await page.isVisible('#heatLegend'), true, 'a legend while maps are on');
    assert.match(await page.textContent('#heatLegend'), /decided/i);
  } finally {
    await context.close();
  }
});

btest('7: a notice does not move the page; messages name the address the page was opened at', async () => {
  const { context, page } = await h.openPage(h.camBrowser, { path: null });
  try {
    await page.goto(h.url);
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    const top = () => page.evaluate(() => document.getElementById('view').getBoundingClientRect().top);
    const before = await top();
    await page.getByLabel('Smooth over frames').uncheck();
    await page.waitForSelector('#notice:not([hidden])');
    assert.equal(await top(), before, 'the notice pushed the camera view down');

    const port = new URL(h.url).port;
    await page.goto(h.url.replace('127.0.0.1', 'emoxnet.test'));
    await page.waitForSelector('#error[data-kind="insecure-origin"]:not([hidden])', { timeout: 30000 });
    const text = await page.textContent('#error');
    assert.ok(text.includes(`127.0.0.1:${port}`) || text.includes(`localhost:${port}`), text);
    if (port !== '8080') assert.doesNotMatch(text, /:8080/);
    await page.goto(pathToFileURL(join(ROOT, 'web', 'index.html')).href);
    await page.waitForSelector('body[data-state="file-protocol"]');
    assert.doesNotMatch(await page.textContent('#error'), /:8080/);
  } finally {
    await context.close();
  }
});
