"""Network definitions. Every shipped network ends in global average pooling + one Linear
layer, so class activation maps are exact and cheap (issue: explanations), and uses only ops
the .emx exporter supports (training/export_emx.py)."""
import torch
import torch.nn as nn


def conv_bn_relu(cin, cout, k=3, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class LiteNet(nn.Module):
    """EmoXNetLite: a small VGG-style CNN, two 3x3 convs per stage, widths (16, 32, 64, 128).
    Wide enough to learn FER+, small enough (~0.15M params) to train on CPU and to run in well
    under a millisecond in WASM."""

    def __init__(self, widths=(16, 32, 64, 128), n_classes=8, dropout=0.3):
        super().__init__()
        layers, cin = [], 1
        for i, w in enumerate(widths):
            layers += conv_bn_relu(cin, w) + conv_bn_relu(w, w)
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, n_classes)

    def forward(self, x):
        x = self.pool(self.features(x)).flatten(1)
        return self.fc(self.drop(x))


ARCHS = {"lite": LiteNet}


def build(name, **kw):
    return ARCHS[name](**kw)
