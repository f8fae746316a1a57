"""What storing weights as int8 (one scale per output channel, symmetric, 127 levels) instead
of fp16 would cost: each member's FER+ Valid top-1 (PyTorch, BatchNorm folded, flip TTA) with
fp16-rounded and with int8-rounded weights, how often the two agree on the class, and the same
for the members' weighted mean. Measured before building an int8 tensor type into the .emx
format (it would halve the ensemble's download and fit more members in its 16 MB budget).

    /usr/bin/python3 training/int8_cost.py RUNS/sewide-s-0b4b7b2/best.pt RUNS/resnet-s-0b4b7b2/best.pt \\
        ... --data data/ferplus --weights 0.042 0.208 ...   (checkpoints first: --weights takes the rest)
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_checkpoint  # noqa: E402
import ferplus  # noqa: E402
from ensemble import member_probs  # noqa: E402
from ensemble_weights import accuracy  # noqa: E402
from train import load_data  # noqa: E402


@torch.no_grad()
def round_int8(model):
    """Every weight of two or more dims (convolutions, depthwise ones included, and dense
    layers) to int8 levels with one scale per output channel; biases stay as they are."""
    for p in model.parameters():
        if p.dim() >= 2:
            shape = (-1,) + (1,) * (p.dim() - 1)
            s = (p.abs().flatten(1).max(1).values.clamp(min=1e-12) / 127).view(shape)
            p.copy_(torch.round(p / s).clamp(-127, 127) * s)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", type=float, nargs="+", help="the ensemble's member weights")
    args = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("EMX_THREADS", "1")))
    _, (images, votes, _) = load_data(args.data)
    labels = ferplus.majority_labels(votes)
    keep = labels >= 0
    print("| member | fp16 | int8 | same class |\n|---|---:|---:|---:|")
    p16, p8 = [], []
    for path in args.checkpoints:
        model, ck = export_checkpoint.load_fused_fp16(path)
        p16.append(member_probs(model, images, True))
        round_int8(model)
        p8.append(member_probs(model, images, True))
        same = (p16[-1].argmax(1) == p8[-1].argmax(1))[keep].mean()
        print(f"| {os.path.basename(os.path.dirname(path))} | {accuracy(p16[-1], labels) * 100:.2f}% | "
              f"{accuracy(p8[-1], labels) * 100:.2f}% | {same * 100:.2f}% |", flush=True)
    if args.weights:
        a = sum(w * p for w, p in zip(args.weights, p16))
        b = sum(w * p for w, p in zip(args.weights, p8))
        print(f"| weighted mean | {accuracy(a, labels) * 100:.2f}% | {accuracy(b, labels) * 100:.2f}% | "
              f"{(a.argmax(1) == b.argmax(1))[keep].mean() * 100:.2f}% |")


if __name__ == "__main__":
    main()
