"""Weight-space interpolation of a network and its fine-tuned copy (WiSE-FT, Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022): theta = (1 - alpha) * A + alpha * B, where B was
trained from A, so both lie in one basin and the points between them are good networks too. A
short photometric cycle from a shipped model (B) gains robustness to blur, noise and
compression and loses a little clean accuracy; points between may keep most of both.

    /usr/bin/python3 training/soup.py A.pt B.pt OUT.pt --alpha 0.5 [--data data/ferplus]
    /usr/bin/python3 training/soup.py A.pt B.pt C.pt ... OUT.pt --mean [--data data/ferplus]

--mean is the uniform "model soup" (Wortsman et al., "Model soups", 2022): the plain average of
any number of networks fine-tuned from one start (other seeds, teachers, augmentations).

A, B, ...: train.py's best.pt, an import_emx.py checkpoint, or a run's last.pt (its moving
average of the weights when it kept one; the network from the run's history.json). OUT is in
best.pt's format, for export_checkpoint.py. With --data, every BatchNorm's running statistics
are measured again on the first --images Train images through the interpolated weights: the
statistics of interpolated weights are not the interpolated statistics.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models import build  # noqa: E402


def load_weights(path):
    """(arch, state_dict, mean, std) of any checkpoint format the pipeline writes."""
    ck = torch.load(path, map_location="cpu")
    if "state_dict" in ck:
        return ck["arch"], ck["state_dict"], ck.get("mean"), ck.get("std")
    # train.py's last.pt: no arch or normalisation of its own; the run's history.json has them
    with open(os.path.join(os.path.dirname(path), "history.json")) as f:
        arch = json.load(f)["args"]["arch"]
    return arch, ck["ema"] if ck.get("ema") is not None else ck["model"], None, None


def check_same_network(paths, loaded):
    """Exit unless every loaded checkpoint (load_weights' tuples) is the first one's network:
    same architecture, same tensors, same shapes."""
    arch0, s0 = loaded[0][0], loaded[0][1]
    for p, (arch, state, _, _) in zip(paths[1:], loaded[1:]):
        if arch != arch0:
            raise SystemExit(f"{paths[0]} is {arch0}, {p} is {arch}")
        if state.keys() != s0.keys():
            raise SystemExit(f"{paths[0]} and {p} are not the same network "
                             f"({sorted(set(state) ^ set(s0))[:4]} ...)")
        for k, v in state.items():
            if v.shape != s0[k].shape:
                raise SystemExit(f"{k}: shapes {tuple(s0[k].shape)} ({paths[0]}) "
                                 f"and {tuple(v.shape)} ({p}) differ")


def interpolate(sa, sb, alpha):
    """(1 - alpha) * sa + alpha * sb for floating tensors; integer ones (BatchNorm's step
    counters) are taken from sb. The two are one network (check_same_network)."""
    return {k: torch.lerp(sa[k], b, alpha) if b.is_floating_point() else b.clone()
            for k, b in sb.items()}


@torch.no_grad()
def remeasure_batchnorm(model, x, batch=256):
    """Every BatchNorm's running mean and variance as the plain average over x (momentum None),
    the rest of the network in eval mode. torch.optim.swa_utils.update_bn does the same with the
    whole network in train mode, so its dropout (sewide-s has some in every block) would
    measure statistics of activations the network never sees at inference."""
    momenta = {m: m.momentum for m in model.modules() if isinstance(m, nn.BatchNorm2d)}
    if not momenta:
        return
    model.eval()
    for m in momenta:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for i in range(0, len(x), batch):
        model(x[i:i + batch])
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.eval()


def mean_state(states):
    """The uniform average of state dicts of one network; integer tensors from the last."""
    out = {}
    for k, last in states[-1].items():
        out[k] = (sum(s[k] for s in states) / len(states)) if last.is_floating_point() else last.clone()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", metavar="PATH", help="the networks, then OUT")
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--alpha", type=float, help="two networks A B: 0 gives A, 1 gives B")
    how.add_argument("--mean", action="store_true", help="the uniform average of all the networks")
    ap.add_argument("--data", help="FER+ root or packed folder: re-measure BatchNorm statistics")
    ap.add_argument("--images", type=int, default=4096)
    args = ap.parse_args(argv)
    *inputs, out = args.paths
    if args.alpha is not None:
        if len(inputs) != 2:
            raise SystemExit(f"--alpha takes two networks and OUT, not {len(inputs)} networks")
        if not 0.0 <= args.alpha <= 1.0:
            raise SystemExit(f"--alpha {args.alpha}: must be in [0, 1]")
    elif len(inputs) < 2:
        raise SystemExit("--mean takes at least two networks and OUT")
    loaded = [load_weights(p) for p in inputs]
    check_same_network(inputs, loaded)
    arch = loaded[0][0]
    model = build(arch)
    if args.mean:
        model.load_state_dict(mean_state([state for _, state, _, _ in loaded]))
        source = f"mean of {', '.join(inputs)}"
    else:
        model.load_state_dict(interpolate(loaded[0][1], loaded[1][1], args.alpha))
        source = f"(1 - {args.alpha}) * {inputs[0]} + {args.alpha} * {inputs[1]}"
    torch.set_num_threads(1)
    if args.data:
        from train import load_data, to_input
        (tr_img, _, _), _ = load_data(args.data)
        remeasure_batchnorm(model, to_input(tr_img[:args.images], "cpu"))
    # normalisation: the first file that records one, else train.py's
    mean, std = next(((m, s) for _, _, m, s in loaded if m is not None), (None, None))
    if mean is None:
        from train import MEAN, STD
        mean, std = MEAN, STD
    torch.save(dict(arch=arch, state_dict=model.state_dict(), mean=mean, std=std,
                    source=source + (" (BatchNorm re-measured)" if args.data else "")), out)
    print(f"wrote {out}: {arch}, " + (f"mean of {len(inputs)}" if args.mean else f"alpha {args.alpha}"))


if __name__ == "__main__":
    main()
