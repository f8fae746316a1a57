"""An ensemble .emx as a distillation teacher that sees the student's own augmented batch.

train.py --teacher takes probabilities precomputed on the clean Train images: the student is
then taught what the teacher says of a face it never sees (the student sees a rotated, shifted,
darkened, blurred copy). Beyer et al. ("Knowledge distillation: a good teacher is patient and
consistent", CVPR 2022) found that mismatch is what makes distillation fall short, and that the
teacher must score the very view the student gets. On this CPU the precomputed targets also
come from the ensemble's own training set, where it is sharper (89.9% top-1) than on new faces.

    teacher = LiveTeacher("models/emoxnet.emx", ["sewide-s", "resnet-s", "lite-w", "lite", "lite"])
    p = teacher(x)   # [N, 8] weighted mean of the members' softmax on exactly x

The members are imported from the file (training/import_emx.py, fp16 weights with BatchNorm
folded: exactly what ships), combined with the file's WEIGHTED_MEAN weights. A file with flip
TTA holds a weight for each member's plain and flipped view; the teacher scores only the view
it is given (the student's augmentation flips at random already), so each member's two weights
are summed. The file's CALIBRATE op is not applied: it is fitted for the decision on Valid, and
the members' own average is what the precomputed teacher (training/ensemble.py) also gives.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format as ef  # noqa: E402
from import_emx import import_member  # noqa: E402


def member_weights(m, n_members):
    """Each member's weight in the model m (emx_format.EmxModel): its WEIGHTED_MEAN tensor, per
    member (plain + flip summed)."""
    w = [t.data for t in m.tensors if t.name == "ensemble.weights"]
    if not w:
        return np.full(n_members, 1.0 / n_members)
    w = np.asarray(w[0], dtype=np.float64).ravel()
    if len(w) == 2 * n_members:
        w = w[0::2] + w[1::2]
    if len(w) != n_members:
        raise SystemExit(f"{len(w)} ensemble weights for {n_members} members")
    return w / w.sum()


class LiveTeacher:
    def __init__(self, emx_path, archs, device="cpu"):
        self.nets = [import_member(emx_path, a, i).eval().to(device).to(memory_format=torch.channels_last)
                     for i, a in enumerate(archs)]
        for n in self.nets:
            for p in n.parameters():
                p.requires_grad_(False)
        m = ef.read(emx_path)
        self.w = member_weights(m, len(archs)).tolist()
        self.mean, self.std = m.input.mean, m.input.std  # the caller checks they are its own

    @torch.no_grad()
    def __call__(self, x):
        return sum(w * F.softmax(n(x).float(), 1) for w, n in zip(self.w, self.nets))
