"""Plot a training run's curves (OUT/history.json from train.py) to a PNG for its model card.

    /usr/bin/python3 training/plot_history.py runs/lite/history.json models/emoxnet-lite-curve.png
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: plot_history.py HISTORY.json OUT.png [TITLE]")
    main(*sys.argv[1:4])
