"""Tests of the .emx writer/reader, the exporter and the golden files.

    /usr/bin/python3 -m unittest discover -s training -p 'test_*.py'

The golden checks through the NumPy reference need only NumPy; the rest needs PyTorch and is
skipped without it.
"""
from __future__ import annotations

import os
import struct
import sys
import tempfile
import unittest
import warnings
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format as ef  # noqa: E402
import emx_numpy_ref as ref  # noqa: E402

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)
    HAVE_TORCH = True
except ImportError:  # CI without torch: only the golden/NumPy tests run
    HAVE_TORCH = False

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "tests", "golden")
BLAZEFACE = os.path.join(os.path.dirname(GOLDEN), "..", "models", "blazeface.emx")
needs_torch = unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")


def read_golden(name, n):
    m = ef.read(os.path.join(GOLDEN, name + ".emx"))
    s = m.input
    x = np.fromfile(os.path.join(GOLDEN, name + ".input.f32"), "<f4").reshape(
        n, s.height, s.width, s.channels)
    e = np.fromfile(os.path.join(GOLDEN, name + ".expected.f32"), "<f4").reshape(n, -1)
    return m, x, e


def manifest():
    with open(os.path.join(GOLDEN, "manifest.txt")) as f:
        return [(ln.split()[0], int(ln.split()[1])) for ln in f if ln.strip()]


def tiny_model(fp16=False):
    """A hand-built EmxModel using every header/chunk feature."""
    rng = np.random.RandomState(0)
    tensors = [ef.Tensor("conv.weight", rng.randn(4, 1, 3, 3).astype(np.float32),
                         ef.DTYPE_F16 if fp16 else ef.DTYPE_F32),
               ef.Tensor("conv.bias", rng.randn(4).astype(np.float32)),   # 4 floats
               ef.Tensor("fc.weight", rng.randn(3, 4).astype(np.float32)),
               ef.Tensor("fc.bias", rng.randn(3).astype(np.float32)),     # 12 bytes: padding
               ef.Tensor("wm", np.array([0.25, 0.75], np.float32))]
    ops = [ef.Op(ef.OP_CONV2D, [0], [3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 4, ef.ACT_RELU], [0, 1]),
           ef.Op(ef.OP_GLOBAL_AVGPOOL, [1]),
           ef.Op(ef.OP_DENSE, [2], [3, ef.ACT_NONE], [2, 3]),
           ef.Op(ef.OP_SOFTMAX, [3]),
           ef.Op(ef.OP_FLIP_W, [0]),
           ef.Op(ef.OP_CONV2D, [5], [3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 4, ef.ACT_RELU], [0, 1]),
           ef.Op(ef.OP_GLOBAL_AVGPOOL, [6]),
           ef.Op(ef.OP_DENSE, [7], [3, ef.ACT_NONE], [2, 3]),
           ef.Op(ef.OP_SOFTMAX, [8]),
           ef.Op(ef.OP_WEIGHTED_MEAN, [4, 9], [], [4])]
    return ef.EmxModel(ef.InputSpec(9, 7, 1, 0.5, 0.25), ["a", "bé", "c"], tensors, ops, [10, 2],
                       [("name", "tiny"), ("note", "ünïcode ✓")])


class FormatTest(unittest.TestCase):
    def test_round_trip(self):
        m = tiny_model()
        b = ef.to_bytes(m)
        self.assertEqual(b[:4], b"EMXN")
        version, total, crc = struct.unpack("<III", b[4:16])
        self.assertEqual((version, total, crc), (1, len(b), zlib.crc32(b[16:])))
        self.assertEqual(len(b) % 4, 0)
        # chunks in order, each 4-byte aligned
        pos, tags = 16, []
        while pos < len(b):
            self.assertEqual(pos % 4, 0)
            tags.append(b[pos:pos + 4])
            pos += 8 + ((struct.unpack("<I", b[pos + 4:pos + 8])[0] + 3) & ~3)
        self.assertEqual(pos, len(b))
        self.assertEqual(tags, [b"INPT", b"CLSS", b"TENS", b"GRPH", b"DATA", b"META"])
        r = ef.from_bytes(b)
        self.assertEqual(r.input, m.input)
        self.assertEqual(r.class_names, m.class_names)
        self.assertEqual(r.meta, m.meta)
        self.assertEqual(r.outputs, m.outputs)
        self.assertEqual([(o.type, o.inputs, o.attrs, o.tensors) for o in r.ops],
                         [(o.type, o.inputs, o.attrs, o.tensors) for o in m.ops])
        for a, t in zip(r.tensors, m.tensors):
            self.assertEqual((a.name, a.dtype), (t.name, t.dtype))
            np.testing.assert_array_equal(a.data, t.data)
        self.assertEqual(ef.to_bytes(r), b)           # byte-exact re-serialisation

    def test_input_chunk_layout(self):
        b = ef.to_bytes(tiny_model())
        self.assertEqual(b[16:20], b"INPT")
        self.assertEqual(struct.unpack("<IIIIff", b[20:44]), (20, 9, 7, 1, 0.5, 0.25))

    def test_no_meta(self):
        m = tiny_model()
        m.meta = []
        self.assertNotIn(b"META", ef.to_bytes(m))
        self.assertEqual(ef.from_bytes(ef.to_bytes(m)).meta, [])

    def test_fp16_storage(self):
        m16, m32 = tiny_model(fp16=True), tiny_model()
        b16, b32 = ef.to_bytes(m16), ef.to_bytes(m32)
        self.assertEqual(len(b32) - len(b16), 36 * 2)    # 36 weights at 2 bytes instead of 4
        r = ef.from_bytes(b16)
        self.assertEqual(r.tensors[0].dtype, ef.DTYPE_F16)
        np.testing.assert_array_equal(
            r.tensors[0].data, m16.tensors[0].data.astype(np.float16).astype(np.float32))
        self.assertEqual(ef.to_bytes(r), b16)

    def test_fp16_overflow_refused(self):
        m = tiny_model(fp16=True)
        m.tensors[0].data[0, 0, 0, 0] = 1e6
        with self.assertRaises(ef.EmxFormatError):
            ef.to_bytes(m)

    def test_damage_detected(self):
        b = bytearray(ef.to_bytes(tiny_model()))
        for bad in (b[:-4], b + b"\0\0\0\0", b"EMXM" + b[4:]):
            with self.assertRaises(ef.EmxFormatError):
                ef.from_bytes(bytes(bad))
        b[100] ^= 1
        with self.assertRaisesRegex(ef.EmxFormatError, "CRC"):
            ef.from_bytes(bytes(b))

    def test_writer_checks(self):
        m = tiny_model()
        m.ops[0].attrs = m.ops[0].attrs[:-1]
        with self.assertRaises(ef.EmxFormatError):
            ef.to_bytes(m)
        m = tiny_model()
        m.ops[1].inputs = [5]                # not an earlier value
        with self.assertRaises(ef.EmxFormatError):
            ef.to_bytes(m)
        m = tiny_model()
        m.tensors[1].data[0] = np.nan
        with self.assertRaises(ef.EmxFormatError):
            ef.to_bytes(m)

    def test_numpy_ref_tiny(self):
        m = tiny_model()
        x = np.random.RandomState(1).randn(9, 7, 1)
        out, p = ref.run(m, x)
        self.assertEqual(out.shape, (1, 1, 3))
        self.assertAlmostEqual(out.sum(), 1.0, places=6)
        self.assertEqual(p.shape, (1, 1, 4))


class GoldenTest(unittest.TestCase):
    """The committed golden files, checked by the NumPy interpreter (no PyTorch needed)."""

    def test_manifest_and_sizes(self):
        entries = manifest()
        self.assertGreaterEqual(len(entries), 8)
        total = 0
        for name, n in entries:
            size = os.path.getsize(os.path.join(GOLDEN, name + ".emx"))
            self.assertLess(size, 200 * 1024, name)
            m, x, e = read_golden(name, n)
            self.assertEqual(e.shape, (n, len(m.class_names)))
            total += size + x.nbytes + e.nbytes
        self.assertLess(total, 2 * 1024 * 1024)

    def test_numpy_ref_reproduces_pytorch(self):
        for name, n in manifest():
            m, x, e = read_golden(name, n)
            for i in range(n):
                np.testing.assert_allclose(ref.predict(m, x[i]), e[i], rtol=0, atol=1e-4,
                                           err_msg=f"{name} case {i}")

    def test_blazeface_matches_tf_graph(self):
        # models/blazeface.emx through the NumPy reference against the outputs of a NumPy
        # interpreter of the original tfjs graph (training/convert_blazeface.py --golden)
        m = ef.read(BLAZEFACE)
        x = np.fromfile(os.path.join(GOLDEN, "blazeface.input.f32"), "<f4").reshape(
            m.input.height, m.input.width, m.input.channels)
        want = np.fromfile(os.path.join(GOLDEN, "blazeface.expected.f32"), "<f4")
        got = np.concatenate([v.reshape(-1) for v in ref.run(m, x)])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)

    def test_every_op_and_activation_covered(self):
        ops, acts = set(), set()
        for name, n in manifest():
            for op in ef.read(os.path.join(GOLDEN, name + ".emx")).ops:
                ops.add(op.type)
                slot = {ef.OP_CONV2D: 12, ef.OP_DENSE: 1, ef.OP_ADD: 0,
                        ef.OP_ACTIVATION: 0}.get(op.type)
                if slot is not None:
                    acts.add(op.attrs[slot])
        # PAD_CHANNELS comes from a converted TF graph, not PyTorch: the detector covers it
        # (test_blazeface_matches_tf_graph checks its numbers)
        ops |= {op.type for op in ef.read(BLAZEFACE).ops}
        # CALIBRATE is appended by training/calibrate.py to the shipped classifiers, whose golden
        # outputs (tests/golden/shipped.txt) the C and JS golden tests check; its NumPy oracle is
        # checked by hand in test_calibrate.py
        ops |= {op.type for p in ("emoxnet-lite.emx", "emoxnet.emx")
                for op in ef.read(os.path.join(GOLDEN, "..", "..", "models", p)).ops}
        self.assertEqual(ops, set(ef.OP_NAMES))
        self.assertEqual(acts, set(ef.ACT_NAMES))


if HAVE_TORCH:
    import export_emx as ex  # noqa: E402

    def torch_probs(model, x_nchw, ends_in_softmax=False):
        with torch.no_grad():
            y = model(x_nchw)
        return (y if ends_in_softmax else torch.softmax(y, 1))[0].double().numpy()

    def ref_probs(em, x_nchw):
        return ref.predict(em, x_nchw[0].permute(1, 2, 0).double().numpy())

    def randomize_bn(bn, seed):
        g = torch.Generator().manual_seed(seed)
        C = bn.num_features
        bn.running_mean.copy_(torch.rand(C, generator=g) - 0.5)
        bn.running_var.copy_(torch.rand(C, generator=g) * 1.5 + 0.3)
        bn.weight.data.copy_(torch.rand(C, generator=g) + 0.5)
        bn.bias.data.copy_(torch.rand(C, generator=g) - 0.5)
        return bn

    class Seq(nn.Module):
        def __init__(self, *mods, tail=None):
            super().__init__()
            self.body = nn.Sequential(*mods)
            self.tail = tail

        def forward(self, x):
            x = self.body(x)
            return self.tail(x) if self.tail else x


@needs_torch
class ExportTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        warnings.filterwarnings("ignore", message="Using padding='same'")

    def check_equal(self, model, spec=None, atol=1e-5, n=2, ends_in_softmax=False):
        spec = dict(dict(height=48, width=48, channels=1), **(spec or {}))
        model.eval()
        em = ef.from_bytes(ef.to_bytes(ex.convert(model, spec)))
        for _ in range(n):
            x = torch.randn(1, spec["channels"], spec["height"], spec["width"])
            np.testing.assert_allclose(ref_probs(em, x), torch_probs(model, x, ends_in_softmax),
                                       atol=atol)
        return em

    def test_bn_folding_equals_unfolded(self):
        for bias, groups in ((True, 1), (False, 1), (True, 4)):
            conv = nn.Conv2d(4, 8, 3, padding=1, bias=bias, groups=groups)
            bn = randomize_bn(nn.BatchNorm2d(8, eps=1e-3), 3).eval()
            b = conv.bias.detach().numpy() if bias else np.zeros(8, np.float32)
            w2, b2 = ex.fold_bn(conv.weight.detach().numpy(), b,
                                bn.running_mean.numpy(), bn.running_var.numpy(),
                                bn.weight.detach().numpy(), bn.bias.detach().numpy(), bn.eps)
            folded = nn.Conv2d(4, 8, 3, padding=1, groups=groups)
            folded.weight.data = torch.from_numpy(w2)
            folded.bias.data = torch.from_numpy(b2)
            x = torch.randn(2, 4, 10, 9)
            with torch.no_grad():
                np.testing.assert_allclose(folded(x).numpy(), bn(conv(x)).numpy(), atol=1e-5)
            # and the exporter writes exactly these folded tensors
            model = Seq(nn.Conv2d(1, 4, 1), conv, bn, nn.Flatten(), nn.Linear(8 * 48 * 48, 8))
            em = ex.convert(model.eval())
            np.testing.assert_array_equal(em.tensors[2].data, w2)
            np.testing.assert_array_equal(em.tensors[3].data, b2)

    def test_bn_must_follow_conv(self):
        class TwoUsers(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv, self.bn = nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8)
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                y = self.conv(x)
                return self.fc((self.bn(y) + y).mean((2, 3)))

        after_relu = Seq(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.BatchNorm2d(8),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 8))
        on_input = Seq(nn.BatchNorm2d(1), nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1),
                       nn.Flatten(), nn.Linear(8, 8))
        for model in (TwoUsers(), after_relu, on_input):
            with self.assertRaisesRegex(ex.ExportError, "BatchNorm2d"):
                ex.convert(model.eval())

    def test_flatten_permutes_linear_weights(self):
        model = Seq(nn.Conv2d(1, 3, 3, stride=(8, 10)), tail=None)
        fc = nn.Linear(3 * 6 * 5, 8)

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv, self.fc = model.body[0], fc

            def forward(self, x):
                x = self.conv(x)                      # 3 x 6 x 5
                return self.fc(x.view(x.size(0), -1))

        m = M().eval()
        em = self.check_equal(m)
        dense = [op for op in em.ops if op.type == ef.OP_DENSE][0]
        w = em.tensors[dense.tensors[0]].data
        expect = fc.weight.detach().numpy().reshape(8, 3, 6, 5).transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(w, expect.reshape(8, -1))
        # the test is sensitive: unpermuted weights give other probabilities
        em.tensors[dense.tensors[0]].data = fc.weight.detach().numpy().copy()
        x = torch.randn(1, 1, 48, 48)
        self.assertGreater(np.abs(ref_probs(em, x) - torch_probs(m, x)).max(), 1e-3)

    def test_unsupported_ops_raise(self):
        class Tanh(nn.Module):
            def forward(self, x):
                return torch.tanh(x).mean((2, 3)).repeat(1, 8)

        class Scale(nn.Module):
            def forward(self, x):
                return (x * 0.5).mean((2, 3)).repeat(1, 8)

        class Slice(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 16, 3)

            def forward(self, x):
                return self.conv(x)[:, :8].mean((2, 3))

        cases = [(Tanh(), "tanh"), (Scale(), "mul"), (Slice(), "getitem"),
                 (Seq(nn.Conv2d(1, 8, 3), nn.PReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                  "PReLU"),
                 (Seq(nn.Conv2d(1, 8, 3), nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten()), "count_include_pad"),
                 (Seq(nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                      nn.Linear(8, 5)), "5 classes|8 classes")]
        for model, pattern in cases:
            with self.assertRaisesRegex(ex.ExportError, pattern, msg=type(model).__name__):
                ex.convert(model.eval())
        with self.assertRaisesRegex(ex.UnsupportedOpError, "node '.*'"):
            ex.convert(Tanh())

    def test_interpolate_scale_must_be_exact(self):
        class Up(nn.Module):
            def __init__(self, **kw):
                super().__init__()
                self.kw = kw
                self.fc = nn.Linear(1, 8)

            def forward(self, x):
                x = F.interpolate(x, mode="bilinear", align_corners=False, **self.kw)
                return self.fc(x.mean((2, 3)))

        with self.assertRaisesRegex(ex.UnsupportedOpError, "scale_factor"):
            ex.convert(Up(scale_factor=0.3).eval())
        self.check_equal(Up(scale_factor=0.3, recompute_scale_factor=True))
        self.check_equal(Up(scale_factor=2.0))
        self.check_equal(Up(size=(31, 17)))

    def test_windows_match_pytorch(self):
        """Pooling/conv edge cases through the NumPy interpreter (beyond the golden set)."""
        convs = [dict(kernel_size=4, padding="same", dilation=3),
                 dict(kernel_size=(1, 3), stride=(3, 2), padding=(0, 1)),
                 dict(kernel_size=2, padding="valid", stride=3)]
        pools = [nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.MaxPool2d((2, 3), (3, 2), (1, 1)),
                 nn.MaxPool2d(4, 3, 2, ceil_mode=True),
                 nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                 nn.AvgPool2d(4, 3, ceil_mode=True), nn.AvgPool2d(2, 3, 1)]
        for kw in convs:
            self.check_equal(Seq(nn.Conv2d(1, 4, **kw), nn.ReLU(), nn.Conv2d(4, 8, 1),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                             dict(height=13, width=11))
        for p in pools:
            for h, w in ((13, 11), (12, 12)):
                with torch.no_grad():
                    n = p(torch.zeros(1, 2, h, w)).numel()
                self.check_equal(Seq(nn.Conv2d(1, 2, 1), p, nn.Flatten(), nn.Linear(n, 8)),
                                 dict(height=h, width=w))

    def test_activation_fusion(self):
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                a = F.relu(self.a(x))                 # fused into CONV2D
                b = self.b(a)
                c = F.silu(b)                         # b has two readers: ACTIVATION
                d = torch.sigmoid(c + b)              # fused into ADD
                return self.fc(F.hardswish(d.mean((2, 3))))   # fused into... GAP: ACTIVATION

        em = self.check_equal(M())
        got = [(ef.OP_NAMES[o.type], o.attrs[ex._ACT_SLOT[o.type]] if o.type in ex._ACT_SLOT
                else None) for o in em.ops]
        self.assertEqual(got, [("CONV2D", ef.ACT_RELU), ("CONV2D", 0),
                               ("ACTIVATION", ef.ACT_SILU), ("ADD", ef.ACT_SIGMOID),
                               ("GLOBAL_AVGPOOL", None), ("ACTIVATION", ef.ACT_HARDSWISH),
                               ("DENSE", 0), ("SOFTMAX", None)])

    def test_classic_se_and_shape_arguments(self):
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 8, 3, stride=2)
                self.fc1, self.fc2 = nn.Linear(8, 2), nn.Linear(2, 8)

            def forward(self, x):
                x = self.conv(x)
                b, c = x.size(0), x.size(1)
                y = F.adaptive_avg_pool2d(x, 1).view(b, c)
                y = torch.sigmoid(self.fc2(F.relu(self.fc1(y)))).view(b, c, 1, 1)
                x = x * y.expand_as(x)
                return F.softmax(F.adaptive_avg_pool2d(x, (1, 1)).flatten(1), dim=-1)

        em = self.check_equal(M(), ends_in_softmax=True)
        self.assertIn(ef.OP_MUL_CHANNEL, [o.type for o in em.ops])

    def test_softmax_not_doubled(self):
        m = Seq(nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Softmax(dim=1))
        em = ex.convert(m.eval())
        self.assertEqual([o.type for o in em.ops].count(ef.OP_SOFTMAX), 1)

    def test_fp16_export(self):
        m = Seq(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                nn.Linear(8, 8)).eval()
        with tempfile.TemporaryDirectory() as d:
            p16, p32 = os.path.join(d, "a.emx"), os.path.join(d, "b.emx")
            ex.export(m, p16, fp16=True, meta={"name": "x"})
            ex.export(m, p32)
            self.assertLess(os.path.getsize(p16), os.path.getsize(p32))
            e16, e32 = ef.read(p16), ef.read(p32)
        self.assertTrue(all(t.dtype == ef.DTYPE_F16 for t in e16.tensors))
        self.assertEqual(e16.meta, [("name", "x")])
        x = torch.randn(1, 1, 48, 48)
        np.testing.assert_allclose(ref_probs(e16, x), ref_probs(e32, x), atol=5e-3)

    def test_ensemble_structure(self):
        a = Seq(nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        b = Seq(nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        b.input_size = (40, 56)
        em = ex.convert_ensemble([a, b], [3, 1], flip_tta=True)
        types = [o.type for o in em.ops]
        self.assertEqual(types.count(ef.OP_RESIZE_BILINEAR), 1)
        self.assertEqual(types.count(ef.OP_FLIP_W), 2)
        self.assertEqual(types.count(ef.OP_SOFTMAX), 4)
        self.assertEqual(len(em.tensors), 5)              # flipped branches share weights
        wm = em.ops[-1]
        self.assertEqual(wm.type, ef.OP_WEIGHTED_MEAN)
        np.testing.assert_allclose(em.tensors[wm.tensors[0]].data,
                                   [0.375, 0.375, 0.125, 0.125])
        resize = em.ops[types.index(ef.OP_RESIZE_BILINEAR)]
        self.assertEqual(resize.attrs, [40, 56])

    def test_golden_files_up_to_date(self):
        import make_golden
        problems = make_golden.check(make_golden.build_all(), GOLDEN)
        self.assertEqual(problems, [], "run: /usr/bin/python3 training/make_golden.py")


if __name__ == "__main__":
    unittest.main()
