"""EmoXNet ensemble: choose combination weights on FER+ Valid, write distillation targets,
export the ensemble .emx.

    /usr/bin/python3 training/ensemble.py runs/vgg/best.pt runs/resnet/best.pt \\
        runs/sewide/best.pt runs/sep/best.pt --data data/ferplus \\
        --out models/emoxnet.emx --teacher-out runs/teacher.npy --golden emoxnet

Members are evaluated exactly as shipped (BN folded, fp16-rounded weights). Weights: greedy
forward selection with replacement (Caruana et al. 2004) starting from one copy of every member
(so each member keeps a weight > 0), adding the member that most improves Valid majority
accuracy (ties: lower soft-target cross-entropy) for --rounds steps; the best bag seen wins.
Valid only: Train is never used for the choice. Teacher probabilities for every Train image
(file order, flip TTA, the chosen weights) go to --teacher-out for train.py --teacher; on its
own, `ensemble.py --teacher-from SUMMARY.json --data D --teacher-out T` takes the members and
weights from an earlier run's --summary (the pipeline asks for a teacher only when a Lite recipe
learns from this ensemble: with two 192 px face backbones the Train pass takes hours on 2 cores).
--cache DIR keeps each member's Valid probabilities under its checkpoint's bytes, so pooling
again (another budget, another member) does not rescore the members already scored.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_checkpoint  # noqa: E402
import ferplus  # noqa: E402
from ensemble_weights import accuracy, choose_within  # noqa: E402
from train import _digest, load_data, to_input  # noqa: E402


@torch.no_grad()
def member_probs(model, images, flip, batch=256):
    return member_probs_both(model, images, batch, flip)[1 if flip else 0]


@torch.no_grad()
def member_probs_both(model, images, batch=256, flip=True):
    """(plain, flip-TTA) probabilities from one forward pass of each view (flip: None if not)."""
    plain, mirrored = [], []
    for i in range(0, len(images), batch):
        x = to_input(images[i:i + batch], "cpu")
        plain.append(torch.softmax(model(x), 1))
        if flip:
            mirrored.append(torch.softmax(model(torch.flip(x, [3])), 1))
    a = torch.cat(plain).double().numpy()
    return a, (0.5 * (a + torch.cat(mirrored).double().numpy()) if flip else None)


def cached_valid_probs(model, path, images, cache):
    """member_probs_both on Valid, kept in cache under the checkpoint's and the images' bytes."""
    if not cache:
        return member_probs_both(model, images)
    key = f"{_digest(path)[:16]}-{hashlib.sha256(images.tobytes()).hexdigest()[:16]}"
    f = os.path.join(cache, f"valid-probs-{key}.npz")
    if os.path.exists(f):
        z = np.load(f)
        return z["plain"], z["flip"]
    a, b = member_probs_both(model, images)
    os.makedirs(cache, exist_ok=True)
    np.savez(f + ".tmp.npz", plain=a, flip=b)
    os.replace(f + ".tmp.npz", f)
    return a, b


def teacher_probs(members, weights, tr_img, tr_votes, flip, quick):
    """The weighted ensemble's probabilities on every Train image (file order)."""
    rows_tr = np.arange(len(tr_img))
    if quick:  # only the Train images train.py --quick uses; the rest uniform
        rows_tr = np.nonzero(ferplus.soft_targets(tr_votes)[1])[0][:512]
    ens = np.full((len(tr_img), ferplus.N_EMOTIONS), 1.0 / ferplus.N_EMOTIONS)
    ens[rows_tr] = sum(wi * member_probs(m, tr_img[rows_tr], flip) for wi, m in zip(weights, members))
    return ens


def save_teacher(path, ens):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.save(path, ens.astype(np.float32))
    print(f"teacher probabilities on Train: {ens.shape} -> {path}")


def teacher_from_summary(args):
    """--teacher-from: the members and weights an earlier run chose, on Train."""
    with open(args.teacher_from) as f:
        summary = json.load(f)
    ckpts = [r["checkpoint"] for r in summary["rows"] if "checkpoint" in r]
    members = [export_checkpoint.load_fused_fp16(p)[0] for p in ckpts]
    (tr_img, tr_votes, _), _ = load_data(args.data)
    save_teacher(args.teacher_out, teacher_probs(members, summary["weights"], tr_img, tr_votes,
                                                 summary["flip_tta"], args.quick))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="*")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", help="ensemble .emx to write")
    ap.add_argument("--teacher-from", metavar="SUMMARY", help="only the Train teacher (--teacher-out) "
                    "of the members and weights in an earlier run's --summary JSON")
    ap.add_argument("--cache", help="folder keeping each member's Valid probabilities")
    ap.add_argument("--teacher-out", help=".npy of ensemble probabilities on every Train image")
    ap.add_argument("--no-flip", action="store_true", help="no flip TTA in the .emx / teacher")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--golden", help="tests/golden name for export_checkpoint")
    ap.add_argument("--name", default="EmoXNet")
    ap.add_argument("--summary", help="JSON with the table, weights and accuracies")
    ap.add_argument("--max-bytes", type=int, default=0,
                    help="size budget of the members' fp16 weights: while over it, leave out the "
                         "member whose absence costs the Valid-chosen combination least; 0: none")
    ap.add_argument("--quick", action="store_true", help="first 256 Valid images (as train --quick)")
    args = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("EMX_THREADS", "2")))
    if args.teacher_from:
        if not args.teacher_out or args.checkpoints:
            ap.error("--teacher-from takes --teacher-out and no checkpoints")
        return teacher_from_summary(args)
    if not args.checkpoints or not args.out:
        ap.error("give the members' checkpoints and --out")
    flip = not args.no_flip

    (tr_img, tr_votes, _), (va_img, va_votes, _) = load_data(args.data)
    if args.quick:
        va_img, va_votes = va_img[:256], va_votes[:256]
    labels = ferplus.majority_labels(va_votes)
    soft, _ = ferplus.soft_targets(va_votes)
    members = [export_checkpoint.load_fused_fp16(p) for p in args.checkpoints]

    rows, p_plain, p_flip = [], [], []
    for path, (model, ck) in zip(args.checkpoints, members):
        a, b = cached_valid_probs(model, path, va_img, args.cache)
        p_plain.append(a)
        p_flip.append(b)
        n = sum(p.numel() for p in model.parameters())
        # two members of one architecture are told apart by their run folder
        name = ck["arch"]
        if sum(c["arch"] == name for _, c in members) > 1:
            name += f" ({os.path.basename(os.path.dirname(os.path.abspath(path)))})"
        rows.append(dict(name=name, checkpoint=path, params=n, fp16_bytes=2 * n,
                         valid=accuracy(a, labels), valid_flip=accuracy(b, labels)))
    probs = p_flip if flip else p_plain
    sizes = [r["fp16_bytes"] for r in rows]
    keep, w = choose_within(probs, labels, soft, sizes, args.max_bytes or sum(sizes), args.rounds)
    left_out = [rows[i] for i in range(len(members)) if i not in keep]
    for r in left_out:
        print(f"left out for the {args.max_bytes:,}-byte budget: {r['name']} "
              f"({r['fp16_bytes']:,} bytes, Valid + flip {r['valid_flip'] * 100:.2f}% alone)")
    args.checkpoints = [args.checkpoints[i] for i in keep]
    members, rows = [members[i] for i in keep], [rows[i] for i in keep]
    p_plain, p_flip = [p_plain[i] for i in keep], [p_flip[i] for i in keep]
    uni = np.full(len(members), 1 / len(members))
    for name, ww in (("ensemble (uniform)", uni), ("ensemble (Valid-chosen weights)", w)):
        rows.append(dict(name=name, params=sum(r["params"] for r in rows[:len(members)]),
                         fp16_bytes=sum(r["fp16_bytes"] for r in rows[:len(members)]),
                         weights=[round(float(x), 4) for x in ww],
                         valid=accuracy(sum(a * b for a, b in zip(ww, p_plain)), labels),
                         valid_flip=accuracy(sum(a * b for a, b in zip(ww, p_flip)), labels)))

    print(f"FER+ Valid majority accuracy (n = {int((labels >= 0).sum())}), fp16 weights:\n")
    print("| model | params | fp16 MB | weight | Valid | Valid + flip |\n|---|---:|---:|---:|---:|---:|")
    for i, r in enumerate(rows):
        wt = f"{w[i]:.3f}" if i < len(members) else ""
        print(f"| {r['name']} | {r['params']:,} | {r['fp16_bytes'] / 1e6:.2f} | {wt} | "
              f"{r['valid'] * 100:.2f}% | {r['valid_flip'] * 100:.2f}% |")
    print("weights:", " ".join(f"{x:.4f}" for x in w), flush=True)

    if args.teacher_out:
        save_teacher(args.teacher_out, teacher_probs([m for m, _ in members], w, tr_img, tr_votes,
                                                     flip, args.quick))

    desc = ("Ensemble of " + ", ".join(r["name"] for r in rows[:len(members)]) +
            " (weights chosen on FER+ Valid)" + (" with horizontal-flip TTA" if flip else ""))
    ex = list(args.checkpoints) + [args.out, "--name", args.name, "--description", desc,
                                   "--weights"] + [f"{x:.6f}" for x in w]
    if flip:
        ex.append("--flip-tta")
    if not args.quick:
        ex += ["--data", args.data]
    if args.golden:
        ex += ["--golden", args.golden]
    export_checkpoint.main(ex)
    if args.max_bytes and os.path.getsize(args.out) > args.max_bytes:
        # the budget is counted on weights; the file adds its graph and metadata (~30 KB)
        sys.exit(f"{args.out}: {os.path.getsize(args.out):,} bytes, over --max-bytes "
                 f"{args.max_bytes:,} by the file's own header; give a smaller budget")
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(dict(rows=rows, weights=[float(x) for x in w], flip_tta=flip,
                           left_out=left_out, max_bytes=args.max_bytes), f, indent=1)


if __name__ == "__main__":
    main()
