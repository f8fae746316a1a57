"""training/calibrate.py: the fitting rule and the graph edit (no PyTorch, no Node)."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate  # noqa: E402
import emx_format as ef  # noqa: E402
import emx_numpy_ref  # noqa: E402


def tiny_model():
    """48x48x1 -> GAP -> DENSE(3) -> SOFTMAX."""
    w = ef.Tensor("w", np.array([[1.0], [2.0], [-1.0]], np.float32))
    b = ef.Tensor("b", np.array([0.1, 0.0, -0.2], np.float32))
    ops = [ef.Op(ef.OP_GLOBAL_AVGPOOL, [0]), ef.Op(ef.OP_DENSE, [1], [3, ef.ACT_NONE], [0, 1]),
           ef.Op(ef.OP_SOFTMAX, [2])]
    return ef.EmxModel(ef.InputSpec(4, 4, 1), ["a", "b", "c"], [w, b], ops, [3])


class CalibrateTest(unittest.TestCase):
    def test_only_the_ferplus_classes_in_order(self):
        import ferplus
        m = tiny_model()
        with self.assertRaises(SystemExit):               # 3 other classes
            calibrate.require_ferplus_classes(m, "tiny")
        m.class_names = ferplus.CLASSES[:6] + ferplus.CLASSES[7:] + ferplus.CLASSES[6:7]  # fear, contempt swapped
        with self.assertRaises(SystemExit):
            calibrate.require_ferplus_classes(m, "tiny")
        m.class_names = list(ferplus.CLASSES)
        calibrate.require_ferplus_classes(m, "tiny")

    def test_add_then_strip_is_identity_and_runs_in_the_oracle(self):
        m = tiny_model()
        x = np.full((4, 4, 1), 0.5)
        p = emx_numpy_ref.predict(m, x)
        calibrate.add_calibration(m, 2.0, np.array([0.0, 0.0, np.log(3.0)]))
        ef.check_model(m)
        q = emx_numpy_ref.predict(m, x)
        want = p ** 2 * np.array([1, 1, 3])
        np.testing.assert_allclose(q, want / want.sum(), rtol=1e-6)
        m2 = ef.from_bytes(ef.to_bytes(m))        # survives the file format
        np.testing.assert_allclose(emx_numpy_ref.predict(m2, x), q, rtol=1e-6)
        calibrate.strip_calibration(m2)
        self.assertEqual(len(m2.ops), 3)
        self.assertEqual(len(m2.tensors), 2)
        self.assertEqual(m2.outputs, [3])
        np.testing.assert_allclose(emx_numpy_ref.predict(m2, x), p, rtol=1e-6)

    def test_fit_keeps_top1_and_fits_temperature(self):
        rng = np.random.default_rng(0)
        n, prior = 20000, np.array([0.6, 0.3, 0.1])
        # labels drawn from softmax(logits); the model reports softmax(2 * logits): T0 = 2
        logits = rng.normal(size=(n, 3)) * 2.0 + np.log(prior)
        true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        y = (rng.random(n)[:, None] > np.cumsum(true_p, 1)).sum(1)
        p = np.exp(2 * logits)
        p /= p.sum(1, keepdims=True)
        t0, tau, t1, table = calibrate.fit(p, y, prior)
        self.assertAlmostEqual(t0, 2.0, delta=0.1)
        base_acc = table[0][1]
        chosen = [r for r in table if r[0] == tau][0]
        self.assertGreaterEqual(chosen[1], base_acc)            # top-1 not lowered
        self.assertGreaterEqual(chosen[2], table[0][2])         # recall not lowered
        self.assertTrue(all(r[2] <= chosen[2] for r in table if r[1] >= base_acc))


if __name__ == "__main__":
    unittest.main()
