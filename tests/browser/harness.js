// What the live demo's browser tests share: Debian's Chromium (headless, driven by
// playwright-core) with a fake camera playing a y4m of known FER+ Valid faces (make-y4m.js), the
// repository served by scripts/serve.js on a free port, and helpers to open the page and read
// the faces it lists. Without /usr/bin/chromium the tests skip (visibly), except under CI=true
// where they fail; the tests that look at faces also skip without FER+ (like tests/js/).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.js';
import { ROOT, VALID, PLACES, haveData, makeScene, toY4m, toPng } from './make-y4m.js';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CI = process.env.CI === 'true';
export const SHOTS = join(ROOT, 'build', 'screenshots');
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

let skipWhy = null;
if (!existsSync(CHROMIUM)) {
  if (CI) throw new Error(`${CHROMIUM} is missing (CI=true): run scripts/setup.sh, which installs Debian's chromium`);
  skipWhy = `${CHROMIUM} not found: install Debian's chromium (sh scripts/setup.sh) to run the browser tests`;
}
const noData = haveData() ? null : `FER+ Valid faces not found in ${VALID} (set FERPLUS_DIR)`;
/** A test of the page that needs no faces (failure states). */
export const btest = (name, fn) => test(name, { skip: skipWhy || false, timeout: 120000 }, fn);
/** A test that looks at faces (needs FER+). */
export const ftest = (name, fn) => test(name, { skip: skipWhy || noData || false, timeout: 120000 }, fn);

function blankScene() {
  return { rgb: new Uint8Array(640 * 480 * 3).fill(110), width: 640, height: 480 };
}

/**
 * Registers before/after hooks; the returned object is filled in by `before`: chromium,
 * dir (temp files: faces.y4m, faces.png), url and origin of the demo, camBrowser (fake camera,
 * no fake UI: camera permission is granted per context, or denied), scene.
 * fps: the fake camera's frame rate.
 */
export function demoHarness({ fps = 30 } = {}) {
  const h = {};
  before(async () => {
    if (skipWhy) {
      console.log(`# SKIP browser tests: ${skipWhy}`);
      return;
    }
    try {
      ({ chromium: h.chromium } = await import('playwright-core'));
    } catch (err) {
      throw new Error(`playwright-core is not installed (${err.message}): run sh scripts/setup.sh (npm ci)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    h.dir = mkdtempSync(join(tmpdir(), 'emoxnet-browser-'));
    if (noData) console.log(`# SKIP face tests: ${noData}`);
    h.scene = noData ? blankScene() : await makeScene();
    writeFileSync(join(h.dir, 'faces.y4m'), toY4m(h.scene.rgb, h.scene.width, h.scene.height, 10, fps));
    writeFileSync(join(h.dir, 'faces.png'), toPng(h.scene.rgb, h.scene.width, h.scene.height));
    ({ server: h.server, url: h.url } = await serve({ port: 0 }));
    h.origin = new URL(h.url).origin;
    h.camBrowser = await h.launch([
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${join(h.dir, 'faces.y4m')}`,
      '--host-resolver-rules=MAP emoxnet.test 127.0.0.1',
    ]);
  });
  after(async () => {
    await h.camBrowser?.close();
    h.server?.close();
    if (h.dir) rmSync(h.dir, { recursive: true, force: true });
  });
  h.launch = (extraArgs) => h.chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, ...extraArgs] });
  h.openPage = async (browser, { grant = true, viewport = { width: 1280, height: 860 }, path = '' } = {}) => {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    if (grant) await context.grantPermissions(['camera'], { origin: h.origin });
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    if (path !== null) await page.goto(h.url + path);
    return { context, page, logs };
  };
  return h;
}

/** The faces listed by the page: [{label, cx, cy}] in frame coordinates. */
export function listedFaces(page) {
  return page.$$eval('#faces li', (lis) => lis.map((li) => ({ label: li.dataset.label, cx: +li.dataset.cx, cy: +li.dataset.cy })));
}

export async function waitForFaces(page, n, logs) {
  try {
    await page.waitForFunction((k) => document.querySelectorAll('#faces li').length >= k, n, { timeout: 60000 });
  } catch (err) {
    const err2 = await page.textContent('#error');
    throw new Error(`no ${n} faces listed: ${err.message}\nerror box: ${err2}\nconsole:\n${logs.join('\n')}`);
  }
}

/** Each placed face is listed once, with its expected label. */
export function checkFaces(faces) {
  assert.equal(faces.length, PLACES.length, JSON.stringify(faces));
  for (const p of PLACES) {
    const f = faces.find((q) => q.cx > p.x && q.cx < p.x + p.size && q.cy > p.y && q.cy < p.y + p.size);
    assert.ok(f, `no face listed at ${p.x},${p.y}: ${JSON.stringify(faces)}`);
    if (p.expected === 'happiness') assert.equal(f.label, 'happiness', `the clearly happy face (${JSON.stringify(f)})`);
  }
}
