"""Would test-time augmentation over more views than the mirror image help an ensemble?

    /usr/bin/python3 training/view_tta.py models/emoxnet.emx --archs sewide-s,resnet-s,lite-w,lite,lite \
        --data data/ferplus

Scores FER+ Valid (majority protocol, before calibration) with the file's members imported into
PyTorch (training/live_teacher.py: fp16 weights, BatchNorm folded, the file's member weights),
each view averaged with its mirror image as the shipped flip TTA does, on the face as given and
on small reframings of it (shifts of 1/24 of the side, 2 px, zoom 0.92 / 1.08, rotation +-8 degrees:
the multi-crop TTA many FER papers report gains from), then on the mean over sets of views.
Prints one table row per view and per set. Costs one ensemble pass per view (about 2 minutes
a view for the shipped ensemble on one core here).
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferplus  # noqa: E402
import train  # noqa: E402
from live_teacher import LiveTeacher  # noqa: E402

VIEWS = {  # name -> reframe() arguments
    "as given": {},
    "shift right": dict(dx=1 / 24), "shift left": dict(dx=-1 / 24),
    "shift down": dict(dy=1 / 24), "shift up": dict(dy=-1 / 24),
    "zoom in 1.08": dict(zoom=1.08), "zoom out 0.92": dict(zoom=0.92),
    "rotate +8": dict(degrees=8), "rotate -8": dict(degrees=-8),
}
SETS = [["as given"], ["as given", "shift right", "shift left"],
        ["as given", "shift right", "shift left", "shift down", "shift up"],
        ["as given", "zoom in 1.08", "zoom out 0.92"], ["as given", "rotate +8", "rotate -8"], list(VIEWS)]


def reframe(x, zoom=1.0, dx=0.0, dy=0.0, degrees=0.0):
    """The batch x [N, 1, H, W] seen zoomed in by `zoom`, its content moved by (dx, dy) x the
    side (positive: right, down) and turned by `degrees`; borders repeat the edge pixels."""
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a) / zoom, -math.sin(a) / zoom, -2 * dx],
                          [math.sin(a) / zoom, math.cos(a) / zoom, -2 * dy]], dtype=x.dtype)
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


@torch.no_grad()
def view_probs(teacher, x, batch=512):
    """The ensemble's probabilities on x, each member averaged over x and its mirror image."""
    out = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        out.append(0.5 * (teacher(xb) + teacher(torch.flip(xb, [3]))))
    return torch.cat(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("emx")
    ap.add_argument("--archs", required=True, help="comma-separated architecture of each member")
    ap.add_argument("--data", required=True, help="train.py --data (its Valid split is scored)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    teacher = LiveTeacher(args.emx, args.archs.split(","))
    _, (images, votes, _) = train.load_data(args.data)
    x, labels = train.to_input(images, "cpu"), ferplus.majority_labels(votes)
    probs = {name: view_probs(teacher, reframe(x, **kw) if kw else x) for name, kw in VIEWS.items()}
    print("| views (each with its mirror image) | top-1 | mean per-class recall |\n|---|---:|---:|")
    for names in [[n] for n in VIEWS if n != "as given"] + SETS:
        p = sum(probs[n] for n in names) / len(names)
        print(f"| {' + '.join(names)} | {100 * train.majority_accuracy(p, labels):.2f}% "
              f"| {100 * train.mean_class_recall(p, labels):.2f}% |")
    return probs


if __name__ == "__main__":
    main()
