"""Calibrate a classifier .emx on FER+ Valid: a temperature (so its probabilities mean what they
say) and a shift of the log-prior (so rare expressions are predicted), appended to the graph as
one CALIBRATE op (models/FORMAT.md) that the C core applies.

    /usr/bin/python3 training/calibrate.py models/emoxnet-lite.emx \\
        --valid ../shared/data/ferplus/FER2013Valid --train ../shared/data/ferplus/FER2013Train \\
        [--out OUT.emx] [--golden emoxnet-lite]

What it fits, on the model's own Valid probabilities p (measured through WASM by `emoxnet eval
--predictions`, any CALIBRATE the file had removed first):
  1. a temperature T0 minimising the Valid negative log-likelihood of softmax(log p / T0), so
     that log p / T0 are calibrated log-probabilities (soft-target training and flip averaging
     leave p much too flat: T0 is about 0.5);
  2. the decision rule z = log p / T0 - tau * log(prior), prior = Train class frequencies under
     the majority protocol (logit adjustment, Menon et al. 2021): tau = 0 is the model as
     trained, tau = 1 the rule that maximises mean per-class recall for calibrated
     probabilities. tau is the value on a 0.02 grid with the highest mean per-class recall among
     those whose top-1 accuracy is within --top1-tolerance (0.1 point: 3 of Valid's 3,191
     faces) of the uncalibrated model's (chosen on Valid, never on anything held out). Without
     the tolerance a one-face margin decided tau 0 or 0.24 for two seeds of one recipe
     (session 20); on held-out Valid halves (decision_rules.py) 0.1 point gave the shipped
     models 0.2-0.7 points more mean recall for -0.05 to +0.02 of top-1;
  3. a second temperature T1 for softmax(z / T1) by the same likelihood; it changes no decision;
  4. label thresholds for the rare classes --threshold-classes names (contempt and disgust) on
     the file's output q = softmax(z / T1): the label is such a class wherever q reaches its
     threshold though another class is more probable (emx_pick_label; of several that reach
     theirs, the one with the lowest threshold). The models rank real contempt below neutral
     on nearly every face (no tau or class bias finds it at kept top-1: decision_rules.py), and
     disgust below anger or neutral on most, but give them 0.05-0.3 where they are real and less
     elsewhere. Each threshold is the value with the highest mean per-class recall whose top-1
     is within the same tolerance of the uncalibrated model's, none when no value raises the
     recall; fitted class by class in the order given, twice over (a disgust threshold changes
     which contempt threshold is best). Contempt alone was the rule until session 22.
The file's params are [1 / (T0 * T1), -tau * log(prior) / T1, threshold per class (0: none)].
The tool then scores the calibrated file through WASM and stores the figures in its META
(`calibration`, `valid_accuracy`).
Only NumPy and Node are needed (no PyTorch).
"""
import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format as ef  # noqa: E402
import emx_numpy_ref  # noqa: E402
import ferplus  # noqa: E402
from wasm_eval import evaluate, read_predictions  # noqa: E402

ROOT = os.path.join(HERE, "..")
GOLDEN_DIR = os.path.join(ROOT, "tests", "golden")
TAU_GRID = np.round(np.arange(0.0, 1.0001, 0.02), 2)
THRESHOLD_CLASSES = ("contempt", "disgust")  # the classes given a label threshold (--threshold-classes)
THRESHOLD_PASSES = 2  # rounds of the class-by-class threshold fit
TOP1_TOLERANCE = 0.1  # points of top-1 the decision rule may give up for mean recall (--top1-tolerance)
T_GRID = np.round(np.arange(0.10, 3.0001, 0.01), 2)


def strip_calibration(m):
    """The model without a trailing CALIBRATE on output 0 (a no-op for uncalibrated files)."""
    out = m.outputs[0]
    if out >= 1 and m.ops[out - 1].type == ef.OP_CALIBRATE and out == len(m.ops):
        op = m.ops.pop()
        m.outputs[0] = op.inputs[0]
        # drop its parameter tensor when nothing else uses it (it is always the last one written)
        t = op.tensors[0]
        if t == len(m.tensors) - 1 and all(t not in o.tensors for o in m.ops):
            m.tensors.pop()
    m.meta = [(k, v) for k, v in m.meta if k != "calibration"]
    return m


def add_calibration(m, inv_t, bias, thresholds=None):
    """A CALIBRATE op on output 0: params [inv_t, bias], then the label thresholds when given."""
    params = np.concatenate([[inv_t], bias] + ([] if thresholds is None else [thresholds])).astype(np.float32)
    m.tensors.append(ef.Tensor("calibration.params", params, ef.DTYPE_F32))
    m.ops.append(ef.Op(ef.OP_CALIBRATE, [m.outputs[0]], [], [len(m.tensors) - 1]))
    m.outputs[0] = len(m.ops)
    return m


def scores(logits, y):
    """(top-1, mean per-class recall) of argmax logits."""
    return pred_scores(logits.argmax(1), y, logits.shape[1])


def pred_scores(pred, y, n_classes):
    """(top-1, mean recall over the classes present in y) of predictions pred."""
    recalls = [(pred[y == c] == c).mean() for c in range(n_classes) if (y == c).any()]
    return float((pred == y).mean()), float(np.mean(recalls))


def nll(logits, y, t):
    z = logits / t
    z = z - z.max(1, keepdims=True)
    return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))).mean())


def choose_tau(z, y, shift, tol=0.0):
    """(tau, table) for calibrated log-probabilities z: the tau on TAU_GRID with the highest mean
    per-class recall of argmax(z + tau * shift) among those whose top-1 is not below tau = 0's
    less tol (a fraction: 0.001 is 0.1 point); table rows: (tau, top-1, mean recall)."""
    table = [(tau, *scores(z + tau * shift, y)) for tau in TAU_GRID]
    floor = table[0][1] - tol - 1e-12
    tau = max((row for row in table if row[1] >= floor), key=lambda r: (r[2], -r[0]))[0]
    return tau, table


def softmax(logits):
    """softmax over each row: the file's output when logits are what its CALIBRATE's softmax reads."""
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def decide(z, bias, thresholds=None, q=None):
    """The label of each face, as the core picks it (emx_pick_label): argmax(z + bias), unless a
    class with a threshold (thresholds: one per class, 0 none) has an output q (one row per face)
    that reaches it; of several such classes the one with the lowest threshold (the class the
    model under-ranks most), then the likelier, then the first."""
    pred = (z + bias).argmax(1)
    if thresholds is None:
        return pred
    th = np.asarray(thresholds, dtype=np.float64)
    reach = (th > 0) & (q >= th)
    if not reach.any():
        return pred
    lowest = np.where(reach, th, np.inf).min(1, keepdims=True)
    hit = np.where(reach & (th == lowest), q, -np.inf).argmax(1)
    return np.where(reach.any(1), hit, pred)


def fit_thresholds(z, q, y, bias, classes, tol=0.0, passes=THRESHOLD_PASSES):
    """Label thresholds (one per class, 0: none) for the class indices in classes, on the output
    q: class by class, `passes` times over, the value (none, or one of the class's 200 highest
    outputs on these faces) with the highest mean recall of decide(z, bias, thresholds, q) among
    those whose top-1 is not below argmax z's less tol; a class keeps its value unless another
    raises the mean recall, and of equal ones the higher threshold wins. The values returned are
    outputs of q (between() moves them into the gap below for the file)."""
    n = z.shape[1]
    floor = scores(z, y)[0] - tol - 1e-12
    th = np.zeros(n)
    for _ in range(passes):
        for c in classes:
            best_rec = pred_scores(decide(z, bias, th, q), y, n)[1]
            best = th[c]
            for t in [*np.unique(q[:, c])[::-1][:200], 0.0]:
                trial = th.copy()
                trial[c] = t
                acc, rec = pred_scores(decide(z, bias, trial, q), y, n)
                if acc >= floor and rec > best_rec + 1e-12:
                    best, best_rec = t, rec
            th[c] = best
    return th


def between(score, t):
    """A threshold halfway from t (one of score's values) to the next lower value of score: the
    same faces reach it, and the file's float32 outputs (which differ from these float64
    figures in the last bits) decide faces at the boundary the same way."""
    lower = score[score < t]
    return float((t + lower.max()) / 2) if lower.size else float(t) / 2


def fit(p, y, prior, tol=0.0, classes=None):
    """(T0, tau, T1, label thresholds (one per class, 0: none) or None, table) by the rule in the
    module docstring (tol: the top-1 every step may give up, a fraction; classes: the class
    indices that may get a threshold, in fitting order; None: the last class, contempt in
    FER+); table rows: (tau, top-1, mean recall)."""
    logp = np.log(np.maximum(p, 1e-30))
    t0 = min(T_GRID, key=lambda t: nll(logp, y, t))
    shift = -np.log(prior)
    tau, table = choose_tau(logp / t0, y, shift, tol)
    t1 = min(T_GRID, key=lambda t: nll(logp / t0 + tau * shift, y, t))
    z = logp / t0
    q = softmax((z + tau * shift) / t1)
    th = fit_thresholds(z, q, y, tau * shift, [p.shape[1] - 1] if classes is None else classes, tol)
    if not th.any():
        return float(t0), float(tau), float(t1), None, table
    th = np.array([between(q[:, c], t) if t > 0 else 0.0 for c, t in enumerate(th)])
    return float(t0), float(tau), float(t1), th, table


def train_prior(train_folder):
    """Class frequencies of a FER+ Train folder under the majority protocol."""
    _, votes = ferplus.read_label_csv(train_folder)
    labels = ferplus.majority_labels(votes)
    return np.bincount(labels[labels >= 0], minlength=ferplus.N_EMOTIONS) / (labels >= 0).sum()


def require_ferplus_classes(m, path):
    """Exit unless m's classes are the 8 FER+ expressions in their order: the Train prior is per
    index, and the rare-class rules (decision_rules.py) take the last class for contempt."""
    if list(m.class_names) != ferplus.CLASSES:
        sys.exit(f"{path}: classes {m.class_names}, expected the 8 FER+ classes in order")


def valid_predictions(m, valid):
    """m's eval summary on a Valid folder through WASM and its per-image (labels, probabilities)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.emx")
        ef.write(m, plain)
        summary = evaluate(valid, plain, os.path.join(tmp, "p.csv"))
        _, y, p = read_predictions(os.path.join(tmp, "p.csv"))
    return summary, y, p


def write_golden(m, name):
    """tests/golden/NAME.expected.f32 from the NumPy oracle (float64) on the stored inputs."""
    base = os.path.join(GOLDEN_DIR, name)
    s = m.input
    x = np.fromfile(base + ".input.f32", dtype="<f4").reshape(-1, s.height, s.width, s.channels)
    y = np.stack([emx_numpy_ref.predict(m, xi) for xi in x])
    y.astype("<f4").tofile(base + ".expected.f32")
    return len(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--valid", required=True, help="FER+ Valid folder (label.csv + PNGs)")
    ap.add_argument("--train", required=True, help="FER+ Train folder (its label.csv: class priors)")
    ap.add_argument("--out", help="calibrated .emx (default: overwrite MODEL)")
    ap.add_argument("--golden", help="rewrite tests/golden/NAME.expected.f32 for the new file")
    ap.add_argument("--top1-tolerance", type=float, default=TOP1_TOLERANCE, metavar="POINTS",
                    help="top-1 (in points) tau and the thresholds may give up for mean recall "
                         f"(default {TOP1_TOLERANCE}; 0: never below the uncalibrated model)")
    ap.add_argument("--threshold-classes", default=",".join(THRESHOLD_CLASSES), metavar="NAMES",
                    help="comma-separated classes that may get a label threshold, fitted in this "
                         f"order (default {','.join(THRESHOLD_CLASSES)}; '' for none)")
    args = ap.parse_args(argv)
    out = args.out or args.model

    m = strip_calibration(ef.read(args.model))
    prior = train_prior(args.train)
    require_ferplus_classes(m, args.model)
    names = [c for c in args.threshold_classes.split(",") if c]
    unknown = [c for c in names if c not in ferplus.CLASSES]
    if unknown:
        sys.exit(f"--threshold-classes: {', '.join(unknown)} not among {', '.join(ferplus.CLASSES)}")
    tol = args.top1_tolerance
    if not 0.0 <= tol <= 100.0:
        sys.exit(f"--top1-tolerance {tol}: expected 0..100 points")

    before, y, p = valid_predictions(m, args.valid)
    t0, tau, t1, thresholds, table = fit(p, y, prior, tol / 100.0, [ferplus.CLASSES.index(c) for c in names])
    for row in table[::5]:
        print(f"tau {row[0]:.2f}: top-1 {row[1] * 100:.2f}%  mean recall {row[2] * 100:.2f}%")
    shown = ("none" if thresholds is None else
             ", ".join(f"{ferplus.CLASSES[c]} {t:.4f}" for c, t in enumerate(thresholds) if t > 0))
    print(f"chosen: T0 {t0:.2f}, tau {tau:.2f}, T1 {t1:.2f}, label thresholds {shown} "
          f"(top-1 tolerance {tol:g} point)")

    add_calibration(m, 1.0 / (t0 * t1), -tau * np.log(prior) / t1, thresholds)
    tried = ", ".join(names) or "none"
    note = (f"T0={t0:.2f}, tau={tau:.2f} (log-prior shift), T1={t1:.2f}, label thresholds "
            f"{shown} (top-1 tolerance {tol:g} point; classes tried: {tried}), fitted on FER+ "
            f"Valid by training/calibrate.py; before: top-1 {before['accuracy'] * 100:.2f}%, mean recall "
            f"{before['mean_class_recall'] * 100:.2f}%, ECE {before['ece'] * 100:.2f}%")
    m.meta = [(k, v) for k, v in m.meta if k != "valid_accuracy"] + [("calibration", note)]
    ef.write(m, out)
    after = evaluate(args.valid, out)
    m.meta.append(("valid_accuracy", f"{after['accuracy'] * 100:.2f}"))
    ef.write(m, out)
    print(f"wrote {out}: top-1 {before['accuracy'] * 100:.2f}% -> {after['accuracy'] * 100:.2f}%, "
          f"mean recall {before['mean_class_recall'] * 100:.2f}% -> {after['mean_class_recall'] * 100:.2f}%, "
          f"ECE {before['ece'] * 100:.2f}% -> {after['ece'] * 100:.2f}%")
    if args.golden:
        n = write_golden(m, args.golden)
        print(f"golden: tests/golden/{args.golden}.expected.f32 ({n} cases, NumPy oracle)")
    return after


if __name__ == "__main__":
    main()
