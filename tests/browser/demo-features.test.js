// The live demo's additions of issue 19, in Chromium with the fake camera (setup: harness.js):
// per-face timelines and CSV/JSON export of what was recorded, the small-faces switch and
// detector settings, the camera picker (name and resolution), the group summary, heat-map
// opacity, the model menu's measured ms/face and the limitations note linking the cards.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeGroupScene, toPng } from './make-y4m.js';
import { ftest, demoHarness, waitForFaces } from './harness.js';
import { cardHeadline } from '../js/helpers.js';

const h = demoHarness();

ftest('camera: timelines, summary, camera name and resolution, ms/face in the model menu, CSV and JSON export', async () => {
  const { context, page, logs } = await h.openPage(h.camBrowser);
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    await page.waitForTimeout(1500);
    assert.match(await page.textContent('#summary'), /^1 of 2 (happy|surprised) · 1 (happy|surprised)$/);
    assert.match(await page.textContent('#camInfo'), /640×480/);
    // the picker: front, back, any, and now the camera by name; picking it restarts it there
    const facing = await page.$$eval('#cameraPick option:not([data-device])', (os) => os.map((o) => o.value));
    assert.deepEqual(facing, ['user', 'environment', 'any']);
    assert.ok(await page.locator('#cameraPick option[data-device]').count() >= 1);
    const device = await page.locator('#cameraPick option[data-device]').first().getAttribute('value');
    await page.selectOption('#cameraPick', device);
    await page.waitForFunction(() => document.body.dataset.camera === 'on' && document.querySelectorAll('#faces li').length === 2, null, { timeout: 30000 });
    assert.equal(await page.inputValue('#cameraPick'), device);
    await page.waitForTimeout(1000);
    // each face's timeline has lines drawn
    const inked = await page.$$eval('#faces li .timeline', (cs) => cs.map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    }));
    assert.equal(inked.length, 2);
    for (const n of inked) assert.ok(n > 50, `a timeline with ${n} pixels drawn`);
    // the model menu says what a face costs here, and the accuracy from the cards (their
    // headline "**NN.NN%** on n = 3191 images": a model shipped without the menu following fails;
    // web/app.js ACCURACY is the menu's one copy of them)
    const cardTop1 = (card) => cardHeadline(card).top1;
    const liteTop1 = cardTop1('emoxnet-lite.md'), ensTop1 = cardTop1('emoxnet.md');
    assert.match(await page.textContent('#model option[value="lite"]'), new RegExp(`^Lite · ${liteTop1.replace('.', '\\.')}% · \\d+(\\.\\d)? ms/face`));
    assert.match(await page.textContent('#model option[value="ensemble"]'), new RegExp(`^Ensemble · ${ensTop1.replace('.', '\\.')}%`));
    assert.match(await page.textContent('label[for="model"]'), /FER\+ Valid accuracy · time per face here/);

    const rows = Number(await page.textContent('#recorded'));
    assert.ok(rows >= 4, `${rows} rows recorded`);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const text = readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.equal(text[0], 'time_s,face,label,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,x,y,width,height,model,source');
    assert.ok(text.length - 1 >= rows);
    const cells = text[1].split(',');
    assert.equal(cells.length, 17);
    const probs = cells.slice(3, 11).map(Number);
    assert.ok(Math.abs(probs.reduce((s, v) => s + v, 0) - 1) < 0.01, `probabilities sum to ${probs}`);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const data = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.equal(data.classes.length, 8);
    assert.ok(data.rows.length >= rows);
    assert.ok(new Set(data.rows.map((r) => r.face)).size >= 2, 'rows of both faces');
    // Clear starts the recording again (the camera keeps adding rows)
    const before = Number(await page.textContent('#recorded'));
    await page.getByRole('button', { name: 'Clear' }).click();
    assert.ok(Number(await page.textContent('#recorded')) < before, 'Clear kept the rows');

    // detector settings reach the camera's frames while it runs (watchVideo's detect function)
    await page.locator('#threshold').fill('0.95');
    await page.waitForFunction(() => document.querySelectorAll('#faces li').length === 0, null, { timeout: 30000 });
    await page.locator('#threshold').fill('0.7');
    await waitForFaces(page, 2, logs);

    // the heat-map legend and opacity
    await page.getByLabel('Show where the model looks').check();
    await page.waitForFunction(() => Number(document.body.dataset.explained) >= 2, null, { timeout: 30000 });
    assert.equal(await page.isVisible('#heatOpacity'), true);
  } finally {
    await context.close();
  }
});

ftest('photo: the small-faces switch and the threshold; the limitations note links the model cards', async () => {
  const g = await makeGroupScene();
  const file = join(h.dir, 'group.png');
  writeFileSync(file, toPng(g.rgb, g.width, g.height));
  const { context, page } = await h.openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    const count = (n) => page.waitForFunction((k) => document.body.dataset.photoDone && document.querySelectorAll('#faces li').length === k, n, { timeout: 60000 });
    await page.setInputFiles('#file', file);
    await count(5);
    assert.match(await page.textContent('#summary'), /^5 of 5 happy$/);
    await page.selectOption('#tiles', 'never');
    await count(0);
    await page.selectOption('#tiles', 'photos');
    await count(5);
    // max faces
    await page.fill('#maxFaces', '2');
    await page.locator('#maxFaces').dispatchEvent('change');
    await count(2);
    await page.fill('#maxFaces', '16');
    await page.locator('#maxFaces').dispatchEvent('change');
    await count(5);
    // a threshold above every face's score
    await page.locator('#threshold').fill('0.95');
    await page.locator('#threshold').dispatchEvent('change');
    await count(0);
    assert.equal(await page.textContent('#thresholdOut'), '0.95');

    const links = await page.$$eval('#limits a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['../models/emoxnet-lite.md', '../models/emoxnet.md', '../models/blazeface.md']);
    for (const l of links) assert.equal((await page.request.get(new URL(l, h.url).href)).status(), 200);
    assert.match(await page.textContent('#limits'), /not an emotion/);
  } finally {
    await context.close();
  }
});

ftest('camera: every frame is analysed, the face list updated at most ~10 times a second (issue 20 goal 6)', async () => {
  const { context, page, logs } = await h.openPage(h.camBrowser);
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    const got = await page.evaluate(async () => {
      const times = [], starts = [];
      const mo = new MutationObserver(() => {
        times.push(performance.now());
        starts.push(Number(document.body.dataset.listedAt));
      });
      mo.observe(document.getElementById('faces'), { subtree: true, childList: true, attributes: true, characterData: true });
      const n0 = Number(document.body.dataset.analysed);
      await new Promise((r) => setTimeout(r, 3000));
      mo.disconnect();
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      const meanGap = (times[times.length - 1] - times[0]) / gaps.length;
      const startGaps = starts.slice(1).map((t, i) => t - starts[i]);
      return { updates: times.length, minGap: Math.min(...gaps), meanGap, minStartGap: Math.min(...startGaps), analysed: Number(document.body.dataset.analysed) - n0 };
    });
    assert.ok(got.updates >= 5, `the face list was updated ${got.updates} times in 3 s (${JSON.stringify(got)})`);
    // The app spaces list updates by LIST_MS (100 ms) from the start of the previous one. The
    // observer's callback comes when an update's render ends, and renders take longer on a
    // loaded machine: two callbacks 31 ms apart were seen under CI with training beside it,
    // the updates themselves 100 ms apart. So single gaps are checked between the starts the
    // app stamps (body data-listed-at; every callback must see a new one: one mutation batch
    // an update), the rate on the callbacks' mean gap: per-frame updates (30 fps: 33 ms) fail both.
    assert.ok(got.meanGap >= 95, `face list updated every ${got.meanGap.toFixed(0)} ms on average (${JSON.stringify(got)})`);
    assert.ok(got.minStartGap >= 99, `face list updates began ${got.minStartGap.toFixed(0)} ms apart (${JSON.stringify(got)})`);
    assert.ok(got.analysed >= got.updates, `${got.analysed} frames analysed for ${got.updates} list updates`);
  } finally {
    await context.close();
  }
});

ftest('settings: "favour rare expressions" reloads the model with its balance (Lite 0.8, ensemble 0.3) and back', async () => {
  const { context, page } = await h.openPage(h.camBrowser, { grant: false });
  try {
    await page.waitForSelector('body[data-model="lite"][data-balance="0"]', { timeout: 30000 });
    assert.equal(await page.isChecked('#rare'), false);
    await page.check('#rare');
    await page.waitForSelector('body[data-model="lite"][data-balance="0.8"]', { timeout: 30000 });
    assert.match(await page.textContent('#modelInfo'), /rare expressions favoured \(balance 0\.8\)/);
    await page.selectOption('#model', 'ensemble');
    await page.waitForSelector('body[data-model="ensemble"][data-balance="0.3"]', { timeout: 60000 });
    await page.uncheck('#rare');
    await page.waitForSelector('body[data-model="ensemble"][data-balance="0"]', { timeout: 60000 });
    assert.doesNotMatch(await page.textContent('#modelInfo'), /rare expressions/);
  } finally {
    await context.close();
  }
});
