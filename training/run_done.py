"""Exit 0 when a train.py run folder holds a finished run: best.pt, and a history.json with
every planned epoch. The training scripts use it to keep finished runs when resuming
(train_all.sh RESUME=1, anneal_cpu.sh).

    python3 training/run_done.py runs/emoxnet-cpu/lite-c2 && echo finished
"""
import json
import os
import sys


def done(folder):
    try:
        with open(os.path.join(folder, "history.json")) as f:
            h = json.load(f)
    except (OSError, ValueError):
        return False
    return os.path.exists(os.path.join(folder, "best.pt")) and len(h["history"]) == h["args"]["epochs"]


if __name__ == "__main__":
    sys.exit(0 if done(sys.argv[1]) else 1)
