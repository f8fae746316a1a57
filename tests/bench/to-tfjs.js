// to-tfjs.js - an .emx model (emx-file.js readEmx shape) as a TF.js function, built from tf ops
// with the .emx's weights: NHWC like our core, convolutions and the classifier as TF.js's fused
// ops (conv/depthwise/matMul + bias + activation in one kernel, which the wasm backend hands to
// XNNPACK as one operator: the fastest way TF.js runs such a layer, and what a converted graph
// model would run). Every op of models/FORMAT.md is covered.
//
//   const net = tfjsNetwork(tf, model); const y = net.predict(x4d); ...; net.dispose()
import { ACT, OP, inferShapes } from './emx-file.js';

export function tfjsNetwork(tf, m) {
  const shapes = inferShapes(m);
  const owned = []; // weight tensors, created once
  const keep = (t) => { owned.push(t); return t; };
  const FUSED = { [ACT.NONE]: 'linear', [ACT.RELU]: 'relu', [ACT.RELU6]: 'relu6', [ACT.SIGMOID]: 'sigmoid' };
  const act = (x, code) => {
    switch (code) {
      case ACT.NONE: return x;
      case ACT.RELU: return tf.relu(x);
      case ACT.RELU6: return tf.relu6(x);
      case ACT.SILU: return tf.mul(x, tf.sigmoid(x));
      case ACT.HARDSWISH: return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
      case ACT.SIGMOID: return tf.sigmoid(x);
      default: throw new Error(`activation ${code}`);
    }
  };
  // fused op + the activations XNNPACK cannot fuse applied after it
  const fusedAct = (code) => (FUSED[code] ? [FUSED[code], (y) => y] : ['linear', (y) => act(y, code)]);
  const flat = (x) => tf.reshape(x, [x.shape[0], -1]); // NHWC flattening = FORMAT.md's H, W, C order
  const pad4 = (t, l, b, r) => [[0, 0], [t, b], [l, r], [0, 0]];

  // One closure per op: (values) => tensor. Weights are laid out for TF.js here, once.
  const steps = m.ops.map((op) => {
    const a = op.attrs;
    const T = (i) => m.tensors[op.tensors[i]];
    const [ih, iw, ic] = shapes[op.inputs[0]];
    const x0 = (v) => v[op.inputs[0]];
    switch (op.type) {
      case OP.CONV2D: {
        const [kh, kw] = [a[0], a[1]], g = a[10], oc = a[11], icg = ic / g;
        const w = T(0).data;
        const [fa, after] = fusedAct(a[12]);
        const bias = keep(tf.tensor1d(T(1).data));
        const conv = { strides: [a[2], a[3]], pad: pad4(a[4], a[5], a[6], a[7]), dilations: [a[8], a[9]], bias, activation: fa };
        if (g === 1) { // [OC, IC, KH, KW] -> HWIO
          const f = new Float32Array(w.length);
          for (let o = 0; o < oc; o++) for (let i = 0; i < ic; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
            f[((y * kw + x) * ic + i) * oc + o] = w[((o * ic + i) * kh + y) * kw + x];
          }
          const filter = keep(tf.tensor4d(f, [kh, kw, ic, oc]));
          return (v) => after(tf.fused.conv2d({ x: x0(v), filter, ...conv }));
        }
        if (g === ic) { // depthwise, channel multiplier oc / ic: output o = i * mult + j as in PyTorch
          const mult = oc / ic;
          const f = new Float32Array(w.length);
          for (let o = 0; o < oc; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
            f[((y * kw + x) * ic + Math.floor(o / mult)) * mult + (o % mult)] = w[(o * kh + y) * kw + x];
          }
          const filter = keep(tf.tensor4d(f, [kh, kw, ic, mult]));
          return (v) => after(tf.fused.depthwiseConv2d({ x: x0(v), filter, ...conv }));
        }
        // other groups: TF.js has no grouped conv; one conv per group, concatenated
        const ocg = oc / g;
        const parts = Array.from({ length: g }, (_, gi) => {
          const f = new Float32Array(kh * kw * icg * ocg);
          for (let o = 0; o < ocg; o++) for (let i = 0; i < icg; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
            f[((y * kw + x) * icg + i) * ocg + o] = w[((((gi * ocg + o) * icg) + i) * kh + y) * kw + x];
          }
          return [keep(tf.tensor4d(f, [kh, kw, icg, ocg])), keep(tf.tensor1d(T(1).data.subarray(gi * ocg, (gi + 1) * ocg)))];
        });
        return (v) => after(tf.concat(tf.split(x0(v), g, 3).map((xg, gi) =>
          tf.fused.conv2d({ x: xg, filter: parts[gi][0], ...conv, bias: parts[gi][1] })), 3));
      }
      case OP.DENSE: { // [OUT, IN] -> [IN, OUT]
        const out = a[0], n = T(0).data.length / out, w = T(0).data;
        const f = new Float32Array(w.length);
        for (let o = 0; o < out; o++) for (let i = 0; i < n; i++) f[i * out + o] = w[o * n + i];
        const b = keep(tf.tensor2d(f, [n, out]));
        const bias = keep(tf.tensor1d(T(1).data));
        const [fa, after] = fusedAct(a[1]);
        return (v) => tf.reshape(after(tf.fused.matMul({ a: flat(x0(v)), b, bias, activation: fa })), [-1, 1, 1, out]);
      }
      case OP.MAXPOOL2D: {
        const p = pad4(a[4], a[5], a[6], a[7]);
        const padded = a[4] || a[5] || a[6] || a[7];
        return (v) => tf.maxPool(padded ? tf.pad(x0(v), p, -3.4e38) : x0(v), [a[0], a[1]], [a[2], a[3]], 'valid');
      }
      case OP.AVGPOOL2D: {
        const p = pad4(a[4], a[5], a[6], a[7]);
        const padded = a[4] || a[5] || a[6] || a[7];
        if (!padded || a[8]) return (v) => tf.avgPool(padded ? tf.pad(x0(v), p) : x0(v), [a[0], a[1]], [a[2], a[3]], 'valid');
        // count_include_pad = 0: divide by the share of real pixels in each window
        const share = keep(tf.avgPool(tf.pad(tf.ones([1, ih, iw, 1]), p), [a[0], a[1]], [a[2], a[3]], 'valid'));
        return (v) => tf.div(tf.avgPool(tf.pad(x0(v), p), [a[0], a[1]], [a[2], a[3]], 'valid'), share);
      }
      case OP.GLOBAL_AVGPOOL: return (v) => tf.mean(x0(v), [1, 2], true);
      case OP.ADD: return (v) => act(tf.add(v[op.inputs[0]], v[op.inputs[1]]), a[0]);
      case OP.CONCAT: return (v) => tf.concat(op.inputs.map((i) => v[i]), 3);
      case OP.ACTIVATION: return (v) => act(x0(v), a[0]);
      case OP.SOFTMAX: return (v) => tf.reshape(tf.softmax(flat(x0(v))), x0(v).shape);
      case OP.WEIGHTED_MEAN: {
        const w = T(0).data;
        return (v) => tf.addN(op.inputs.map((i, k) => tf.mul(v[i], w[k])));
      }
      case OP.FLIP_W: return (v) => tf.reverse(x0(v), 2);
      // halfPixelCenters: align_corners=False, as src/ops_ref.c emx__bilinear_coord
      case OP.RESIZE_BILINEAR: return (v) => tf.image.resizeBilinear(x0(v), [a[0], a[1]], false, true);
      case OP.MUL_CHANNEL: return (v) => tf.mul(v[op.inputs[0]], v[op.inputs[1]]);
      case OP.PAD_CHANNELS: return (v) => tf.pad(x0(v), [[0, 0], [0, 0], [0, 0], [a[0], a[1]]]);
      case OP.CALIBRATE: {
        const p = T(0).data;
        // params: 1/T, one shift per class, then maybe label thresholds (they change no output)
        const n = shapes[op.inputs[0]].reduce((a, b) => a * b, 1);
        const shift = keep(tf.tensor1d(p.subarray(1, 1 + n)));
        return (v) => {
          const x = flat(x0(v));
          return tf.reshape(tf.softmax(tf.add(tf.mul(tf.log(tf.maximum(x, 1e-30)), p[0]), shift)), x0(v).shape);
        };
      }
      default: throw new Error(`to-tfjs: op ${op.type} not covered`);
    }
  });
  return {
    /** x: [n, H, W, C] float32 tensor; returns [n, outputs] (caller disposes). */
    predict(x) {
      return tf.tidy(() => {
        const v = [x];
        for (const s of steps) v.push(s(v));
        return flat(v[m.outputs[0]]);
      });
    },
    dispose() { tf.dispose(owned); },
  };
}
