"""emx_numpy_ref.py - a tiny NumPy interpreter of .emx graphs (models/FORMAT.md), independent of
the C core, so the exporter's files can be checked against PyTorch without it.

Values are NHWC with batch 1, i.e. arrays of shape (H, W, C), evaluated in float64 (an oracle,
not a model of fp32 rounding). Straight from the op definitions: no speed tricks beyond NumPy.

    m = emx_format.read("net.emx")
    probs = run(m, x_hwc)[0]          # x_hwc: (H, W, C) already normalised
    python3 training/emx_numpy_ref.py net.emx input.f32   # prints output 0 of each case
"""
from __future__ import annotations

import sys
from typing import List, Sequence

import numpy as np

import emx_format as ef


def activation(x: np.ndarray, act: int) -> np.ndarray:
    if act == ef.ACT_NONE:
        return x
    if act == ef.ACT_RELU:
        return np.maximum(x, 0.0)
    if act == ef.ACT_RELU6:
        return np.clip(x, 0.0, 6.0)
    if act == ef.ACT_SILU:
        return x / (1.0 + np.exp(-x))
    if act == ef.ACT_HARDSWISH:
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if act == ef.ACT_SIGMOID:
        return 1.0 / (1.0 + np.exp(-x))
    raise ef.EmxFormatError(f"unknown activation code {act}")


def _out_size(n: int, k: int, s: int, pa: int, pb: int, d: int = 1) -> int:
    ext = d * (k - 1) + 1
    if k < 1 or s < 1 or d < 1 or pa < 0 or pb < 0 or pa >= ext or pb >= ext:
        raise ef.EmxFormatError(f"bad window k={k} s={s} pad=({pa},{pb}) d={d}")
    span = n + pa + pb - ext
    if span < 0:
        raise ef.EmxFormatError(f"window of extent {ext} larger than padded input {n}+{pa}+{pb}")
    return span // s + 1


def _windows(x: np.ndarray, a: Sequence[int], dil=(1, 1), fill=0.0):
    """Yields (ky, kx, slab) with slab[oy, ox, c] = padded x at the tap (ky, kx) of window
    (oy, ox). a = kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right."""
    kh, kw, sh, sw, pt, pl, pb, pr = a[:8]
    h, w, _ = x.shape
    oh = _out_size(h, kh, sh, pt, pb, dil[0])
    ow = _out_size(w, kw, sw, pl, pr, dil[1])
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    for ky in range(kh):
        y0 = ky * dil[0]
        for kx in range(kw):
            x0 = kx * dil[1]
            yield ky, kx, xp[y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw, :]


def conv2d(x, weight, bias, a):
    kh, kw = a[0], a[1]
    dil = (a[8], a[9])
    groups, oc, act = a[10], a[11], a[12]
    ic = x.shape[2]
    if groups < 1 or ic % groups or oc % groups:
        raise ef.EmxFormatError(f"conv: {ic} -> {oc} channels in {groups} groups")
    icg, ocg = ic // groups, oc // groups
    if weight.shape != (oc, icg, kh, kw) or bias.shape != (oc,):
        raise ef.EmxFormatError(f"conv: weight {weight.shape} / bias {bias.shape} do not fit")
    out = None
    for ky, kx, slab in _windows(x, a[:8], dil):
        if out is None:
            out = np.zeros(slab.shape[:2] + (oc,))
        for g in range(groups):
            w = weight[g * ocg:(g + 1) * ocg, :, ky, kx]            # (ocg, icg)
            out[:, :, g * ocg:(g + 1) * ocg] += slab[:, :, g * icg:(g + 1) * icg] @ w.T
    return activation(out + bias, act)


def maxpool2d(x, a):
    out = None
    for _, _, slab in _windows(x, a, fill=-np.inf):
        out = slab.copy() if out is None else np.maximum(out, slab)
    return out


def avgpool2d(x, a):
    if a[8] not in (0, 1):
        raise ef.EmxFormatError(f"avgpool: count_include_pad {a[8]}")
    total = count = None
    ones = np.ones(x.shape[:2] + (1,))
    for (_, _, slab), (_, _, one) in zip(_windows(x, a), _windows(ones, a)):
        total = slab.copy() if total is None else total + slab
        count = one.copy() if count is None else count + one
    div = float(a[0] * a[1]) if a[8] else count
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(div > 0, total / np.maximum(div, 1e-300), 0.0)


def _bilinear_axis(in_n: int, out_n: int):
    # PyTorch align_corners=False: src = (d + 0.5) * in/out - 0.5, clamped below at 0.
    scale = np.float32(in_n) / np.float32(out_n)
    src = (np.arange(out_n, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    src = np.maximum(src, np.float32(0)).astype(np.float64)
    i0 = np.minimum(src.astype(np.int64), in_n - 1)
    i1 = np.where(i0 < in_n - 1, i0 + 1, i0)
    l1 = src - i0
    return i0, i1, l1


def resize_bilinear(x, out_h, out_w):
    if out_h < 1 or out_w < 1:
        raise ef.EmxFormatError(f"resize to {out_h}x{out_w}")
    y0, y1, ly = _bilinear_axis(x.shape[0], out_h)
    x0, x1, lx = _bilinear_axis(x.shape[1], out_w)
    ly, lx = ly[:, None, None], lx[None, :, None]
    top = x[y0][:, x0] * (1 - lx) + x[y0][:, x1] * lx
    bot = x[y1][:, x0] * (1 - lx) + x[y1][:, x1] * lx
    return top * (1 - ly) + bot * ly


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def calibrate(p, params):
    """CALIBRATE: softmax(params[0] * log p + params[1:n + 1]) (p floored at 1e-30 as in C); the
    label thresholds that may follow (params[n + 1:]) decide labels, not probabilities."""
    flat = np.asarray(p).reshape(-1)
    n = flat.size
    if params.shape not in ((n + 1,), (2 * n + 1,)):
        raise ef.EmxFormatError(f"CALIBRATE: {params.shape} parameters for {n} inputs")
    return softmax(params[0] * np.log(np.maximum(flat, 1e-30)) + params[1:n + 1]).reshape(np.shape(p))


def run(m: ef.EmxModel, x: np.ndarray, return_all: bool = False) -> List[np.ndarray]:
    """Runs the graph on one input (H, W, C); returns the graph outputs (each (H, W, C)),
    or every value when return_all."""
    s = m.input
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (s.height, s.width, s.channels):
        raise ValueError(f"input shape {x.shape}, model wants "
                         f"{(s.height, s.width, s.channels)}")
    vals = [x]
    tens = [t.data.astype(np.float64) for t in m.tensors]
    for k, op in enumerate(m.ops):
        ins = [vals[v] for v in op.inputs]
        a = op.attrs
        T = [tens[t] for t in op.tensors]
        t = op.type
        if t == ef.OP_CONV2D:
            y = conv2d(ins[0], T[0], T[1], a)
        elif t == ef.OP_DENSE:
            flat = ins[0].reshape(-1)                     # H, W, C order
            if T[0].shape != (a[0], flat.size) or T[1].shape != (a[0],):
                raise ef.EmxFormatError(f"op {k} DENSE: weight {T[0].shape} for {flat.size} "
                                        f"inputs, {a[0]} outputs")
            y = activation(T[0] @ flat + T[1], a[1]).reshape(1, 1, a[0])
        elif t == ef.OP_MAXPOOL2D:
            y = maxpool2d(ins[0], a)
        elif t == ef.OP_AVGPOOL2D:
            y = avgpool2d(ins[0], a)
        elif t == ef.OP_GLOBAL_AVGPOOL:
            y = ins[0].mean(axis=(0, 1), keepdims=True)
        elif t == ef.OP_ADD:
            if ins[0].shape != ins[1].shape:
                raise ef.EmxFormatError(f"op {k} ADD: {ins[0].shape} + {ins[1].shape}")
            y = activation(ins[0] + ins[1], a[0])
        elif t == ef.OP_CONCAT:
            if len({v.shape[:2] for v in ins}) != 1:
                raise ef.EmxFormatError(f"op {k} CONCAT: spatial sizes differ")
            y = np.concatenate(ins, axis=2)
        elif t == ef.OP_SOFTMAX:
            y = softmax(ins[0])
        elif t == ef.OP_ACTIVATION:
            y = activation(ins[0], a[0])
        elif t == ef.OP_WEIGHTED_MEAN:
            if len({v.shape for v in ins}) != 1 or T[0].shape != (len(ins),):
                raise ef.EmxFormatError(f"op {k} WEIGHTED_MEAN: shapes do not fit")
            y = sum(w * v for w, v in zip(T[0], ins))
        elif t == ef.OP_FLIP_W:
            y = ins[0][:, ::-1, :]
        elif t == ef.OP_RESIZE_BILINEAR:
            y = resize_bilinear(ins[0], a[0], a[1])
        elif t == ef.OP_MUL_CHANNEL:
            xs, sc = ins
            if sc.shape != (1, 1, xs.shape[2]):
                raise ef.EmxFormatError(f"op {k} MUL_CHANNEL: scale {sc.shape} for {xs.shape}")
            y = xs * sc
        elif t == ef.OP_PAD_CHANNELS:
            if a[0] < 0 or a[1] < 0:
                raise ef.EmxFormatError(f"op {k} PAD_CHANNELS: negative padding {a}")
            y = np.pad(ins[0], ((0, 0), (0, 0), (a[0], a[1])))
        elif t == ef.OP_CALIBRATE:
            y = calibrate(ins[0], T[0])
        else:
            raise ef.EmxFormatError(f"op {k}: unknown type {t}")
        vals.append(y)
    if return_all:
        return vals
    return [vals[v] for v in m.outputs]


def predict(m: ef.EmxModel, x: np.ndarray) -> np.ndarray:
    """Output 0 (class probabilities) as a flat float64 vector."""
    return run(m, x)[0].reshape(-1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 training/emx_numpy_ref.py MODEL.emx INPUTS.f32")
    model = ef.read(sys.argv[1])
    shape = (model.input.height, model.input.width, model.input.channels)
    xs = np.fromfile(sys.argv[2], dtype="<f4").reshape((-1,) + shape)
    np.set_printoptions(precision=6, suppress=True, linewidth=150)
    for case in xs:
        print(predict(model, case))
