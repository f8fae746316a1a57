"""Export the networks `npm run bench` compares across engines (tests/bench/engines.bench.js).

    /usr/bin/python3 training/export_onnx.py [--out build/bench] [--checkpoint CKPT]

For each network it writes, from ONE fused (conv+BN folded) fp16-rounded PyTorch model
(export_checkpoint.load_fused_fp16), so all engines hold exactly the same numbers:
  NAME.emx          our format, one pass, no flip TTA (the shipped .emx adds flip TTA)
  NAME.onnx         torch.onnx.export, opset 13, input "input" N x 1 x 48 x 48, output softmax
  NAME.graph.json   layer list for rebuilding the net in TF.js layers (NHWC), weights in
  NAME.weights.bin  (float32 little-endian; conv kernels HWIO, dense [in, out])
Networks: "lite" (the shipped EmoXNetLite checkpoint), "member" (the largest member, by
parameters, of the shipped ensemble, with its trained weights: --ensemble-json, the
ensemble.py --summary it was exported from; skipped when absent or not covered by the TF.js rebuild) and
"large" (the largest architecture of the design: the training/models.py architecture with the
most parameters that the TF.js rebuild covers, else a local ResNet-18-style net; random seeded
weights, since speed does not depend on training).
"""
import argparse
import json
import operator
import os
import sys

import numpy as np
import torch
import torch.fx
import torch.fx.experimental.optimization as fx_opt
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_emx  # noqa: E402
from export_checkpoint import (SHIPPED_ENSEMBLE_SUMMARY, SHIPPED_LITE_CHECKPOINT,  # noqa: E402
                               load_fused_fp16)
import models  # noqa: E402


class _Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class BenchResNet(nn.Module):
    """ResNet-18-style for 48x48 gray: 3x3 stem, 4 stages x 2 basic blocks, GAP + Linear."""

    def __init__(self, widths=(32, 64, 128, 256), n_classes=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks += [_Block(cin, w, 1 if i == 0 else 2), _Block(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, n_classes)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


def _convertible(m):
    try:
        graph_json(fx_opt.fuse(m.eval()), os.devnull)
        return True
    except Exception:  # noqa: BLE001 - an op the TF.js rebuild does not cover (e.g. SE scaling)
        return False


def large_model(seed=0):
    """The largest (by parameters) ensemble architecture of models.py that runs on 48x48 and
    that the TF.js rebuild covers; the local BenchResNet when there is none."""
    cands = []
    for arch in models.ARCHS:
        if arch == "lite":
            continue
        try:
            torch.manual_seed(seed)
            m = models.build(arch).eval()
            with torch.no_grad():
                m(torch.zeros(1, 1, 48, 48))
        except Exception as e:  # noqa: BLE001 - another helper's arch may need arguments
            print(f"models.py {arch!r} not usable here ({e})", file=sys.stderr)
            continue
        cands.append((sum(p.numel() for p in m.parameters()), arch, m))
    for n, arch, m in sorted(cands, key=lambda c: -c[0]):
        if _convertible(m):
            m, name = m, f"models.py '{arch}'"
            break
        print(f"models.py {arch!r} ({n} params): not covered by the TF.js rebuild, skipped", file=sys.stderr)
    else:
        torch.manual_seed(seed)
        m, name = BenchResNet(), "BenchResNet (local, ResNet-18-style)"
    m.eval()
    with torch.no_grad():  # non-trivial BN statistics, so the folding is exercised
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.1, 0.1)
    m = fx_opt.fuse(m)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.half().float())
    return m, name


def graph_json(model, bin_path):
    """Walk the fx graph of the fused model: a list of layers with input names, for TF.js."""
    gm = torch.fx.symbolic_trace(model)
    mods = dict(gm.named_modules())
    blobs, offset, layers = [], 0, []

    def put(a):
        nonlocal offset
        a = np.ascontiguousarray(a, dtype="<f4")
        blobs.append(a.tobytes())
        ref = dict(offset=offset, shape=list(a.shape))
        offset += a.nbytes
        return ref

    alias = {}
    name_of = lambda n: alias.get(n.name, n.name)  # noqa: E731
    for n in gm.graph.nodes:
        ins = [name_of(a) for a in n.args if isinstance(a, torch.fx.Node)]
        L = None
        if n.op == "placeholder":
            L = dict(op="input")
        elif n.op == "output":
            layers.append(dict(op="softmax", name="probs", inputs=[name_of(n.args[0])]))
            continue
        elif n.op == "call_module":
            m = mods[n.target]
            if isinstance(m, nn.Conv2d):
                assert m.groups == 1 and m.dilation == (1, 1)
                w = m.weight.detach().numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
                b = m.bias.detach().numpy() if m.bias is not None else np.zeros(m.out_channels)
                L = dict(op="conv", kernel=list(m.kernel_size), stride=list(m.stride),
                         pad=list(m.padding), filters=m.out_channels, w=put(w), b=put(b))
            elif isinstance(m, nn.ReLU):
                L = dict(op="relu")
            elif isinstance(m, nn.MaxPool2d):
                k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
                s = m.stride if isinstance(m.stride, int) else m.stride[0]
                assert m.padding == 0 and not m.ceil_mode
                L = dict(op="maxpool", kernel=k, stride=s)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                L = dict(op="gap")
            elif isinstance(m, nn.Linear):
                L = dict(op="dense", units=m.out_features, w=put(m.weight.detach().numpy().T),
                         b=put(m.bias.detach().numpy()))
            elif isinstance(m, (nn.Dropout, nn.Identity)):
                alias[n.name] = ins[0]
                continue
        elif n.op == "call_function":
            if n.target in (F.relu, torch.relu):
                L = dict(op="relu")
            elif n.target in (operator.add, torch.add):
                L = dict(op="add")
            elif n.target is torch.flatten:
                alias[n.name] = ins[0]  # GAP already yields [N, C] in TF.js
                continue
        elif n.op == "call_method" and n.target in ("flatten", "view", "reshape"):
            alias[n.name] = ins[0]
            continue
        if L is None:
            raise ValueError(f"graph_json: unsupported node {n.op} {n.target}")
        L.update(name=n.name, inputs=ins)
        layers.append(L)
    with open(bin_path, "wb") as f:
        f.write(b"".join(blobs))
    return layers, offset


class WithSoftmax(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return torch.softmax(self.m(x), 1)


def export_all(model, mean, std, name, label, out):
    base = os.path.join(out, name)
    spec = dict(height=48, width=48, channels=1, mean=mean, std=std)
    export_emx.export(model, base + ".emx", spec, meta=dict(name=f"bench-{name}", description=label),
                      fp16=True)
    net = WithSoftmax(model).eval()
    x = torch.randn(1, 1, 48, 48)
    torch.onnx.export(net, x, base + ".onnx", opset_version=13, input_names=["input"],
                      output_names=["probs"], dynamic_axes={"input": {0: "n"}, "probs": {0: "n"}})
    layers, nbytes = graph_json(model, base + ".weights.bin")
    n_params = sum(p.numel() for p in model.parameters())
    with open(base + ".graph.json", "w") as f:
        json.dump(dict(name=name, label=label, input=[48, 48, 1], mean=mean, std=std,
                       params=n_params, fp16_bytes=2 * n_params, layers=layers), f, indent=1)
    flops = 0
    hooks = []

    def conv_hook(m, i, o):
        nonlocal flops
        k = m.weight.numel() // m.weight.shape[0]
        flops += 2 * o.numel() * k

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(conv_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    print(f"{name}: {label}, {n_params} params, {flops / 1e6:.1f} MFLOP/face -> "
          f"{base}.{{emx,onnx,graph.json,weights.bin}}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "bench"))
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "..", SHIPPED_LITE_CHECKPOINT))
    ap.add_argument("--ensemble-json", default=os.path.join(HERE, "..", SHIPPED_ENSEMBLE_SUMMARY))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    lite, ck = load_fused_fp16(args.checkpoint)
    mean, std = float(ck["mean"]), float(ck["std"])
    export_all(lite, mean, std, "lite", f"EmoXNetLite ({os.path.relpath(args.checkpoint)})", args.out)
    member = os.path.join(args.out, "member.graph.json")
    if os.path.exists(member):
        os.remove(member)  # a stale one would be benchmarked
    if os.path.exists(args.ensemble_json):
        with open(args.ensemble_json) as f:
            ens = json.load(f)
        rows = [r for r in ens["rows"] if "checkpoint" in r]
        best = max(rows, key=lambda r: r["params"])
        m, _ = load_fused_fp16(best["checkpoint"])
        if _convertible(m):
            export_all(m, mean, std, "member", f"'{best['name']}', trained ({best['checkpoint']})",
                       args.out)
        else:
            print(f"{best['name']}: not covered by the TF.js rebuild, no 'member' network", file=sys.stderr)
    large, label = large_model()
    export_all(large, mean, std, "large", label, args.out)


if __name__ == "__main__":
    main()
