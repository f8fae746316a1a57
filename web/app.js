// EmoXNet live demo: camera (or a photo) -> inference worker (web/worker.js: the package's own
// video worker) -> tracked and smoothed faces -> boxes and labels on the canvas, 8 probability
// bars per face in the side panel. The camera runs through the package's watchVideo(), exactly
// as an app would use it; photos and model switches go to the same worker directly.
// URL parameters (for trying the fallbacks): ?simd=0 forces the non-SIMD build;
// ?model=ensemble starts with the ensemble.
import { FaceTracker, watchVideo } from '../wasm/emoxnet.js';

const $ = (id) => document.getElementById(id);
const els = {
  error: $('error'), notice: $('notice'), canvas: $('canvas'), view: $('view'), placeholder: $('placeholder'),
  dropHint: $('dropHint'), fps: $('fps'), ms: $('ms'), backend: $('backend'), cameraBtn: $('cameraBtn'),
  file: $('file'), snapshotBtn: $('snapshotBtn'), model: $('model'), smooth: $('smooth'), explain: $('explain'), faces: $('faces'),
  faceCount: $('faceCount'), noFaces: $('noFaces'), modelInfo: $('modelInfo'),
};
const ctx = els.canvas.getContext('2d');
const params = new URLSearchParams(location.search);
const CLASSES = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'];
const COLORS = ['#4fc3f7', '#ffb74d', '#aed581', '#f48fb1', '#ce93d8', '#fff176', '#80cbc4', '#ff8a65'];
const SMOOTH_ALPHA = 0.35;

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
  frameSize: null,
  resultTimes: [],
  msAvg: null,
  offscreen: true,
  stopped: false,
  broken: false,
};
const tracker = new FaceTracker({ alpha: SMOOTH_ALPHA });
document.body.dataset.state = 'starting';

// ---------------------------------------------------------------------------------------------
// Messages

function showError(text, kind) {
  els.error.textContent = text;
  els.error.hidden = !text;
  if (kind) els.error.dataset.kind = kind;
  else delete els.error.dataset.kind;
}
function showNotice(text, kind) {
  els.notice.textContent = text;
  els.notice.hidden = !text;
  if (kind) els.notice.dataset.kind = kind;
}

// ---------------------------------------------------------------------------------------------
// Environment checks (file:// and no WebAssembly are handled by the inline script: module
// scripts do not even run from file://)

const simdWanted = params.get('simd') !== '0';
let simdNote = '';
if (location.protocol === 'file:' || typeof WebAssembly !== 'object') {
  state.broken = true;
} else {
  const secure = window.isSecureContext;
  const hasGum = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (!secure || !hasGum) {
    els.cameraBtn.disabled = true;
    showError(
      !secure
        ? `The camera only works on a secure origin (https:// or http://localhost), and this page was opened from ${location.origin}. Open it through "npm start" (http://127.0.0.1:8080/web/) or over https. You can still analyse a photo.`
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
      state.broken = true;
      document.body.dataset.state = 'worker-error';
      showError(`The inference worker could not start (${ev.message || 'module worker failed to load'}). This browser may not support module workers, or wasm/emoxnet.js could not be fetched: serve the repository root with "npm start".`, 'worker');
    };
    loadModel(params.get('model') === 'ensemble' ? 'ensemble' : 'lite');
  } catch (err) {
    state.broken = true;
    showError(`The inference worker could not start: ${err.message}. Please use a current browser.`, 'worker');
  }
}

function loadModel(name) {
  state.modelReady = state.modelName !== null; // keep using the current model while loading
  els.model.disabled = true;
  els.backend.textContent = `loading ${name}…`;
  worker.postMessage({ type: 'load', model: name, simd: simdWanted ? undefined : false });
}

function modelLabel(name) {
  return name === 'ensemble' ? 'Ensemble' : name === 'lite' ? 'Lite' : name;
}

/** Why a model did not load, in words: LOAD means its file could not be fetched or read. */
function loadFailure(msg) {
  if (msg.code === 'LOAD' && msg.model === 'ensemble') {
    return 'The ensemble model is not available in this build (models/emoxnet.emx could not be fetched).';
  }
  return `The ${modelLabel(msg.model)} model failed to load.`;
}

function onWorkerMessage(msg) {
  if (msg.type === 'hello') {
    state.offscreen = msg.offscreen;
    if (!msg.simd) simdNote = 'This browser has no WebAssembly SIMD: running the slower non-SIMD build (same results).';
    else if (!simdWanted) simdNote = 'Running the non-SIMD build (?simd=0).';
    if (simdNote) showNotice(simdNote, 'no-simd');
  } else if (msg.type === 'loaded') {
    state.modelName = msg.model;
    state.modelReady = true;
    els.model.disabled = false;
    els.model.value = msg.model;
    els.backend.textContent = `${modelLabel(msg.model)} · wasm ${msg.variant}`;
    document.body.dataset.model = msg.model;
    document.body.dataset.variant = msg.variant;
    const acc = msg.meta.valid_accuracy ? `, ${(Number(msg.meta.valid_accuracy) * (Number(msg.meta.valid_accuracy) <= 1 ? 100 : 1)).toFixed(2)}% FER+ Valid` : '';
    els.modelInfo.textContent = `${msg.meta.name || modelLabel(msg.model)}${acc}, wasm ${msg.variant}`;
    tracker.reset();
    state.watcher?.tracker.reset();
    syncWatching();
    // a model error stays up until the model it was about loads (not when Lite, the fallback, does)
    if (els.error.dataset.kind === 'model' && state.failedModel === msg.model) showError('');
    if (document.body.dataset.state === 'starting') document.body.dataset.state = 'ready';
    if (state.mode === 'photo') analyzePhoto();
  } else if (msg.type === 'error' && msg.stage === 'load') {
    els.model.disabled = false;
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
      state.broken = true;
      syncWatching();
      els.backend.textContent = 'no model';
      document.body.dataset.state = 'model-error';
      showError(`The expression model failed to load, so nothing can be analysed. (${msg.code}: ${msg.message}) Check that the page is served by "npm start" from the repository root and that the WebAssembly build exists (npm run build).`, 'model-fatal');
    }
  } else if (msg.type === 'faces') {
    // camera frames (string ids) are watchVideo()'s: it answers them through onCameraFaces
    if (typeof msg.id !== 'string') onFaces(msg);
  } else if (msg.type === 'error' && msg.stage === 'frame') {
    if (typeof msg.id !== 'string') state.busy = false;
    if (msg.code === 'LOAD') {
      state.broken = true;
      syncWatching();
      document.body.dataset.state = 'detector-error';
      showError(`The face detector failed to load (${msg.message}). Check that models/blazeface.emx is served.`, 'detector');
    } else {
      showError(`Analysis failed on a frame (${msg.code}: ${msg.message}).`, 'frame');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Camera

async function startCamera() {
  showError(els.error.dataset.kind === 'model' ? els.error.textContent : '', els.error.dataset.kind === 'model' ? 'model' : undefined);
  els.cameraBtn.disabled = true;
  els.cameraBtn.textContent = 'Starting…';
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    stopPhoto();
    state.stream = stream;
    state.video = video;
    state.mode = 'camera';
    tracker.reset();
    document.body.dataset.camera = 'on';
    els.cameraBtn.textContent = 'Stop camera';
    setViewOn(true);
    syncWatching();
    stream.getVideoTracks()[0]?.addEventListener('ended', stopCamera);
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
    els.cameraBtn.disabled = false;
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
      onFaces: onCameraFaces,
      onError: () => {}, // frame errors reach onWorkerMessage too, which shows them
    });
  } else if (!want && state.watcher) {
    state.watcher.stop();
    state.watcher = null;
  }
}

function stopCamera() {
  if (state.stream) for (const t of state.stream.getTracks()) t.stop();
  state.stream = null;
  state.video = null;
  syncWatching();
  if (state.mode === 'camera') {
    state.mode = 'idle';
    setViewOn(false);
    setFaces([]);
  }
  document.body.dataset.camera = 'off';
  els.cameraBtn.textContent = 'Start camera';
}

els.cameraBtn.addEventListener('click', () => (state.stream ? stopCamera() : startCamera()));

function setViewOn(on) {
  els.canvas.classList.toggle('on', on);
  els.view.classList.toggle('has-image', on);
  els.placeholder.hidden = on;
  els.snapshotBtn.disabled = !on;
}

// ---------------------------------------------------------------------------------------------
// Photos to the worker (the camera goes through watchVideo(), above)

async function sendFrame(source, width, height, maxSide) {
  state.busy = true;
  const id = ++state.frameId;
  try {
    if (state.offscreen && typeof createImageBitmap === 'function') {
      const bitmap = await createImageBitmap(source);
      worker.postMessage({ type: 'frame', id, bitmap, width, height, maxSide, explain: els.explain.checked }, [bitmap]);
    } else {
      const scale = Math.min(1, maxSide / Math.max(width, height));
      const c = document.createElement('canvas');
      c.width = Math.round(width * scale);
      c.height = Math.round(height * scale);
      const cx = c.getContext('2d');
      cx.drawImage(source, 0, 0, c.width, c.height);
      const img = cx.getImageData(0, 0, c.width, c.height);
      worker.postMessage({ type: 'frame', id, image: img, width: c.width, height: c.height, explain: els.explain.checked }, [img.data.buffer]);
    }
  } catch (err) {
    state.busy = false;
    showError(`Could not read the frame: ${err.message}`, 'frame');
  }
  return id;
}

/** Faces of a camera frame, tracked and smoothed by watchVideo(). */
function onCameraFaces(faces, info) {
  if (state.mode !== 'camera') return;
  showTimes(info.ms);
  state.frameSize = { width: info.width, height: info.height };
  document.body.dataset.facesModel = info.model; // which model labelled the faces listed
  setFaces(faces);
}

function showTimes(ms) {
  const now = performance.now();
  state.resultTimes.push(now);
  while (state.resultTimes.length && now - state.resultTimes[0] > 1000) state.resultTimes.shift();
  state.msAvg = state.msAvg === null ? ms : state.msAvg * 0.8 + ms * 0.2;
  if (state.mode === 'camera') {
    const span = (now - state.resultTimes[0]) / 1000;
    const fps = state.resultTimes.length > 1 && span > 0 ? (state.resultTimes.length - 1) / span : 0;
    els.fps.textContent = fps ? fps.toFixed(1) : '…';
  } else {
    els.fps.textContent = '–';
  }
  els.ms.textContent = state.msAvg.toFixed(1);
}

/** Faces of a photo (one analysis, no smoothing: the tracker only numbers them). */
function onFaces(msg) {
  state.busy = false;
  if (msg.id !== state.frameId) return;
  showTimes(msg.ms);
  tracker.alpha = 1;
  tracker.reset();
  state.frameSize = { width: msg.width, height: msg.height };
  document.body.dataset.facesModel = msg.model; // which model labelled the faces listed
  setFaces(tracker.update(msg.faces));
  if (state.mode === 'photo') drawPhoto();
}

// ---------------------------------------------------------------------------------------------
// Drawing

function mirrored() {
  return state.mode === 'camera';
}

function render() {
  requestAnimationFrame(render);
  if (state.mode !== 'camera' || !state.video) return;
  const v = state.video;
  if (v.readyState < 2 || !v.videoWidth) return;
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

/** A class activation map (0..1, from model.explain) as a small translucent colour image:
 * blue (ignored) through green to red (what decided the label). */
function heatImage(heat) {
  const c = document.createElement('canvas');
  c.width = heat.width;
  c.height = heat.height;
  const cx = c.getContext('2d');
  const img = cx.createImageData(heat.width, heat.height);
  const ramp = (t) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(t))));
  for (let i = 0; i < heat.data.length; i++) {
    const v = heat.data[i];
    img.data.set([ramp(4 * v - 3), ramp(4 * v - 2), ramp(4 * v - 1), Math.round(60 + 120 * v)], i * 4);
  }
  cx.putImageData(img, 0, 0);
  return c;
}

function drawHeat(f, W) {
  const { x, y, width: w, height: h } = f.heat.crop;
  ctx.save();
  if (mirrored()) { // the view is a selfie mirror: mirror the map with it
    ctx.translate(W - x, y);
    ctx.scale(-1, 1);
  } else {
    ctx.translate(x, y);
  }
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatImage(f.heat), 0, 0, w, h);
  ctx.restore();
}

function drawFaces() {
  const W = els.canvas.width;
  const k = W / Math.max(1, els.canvas.clientWidth || W); // canvas px per CSS px
  const fontPx = Math.round(15 * k);
  ctx.lineWidth = Math.max(2, 3 * k);
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  if (els.explain.checked) state.faces.forEach((f) => f.heat && drawHeat(f, W));
  state.faces.forEach((f, i) => {
    const color = COLORS[(f.id - 1) % COLORS.length];
    let { x, y, width: w, height: h } = f.box;
    if (mirrored()) x = W - x - w;
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, w, h);
    const p = f.label ? f.scores[f.label] : 0;
    const text = `${i + 1} ${f.label ?? 'face'} ${Math.round(p * 100)}%`;
    const tw = ctx.measureText(text).width + 10 * k;
    const th = fontPx + 8 * k;
    const ty = y - th >= 0 ? y - th : y;
    const tx = Math.min(Math.max(0, x - ctx.lineWidth / 2), W - tw);
    ctx.fillStyle = color;
    ctx.fillRect(tx, ty, tw, th);
    ctx.fillStyle = '#000';
    ctx.fillText(text, tx + 5 * k, ty + 4 * k);
  });
}

function drawPhoto() {
  if (!state.photo) return;
  els.canvas.width = state.photo.width;
  els.canvas.height = state.photo.height;
  ctx.drawImage(state.photo, 0, 0);
  drawFaces();
}

// ---------------------------------------------------------------------------------------------
// Face list with 8 probability bars each


function setFaces(faces) {
  state.faces = faces;
  els.faceCount.textContent = String(faces.length);
  els.noFaces.hidden = faces.length > 0 || state.mode === 'idle';
  while (els.faces.children.length > faces.length) els.faces.lastElementChild.remove();
  faces.forEach((f, i) => {
    let li = els.faces.children[i];
    if (!li) {
      li = document.createElement('li');
      li.className = 'face';
      li.innerHTML = `<p class="face-title"></p><dl class="bars">${CLASSES.map((c) => `
        <dt data-c="${c}">${c}</dt>
        <dd><div class="bar" role="meter" aria-label="${c}" aria-valuemin="0" aria-valuemax="100"><span></span></div></dd>
        <dd class="pct" data-c="${c}"></dd>`).join('')}</dl>`;
      els.faces.append(li);
    }
    const color = COLORS[(f.id - 1) % COLORS.length];
    li.style.setProperty('--c', color);
    const p = f.label ? f.scores[f.label] : 0;
    li.dataset.label = f.label ?? '';
    li.dataset.id = f.id;
    li.dataset.cx = String(Math.round(f.box.x + f.box.width / 2));
    li.dataset.cy = String(Math.round(f.box.y + f.box.height / 2));
    li.setAttribute('aria-label', `Face ${i + 1}: ${f.label ?? 'unclassified'} ${Math.round(p * 100)} percent`);
    li.querySelector('.face-title').innerHTML = `Face ${i + 1}: <span class="top">${f.label ?? 'unclassified'}</span> ${Math.round(p * 100)}%`;
    for (const c of CLASSES) {
      const v = f.scores[c] ?? 0;
      const pct = Math.round(v * 100);
      const bar = li.querySelector(`.bar[aria-label="${c}"]`);
      bar.setAttribute('aria-valuenow', String(pct));
      bar.firstElementChild.style.width = `${(v * 100).toFixed(1)}%`;
      li.querySelector(`dd.pct[data-c="${c}"]`).textContent = `${pct}%`;
      li.querySelector(`dt[data-c="${c}"]`).classList.toggle('is-top', c === f.label);
    }
  });
  document.body.dataset.faces = String(faces.length);
  document.body.dataset.explained = String(faces.filter((f) => f.heat).length);
}

// ---------------------------------------------------------------------------------------------
// Photos: file picker and drag and drop

function stopPhoto() {
  if (state.photo) state.photo.close?.();
  state.photo = null;
}

async function openPhoto(file) {
  if (!file) return;
  if (state.broken) return;
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
  setFaces([]);
  setViewOn(true);
  drawPhoto();
  document.body.dataset.photo = file.name;
  analyzePhoto();
}

async function analyzePhoto() {
  if (!state.photo || !state.modelReady) return;
  // wait for a frame in flight (from the camera or a previous photo)
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
let noticeTimer = 0;
els.smooth.addEventListener('change', () => {
  if (state.watcher) state.watcher.tracker.alpha = els.smooth.checked ? SMOOTH_ALPHA : 1;
  showNotice(els.smooth.checked ? 'Smoothing on: scores are averaged over recent frames per face.' : 'Smoothing off: every frame shows its own scores.', 'smoothing');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => showNotice(simdNote, simdNote ? 'no-simd' : undefined), 3000);
});
els.explain.addEventListener('change', () => {
  showNotice(els.explain.checked ? 'Heat maps on: red marks the parts of each face that decided its label (class activation map).' : 'Heat maps off.', 'explain');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => showNotice(simdNote, simdNote ? 'no-simd' : undefined), 3000);
  if (state.mode === 'photo') analyzePhoto();
});
els.snapshotBtn.addEventListener('click', () => {
  els.canvas.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `emoxnet-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }, 'image/png');
});

window.addEventListener('pagehide', stopCamera);
