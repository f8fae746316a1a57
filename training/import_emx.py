"""A member of a shipped .emx back into a PyTorch checkpoint that train.py --init takes, so a
recipe can continue training from a model file in the repository (e.g. the shipped Lite, whose
own checkpoints came from stage scripts and are in nobody's clone).

    /usr/bin/python3 training/import_emx.py models/emoxnet-lite.emx lite OUT.pt \
        --data data/ferplus [--member 0]

The exporter folded every BatchNorm into the convolution before it (weights W', bias b', stored
as fp16). Here each such convolution gets W' back and its BatchNorm is rebuilt from the data:
the mean mu and variance var of W'x over Train images (--data, the first --images of them), then
running_mean = mu, running_var = var, weight = sqrt(var + eps), bias = b' + mu. In eval mode that
BatchNorm is exactly "+ b'" (the member's function in the file, checked below against the NumPy
reference of its head), and in training mode its batch statistics are close to mu and var, so the first
steps start from the shipped model instead of renormalising every channel. Convolutions and
dense layers without a BatchNorm take W' and b' as they are.
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format as ef  # noqa: E402
from models import build  # noqa: E402


def conv_bn_pairs(model):
    """{conv name: its BatchNorm's name} for every Conv2d whose output only feeds a BatchNorm2d
    (the pairs torch.fx's fuse folds, as export_checkpoint.py does)."""
    mods = dict(model.named_modules())
    pairs = {}
    for n in torch.fx.symbolic_trace(model).graph.nodes:
        if n.op == "call_module" and isinstance(mods[n.target], nn.BatchNorm2d):
            src = n.args[0]
            if (src.op == "call_module" and isinstance(mods[src.target], nn.Conv2d)
                    and len(src.users) == 1):
                pairs[src.target] = n.target
    return pairs


def import_member(emx_path, arch, member=0, images=None, batch=256):
    """The model (eval mode) holding member `member` of the file; images: normalised inputs
    [N, 1, H, W] for the BatchNorm statistics (None: identity BatchNorms, eval-exact only)."""
    m = ef.read(emx_path)
    prefix = f"m{member}."
    tensors = {t.name[len(prefix):]: t.data for t in m.tensors if t.name.startswith(prefix)}
    if not tensors:
        raise SystemExit(f"{emx_path}: no member {member} (tensor names {prefix}*)")
    model = build(arch, n_classes=len(m.class_names)).eval()
    mods = dict(model.named_modules())
    pairs = conv_bn_pairs(model)
    used = set()
    with torch.no_grad():
        for name, mod in mods.items():
            if not isinstance(mod, (nn.Conv2d, nn.Linear)):
                continue
            w, b = tensors.get(name + ".weight"), tensors.get(name + ".bias")
            if w is None or tuple(w.shape) != tuple(mod.weight.shape):
                raise SystemExit(f"{emx_path}: {prefix}{name}.weight is "
                                 f"{None if w is None else w.shape}, {arch} wants {tuple(mod.weight.shape)}")
            mod.weight.copy_(torch.from_numpy(w))
            used.add(name + ".weight")
            bias = torch.from_numpy(b) if b is not None else torch.zeros(mod.weight.shape[0])
            used.add(name + ".bias")
            if name in pairs:
                bn = mods[pairs[name]]
                bn.running_mean.zero_(), bn.running_var.fill_(1 - bn.eps)
                bn.weight.fill_(1), bn.bias.copy_(bias)
            elif mod.bias is not None:
                mod.bias.copy_(bias)
            elif b is not None and np.any(b != 0):
                raise SystemExit(f"{emx_path}: {prefix}{name} has a bias, {arch}'s layer has none")
    left = sorted(set(tensors) - used)
    if left:
        raise SystemExit(f"{emx_path}: tensors {arch} has no place for: {left[:5]}")
    if images is not None:
        rebuild_batchnorm(model, mods, pairs, images, batch)
    return model


def rebuild_batchnorm(model, mods, pairs, images, batch):
    """Each folded BatchNorm from the statistics of its convolution's output (docstring)."""
    sums = {c: [0.0, 0.0, 0] for c in pairs}

    def hook(name):
        def f(_, __, y):
            y = y.double()
            s = sums[name]
            s[0] = s[0] + y.sum((0, 2, 3))
            s[1] = s[1] + (y * y).sum((0, 2, 3))
            s[2] += y.shape[0] * y.shape[2] * y.shape[3]
        return f

    handles = [mods[c].register_forward_hook(hook(c)) for c in pairs]
    with torch.no_grad():  # eval mode: every BatchNorm is still "+ b'", so the order is free
        for i in range(0, len(images), batch):
            model(images[i:i + batch])
    for h in handles:
        h.remove()
    with torch.no_grad():
        for c, bn_name in pairs.items():
            s0, s1, n = sums[c]
            mu = s0 / n
            var = (s1 / n - mu * mu).clamp(min=0)
            bn = mods[bn_name]
            bn.running_mean.copy_(mu.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.add_(mu.float())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("emx")
    ap.add_argument("arch")
    ap.add_argument("out")
    ap.add_argument("--member", type=int, default=0)
    ap.add_argument("--data", required=True, help="FER+ root or packed folder (Train images "
                    "for the BatchNorm statistics)")
    ap.add_argument("--images", type=int, default=4096)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from train import load_data, to_input
    (tr_img, _, _), _ = load_data(args.data)
    x = to_input(tr_img[:args.images], "cpu")
    m = ef.read(args.emx)
    model = import_member(args.emx, args.arch, args.member, x)
    check = max_diff_vs_file(model, m, args.member, x[:8])
    if check > 1e-4:
        raise SystemExit(f"{args.emx}: the imported member differs from its head in the file by "
                         f"{check:.3g}")
    torch.save(dict(arch=args.arch, state_dict=model.state_dict(), mean=m.input.mean,
                    std=m.input.std, source=f"{args.emx} member {args.member}"), args.out)
    print(f"wrote {args.out}: {args.arch} from {args.emx} member {args.member} "
          f"(max |diff| vs its head in the file {check:.2g})")


def max_diff_vs_file(model, m, member, x):
    """Largest difference between the imported model's probabilities and member `member`'s own
    head in the file (its unflipped SOFTMAX, cut out by members.head_model) run by the NumPy
    reference, on inputs x [N, 1, H, W]."""
    import emx_numpy_ref
    from members import head_model, member_heads
    heads = member_heads(m, "")
    if not 0 <= member < len(heads):
        raise SystemExit(f"the file has {len(heads)} members, not a member {member}")
    head = head_model(m, heads[member][1], "member")
    if not all(t.name.startswith(f"m{member}.") for t in head.tensors):
        raise SystemExit(f"member {member}'s head reads tensors of another member")
    with torch.no_grad():
        p = torch.softmax(model(x), 1).double().numpy()
    want = np.stack([emx_numpy_ref.predict(head, xi.permute(1, 2, 0).double().numpy()) for xi in x])
    return float(np.abs(p - want).max())


if __name__ == "__main__":
    main()
