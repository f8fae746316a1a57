// emx-file.js - read and write `.emx` v1 files in plain JS (the contract is models/FORMAT.md;
// training/emx_format.py is the Python twin). The engines benchmark uses it to take networks
// out of the shipped files and to hand every engine the very same weights, so it needs no
// Python, no PyTorch and no checkpoints. fp16 tensors are widened to f32 on read (exactly, as
// src/model_load.c does) and `dtype` remembers the storage; the writer re-narrows them, which is
// lossless for values that came from an fp16 file.

export const OP = Object.freeze({
  CONV2D: 1, DENSE: 2, MAXPOOL2D: 3, AVGPOOL2D: 4, GLOBAL_AVGPOOL: 5, ADD: 6, CONCAT: 7,
  SOFTMAX: 8, ACTIVATION: 9, WEIGHTED_MEAN: 10, FLIP_W: 11, RESIZE_BILINEAR: 12,
  MUL_CHANNEL: 13, PAD_CHANNELS: 14, CALIBRATE: 15,
});
export const ACT = Object.freeze({ NONE: 0, RELU: 1, RELU6: 2, SILU: 3, HARDSWISH: 4, SIGMOID: 5 });
export const F32 = 0;
export const F16 = 1;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// f32 -> f16 bits, round to nearest even (only ever given values that are exact halves here, or
// the random weights of the synthetic networks, which are rounded once and read back).
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
export function floatToHalf(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 255;
  let m = x & 0x7fffff;
  if (e === 255) return sign | 0x7c00 | (m ? 0x200 : 0);
  let ee = e - 127 + 15;
  if (ee >= 31) return sign | 0x7c00;
  if (ee <= 0) {
    if (ee < -10) return sign;
    m |= 0x800000;
    const shift = 14 - ee;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && hm & 1)) hm++;
    return sign | hm;
  }
  let hm = m >>> 13;
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) {
    hm++;
    if (hm === 1024) { hm = 0; ee++; }
    if (ee >= 31) return sign | 0x7c00;
  }
  return sign | (ee << 10) | hm;
}

/** Parses an .emx buffer: { input, classes, tensors: [{name, dtype, dims, data}], ops, outputs, meta }. */
export function readEmx(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = String.fromCharCode(...b.subarray(0, 4));
  if (magic !== 'EMXN') throw new Error('not an .emx file (bad magic)');
  if (dv.getUint32(4, true) !== 1) throw new Error('unsupported .emx version');
  if (dv.getUint32(8, true) !== b.length) throw new Error('.emx size field does not match the file');
  if (dv.getUint32(12, true) !== crc32(b.subarray(16))) throw new Error('.emx CRC mismatch');
  const chunks = {};
  for (let p = 16; p < b.length;) {
    const tag = String.fromCharCode(...b.subarray(p, p + 4));
    const size = dv.getUint32(p + 4, true);
    chunks[tag] = p + 8;
    p += 8 + size + (-size & 3);
  }
  let pos = 0;
  const u32 = () => { const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { const v = dv.getInt32(pos, true); pos += 4; return v; };
  const str = () => { const n = u32(); const s = new TextDecoder().decode(b.subarray(pos, pos + n)); pos += n; return s; };
  for (const t of ['INPT', 'CLSS', 'TENS', 'GRPH', 'DATA']) if (!(t in chunks)) throw new Error(`.emx without ${t}`);

  pos = chunks.INPT;
  const input = { height: u32(), width: u32(), channels: u32(), mean: dv.getFloat32(pos, true), std: dv.getFloat32(pos + 4, true) };
  pos = chunks.CLSS;
  const classes = Array.from({ length: u32() }, str);
  const data = chunks.DATA;
  pos = chunks.TENS;
  const tensors = Array.from({ length: u32() }, () => {
    const name = str(), dtype = u32(), ndim = u32();
    const dims = Array.from({ length: ndim }, u32);
    const offset = u32(), nbytes = u32();
    const n = dims.reduce((a, c) => a * c, 1);
    const out = new Float32Array(n);
    const dd = new DataView(b.buffer, b.byteOffset + data + offset, nbytes);
    for (let i = 0; i < n; i++) out[i] = dtype === F16 ? halfToFloat(dd.getUint16(2 * i, true)) : dd.getFloat32(4 * i, true);
    return { name, dtype, dims, data: out };
  });
  pos = chunks.GRPH;
  const ops = Array.from({ length: u32() }, () => {
    const type = u32();
    const inputs = Array.from({ length: u32() }, u32);
    const attrs = Array.from({ length: u32() }, i32);
    const tens = Array.from({ length: u32() }, u32);
    return { type, inputs, attrs, tensors: tens };
  });
  const outputs = Array.from({ length: u32() }, u32);
  const meta = [];
  if ('META' in chunks) {
    pos = chunks.META;
    for (let n = u32(); n > 0; n--) meta.push([str(), str()]);
  }
  return { input, classes, tensors, ops, outputs, meta };
}

/** Serialises a model of readEmx's shape into .emx bytes (FORMAT.md layout, CRC included). */
export function writeEmx(m) {
  const parts = [];
  const enc = new TextEncoder();
  const u32 = (arr, v) => { const x = new Uint8Array(4); new DataView(x.buffer).setUint32(0, v, true); arr.push(x); };
  const i32 = (arr, v) => { const x = new Uint8Array(4); new DataView(x.buffer).setInt32(0, v, true); arr.push(x); };
  const f32 = (arr, v) => { const x = new Uint8Array(4); new DataView(x.buffer).setFloat32(0, v, true); arr.push(x); };
  const str = (arr, s) => { const x = enc.encode(s); u32(arr, x.length); arr.push(x); };
  const cat = (arr) => {
    const out = new Uint8Array(arr.reduce((a, x) => a + x.length, 0));
    let p = 0;
    for (const x of arr) { out.set(x, p); p += x.length; }
    return out;
  };
  const chunk = (tag, arr) => {
    const payload = cat(arr);
    parts.push(enc.encode(tag));
    u32(parts, payload.length);
    parts.push(payload, new Uint8Array(-payload.length & 3));
  };

  const inpt = [];
  for (const v of [m.input.height, m.input.width, m.input.channels]) u32(inpt, v);
  f32(inpt, m.input.mean);
  f32(inpt, m.input.std);
  chunk('INPT', inpt);
  const clss = [];
  u32(clss, m.classes.length);
  for (const c of m.classes) str(clss, c);
  chunk('CLSS', clss);

  const tens = [], data = [];
  let offset = 0;
  u32(tens, m.tensors.length);
  for (const t of m.tensors) {
    const n = t.data.length;
    const raw = new Uint8Array(n * (t.dtype === F16 ? 2 : 4));
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      if (t.dtype === F16) dv.setUint16(2 * i, floatToHalf(t.data[i]), true);
      else dv.setFloat32(4 * i, t.data[i], true);
    }
    str(tens, t.name);
    u32(tens, t.dtype);
    u32(tens, t.dims.length);
    for (const d of t.dims) u32(tens, d);
    u32(tens, offset);
    u32(tens, raw.length);
    data.push(raw, new Uint8Array(-raw.length & 3)); // every tensor 4-byte aligned, as the Python writer does
    offset += raw.length + (-raw.length & 3);
  }
  chunk('TENS', tens);
  const grph = [];
  u32(grph, m.ops.length);
  for (const op of m.ops) {
    u32(grph, op.type);
    u32(grph, op.inputs.length);
    for (const v of op.inputs) u32(grph, v);
    u32(grph, op.attrs.length);
    for (const v of op.attrs) i32(grph, v);
    u32(grph, op.tensors.length);
    for (const v of op.tensors) u32(grph, v);
  }
  u32(grph, m.outputs.length);
  for (const v of m.outputs) u32(grph, v);
  chunk('GRPH', grph);
  chunk('DATA', data);
  if (m.meta?.length) {
    const meta = [];
    u32(meta, m.meta.length);
    for (const [k, v] of m.meta) { str(meta, k); str(meta, v); }
    chunk('META', meta);
  }
  const body = cat(parts);
  const out = new Uint8Array(16 + body.length);
  out.set(enc.encode('EMXN'), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, out.length, true);
  out.set(body, 16);
  dv.setUint32(12, crc32(body), true);
  return out;
}

/** Shapes ([H, W, C]) of every value, inferred as src/shape_infer.c does (PyTorch's rules). */
export function inferShapes(m) {
  const s = [[m.input.height, m.input.width, m.input.channels]];
  const out = (i, k, st, pa, pb, dil = 1) => Math.floor((i + pa + pb - dil * (k - 1) - 1) / st) + 1;
  for (const op of m.ops) {
    const [h, w, c] = s[op.inputs[0]];
    const a = op.attrs;
    switch (op.type) {
      case OP.CONV2D: s.push([out(h, a[0], a[2], a[4], a[6], a[8]), out(w, a[1], a[3], a[5], a[7], a[9]), a[11]]); break;
      case OP.DENSE: s.push([1, 1, a[0]]); break;
      case OP.MAXPOOL2D: case OP.AVGPOOL2D: s.push([out(h, a[0], a[2], a[4], a[6]), out(w, a[1], a[3], a[5], a[7]), c]); break;
      case OP.GLOBAL_AVGPOOL: s.push([1, 1, c]); break;
      case OP.CONCAT: s.push([h, w, op.inputs.reduce((t, v) => t + s[v][2], 0)]); break;
      case OP.RESIZE_BILINEAR: s.push([a[0], a[1], c]); break;
      case OP.PAD_CHANNELS: s.push([h, w, c + a[0] + a[1]]); break;
      default: s.push([h, w, c]); // element-wise, softmax, flip, mean, calibrate
    }
  }
  return s;
}
