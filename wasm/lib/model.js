// model.js - load() and the Model class: one loaded network in its own wasm instance, with the
// face detector loaded into the same instance on first use.
import { coreError, EmxError, invalidArg, show, ST_FORMAT, ST_INVALID_ARG, ST_UNSUPPORTED } from './errors.js';
import { DETECTOR_FILE, assetLocation, isDefaultLocation, ASSET_HINT } from './assets.js';
import { Wasm, getModule } from './wasm.js';
import { checkOptions } from './options.js';
import { fetchModel, sourceBytes } from './sources.js';
import { byteView, isLocalFile, typedArrayKind } from './io.js';
import { checkBox, checkImage, isInt } from './image.js';
import { toRawImage } from './media.js';
import { decodeWith } from './codec.js';
import { areProbabilities, checkDetectOptions, classScores, numericError, readFaces, resolveTiles } from './detector.js';
import { KNOWN_META_KEYS, parseMetaKeys } from './meta.js';
import { normaliseCam } from './cam.js';
import { applyBalance, balanceWeights, isFerplusOrder, pickLabel } from './balance.js';

/** analyze()'s explain option: true or false (absent); detect() takes none. */
function explainOption(options, classify) {
  const v = options === undefined || options === null || typeof options !== 'object' ? undefined : options.explain;
  if (v === undefined || v === null || v === false) return false;
  if (v !== true) throw invalidArg(`options.explain must be true or false (got ${show(v)})`);
  if (!classify) throw invalidArg('options.explain is an analyze() option (detect() does not classify)');
  return true;
}

/** A loaded model. Create with load(); release with dispose(). Not safe for re-entrant use. */
class Model {
  #w; // Wasm instance, null after dispose()
  #detector = 0; // emx_model* of the face detector in the same instance (lazy), or #model
  #detectorSource; // what load() was told to use for it
  #detectorLoading = null; // the pending first load, shared by concurrent calls
  #faces = 0; // face records for detect()/analyze(), grown on demand
  #facesCap = 0;
  #model = 0; // emx_model* in that instance
  #probs = 0; // num_classes floats, allocated once
  #input = 0; // the input tensor for run(), allocated once
  #pixels = 0; // pixel buffer for classify(), grown on demand, reused across calls
  #pixelsCap = 0;
  #inputLen;
  #budget; // load()'s options.budget, for the detector too
  #thresholds = null; // the file's label thresholds per class index, or null when it has none
  // The label (class index) of the last classify()/run() or analyzed face: explainLast()'s default
  // class; -1 while there is nothing to explain.
  #lastLabel = -1;
  #balance = 0; // load()'s options.balance
  #weights = null; // its per-class factors (balance.js), null for balance 0

  /** @internal use load() */
  constructor(w, modelPtr, variant, reference, bytes, detectorSource, budget = {}, balance = 0) {
    this.#w = w;
    this.#model = modelPtr;
    this.#detectorSource = detectorSource;
    this.#budget = budget;
    const n = w.call('emx_wasm_num_classes', modelPtr);
    const names = [];
    for (let i = 0; i < n; i++) names.push(w.string(w.call('emx_wasm_class_name', modelPtr, i)) ?? `class${i}`);
    // The core refuses empty, duplicate and '__proto__' names at load; checked here too, since
    // scores are keyed by name and a duplicate would silently drop a class's score.
    const seen = new Set();
    for (const name of names) {
      if (name === '' || seen.has(name)) {
        throw new EmxError('FORMAT', `load: class name ${JSON.stringify(name)} is ${name === '' ? 'empty' : 'repeated'} (class names must be unique)`, ST_FORMAT);
      }
      seen.add(name);
    }
    /** Class names in output order. */
    this.classNames = Object.freeze(names);
    // The prior is FER+ Train's, per class index: any other class list would be reweighted by
    // the wrong numbers, silently.
    if (balance !== 0 && !isFerplusOrder(names)) {
      throw invalidArg(`load: options.balance needs a model whose classes are the 8 FER+ expressions in their order (this one has ${names.join(', ')})`);
    }
    this.#balance = balance;
    this.#weights = balance !== 0 ? balanceWeights(balance) : null;
    if (this.#weights) {
      // The core picks analyze()'s labels (and the class each face's map explains) while it
      // holds the face's run: it gets the same factors, so its labels are the balanced ones.
      const ptr = w.malloc(4 * n);
      try {
        new Float32Array(w.memory.buffer, ptr, n).set(this.#weights);
        const st = w.call('emx_wasm_set_label_weights', modelPtr, ptr, n);
        if (st !== 0) throw w.statusError(st, 'load');
      } finally {
        w.free(ptr);
      }
    }
    // The file's label thresholds (0: none), which classify()'s labels follow as the core's do.
    const thresholds = Array.from(names, (_, c) => w.call('emx_wasm_label_threshold', modelPtr, c));
    this.#thresholds = thresholds.some((t) => t > 0) ? Float64Array.from(thresholds) : null;
    /**
     * Label thresholds from the file, by class name (only classes that have one): a class whose
     * probability (the model's own, before any balance) reaches its threshold is the label even
     * when another class scores higher.
     */
    this.labelThresholds = Object.freeze(Object.fromEntries(names.flatMap((c, i) => (thresholds[i] > 0 ? [[c, thresholds[i]]] : []))));
    /** The model's input tensor: height x width x channels floats, (pixel/255 - mean)/std. */
    this.inputSpec = Object.freeze({
      width: w.call('emx_wasm_input_width', modelPtr),
      height: w.call('emx_wasm_input_height', modelPtr),
      channels: w.call('emx_wasm_input_channels', modelPtr),
      mean: w.call('emx_wasm_input_mean', modelPtr),
      std: w.call('emx_wasm_input_std', modelPtr),
    });
    const entries = [];
    for (const key of new Set([...parseMetaKeys(bytes, budget.maxMetaKeys ?? w.limits.maxMetaKeys), ...KNOWN_META_KEYS])) {
      const v = w.meta(modelPtr, key);
      if (v !== null) entries.push([key, v]);
    }
    const meta = Object.fromEntries(entries); // own properties, a key '__proto__' included
    /** Metadata strings from the file (keys such as name, description, valid_accuracy). */
    this.meta = Object.freeze(meta);
    /** Which wasm build runs this model: 'relaxed', 'simd', 'scalar' or 'custom' (wasmBinary/wasmModule). */
    this.variant = variant;
    /** Whether the plain C reference ops run instead of the optimised kernels. */
    this.reference = reference;
    this.#inputLen = this.inputSpec.width * this.inputSpec.height * this.inputSpec.channels;
    this.#probs = w.malloc(4 * Math.max(1, n));
    this.#input = w.malloc(4 * Math.max(1, this.#inputLen));
    /** Whether this file is a face detector (META task=detector): detect() only. */
    this.isDetector = meta.task === 'detector';
    if (this.isDetector) this.#detector = modelPtr;
  }

  #live() {
    if (!this.#w) throw new EmxError('DISPOSED', 'the model was disposed');
    return this.#w;
  }

  /** The probabilities the last run wrote, checked: NUMERIC (and nothing to explain) otherwise. */
  #readProbs(w, what) {
    const n = this.classNames.length;
    const probs = new Float32Array(w.memory.buffer, this.#probs, n).slice();
    if (!areProbabilities(probs)) {
      this.#lastLabel = -1;
      throw numericError(what);
    }
    this.#lastLabel = pickLabel(probs, this.#thresholds); // run()'s: the raw output's label
    return probs;
  }

  /** What classify()/analyze() hand out for a run's probabilities: balanced when asked at load. */
  #shown(probs) {
    return this.#weights ? applyBalance(probs, this.#weights) : probs;
  }

  /** load()'s options.balance: 0 (the model as trained) to 1; see balance.js. */
  get balance() {
    return this.#balance;
  }

  /**
   * Raw pixels of any accepted input (media.js), checked against the instance's limits;
   * encoded bytes decode in this instance. The caller's code (getters) may run in here, and may
   * dispose the model: take the instance (#live) again afterwards. img.data is exactly the
   * checked bytes: copy it before anything else runs.
   */
  #image(input) {
    const img = toRawImage(input, (bytes) => decodeWith(this.#live(), bytes, 'decoding the image'));
    return checkImage(img, this.#live().limits);
  }

  /**
   * Classify a face. image: ImageData, {data, width, height, channels?}, PNG/JPEG bytes or a
   * media element (media.js); box: the face in pixel coordinates (whole image when omitted).
   * Returns {label, scores}: the scores balanced as load() was told; label the class whose
   * probability reaches its threshold in labelThresholds (the shipped models: contempt and
   * disgust; of several, the lowest threshold), else the top score.
   */
  classify(image, box) {
    this.#live();
    // The box first, then the image: its pixels are copied right after they were checked, with
    // no code of the caller's (a getter) in between.
    const b = checkBox(box);
    const img = this.#image(image);
    const w = this.#live(); // disposed by a getter meanwhile?
    this.#lastLabel = -1; // the core's run is replaced: explainable again only if this one succeeds
    let st = b ? this.#classifyWindow(w, img, b) : null;
    if (st === null) {
      this.#upload(w, img);
      st = w.call('emx_wasm_classify', this.#model, this.#pixels, img.width, img.height, img.channels,
        b ? 1 : 0, b ? b.x : 0, b ? b.y : 0, b ? b.width : 0, b ? b.height : 0, this.#probs);
    }
    if (st !== 0) throw w.statusError(st, 'classify');
    const raw = this.#readProbs(w, 'classify');
    const probs = this.#shown(raw);
    const label = pickLabel(probs, this.#thresholds, raw);
    this.#lastLabel = label; // explainLast()'s default class is this result's label
    return { label: this.classNames[label], scores: classScores(this.classNames, probs) };
  }

  /**
   * Why: classify a face and return a class activation map over the face crop the network
   * saw (the box, or the whole image, resized to the model input, e.g. 48 x 48):
   * {width, height, data: Float32Array (row-major), label, scores, explained}. explained is the
   * class the map is for: options.label (a class name or index), else the label. The map
   * is the CAM (last features weighted by that class's dense weights, ensemble branches
   * weighted like their predictions; emx_explain in include/emoxnet.h), then normalised to 0..1:
   * negative evidence clipped to 0 (ReLU), divided by the maximum (all zeros when nothing is
   * positive). options.raw: true returns the unnormalised map (logit units) instead.
   */
  explain(image, box, options) {
    const { label, scores } = this.classify(image, box);
    const out = this.explainLast(options);
    return { ...out, label, scores };
  }

  /**
   * The map of explain() for the most recent classify() or run(), or, when analyze() came
   * later and classified a face, for the last face of its result that has a label.
   */
  explainLast(options) {
    this.#live();
    const o = options ?? {};
    if (typeof o !== 'object') throw invalidArg('explain options must be an object');
    const label = o.label;
    const raw = o.raw;
    let idx = -1;
    if (label !== undefined && label !== null) {
      idx = typeof label === 'string' ? this.classNames.indexOf(label) : label;
      if (!isInt(idx, 0, this.classNames.length - 1)) {
        throw invalidArg(`explain: unknown label ${show(label)} (one of ${this.classNames.join(', ')})`);
      }
    }
    const w = this.#live(); // disposed by a getter of options?
    if (this.#lastLabel < 0) throw new EmxError('UNSUPPORTED', 'explain: nothing to explain (no classify() or run() has succeeded yet)', ST_UNSUPPORTED);
    // The default class is the label of the result explained (balanced, when the model is), as
    // it was picked then (the core's own default, -1, would pick from run()'s raw output).
    if (idx < 0) idx = this.#lastLabel;
    const { width, height } = this.inputSpec;
    const mapPtr = w.malloc(4 * width * height);
    let data;
    try {
      const st = w.call('emx_wasm_explain', this.#model, idx, mapPtr, width, height);
      if (st !== 0) throw w.statusError(st, 'explain');
      data = new Float32Array(w.memory.buffer, mapPtr, width * height).slice();
    } finally {
      if (!w.broken) w.free(mapPtr);
    }
    if (!raw) normaliseCam(data);
    return { width, height, data, explained: this.classNames[idx] };
  }

  /**
   * classify() of a box that covers a small part of a large frame: only the rows and columns
   * its crop can read are copied into wasm memory (a 640x480 RGBA frame is 1.2 MB; copying it
   * cost about a fifth of a Lite classify()). The core computes the crop on the whole frame's
   * size and reads it from the window (emx__classify_window): the same numbers, bit for bit.
   * The window has 2 pixels of margin for the float32 rounding of the box; should the core
   * still find the crop outside it (INVALID_ARG), or the window not be much smaller than the
   * frame, or the module predate this function (a wasmBinary of an older build), this returns
   * null and the frame is copied whole; else the core's status.
   */
  #classifyWindow(w, img, b) {
    if (typeof w.ex.emx_wasm_classify_window !== 'function') return null; // an older wasmBinary
    const { width: W, height: H, channels: ch } = img;
    const x0 = Math.min(Math.max(Math.floor(b.x) - 2, 0), W - 1), y0 = Math.min(Math.max(Math.floor(b.y) - 2, 0), H - 1);
    const x1 = Math.max(Math.min(Math.ceil(b.x + b.width) + 2, W), x0 + 1);
    const y1 = Math.max(Math.min(Math.ceil(b.y + b.height) + 2, H), y0 + 1);
    const ww = x1 - x0, wh = y1 - y0;
    if (2 * ww * wh > W * H) return null;
    const size = ww * wh * ch;
    this.#reserve(w, size);
    const heap = w.u8(), row = ww * ch;
    for (let y = 0; y < wh; y++) {
      const from = ((y0 + y) * W + x0) * ch;
      heap.set(img.data.subarray(from, from + row), this.#pixels + y * row);
    }
    const st = w.call('emx_wasm_classify_window', this.#model, this.#pixels, ww, wh, ch, W, H, x0, y0,
      b.x, b.y, b.width, b.height, this.#probs);
    return st === ST_INVALID_ARG ? null : st;
  }

  #upload(w, img) {
    this.#reserve(w, img.size);
    w.u8().set(img.data, this.#pixels); // exactly img.size bytes: a fixed-length view (checkImage)
  }

  #reserve(w, size) {
    if (size > this.#pixelsCap) {
      // Grow with slack so a stream of slightly different sizes does not reallocate each time.
      const l = w.limits;
      const cap = Math.min(4 * l.maxPixels, Math.max(size, Math.ceil(this.#pixelsCap * 1.5)));
      w.free(this.#pixels);
      this.#pixels = 0;
      this.#pixelsCap = 0;
      this.#pixels = w.malloc(cap);
      this.#pixelsCap = cap;
    }
  }

  // Load the detector into this model's instance (once; concurrent callers share the load).
  async #ensureDetector() {
    if (this.#detector) return;
    if (!this.#detectorLoading) {
      this.#detectorLoading = (async () => {
        let bytes;
        try {
          const src = this.#detectorSource;
          bytes = src.default ? await fetchModel(src.where, src.hint) : await sourceBytes(src);
        } catch (err) {
          if (err instanceof EmxError) throw new EmxError(err.code, `face detector: ${err.message}`, err.status, { cause: err });
          throw err;
        }
        const w = this.#live();
        if (this.#detector) return;
        const ptr = w.loadModel(bytes, this.reference, 'loading the face detector', this.#budget);
        if (w.meta(ptr, 'task') !== 'detector') {
          w.call('emx_wasm_free', ptr);
          throw coreError('FORMAT', 'face detector: the file is not a detector (its META has no task=detector)');
        }
        this.#detector = ptr;
      })();
      this.#detectorLoading.catch(() => {
        this.#detectorLoading = null; // a later call may try again (e.g. after a network error)
      });
    }
    await this.#detectorLoading;
  }

  async #faceCall(image, options, classify) {
    const w0 = this.#live();
    // Options first, then the pixels, checked and taken at once (a video keeps playing, and the
    // caller's buffer may be reused or resized once this call has started): straight into wasm
    // memory when the detector is ready, else into a private copy for after its load.
    let o = checkDetectOptions(options, w0.limits);
    const explain = explainOption(options, classify);
    if (classify && this.isDetector) {
      throw invalidArg('analyze() needs an expression model; this model is a face detector (use detect())');
    }
    let img = this.#image(image);
    o = resolveTiles(o, img, this.#live().limits); // (and disposed by a getter meanwhile?)
    if (!this.#detector) {
      img = { ...img, data: img.data.slice() };
      await this.#ensureDetector();
    }
    const w = this.#live(); // disposed while the detector loaded?
    const nClasses = classify ? this.classNames.length : 0;
    const stride = w.call('emx_wasm_face_floats') + nClasses;
    const need = 4 * stride * Math.max(1, o.maxFaces);
    if (need > this.#facesCap) {
      w.free(this.#faces);
      this.#faces = 0;
      this.#facesCap = 0;
      this.#faces = w.malloc(need + 4); // + the face count
      this.#facesCap = need;
    }
    this.#upload(w, img);
    const countPtr = this.#faces + need;
    // explain: one map per face, at the network's input size, from the face's own run
    // (emx_analyze_explain), over the crop its record reports.
    const { width: mw, height: mh } = this.inputSpec;
    const mapsPtr = explain ? w.malloc(4 * mw * mh * Math.max(1, o.maxFaces)) : 0;
    let faces;
    let lastLabelled;
    let rec;
    try {
      const st = classify
        ? w.call('emx_wasm_analyze', this.#detector, this.#model, this.#pixels, img.width, img.height, img.channels,
          o.scoreThreshold, o.iouThreshold, o.minFaceSize, o.maxFaces, o.tiles, this.#faces, countPtr, mapsPtr, mw, mh)
        : w.call('emx_wasm_detect', this.#detector, this.#pixels, img.width, img.height, img.channels,
          o.scoreThreshold, o.iouThreshold, o.minFaceSize, o.maxFaces, o.tiles, this.#faces, countPtr);
      if (st !== 0) throw w.statusError(st, classify ? 'analyze' : 'detect');
      const n = new Int32Array(w.memory.buffer, countPtr, 1)[0];
      rec = new Float32Array(w.memory.buffer, this.#faces, n * stride).slice();
      ({ faces, lastLabelled } = readFaces(rec, n, stride, classify ? this.classNames : null, this.#weights));
      if (explain) {
        // The core made each map for the label it picked while it held the face's run: the
        // face's label, balanced too (emx_wasm_set_label_weights at load); explained names it.
        faces.forEach((f, i) => {
          const data = new Float32Array(w.memory.buffer, mapsPtr + 4 * mw * mh * i, mw * mh).slice();
          f.cam = f.label === null ? null : { width: mw, height: mh, data: normaliseCam(data), explained: f.label };
        });
      }
    } finally {
      if (mapsPtr && !w.broken) w.free(mapsPtr);
    }
    // The classifier now holds the last labelled face's run: explainLast() explains that face.
    if (lastLabelled >= 0) {
      this.#lastLabel = rec[(lastLabelled + 1) * stride - nClasses - 1]; // the label the core picked
    }
    return faces;
  }

  /**
   * Find faces in a whole frame or photo. Resolves to [{box, score, landmarks, crop}], best
   * score first (landmarks: the subject's right eye, left eye, nose tip, mouth, right ear, left
   * ear; crop: the square analyze() would classify, as analyze() reports it).
   * options: {scoreThreshold = 0.5, iouThreshold = 0.3, minFaceSize = 0 (px), maxFaces = 32,
   * tiles = 0}. tiles N (2..4) also runs the detector on an N x N grid of overlapping windows
   * for small faces (group photos), at N * N + 1 times the detection cost (emx_detect_params);
   * tiles 'auto' picks N from the image size (autoTiles(): for still photos).
   * The first call loads the face detector (models/blazeface.emx, or load()'s
   * options.detector) into this model's instance; later calls only compute.
   */
  async detect(image, options) {
    return this.#faceCall(image, options, false);
  }

  /**
   * detect(), then classify every face on its crop (cropped like FER+ faces, rotated so the
   * eyes are level): [{box, score, landmarks, crop, label, scores}]. crop: {cx, cy, side, angle}
   * (emx_crop in include/emoxnet.h). label is null for a face too large to crop.
   * options: detect()'s, and explain: true to add each face's class activation map, `cam`:
   * {width, height, data} (0..1, as explain() normalises it) over `crop`, for the face's label,
   * from the same run that labelled it (null for a face without a label). Draw it rotated by
   * crop.angle about (crop.cx, crop.cy), crop.side pixels a side.
   */
  async analyze(image, options) {
    return this.#faceCall(image, options, true);
  }

  /**
   * Run the network on a preprocessed input tensor (Float32Array, NHWC); returns the
   * probabilities as the network gives them: the raw output, never balanced.
   */
  run(input) {
    const w = this.#live();
    if (typedArrayKind(input) !== 'Float32Array') throw invalidArg('run() takes a Float32Array');
    // Its real size (not a `length` property), and exactly those bytes copied.
    const bytes = byteView(input);
    if (bytes.length !== 4 * this.#inputLen) {
      const s = this.inputSpec;
      throw invalidArg(`run() input has ${bytes.length / 4} floats, expected ${s.height} x ${s.width} x ${s.channels} = ${this.#inputLen}`);
    }
    w.u8().set(bytes, this.#input);
    this.#lastLabel = -1; // the core's run is replaced: explainable again only if this one succeeds
    const st = w.call('emx_wasm_run', this.#model, this.#input, this.#probs);
    if (st !== 0) throw w.statusError(st, 'run');
    return this.#readProbs(w, 'run');
  }

  /** Release the model and its wasm instance. Idempotent; later calls throw EmxError('DISPOSED'). */
  dispose() {
    const w = this.#w;
    if (!w) return;
    this.#w = null;
    if (!w.broken) {
      try {
        if (this.#detector && this.#detector !== this.#model) w.call('emx_wasm_free', this.#detector);
        w.call('emx_wasm_free', this.#model);
      } catch {
        /* the instance is dropped anyway */
      }
    }
    // The memory goes with the instance; nothing to free buffer by buffer.
    this.#model = this.#probs = this.#input = this.#pixels = this.#pixelsCap = 0;
    this.#detector = this.#faces = this.#facesCap = 0;
    this.#lastLabel = -1;
  }

  /** Whether dispose() was called. */
  get disposed() {
    return this.#w === null;
  }

  /** @internal for tests: the instance's memory (to check that calls do not leak). */
  get [Symbol.for('emoxnet.memory')]() {
    return this.#w ? this.#w.memory : null;
  }
}

/**
 * Load a model. source: .emx bytes, a URL/path, or a shipped name ('lite', 'ensemble').
 * options: { baseUrl, wasmBinary, wasmModule, locateFile, simd, relaxed, reference, detector,
 * budget, balance }; detector: the face detector detect()/analyze() load on first use (.emx
 * bytes, URL or path; default the shipped blazeface.emx); balance: 0..1, how much of FER+
 * Train's prior classify()/analyze() divide out of their scores (balance.js).
 */
export async function load(source, options) {
  const opts = checkOptions(options);
  // Bytes given directly are copied now (sourceBytes), before any await: the caller may reuse,
  // resize or transfer their buffer once load() has started. The detector's too.
  const bytesP = sourceBytes(source, opts);
  let detector = opts.detector;
  const detectorBytes = byteView(detector);
  if (detectorBytes) detector = detectorBytes.slice();
  const [bytes, { module, variant }] = await Promise.all([bytesP, getModule(opts)]);
  if (bytes.length === 0) throw coreError('TRUNCATED', 'load: the model is empty (0 bytes)');
  const w = await Wasm.create(module);
  const reference = opts.reference === true;
  const modelPtr = w.loadModel(bytes, reference, 'load', opts.budget);
  // The default detector's place is fixed now (init()/baseUrl at load time), fetched on first use.
  if (detector === undefined || detector === null) {
    const where = assetLocation(DETECTOR_FILE, opts);
    detector = { default: true, where, hint: isDefaultLocation(opts) && !isLocalFile(where) ? ASSET_HINT : null };
  }
  return new Model(w, modelPtr, variant, reference, bytes, detector, opts.budget, opts.balance);
}
