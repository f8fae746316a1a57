"""Weight-space interpolation of a network and its fine-tuned copy (WiSE-FT, Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022): theta = (1 - alpha) * A + alpha * B, where B was
trained from A, so both lie in one basin and the points between them are good networks too. A
short photometric cycle from a shipped model (B) gains robustness to blur, noise and
compression and loses a little clean accuracy; points between may keep most of both.

    /usr/bin/python3 training/soup.py A.pt B.pt OUT.pt --alpha 0.5 [--data data/ferplus]

A and B: train.py's best.pt, an import_emx.py checkpoint, or a run's last.pt (its moving
average of the weights when it kept one; the network from the run's history.json). OUT is in
best.pt's format, for export_checkpoint.py. With --data, every BatchNorm's running statistics
are measured again on the first --images Train images through the interpolated weights: the
statistics of interpolated weights are not the interpolated statistics.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models import build  # noqa: E402


def load_weights(path):
    """(arch, state_dict, mean, std) of any checkpoint format the pipeline writes."""
    ck = torch.load(path, map_location="cpu")
    if "state_dict" in ck:
        return ck["arch"], ck["state_dict"], ck.get("mean"), ck.get("std")
    # train.py's last.pt: no arch or normalisation of its own; the run's history.json has them
    with open(os.path.join(os.path.dirname(path), "history.json")) as f:
        arch = json.load(f)["args"]["arch"]
    return arch, ck["ema"] if ck.get("ema") is not None else ck["model"], None, None


def interpolate(sa, sb, alpha):
    """(1 - alpha) * sa + alpha * sb for floating tensors; integer ones (BatchNorm's step
    counters) are taken from sb."""
    if sa.keys() != sb.keys():
        raise SystemExit("the two checkpoints are not the same network "
                         f"({sorted(set(sa) ^ set(sb))[:4]} ...)")
    out = {}
    for k, b in sb.items():
        a = sa[k]
        if a.shape != b.shape:
            raise SystemExit(f"{k}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
        out[k] = torch.lerp(a, b, alpha) if b.is_floating_point() else b.clone()
    return out


@torch.no_grad()
def remeasure_batchnorm(model, x, batch=256):
    """Every BatchNorm's running mean and variance as the plain average over x (momentum None),
    the rest of the network in eval mode. torch.optim.swa_utils.update_bn does the same with the
    whole network in train mode, so its dropout (sewide-s has some in every block) would
    measure statistics of activations the network never sees at inference."""
    momenta = {m: m.momentum for m in model.modules() if isinstance(m, nn.BatchNorm2d)}
    if not momenta:
        return
    model.eval()
    for m in momenta:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for i in range(0, len(x), batch):
        model(x[i:i + batch])
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("out")
    ap.add_argument("--alpha", type=float, required=True, help="0: A, 1: B")
    ap.add_argument("--data", help="FER+ root or packed folder: re-measure BatchNorm statistics")
    ap.add_argument("--images", type=int, default=4096)
    args = ap.parse_args(argv)
    if not 0.0 <= args.alpha <= 1.0:
        raise SystemExit(f"--alpha {args.alpha}: must be in [0, 1]")
    arch_a, sa, mean, std = load_weights(args.a)
    arch_b, sb, mean_b, std_b = load_weights(args.b)
    if arch_a != arch_b:
        raise SystemExit(f"{args.a} is {arch_a}, {args.b} is {arch_b}")
    model = build(arch_a)
    model.load_state_dict(interpolate(sa, sb, args.alpha))
    torch.set_num_threads(1)
    if args.data:
        from train import load_data, to_input
        (tr_img, _, _), _ = load_data(args.data)
        remeasure_batchnorm(model, to_input(tr_img[:args.images], "cpu"))
    if mean is None:
        from train import MEAN, STD
        mean, std = (mean_b, std_b) if mean_b is not None else (MEAN, STD)
    torch.save(dict(arch=arch_a, state_dict=model.state_dict(), mean=mean, std=std,
                    source=f"(1 - {args.alpha}) * {args.a} + {args.alpha} * {args.b}"
                    + (" (BatchNorm re-measured)" if args.data else "")), args.out)
    print(f"wrote {args.out}: {arch_a}, alpha {args.alpha}")


if __name__ == "__main__":
    main()
