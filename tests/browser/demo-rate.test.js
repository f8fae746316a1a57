// Issue 19 item 5: the demo analyses each new camera frame once, not every screen refresh. A
// 5 fps fake camera (far slower than the analysis and the 60 Hz refresh) must give at most
// ~5 analyses a second, and the page must say so. Issue 20 goal 6: the camera view is drawn on
// a new video frame or new faces only, not on every screen refresh. Setup: harness.js.
import assert from 'node:assert/strict';
import { ftest, demoHarness, waitForFaces } from './harness.js';

const FPS = 5;
const h = demoHarness({ fps: FPS });

ftest(`5: a ${FPS} fps camera is analysed at most ${FPS} times a second`, async () => {
  const { context, page, logs } = await h.openPage(h.camBrowser);
  try {
    await page.waitForSelector('body[data-model="lite"]', { timeout: 30000 });
    // the camera view's draws of the video, counted
    await page.evaluate(() => {
      window.videoDraws = 0;
      const draw = CanvasRenderingContext2D.prototype.drawImage;
      CanvasRenderingContext2D.prototype.drawImage = function (src, ...a) {
        if (src instanceof HTMLVideoElement && this.canvas.id === 'canvas') window.videoDraws++;
        return draw.call(this, src, ...a);
      };
    });
    await page.getByRole('button', { name: 'Start camera' }).click();
    await waitForFaces(page, 2, logs);
    await page.waitForTimeout(2000);
    const shown = Number(await page.textContent('#fps'));
    assert.ok(shown > 0 && shown <= FPS * 1.25, `the page shows ${shown} fps for a ${FPS} fps camera`);
    const count = () => page.evaluate(() => [Number(document.body.dataset.analysed), window.videoDraws]);
    const [n0, d0] = await count();
    const t0 = Date.now();
    await page.waitForTimeout(4000);
    const [n1, d1] = await count();
    const rate = (n1 - n0) / ((Date.now() - t0) / 1000);
    assert.ok(rate > 0, 'no analyses counted');
    assert.ok(rate <= FPS * 1.25, `${rate.toFixed(1)} analyses/s from a ${FPS} fps camera`);
    // a new frame or new faces (each at most 5 a second) redraws the view, a screen refresh alone does not
    const draws = (d1 - d0) / ((Date.now() - t0) / 1000);
    assert.ok(draws > 0, 'the camera view was not drawn');
    assert.ok(draws <= 2 * FPS * 1.25, `the view drawn ${draws.toFixed(1)} times a second for a ${FPS} fps camera`);
  } finally {
    await context.close();
  }
});
