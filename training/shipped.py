"""Where the shipped models came from, relative to the repository (commands in their cards,
models/emoxnet-lite.md and models/emoxnet.md): the checkpoint models/emoxnet-lite.emx was
exported from, and training/ensemble.py's --summary for models/emoxnet.emx (members, weights).
No imports, so shell scripts can read it without loading PyTorch:

    python3 training/shipped.py lite      # prints the Lite checkpoint's path
"""
import sys

LITE_CHECKPOINT = "runs/emoxnet-cpu/lite-c4/best.pt"
ENSEMBLE_SUMMARY = "runs/emoxnet-cpu/ensemble-c4.json"

if __name__ == "__main__":
    print({"lite": LITE_CHECKPOINT, "ensemble": ENSEMBLE_SUMMARY}[sys.argv[1]])
