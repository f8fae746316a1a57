// EmoXNet live demo: camera (or a photo) -> inference worker (web/worker.js: the package's own
// video worker) -> tracked and smoothed faces -> boxes and labels on the canvas, a card per face
// (8 probability bars and a plot of the last minute) or a compact row each when many faces are
// in view, a group summary, and a recording exported as CSV/JSON. The camera runs through the
// package's watchVideo(), exactly as an app would use it; photos and model switches go to the
// same worker directly. Helpers, one job each: overlay.js (boxes, labels and maps on the
// picture), labels.js (label placement), heat.js (heat maps),
// summary.js (group summary), timeline.js (recording, plots, export), face-list.js (the list).
// URL parameters (for trying the fallbacks): ?simd=0 forces the non-SIMD build, ?relaxed=0 the
// SIMD128 one where relaxed SIMD would run;
// ?model=ensemble starts with the ensemble.
import { FaceTracker, watchVideo } from '../wasm/emoxnet.js';
import { drawOverlay } from './overlay.js';
import { legendGradient } from './heat.js';
import { groupSummary } from './summary.js';
import { Recorder, download } from './timeline.js';
import { CLASSES, renderFaceList } from './face-list.js';

const $ = (id) => document.getElementById(id);
const els = {
  error: $('error'), notice: $('notice'), canvas: $('canvas'), view: $('view'), placeholder: $('placeholder'),
  dropHint: $('dropHint'), fps: $('fps'), ms: $('ms'), backend: $('backend'), camInfo: $('camInfo'), cameraBtn: $('cameraBtn'),
  file: $('file'), fileBtn: $('fileBtn'), snapshotBtn: $('snapshotBtn'), model: $('model'), cameraPick: $('cameraPick'),
  smooth: $('smooth'), explain: $('explain'), rare: $('rare'), tiles: $('tiles'), threshold: $('threshold'), thresholdOut: $('thresholdOut'),
  maxFaces: $('maxFaces'), faces: $('faces'), faceCount: $('faceCount'), noFaces: $('noFaces'), modelInfo: $('modelInfo'),
  summary: $('summary'), heatLegend: $('heatLegend'), legendBar: $('legendBar'), heatOpacity: $('heatOpacity'),
  recorded: $('recorded'), csvBtn: $('csvBtn'), jsonBtn: $('jsonBtn'), clearBtn: $('clearBtn'),
};
const ctx = els.canvas.getContext('2d');
const params = new URLSearchParams(location.search);
const COLORS = ['#4fc3f7', '#ffb74d', '#aed581', '#f48fb1', '#ce93d8', '#fff176', '#80cbc4', '#ff8a65'];
const ACCURACY = { lite: '87.15%', ensemble: '88.25%' }; // FER+ Valid, the shipped models' cards
const COMPACT_FROM = 3; // this many faces or more: one compact row each
const SMOOTH_ALPHA = 0.35;
// Camera: the boxes on the picture follow every analysed frame, drawn with the next video
// frame; the face list (bars, plots), the summary and the timings at most every LIST_MS, so a
// slow phone spends its main thread on frames, not on restyling the page 30 times a second.
const LIST_MS = 100;

const state = {
  mode: 'idle', // 'idle' | 'camera' | 'photo'
  stream: null,
  video: null,
  watcher: null, // watchVideo() on the camera while it runs and a model is ready
  photo: null, // ImageBitmap shown in photo mode
  modelReady: false,
  modelName: null,
  failedModel: null, // the model the last load error was about
  busy: false,
  frameId: 0,
  faces: [],
  resultTimes: [],
  msAvg: null,
  msPerFace: {}, // model -> measured ms per face here (running average)
  offscreen: true,
  broken: false,
  analysed: 0, // camera frames analysed (tests check it follows the camera's frame rate)
  videoFrames: 0, // camera frames shown by the video so far (counted by requestVideoFrameCallback)
  drawn: null, // what the canvas shows: { video, frame, faces, heat }, to draw only on a change
  listTimer: 0, // a face-list update waiting (camera)
  listAt: -Infinity, // when the face list was last updated (camera)
  lastInfo: null, // the newest camera frame's info, for the next face-list update
  canvasCssWidth: 0, // the canvas's width on screen (ResizeObserver: never read during drawing)
};
const tracker = new FaceTracker({ alpha: SMOOTH_ALPHA });
const recorder = new Recorder(CLASSES);
document.body.dataset.state = 'starting';
els.legendBar.style.background = legendGradient();

// ---------------------------------------------------------------------------------------------
// Messages

function showError(text, kind) {
  els.error.textContent = text;
  els.error.hidden = !text;
  if (kind) els.error.dataset.kind = kind;
  else delete els.error.dataset.kind;
}
let noticeTimer = 0;
let simdNote = '';
/** A notice (a toast over the page); brief ones go after 3 s, back to the standing note. */
function showNotice(text, kind, brief = false) {
  els.notice.textContent = text;
  els.notice.hidden = !text;
  if (kind) els.notice.dataset.kind = kind;
  clearTimeout(noticeTimer);
  if (brief) noticeTimer = setTimeout(() => showNotice(simdNote, simdNote ? 'no-simd' : undefined), 3000);
}

/** Nothing can be analysed any more (no model, no detector, no worker): say so and keep it so. */
function setBroken(stateName) {
  state.broken = true;
  document.body.dataset.state = stateName;
  stopCamera();
  els.cameraBtn.disabled = true;
  els.file.disabled = true;
  els.fileBtn.classList.add('disabled');
  els.model.disabled = true;
}

// ---------------------------------------------------------------------------------------------
// Environment checks (file:// and no WebAssembly are handled by the inline script: module
// scripts do not even run from file://)

const simdWanted = params.get('simd') !== '0';
const relaxedWanted = params.get('relaxed') !== '0';
if (location.protocol === 'file:' || typeof WebAssembly !== 'object') {
  state.broken = true;
} else {
  const secure = window.isSecureContext;
  const hasGum = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (!secure || !hasGum) {
    els.cameraBtn.disabled = true;
    els.cameraPick.disabled = true;
    // the same server, on a name browsers treat as secure
    const local = `${location.protocol}//localhost${location.port ? `:${location.port}` : ''}${location.pathname}`;
    showError(
      !secure
        ? `The camera only works on a secure origin (https:// or http://localhost), and this page was opened from ${location.origin}. Open ${local} on this computer, or serve it over https. You can still analyse a photo.`
        : 'This browser gives web pages no camera access (no navigator.mediaDevices.getUserMedia). You can still analyse a photo.',
      !secure ? 'insecure-origin' : 'no-getusermedia',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Worker

let worker = null;
if (!state.broken) {
  try {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => onWorkerMessage(data);
    worker.onerror = (ev) => {
      ev.preventDefault();
      setBroken('worker-error');
      showError(`The inference worker could not start (${ev.message || 'module worker failed to load'}). This browser may not support module workers, or wasm/emoxnet.js could not be fetched: serve the repository root with "npm start".`, 'worker');
    };
    loadModel(params.get('model') === 'ensemble' ? 'ensemble' : 'lite');
  } catch (err) {
    setBroken('worker-error');
    showError(`The inference worker could not start: ${err.message}. Please use a current browser.`, 'worker');
  }
}

// "Favour rare expressions": load()'s balance per model, where FER+ Valid shows most of the
// recall for the least top-1 (README, Labels: Lite 0.8: 86.4% top-1, mean per-class recall
// 76.4% against 87.5% / 64.1%; the ensemble's top-1 falls fast above 0.3: 87.0% / 74.9%).
const RARE_BALANCE = { lite: 0.8, ensemble: 0.3 };

function loadModel(name) {
  state.modelReady = state.modelName !== null; // keep using the current model while loading
  els.model.disabled = true;
  els.rare.disabled = true;
  els.backend.textContent = `loading ${name}…`;
  const balance = els.rare.checked ? RARE_BALANCE[name] ?? 0 : 0;
  worker.postMessage({ type: 'load', model: name, simd: simdWanted ? undefined : false, relaxed: relaxedWanted ? undefined : false, balance });
}

function modelLabel(name) {
  return name === 'ensemble' ? 'Ensemble' : name === 'lite' ? 'Lite' : name;
}

/** The model menu: accuracy from the cards, ms/face as measured on this device. */
function updateModelMenu() {
  for (const opt of els.model.options) {
    const name = opt.value;
    const ms = state.msPerFace[name];
    // short enough to show whole in the select (the label says what the numbers are)
    const text = `${name === 'ensemble' ? 'Ensemble' : 'Lite'} · ${ACCURACY[name]}${ms ? ` · ${ms.toFixed(1)} ms/face` : ''}`;
    if (opt.textContent !== text) opt.textContent = text;
  }
}

/** Why a model did not load, in words: LOAD means its file could not be fetched or read. */
function loadFailure(msg) {
  if (msg.code === 'LOAD' && msg.model === 'ensemble') {
    return 'The ensemble model is not available in this build (models/emoxnet.emx could not be fetched).';
  }
  return `The ${modelLabel(msg.model)} model failed to load.`;
}

function onWorkerMessage(msg) {
  if (state.broken && msg.type !== 'hello') return;
  if (msg.type === 'hello') {
    state.offscreen = msg.offscreen;
    if (!msg.simd) simdNote = 'This browser has no WebAssembly SIMD: running the slower non-SIMD build (same results).';
    else if (!simdWanted) simdNote = 'Running the non-SIMD build (?simd=0).';
    if (simdNote) showNotice(simdNote, 'no-simd');
  } else if (msg.type === 'loaded') {
    state.modelName = msg.model;
    state.modelReady = true;
    els.model.disabled = false;
    els.rare.disabled = false;
    els.model.value = msg.model;
    els.backend.textContent = `${modelLabel(msg.model)} · wasm ${msg.variant}`;
    document.body.dataset.model = msg.model;
    document.body.dataset.balance = String(msg.balance ?? 0);
    document.body.dataset.variant = msg.variant;
    const acc = msg.meta.valid_accuracy ? `, ${(Number(msg.meta.valid_accuracy) * (Number(msg.meta.valid_accuracy) <= 1 ? 100 : 1)).toFixed(2)}% FER+ Valid` : '';
    els.modelInfo.textContent = `${msg.meta.name || modelLabel(msg.model)}${acc}, wasm ${msg.variant}${msg.balance ? `, rare expressions favoured (balance ${msg.balance})` : ''}`;
    tracker.reset();
    // photos' labels (tracker.update recomputes them) follow this model's label thresholds
    Object.assign(tracker, { labelThresholds: msg.labelThresholds ?? {}, balance: msg.balance ?? 0 });
    state.watcher?.tracker.reset();
    syncWatching();
    // a model error stays up until the model it was about loads (not when Lite, the fallback, does)
    if (els.error.dataset.kind === 'model' && state.failedModel === msg.model) showError('');
    if (document.body.dataset.state === 'starting') document.body.dataset.state = 'ready';
    if (state.mode === 'photo') analyzePhoto();
  } else if (msg.type === 'error' && msg.stage === 'load') {
    els.model.disabled = false;
    els.rare.disabled = false;
    state.failedModel = msg.model;
    if (msg.current) {
      // a switch failed: keep the model we have
      els.model.value = msg.current;
      state.modelReady = true;
      els.backend.textContent = `${modelLabel(msg.current)} · wasm ${document.body.dataset.variant}`;
      showError(`${loadFailure(msg)} Still using ${modelLabel(msg.current)}. (${msg.code}: ${msg.message})`, 'model');
    } else if (msg.model !== 'lite') {
      showError(`${loadFailure(msg)} Falling back to Lite. (${msg.code}: ${msg.message})`, 'model');
      loadModel('lite');
    } else {
      setBroken('model-error');
      els.backend.textContent = 'no model';
      showError(`The expression model failed to load, so nothing can be analysed. (${msg.code}: ${msg.message}) Check that the page is served by "npm start" from the repository root and that the WebAssembly build exists (npm run build).`, 'model-fatal');
    }
  } else if (msg.type === 'faces') {
    // camera frames (string ids) are watchVideo()'s: it answers them through onCameraFaces
    if (typeof msg.id !== 'string') onFaces(msg);
  } else if (msg.type === 'error' && msg.stage === 'frame') {
    if (typeof msg.id !== 'string') state.busy = false;
    if (msg.code === 'LOAD') {
      setBroken('detector-error');
      showError(`The face detector failed to load (${msg.message}). Check that models/blazeface.emx is served.`, 'detector');
    } else {
      showError(`Analysis failed on a frame (${msg.code}: ${msg.message}).`, 'frame');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Detector settings (threshold 0.7 by default: a blurred non-face can score 0.6, faces 0.8+)

/** analyze() options for a frame: tiles only where asked (photos: chosen from their size). */
function detectOptions(source) {
  const t = els.tiles.value;
  const tiles = t === 'never' ? 0 : source === 'photo' ? 'auto' : t === 'always' ? 2 : 0;
  const maxFaces = Math.min(64, Math.max(1, Math.round(Number(els.maxFaces.value) || 16)));
  return { scoreThreshold: Number(els.threshold.value), maxFaces, tiles };
}
for (const el of [els.tiles, els.threshold, els.maxFaces]) {
  el.addEventListener('change', () => state.mode === 'photo' && analyzePhoto());
}
els.threshold.addEventListener('input', () => {
  els.thresholdOut.value = Number(els.threshold.value).toFixed(2);
});

// ---------------------------------------------------------------------------------------------
// Camera

function cameraConstraints() {
  const pick = els.cameraPick.value;
  const video = { width: { ideal: 640 }, height: { ideal: 480 } };
  if (pick === 'user' || pick === 'environment') video.facingMode = pick;
  else if (pick !== 'any') video.deviceId = { exact: pick };
  return { video, audio: false };
}

/** Once the camera is allowed, the picker also lists each camera by name. */
async function listCameras() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput' && d.deviceId);
  const picked = els.cameraPick.value;
  for (const opt of [...els.cameraPick.options]) if (opt.dataset.device) opt.remove();
  cams.forEach((d, i) => {
    const opt = new Option(d.label || `Camera ${i + 1}`, d.deviceId);
    opt.dataset.device = 'yes';
    els.cameraPick.append(opt);
  });
  els.cameraPick.value = [...els.cameraPick.options].some((o) => o.value === picked) ? picked : 'user';
}

async function startCamera() {
  if (state.broken) return;
  showError(els.error.dataset.kind === 'model' ? els.error.textContent : '', els.error.dataset.kind === 'model' ? 'model' : undefined);
  els.cameraBtn.disabled = true;
  els.cameraBtn.textContent = 'Starting…';
  try {
    const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
    if (state.broken) { // a fatal error while the camera started
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    stopPhoto();
    state.stream = stream;
    state.video = video;
    state.mode = 'camera';
    if (typeof video.requestVideoFrameCallback === 'function') {
      const counted = () => {
        if (state.video !== video) return;
        state.videoFrames++;
        video.requestVideoFrameCallback(counted);
      };
      video.requestVideoFrameCallback(counted);
    }
    tracker.reset();
    resetTimes();
    document.body.dataset.camera = 'on';
    els.cameraBtn.textContent = 'Stop camera';
    setViewOn(true);
    syncWatching();
    const track = stream.getVideoTracks()[0];
    track?.addEventListener('ended', stopCamera);
    const s = track?.getSettings?.() || {};
    els.camInfo.textContent = `${track?.label || 'camera'}${s.width ? ` · ${s.width}×${s.height}` : ''}${s.frameRate ? ` @ ${Math.round(s.frameRate)} fps` : ''}`;
    listCameras().catch(() => {});
  } catch (err) {
    els.cameraBtn.textContent = 'Start camera';
    document.body.dataset.camera = 'error';
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
      showError('Camera permission was denied. To use the live camera, allow camera access for this site (the camera icon in the address bar, or the site settings), then press Start camera again. You can still analyse a photo.', 'camera-denied');
    } else if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
      showError('No camera was found. Connect a camera and press Start camera again, or analyse a photo instead.', 'no-camera');
    } else if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
      showError('The camera could not be started: another application may be using it. Close it and press Start camera again.', 'camera-busy');
    } else {
      showError(`The camera could not be started (${name || 'error'}: ${err && err.message}).`, 'camera-error');
    }
  } finally {
    els.cameraBtn.disabled = state.broken;
  }
}

/** Run watchVideo() on the camera exactly while there is a camera, a model and no fatal error. */
function syncWatching() {
  const want = state.mode === 'camera' && state.video && state.modelReady && !state.broken && worker;
  if (want && !state.watcher) {
    state.watcher = watchVideo(state.video, {
      worker, // the page's worker, which holds the model (also used for photos and switches)
      maxSide: 640,
      smoothing: { alpha: els.smooth.checked ? SMOOTH_ALPHA : 1 },
      explain: () => els.explain.checked,
      detect: () => detectOptions('camera'),
      onFaces: onCameraFaces,
      onError: () => {}, // frame errors reach onWorkerMessage too, which shows them
    });
  } else if (!want && state.watcher) {
    state.watcher.stop(); // a frame still in the worker is dropped by watchVideo
    state.watcher = null;
  }
}

function stopCamera() {
  if (state.stream) for (const t of state.stream.getTracks()) t.stop();
  state.stream = null;
  state.video = null;
  state.drawn = null;
  cancelCameraList();
  syncWatching();
  if (state.mode === 'camera') {
    state.mode = 'idle';
    setViewOn(false);
    setFaces([]);
    resetTimes();
    els.camInfo.textContent = '';
  }
  if (document.body.dataset.camera === 'on') document.body.dataset.camera = 'off';
  els.cameraBtn.textContent = 'Start camera';
}

els.cameraBtn.addEventListener('click', () => (state.stream ? stopCamera() : startCamera()));
els.cameraPick.addEventListener('change', () => {
  if (!state.stream) return;
  stopCamera();
  startCamera();
});

function setViewOn(on) {
  els.canvas.classList.toggle('on', on);
  els.view.classList.toggle('has-image', on);
  els.placeholder.hidden = on;
  els.snapshotBtn.disabled = !on;
  if (!on) ctx.clearRect(0, 0, els.canvas.width, els.canvas.height);
}

// ---------------------------------------------------------------------------------------------
// Photos to the worker (the camera goes through watchVideo(), above)

async function sendFrame(source, width, height, maxSide) {
  state.busy = true;
  const id = ++state.frameId;
  const detect = detectOptions('photo');
  try {
    if (state.offscreen && typeof createImageBitmap === 'function') {
      const bitmap = await createImageBitmap(source);
      worker.postMessage({ type: 'frame', id, bitmap, width, height, maxSide, explain: els.explain.checked, detect }, [bitmap]);
    } else {
      const scale = Math.min(1, maxSide / Math.max(width, height));
      const c = document.createElement('canvas');
      c.width = Math.round(width * scale);
      c.height = Math.round(height * scale);
      const cx = c.getContext('2d');
      cx.drawImage(source, 0, 0, c.width, c.height);
      const img = cx.getImageData(0, 0, c.width, c.height);
      worker.postMessage({ type: 'frame', id, image: img, width: c.width, height: c.height, explain: els.explain.checked, detect }, [img.data.buffer]);
    }
  } catch (err) {
    state.busy = false;
    showError(`Could not read the frame: ${err.message}`, 'frame');
  }
  return id;
}

/**
 * Faces of a camera frame, tracked and smoothed by watchVideo(): recorded and drawn on the
 * picture (with the next video frame), listed at most every LIST_MS (updateCameraList).
 */
function onCameraFaces(faces, info) {
  if (state.mode !== 'camera') return;
  state.analysed++;
  countTime(info.ms, faces.length, info.model);
  recorder.add(faces, { model: info.model, source: 'camera' });
  state.faces = faces;
  state.lastInfo = info;
  if (!state.listTimer) {
    state.listTimer = setTimeout(updateCameraList, Math.max(0, state.listAt + LIST_MS - performance.now()));
  }
}

function updateCameraList() {
  state.listTimer = 0;
  if (state.mode !== 'camera' || !state.lastInfo) return;
  state.listAt = performance.now();
  // when this update began: the spacing LIST_MS promises is from start to start, and a test
  // (or a profiler) cannot see starts from the mutations, which land when the render ends
  document.body.dataset.listedAt = state.listAt.toFixed(1);
  document.body.dataset.analysed = String(state.analysed);
  document.body.dataset.facesModel = state.lastInfo.model; // which model labelled the faces listed
  showTimes();
  setFaces(state.faces);
}

function cancelCameraList() {
  clearTimeout(state.listTimer);
  state.listTimer = 0;
  state.lastInfo = null;
  state.listAt = -Infinity;
}

function resetTimes() {
  state.resultTimes = [];
  state.msAvg = null;
  els.fps.textContent = '–';
  els.ms.textContent = '–';
}

/** One analysis's time, counted (shown by showTimes). */
function countTime(ms, nFaces, model) {
  const now = performance.now();
  state.resultTimes.push(now);
  while (state.resultTimes.length && now - state.resultTimes[0] > 2000) state.resultTimes.shift();
  state.msAvg = state.msAvg === null ? ms : state.msAvg * 0.8 + ms * 0.2;
  if (nFaces > 0 && model) {
    // what a face costs here: the frame's analysis over its faces (detection included)
    const per = ms / nFaces;
    const old = state.msPerFace[model];
    state.msPerFace[model] = old ? old * 0.9 + per * 0.1 : per;
  }
}

/** The analysed frames per second, the ms per frame and the model menu's ms/face, shown. */
function showTimes() {
  const now = performance.now();
  while (state.resultTimes.length && now - state.resultTimes[0] > 2000) state.resultTimes.shift();
  if (state.mode === 'camera') {
    const span = (state.resultTimes[state.resultTimes.length - 1] - state.resultTimes[0]) / 1000;
    const fps = state.resultTimes.length > 1 && span > 0 ? (state.resultTimes.length - 1) / span : 0;
    const text = fps ? fps.toFixed(1) : '…';
    if (els.fps.textContent !== text) els.fps.textContent = text;
  } else {
    els.fps.textContent = '–';
  }
  const ms = state.msAvg === null ? '–' : state.msAvg.toFixed(1);
  if (els.ms.textContent !== ms) els.ms.textContent = ms;
  updateModelMenu();
}

/** Faces of a photo (one analysis, no smoothing: the tracker only numbers them). */
function onFaces(msg) {
  state.busy = false;
  // a photo's answer only while that photo is shown (not after Stop, a new photo or the camera)
  if (msg.id !== state.frameId || state.mode !== 'photo') return;
  countTime(msg.ms, msg.faces.length, msg.model);
  showTimes();
  tracker.alpha = 1;
  tracker.reset();
  document.body.dataset.facesModel = msg.model; // which model labelled the faces listed
  const faces = tracker.update(msg.faces);
  recorder.add(faces, { model: msg.model, source: 'photo' });
  setFaces(faces);
  drawPhoto();
  document.body.dataset.photoDone = document.body.dataset.photo;
}

// ---------------------------------------------------------------------------------------------
// Drawing

function mirrored() {
  return state.mode === 'camera';
}

/**
 * The camera view, on each screen refresh where there is something new to show: a new video
 * frame (counted by requestVideoFrameCallback, where the browser has it; else every refresh),
 * new faces or another heat-map opacity. A 30 fps camera on a 60 Hz screen is drawn 30 times a
 * second, not 60.
 */
function render() {
  requestAnimationFrame(render);
  if (state.mode !== 'camera' || !state.video) return;
  const v = state.video;
  if (v.readyState < 2 || !v.videoWidth) return;
  const now = { video: v, frame: state.videoFrames, faces: state.faces, heat: els.explain.checked ? els.heatOpacity.value : '' };
  const d = state.drawn;
  const counted = typeof v.requestVideoFrameCallback === 'function';
  if (counted && d && d.video === now.video && d.frame === now.frame && d.faces === now.faces && d.heat === now.heat) return;
  state.drawn = now;
  if (els.canvas.width !== v.videoWidth || els.canvas.height !== v.videoHeight) {
    els.canvas.width = v.videoWidth;
    els.canvas.height = v.videoHeight;
  }
  ctx.save();
  ctx.setTransform(-1, 0, 0, 1, els.canvas.width, 0); // selfie view
  ctx.drawImage(v, 0, 0);
  ctx.restore();
  drawFaces();
}
requestAnimationFrame(render);
// the canvas's size on screen, for the labels' text size, kept up to date without reading the
// layout while drawing (a read there after the list changed would force a layout every frame)
if (typeof ResizeObserver === 'function') {
  new ResizeObserver((entries) => {
    for (const e of entries) state.canvasCssWidth = e.contentRect.width;
  }).observe(els.canvas);
}

function drawFaces() {
  const { labels, heatCrops } = drawOverlay(ctx, state.faces, {
    mirrored: mirrored(),
    heatOpacity: els.explain.checked ? Number(els.heatOpacity.value) / 100 : 0,
    colors: COLORS,
    cssWidth: state.canvasCssWidth || els.canvas.clientWidth,
    compact: state.faces.length >= COMPACT_FROM,
  });
  // where labels and maps went (the tests check that labels never overlap, maps are masked);
  // attributes only written when they change (each write restyles the canvas)
  const labelsText = JSON.stringify(labels);
  if (els.canvas.dataset.labels !== labelsText) els.canvas.dataset.labels = labelsText;
  const cropsText = heatCrops.length ? JSON.stringify(heatCrops) : undefined;
  if (els.canvas.dataset.heatCrops !== cropsText) {
    if (cropsText) els.canvas.dataset.heatCrops = cropsText;
    else delete els.canvas.dataset.heatCrops;
  }
}

function drawPhoto() {
  if (!state.photo) return;
  els.canvas.width = state.photo.width;
  els.canvas.height = state.photo.height;
  ctx.drawImage(state.photo, 0, 0);
  drawFaces();
}

// ---------------------------------------------------------------------------------------------
// Face list (face-list.js), summary and recording

function setFaces(faces) {
  state.faces = faces;
  const compact = faces.length >= COMPACT_FROM;
  els.faces.classList.toggle('compact', compact);
  els.faceCount.textContent = String(faces.length);
  els.noFaces.hidden = faces.length > 0 || state.mode === 'idle';
  const summary = groupSummary(faces);
  els.summary.textContent = summary;
  els.summary.hidden = !summary;
  // timelines only for the camera: a photo is one point in time
  renderFaceList(els.faces, faces, { compact, colors: COLORS, timeline: state.mode === 'camera' ? (id) => recorder.recent(id) : null });
  document.body.dataset.faces = String(faces.length);
  document.body.dataset.explained = String(faces.filter((f) => f.cam).length);
  const n = recorder.rows.length;
  els.recorded.textContent = String(n);
  els.csvBtn.disabled = els.jsonBtn.disabled = els.clearBtn.disabled = n === 0;
  if (state.mode === 'photo') drawPhoto();
}

// ---------------------------------------------------------------------------------------------
// Export of what was recorded

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
els.csvBtn.addEventListener('click', () => download(`emoxnet-${stamp()}.csv`, recorder.toCSV(), 'text/csv'));
els.jsonBtn.addEventListener('click', () => download(`emoxnet-${stamp()}.json`, JSON.stringify(recorder.toJSON()), 'application/json'));
els.clearBtn.addEventListener('click', () => {
  recorder.clear();
  els.recorded.textContent = '0';
  els.csvBtn.disabled = els.jsonBtn.disabled = els.clearBtn.disabled = true;
});

// ---------------------------------------------------------------------------------------------
// Photos: file picker and drag and drop

function stopPhoto() {
  if (state.photo) state.photo.close?.();
  state.photo = null;
  // an analysis still in the worker is of this photo: its answer must not land on the next one
  state.frameId++;
  if (state.mode === 'photo') state.mode = 'idle';
}

async function openPhoto(file) {
  if (!file || state.broken) return;
  let bmp;
  try {
    bmp = await createImageBitmap(file);
  } catch {
    showError(`"${file.name}" could not be read as an image. Try a PNG or JPEG photo.`, 'photo');
    return;
  }
  stopCamera();
  stopPhoto();
  // show and analyse at most 1280 px on the longer side
  const s = Math.min(1, 1280 / Math.max(bmp.width, bmp.height));
  if (s < 1) {
    const small = await createImageBitmap(bmp, { resizeWidth: Math.round(bmp.width * s), resizeHeight: Math.round(bmp.height * s), resizeQuality: 'high' });
    bmp.close();
    bmp = small;
  }
  state.photo = bmp;
  state.mode = 'photo';
  if (els.error.dataset.kind && els.error.dataset.kind.startsWith('camera')) showError('');
  tracker.reset();
  resetTimes();
  delete document.body.dataset.photoDone;
  document.body.dataset.photo = file.name;
  setFaces([]);
  setViewOn(true);
  drawPhoto();
  analyzePhoto();
}

async function analyzePhoto() {
  if (!state.photo || !state.modelReady || state.broken) return;
  // wait for a frame in flight (from a previous photo)
  for (let i = 0; state.busy && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  sendFrame(state.photo, state.photo.width, state.photo.height, 1280);
}

els.file.addEventListener('change', () => {
  openPhoto(els.file.files[0]);
  els.file.value = '';
});
for (const t of [els.view, document.body]) {
  t.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (state.broken) return;
    els.view.classList.add('dragging');
    els.dropHint.hidden = false;
  });
}
document.body.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) {
    els.view.classList.remove('dragging');
    els.dropHint.hidden = true;
  }
});
document.body.addEventListener('drop', (e) => {
  e.preventDefault();
  els.view.classList.remove('dragging');
  els.dropHint.hidden = true;
  const file = [...(e.dataTransfer?.files || [])].find((f) => f.type.startsWith('image/')) || e.dataTransfer?.files[0];
  openPhoto(file);
});

// ---------------------------------------------------------------------------------------------
// Options and snapshot

els.model.addEventListener('change', () => loadModel(els.model.value));
els.rare.addEventListener('change', () => loadModel(els.model.value));
els.smooth.addEventListener('change', () => {
  if (state.watcher) state.watcher.tracker.alpha = els.smooth.checked ? SMOOTH_ALPHA : 1;
  showNotice(els.smooth.checked ? 'Smoothing on: scores are averaged over recent frames per face.' : 'Smoothing off: every frame shows its own scores.', 'smoothing', true);
});
els.explain.addEventListener('change', () => {
  els.heatLegend.hidden = !els.explain.checked;
  showNotice(els.explain.checked ? 'Heat maps on: red marks the parts of each face that decided its label (class activation map).' : 'Heat maps off.', 'explain', true);
  if (state.mode === 'photo') analyzePhoto();
});
els.heatOpacity.addEventListener('input', () => state.mode === 'photo' && drawPhoto());
els.snapshotBtn.addEventListener('click', () => {
  els.canvas.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `emoxnet-${stamp()}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, 'image/png');
});
updateModelMenu();

window.addEventListener('pagehide', stopCamera);
