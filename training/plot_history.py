"""Plot a training run's curves (OUT/history.json from train.py) to a PNG for its model card.

    /usr/bin/python3 training/plot_history.py runs/lite/history.json models/emoxnet-lite-curve.png

Several runs in one figure (an ensemble's members), one colour per run, optional NAME= labels:

    /usr/bin/python3 training/plot_history.py --out models/emoxnet-curve.png --title "..." \\
        lite=runs/emoxnet-cpu/lite-nokd/history.json resnet-s=runs/emoxnet-cpu/resnet-s/history.json
"""
import argparse
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def main(src, dst, title=None):
    with open(src) as f:
        h = json.load(f)["history"]
    ep = [r["epoch"] for r in h]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)
    a.plot(ep, [r["loss"] for r in h], color="tab:blue")
    a.set_xlabel("epoch"); a.set_ylabel("training loss (soft-target CE)"); a.grid(alpha=0.3)
    b.plot(ep, [100 * r["valid_acc"] for r in h], label="Valid")
    b.plot(ep, [100 * r["valid_acc_flip"] for r in h], label="Valid, flip TTA")
    b.set_xlabel("epoch"); b.set_ylabel("FER+ Valid accuracy (%), majority"); b.grid(alpha=0.3)
    b.legend(loc="lower right")
    fig.suptitle(title or src)
    fig.tight_layout()
    fig.savefig(dst)
    print(f"wrote {dst}")


def label_and_path(arg):
    """NAME=PATH, or PATH (labelled by its run folder's name)."""
    if "=" in arg and not os.path.exists(arg):
        name, path = arg.split("=", 1)
        return name, path
    return os.path.basename(os.path.dirname(os.path.abspath(arg))) or arg, arg


def main_many(runs, dst, title=None):
    """Every run in one figure: loss on the left; Valid with flip TTA (solid) and without
    (dashed) on the right, one colour per run."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
    for i, arg in enumerate(runs):
        name, path = label_and_path(arg)
        with open(path) as f:
            h = json.load(f)["history"]
        ep = [r["epoch"] for r in h]
        c = f"C{i}"
        a.plot(ep, [r["loss"] for r in h], color=c, label=name)
        b.plot(ep, [100 * r["valid_acc_flip"] for r in h], color=c, label=f"{name}, flip TTA")
        b.plot(ep, [100 * r["valid_acc"] for r in h], color=c, ls="--", lw=0.9, alpha=0.7)
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_xlabel("epoch"); a.set_ylabel("training loss (soft-target CE)"); a.grid(alpha=0.3)
    a.legend(loc="upper right", fontsize=8)
    b.set_xlabel("epoch"); b.set_ylabel("FER+ Valid accuracy (%), majority"); b.grid(alpha=0.3)
    b.plot([], [], color="gray", ls="--", lw=0.9, label="dashed: without flip")
    b.legend(loc="lower right", fontsize=8)
    fig.suptitle(title or ", ".join(label_and_path(r)[0] for r in runs))
    fig.tight_layout()
    fig.savefig(dst)
    print(f"wrote {dst}")


if __name__ == "__main__":
    if any(a in ("-o", "--out") or a.startswith("--out=") for a in sys.argv[1:]):
        ap = argparse.ArgumentParser(description="training curves of several runs in one PNG")
        ap.add_argument("runs", nargs="+", help="HISTORY.json or NAME=HISTORY.json")
        ap.add_argument("-o", "--out", required=True, help="PNG to write")
        ap.add_argument("--title")
        args = ap.parse_args()
        main_many(args.runs, args.out, args.title)
    elif len(sys.argv) < 3:
        sys.exit("usage: plot_history.py HISTORY.json OUT.png [TITLE]\n"
                 "       plot_history.py --out OUT.png [--title TITLE] [NAME=]HISTORY.json...")
    else:
        main(*sys.argv[1:4])
