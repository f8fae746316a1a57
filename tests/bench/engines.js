// engines.js - the three WebAssembly engines of the comparison, set up alike (single thread,
// SIMD builds), and one network loaded in all three from the same .emx bytes:
// ours (wasm/emoxnet.js run()), TF.js wasm (XNNPACK; to-tfjs.js) and onnxruntime-web (to-onnx.js).
// Used by engines.bench.js (timing) and bench.test.js (the converters' correctness).
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { load } from '../../wasm/emoxnet.js';
import { readEmx } from './emx-file.js';
import { toOnnx } from './to-onnx.js';
import { tfjsNetwork } from './to-tfjs.js';

const require = createRequire(import.meta.url);

/** tf and ort, initialised once: single thread, SIMD. onBackend runs around TF.js's wasm start. */
export async function initEngines(root, { beforeTf = () => {}, afterTf = () => {} } = {}) {
  const tf = require('@tensorflow/tfjs');
  const tfwasm = require('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the single-thread SIMD build
  tfwasm.setThreadsCount(1);
  tfwasm.setWasmPaths(join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
  beforeTf();
  await tf.setBackend('wasm');
  await tf.ready();
  afterTf();
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  return { tf, ort };
}

/**
 * The network in `bytes` (.emx) in all three engines. Each runner takes n NHWC inputs back to
 * back in one Float32Array and returns n outputs back to back. tag(engine) is called before each
 * engine allocates (engines.bench.js attributes WebAssembly memories with it).
 */
export async function loadAll({ tf, ort }, bytes, tag = () => {}) {
  const model = readEmx(bytes); // every engine: the numbers the bytes hold
  const { height: H, width: W, channels: C } = model.input;
  const hwc = H * W * C;
  const onnx = toOnnx(model);
  tag('ours');
  const ours = await load(bytes, { simd: true });
  tag('tfjs');
  const tm = tfjsNetwork(tf, model);
  tag('ort');
  const sess = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', intraOpNumThreads: 1,
  });
  tag('none');
  const nOut = ours.run(new Float32Array(hwc)).length;
  return {
    model, onnx, hwc,
    variant: ours.variant, // which of our wasm builds runs: 'relaxed' where the engine has relaxed SIMD
    runOurs(x, n) {
      const out = new Float32Array(n * nOut);
      for (let i = 0; i < n; i++) out.set(ours.run(x.subarray(i * hwc, (i + 1) * hwc)), i * nOut);
      return out;
    },
    runTf(x, n) {
      const xt = tf.tensor4d(x, [n, H, W, C]);
      const y = tm.predict(xt);
      const d = y.dataSync();
      tf.dispose([xt, y]);
      return d;
    },
    /** ONNX is NCHW: the same memory as NHWC with one channel; else transpose once (untimed). */
    nchw(x, n) {
      if (C === 1) return x;
      const y = new Float32Array(x.length);
      for (let b = 0; b < n; b++) for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) y[b * hwc + c * H * W + p] = x[b * hwc + p * C + c];
      return y;
    },
    async runOrt(xNchw, n) {
      return (await sess.run({ input: new ort.Tensor('float32', xNchw, [n, C, H, W]) }))[sess.outputNames[0]].data;
    },
    async dispose() {
      ours.dispose();
      tm.dispose();
      await sess.release();
    },
  };
}

/** n pseudo-random inputs in the N(0,1)-like range of a normalised face. */
export function inputs(n, hwc, seed) {
  const x = new Float32Array(n * hwc);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 2;
  }
  return x;
}

export const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Largest |theirs - ours| over 3 inputs, per engine: { tf, ort }. */
export async function agreement(net) {
  let dTf = 0, dOrt = 0;
  for (let k = 0; k < 3; k++) {
    const x = inputs(1, net.hwc, 77 + k);
    const a = net.runOurs(x, 1);
    dTf = Math.max(dTf, maxDiff(a, net.runTf(x, 1)));
    dOrt = Math.max(dOrt, maxDiff(a, await net.runOrt(net.nchw(x, 1), 1)));
  }
  return { tf: dTf, ort: dOrt };
}
