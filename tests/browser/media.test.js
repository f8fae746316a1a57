// What a page holds goes straight into the package, in Debian's Chromium: an <img>, a canvas,
// an OffscreenCanvas, an ImageBitmap, a VideoFrame, ImageData and a playing <video> give the
// same faces as the raw pixels; media without pixels yet, and unsupported values, give typed
// errors; watchVideo() follows the faces of a video in the page and in a Web Worker.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ROOT, haveData, makeScene, toPng, PLACES } from './make-y4m.js';
import { serveStatic } from '../static-server.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CI = process.env.CI === 'true';
let skipWhy = null;
if (!existsSync(CHROMIUM)) {
  if (CI) throw new Error(`${CHROMIUM} is missing (CI=true): run scripts/setup.sh`);
  skipWhy = `${CHROMIUM} not found`;
}
if (!skipWhy && !haveData()) skipWhy = 'FER+ Valid faces not found (set FERPLUS_DIR)';

let browser;
let server;
let page;

before(async () => {
  if (skipWhy) return;
  const scene = await makeScene();
  const html = '<!doctype html><html><body><canvas id="c"></canvas></body></html>';
  server = await serveStatic(ROOT, { spaFallback: false, extra: { '/face.png': [toPng(scene.rgb, scene.width, scene.height), 'image/png'], '/': [html, 'text/html'] } });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'] });
  page = await browser.newPage();
  await page.goto(server.url);
  // A <video> playing the photo: a canvas redrawn every 50 ms, captured as a stream.
  await page.evaluate(async () => {
    const img = new Image();
    img.src = '/face.png';
    await img.decode();
    const c = document.getElementById('c');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    setInterval(() => ctx.drawImage(img, 0, 0), 50);
    ctx.drawImage(img, 0, 0);
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = c.captureStream(20);
    document.body.append(video);
    await video.play();
    while (video.readyState < 2) await new Promise((r) => setTimeout(r, 20));
    Object.assign(window, { img, video, canvas: c });
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

const T = { skip: skipWhy || false, timeout: 120000 };
const summary = (faces) => faces.map((f) => f.label);

test('every media input gives the faces the raw pixels give', T, async () => {
  const got = await page.evaluate(async () => {
    const { load } = await import('/wasm/emoxnet.js');
    const model = await load('lite');
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    c.getContext('2d').drawImage(img, 0, 0);
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    const off = new OffscreenCanvas(c.width, c.height);
    off.getContext('2d').drawImage(img, 0, 0);
    const bitmap = await createImageBitmap(img);
    const frame = new VideoFrame(bitmap, { timestamp: 0 });
    const bytes = new Uint8Array(await (await fetch('/face.png')).arrayBuffer());
    const labels = async (x) => (await model.analyze(x)).map((f) => f.label);
    const out = {
      raw: await labels({ data: data.data, width: data.width, height: data.height }),
      imageData: await labels(data),
      img: await labels(img),
      canvas: await labels(c),
      offscreen: await labels(off),
      bitmap: await labels(bitmap),
      videoFrame: await labels(frame),
      png: await labels(bytes),
      video: await labels(video),
    };
    const box = (await model.analyze(data))[0].box;
    out.classifyImgEqualsRaw = JSON.stringify(model.classify(img, box)) === JSON.stringify(model.classify(data, box));
    out.explainImg = model.explain(img, box).explained;
    frame.close();
    model.dispose();
    return out;
  });
  const want = PLACES.map((p) => p.expected);
  assert.deepEqual(got.raw.slice().sort(), want.slice().sort(), JSON.stringify(got));
  for (const [k, v] of Object.entries(got)) {
    if (Array.isArray(v)) assert.deepEqual(v, got.raw, `${k}: ${JSON.stringify(got)}`);
  }
  assert.equal(got.classifyImgEqualsRaw, true);
  assert.ok(PLACES.some((p) => p.expected === got.explainImg));
});

test('media without pixels yet and unsupported values give typed errors', T, async () => {
  const got = await page.evaluate(async () => {
    const { load } = await import('/wasm/emoxnet.js');
    const model = await load('lite');
    const code = (fn) => {
      try {
        fn();
        return 'no error';
      } catch (e) {
        return `${e.name}:${e.code}`;
      }
    };
    // The same server under another host name is another origin: without CORS its image
    // taints the canvas it is drawn on, and its pixels cannot be read.
    const foreign = new Image();
    foreign.src = location.href.replace('127.0.0.1', 'localhost') + 'face.png';
    await foreign.decode();
    let crossOrigin;
    try {
      model.classify(foreign);
      crossOrigin = 'no error';
    } catch (e) {
      crossOrigin = `${e.name}:${e.code}:${/cross-origin/.test(e.message)}`;
    }
    // ... and the next image still reads (the scratch canvas is not left tainted).
    const afterwards = code(() => model.classify(img));
    const out = {
      crossOrigin,
      afterwards,
      unloadedImg: code(() => model.classify(new Image())),
      videoWithoutData: code(() => model.classify(document.createElement('video'))),
      string: code(() => model.classify('/face.png')),
      div: code(() => model.classify(document.createElement('div'))),
      emptyCanvas: code(() => model.classify(Object.assign(document.createElement('canvas'), { width: 0 }))),
    };
    model.dispose();
    return out;
  });
  assert.deepEqual(got, {
    crossOrigin: 'EmxError:IMAGE:true',
    afterwards: 'no error',
    unloadedImg: 'EmxError:IMAGE',
    videoWithoutData: 'EmxError:IMAGE',
    string: 'EmxError:INVALID_ARG',
    div: 'EmxError:INVALID_ARG',
    emptyCanvas: 'EmxError:IMAGE',
  });
});

for (const [worker, maxSide] of [[false, 320], [true, 640]]) {
  test(`watchVideo() follows the faces of a playing video${worker ? ' in a Web Worker' : ''} (maxSide ${maxSide}): ids kept, boxes, crops and heat maps in video pixels`, T, async () => {
    const got = await page.evaluate(async ([useWorker, side]) => {
      const { watchVideo } = await import('/wasm/emoxnet.js');
      const frames = [];
      let error = null;
      const w = watchVideo(video, {
        worker: useWorker,
        maxSide: side,
        explain: true,
        onFaces: (faces, info) => frames.push({
          faces: faces.map((f) => ({ id: f.id, label: f.label, age: f.age, cx: f.box.x + f.box.width / 2, w: f.raw.box.width, cam: f.cam && { n: f.cam.data.length, max: Math.max(...f.cam.data) }, crop: f.crop })),
          info,
        }),
        onError: (e) => {
          error = `${e.code}: ${e.message}`;
        },
      });
      await w.ready;
      const t0 = performance.now();
      while (frames.length < 5 && !error && performance.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 50));
      w.stop();
      const n = frames.length;
      await new Promise((r) => setTimeout(r, 300));
      return { frames, error, afterStop: frames.length - n };
    }, [worker, maxSide]);
    assert.equal(got.error, null);
    assert.ok(got.frames.length >= 5, JSON.stringify(got));
    const last = got.frames[got.frames.length - 1];
    assert.equal(last.faces.length, PLACES.length, JSON.stringify(last));
    const first = got.frames[0].faces.map((f) => f.id).sort();
    assert.deepEqual(last.faces.map((f) => f.id).sort(), first, 'ids are kept across frames');
    assert.ok(last.faces.every((f) => f.age >= 5));
    assert.ok(last.faces.some((f) => f.label === 'happiness'));
    assert.equal(last.info.width, 640);
    // Boxes come back in the video's pixels whatever size the frame was analysed at.
    const centres = last.faces.map((f) => f.cx).sort((a, b) => a - b);
    const want = PLACES.map((p) => p.x + p.size / 2).sort((a, b) => a - b);
    centres.forEach((c, i) => assert.ok(Math.abs(c - want[i]) < 50, `face centre ${c}, expected about ${want[i]}`));
    // explain: true gives every face its map (48 x 48, normalised to a maximum of 1) and the
    // crop it covers (analyze()'s), centred on the face, in video pixels (1.22 box sides).
    for (const f of last.faces) {
      assert.equal(f.cam.n, 48 * 48);
      assert.equal(f.cam.max, 1);
      assert.ok(Math.abs(f.crop.cx - f.cx) < 30, JSON.stringify(f));
      assert.ok(Math.abs(f.crop.side / f.w - 1.22) < 0.01, JSON.stringify(f));
      assert.ok(Number.isFinite(f.crop.angle));
    }
    assert.equal(got.afterStop, 0, 'no frames reported after stop()');
  });
}

test('watchVideo() with a worker: frames go to it as VideoFrames, no pixels read on the page; without VideoFrame, as ImageBitmaps', T, async () => {
  const got = await page.evaluate(async () => {
    const { watchVideo } = await import('/wasm/emoxnet.js');
    const run = async () => {
      const kinds = [];
      let bitmaps = 0;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (m, t) {
        if (m && m.type === 'frame') kinds.push(m.frame ? m.frame.constructor.name : m.bitmap ? m.bitmap.constructor.name : 'pixels');
        return post.call(this, m, t);
      };
      const cib = window.createImageBitmap;
      window.createImageBitmap = (...a) => {
        bitmaps++;
        return cib(...a);
      };
      const frames = [];
      try {
        const w = watchVideo(video, { worker: true, onFaces: (f) => frames.push(f.length), onError: (e) => frames.push(e.code) });
        await w.ready;
        const t0 = performance.now();
        while (frames.length < 4 && performance.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 50));
        w.stop();
      } finally {
        Worker.prototype.postMessage = post;
        window.createImageBitmap = cib;
      }
      return { kinds: [...new Set(kinds)], bitmaps, frames };
    };
    const withFrames = await run();
    const VF = window.VideoFrame;
    window.VideoFrame = undefined; // as in a browser without WebCodecs
    let without;
    try {
      without = await run();
    } finally {
      window.VideoFrame = VF;
    }
    return { withFrames, without };
  });
  assert.deepEqual(got.withFrames.kinds, ['VideoFrame'], JSON.stringify(got));
  assert.equal(got.withFrames.bitmaps, 0, 'createImageBitmap on the page');
  assert.ok(got.withFrames.frames.length >= 4 && got.withFrames.frames.every((n) => n === PLACES.length), JSON.stringify(got));
  assert.deepEqual(got.without.kinds, ['ImageBitmap'], JSON.stringify(got));
  assert.ok(got.without.bitmaps >= 4, JSON.stringify(got));
  assert.ok(got.without.frames.length >= 4 && got.without.frames.every((n) => n === PLACES.length), JSON.stringify(got));
});

test('watchVideo() with a worker: the next frame is sent while one is analysed, never more than two in flight, each video frame once, answers in order, a slow worker not handed stale frames', T, async () => {
  const got = await page.evaluate(async () => {
    const { watchVideo } = await import('/wasm/emoxnet.js');
    // A stand-in for the video worker that takes 150 ms a frame, one after the other, and says
    // which video frame (its timestamp) each answer is about and how long it waited in the queue.
    const src = `let q = Promise.resolve();
      self.onmessage = ({ data }) => {
        if (data.type !== 'frame') return;
        const arrived = performance.now();
        const img = data.frame || data.bitmap;
        const ts = data.frame ? data.frame.timestamp : null;
        img.close();
        let waited;
        q = q.then(() => { waited = performance.now() - arrived; return new Promise((r) => setTimeout(r, 150)); })
          .then(() => postMessage({ type: 'faces', id: data.id, faces: [], ms: 150, ts, waited }));
      };`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    // a camera much faster than that worker: a canvas redrawn on every animation frame
    const c = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
    const cx = c.getContext('2d');
    let painting = true;
    const paint = (t) => {
      cx.fillStyle = `hsl(${t % 360}, 50%, 50%)`;
      cx.fillRect(0, 0, 320, 240);
      if (painting) requestAnimationFrame(paint);
    };
    requestAnimationFrame(paint);
    const fast = document.createElement('video');
    fast.muted = true;
    fast.srcObject = c.captureStream(60);
    await fast.play();
    while (fast.readyState < 2) await new Promise((r) => setTimeout(r, 20));
    const shown = [];
    const count = (t) => {
      shown.push(t);
      if (painting) fast.requestVideoFrameCallback(count);
    };
    fast.requestVideoFrameCallback(count);
    let inFlight = 0;
    let most = 0;
    const sentTs = [];
    const answered = [];
    const waits = [];
    const post = w.postMessage.bind(w);
    w.postMessage = (m, t) => {
      if (m && m.type === 'frame') {
        inFlight++;
        most = Math.max(most, inFlight);
        sentTs.push(m.frame ? m.frame.timestamp : null);
      }
      return post(m, t);
    };
    w.addEventListener('message', ({ data }) => {
      if (data.type === 'faces') {
        inFlight--;
        answered.push(data.id);
        waits.push(data.waited);
      }
    });
    const reported = [];
    const watcher = watchVideo(fast, { worker: w, onFaces: () => reported.push(answered[answered.length - 1]) });
    await watcher.ready;
    await new Promise((r) => setTimeout(r, 2500));
    watcher.stop();
    w.terminate();
    painting = false;
    fast.srcObject.getTracks().forEach((t) => t.stop());
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    return { most, sentTs, answered, reported, wait: med(waits.slice(2)), frameMs: med(shown.slice(1).map((t, i) => t - shown[i])) };
  });
  assert.equal(got.most, 2, `frames in flight at most: ${got.most} (${JSON.stringify(got)})`);
  assert.ok(got.reported.length >= 10, `${got.reported.length} frames analysed in 2.5 s at 150 ms each (${JSON.stringify(got)})`);
  assert.equal(new Set(got.sentTs).size, got.sentTs.length, `a video frame sent twice: ${got.sentTs}`);
  assert.deepEqual(got.reported, got.answered.slice(0, got.reported.length), 'answers reported in order');
  // the camera's next frame is sent when the one in the worker is nearly done, not as soon as it
  // comes: it waits there about a frame interval (~17 ms), not most of the 150 ms analysis
  assert.ok(got.frameMs < 40, `the test camera gives a frame every ${got.frameMs} ms`);
  assert.ok(got.wait < 60, `frames wait ${got.wait.toFixed(0)} ms in the worker's queue (median; a frame every ${got.frameMs.toFixed(0)} ms)`);
});

test("watchVideo() on the app's own worker: its frames keep their own ids, the app's messages are untouched, stop() leaves the worker running", T, async () => {
  const got = await page.evaluate(async () => {
    const { watchVideo } = await import('/wasm/emoxnet.js');
    const w = new Worker('/wasm/lib/video-worker.js', { type: 'module' });
    const appSaw = [];
    w.onmessage = ({ data }) => appSaw.push(`${data.type}:${typeof data.id}`);
    await new Promise((resolve) => {
      w.addEventListener('message', ({ data }) => data.type === 'loaded' && resolve());
      w.postMessage({ type: 'load', model: 'lite' });
    });
    const frames = [];
    const watcher = watchVideo(video, { worker: w, explain: () => frames.length >= 2, onFaces: (faces) => frames.push(faces.map((f) => ({ id: f.id, cam: !!f.cam }))) });
    await watcher.ready;
    const t0 = performance.now();
    while (frames.length < 4 && performance.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 50));
    watcher.stop();
    // The app's own frame, after stop(): the worker still answers it.
    const bitmap = await createImageBitmap(canvas);
    const own = await new Promise((resolve) => {
      w.addEventListener('message', ({ data }) => data.type === 'faces' && data.id === 7 && resolve(data.faces.length));
      w.postMessage({ type: 'frame', id: 7, bitmap, width: bitmap.width, height: bitmap.height }, [bitmap]);
    });
    w.terminate();
    return { frames, appSaw, own };
  });
  assert.ok(got.frames.length >= 4, JSON.stringify(got));
  assert.equal(got.frames[0][0].cam, false);
  assert.equal(got.frames[3][0].cam, true, 'explain() is asked on every frame');
  assert.equal(got.own, PLACES.length);
  assert.ok(got.appSaw.includes('faces:string'), 'the app sees the watcher frames (string ids) and can tell them apart');
  assert.ok(got.appSaw.includes('faces:number'));
});
