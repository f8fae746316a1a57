"""Do the shipped .emx (C core through WASM) and PyTorch predict the same class on FER+ Valid?

    /usr/bin/python3 training/check_agreement.py models/emoxnet.emx \\
        --checkpoints runs/a/best.pt runs/b/best.pt --weights 0.6 0.4 --flip-tta \\
        --data data/ferplus --valid-dir ../shared/data/ferplus/FER2013Valid --out agreement.json

PyTorch side: the exported model exactly as export_checkpoint.py builds it (BN folded, fp16
weights, optional flip TTA, weighted ensemble), on the packed (or folder) Valid images. WASM
side: `npx emoxnet eval VALID_DIR --model EMX --predictions CSV`, i.e. PNG decoding,
preprocessing and inference as users run them. Every image the majority protocol keeps is
compared: same argmax, and the largest probability difference. Exits 1 below --min (0.999,
the issue's bar). --ensemble-json takes checkpoints, weights and flip from ensemble.py's
--summary instead.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_checkpoint import FlipTTA, load_fused_fp16  # noqa: E402
from train import load_data, to_input  # noqa: E402


def wasm_predictions(emx, valid_dir):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pred.csv")
        subprocess.run(["npx", "emoxnet", "eval", valid_dir, "--model", emx, "--json",
                        "--predictions", out], check=True, stdout=subprocess.DEVNULL,
                       cwd=os.path.join(HERE, ".."))
        with open(out) as f:
            return {r["file"]: r for r in csv.DictReader(f)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("emx")
    ap.add_argument("--checkpoints", nargs="*", default=[])
    ap.add_argument("--weights", nargs="*", type=float)
    ap.add_argument("--flip-tta", action="store_true")
    ap.add_argument("--ensemble-json", help="ensemble.py --summary: checkpoints, weights, flip")
    ap.add_argument("--data", required=True, help="packed folder (valid.npz) or FER+ root")
    ap.add_argument("--valid-dir", required=True, help="FER2013Valid folder (PNGs + label.csv)")
    ap.add_argument("--min", type=float, default=0.999)
    ap.add_argument("--out", help="write the summary JSON here")
    args = ap.parse_args(argv)

    ckpts, weights, flip = args.checkpoints, args.weights, args.flip_tta
    if args.ensemble_json:
        with open(args.ensemble_json) as f:
            ens = json.load(f)
        n = len(ens["weights"])
        ckpts, weights, flip = [r["checkpoint"] for r in ens["rows"][:n]], ens["weights"], ens["flip_tta"]
    if not ckpts:
        ap.error("give --checkpoints or --ensemble-json")
    weights = weights or [1.0 / len(ckpts)] * len(ckpts)
    model = FlipTTA([load_fused_fp16(p)[0] for p in ckpts], weights, flip).eval()

    wasm = wasm_predictions(args.emx, args.valid_dir)
    _, (images, _, names) = load_data(args.data)
    index = {str(nm): i for i, nm in enumerate(names)}
    files = [f for f in wasm if f in index]
    if len(files) != len(wasm):
        sys.exit(f"{len(wasm) - len(files)} scored images are missing from {args.data}")
    with torch.no_grad():
        p_torch = torch.cat([model(to_input(images[[index[f] for f in files[i:i + 256]]], "cpu"))
                             for i in range(0, len(files), 256)]).double().numpy()
    classes = list(wasm[files[0]].keys())[3:]
    p_wasm = np.array([[float(wasm[f][c]) for c in classes] for f in files])
    agree = int((p_torch.argmax(1) == p_wasm.argmax(1)).sum())
    summary = dict(emx=args.emx, n=len(files), agree=agree, agreement=agree / len(files),
                   max_abs_prob_diff=float(np.abs(p_torch - p_wasm).max()),
                   torch_correct=int((p_torch.argmax(1) == np.array([int(wasm[f]["label"]) for f in files])).sum()),
                   wasm_correct=int(sum(wasm[f]["pred"] == wasm[f]["label"] for f in files)))
    print(json.dumps(summary))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1)
    return 0 if summary["agreement"] >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
