// The demo's face tracking and smoothing come from the package (wasm/lib/video.js).
export { FaceTracker, iou, ema, argmax } from '../wasm/lib/video.js';
