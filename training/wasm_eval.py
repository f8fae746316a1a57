"""`emoxnet eval --json` through the WebAssembly module, from Python: the one way the training
tools (calibrate.py, robustness.py, pipeline.py) score a model, so every figure they write is
the figure a user measures."""
import csv
import json
import os
import subprocess

import numpy as np

CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin", "emoxnet.js")


def evaluate(folder, model, predictions=None, limit=None, json_out=None):
    """The eval summary dict (accuracy, mean_class_recall, ece, per_class, confusion, ...);
    predictions: also write per-image probabilities there; json_out: keep the JSON line."""
    cmd = ["node", CLI, "eval", folder, "--model", model, "--json"]
    if predictions:
        cmd += ["--predictions", predictions]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    if json_out:
        with open(json_out, "w") as f:
            f.write(out)
    return json.loads(out.strip().splitlines()[-1])


def _prediction_rows(path):
    """The rows `emoxnet eval --predictions` wrote (file, true, predicted, probabilities...),
    header dropped."""
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def read_predictions(path):
    """What `emoxnet eval --predictions` wrote: (file names, labels, probabilities [N, classes])."""
    rows = _prediction_rows(path)
    return ([r[0] for r in rows], np.array([int(r[1]) for r in rows]),
            np.array([[float(x) for x in r[3:]] for r in rows]))


def read_predicted(path):
    """What `emoxnet eval --predictions` wrote, as decided: (labels, the model's label per image).
    The label is the file's own rule (its label thresholds, then argmax: emx_pick_label), which
    the argmax of the probabilities is not once a file has thresholds."""
    rows = _prediction_rows(path)
    return np.array([int(r[1]) for r in rows]), np.array([int(r[2]) for r in rows])
