// to-onnx.js - an .emx model (emx-file.js readEmx shape) as an ONNX model (opset 13), written as
// protobuf bytes directly: the format is small and stable, and the few messages needed here
// (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto) take less
// code than an npm dependency would. Layout NCHW (what ONNX Runtime's kernels expect), input
// `input` [n, C, H, W] with a free batch dimension; with one channel that is the same memory as
// our NHWC input. Weights go in as f32 initializers, the values the .emx holds. Every op of
// models/FORMAT.md is covered, so any shipped file converts (the benchmark compares members).
import { ACT, OP, inferShapes } from './emx-file.js';

// ---- protobuf encoding -------------------------------------------------------------------------
class Pb {
  constructor() { this.parts = []; this.len = 0; }
  push(u8) { this.parts.push(u8); this.len += u8.length; return this; }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v)); // negatives: ten-byte two's complement, as protobuf wants
    const out = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    return this.push(Uint8Array.from(out));
  }
  key(field, wire) { return this.varint((field << 3) | wire); }
  int(field, v) { return this.key(field, 0).varint(v); }
  bytes(field, u8) { return this.key(field, 2).varint(u8.length).push(u8); }
  str(field, s) { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field, pb) { return this.bytes(field, pb.finish()); }
  float(field, v) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.key(field, 5).push(b);
  }
  finish() {
    const out = new Uint8Array(this.len);
    let p = 0;
    for (const x of this.parts) { out.set(x, p); p += x.length; }
    return out;
  }
}

const FLOAT = 1, INT64 = 7;
function tensorProto(name, dims, values, type = FLOAT) {
  const raw = type === FLOAT
    ? new Uint8Array(Float32Array.from(values).buffer)
    : new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, type).str(8, name).bytes(9, raw); // little-endian hosts only (all ours are)
}
function attr(name, v) {
  const a = new Pb().str(1, name);
  if (typeof v === 'string') return a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (Array.isArray(v)) { for (const x of v) a.int(8, x); return a.int(20, 7); }
  // every float attribute used here (HardSigmoid's alpha, beta) has a fraction
  if (Number.isInteger(v)) return a.int(3, v).int(20, 2);
  return a.float(2, v).int(20, 1);
}
function valueInfo(name, dims) {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'string' ? new Pb().str(2, d) : new Pb().int(1, d));
  const tt = new Pb().int(1, FLOAT).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tt));
}

/** ONNX bytes for `m`, computing the value `m.outputs[0]`. */
export function toOnnx(m, producer = 'emoxnet tests/bench/to-onnx.js') {
  const shapes = inferShapes(m);
  const nodes = [], inits = [];
  let uid = 0;
  const fresh = (base) => `${base}_${uid++}`;
  const node = (opType, inputs, attrs = {}, out = fresh(opType)) => {
    const n = new Pb();
    for (const i of inputs) n.str(1, i);
    n.str(2, out).str(3, out).str(4, opType);
    for (const [k, v] of Object.entries(attrs)) n.msg(5, attr(k, v));
    nodes.push(n);
    return out;
  };
  const init = (dims, values, type = FLOAT) => {
    const name = fresh('w');
    inits.push(tensorProto(name, dims, values, type));
    return name;
  };
  const act = (x, code) => {
    switch (code) {
      case ACT.NONE: return x;
      case ACT.RELU: return node('Relu', [x]);
      case ACT.RELU6: return node('Clip', [x, init([], [0]), init([], [6])]);
      case ACT.SILU: return node('Mul', [x, node('Sigmoid', [x])]);
      case ACT.HARDSWISH: return node('Mul', [x, node('HardSigmoid', [x], { alpha: 1 / 6, beta: 0.5 })]);
      case ACT.SIGMOID: return node('Sigmoid', [x]);
      default: throw new Error(`activation ${code}`);
    }
  };
  // Values are NCHW 4-D, except after DENSE / SOFTMAX on class vectors: [n, C] (no reshape
  // nodes on the classifier's path); as4d reshapes only when a 4-D op consumes one.
  const vals = [{ name: 'input', rank: 4 }];
  const as4d = (v) => (vals[v].rank === 4 ? vals[v].name
    : node('Unsqueeze', [vals[v].name, init([2], [2, 3], INT64)]));
  const as2d = (v) => {
    const [h, w] = shapes[v];
    if (vals[v].rank === 2) return vals[v].name;
    if (h * w === 1) return node('Flatten', [vals[v].name], { axis: 1 });
    // FORMAT.md flattens in H, W, C order
    return node('Flatten', [node('Transpose', [vals[v].name], { perm: [0, 2, 3, 1] })], { axis: 1 });
  };
  m.ops.forEach((op, k) => {
    const a = op.attrs;
    const T = (i) => m.tensors[op.tensors[i]];
    let y, rank = 4;
    switch (op.type) {
      case OP.CONV2D: {
        const w = T(0), b = T(1);
        y = node('Conv', [as4d(op.inputs[0]), init(w.dims, w.data), init(b.dims, b.data)], {
          kernel_shape: [a[0], a[1]], strides: [a[2], a[3]], pads: [a[4], a[5], a[6], a[7]],
          dilations: [a[8], a[9]], group: a[10],
        });
        y = act(y, a[12]);
        break;
      }
      case OP.DENSE: {
        const w = T(0), b = T(1);
        y = act(node('Gemm', [as2d(op.inputs[0]), init(w.dims, w.data), init(b.dims, b.data)], { transB: 1 }), a[1]);
        rank = 2;
        break;
      }
      case OP.MAXPOOL2D:
        y = node('MaxPool', [as4d(op.inputs[0])], { kernel_shape: [a[0], a[1]], strides: [a[2], a[3]], pads: [a[4], a[5], a[6], a[7]] });
        break;
      case OP.AVGPOOL2D:
        y = node('AveragePool', [as4d(op.inputs[0])], {
          kernel_shape: [a[0], a[1]], strides: [a[2], a[3]], pads: [a[4], a[5], a[6], a[7]], count_include_pad: a[8] ? 1 : 0,
        });
        break;
      case OP.GLOBAL_AVGPOOL: y = node('GlobalAveragePool', [as4d(op.inputs[0])]); break;
      case OP.ADD: {
        const r2 = op.inputs.every((v) => vals[v].rank === 2);
        rank = r2 ? 2 : 4;
        y = act(node('Add', op.inputs.map((v) => (r2 ? vals[v].name : as4d(v)))), a[0]);
        break;
      }
      case OP.CONCAT: y = node('Concat', op.inputs.map(as4d), { axis: 1 }); break;
      case OP.ACTIVATION: rank = vals[op.inputs[0]].rank; y = act(vals[op.inputs[0]].name, a[0]); break;
      case OP.SOFTMAX: {
        const [h, w, c] = shapes[op.inputs[0]];
        if (vals[op.inputs[0]].rank === 2 || h * w === 1) {
          rank = vals[op.inputs[0]].rank;
          y = node('Softmax', [vals[op.inputs[0]].name], { axis: 1 });
        } else { // over all elements: NHWC-flatten, softmax, back
          const s = node('Softmax', [as2d(op.inputs[0])], { axis: 1 });
          const r = node('Reshape', [s, init([4], [0, h, w, c], INT64)]);
          y = node('Transpose', [r], { perm: [0, 3, 1, 2] });
        }
        break;
      }
      case OP.WEIGHTED_MEAN: {
        const r2 = op.inputs.every((v) => vals[v].rank === 2);
        rank = r2 ? 2 : 4;
        const terms = op.inputs.map((v, i) => node('Mul', [r2 ? vals[v].name : as4d(v), init([], [T(0).data[i]])]));
        y = terms.length === 1 ? terms[0] : node('Sum', terms);
        break;
      }
      case OP.FLIP_W:
        y = node('Slice', [as4d(op.inputs[0]), init([1], [-1], INT64), init([1], [-(2n ** 62n)], INT64),
          init([1], [3], INT64), init([1], [-1], INT64)]);
        break;
      case OP.RESIZE_BILINEAR: {
        // sizes, not scales: 48 * float(112 / 48) rounds below 112. The batch size comes from the input.
        const x = as4d(op.inputs[0]);
        const nc = node('Slice', [node('Shape', [x]), init([1], [0], INT64), init([1], [2], INT64)]);
        const sizes = node('Concat', [nc, init([2], [a[0], a[1]], INT64)], { axis: 0 });
        // pytorch_half_pixel: align_corners=False, as src/ops_ref.c emx__bilinear_coord
        y = node('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
        break;
      }
      case OP.MUL_CHANNEL: y = node('Mul', [as4d(op.inputs[0]), as4d(op.inputs[1])]); break;
      case OP.PAD_CHANNELS:
        y = node('Pad', [as4d(op.inputs[0]), init([8], [0, a[0], 0, 0, 0, a[1], 0, 0], INT64)], { mode: 'constant' });
        break;
      case OP.CALIBRATE: { // softmax(params[0] * log(max(p, 1e-30)) + params[1 + i]), class vectors only
        const p = T(0).data;
        // params: 1/T, one shift per class, then maybe label thresholds (they change no output)
        const n = shapes[op.inputs[0]].reduce((a, b) => a * b, 1);
        const x = as2d(op.inputs[0]);
        const l = node('Log', [node('Max', [x, init([], [1e-30])])]);
        y = node('Softmax', [node('Add', [node('Mul', [l, init([], [p[0]])]), init([n], p.subarray(1, 1 + n))])], { axis: 1 });
        rank = 2;
        break;
      }
      default: throw new Error(`to-onnx: op ${op.type} not covered`);
    }
    vals.push({ name: y, rank });
  });
  const outV = m.outputs[0];
  const out = vals[outV].rank === 2 ? vals[outV].name : as2d(outV);
  const g = new Pb();
  for (const n of nodes) g.msg(1, n);
  g.str(2, m.meta?.find?.(([k]) => k === 'name')?.[1] ?? 'emx');
  for (const t of inits) g.msg(5, t);
  g.msg(11, valueInfo('input', ['n', m.input.channels, m.input.height, m.input.width]));
  const [h, w, c] = shapes[outV];
  g.msg(12, valueInfo(out, ['n', h * w * c]));
  return new Pb().int(1, 7).str(2, producer).msg(7, g).msg(8, new Pb().str(1, '').int(2, 13)).finish();
}
