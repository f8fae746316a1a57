// The example apps of examples/, as a new user gets them: the package packed with `npm pack`,
// installed from that tarball into a fresh copy of each app under build/examples/, built with
// the app's own tool (Vite, esbuild, webpack 5, tsc; none for the plain page and Node) and run:
// the web apps in Debian's Chromium (headless), the others in Node. Each must find the clearly
// happy face in a photo made from two FER+ Valid faces (tests/browser/make-y4m.js) and label it
// "happiness"; an app that fails to load a file, build, or classify fails its test.
//
// Installing = unpacking the tarball into node_modules/emoxnet (and linking its bin), which is
// all npm does for a package without dependencies or install scripts; `npm install` would also
// resolve each app's own devDependencies (vite, webpack, ...) from the registry, while here
// they come from the repository's devDependencies (found by walking up from build/examples/).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, haveData, makeScene, toPng, toY4m } from '../browser/make-y4m.js';
import { assertBuilt } from '../js/helpers.js';
import { serveStatic } from '../static-server.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const WORK = join(ROOT, 'build', 'examples');
const EXAMPLES = join(ROOT, 'examples');

let skipBrowser = null;
if (!existsSync(CHROMIUM)) {
  if (CI) throw new Error(`${CHROMIUM} is missing (CI=true): run scripts/setup.sh, which installs Debian's chromium`);
  skipBrowser = `${CHROMIUM} not found: install Debian's chromium (sh scripts/setup.sh)`;
}
const noData = haveData() ? null : 'FER+ Valid faces not found (set FERPLUS_DIR): no photo to classify';
const T = { timeout: 300000 };

let tarball;
let packedFiles;
let photo; // PNG bytes: the 640x480 scene with a happy and a surprised face
let browser;

before(async () => {
  assertBuilt();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', WORK, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  tarball = join(WORK, info.filename);
  packedFiles = info.files.map((f) => f.path);
  if (!noData) {
    const scene = await makeScene();
    photo = toPng(scene.rgb, scene.width, scene.height);
    // The same scene as Chromium's fake camera, for the video pages.
    writeFileSync(join(WORK, 'faces.y4m'), toY4m(scene.rgb, scene.width, scene.height));
  }
  if (!skipBrowser && !noData) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${join(WORK, 'faces.y4m')}`],
    });
  }
});

after(async () => {
  if (browser) await browser.close();
});

/** A fresh copy of examples/NAME with the packed package installed; returns its folder. */
function install(name, as = name) {
  const dir = join(WORK, as);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(EXAMPLES, name), dir, { recursive: true });
  const pkg = join(dir, 'node_modules', 'emoxnet');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync('../emoxnet/bin/emoxnet.js', join(dir, 'node_modules', '.bin', 'emoxnet'));
  return dir;
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Open url in Chromium; resolves to the faces the page reports (or fails with its error). */
async function facesInPage(url) {
  const page = await browser.newPage();
  await page.context().grantPermissions(['camera'], { origin: new URL(url).origin });
  const log = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, { timeout: 120000 });
    const { result, error, variant } = await page.evaluate(() => ({ ...document.body.dataset }));
    assert.equal(error, undefined, `${url}: ${error}\n${log.join('\n')}`);
    // Chromium >= 114 runs relaxed SIMD: the app must have found emoxnet-relaxed.wasm wherever its
    // bundler (or `emoxnet assets`) put it (the camera pages do not say)
    if (variant !== undefined) assert.equal(variant, 'relaxed', `${url}: the page ran the ${variant} build`);
    return JSON.parse(result);
  } finally {
    await page.close();
  }
}

function assertHappyFace(faces, where) {
  assert.ok(faces.length >= 1, `${where}: no face found`);
  assert.ok(faces.some((f) => f.label === 'happiness'), `${where}: no face labelled happiness: ${JSON.stringify(faces)}`);
}

function linesOfFaces(out) {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('the tarball holds the module, its types, .wasm builds, models, cards, LICENSE and README, nothing else', { skip: false }, () => {
  for (const f of ['wasm/emoxnet.js', 'wasm/emoxnet.d.ts', 'wasm/lib/model.js', 'wasm/lib/video-worker.js', 'wasm/dist/emoxnet-relaxed.wasm',
    'wasm/dist/emoxnet-simd.wasm', 'wasm/dist/emoxnet-scalar.wasm', 'models/emoxnet-lite.emx', 'models/emoxnet.emx', 'models/blazeface.emx',
    'models/emoxnet-lite.md', 'models/emoxnet.md', 'models/blazeface.md', 'bin/emoxnet.js', 'LICENSE', 'README.md', 'package.json']) {
    assert.ok(packedFiles.includes(f), `${f} is not in the tarball`);
  }
  for (const f of packedFiles) assert.doesNotMatch(f, /^(src|tests|training|web|examples|docs|build)\//, `${f} should not be packed`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.license, 'MIT');
  assert.deepEqual(pkg.dependencies ?? {}, {}, 'no runtime dependencies');
});

const wtest = (name, fn) => test(name, { ...T, skip: skipBrowser || noData || false }, fn);
const ntest = (name, fn) => test(name, { ...T, skip: noData || false }, fn);

wtest('examples/vite: vite build, served as built, classifies the face and follows the camera\'s faces in a worker', async () => {
  const dir = install('vite');
  mkdirSync(join(dir, 'public'), { recursive: true });
  writeFileSync(join(dir, 'public', 'face.png'), photo);
  run(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], dir);
  const server = await serveStatic(join(dir, 'dist'));
  try {
    assertHappyFace(await facesInPage(server.url), 'vite build');
    assertHappyFace(await facesInPage(server.url + 'video.html'), 'vite build, camera');
  } finally {
    await server.close();
  }
});

wtest('examples/vite: the vite dev server classifies the face in Chromium (no optimizeDeps.exclude)', async () => {
  const dir = install('vite', 'vite-dev');
  mkdirSync(join(dir, 'public'), { recursive: true });
  writeFileSync(join(dir, 'public', 'face.png'), photo);
  const { createServer } = await import('vite');
  const server = await createServer({ root: dir, logLevel: 'warn', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  try {
    assertHappyFace(await facesInPage(server.resolvedUrls.local[0]), 'vite dev');
    assertHappyFace(await facesInPage(server.resolvedUrls.local[0] + 'video.html'), 'vite dev, camera');
  } finally {
    await server.close();
  }
});

wtest('examples/webpack: webpack 5 build, no warnings, classifies the face and follows the camera\'s faces in a worker', async () => {
  const dir = install('webpack');
  writeFileSync(join(dir, 'face.png'), photo);
  const out = run('npm', ['run', 'build', '--silent'], dir);
  assert.doesNotMatch(out, /WARNING|Critical dependency|ERROR/, out);
  const server = await serveStatic(dir);
  try {
    assertHappyFace(await facesInPage(server.url), 'webpack');
    assertHappyFace(await facesInPage(server.url + 'video.html'), 'webpack, camera');
  } finally {
    await server.close();
  }
});

wtest('examples/esbuild: esbuild bundle + `emoxnet assets` + init({ baseUrl }) classifies the face in Chromium', async () => {
  const dir = install('esbuild');
  writeFileSync(join(dir, 'face.png'), photo);
  run('npm', ['run', 'build', '--silent'], dir);
  const server = await serveStatic(dir);
  try {
    assertHappyFace(await facesInPage(server.url), 'esbuild');
  } finally {
    await server.close();
  }
});

wtest('examples/plain: a <script type="module"> page without a bundler classifies the face in Chromium', async () => {
  const dir = install('plain');
  writeFileSync(join(dir, 'face.png'), photo);
  const server = await serveStatic(dir);
  try {
    assertHappyFace(await facesInPage(server.url), 'plain page');
  } finally {
    await server.close();
  }
});

ntest('examples/node: classifies the face in a PNG file (encoded bytes straight in); so does the installed CLI', () => {
  const dir = install('node');
  writeFileSync(join(dir, 'face.png'), photo);
  assertHappyFace(linesOfFaces(run(process.execPath, ['classify.mjs', 'face.png'], dir)), 'node');
  const cli = linesOfFaces(run(join(dir, 'node_modules', '.bin', 'emoxnet'), ['classify', 'face.png', '--json'], dir));
  assert.ok(JSON.stringify(cli).includes('happiness'), JSON.stringify(cli));
});

ntest('examples/typescript: compiles under strict (Node types; no DOM lib and no Node types; DOM), runs, classifies', () => {
  const dir = install('typescript');
  writeFileSync(join(dir, 'face.png'), photo);
  run('npm', ['run', 'build', '--silent'], dir);
  assertHappyFace(linesOfFaces(run(process.execPath, ['dist/classify.js', 'face.png'], dir)), 'typescript');
});
