"""Write a model card (Markdown) from the figures the repo's own commands produce:

    /usr/bin/python3 training/model_card.py --emx models/emoxnet-lite.emx \
        --checkpoints runs/lite/best.pt --history runs/lite/history.json \
        --eval runs/lite-eval.json --curve models/emoxnet-lite-curve.png \
        --train-cmd "..." --hardware "..." --out models/emoxnet-lite.md

--eval is the JSON line printed by `npx emoxnet eval DIR --model FILE --json` (WASM), so the
accuracy, recall and confusion matrix in the card are what users get, not PyTorch's figures.

An ensemble (training/pipeline.py's ship step) passes every member: --checkpoints and --history in
member order, and --members-json, the --summary JSON of training/ensemble.py (per-member
params, fp16 bytes and Valid accuracy, the Valid-chosen weights); the card then has a member
table (architecture, params, fp16 bytes, multiply-adds per face), the weights and per-member
Valid, and one training row per member with the time summed over them.
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format  # noqa: E402
from card_valid import valid_section  # noqa: E402
from models import build  # noqa: E402


# The model's terms, in every expression model's card (the package README repeats them).
TERMS = """## Terms of use

- **Weights:** trained by the EmoXNet authors and distributed with the MIT-licensed package.
- **Training images:** FER2013 (Goodfellow et al., 2013, the ICML 2013 representation-learning
  challenge on Kaggle): the images were released for research use; whether a model trained on
  them may be used commercially is not settled by any licence. Check before shipping a product.
- **Training labels:** FER+ (Barsoum et al., 2016, https://github.com/microsoft/FERPlus): MIT.
- An expression is not an emotion: the model reports how a face looks, in FER+'s eight classes,
  as FER+ annotators labelled 48x48 grayscale faces; it says nothing about what a person feels.
"""


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


def member_names(ens, n):
    return [r["name"] for r in ens["rows"][:n]] if ens else [f"member {i}" for i in range(n)]


def members_architecture(ens, nets, cks, flip):
    """Ensemble: one row per member (what it is, its size and cost), then each printed."""
    n = len(nets)
    names = member_names(ens, n)
    L = ["## Architecture", "",
         f"{n} networks, each ending in global average pooling + one dense layer, run on the same "
         "48x48 input; their softmax outputs are averaged with the weights chosen on FER+ Valid"
         + (" (each member's output is itself the mean over the face and its mirror image)" if flip else "")
         + ". Parameters and bytes after BatchNorm folding; multiply-adds per face, one pass"
         + (" (x2 with flip TTA)" if flip else "") + ".", "",
         "| member | network | parameters | fp16 bytes | multiply-adds per face | weight |",
         "|---|---|---:|---:|---:|---:|"]
    total_macs = 0
    for i, (net, ck) in enumerate(zip(nets, cks)):
        r = ens["rows"][i]
        k = macs(net)
        total_macs += k
        doc = " ".join((type(net).__doc__ or type(net).__name__).split())
        L.append(f"| {names[i]} | `{ck['arch']}`: {doc} | {r['params']:,} | {r['fp16_bytes']:,} | "
                 f"{k / 1e6:.1f} M | {ens['weights'][i]:.3f} |")
    L.append(f"| **all members** | | **{sum(r['params'] for r in ens['rows'][:n]):,}** | "
             f"**{sum(r['fp16_bytes'] for r in ens['rows'][:n]):,}** | **{total_macs / 1e6:.1f} M** | 1 |")
    L.append("")
    for name, net in zip(names, nets):
        L += [f"<details><summary>{name}: {type(net).__name__}</summary>", "", "```", str(net), "```",
              "", "</details>", ""]
    return L


def members_valid(ens, ev):
    """Ensemble: per-member and combined Valid accuracy in PyTorch (fp16 weights, BN folded)."""
    n = len(ens["weights"])
    L = ["", "Members and combinations on FER+ Valid in PyTorch (fp16-rounded weights, BatchNorm "
         "folded, as exported; `training/ensemble.py`, which chose the weights on Valid only):", "",
         "| model | weight | Valid | Valid + flip |", "|---|---:|---:|---:|"]
    for i, r in enumerate(ens["rows"]):
        w = (f"{ens['weights'][i]:.3f}" if i < n
             else " / ".join(f"{x:.3f}" for x in r.get("weights", [])))
        L.append(f"| {r['name']} | {w} | {r['valid'] * 100:.2f}% | {r['valid_flip'] * 100:.2f}% |")
    for r in ens.get("left_out", []):  # trained, scored, and over the size budget (ensemble.py --max-bytes)
        L.append(f"| {r['name']}: left out for the {ens['max_bytes'] / 1e6:g} MB budget | 0 | "
                 f"{r['valid'] * 100:.2f}% | {r['valid_flip'] * 100:.2f}% |")
    L += ["", f"The shipped file (Valid-chosen weights{', flip TTA' if ens.get('flip_tta') else ''}) "
          f"through WASM: {ev['accuracy'] * 100:.2f}% ({ev['correct']}/{ev['n']}), above."]
    return L


def start_of(a):
    """Where a run started: from scratch, or the checkpoint --init named (a run folder's best.pt
    is called by its folder: the previous cycle)."""
    init = a.get("init")
    if not init:
        return "scratch"
    base = os.path.basename(init)
    return os.path.basename(os.path.dirname(init)) if base in ("best.pt", "last.pt") else base


def teacher_of(a):
    """What a run was distilled from: precomputed probabilities (--teacher), an ensemble file
    scoring the batch itself (--teacher-model, and which view), or nothing."""
    kd = f"T = {a.get('temperature')}, alpha = {a.get('alpha')}"
    if a.get("teacher_model"):
        return (f"{os.path.basename(a['teacher_model'])}, live on the "
                f"{a.get('teacher_view') or 'batch'} view ({kd})")
    if a.get("teacher"):
        return f"ensemble, precomputed ({kd})"
    return "none"


def kept_epoch(a, rows):
    """The history row of the epoch a run's best.pt holds: the last row train.py flagged
    "kept"; in a history written before the flag, the rule train.py used then (the best of
    plain and flip-TTA clean Valid, or with --select last the run's last epoch: a consistency
    cycle's is not its best on clean Valid). A run resumed across the change has both: if no
    flagged row took best.pt, it is still one of the rows written before."""
    flagged = [r for r in rows if r.get("kept")]
    if flagged:
        return flagged[-1]
    if a.get("select") == "last":
        return rows[-1]
    before = [r for r in rows if "kept" not in r] or rows
    return max(before, key=lambda r: max(r["valid_acc"], r["valid_acc_flip"]))


def members_training(ens, hists, hardware):
    """Ensemble: one row per member run (seed, schedule, augmentation, kept epoch, time), time
    summed."""
    names = member_names(ens, len(hists))
    L = ["| member | starts from | seed | epochs | batch | lr (cosine) | weight decay | label smoothing | "
         "moving average | photometric | mixing | kept epoch: Valid / + flip (fp32) | minutes |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    total = 0.0
    for name, h in zip(names, hists):
        a, rows = h["args"], h["history"]
        if not rows:  # taken as it is from an earlier model file (pipeline.as_is_member)
            card = os.path.splitext(a["init_model"])[0] + ".md"  # that file's card (REV:PATH or PATH)
            where = f"`git show {card}`" if ":" in card else card
            L.append(f"| {name} | {a['init_model']} member {a['init_member']}, as it is (its training: "
                     f"{where}) | | 0 | | | | | | | | | 0 |")
            continue
        kept = kept_epoch(a, rows)
        secs = rows[-1]["seconds"]
        total += secs
        mix = a.get("mix") or "none"
        if mix != "none":
            mix += f" (alpha {a.get('mix_alpha')})"
        L.append(f"| {name} | {start_of(a)} | {a['seed']} | {len(rows)} | {a['batch']} | {a['lr']} | "
                 f"{a['wd']} | {a.get('smooth', 0)} | {a.get('ema') or 'none'} | "
                 f"{a.get('photometric') or 'none'} | {mix} | {kept['epoch']}: {kept['valid_acc'] * 100:.2f}% / "
                 f"{kept['valid_acc_flip'] * 100:.2f}% | {secs / 60:.1f} |")
    devs = sorted({h.get("device", "?") for h in hists if h["history"]})
    torches = sorted({h.get("torch", "?") for h in hists if h["history"]})
    L += ["", "SGD (Nesterov), each run's best-Valid checkpoint kept (its last epoch for --select "
          f"last); torch {', '.join(torches)} on "
          f"{', '.join(devs)}: {total / 60:.0f} minutes of member training in all"
          + (f" ({hardware})" if hardware else "") + ", summed over the runs' histories "
          "(the weight choice and export add a few minutes).", ""]
    return L


def cycles_training(paths, hardware):
    """A student trained as a chain of cosine cycles (each started from the previous one's best
    checkpoint): one row per cycle, with the teacher it learnt from, time summed."""
    L = ["Trained as a chain of cosine cycles, each started from the previous cycle's best "
         "checkpoint (the last row is the shipped checkpoint's run):", "",
         "| cycle (run) | seed | epochs | lr (cosine) | moving average | photometric | teacher | "
         "kept epoch: Valid / + flip (fp32) | minutes |",
         "|---|---:|---:|---:|---:|---:|---|---|---:|"]
    total = 0.0
    for path in paths:
        with open(path) as f:
            h = json.load(f)
        a, rows = h["args"], h["history"]
        kept = kept_epoch(a, rows)
        total += rows[-1]["seconds"]
        L.append(f"| {os.path.basename(os.path.dirname(path))} | {a['seed']} | {len(rows)} | "
                 f"{a['lr']} | {a.get('ema') or 'none'} | {a.get('photometric') or 'none'} | "
                 f"{teacher_of(a)} | {kept['epoch']}: "
                 f"{kept['valid_acc'] * 100:.2f}% / {kept['valid_acc_flip'] * 100:.2f}% | "
                 f"{rows[-1]['seconds'] / 60:.1f} |")
    L += ["", f"{total / 60:.0f} minutes of training in all"
          + (f" ({hardware})" if hardware else "") + ".", ""]
    return L


def single_run_training(hist, hardware):
    """A model trained in one run: its schedule and the epoch its best.pt holds."""
    h, a = hist["history"], hist["args"]
    kept = kept_epoch(a, h)
    return [f"Seed {a['seed']}, {len(h)} epochs, batch {a['batch']}, "
            f"SGD (Nesterov) lr {a['lr']} with cosine decay, weight decay "
            f"{a['wd']}, label smoothing {a.get('smooth', 0)}; torch "
            f"{hist['torch']} on {hist['device']}: {h[-1]['seconds'] / 60:.0f} minutes"
            + (f" ({hardware})" if hardware else "") + ". "
            + ("Checkpoint kept: the last epoch, " if a.get("select") == "last" else "Checkpoint chosen on Valid: ")
            + f"epoch {kept['epoch']} "
            f"({kept['valid_acc'] * 100:.2f}% plain, {kept['valid_acc_flip'] * 100:.2f}% with flip).", ""]


def main():
    ap = argparse.ArgumentParser()
    for a in ("--emx", "--eval", "--curve", "--train-cmd", "--hardware", "--out",
              "--title", "--notes", "--members-json"):
        ap.add_argument(a, default="")
    ap.add_argument("--checkpoints", nargs="+", required=True)
    ap.add_argument("--history", nargs="*", default=[],
                    help="history.json of the run (one), or of every member (in --checkpoints order)")
    ap.add_argument("--cycles", nargs="*", default=[],
                    help="history.json of each cosine cycle of a chained run, first to last")
    ap.add_argument("--ablation", default="", help="a Markdown table: the distillation ablation")
    args = ap.parse_args()

    m = emx_format.read(args.emx)
    ev = json.loads(open(args.eval).read().strip().splitlines()[-1])
    hists = [json.load(open(p)) for p in args.history]
    hist = hists[0] if len(hists) == 1 else None
    ens = json.load(open(args.members_json)) if args.members_json else None
    if ens and len(ens["weights"]) != len(args.checkpoints):
        sys.exit(f"{args.members_json}: {len(ens['weights'])} members, {len(args.checkpoints)} --checkpoints")
    if len(hists) > 1 and len(hists) != len(args.checkpoints):
        sys.exit(f"{len(hists)} --history files for {len(args.checkpoints)} --checkpoints")
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
    if meta.get("description"):  # ensembles say what they combine; a single network has none
        L += [meta["description"], ""]
    L += ["| | |", "|---|---|",
          f"| File | `{args.emx}` ({os.path.getsize(args.emx):,} bytes, weights stored as fp16) |",
          f"| Parameters | {n_params:,} (BatchNorm folded into the convolutions) |",
          f"| Compute | {n_macs / 1e6:.1f} M multiply-adds per face"
          + (" per pass; x2 with flip test-time augmentation" if flip else "") + " |",
          f"| Input | {m.input.height}x{m.input.width} grayscale, (p/255 - {m.input.mean}) / {m.input.std} |",
          f"| Test-time augmentation | {'horizontal flip, averaged (in the .emx graph, run by the C core)' if flip else 'none'} |",
          f"| Training data | {meta.get('training_data', '')} |",
          f"| Licence | {meta.get('license', '')} |", ""]
    L += TERMS.splitlines() + [""]
    if ens:
        L += members_architecture(ens, nets, cks, flip)
    else:
        L += ["## Architecture", "", "```", str(nets[0]) if len(nets) == 1 else
              "\n\n".join(f"member {i}: {n}" for i, n in enumerate(nets)), "```", ""]
    L += valid_section(ev, args.emx, meta)
    if ens:
        L += members_valid(ens, ev)
    L += ["", "## Training", ""]
    if args.train_cmd:
        L += ["```", args.train_cmd, "```", ""]
    if len(hists) > 1:
        L += members_training(ens, hists, args.hardware)
    if args.cycles:
        L += cycles_training(args.cycles, args.hardware)
    if args.ablation:
        L += ["## Distillation ablation", "",
              "The same student and schedule, with and without the ensemble as teacher, for each "
              "seed (FER+ Valid through WASM, flip TTA, calibrated; the shipped file is the "
              "distilled seed with the best top-1):", "", open(args.ablation).read().strip(), ""]
    if hist and not args.cycles:
        L += single_run_training(hist, args.hardware)
    if args.curve:
        L += [f"![training curves]({os.path.basename(args.curve)})", ""]
    L += ["Export: `" + meta.get("source", "") + "`", ""]
    if args.notes:
        L += [args.notes, ""]
    open(args.out, "w").write("\n".join(L))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
