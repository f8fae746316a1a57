"""Export trained checkpoints to a shipped .emx, with golden outputs for the C/JS tests.

    /usr/bin/python3 training/export_checkpoint.py runs/lite/best.pt models/emoxnet-lite.emx \
        --name EmoXNetLite [--flip-tta] [--golden emoxnet-lite]

Several checkpoints (with --weights) make one ensemble .emx. Batch norm is folded and weights
are rounded to fp16 in PyTorch *before* export, so the PyTorch model that produces the golden
outputs holds exactly the numbers stored in the file: C/WASM must then match to 1e-4.
Prints the fp16 model's FER+ Valid accuracy (majority protocol) when --data is given.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.fx.experimental.optimization as fx_opt

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_emx  # noqa: E402
import ferplus  # noqa: E402
from models import build  # noqa: E402
from train import predict, to_input, majority_accuracy  # noqa: E402

GOLDEN_DIR = os.path.join(HERE, "..", "tests", "golden")


def load_fused_fp16(path):
    ck = torch.load(path, map_location="cpu")
    model = build(ck["arch"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    model = fx_opt.fuse(model)  # conv+bn folding, eval mode
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model, ck


class FlipTTA(torch.nn.Module):
    """Reference for what the .emx graph computes with flip TTA."""

    def __init__(self, members, weights, flip):
        super().__init__()
        self.members, self.w, self.flip = torch.nn.ModuleList(members), weights, flip

    def forward(self, x):
        out = 0
        for m, w in zip(self.members, self.w):
            p = torch.softmax(m(x), 1)
            if self.flip:
                p = 0.5 * (p + torch.softmax(m(torch.flip(x, [3])), 1))
            out = out + w * p
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("out")
    ap.add_argument("--name", required=True)
    ap.add_argument("--weights", type=float, nargs="*")
    ap.add_argument("--flip-tta", action="store_true")
    ap.add_argument("--data", help="FER+ root or packed folder, to report Valid accuracy")
    ap.add_argument("--golden", help="write tests/golden/NAME.{input,expected}.f32 for this file")
    ap.add_argument("--description", default="")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    members, cks = zip(*[load_fused_fp16(p) for p in args.checkpoints])
    weights = args.weights or [1.0] * len(members)
    weights = [w / sum(weights) for w in weights]
    ref = FlipTTA(members, weights, args.flip_tta).eval()
    mean, std = cks[0]["mean"], cks[0]["std"]

    meta = dict(name=args.name, description=args.description,
                training_data="FER+ Train (FER2013 faces, FER+ vote distributions as soft targets)",
                license="MIT (FER+ labels); FER2013 images for research use",
                source="training/export_checkpoint.py " + " ".join(argv or sys.argv[1:]))
    acc = None
    if args.data:
        _, (va_img, va_votes, _) = __import__("train").load_data(args.data)
        with torch.no_grad():
            probs = torch.cat([ref(to_input(va_img[i:i + 256], "cpu")) for i in range(0, len(va_img), 256)])
        acc = majority_accuracy(probs, ferplus.majority_labels(va_votes))
        meta["valid_accuracy"] = f"{acc * 100:.2f}"
        print(f"FER+ Valid accuracy (PyTorch, fp16 weights): {acc * 100:.2f}%")

    spec = dict(height=48, width=48, channels=1, mean=mean, std=std)
    if len(members) == 1 and not args.flip_tta:
        m = export_emx.export(members[0], args.out, spec, meta=meta, fp16=True)
    else:
        m = export_emx.export_ensemble(list(members), weights, args.out, spec, meta=meta,
                                       fp16=True, flip_tta=args.flip_tta)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, "
          f"{sum(p.numel() for mm in members for p in mm.parameters())} parameters")

    if args.golden:
        g = torch.Generator().manual_seed(1234)
        x = torch.randn(3, 1, 48, 48, generator=g)
        x[2] = (torch.linspace(0, 1, 48 * 48).view(48, 48) - mean) / std  # a smooth ramp face
        with torch.no_grad():
            y = ref(x.double().to(torch.float64) if False else x)
        base = os.path.join(GOLDEN_DIR, args.golden)
        x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(base + ".input.f32")
        y.numpy().astype("<f4").tofile(base + ".expected.f32")
        print(f"golden: {base}.input.f32 / .expected.f32 (3 cases)")
    return acc


if __name__ == "__main__":
    main()
