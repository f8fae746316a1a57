// video.js - following faces across the frames of a video or camera: FaceTracker (faces matched
// from frame to frame by box overlap, scores smoothed per face) and watchVideo(), which runs
// analyze() on every new frame of a <video> (in this thread or a Web Worker) and reports the
// tracked faces. The live demo (web/) runs on exactly this.
// FaceTracker needs no DOM: it runs in the page, a worker or Node (tests/js/track.test.js).
import { coreError, EmxError, invalidArg, show } from './errors.js';
import { load } from './model.js';
import { drawPixels, toRawImage } from './media.js';
import { scaleFace } from './detector.js';
import { MODEL_FILES, configuredBaseUrl } from './assets.js';
import { resolveLocation } from './io.js';
import { checkBalance } from './options.js';
import { balanceWeights, isFerplusOrder, pickLabel, unbalance } from './balance.js';

/** Intersection over union of two {x, y, width, height} boxes (0 when either is empty). */
export function iou(a, b) {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** prev + alpha * (next - prev), key by key over next's keys (a missing prev key takes next). */
export function ema(prev, next, alpha) {
  // Own properties only, and every key (a class named '__proto__' too) set as an own property.
  const own = (o, k) => o && Object.prototype.hasOwnProperty.call(o, k);
  return Object.fromEntries(
    Object.keys(next).map((k) => [k, alpha < 1 && own(prev, k) && Number.isFinite(prev[k]) ? prev[k] + alpha * (next[k] - prev[k]) : next[k]]),
  );
}

/**
 * The label of keyed scores by the core's rule (balance.js pickLabel): the key whose raw
 * probability reaches its threshold in thresholds ({name: t}, the model's labelThresholds), else
 * the key with the highest score (the first on ties); null for an empty object. balance: the
 * model's (load()'s option), whose factors the scores carry: the thresholds read the raw
 * probabilities behind them.
 */
export function labelOf(scores, thresholds, balance = 0) {
  const keys = Object.keys(scores || {});
  if (!keys.length) return null;
  const own = (k) => (thresholds && Object.prototype.hasOwnProperty.call(thresholds, k) ? Number(thresholds[k]) : 0);
  const values = keys.map((k) => scores[k]);
  const raw = balance && isFerplusOrder(keys) ? unbalance(values, balanceWeights(balance)) : values;
  return keys[pickLabel(values, keys.map(own), raw)];
}

/** The key with the highest value (the first one on ties); null for an empty object. */
export function argmax(scores) {
  let best = null;
  let bestValue = -Infinity;
  for (const [k, v] of Object.entries(scores || {})) {
    if (v > bestValue) {
      best = k;
      bestValue = v;
    }
  }
  return best;
}

export class FaceTracker {
  /**
   * alpha: weight of the newest frame, (0, 1]; 1 turns smoothing off (tracking still gives ids).
   * iouThreshold: least overlap for a detection to continue a track.
   * maxMissed: frames a track survives without a detection (it is not reported meanwhile).
   * labelThresholds, balance: the model's labelThresholds ({class: threshold}) and balance,
   * which the label of the smoothed scores follows as the model's labels do (watchVideo sets
   * them from its model).
   */
  constructor(options) {
    if (options !== undefined && options !== null && typeof options !== 'object') throw invalidArg('FaceTracker options must be an object');
    const { alpha = 0.35, iouThreshold = 0.3, maxMissed = 5, labelThresholds = {}, balance = 0 } = options ?? {};
    if (labelThresholds === null || typeof labelThresholds !== 'object') throw invalidArg('FaceTracker options.labelThresholds must be an object of class name -> threshold');
    this.alpha = alpha;
    this.labelThresholds = labelThresholds;
    this.balance = balance;
    this.iouThreshold = iouThreshold;
    this.maxMissed = maxMissed;
    this.tracks = [];
    this.nextId = 1;
  }

  reset() {
    this.tracks = [];
  }

  /**
   * Feed one frame's faces ({box, score, landmarks, label, scores} as analyze() returns them).
   * Returns the faces of this frame, in input order, each with `id` (stable across frames),
   * `box` and `scores` smoothed, `label` = the label of the smoothed scores (labelOf), `raw` = the input face
   * and `age` (frames seen).
   */
  update(faces) {
    if (!Array.isArray(faces)) throw invalidArg('FaceTracker.update() takes the array of faces analyze() or detect() returned');
    faces.forEach((f, i) => {
      if (f === null || typeof f !== 'object' || f.box === null || typeof f.box !== 'object') {
        throw invalidArg(`FaceTracker.update(): faces[${i}] has no box`);
      }
    });
    const alpha = Math.min(1, Math.max(1e-3, Number(this.alpha) || 1));
    const pairs = [];
    faces.forEach((f, i) => {
      this.tracks.forEach((t, j) => {
        const o = iou(t.box, f.box);
        if (o >= this.iouThreshold) pairs.push([o, i, j]);
      });
    });
    pairs.sort((p, q) => q[0] - p[0]);
    const faceTrack = new Array(faces.length).fill(-1);
    const taken = new Set();
    for (const [, i, j] of pairs) {
      if (faceTrack[i] !== -1 || taken.has(j)) continue;
      faceTrack[i] = j;
      taken.add(j);
    }
    const out = [];
    const kept = [];
    this.tracks.forEach((t, j) => {
      if (!taken.has(j)) {
        t.missed++;
        if (t.missed <= this.maxMissed) kept.push(t);
      }
    });
    faces.forEach((f, i) => {
      const hasScores = f.scores && Object.keys(f.scores).length > 0;
      let t;
      if (faceTrack[i] === -1) {
        t = { id: this.nextId++, box: { ...f.box }, scores: hasScores ? { ...f.scores } : {}, missed: 0, age: 0 };
      } else {
        t = this.tracks[faceTrack[i]];
        t.box = ema(t.box, f.box, alpha);
        if (hasScores) t.scores = ema(t.scores, f.scores, alpha);
        t.missed = 0;
      }
      t.age++;
      kept.push(t);
      out.push({
        ...f,
        id: t.id,
        box: { ...t.box },
        scores: { ...t.scores },
        label: labelOf(t.scores, this.labelThresholds, this.balance),
        age: t.age,
        raw: f,
      });
    });
    this.tracks = kept;
    return out;
  }
}

/**
 * Analyze every new frame of a playing <video> (a camera stream or a file) and report its faces,
 * tracked and smoothed: onFaces(faces, { ms, width, height, model }) with each face as
 * FaceTracker.update() returns it (id, box, scores, label, age, raw). Each video frame is analysed
 * at most once; frames that arrive while the previous one is still being analysed are skipped,
 * so the page never queues work (with a worker: while the worker analyses one frame, the next is
 * already sent to it, at most two in flight, so reading frames here and analysing them there
 * overlap; frames are sent without a copy on this thread where the browser has VideoFrame).
 * options: model ('lite' | 'ensemble' | a URL/bytes for load(); default 'lite'), worker (true:
 * run the model in a Web Worker so the page never waits on it; or a Worker running the package's
 * video worker that the app already uses and has loaded a model into: frames then go to it and
 * it stays the app's, e.g. for still photos and model switches), maxSide (frames are scaled so
 * their longer side is at most this, default 640), smoothing (FaceTracker options, or false to
 * report raw faces with ids), detect (analyze() options, or a function asked on every frame
 * for them, e.g. for a threshold the user changes), explain (true, or a function asked
 * on every frame: each face also gets `cam`, the class activation map of its label over its
 * `crop`, as analyze() with explain: true returns them, the crop in video pixels), onError(err).
 * Returns { ready: Promise (model loaded), tracker, stop() }.
 */
export function watchVideo(video, options = {}) {
  if (!video || typeof video !== 'object' || !('videoWidth' in video)) {
    throw invalidArg('watchVideo() takes an HTMLVideoElement');
  }
  if (typeof options !== 'object' || options === null) throw invalidArg('watchVideo() options must be an object');
  const { onFaces, onError = (err) => console.error(err) } = options;
  if (typeof onFaces !== 'function') throw invalidArg('watchVideo() needs options.onFaces(faces, info)');
  const maxSide = options.maxSide ?? 640;
  if (typeof maxSide !== 'number' || !(maxSide >= 16)) throw invalidArg(`watchVideo() options.maxSide must be a number >= 16 (got ${show(maxSide)})`);
  const smoothing = options.smoothing === false ? { alpha: 1 } : options.smoothing || {};
  const tracker = new FaceTracker(smoothing);
  if (options.explain !== undefined && typeof options.explain !== 'boolean' && typeof options.explain !== 'function') {
    throw invalidArg('watchVideo() options.explain must be a boolean or a function');
  }
  if (options.detect !== undefined && options.detect !== null && typeof options.detect !== 'object' && typeof options.detect !== 'function') {
    throw invalidArg('watchVideo() options.detect must be analyze() options or a function returning them');
  }
  const detectNow = () => (typeof options.detect === 'function' ? options.detect() : options.detect) ?? undefined;
  const runner = options.worker ? workerRunner({ ...options, detect: typeof options.detect === 'function' ? undefined : options.detect }) : inlineRunner(options);
  // Frames in flight: with a worker, the next camera frame is read and sent while the previous
  // one is being analysed, so frames follow each other at the pace of the slower thread, not of
  // both in turn; never more than two (a frame that arrives then is skipped), and each camera
  // frame is sent at most once. In this thread, one at a time. A second frame is only sent when
  // the worker would otherwise sit idle until the next camera frame: if it will be done with the
  // one it has before then, the fresher next frame goes instead (a frame queued behind a slow
  // analysis would be shown that much later). The worker's time per frame is its own measure
  // (not the round trip, which a busy page lengthens with time the worker is free).
  const depth = options.worker ? 2 : 1;
  let stopped = false;
  let inFlight = 0;
  let freeAt = -Infinity; // when the worker should be done with what it has been sent
  let workMs = null; // per frame in the worker (moving average)
  let frameMs = null; // between camera frames (moving average)
  let lastFrame = null;
  const average = (old, x) => (old === null ? x : old * 0.8 + x * 0.2);
  let reading = false; // a frame is being read and sent (not yet in the worker)
  let sent = 0; // frames sent, numbered: answers are reported in that order, a late one dropped
  let reported = 0;
  let handle = 0;
  const useVfc = typeof video.requestVideoFrameCallback === 'function';
  const next = () => {
    if (stopped) return;
    // requestVideoFrameCallback fires once per new video frame; the animation-frame fallback
    // fires per screen refresh, so the same frame can come twice there (skipped by time below).
    handle = useVfc ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
  };
  let lastTime = -1; // the frame last sent (animation-frame fallback)
  let seenTime = -1; // the frame last seen
  const tick = async () => {
    next();
    if (stopped || video.readyState < 2 || !video.videoWidth) return;
    const now = performance.now();
    if (useVfc || video.currentTime !== seenTime) {
      // a new camera frame: how often they come
      if (lastFrame !== null) frameMs = average(frameMs, now - lastFrame);
      lastFrame = now;
      seenTime = video.currentTime;
    }
    if (inFlight >= depth || reading) return;
    if (!useVfc && video.currentTime === lastTime) return;
    // one in flight, done before the next frame comes: wait for that one
    if (inFlight === 1 && frameMs !== null && now + frameMs < freeAt) return;
    lastTime = video.currentTime;
    // it starts on this frame when it arrives or when done with the one it has
    if (workMs !== null) freeAt = Math.max(now, inFlight ? freeAt : now) + workMs;
    inFlight++;
    reading = true;
    const seq = ++sent;
    try {
      const width = video.videoWidth;
      const height = video.videoHeight;
      const scale = Math.min(1, maxSide / Math.max(width, height));
      const t0 = performance.now();
      const explain = typeof options.explain === 'function' ? !!options.explain() : !!options.explain;
      // send(): resolves once the frame is read and on its way, to { answer: Promise }
      const { answer } = await runner.send(video, width, height, scale, explain, detectNow());
      reading = false;
      const { faces, ms, busy, done, model, labelThresholds, balance } = await answer;
      // the labels of the smoothed scores follow the rule of the model that scored them
      if (labelThresholds) Object.assign(tracker, { labelThresholds, balance: balance ?? 0 });
      if (Number.isFinite(busy ?? ms)) workMs = average(workMs, busy ?? ms);
      // the frame sent after this one, if any, is being analysed since this one was done (the
      // worker's clock where it says: this thread may have taken the answer late)
      const doneHere = Number.isFinite(done) ? Math.min(performance.now(), done - performance.timeOrigin) : performance.now();
      if (inFlight > 1 && workMs !== null) freeAt = doneHere + workMs;
      if (stopped || seq < reported) return;
      reported = seq;
      // ms: the analysis itself where the worker measured it, else the whole round trip.
      onFaces(tracker.update(faces), { ms: ms ?? performance.now() - t0, width, height, model });
    } catch (err) {
      if (!stopped) onError(err);
    } finally {
      reading = false;
      inFlight--;
    }
  };
  const ready = runner.ready.then(() => next());
  ready.catch((err) => {
    if (!stopped) onError(err);
  });
  return {
    ready,
    tracker,
    stop() {
      stopped = true;
      if (useVfc && typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(handle);
      else if (!useVfc) cancelAnimationFrame(handle);
      runner.close();
    },
  };
}

// Frame pixels at `scale`, through media.js (its scratch canvas, its errors).
function framePixels(video, width, height, scale) {
  if (scale === 1) return toRawImage(video);
  return drawPixels(video, Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
}

function inlineRunner(options) {
  let model = null;
  const ready = (async () => {
    model = await load(options.model ?? 'lite', options.loadOptions);
  })();
  return {
    ready,
    // here, the frame is analysed before send() resolves: its answer is ready
    async send(...a) {
      return { answer: Promise.resolve(await this.analyze(...a)) };
    },
    async analyze(video, width, height, scale, explain, detect) {
      const image = framePixels(video, width, height, scale);
      // (options that are not an object go to analyze() as they are: its INVALID_ARG)
      const found = await model.analyze(image, detect === undefined || detect === null ? { explain } : typeof detect === 'object' ? { ...detect, explain } : detect);
      const k = width / image.width;
      const faces = found.map((f) => scaleFace(f, k));
      return { faces, model: typeof options.model === 'string' ? options.model : 'lite', labelThresholds: model.labelThresholds, balance: model.balance };
    },
    close() {
      ready.then(() => model && model.dispose(), () => {});
    },
  };
}

// The model in a module worker (video-worker.js), frames sent as VideoFrames or ImageBitmaps
// (transferred, no copy). Up to two frames in flight (watchVideo: one analysed, the next queued
// in the worker; answers come back in order); frames carry ids. With a Worker the app
// passed in, frames carry string ids ('watch:N') so the app's own numeric ids never collide, the
// app's message handler is left alone (addEventListener), and the worker stays running on stop().
function workerRunner(options) {
  const shared = typeof Worker === 'function' && options.worker instanceof Worker;
  const model = options.model ?? 'lite';
  if (!shared && typeof model !== 'string' && !(model instanceof URL)) {
    throw invalidArg('watchVideo({ worker: true }) takes a model name or URL (the worker loads it)');
  }
  const worker = shared ? options.worker : new Worker(new URL('./video-worker.js', import.meta.url), { type: 'module' });
  const pending = new Map(); // id -> { resolve, reject }, the frames in the worker, oldest first
  let loaded;
  let failed;
  const ready = shared ? Promise.resolve() : new Promise((res, rej) => {
    loaded = res;
    failed = rej;
  });
  const rejectAll = (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const fail = (err) => {
    if (failed) failed(err);
    rejectAll(err);
  };
  const onError = (ev) => fail(new EmxError('LOAD', `the video worker could not start: ${ev.message || 'module worker failed to load'}`));
  const onMessage = ({ data }) => {
    if (data.type === 'loaded' && loaded) loaded();
    else if (data.type === 'faces' && pending.has(data.id)) {
      pending.get(data.id).resolve({ faces: data.faces, ms: data.ms, busy: data.busy, done: data.done, model: data.model, labelThresholds: data.labelThresholds, balance: data.balance });
      pending.delete(data.id);
    } else if (data.type === 'error') {
      const err = new EmxError(data.code, data.message);
      if (data.stage === 'load' && !shared) fail(err);
      else {
        // an error about one of our frames, or about no frame in particular (the oldest's)
        const id = data.id === undefined ? pending.keys().next().value : data.id;
        if (pending.has(id)) {
          pending.get(id).reject(err);
          pending.delete(id);
        }
      }
    }
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('message', onMessage);
  if (!shared) {
    worker.postMessage({
      type: 'load',
      // Relative URLs resolve against the page here: in the worker they would resolve against it.
      model: model instanceof URL ? model.href : Object.hasOwn(MODEL_FILES, model) ? model : resolveLocation(model).href,
      baseUrl: configuredBaseUrl(),
      detect: options.detect,
      ...(options.loadOptions?.simd === false ? { simd: false } : {}),
      ...(options.loadOptions?.relaxed === false ? { relaxed: false } : {}),
      // checked on this side: EmxError('INVALID_ARG') from watchVideo(), not a DataCloneError
      // from postMessage() for a value it cannot copy
      ...(options.loadOptions?.balance !== undefined ? { balance: checkBalance(options.loadOptions.balance) } : {}),
    });
  }
  let n = 0;
  // Frames go as VideoFrames where the browser makes them from a <video> and transfers them
  // (Chromium, Firefox): no pixels are copied on this thread, the worker reads them. Else, or
  // once that failed, as ImageBitmaps scaled here (createImageBitmap: a copy on this thread).
  let videoFrames = typeof VideoFrame === 'function';
  const readError = (err) =>
    // A cross-origin video without CORS cannot be read (SecurityError), as in media.js.
    coreError('IMAGE', `cannot read the video frame: ${err && err.name === 'SecurityError' ? 'the video is cross-origin without CORS' : err && err.message}`, { cause: err });
  return {
    ready,
    // resolves once the frame is posted, to { answer }: a promise of its faces
    async send(video, width, height, scale, explain, detect) {
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      const id = `watch:${++n}`;
      const msg = { type: 'frame', id, width, height, explain, ...(detect ? { detect } : {}) };
      const answer = new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
      });
      answer.catch(() => {}); // rejected on stop() with no one waiting: not an unhandled rejection
      let sent = false;
      if (videoFrames) {
        let frame = null;
        try {
          frame = new VideoFrame(video);
          // the worker scales it: the longer side to what this thread would have made it
          worker.postMessage({ ...msg, frame, maxSide: Math.max(w, h) }, [frame]);
          sent = true;
        } catch (err) {
          if (frame) frame.close();
          if (err && err.name === 'SecurityError') {
            pending.delete(id);
            throw readError(err);
          }
          videoFrames = false; // no VideoFrame from a <video>, or not transferable: bitmaps
        }
      }
      if (!sent) {
        let bitmap;
        try {
          bitmap = await createImageBitmap(video, { resizeWidth: w, resizeHeight: h });
        } catch (err) {
          pending.delete(id);
          throw readError(err);
        }
        worker.postMessage({ ...msg, bitmap, maxSide: Infinity }, [bitmap]);
      }
      return { answer };
    },
    close() {
      rejectAll(new EmxError('DISPOSED', 'watchVideo() was stopped'));
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      if (!shared) worker.terminate();
    },
  };
}
