// The live demo on phones and a laptop (issue 19): at 390x844 (portrait), 844x390 (landscape)
// and 1280x800 the whole picture is on screen and the results sit beside it or just under it,
// without scrolling; a group photo gets compact rows and labels that do not overlap.
// Screenshots: build/screenshots/demo-<w>x<h>-camera.png and -group.png. Setup: harness.js.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, makeGroupScene, toPng } from './make-y4m.js';
import { SHOTS, ftest, demoHarness, waitForFaces } from './harness.js';

const h = demoHarness();
const VIEWPORTS = [[390, 844], [844, 390], [1280, 800]];

/** Rectangles (viewport px) of the canvas and the first face card, and the viewport's size. */
const layout = (page) => page.evaluate(() => {
  const r = (el) => el && JSON.parse(JSON.stringify(el.getBoundingClientRect()));
  const first = [document.getElementById('summary'), document.getElementById('facesTitle')].find((e) => !e.hidden);
  return { canvas: r(document.getElementById('canvas')), face: r(document.querySelector('#faces li')), results: r(first), w: innerWidth, h: innerHeight, scrollW: document.documentElement.scrollWidth };
});

for (const [width, height] of VIEWPORTS) {
  ftest(`${width}x${height}: the picture whole on screen, the results beside or just under it`, async () => {
    const { context, page, logs } = await h.openPage(h.camBrowser, { viewport: { width, height } });
    try {
      await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
      await page.getByRole('button', { name: 'Start camera' }).click();
      await waitForFaces(page, 2, logs);
      await page.waitForTimeout(800);
      await page.screenshot({ path: join(SHOTS, `demo-${width}x${height}-camera.png`) });
      const l = await layout(page);
      assert.ok(l.scrollW <= l.w, `page ${l.scrollW - l.w}px wider than the screen`);
      assert.ok(l.canvas.bottom <= l.h + 1 && l.canvas.right <= l.w + 1, `picture cut off: ${JSON.stringify(l.canvas)}`);
      // the first face's card starts on the first screen: beside the picture or under it
      assert.ok(l.face.top < l.h - 40, `results start at ${l.face.top}px of ${l.h}`);
      // (the results: the group summary or the faces heading, then the cards)
      const beside = l.results.left >= l.canvas.right - 1;
      const under = l.results.top >= l.canvas.bottom - 1 && l.results.top - l.canvas.bottom < 120;
      assert.ok(beside || under, `results neither beside nor just under the picture: ${JSON.stringify(l)}`);

      const g = await makeGroupScene();
      const file = join(h.dir, `group-${width}.png`);
      writeFileSync(file, toPng(g.rgb, g.width, g.height));
      await page.setInputFiles('#file', file);
      await page.waitForFunction((n) => document.querySelectorAll('#faces li').length === n, GROUP.at.length, { timeout: 60000 });
      assert.equal(await page.locator('#faces.compact').count(), 1, 'compact rows for many faces');
      const rowH = await page.evaluate(() => document.querySelector('#faces li').getBoundingClientRect().height);
      assert.ok(rowH <= 48, `a compact row is ${rowH}px tall`);
      const labels = JSON.parse(await page.getAttribute('#canvas', 'data-labels'));
      assert.equal(labels.length, GROUP.at.length);
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const [a, b] = [labels[i], labels[j]];
          assert.ok(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `labels overlap: ${JSON.stringify([a, b])}`);
        }
      }
      await page.screenshot({ path: join(SHOTS, `demo-${width}x${height}-group.png`) });
    } finally {
      await context.close();
    }
  });
}
