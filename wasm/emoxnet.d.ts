// Type declarations for wasm/emoxnet.js: facial-expression recognition (FER+ classes) running
// the EmoXNet C core as WebAssembly, in browsers and in Node.
//
//     import { load } from 'emoxnet';
//     const model = await load('lite');
//     const { label, scores } = model.classify(imageData, { x: 120, y: 80, width: 96, height: 96 });
//     const faces = await model.analyze(frame); // [{ box, score, landmarks, label, scores }]
//     model.dispose();

/**
 * Codes of {@link EmxError}. The first group mirrors the C core's `emx_status` values
 * (src/emoxnet.h); the rest come from the JavaScript side.
 * - `INVALID_ARG`: wrong argument type or value (C: NULL pointer, bad enum).
 * - `NO_MEMORY`: the wasm heap could not grow.
 * - `BAD_MAGIC`: not an .emx file. `VERSION`: an .emx version this build does not read.
 * - `TRUNCATED`: file shorter than its header says. `CHECKSUM`: CRC-32 mismatch (damaged file).
 * - `FORMAT`: a size, offset, shape, op or attribute in the file is invalid.
 * - `IMAGE`: zero or huge size, bad channel count, data length not width x height x channels.
 * - `BOX`: box empty, not finite, or not overlapping the image.
 * - `IO`: file could not be read (C side). `DECODE`: image bytes could not be decoded.
 * - `DISPOSED`: the model was disposed.
 * - `LOAD`: the model or the .wasm could not be fetched, read, compiled or instantiated.
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
  | Blob
  /**
   * `'lite'` or `'ensemble'`: the shipped models `../models/emoxnet-lite.emx` and
   * `../models/emoxnet.emx`, relative to emoxnet.js. Any other string is a URL (fetched), or
   * on Node a file path (relative to the working directory) unless it has a URL scheme
   * (`file:`, `http(s):` ...).
   */
  | string
  | URL;

export interface LoadOptions {
  /** The .wasm bytes to use instead of fetching dist/emoxnet-{simd,scalar}.wasm. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** An already compiled module (e.g. shared with a worker); skips fetching and compiling. */
  wasmModule?: WebAssembly.Module;
  /**
   * Where to find a .wasm file, given its name (`emoxnet-simd.wasm` / `emoxnet-scalar.wasm`)
   * and the default location (`./dist/NAME` next to emoxnet.js). Return a URL or a string
   * (URL, or path on Node); null/undefined keeps the default.
   */
  locateFile?: (fileName: string, defaultUrl: URL) => string | URL | null | undefined;
  /**
   * Force the SIMD (true) or scalar (false) build. Default: SIMD when the engine supports it.
   * true on an engine without WebAssembly SIMD throws EmxError 'LOAD'.
   */
  simd?: boolean;
  /** Run the plain C reference ops instead of the optimised kernels (for tests). */
  reference?: boolean;
  /**
   * The face detector that detect() / analyze() load on their first call: .emx bytes, a URL
   * or a path. Default: the shipped `../models/blazeface.emx` next to emoxnet.js.
   */
  detector?: Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string | URL;
}

/** 8-bit pixels, row-major, tightly packed. `ImageData` fits this shape (channels 4). */
export interface ImageInput {
  data: Uint8Array | Uint8ClampedArray;
  /** Integer, 1..32768. */
  width: number;
  /** Integer, 1..32768. */
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

export interface Classification {
  /** The class with the highest score (the first one on ties). */
  label: string;
  /** Probability per class, keyed by the model's class names (for FER+: neutral, happiness,
   * surprise, sadness, anger, disgust, fear, contempt), in model output order. */
  scores: Record<string, number>;
}

export interface ExplainOptions {
  /** The class to explain (name or index); the most probable one when omitted. */
  label?: string | number;
  /** true: the raw class activation map instead of the 0..1 normalised one. */
  raw?: boolean;
}

export interface HeatMap {
  width: number;
  height: number;
  /** width x height values, row-major, over the model input (the face crop). */
  data: Float32Array;
  /** The class the map explains. */
  explained: string;
}

export interface Explanation extends HeatMap, Classification {}

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
   * 3: ~10x, 4: ~17x). Other values: EmxError 'INVALID_ARG'.
   */
  tiles?: number;
}

export interface Point {
  x: number;
  y: number;
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
}

/** A face found and classified by analyze(). */
export interface AnalyzedFace extends DetectedFace {
  /** The most probable class; null for a face too large to crop (over 16384 px). */
  label: string | null;
  /** Probability per class, as in {@link Classification}. */
  scores: Record<string, number>;
}

/**
 * A loaded model with its own WebAssembly instance and memory. Calls are synchronous; a model
 * is independent of every other model. Call dispose() when done (the memory is also reclaimed
 * by garbage collection, but dispose() makes it deterministic).
 */
export interface Model {
  /** Class names in output order. */
  readonly classNames: readonly string[];
  readonly inputSpec: InputSpec;
  /**
   * Metadata strings from the file, e.g. `name`, `description`, `training_data`,
   * `valid_accuracy` (FER+ Valid, majority protocol, as measured by `emoxnet eval`),
   * `license`, `source`. Every key is optional.
   */
  readonly meta: Readonly<Record<string, string>>;
  /** The wasm build running this model; 'custom' when given wasmBinary / wasmModule. */
  readonly variant: 'simd' | 'scalar' | 'custom';
  /** Whether the C reference ops run instead of the optimised kernels. */
  readonly reference: boolean;
  /** Whether dispose() was called. */
  readonly disposed: boolean;

  /**
   * Crop (box; whole image when omitted or null), convert, resize, normalise and classify.
   * The pixels are copied into a buffer the model reuses across calls.
   * @throws EmxError 'INVALID_ARG' | 'IMAGE' | 'BOX' | 'DISPOSED' | 'NO_MEMORY' | 'INTERNAL'
   */
  classify(image: ImageInput | ImageData, box?: Box | null): Classification;

  /**
   * Run the network on an already preprocessed input (length width x height x channels of
   * inputSpec, NHWC). Returns a new Float32Array of classNames.length probabilities.
   * @throws EmxError 'INVALID_ARG' | 'DISPOSED' | 'INTERNAL'
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
  explain(image: ImageInput | ImageData, box?: Box | null, options?: ExplainOptions): Explanation;

  /** explain()'s map for the most recent classify() or run(); 'UNSUPPORTED' before any. */
  explainLast(options?: ExplainOptions): HeatMap;

  /** Whether the file is a face detector (META task=detector): only detect() works on it. */
  readonly isDetector: boolean;

  /**
   * Find every face in a whole frame or photo, best score first. The first call loads the
   * face detector (LoadOptions.detector) into this model's instance, hence the Promise;
   * later calls compute synchronously and resolve at once.
   * @throws EmxError 'INVALID_ARG' | 'IMAGE' | 'DISPOSED' | 'NO_MEMORY' | 'LOAD' | 'INTERNAL'
   */
  detect(image: ImageInput | ImageData, options?: DetectOptions): Promise<DetectedFace[]>;

  /**
   * detect(), then classify each face: the crop is the detector's box enlarged to a FER+-like
   * forehead-to-chin square and rotated so the eyes are level.
   * @throws as detect(); 'INVALID_ARG' on a detector model
   */
  analyze(image: ImageInput | ImageData, options?: DetectOptions): Promise<AnalyzedFace[]>;

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
 *   'TRUNCATED', 'CHECKSUM', 'FORMAT', 'NO_MEMORY', 'INVALID_ARG'
 */
export function load(source: ModelSource, options?: LoadOptions): Promise<Model>;

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
  image: ImageInput | ImageData,
  faces: ReadonlyArray<DetectedFace & { label?: string | null; scores?: Record<string, number> }>,
  options?: Omit<LoadOptions, 'reference' | 'detector'>,
): Promise<Uint8Array>;

/** Whether this JavaScript engine supports WebAssembly SIMD (128-bit). */
export function simdSupported(): boolean;

/**
 * The square crop analyze() classifies for a detected face box (the box enlarged 1.22x and
 * moved up 0.114 box sides, before eye alignment): pass it to explain() to map a found face.
 */
export function analysisCrop(box: Box): Box;
