// Type declarations for wasm/emoxnet.js: facial-expression recognition (FER+ classes) running
// the EmoXNet C core as WebAssembly, in browsers and in Node.
//
//     import { load } from 'emoxnet';
//     const model = await load('lite');
//     const faces = await model.analyze(videoOrImage); // [{ box, score, landmarks, label, scores }]
//     const { label, scores } = model.classify(imageData, { x: 120, y: 80, width: 96, height: 96 });
//     model.dispose();
//
// These types need neither the DOM lib nor @types/node: browser types (HTMLVideoElement, URL,
// Blob, ...) are taken from the global scope when the project has them (Global<> below), so a
// Node-only project type-checks with lib ES2022 alone.

/** The instance type of global class K when the project's libs declare it, else never. */
type Global<K extends string> = typeof globalThis extends { [P in K]: { prototype: infer T } } ? T : never;
type URLLike = Global<'URL'>;
type BlobLike = Global<'Blob'>;
type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

/** The 8 FER+ expressions: the class names of the shipped models, in their output order. */
export type Expression = 'neutral' | 'happiness' | 'surprise' | 'sadness' | 'anger' | 'disgust' | 'fear' | 'contempt';

/** The 8 FER+ expressions in the shipped models' output order. */
export const EXPRESSIONS: readonly Expression[];

/** The shipped expression models: 'lite' (EmoXNetLite, 0.6 MB) and 'ensemble' (EmoXNet, 11.2 MB). */
export type ModelName = 'lite' | 'ensemble';

/**
 * A string that load() reads as a location rather than a model name: it has a slash, dot,
 * colon or backslash ('/models/x.emx', 'https://...', 'model.emx', 'C:\\m.emx').
 */
export type ModelLocation = `${string}${'/' | '.' | ':' | '\\'}${string}`;

/**
 * Codes of {@link EmxError}. The first group mirrors the C core's `emx_status` values
 * (include/emoxnet.h); the rest come from the JavaScript side.
 * - `INVALID_ARG`: wrong argument type or value (C: NULL pointer, bad enum).
 * - `NO_MEMORY`: the wasm heap could not grow.
 * - `BAD_MAGIC`: not an .emx file. `VERSION`: an .emx version this build does not read.
 * - `TRUNCATED`: file shorter than its header says. `CHECKSUM`: CRC-32 mismatch (damaged file).
 * - `FORMAT`: a size, offset, shape, op or attribute in the file is invalid.
 * - `IMAGE`: zero or huge size, bad channel count, data length not width x height x channels.
 * - `BOX`: box empty, not finite, or not overlapping the image.
 * - `IO`: file could not be read (C side). `DECODE`: image bytes could not be decoded.
 * - `DISPOSED`: the model was disposed.
 * - `LOAD`: the model or the .wasm could not be fetched, read, compiled or instantiated (the
 *   message names the URL and what the server sent: status, content-type, first bytes).
 * - `BAD_MAGIC` for a fetched file also names the URL and what came back (e.g. an HTML page
 *   a dev server sent in place of a missing model).
 * - `LIMIT`: the model is over a load-time budget (see {@link LoadBudget}): a hostile-but-valid
 *   file; real models are far below the defaults.
 * - `NUMERIC`: the network produced scores that are not probabilities (NaN, infinite, out of
 *   0..1); nothing is returned, and explainLast() has nothing to explain.
 * - `INTERNAL`: the wasm module trapped; that model (or decoder) is unusable afterwards.
 */
export type EmxErrorCode =
  | 'INVALID_ARG'
  | 'NO_MEMORY'
  | 'BAD_MAGIC'
  | 'VERSION'
  | 'TRUNCATED'
  | 'CHECKSUM'
  | 'FORMAT'
  | 'IMAGE'
  | 'BOX'
  | 'IO'
  | 'DECODE'
  | 'UNSUPPORTED'
  | 'LIMIT'
  | 'NUMERIC'
  | 'DISPOSED'
  | 'LOAD'
  | 'INTERNAL'
  | 'UNKNOWN';

/** Every error this module throws on purpose. */
export class EmxError extends Error {
  constructor(code: EmxErrorCode, message: string, status?: number | null, options?: { cause?: unknown });
  readonly name: 'EmxError';
  /** Machine-readable reason. */
  readonly code: EmxErrorCode;
  /**
   * The C `emx_status` behind the error (negative), also for the argument checks done in
   * JavaScript that mirror one (INVALID_ARG -1, IMAGE -8, BOX -9, ...); null when none applies
   * (DISPOSED, LOAD, INTERNAL).
   */
  readonly status: number | null;
}

/** Where the .emx comes from. */
export type ModelSource =
  /** The bytes of an .emx file (copied; the buffer may be reused afterwards). */
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | BlobLike
  /**
   * `'lite'` or `'ensemble'`: the shipped models (`models/emoxnet-lite.emx`,
   * `models/emoxnet.emx` in the package, or under init()'s baseUrl). A string with a slash, dot
   * or colon is a URL (fetched), or on Node a file path (relative to the working directory)
   * unless it has a URL scheme (`file:`, `http(s):` ...). Any other string is an unknown model
   * name: EmxError 'INVALID_ARG' listing the valid ones.
   */
  | ModelName
  | ModelLocation
  | URLLike;

export interface LoadOptions {
  /**
   * A folder (URL, or on Node a path) holding all of the package's files, for this load only;
   * see {@link init}. Relative URLs resolve against the page.
   */
  baseUrl?: string | URLLike;
  /** The .wasm bytes to use instead of fetching dist/emoxnet-{relaxed,simd,scalar}.wasm. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** An already compiled WebAssembly.Module (e.g. shared with a worker); skips fetching and compiling. */
  wasmModule?: WasmModule;
  /**
   * Where to find a .wasm file, given its name (`emoxnet-relaxed.wasm` / `emoxnet-simd.wasm` /
   * `emoxnet-scalar.wasm`)
   * and the default location (in the package, or under baseUrl). Return a URL or a string
   * (URL, or path on Node); null/undefined keeps the default. baseUrl is simpler.
   */
  locateFile?: (fileName: string, defaultUrl: URLLike | string) => string | URLLike | null | undefined;
  /**
   * Force a SIMD (true) or the scalar (false) build. Default: SIMD when the engine supports it.
   * true on an engine without WebAssembly SIMD throws EmxError 'LOAD'.
   */
  simd?: boolean;
  /**
   * With SIMD: the relaxed-SIMD build (fused multiply-add; Chromium >= 114, Node >= 22, or Node
   * 20 with --experimental-wasm-relaxed-simd) or the SIMD128 one (false). Default: relaxed where
   * the engine runs it, SIMD128 where its .wasm cannot be fetched or compiled. Results may differ
   * from SIMD128's in the last bits (one rounding per multiply-add instead of two). true on an
   * engine without it, or without the file, throws EmxError 'LOAD'.
   */
  relaxed?: boolean;
  /** Run the plain C reference ops instead of the optimised kernels (for tests). */
  reference?: boolean;
  /**
   * The face detector that detect() / analyze() load on their first call: .emx bytes, a URL
   * or a path. Default: the shipped blazeface.emx (in the package, or under baseUrl).
   */
  detector?: Uint8Array | ArrayBuffer | ArrayBufferView | BlobLike | string | URLLike;
  /**
   * Load-time budgets (the C emx_model_params): a model over one is refused with EmxError
   * 'LIMIT'. Each absent field keeps the core's default, far above every real model.
   */
  budget?: LoadBudget;
  /**
   * Prior correction, 0..1 (default 0: the model as trained). The shipped models learnt FER+
   * Train's class prior (35% neutral, 29% happiness, under 0.5% disgust or contempt), so they
   * rarely name a rare expression. With balance b, classify() and analyze() (and watchVideo(),
   * explain(), explainLast()'s default class) report p_i * prior_i^-b renormalised, and label
   * those scores (the label thresholds read them too): b = 1 is the class-balanced posterior. Raises the rare classes' recall for a little
   * top-1 accuracy (FER+ Valid figures in the README); the scores are then less calibrated.
   * run() stays the raw network output. Only for models whose classNames are
   * {@link EXPRESSIONS} in that order: any other class list with balance other than 0 throws
   * EmxError 'INVALID_ARG' at load, as does anything but a number in 0..1 ('0.5', NaN).
   */
  balance?: number;
}

/** Load-time budgets of load() (positive integers; defaults in parentheses). */
export interface LoadBudget {
  /** Multiply-adds one run may do (2e10). */
  maxMacs?: number;
  /** Bytes the model may allocate beyond its weights (512 MiB). */
  maxMemoryBytes?: number;
  /** Graph ops (2048). */
  maxOps?: number;
  /** Metadata key/value pairs (256). */
  maxMetaKeys?: number;
}

/**
 * Serve the package's files from one place: baseUrl is a folder (URL, or on Node a path)
 * holding emoxnet-relaxed.wasm, emoxnet-simd.wasm, emoxnet-scalar.wasm, emoxnet-lite.emx, emoxnet.emx and
 * blazeface.emx, as `npx emoxnet assets DIR` copies them. Applies to every later load().
 * Needed only where the bundler does not copy files referenced by
 * `new URL('...', import.meta.url)` (esbuild), or to host the files on a CDN. null: back to
 * the files next to the module.
 * @throws EmxError 'INVALID_ARG'
 */
export function init(options: { baseUrl: string | URLLike | null }): void;

/**
 * What classify(), explain(), detect() and analyze() take: raw pixels ({@link ImageInput},
 * ImageData), encoded PNG/JPEG bytes (decoded by the core's stb_image, in Node and browsers),
 * or what a page holds: a `<video>` (its current frame; EmxError 'IMAGE' before the first), an
 * `<img>` (loaded; 'IMAGE' while loading), a canvas, an OffscreenCanvas, an ImageBitmap or a
 * VideoFrame. Elements are read through a canvas, so cross-origin media need CORS ('IMAGE'
 * otherwise). Anything else: EmxError 'INVALID_ARG'.
 */
export type MediaInput =
  | ImageInput
  | EncodedImage
  | Global<'ImageData'>
  | Global<'HTMLVideoElement'>
  | Global<'HTMLImageElement'>
  | Global<'HTMLCanvasElement'>
  | Global<'OffscreenCanvas'>
  | Global<'ImageBitmap'>
  | Global<'VideoFrame'>;

/** The bytes of a PNG or JPEG file (a Node Buffer is a Uint8Array). */
export type EncodedImage = Uint8Array | ArrayBuffer;

/** 8-bit pixels, row-major, tightly packed. `ImageData` fits this shape (channels 4). */
export interface ImageInput {
  data: Uint8Array | Uint8ClampedArray;
  /** Integer, 1..16384 (the core's EMX_MAX_IMAGE_SIDE); width x height at most 2^26 (64 Mpx). */
  width: number;
  /** Integer, 1..16384; see width. */
  height: number;
  /**
   * 1 (gray), 3 (RGB) or 4 (RGBA; alpha ignored). When absent it is inferred from
   * `data.length / (width * height)`. `data.length` must equal width x height x channels.
   */
  channels?: 1 | 3 | 4;
}

/**
 * A face box in pixel coordinates of the image (finite numbers, |value| <= 2^24). Parts outside
 * the image are filled by repeating the edge pixels; a box with no overlap is an error ('BOX').
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The model's input tensor: height x width x channels floats (NHWC), (pixel/255 - mean)/std. */
export interface InputSpec {
  readonly width: number;
  readonly height: number;
  /** 1 grayscale, 3 RGB. */
  readonly channels: number;
  readonly mean: number;
  readonly std: number;
}

export interface Classification<C extends string = Expression> {
  /**
   * The model's decision: the class whose probability (before any balance) reaches its
   * threshold in the model's {@link Model.labelThresholds} (the shipped models: contempt at
   * about 0.05, disgust at 0.1-0.15; of several that do, the lowest threshold), else the class
   * with the highest score (the first one on ties). So a face can be labelled contempt or disgust
   * while neutral or anger scores higher: the models give real contempt and disgust faces only a
   * few percent of their probability, and the thresholds are fitted on FER+ Valid for per-class
   * recall at a top-1 within 0.1 point.
   */
  label: C;
  /** Probability per class, keyed by the model's class names (for FER+: neutral, happiness,
   * surprise, sadness, anger, disgust, fear, contempt), in model output order. */
  scores: Record<C, number>;
}

export interface ExplainOptions<C extends string = Expression> {
  /**
   * The class to explain (name or index); when omitted, the label of the result explained (the
   * top class of the scores it returned, so balanced as load()'s balance asked).
   */
  label?: C | number;
  /** true: the raw class activation map instead of the 0..1 normalised one. */
  raw?: boolean;
}

export interface HeatMap<C extends string = Expression> {
  width: number;
  height: number;
  /** width x height values, row-major, over the model input (the face crop). */
  data: Float32Array;
  /** The class the map explains. */
  explained: C;
}

export interface Explanation<C extends string = Expression> extends HeatMap<C>, Classification<C> {}

/** Options of detect() / analyze() (the C `emx_detect_params`). */
export interface DetectOptions {
  /** Minimum detector confidence, 0..1. Default 0.5. */
  scoreThreshold?: number;
  /** Detections overlapping a better one by more than this IoU are merged into it. Default 0.3. */
  iouThreshold?: number;
  /** Faces whose box (larger side) is smaller, in pixels, are dropped. Default 0. */
  minFaceSize?: number;
  /** At most this many faces (integer, 0..1024). Default 32. */
  maxFaces?: number;
  /**
   * Tiled detection for small faces (group photos), integer 0..4. Default 0: one detector pass
   * over the whole frame (BlazeFace front misses faces below about a fifth of the frame height,
   * ~100 px in 640x480). N >= 2 also runs it on an N x N grid of windows, each 2/(N+1) of the
   * frame's width and height, overlapping by half, and merges all passes (a face is reported
   * once): finds faces about 2/(N+1) the size the whole-frame pass needs (640x480: 2 finds
   * most 96 px faces, 3 most 72 px ones), at N * N + 1 times the detection cost (2: ~5x,
   * 3: ~10x, 4: ~17x). 'auto': the N autoTiles() picks from the image size (for still photos:
   * the most tiles whose faces are still big enough to classify). Other values: EmxError
   * 'INVALID_ARG'.
   */
  tiles?: number | 'auto';
}

/** analyze()'s options: detect()'s, and whether to return each face's class activation map. */
export interface AnalyzeOptions extends DetectOptions {
  /**
   * true: each labelled face also gets `cam`, the class activation map of its label over its
   * `crop`, computed from the same run that labelled it (C `emx_analyze_explain`: no second
   * classification). Default false. Anything but a boolean: EmxError 'INVALID_ARG'; a model
   * whose network has no such map (no global average pooling + one dense layer):
   * 'UNSUPPORTED'.
   */
  explain?: boolean;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * The square a face is classified on (C `emx_crop`): the detector's box enlarged to a FER+-like
 * forehead-to-chin square, turned so the eyes are level. In image pixels: centre (cx, cy) and
 * side; angle in radians, the direction of the eye line (0 when within 2 degrees of level),
 * clockwise on screen. A canvas draws over it with translate(cx, cy), rotate(angle),
 * drawImage(img, -side / 2, -side / 2, side, side).
 */
export interface FaceCrop {
  cx: number;
  cy: number;
  side: number;
  angle: number;
}

/** A face's class activation map (analyze() with explain: true): 0..1, row-major, over its crop. */
export interface FaceCam<C extends string = Expression> {
  width: number;
  height: number;
  data: Float32Array;
  /**
   * The class the map is for: the face's label, chosen by the core while it held the face's
   * features (with load()'s balance factors, so the balanced label).
   */
  explained: C;
}

/** A face found by detect(). */
export interface DetectedFace {
  /** In image pixels; may reach outside the image for faces cut by its edge. */
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /**
   * Keypoints in image pixels (BlazeFace: the subject's right eye, left eye, nose tip, mouth
   * centre, right ear tragion, left ear tragion).
   */
  landmarks?: Point[];
  /** The square analyze() classifies this face on (detect(): would classify); always set by both. */
  crop?: FaceCrop;
}

/** A face found and classified by analyze(). */
export interface AnalyzedFace<C extends string = Expression> extends DetectedFace {
  /** The most probable class (after load()'s balance); null for a face too large to crop (over 16384 px). */
  label: C | null;
  /** Probability per class, as in {@link Classification}. */
  scores: Record<C, number>;
  /**
   * With analyze(..., { explain: true }): where in `crop` the evidence for `label` lies (null
   * when label is null); drawn rotated with the crop.
   */
  cam?: FaceCam<C> | null;
}

/**
 * A loaded model with its own WebAssembly instance and memory. Calls are synchronous; a model
 * is independent of every other model. Call dispose() when done (the memory is also reclaimed
 * by garbage collection, but dispose() makes it deterministic).
 */
export interface Model<C extends string = Expression> {
  /**
   * Class names in output order. The types assume the FER+ classes ({@link Expression}); for
   * your own .emx with other classes, use `Model<'yourClass' | ...>` (a cast of load()'s result).
   */
  readonly classNames: readonly C[];
  readonly inputSpec: InputSpec;
  /**
   * Metadata strings from the file, e.g. `name`, `description`, `training_data`,
   * `valid_accuracy` (FER+ Valid, majority protocol, as measured by `emoxnet eval`),
   * `license`, `source`. Every key is optional.
   */
  readonly meta: Readonly<Record<string, string>>;
  /** The wasm build running this model; 'custom' when given wasmBinary / wasmModule. */
  readonly variant: 'relaxed' | 'simd' | 'scalar' | 'custom';
  /** Whether the C reference ops run instead of the optimised kernels. */
  readonly reference: boolean;
  /** Whether dispose() was called. */
  readonly disposed: boolean;
  /** load()'s options.balance (0 when not given): the prior correction of every score it returns. */
  readonly balance: number;
  /**
   * The file's label thresholds by class name, only for classes that have one (empty for a
   * model without): a class whose probability (the model's own, before any balance) reaches
   * its threshold is the label even when another class scores higher; of several, the one with
   * the lowest threshold (classify(), analyze(), FaceTracker; emx_pick_label in the C API).
   */
  readonly labelThresholds: Readonly<Partial<Record<C, number>>>;

  /**
   * Crop (box; whole image when omitted or null), convert, resize, normalise and classify.
   * The pixels are copied into a buffer the model reuses across calls, once, right after they
   * were checked (the box is read first): changing or detaching the buffer later changes nothing.
   * @throws EmxError 'INVALID_ARG' | 'IMAGE' | 'BOX' | 'NUMERIC' | 'DISPOSED' | 'NO_MEMORY' | 'INTERNAL'
   */
  classify(image: MediaInput, box?: Box | null): Classification<C>;

  /**
   * Run the network on an already preprocessed input (length width x height x channels of
   * inputSpec, NHWC). Returns a new Float32Array of classNames.length probabilities: the raw
   * network output, without load()'s balance (explainLast() then defaults to their top class).
   * @throws EmxError 'INVALID_ARG' | 'NUMERIC' | 'DISPOSED' | 'INTERNAL'
   */
  run(input: Float32Array): Float32Array;

  /**
   * Classify, then explain: a class activation map over the crop the network saw
   * (inputSpec.width x inputSpec.height, row-major) for options.label (class name or index;
   * default the top class). Normalised to 0..1 (ReLU, then divided by the maximum; all zeros
   * when no pixel has positive evidence) unless options.raw (then in logit units, bias
   * excluded, exactly emx_explain). No second pass through the network.
   * @throws EmxError 'UNSUPPORTED' (the network does not end in global average pooling + one
   * dense layer) | 'INVALID_ARG' | 'IMAGE' | 'BOX' | 'DISPOSED' | 'NO_MEMORY' | 'INTERNAL'
   */
  explain(image: MediaInput, box?: Box | null, options?: ExplainOptions<C>): Explanation<C>;

  /**
   * explain()'s map for the most recent classify() or run(), or, when an analyze() came later
   * and classified at least one face, for the last face of its result whose label is not null
   * (its label is the default `explained`). 'UNSUPPORTED' before any (and after a 'NUMERIC').
   */
  explainLast(options?: ExplainOptions<C>): HeatMap<C>;

  /** Whether the file is a face detector (META task=detector): only detect() works on it. */
  readonly isDetector: boolean;

  /**
   * Find every face in a whole frame or photo, best score first. The first call loads the
   * face detector (LoadOptions.detector) into this model's instance, hence the Promise;
   * later calls compute synchronously and resolve at once. The options, then the pixels, are
   * read during the call itself: the pixels are taken (copied) before anything is awaited.
   * @throws EmxError 'INVALID_ARG' | 'IMAGE' | 'LIMIT' | 'DISPOSED' | 'NO_MEMORY' | 'LOAD' | 'INTERNAL'
   */
  detect(image: MediaInput, options?: DetectOptions): Promise<DetectedFace[]>;

  /**
   * detect(), then classify each face on its `crop`: the detector's box enlarged to a
   * FER+-like forehead-to-chin square and rotated so the eyes are level. With
   * `{ explain: true }` each face also gets its class activation map, `cam`, from the run that
   * labelled it. Afterwards explainLast() explains the last face of the result whose label is
   * not null (when there is one).
   * @throws as detect(); 'INVALID_ARG' on a detector model; 'NUMERIC'; 'UNSUPPORTED' (explain)
   */
  analyze(image: MediaInput, options?: AnalyzeOptions): Promise<AnalyzedFace<C>[]>;

  /**
   * Free the model and drop its wasm instance. Idempotent. classify() and run() throw
   * EmxError 'DISPOSED' afterwards; classNames, inputSpec and meta stay readable.
   */
  dispose(): void;
}

/**
 * Load a model: fetch/read the .emx, pick and (once per variant) compile the .wasm, instantiate
 * it for this model and let the C core validate and unpack the file.
 * @throws EmxError 'LOAD' (cannot read the source or the .wasm), 'BAD_MAGIC', 'VERSION',
 *   'TRUNCATED', 'CHECKSUM', 'FORMAT' (also for empty or repeated class names), 'LIMIT' (over a
 *   budget, options.budget), 'UNSUPPORTED' (options.budget with a build that has none),
 *   'NO_MEMORY', 'INVALID_ARG'. Bytes given as the source are copied before load() awaits.
 */
export function load<S extends ModelSource | string>(source: S & CheckedSource<S>, options?: LoadOptions): Promise<Model>;

/**
 * A string literal must be a model name or look like a location ('lit' is a compile error: not
 * 'lite' | 'ensemble'); a string variable (type `string`) is accepted and checked at run time.
 */
type CheckedSource<S> = S extends string ? (string extends S ? S : S extends ModelName | ModelLocation ? S : ModelName) : S;

export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 gray, 3 RGB or 4 RGBA (gray+alpha images are returned as gray). */
  channels: 1 | 3 | 4;
}

/**
 * Decode PNG or JPEG bytes with the core's stb_image (the same decoder as the C tools), so
 * Node users and the CLI need no image library. The result can be passed to classify().
 * options select the wasm build as for load() (reference is ignored).
 * @throws EmxError 'DECODE' | 'INVALID_ARG' | 'NO_MEMORY' | 'LOAD'
 */
export function decodeImage(
  bytes: Uint8Array | ArrayBuffer | ArrayBufferView,
  options?: Omit<LoadOptions, 'reference'>,
): Promise<DecodedImage>;

/**
 * Draw faces (boxes and "label NN%", or "face NN%" without a label) on a copy of the image and
 * encode it as PNG with the core's stb_image_write. Resolves to the PNG file's bytes.
 * @throws EmxError 'INVALID_ARG' | 'IMAGE' | 'BOX' | 'NO_MEMORY' | 'LOAD'
 */
export function annotate(
  image: ImageInput,
  faces: ReadonlyArray<DetectedFace & { label?: string | null; scores?: Partial<Record<string, number>> }>,
  options?: Omit<LoadOptions, 'reference' | 'detector'>,
): Promise<Uint8Array>;

/** Whether this JavaScript engine supports WebAssembly SIMD (128-bit). */
export function simdSupported(): boolean;

/** Whether this JavaScript engine supports WebAssembly relaxed SIMD (load() then picks that build). */
export function relaxedSimdSupported(): boolean;

/**
 * The tiles that detect()/analyze() use for `tiles: 'auto'` on an image of this size: the most
 * (0, 2..4) whose smallest findable faces are still about 48 px (0 below about 360 px).
 */
export function autoTiles(width: number, height: number): number;

/** A face as FaceTracker.update() returns it: the input face, its id, smoothed box and scores. */
export interface TrackedFace<C extends string = Expression> extends AnalyzedFace<C> {
  /** Stable across frames while the face keeps overlapping its previous box. */
  id: number;
  /** Frames this face has been seen in. */
  age: number;
  /** The face as given to update() (box and scores not smoothed). */
  raw: DetectedFace | AnalyzedFace<C>;
  // With watchVideo({ explain: true }), `cam` (AnalyzedFace) is where the model looked for
  // this frame's label, over `crop`, in video pixels (not smoothed: where the crop was).
}

export interface FaceTrackerOptions {
  /** Weight of the newest frame, (0, 1]; 1 turns smoothing off (tracking still gives ids). Default 0.35. */
  alpha?: number;
  /** Least box overlap (IoU) for a face to continue a track. Default 0.3. */
  iouThreshold?: number;
  /** Frames a track survives without a matching face (not reported meanwhile). Default 5. */
  maxMissed?: number;
  /**
   * The model's {@link Model.labelThresholds}: the label of the smoothed scores follows them as
   * the model's own labels do. watchVideo() sets them from its model. Default {} (top score).
   */
  labelThresholds?: Readonly<Record<string, number>>;
  /**
   * The model's balance (load()'s option), which the scores carry: the thresholds read the raw
   * probabilities behind balanced scores. watchVideo() sets it from its model. Default 0.
   */
  balance?: number;
}

/**
 * Follows faces from frame to frame (box overlap, greedy best-first) and smooths each one's
 * scores and box (exponential moving average). Needs no DOM.
 */
export class FaceTracker {
  constructor(options?: FaceTrackerOptions);
  alpha: number;
  iouThreshold: number;
  maxMissed: number;
  labelThresholds: Readonly<Record<string, number>>;
  balance: number;
  /** Forget every track (e.g. when the video source changes). */
  reset(): void;
  /** One frame's faces in, the same faces (input order) with ids and smoothed values out. */
  update<C extends string = Expression>(faces: readonly (DetectedFace | AnalyzedFace<C>)[]): TrackedFace<C>[];
}

export interface WatchVideoOptions {
  /** The model: a shipped name, a URL, or (not with worker) .emx bytes. Default 'lite'. */
  model?: ModelName | ModelLocation | URLLike | Uint8Array | ArrayBuffer;
  /** load() options (with worker only simd: false, relaxed: false and balance are passed on). */
  loadOptions?: LoadOptions;
  /**
   * true: run the model in a module Web Worker of its own, so the page never waits on it. Or a
   * Worker running the package's video worker (`emoxnet/video-worker`) that the app already
   * uses and has sent a `{ type: 'load', model }` message: frames go to it (with string ids
   * 'watch:N'), and stop() leaves it running. Default false (the model runs in this thread).
   */
  worker?: boolean | Global<'Worker'>;
  /** Frames are scaled so their longer side is at most this (pixels). Default 640. */
  maxSide?: number;
  /** FaceTracker options, or false for ids without smoothing. */
  smoothing?: FaceTrackerOptions | false;
  /** analyze() options for every frame; a function is asked on every frame (settings the user changes). */
  detect?: DetectOptions | (() => DetectOptions | undefined);
  /** Also give each face `cam`, the class activation map of its label over its `crop`; a function is asked on every frame. Default false. */
  explain?: boolean | (() => boolean);
  /** Called for every analysed frame with its tracked faces (boxes in video pixels). */
  onFaces: (faces: TrackedFace[], info: { ms: number; width: number; height: number; model?: string }) => void;
  /** Called with each error (EmxError); the default logs it. */
  onError?: (error: EmxError) => void;
}

export interface VideoWatcher {
  /** Resolves once the model is loaded and frames are being analysed. */
  readonly ready: Promise<void>;
  readonly tracker: FaceTracker;
  /** Stop analysing (and end the worker). */
  stop(): void;
}

/**
 * Analyze every new frame of a playing video (camera or file), follow its faces across frames
 * and report them smoothed, with stable ids: the live demo's behaviour in a few lines.
 * Each video frame is analysed at most once; frames arriving while one is being analysed are
 * skipped (with `worker`, the next frame is sent while one is analysed: at most two in flight,
 * as VideoFrames where the browser has them, else ImageBitmaps).
 * @throws EmxError 'INVALID_ARG' (not a video, no onFaces)
 */
export function watchVideo(video: Global<'HTMLVideoElement'>, options: WatchVideoOptions): VideoWatcher;
