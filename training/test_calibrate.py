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
        t0, tau, t1, _, table = calibrate.fit(p, y, prior)
        self.assertAlmostEqual(t0, 2.0, delta=0.1)
        base_acc = table[0][1]
        chosen = [r for r in table if r[0] == tau][0]
        self.assertGreaterEqual(chosen[1], base_acc)            # top-1 not lowered
        self.assertGreaterEqual(chosen[2], table[0][2])         # recall not lowered
        self.assertTrue(all(r[2] <= chosen[2] for r in table if r[1] >= base_acc))

    def test_contempt_threshold_finds_a_class_argmax_never_names(self):
        rng = np.random.default_rng(1)
        kinds = np.array([[0.8, 0.1, 0.05, 0.05],      # mostly class 0
                          [0.1, 0.8, 0.05, 0.05],      # mostly class 1
                          [0.27, 0.28, 0.27, 0.18],    # uncertain
                          [0.1, 0.1, 0.75, 0.05],      # mostly class 2
                          [0.65, 0.0, 0.0, 0.35]])     # always contempt, never ranked first
        kind = rng.choice(5, size=8000, p=[0.27, 0.15, 0.4, 0.15, 0.03])
        y = np.array([rng.choice(4, p=kinds[k]) if k < 4 else 3 for k in kind])
        p = np.maximum(kinds[kind] + rng.uniform(0, 0.01, size=(8000, 4)), 1e-6)
        p /= p.sum(1, keepdims=True)
        # a flat prior: no log-prior shift, so only the threshold can name contempt
        t0, tau, t1, threshold, _ = calibrate.fit(p, y, np.full(4, 0.25))
        self.assertEqual((p.argmax(1) == 3).sum(), 0)
        self.assertIsNotNone(threshold)
        self.assertEqual(list(threshold[:3]), [0, 0, 0])   # only the class asked for (default: the last)
        out = np.exp(np.log(p) / (t0 * t1))
        out /= out.sum(1, keepdims=True)             # the file's output
        pred = calibrate.decide(np.log(p), 0, threshold, out)
        self.assertGreater((pred[kind == 4] == 3).mean(), 0.5)
        self.assertLess((pred[kind != 4] == 3).mean(), 0.01)
        self.assertGreater((pred == y).mean(), (p.argmax(1) == y).mean())      # top-1 kept
        # strictly between two of the output's values: no face sits on it
        self.assertFalse(np.any(out[:, 3] == threshold[3]))

    def test_no_threshold_when_none_helps(self):
        rng = np.random.default_rng(2)
        y = rng.choice(3, size=3000, p=[0.5, 0.3, 0.2])
        p = np.full((3000, 3), 0.1)
        p[np.arange(3000), y] = 0.8                  # always right: nothing to gain
        self.assertIsNone(calibrate.fit(p, y, np.array([0.5, 0.3, 0.2]))[3])

    def test_decide_lowest_threshold_wins(self):
        """Of several classes whose output reaches their thresholds, the one with the lowest
        threshold (the core's emx_pick_label; a real contempt face also reaches disgust's higher
        threshold, and the likelier rule gave it to disgust), then the likelier, then the first."""
        z = np.log(np.array([[0.5, 0.3, 0.2]] * 3))
        q = np.exp(z)
        self.assertEqual(calibrate.decide(z, 0, None, q).tolist(), [0, 0, 0])
        self.assertEqual(calibrate.decide(z, 0, np.array([0, 0.25, 0.15]), q)[0], 2)  # not the likelier 1
        self.assertEqual(calibrate.decide(z, 0, np.array([0, 0.15, 0.25]), q)[0], 1)
        self.assertEqual(calibrate.decide(z, 0, np.array([0, 0.2, 0.2]), q)[0], 1)     # equal: the likelier
        self.assertEqual(calibrate.decide(z, 0, np.array([0, 0.31, 0.2]), q)[0], 2)    # a missed one: ignored
        self.assertEqual(calibrate.decide(z, 0, np.array([0, 0.31, 0.21]), q)[0], 0)   # none reached: argmax

    def test_disgust_threshold_keeps_contempt(self):
        """Two under-ranked classes that the model confuses (like disgust and contempt): class 2's
        faces give it 0.3 with class 0 at 0.55, class 3's give class 3 0.12 and class 2 0.3 too.
        Fitted contempt first (class 3), then class 2, both get a threshold and both classes are
        found: under the likelier rule a class-2 threshold would take every class-3 face."""
        kinds = np.array([[0.9, 0.04, 0.03, 0.03],     # class 0
                          [0.05, 0.9, 0.03, 0.02],     # class 1
                          [0.55, 0.1, 0.3, 0.05],      # class 2, ranked second
                          [0.5, 0.08, 0.3, 0.12]])     # class 3, ranked third
        kind = np.repeat(np.arange(4), [600, 300, 60, 40])
        rng = np.random.default_rng(3)
        p = kinds[kind] + rng.uniform(0, 0.01, size=(len(kind), 4))
        p /= p.sum(1, keepdims=True)
        t0, tau, t1, th, _ = calibrate.fit(p, kind, np.full(4, 0.25), 0.0, classes=(3, 2))
        self.assertTrue(th[2] > 0 and th[3] > 0 and th[3] < th[2])
        out = np.exp(np.log(p) / (t0 * t1))
        out /= out.sum(1, keepdims=True)
        pred = calibrate.decide(np.log(p), 0, th, out)
        self.assertEqual((pred == kind).mean(), 1.0)
        # the likelier rule would give class 3's faces to class 2 under these thresholds
        likelier = np.where((out[:, 2] >= th[2]) | (out[:, 3] >= th[3]),
                            np.where(out[:, 2] >= out[:, 3], 2, 3), p.argmax(1))
        self.assertEqual((likelier[kind == 3] == 2).mean(), 1.0)
        # only the classes asked for
        self.assertFalse(calibrate.fit(p, kind, np.full(4, 0.25), 0.0, classes=(3,))[3][2])

    def test_between_splits_the_gap_below(self):
        self.assertAlmostEqual(calibrate.between(np.array([0.1, 0.3, 0.5]), 0.3), 0.2)
        self.assertAlmostEqual(calibrate.between(np.array([0.3, 0.5]), 0.3), 0.15)

    def test_thresholds_ride_in_the_params_and_leave_probabilities_alone(self):
        m = tiny_model()
        x = np.full((4, 4, 1), 0.5)
        calibrate.add_calibration(m, 2.0, np.zeros(3))
        plain = emx_numpy_ref.predict(m, x)
        m = calibrate.strip_calibration(m)
        calibrate.add_calibration(m, 2.0, np.zeros(3), np.array([0, 0, 0.25]))
        m2 = ef.from_bytes(ef.to_bytes(m))
        np.testing.assert_array_equal(m2.tensors[-1].data, np.float32([2, 0, 0, 0, 0, 0, 0.25]))
        np.testing.assert_allclose(emx_numpy_ref.predict(m2, x), plain, rtol=1e-7)
        self.assertEqual(len(calibrate.strip_calibration(m2).tensors), 2)


if __name__ == "__main__":
    unittest.main()
