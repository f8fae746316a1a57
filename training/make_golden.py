"""make_golden.py - golden test files for the .emx runtime (C, WASM) and the exporter.

Builds small networks with random weights (fixed seeds, drawn with NumPy so the files do not
depend on the PyTorch version), exports each with training/export_emx.py and writes, per net:

    tests/golden/NAME.emx            the exported model (float32 weights)
    tests/golden/NAME.input.f32      N_CASES inputs, each H x W x C float32 little-endian
                                     (already normalised network input, values ~ N(0, 1))
    tests/golden/NAME.expected.f32   N_CASES x 8 float32: output 0 (probabilities) computed by
                                     PyTorch in float64 from the same fp32 weights
    tests/golden/manifest.txt        one line per net: "NAME N_CASES"

A float32 runtime should match the expected probabilities within 1e-4 (absolute).

    /usr/bin/python3 training/make_golden.py                # (re)write tests/golden/
    /usr/bin/python3 training/make_golden.py --check-only   # regenerate in memory and verify
                                                            # the committed files still match
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format as ef  # noqa: E402
import export_emx  # noqa: E402

N_CASES = 3
N_CLASSES = 8
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN_DIR = os.path.join(REPO, "tests", "golden")
SPEC = dict(height=48, width=48, channels=1, mean=0.5, std=0.25)


def conv_bn(cin, cout, k=3, stride=1, padding=1, groups=1, dilation=1):
    return [nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias=False),
            nn.BatchNorm2d(cout)]


# ---------------------------------------------------------------------------------------------
# the nets (each: 48x48 input, 8 logits or probabilities)
# ---------------------------------------------------------------------------------------------

class Vgg(nn.Module):
    """conv+BN+ReLU, MaxPool2d (plain and ceil_mode), AdaptiveAvgPool2d(1), Dropout,
    Linear+ReLU, Linear; ends in logits (softmax appended)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn(1, 8), nn.ReLU(inplace=True),
            *conv_bn(8, 8), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),          # 24 -> 12 (floor gives 11)
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2, stride=2, padding=1),               # 12 -> 7
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16, 32),
                                  nn.ReLU(), nn.Linear(32, N_CLASSES))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNetRGB(nn.Module):
    """3-channel input. Stride-2 block with projection shortcut (1x1 conv s2 + BN), identity
    block (torch.add, .relu()), ADD+ReLU fusion, x.mean((2, 3)) -> GLOBAL_AVGPOOL."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.ReLU(inplace=True))
        self.block1 = BasicBlock(8, 16, 2)
        self.conv3 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, N_CLASSES)

    def forward(self, x):
        x = self.block1(self.stem(x))
        x = torch.add(self.conv3(x), x).relu()
        return self.fc(x.mean((2, 3)))


class DwSep(nn.Module):
    """Depthwise-separable (MobileNet-like): ReLU6 (module and F.relu6), Hardswish (module and
    F.hardswish), depthwise with channel multiplier 2 and padding='same' with an even kernel
    (asymmetric padding), AdaptiveAvgPool2d(1) + torch.flatten."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, 8, stride=2), nn.ReLU6())
        self.dw1 = nn.Sequential(*conv_bn(8, 8, groups=8))
        self.pw1 = nn.Sequential(*conv_bn(8, 16, k=1, padding=0), nn.Hardswish())
        self.dw2 = nn.Conv2d(16, 32, 4, padding="same", groups=16)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, N_CLASSES)

    def forward(self, x):
        x = F.relu6(self.dw1(self.stem(x)))
        x = F.hardswish(self.bn2(self.dw2(self.pw1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class Grouped(nn.Module):
    """Grouped conv (groups=2, 4), dilation 2, padding=(1, 2) (H != W afterwards), kernel (3, 5)
    with stride (2, 1), conv without bias and without BN, SiLU (module and F.silu),
    F.adaptive_avg_pool2d + x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(*conv_bn(1, 8), nn.SiLU())
        self.c2 = nn.Sequential(*conv_bn(8, 8, groups=2, dilation=2, padding=(1, 2)))
        self.c3 = nn.Sequential(nn.Conv2d(8, 12, (3, 5), (2, 1), (0, 2), groups=4, bias=False),
                                nn.BatchNorm2d(12), nn.SiLU())
        self.pool = nn.MaxPool2d(2)
        self.c4 = nn.Conv2d(12, 16, 1, stride=2, bias=False)
        self.fc = nn.Linear(16, N_CLASSES)

    def forward(self, x):
        x = F.silu(self.c2(self.c1(x)))                 # 46 x 48
        x = self.c4(self.pool(self.c3(x)))              # 22x48 -> 11x24 -> 6x12
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


class SE(nn.Module):
    """Squeeze-excitation twice: with 1x1 convs (mean keepdim, F.relu, torch.sigmoid, x * s)
    and with Linear layers (size(), view to [N, C], .relu(), nn.Sigmoid, view to
    [N, C, 1, 1], s * x); nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten, ends in nn.Softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(*conv_bn(1, 16, stride=2), nn.ReLU())
        self.se1_a = nn.Conv2d(16, 4, 1)
        self.se1_b = nn.Conv2d(4, 16, 1)
        self.c2 = nn.Sequential(*conv_bn(16, 16, stride=2), nn.ReLU())
        self.se2_a = nn.Linear(16, 4)
        self.se2_b = nn.Linear(4, 16)
        self.sig = nn.Sigmoid()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                                  nn.Linear(16, N_CLASSES), nn.Softmax(dim=1))

    def forward(self, x):
        x = self.c1(x)
        s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.se1_b(F.relu(self.se1_a(s))))
        x = self.c2(x * s)
        b, c = x.size(0), x.size(1)
        s = F.adaptive_avg_pool2d(x, 1).view(b, c)
        s = self.sig(self.se2_b(self.se2_a(s).relu())).view(b, c, 1, 1)
        return self.head(s * x)


class Inception(nn.Module):
    """Inception-like: 1x1 / 1x1->3x3 / 5x5 / maxpool(3, s1, p1)->1x1 branches, torch.cat
    along channels, a ReLU after the concat (a standalone ACTIVATION), a sigmoid on a value
    with two readers (standalone ACTIVATION again), mean((-1, -2))."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, 8, stride=2), nn.ReLU())
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b2a = nn.Conv2d(8, 4, 1)
        self.b2b = nn.Conv2d(4, 6, 3, padding=1)
        self.b3 = nn.Conv2d(8, 4, 5, padding=2)
        self.b4 = nn.Conv2d(8, 4, 1)
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(18, 16, 3, padding=1)
        self.c3 = nn.Conv2d(16, 16, 1)
        self.fc = nn.Linear(16, N_CLASSES)

    def forward(self, x):
        x = self.stem(x)
        y = torch.cat([F.relu(self.b1(x)), self.b2b(F.relu(self.b2a(x))), self.b3(x),
                       self.b4(F.max_pool2d(x, 3, stride=1, padding=1))], dim=1)
        y = self.pool(F.relu(y))
        z = self.c2(y)
        g = torch.sigmoid(z)                 # z has two readers: not fused
        z = self.c3(g) + z
        return self.fc(z.mean((-1, -2)))


class AvgPoolFlatten(nn.Module):
    """AvgPool2d variants (plain; padding with count_include_pad=True; ceil_mode with pad 0 and
    count_include_pad=True, i.e. in-bounds divisor; asymmetric kernel/stride with padding and
    count_include_pad=False) ending in a 6 x 3 map flattened into a Linear (checks the CHW ->
    HWC weight permutation, with H != W)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(*conv_bn(1, 6), nn.ReLU())
        self.p1 = nn.AvgPool2d(2)                                            # 48 -> 24
        self.p2 = nn.AvgPool2d(3, stride=2, padding=1)                       # 24 -> 12
        self.p3 = nn.AvgPool2d(3, stride=2, ceil_mode=True)                  # 12 -> 6
        self.p4 = nn.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0),
                               count_include_pad=False)                      # 6x6 -> 6x3
        self.fc1 = nn.Linear(6 * 6 * 3, 16)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(16, N_CLASSES)

    def forward(self, x):
        x = self.p4(self.p3(self.p2(self.p1(self.c1(x)))))
        x = x.reshape(x.size(0), -1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class MemberA(nn.Module):
    """Ensemble member at 48x48: F.interpolate bilinear by size (24 -> 20), ends in F.softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(*conv_bn(1, 6, stride=2), nn.ReLU())
        self.c2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(8, N_CLASSES)

    def forward(self, x):
        x = self.c1(x)
        x = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
        x = F.relu(self.c2(x))
        return F.softmax(self.fc(x.mean((2, 3))), dim=1)


class MemberB(nn.Module):
    """Ensemble member at 64x64 (input_size): torch.flip(x, [3]) concatenated with x, conv s2
    + BN + Hardswish, F.interpolate(scale_factor=0.5), MaxPool2d, GAP; ends in logits."""
    input_size = 64

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(*conv_bn(2, 8, stride=2), nn.Hardswish())
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8, N_CLASSES)

    def forward(self, x):
        x = self.c1(torch.cat([x, torch.flip(x, [3])], 1))                 # 32 x 32
        x = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
        x = self.pool(x)
        return self.fc(x.mean((2, 3)))


# ---------------------------------------------------------------------------------------------
# deterministic weights
# ---------------------------------------------------------------------------------------------

def randomize(model: nn.Module, seed: int) -> nn.Module:
    """Overwrites every parameter and BatchNorm buffer from a NumPy RandomState (independent
    of torch's RNG and version). BN running stats are non-trivial."""
    rng = np.random.RandomState(seed)
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
            fan_in = w[0].numel()
            w.data = torch.from_numpy(
                rng.normal(0, math.sqrt(2.0 / fan_in), w.shape).astype(np.float32))
            if m.bias is not None:
                m.bias.data = torch.from_numpy(
                    rng.uniform(-0.2, 0.2, m.bias.shape).astype(np.float32))
        elif isinstance(m, nn.BatchNorm2d):
            C = m.num_features
            for t, lo, hi in ((m.weight, 0.5, 1.5), (m.bias, -0.3, 0.3),
                              (m.running_mean, -0.5, 0.5), (m.running_var, 0.3, 2.0)):
                t.data = torch.from_numpy(rng.uniform(lo, hi, C).astype(np.float32))
    return model.eval()


def make_inputs(seed: int, h: int, w: int, c: int) -> np.ndarray:
    return np.random.RandomState(seed).normal(0, 1, (N_CASES, h, w, c)).astype(np.float32)


def torch_probs(model: nn.Module, x_nhwc: np.ndarray, ends_in_softmax: bool) -> np.ndarray:
    """float64 evaluation of the fp32 weights: (N, 8) probabilities."""
    m = copy.deepcopy(model).double().eval()
    x = torch.from_numpy(x_nhwc.astype(np.float64)).permute(0, 3, 1, 2)
    with torch.no_grad():
        y = m(x)
    return (y if ends_in_softmax else torch.softmax(y, 1)).numpy()


def ensemble_probs(models, ends, weights, x_nhwc, flip_tta) -> np.ndarray:
    """The ensemble computed directly in PyTorch (independent of the exporter)."""
    x = torch.from_numpy(x_nhwc.astype(np.float64)).permute(0, 3, 1, 2)
    total = sum(weights)
    out = 0
    for m, end, w in zip(models, ends, weights):
        m = copy.deepcopy(m).double().eval()
        size = export_emx._pair(getattr(m, "input_size", x.shape[2:]))
        xi = x if tuple(size) == tuple(x.shape[2:]) else F.interpolate(
            x, size=size, mode="bilinear", align_corners=False)
        views = [xi, torch.flip(xi, [3])] if flip_tta else [xi]
        with torch.no_grad():
            ps = [m(v) if end else torch.softmax(m(v), 1) for v in views]
        out = out + (w / total) * sum(ps) / len(ps)
    return out.numpy()


# ---------------------------------------------------------------------------------------------
# the golden set
# ---------------------------------------------------------------------------------------------

Golden = Tuple[str, ef.EmxModel, np.ndarray, np.ndarray]    # name, model, inputs, expected


def _single(name: str, cls, seed: int, ends_in_softmax=False, channels=1) -> Golden:
    model = randomize(cls(), seed)
    spec = dict(SPEC, channels=channels)
    em = export_emx.convert(model, spec, export_emx.FERPLUS_CLASSES, meta={
        "name": name, "description": " ".join((cls.__doc__ or "").split()),
        "source": "training/make_golden.py"})
    x = make_inputs(seed + 1000, 48, 48, channels)
    return name, em, x, torch_probs(model, x, ends_in_softmax)


def _ensemble() -> Golden:
    a, b = randomize(MemberA(), 71), randomize(MemberB(), 72)
    weights = [2.0, 1.0]
    em = export_emx.convert_ensemble([a, b], weights, SPEC, export_emx.FERPLUS_CLASSES, meta={
        "name": "ensemble", "description": "2 members (one at 64x64), flip TTA, weights 2:1",
        "source": "training/make_golden.py"}, flip_tta=True)
    x = make_inputs(1070, 48, 48, 1)
    return "ensemble", em, x, ensemble_probs([a, b], [True, False], weights, x, True)


BUILDERS: List[Callable[[], Golden]] = [
    lambda: _single("vgg", Vgg, 11),
    lambda: _single("resnet_rgb", ResNetRGB, 21, channels=3),
    lambda: _single("dwsep", DwSep, 31),
    lambda: _single("grouped", Grouped, 41),
    lambda: _single("se", SE, 51, ends_in_softmax=True),
    lambda: _single("inception", Inception, 61),
    lambda: _single("avgpool_flatten", AvgPoolFlatten, 81),
    _ensemble,
]


def build_all() -> List[Golden]:
    return [b() for b in BUILDERS]


def files_of(g: Golden) -> Dict[str, bytes]:
    name, em, x, p = g
    return {f"{name}.emx": ef.to_bytes(em),
            f"{name}.input.f32": x.astype("<f4").tobytes(),
            f"{name}.expected.f32": p.astype("<f4").tobytes()}


def manifest(goldens: List[Golden]) -> str:
    return "".join(f"{name} {len(x)}\n" for name, _, x, _ in goldens)


def ops_covered(em: ef.EmxModel) -> str:
    seen = []
    for op in em.ops:
        n = ef.OP_NAMES[op.type]
        slot = export_emx._ACT_SLOT.get(op.type)
        if slot is not None and op.attrs[slot]:
            n += "+" + ef.ACT_NAMES[op.attrs[slot]]
        if n not in seen:
            seen.append(n)
    return " ".join(seen)


def check(goldens: List[Golden], out_dir: str, tol: float = 1e-6) -> List[str]:
    problems = []
    for g in goldens:
        for fname, data in files_of(g).items():
            path = os.path.join(out_dir, fname)
            if not os.path.exists(path):
                problems.append(f"{fname}: missing")
                continue
            with open(path, "rb") as f:
                old = f.read()
            if fname.endswith(".expected.f32"):   # float64 evaluation: allow BLAS differences
                a, b = np.frombuffer(old, "<f4"), np.frombuffer(data, "<f4")
                if a.shape != b.shape or np.abs(a - b).max() > tol:
                    problems.append(f"{fname}: differs")
            elif old != data:
                problems.append(f"{fname}: differs")
    path = os.path.join(out_dir, "manifest.txt")
    if not os.path.exists(path):
        problems.append("manifest.txt: missing")
    else:
        with open(path) as f:
            if f.read() != manifest(goldens):
                problems.append("manifest.txt: differs")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-only", action="store_true",
                    help="regenerate in memory and verify the files in --out still match")
    ap.add_argument("--out", default=GOLDEN_DIR, help="golden directory (tests/golden)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Using padding='same'")
    goldens = build_all()
    if args.check_only:
        problems = check(goldens, args.out)
        for p in problems:
            print("MISMATCH", p)
        print(f"{len(goldens)} golden nets: {'OK' if not problems else 'STALE'}")
        return 1 if problems else 0
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for g in goldens:
        for fname, data in files_of(g).items():
            with open(os.path.join(args.out, fname), "wb") as f:
                f.write(data)
            total += len(data)
        emx_size = len(files_of(g)[f"{g[0]}.emx"])
        print(f"{g[0]:16s} {emx_size:7d} B  {ops_covered(g[1])}")
    with open(os.path.join(args.out, "manifest.txt"), "w") as f:
        f.write(manifest(goldens))
    print(f"wrote {len(goldens)} nets, {total} bytes to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
