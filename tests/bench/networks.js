// networks.js - the networks the engines benchmark compares, as .emx models, taken from the
// shipped files or built here, with no Python and no checkpoints:
//   - memberNetworks(file): each one-pass network of a shipped .emx. A shipped file is one
//     network or an ensemble (WEIGHTED_MEAN of members' SOFTMAX outputs), with flip TTA (the
//     same members again on FLIP_W of the input) and a final CALIBRATE. The table compares one
//     pass of one network, so a member is the subgraph that computes one SOFTMAX input of the
//     mean (or the SOFTMAX before CALIBRATE) without going through FLIP_W: CALIBRATE, the mean
//     and the flipped views are left out for every engine alike.
//   - mobileNet(): a MobileNetV1 with random weights, shaped as training/models.py FaceResNet
//     (48 px grey upsampled in-graph to 112 px, 3x3/2 stem, 13 depthwise 3x3 + pointwise 1x1
//     blocks, ReLU6), for depthwise convolutions in the table (issue 20, goal 7).
//   - vggDesign(): the largest architecture of the design (models.py VGGNet, widths
//     64-128-256-320) with random weights, as the table had it before.
// Speed does not depend on the weights' values, so random ones are fine where nothing is shipped;
// they are stored fp16 like the shipped files, so every engine sees the same numbers.
import { ACT, F16, OP, inferShapes } from './emx-file.js';

/** Values an op list needs to compute `value` (a Set of op indices). */
function closure(m, value) {
  const need = new Set();
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === 0 || need.has(v - 1)) continue;
    need.add(v - 1);
    stack.push(...m.ops[v - 1].inputs);
  }
  return need;
}

/** The subgraph of `m` computing `value`, renumbered, with only the tensors it uses. */
export function subgraph(m, value, name) {
  const keep = [...closure(m, value)].sort((a, b) => a - b);
  const vmap = new Map([[0, 0]]);
  const tmap = new Map();
  const tensors = [];
  const ops = keep.map((k, i) => {
    const op = m.ops[k];
    vmap.set(k + 1, i + 1);
    return {
      type: op.type,
      inputs: op.inputs.map((v) => vmap.get(v)),
      attrs: [...op.attrs],
      tensors: op.tensors.map((t) => {
        if (!tmap.has(t)) { tmap.set(t, tensors.length); tensors.push(m.tensors[t]); }
        return tmap.get(t);
      }),
    };
  });
  return { input: m.input, classes: m.classes, tensors, ops, outputs: [vmap.get(value)], meta: [['name', name]] };
}

/** The one-pass member networks of a shipped classifier, in file order: [{ name, model }]. */
export function memberNetworks(m, fallbackName) {
  let v = m.outputs[0];
  if (m.ops[v - 1].type === OP.CALIBRATE) v = m.ops[v - 1].inputs[0];
  const heads = m.ops[v - 1].type === OP.WEIGHTED_MEAN ? m.ops[v - 1].inputs : [v];
  // a head is a flipped view when its subgraph flips the graph input
  const flipped = (h) => [...closure(m, h)].some((k) => m.ops[k].type === OP.FLIP_W && m.ops[k].inputs[0] === 0);
  const plain = heads.filter((h) => !flipped(h));
  // The ensemble's description names its members in export order ("Ensemble of a, b (run), c (weights...").
  const desc = new Map(m.meta).get('description') ?? '';
  const listed = /^Ensemble of (.*?) \(weights/.exec(desc)?.[1].split(', ') ?? [];
  const names = plain.length === 1 ? [fallbackName]
    : listed.length === plain.length ? listed : plain.map((_, i) => `${fallbackName} member ${i + 1}`);
  return plain.map((h, i) => ({ name: names[i], model: subgraph(m, h, names[i]) }));
}

/** Parameters and multiply-add FLOPs (2 per MAC) of one pass. */
export function cost(m) {
  const shapes = inferShapes(m);
  const params = m.tensors.reduce((a, t) => a + t.data.length, 0);
  let flops = 0;
  m.ops.forEach((op, k) => {
    const [h, w, c] = shapes[k + 1];
    if (op.type === OP.CONV2D) flops += 2 * h * w * c * m.tensors[op.tensors[0]].data.length / op.attrs[11];
    if (op.type === OP.DENSE) flops += 2 * m.tensors[op.tensors[0]].data.length;
  });
  return { params, flops };
}

/** Same architecture (ops, attributes, tensor shapes), whatever the weights. */
export const signature = (m) => JSON.stringify([m.input, m.ops.map((o) => [o.type, o.inputs, o.attrs]), m.tensors.map((t) => t.dims)]);

// ---- building random networks ----------------------------------------------------------------

function builder(name, seed) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const m = {
    input: { height: 48, width: 48, channels: 1, mean: 0.5, std: 0.25 },
    classes: ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'],
    tensors: [], ops: [], outputs: [], meta: [['name', name], ['description', 'random weights (benchmark only)']],
  };
  const tensor = (tname, dims, std) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = std * gauss();
    m.tensors.push({ name: tname, dtype: F16, dims, data });
    return m.tensors.length - 1;
  };
  const op = (type, inputs, attrs = [], tensors = []) => {
    m.ops.push({ type, inputs, attrs, tensors });
    return m.ops.length; // the new value
  };
  let c = 1;
  const b = {
    m,
    conv(x, oc, k, stride, groups, act) {
      const p = k >> 1, fanIn = (c / groups) * k * k;
      // He init: activations keep their scale through ReLU/ReLU6 stacks, so the outputs (and the
      // 1e-4 check) stay meaningful.
      const w = tensor(`conv${m.ops.length}.w`, [oc, c / groups, k, k], Math.sqrt(2 / fanIn));
      const bias = tensor(`conv${m.ops.length}.b`, [oc], 0.05);
      c = oc;
      return op(OP.CONV2D, [x], [k, k, stride, stride, p, p, p, p, 1, 1, groups, oc, act], [w, bias]);
    },
    head(x) {
      const g = op(OP.GLOBAL_AVGPOOL, [x]);
      // logits spread over several units: the outputs move with the input by far more than the
      // 1e-4 the engines are checked to, so that check means something
      const w = tensor('fc.w', [8, c], 4 / Math.sqrt(c));
      const d = op(OP.DENSE, [g], [8, ACT.NONE], [w, tensor('fc.b', [8], 0.05)]);
      m.outputs = [op(OP.SOFTMAX, [d])];
      return m;
    },
    op,
  };
  return b;
}

/** MobileNetV1 as models.py FaceResNet builds it (size 112), random weights. */
export function mobileNet(seed = 1) {
  const b = builder('MobileNetV1 (FaceResNet shape, random weights)', seed);
  const WIDTHS = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
  const STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1];
  let x = b.op(OP.RESIZE_BILINEAR, [0], [112, 112]);
  x = b.conv(x, 32, 3, 2, 1, ACT.RELU6);
  let c = 32;
  WIDTHS.forEach((w, i) => {
    x = b.conv(x, c, 3, STRIDES[i], c, ACT.RELU6); // depthwise
    x = b.conv(x, w, 1, 1, 1, ACT.RELU6); // pointwise
    c = w;
  });
  return b.head(x);
}

/** models.py VGGNet (widths 64-128-256-320, two 3x3 convs per stage), random weights. */
export function vggDesign(seed = 2) {
  const b = builder('VGG design member (random weights)', seed);
  let x = 0;
  [64, 128, 256, 320].forEach((w, i, all) => {
    x = b.conv(x, w, 3, 1, 1, ACT.RELU);
    x = b.conv(x, w, 3, 1, 1, ACT.RELU);
    if (i < all.length - 1) x = b.op(OP.MAXPOOL2D, [x], [2, 2, 2, 2, 0, 0, 0, 0]);
  });
  return b.head(x);
}
