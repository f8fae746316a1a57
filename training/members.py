"""Why an ensemble does or does not beat its members: every member of one or more ensemble .emx
files scored alone on FER+ Valid through WASM, then combined across files.

    /usr/bin/python3 training/members.py ../shared/data/ferplus/FER2013Valid \\
        models/emoxnet.emx /work/runs/emoxnet.emx --work /tmp/members

A shipped ensemble is a WEIGHTED_MEAN of SOFTMAX heads, each member once on the face and once on
its mirror image (FLIP_W of the input), and maybe a CALIBRATE after the mean. Each head is cut
out as its own .emx (the ops it needs, renumbered, tensors bit for bit) and scored by `emoxnet
eval --predictions`; a member's probabilities are the mean of its two views, as in the file.
Printed: each member's top-1 and mean per-class recall, the uniform mean and the Valid-chosen
combination (ensemble_weights.choose_weights, the rule ensemble.py uses) of all members of all
files, how many of each member's errors another member shares, and how ambiguous the faces the
best combination gets wrong are (the share of the ten FER+ votes their label got).
Valid only; no PyTorch (files come from the repository or from a pipeline's RUNS folder)."""
import argparse
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format as ef  # noqa: E402
from calibrate import scores  # noqa: E402
from ensemble_weights import choose_weights  # noqa: E402
from ferplus import read_label_csv  # noqa: E402
from wasm_eval import evaluate, read_predictions  # noqa: E402


def _needs(m, value):
    """Indices of the ops that computing value (1-based; 0 is the input) runs."""
    need, stack = set(), [value]
    while stack:
        v = stack.pop()
        if v and v - 1 not in need:
            need.add(v - 1)
            stack.extend(m.ops[v - 1].inputs)
    return sorted(need)


def head_model(m, value, name):
    """The subgraph of m computing value, renumbered, with only the tensors it reads."""
    keep = _needs(m, value)
    vmap, tmap, tensors, ops = {0: 0}, {}, [], []
    for i, k in enumerate(keep):
        op = m.ops[k]
        vmap[k + 1] = i + 1
        for t in op.tensors:
            if t not in tmap:
                tmap[t] = len(tensors)
                tensors.append(m.tensors[t])
        ops.append(ef.Op(op.type, [vmap[v] for v in op.inputs], list(op.attrs),
                         [tmap[t] for t in op.tensors]))
    return ef.EmxModel(m.input, m.class_names, tensors, ops, [vmap[value]], [("name", name)])


def member_heads(m, label):
    """[(name, plain head, mirrored head or None)] of an ensemble (or single) model, in file order."""
    v = m.outputs[0]
    if m.ops[v - 1].type == ef.OP_CALIBRATE:
        v = m.ops[v - 1].inputs[0]
    heads = m.ops[v - 1].inputs if m.ops[v - 1].type == ef.OP_WEIGHTED_MEAN else [v]
    # the exporter writes a member's two views next to each other; they read the same tensors,
    # and the mirrored one runs one FLIP_W more (a member may flip inside itself too)
    needs = [_needs(m, h) for h in heads]
    flips = [sum(m.ops[k].type == ef.OP_FLIP_W for k in n) for n in needs]
    reads = [{t for k in n for t in m.ops[k].tensors} for n in needs]
    paired = len(heads) % 2 == 0 and all(
        reads[i] == reads[i + 1] and abs(flips[i] - flips[i + 1]) == 1 for i in range(0, len(heads), 2))
    pairs = ([(heads[i], heads[i + 1]) if flips[i] < flips[i + 1] else (heads[i + 1], heads[i])
              for i in range(0, len(heads), 2)] if paired else [(h, None) for h in heads])
    desc = dict(m.meta).get("description", "")
    listed = re.match(r"Ensemble of (.*?) \(weights", desc)
    names = listed.group(1).split(", ") if listed else []
    if len(names) != len(pairs):
        names = [f"member {i + 1}" for i in range(len(pairs))]
    return [(f"{label}: {n}", p, f) for n, (p, f) in zip(names, pairs)]


def vote_share(folder, files, labels):
    """The share of each face's eight expression votes (label.csv) its label got."""
    votes = dict(zip(*read_label_csv(folder)))
    return np.array([votes[f][c] / votes[f][:8].sum() for f, c in zip(files, labels)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("valid", help="FER+ Valid folder (PNGs + label.csv)")
    ap.add_argument("models", nargs="+", help="ensemble .emx files")
    ap.add_argument("--work", required=True, help="folder for the cut heads and their predictions")
    ap.add_argument("--limit", type=int, help="only the first N faces (tests)")
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    names, probs, files, labels = [], [], None, None
    for i, path in enumerate(args.models):
        m = ef.read(path)
        for j, (name, *views) in enumerate(member_heads(m, path)):
            p = []
            for v, head in enumerate(h for h in views if h is not None):
                stem = os.path.join(args.work, f"f{i}-m{j}-v{v}")
                if not os.path.exists(stem + ".csv"):   # rerunning reuses what was scored
                    ef.write(head_model(m, head, name), stem + ".emx")
                    evaluate(args.valid, stem + ".emx", predictions=stem + ".csv", limit=args.limit)
                f, lab, q = read_predictions(stem + ".csv")
                if files is None:
                    files, labels = f, lab
                assert f == files, "every head must score the same faces"
                p.append(q)
            names.append(name)
            probs.append(np.mean(p, 0))
    rows = [(n, *scores(p, labels)) for n, p in zip(names, probs)]
    uniform = sum(probs) / len(probs)
    w = choose_weights(probs, labels, np.eye(probs[0].shape[1])[labels])
    chosen = sum(wi * p for wi, p in zip(w, probs))
    print(f"FER+ Valid, {len(labels)} faces (majority protocol), through WASM\n")
    print("| member | weight chosen | top-1 | mean per-class recall |\n|---|---:|---:|---:|")
    for (n, a, r), wi in zip(rows, w):
        print(f"| {n} | {wi:.3f} | {a * 100:.2f}% | {r * 100:.2f}% |")
    for n, p in (("uniform mean of all", uniform), ("Valid-chosen weights", chosen)):
        print("| {} | | {:.2f}% | {:.2f}% |".format(n, *(x * 100 for x in scores(p, labels))))
    wrong = [p.argmax(1) != labels for p in probs]
    print("\nShare of the row member's errors the column member also makes:\n")
    print("| | " + " | ".join(str(k + 1) for k in range(len(names))) + " |\n|---|" + "---:|" * len(names))
    for k, (n, a) in enumerate(zip(names, wrong)):
        print(f"| {k + 1}. {n} | " + " | ".join(f"{(a & b).sum() / max(a.sum(), 1):.2f}" for b in wrong) + " |")
    miss = chosen.argmax(1) != labels
    share = vote_share(args.valid, files, labels)
    print(f"\nThe Valid-chosen combination's {int(miss.sum())} errors, by the share of the votes their label got:\n")
    print("| label's vote share | faces | of the errors | top-1 on these faces |\n|---|---:|---:|---:|")
    for lo, hi in ((0, 0.6), (0.6, 0.7), (0.7, 0.9), (0.9, 1.01)):
        s = (share >= lo) & (share < hi)
        span = f"[{lo:.1f}, {hi:.1f})" if hi <= 1 else f"[{lo:.1f}, 1.0]"
        print(f"| {span} | {int(s.sum())} | "
              f"{(miss & s).sum() / max(miss.sum(), 1) * 100:.0f}% | {(~miss[s]).mean() * 100 if s.any() else 0:.2f}% |")


if __name__ == "__main__":
    main()
