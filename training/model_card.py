"""Write a model card (Markdown) from the figures the repo's own commands produce:

    /usr/bin/python3 training/model_card.py --emx models/emoxnet-lite.emx \
        --checkpoints runs/lite/best.pt --history runs/lite/history.json \
        --eval runs/lite-eval.json --curve models/emoxnet-lite-curve.png \
        --train-cmd "..." --hardware "..." --out models/emoxnet-lite.md

--eval is the JSON line printed by `npx emoxnet eval DIR --model FILE --json` (WASM), so the
accuracy, recall and confusion matrix in the card are what users get, not PyTorch's figures.
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format  # noqa: E402
import ferplus  # noqa: E402
from models import build  # noqa: E402


def macs(model, size=48):
    """Multiply-accumulates of one forward pass (convs and linears), counted by hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            total[0] += out.numel() * k
        elif isinstance(m, torch.nn.Linear):
            total[0] += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 1, size, size))
    for h in hs:
        h.remove()
    return total[0]


def main():
    ap = argparse.ArgumentParser()
    for a in ("--emx", "--history", "--eval", "--curve", "--train-cmd", "--hardware", "--out",
              "--title", "--notes"):
        ap.add_argument(a, default="")
    ap.add_argument("--checkpoints", nargs="+", required=True)
    args = ap.parse_args()

    m = emx_format.read(args.emx)
    ev = json.loads(open(args.eval).read().strip().splitlines()[-1])
    hist = json.load(open(args.history)) if args.history else None
    cks = [torch.load(p, map_location="cpu") for p in args.checkpoints]
    nets = []
    for ck in cks:
        net = build(ck["arch"])
        net.load_state_dict(ck["state_dict"])
        nets.append(net)
    n_params = sum(t.data.size for t in m.tensors)
    n_macs = sum(macs(n) for n in nets)
    flip = any(op.type == emx_format.OP_FLIP_W for op in m.ops)
    meta = dict(m.meta)

    L = [f"# {args.title or meta.get('name', args.emx)}", ""]
    L += [meta.get("description", ""), ""]
    L += ["| | |", "|---|---|",
          f"| File | `{args.emx}` ({os.path.getsize(args.emx):,} bytes, weights stored as fp16) |",
          f"| Parameters | {n_params:,} (BatchNorm folded into the convolutions) |",
          f"| Compute | {n_macs / 1e6:.1f} M multiply-adds per face"
          + (" per pass; x2 with flip test-time augmentation" if flip else "") + " |",
          f"| Input | {m.input.height}x{m.input.width} grayscale, (p/255 - {m.input.mean}) / {m.input.std} |",
          f"| Test-time augmentation | {'horizontal flip, averaged (in the .emx graph, run by the C core)' if flip else 'none'} |",
          f"| Training data | {meta.get('training_data', '')} |",
          f"| Licence | {meta.get('license', '')} |", ""]
    L += ["## Architecture", "", "```", str(nets[0]) if len(nets) == 1 else
          "\n\n".join(f"member {i}: {n}" for i, n in enumerate(nets)), "```", ""]
    L += ["## FER+ Valid accuracy (majority protocol)", "",
          f"**{ev['accuracy'] * 100:.2f}%** on n = {ev['n']} images, measured through the "
          f"WebAssembly module by:", "", "```",
          f"npx emoxnet eval ../shared/data/ferplus/FER2013Valid --model {args.emx}", "```", "",
          "| class | n | recall |", "|---|---:|---:|"]
    for c in ferplus.CLASSES:
        r = ev["per_class"][c]
        L.append(f"| {c} | {ev.get('per_class_n', {}).get(c, '')} | "
                 + ("-" if r is None else f"{r * 100:.1f}%") + " |")
    L += ["", "Confusion matrix (rows: true label, columns: prediction):", "",
          "| true \\ pred | " + " | ".join(c[:4] for c in ferplus.CLASSES) + " |",
          "|---|" + "---:|" * len(ferplus.CLASSES)]
    for c, row in zip(ferplus.CLASSES, ev["confusion"]):
        L.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    L += ["", "## Training", ""]
    if args.train_cmd:
        L += ["```", args.train_cmd, "```", ""]
    if hist:
        h = hist["history"]
        best = max(h, key=lambda r: max(r["valid_acc"], r["valid_acc_flip"]))
        L += [f"Seed {hist['args']['seed']}, {len(h)} epochs, batch {hist['args']['batch']}, "
              f"SGD (Nesterov) lr {hist['args']['lr']} with cosine decay, weight decay "
              f"{hist['args']['wd']}, label smoothing {hist['args'].get('smooth', 0)}; torch "
              f"{hist['torch']} on {hist['device']}: {h[-1]['seconds'] / 60:.0f} minutes"
              + (f" ({args.hardware})" if args.hardware else "") + ". "
              f"Checkpoint chosen on Valid: epoch {best['epoch']} "
              f"({best['valid_acc'] * 100:.2f}% plain, {best['valid_acc_flip'] * 100:.2f}% with flip).", ""]
    if args.curve:
        L += [f"![training curves]({os.path.basename(args.curve)})", ""]
    L += ["Export: `" + meta.get("source", "") + "`", ""]
    if args.notes:
        L += [args.notes, ""]
    open(args.out, "w").write("\n".join(L))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
