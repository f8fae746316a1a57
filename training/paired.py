"""Two classifiers on the same FER+ Valid faces, paired: which faces only one of them gets right.

    /usr/bin/python3 training/paired.py ../shared/data/ferplus/FER2013Valid OLD.emx NEW.emx

Two models' top-1 figures on one set are not independent samples: most faces are right (or
wrong) for both, and only the faces where they disagree about correctness say which is better.
This prints those counts and McNemar's exact two-sided p-value (the binomial test of the
discordant faces against an even split), so that a candidate a few faces under the shipped
model can be told apart from one that is really worse. The files are scored as they are (with
their CALIBRATE op: the decision users get), through WASM (`emoxnet eval --predictions`).
NumPy and Node only.
"""
import argparse
import math
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wasm_eval import evaluate, read_predicted  # noqa: E402


def mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p-value: P(a split at least this uneven | each discordant face is
    a fair coin), capped at 1."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def right_answers(valid, emx):
    """(labels, per-face correctness) of one model, as it is, on the folder's kept faces: its
    label as users get it (label thresholds included), not the argmax of its probabilities."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "p.csv")
        summary = evaluate(valid, emx, csv_path)
        y, pred = read_predicted(csv_path)
    right = pred == y
    if abs(right.mean() - summary["accuracy"]) > 1e-9:
        raise SystemExit(f"{emx}: predictions ({right.mean():.4%}) disagree with eval's accuracy ({summary['accuracy']:.4%})")
    return y, right


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("valid", help="FER+ Valid folder (label.csv + PNGs)")
    ap.add_argument("a", help="first .emx (e.g. the shipped model)")
    ap.add_argument("b", help="second .emx (e.g. the candidate)")
    args = ap.parse_args(argv)
    labels_a, ra = right_answers(args.valid, args.a)
    labels_b, rb = right_answers(args.valid, args.b)
    if not np.array_equal(labels_a, labels_b):
        raise SystemExit("the two models were not scored on the same faces")
    only_a, only_b = int((ra & ~rb).sum()), int((~ra & rb).sum())
    n = len(ra)
    print(f"{n} faces: A {int(ra.sum())} right ({100 * ra.mean():.2f}%), B {int(rb.sum())} right "
          f"({100 * rb.mean():.2f}%)")
    print(f"right only by A: {only_a}, only by B: {only_b}; McNemar exact p = "
          f"{mcnemar_exact(only_a, only_b):.3f}")
    return only_a, only_b


if __name__ == "__main__":
    main()
