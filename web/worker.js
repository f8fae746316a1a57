// The live demo's inference worker is the package's own video worker (wasm/lib/video-worker.js,
// the one behind watchVideo({ worker: true })), so the demo shows exactly what the package does.
import '../wasm/lib/video-worker.js';
