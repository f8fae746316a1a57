"""make_golden_cam.py - golden class activation maps for emx_explain (tests/test-explain.c,
tests/js/explain.test.js), computed directly in PyTorch (float64), independent of the runtime.

For every golden net of make_golden.py that ends in global average pooling + one Linear layer
(all but vgg, whose head is Linear+ReLU+Linear, and avgpool_flatten, which has no GAP), and for
the shipped models/emoxnet-lite.emx (given --lite, the checkpoint it was exported from, fused
and rounded to fp16 as export_checkpoint.load_fused_fp16 does, flip TTA), writes

    tests/golden/NAME.cam.f32   N_CASES x 8 classes x H x W float32: the raw map of each class
                                on the golden inputs NAME.input.f32, at the model input size

The features are the input of the last global average pooling of each forward pass (caught
with a TorchFunctionMode, whatever spelling the net uses: AdaptiveAvgPool2d, mean((2, 3)),
F.adaptive_avg_pool2d); CAM_c = sum_k W[c, k] F[k] (bias excluded), resized to the input with
F.interpolate(bilinear, align_corners=False), mirrored back for flipped views, and summed over
an ensemble's branches with the weights of its WEIGHTED_MEAN (member weight / number of views).

    /usr/bin/python3 training/make_golden_cam.py [--lite CK]               # (re)write the .cam.f32 files
    /usr/bin/python3 training/make_golden_cam.py [--lite CK] --check-only  # verify them (1e-6)

Checkpoints are not committed, so without --lite the shipped Lite's map is left as it is;
training/pipeline.py --ship passes the checkpoint of the Lite it ships.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_emx  # noqa: E402
import make_golden as mg  # noqa: E402

REPO = mg.REPO
GOLDEN = mg.GOLDEN_DIR


class LastGap(TorchFunctionMode):
    """Records the input of the last global average pooling."""

    def __init__(self):
        super().__init__()
        self.feat = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.dim() == 4:
            if name == "adaptive_avg_pool2d":
                size = args[1] if len(args) > 1 else kwargs.get("output_size")
                if size in (1, (1, 1), [1, 1]):
                    self.feat = x
            elif name == "mean":
                dims = args[1] if len(args) > 1 else kwargs.get("dim")
                if dims is not None and sorted(d % 4 for d in dims) == [2, 3]:
                    self.feat = x
        return out


def last_linear(model: nn.Module) -> nn.Linear:
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


def member_cams(model: nn.Module, x: torch.Tensor, out_hw) -> torch.Tensor:
    """(N, 8, H, W) raw CAMs of one network on x (NCHW float64), resized to out_hw."""
    rec = LastGap()
    with torch.no_grad(), rec:
        model(x)
    feat = rec.feat
    W = last_linear(model).weight.detach().double()              # (8, K)
    cam = torch.einsum("ck,nkhw->nchw", W, feat.double())
    return F.interpolate(cam, size=out_hw, mode="bilinear", align_corners=False)


def ensemble_cams(members, weights, x, flip_tta) -> torch.Tensor:
    total = sum(weights)
    out = 0
    hw = tuple(x.shape[2:])
    for m, w in zip(members, weights):
        m = copy.deepcopy(m).double().eval()
        size = export_emx._pair(getattr(m, "input_size", hw))
        xi = x if tuple(size) == hw else F.interpolate(x, size=size, mode="bilinear",
                                                        align_corners=False)
        cams = [member_cams(m, xi, hw)]
        if flip_tta:
            cams.append(torch.flip(member_cams(m, torch.flip(xi, [3]), hw), [3]))
        out = out + (w / total) * sum(cams) / len(cams)
    return out


def to_nchw(x_nhwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x_nhwc.astype(np.float64)).permute(0, 3, 1, 2)


def golden_sets(lite_checkpoint=None):
    """(name, members, weights, flip_tta, inputs NHWC)."""
    sets = []
    for name, cls, seed, ch in (("resnet_rgb", mg.ResNetRGB, 21, 3), ("dwsep", mg.DwSep, 31, 1),
                                ("grouped", mg.Grouped, 41, 1), ("se", mg.SE, 51, 1),
                                ("inception", mg.Inception, 61, 1)):
        model = mg.randomize(cls(), seed)
        x = mg.make_inputs(seed + 1000, 48, 48, ch)
        sets.append((name, [model], [1.0], False, x))
    a, b = mg.randomize(mg.MemberA(), 71), mg.randomize(mg.MemberB(), 72)
    sets.append(("ensemble", [a, b], [2.0, 1.0], True, mg.make_inputs(1070, 48, 48, 1)))
    if lite_checkpoint:
        import export_checkpoint
        lite, _ = export_checkpoint.load_fused_fp16(lite_checkpoint)
        x = np.fromfile(os.path.join(GOLDEN, "emoxnet-lite.input.f32"), "<f4")
        sets.append(("emoxnet-lite", [lite], [1.0], True, x.reshape(-1, 48, 48, 1)))
    else:
        print("no --lite checkpoint: emoxnet-lite.cam.f32 left as it is")
    return sets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lite", metavar="CK", help="the checkpoint models/emoxnet-lite.emx was exported from")
    ap.add_argument("--check-only", action="store_true", help="verify the files instead of writing them")
    args = ap.parse_args(argv)
    check = args.check_only
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Using padding='same'")
    stale = 0
    for name, members, weights, flip, x in golden_sets(args.lite):
        cams = ensemble_cams(members, weights, to_nchw(x), flip).numpy()
        path = os.path.join(GOLDEN, f"{name}.cam.f32")
        if check:
            old = np.fromfile(path, "<f4") if os.path.exists(path) else np.zeros(0, "<f4")
            ok = old.size == cams.size and np.abs(old - cams.ravel()).max() <= 1e-6
            stale += not ok
            print(f"{name:14s} {'OK' if ok else 'STALE'}")
            continue
        cams.astype("<f4").tofile(path)
        print(f"{name:14s} {cams.shape} range {cams.min():+.3f}..{cams.max():+.3f} -> {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
