// emoxnet.js - facial expression recognition in the browser and in Node, on the EmoXNet C core
// compiled to WebAssembly. This file is only the public surface; each job has its module in
// lib/: errors, io (fetch/fs), assets (where the package's files are, init), wasm (compile and
// instantiate), image and media (inputs), codec (PNG/JPEG), detector, model (load, Model),
// video (tracking faces across frames), balance (the FER+ prior correction of load()'s balance).
//
//     import { load } from 'emoxnet';
//     const model = await load('lite');
//     const { label, scores } = model.classify(imageData, { x: 120, y: 80, width: 96, height: 96 });
//     model.dispose();
//
// No module here imports a Node builtin statically, so browser bundles never see 'fs'.
export { EmxError } from './lib/errors.js';
export { init } from './lib/assets.js';
export { simdSupported, relaxedSimdSupported } from './lib/wasm.js';
export { load } from './lib/model.js';
export { decodeImage, annotate } from './lib/codec.js';
export { autoTiles } from './lib/detector.js';
export { FaceTracker, watchVideo } from './lib/video.js';
// The 8 FER+ expressions, in the shipped models' output order: in balance.js, beside the
// FER+ Train prior that load()'s balance option divides out, index by index.
export { EXPRESSIONS } from './lib/balance.js';
