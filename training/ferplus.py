"""FER+ data: read any FER+-layout folder, apply the evaluation protocol, pack splits.

A FER+ folder holds `label.csv` beside the PNGs; each row is
    file name, "(x, y, w, h)", then 10 vote counts:
    neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF.

Two views of the votes:
  * majority protocol (evaluation, ../shared/data/README.md): zero counts <= 1, keep an image
    only if its top count is > half the total and belongs to an emotion; label = that emotion.
  * soft targets (training): the distribution over the 8 emotions, for every image whose votes
    are mostly emotions (emotion votes > unknown + NF votes).

Packing writes one compressed .npz per split (uint8 images + int votes), small enough to carry to
a GPU machine (<64 MiB) and fast to load on CPU.
"""
import csv
import os
import sys

import numpy as np

CLASSES = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
N_EMOTIONS = len(CLASSES)


def read_label_csv(folder):
    """Return (file names, votes[N, 10] int32) in file order."""
    names, votes = [], []
    with open(os.path.join(folder, "label.csv"), newline="") as f:
        for row in csv.reader(f):
            if not row:
                continue
            names.append(row[0].strip())
            votes.append([int(v) for v in row[2:12]])
    return names, np.asarray(votes, dtype=np.int32).reshape(-1, 10)


def majority_labels(votes):
    """Protocol labels: int label per image, -1 where the image is excluded."""
    v = np.where(votes <= 1, 0, votes)
    s = v.sum(axis=1)
    m = v.max(axis=1)
    arg = v.argmax(axis=1)  # first maximum, as the protocol's "largest count"
    keep = (m > 0.5 * s) & (arg < N_EMOTIONS) & (s > 0)
    return np.where(keep, arg, -1)


def soft_targets(votes):
    """(targets[N, 8] float32, usable[N] bool): emotion vote distribution, for images whose
    votes are mostly emotions."""
    emo = votes[:, :N_EMOTIONS].astype(np.float32)
    other = votes[:, N_EMOTIONS:].sum(axis=1)
    tot = emo.sum(axis=1)
    usable = tot > other
    targets = emo / np.maximum(tot, 1)[:, None]
    return targets.astype(np.float32), usable


def load_folder(folder):
    """Read every image of a FER+ folder: (images[N, 48, 48] uint8, votes, names)."""
    from PIL import Image
    names, votes = read_label_csv(folder)
    imgs = np.zeros((len(names), 48, 48), dtype=np.uint8)
    for i, n in enumerate(names):
        with Image.open(os.path.join(folder, n)) as im:
            im = im.convert("L")
            if im.size != (48, 48):
                im = im.resize((48, 48), Image.BILINEAR)
            imgs[i] = np.asarray(im)
    return imgs, votes, names


def pack(folder, out_path):
    imgs, votes, names = load_folder(folder)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    np.savez_compressed(out_path, images=imgs, votes=votes, names=np.asarray(names))
    return len(names)


def load_split(path_or_folder):
    """Load a split from a packed .npz or directly from a FER+ folder."""
    if path_or_folder.endswith(".npz"):
        d = np.load(path_or_folder)
        return d["images"], d["votes"], list(d["names"])
    return load_folder(path_or_folder)


if __name__ == "__main__":
    # usage: ferplus.py FERPLUS_ROOT OUT_DIR   (writes OUT_DIR/train.npz and OUT_DIR/valid.npz)
    if len(sys.argv) != 3:
        sys.exit("usage: ferplus.py FERPLUS_ROOT OUT_DIR")
    root, out = sys.argv[1], sys.argv[2]
    for split, sub in (("train", "FER2013Train"), ("valid", "FER2013Valid")):
        n = pack(os.path.join(root, sub), os.path.join(out, split + ".npz"))
        print(f"{split}: {n} images -> {os.path.join(out, split + '.npz')}")
