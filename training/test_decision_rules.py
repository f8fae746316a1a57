"""training/decision_rules.py: the class-bias fit and the held-out halves (NumPy only)."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decision_rules as dr  # noqa: E402


def shifted_scores(n=600, seed=1):
    """Logits of a 3-class problem whose class 2 is scored 1.0 too low: class 2 is rarely
    predicted until a bias gives that 1.0 back."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    z = rng.normal(0.0, 1.0, (n, 3))
    z[np.arange(n), y] += 2.0
    z[:, 2] -= 1.0
    return z, y


class DecisionRulesTest(unittest.TestCase):
    def test_class_bias_gives_back_an_under_scored_class(self):
        z, y = shifted_scores()
        before = dr.recalls(z.argmax(1), y, 3)
        b = dr.fit_class_bias(z, y, lam=1.0)
        after = dr.recalls((z + b).argmax(1), y, 3)
        self.assertEqual(b[0], 0.0)
        self.assertGreater(b[2], 0.4)
        self.assertGreater(after[1][2], before[1][2] + 0.1)
        self.assertGreaterEqual(after[0] + np.nanmean(after[1]), before[0] + np.nanmean(before[1]))

    def test_recall_objective_keeps_top1(self):
        z, y = shifted_scores(seed=2)
        b = dr.fit_class_bias(z, y)
        self.assertGreaterEqual(dr.recalls((z + b).argmax(1), y, 3)[0], dr.recalls(z.argmax(1), y, 3)[0])

    def test_last_class_threshold_finds_a_class_no_bias_can(self):
        """Class 2's faces have p2 = 0.3 with class 0 at 0.6, like real contempt under neutral;
        20 class-1 faces are uncertain, p2 = 0.25 against their own 0.45 (a higher ratio): a
        threshold at 0.3 names every class-2 face and nothing else, while any bias for class 2
        that flips the class-2 faces (ratio 1/2) flips the 20 class-1 faces too (ratio 0.56)."""
        p = np.array([[0.6, 0.1, 0.3]] * 10 + [[0.3, 0.45, 0.25]] * 20 + [[0.1, 0.8, 0.1]] * 30
                     + [[0.9, 0.05, 0.05]] * 50)
        y = np.array([2] * 10 + [1] * 20 + [1] * 30 + [0] * 50)
        z = np.log(p)
        base = dr.recalls(z.argmax(1), y, 3)[0]
        fit = lambda zz, pp, yy, tol=0.0: dr.calibrate.fit_thresholds(zz, pp, yy, np.zeros(3), [2], tol)
        th = fit(z, p, y)
        self.assertAlmostEqual(th[2], 0.3)
        self.assertEqual(th[0], 0)
        acc, rec = dr.recalls(dr.decide(z, np.zeros(3), th, p), y, 3)
        self.assertEqual(rec[2], 1.0)
        self.assertGreater(acc, base)
        for g in dr.BIAS_GRID:
            acc, rec = dr.recalls((z + [0, 0, g]).argmax(1), y, 3)
            self.assertTrue(rec[2] < 1.0 or acc < base, g)
        self.assertFalse(fit(z[10:], p[10:], y[10:]).any())
        # one more class-2 face at p2 = 0.27 beside 15 class-0 faces there: t = 0.27 would raise
        # the mean recall (+1/11 of class 2, -15/215 of class 0) and cost 4 faces more than t = 0.3
        # gained over argmax: refused
        p2 = np.concatenate([p, [[0.68, 0.05, 0.27]] * 16, [[0.9, 0.05, 0.05]] * 150])
        y2 = np.concatenate([y, [2] + [0] * 15 + [0] * 150])
        self.assertAlmostEqual(fit(np.log(p2), p2, y2)[2], 0.3)
        # with a top-1 tolerance of 4 faces (of 276) it is taken; of 3, still refused
        n = len(y2)
        self.assertAlmostEqual(fit(np.log(p2), p2, y2, 4 / n)[2], 0.27)
        self.assertAlmostEqual(fit(np.log(p2), p2, y2, 3 / n)[2], 0.3)

    def test_tau_tolerance(self):
        """calibrate.choose_tau with tol: the taus whose top-1 is within tol of tau = 0's compete
        on mean recall; tol 0 is the rule as shipped."""
        z, y = shifted_scores(seed=7)
        shift = np.array([0.0, 0.0, 2.0])  # past tau 0.34 more class-2 recall costs top-1
        tau0, table = dr.calibrate.choose_tau(z, y, shift)
        base = table[0][1]
        for tol in (0.0, 0.005, 0.02):
            tau, _ = dr.calibrate.choose_tau(z, y, shift, tol)
            row = next(r for r in table if r[0] == tau)
            self.assertGreaterEqual(row[1], base - tol - 1e-12)
            self.assertEqual(row[2], max(r[2] for r in table if r[1] >= base - tol - 1e-12))
        self.assertEqual(tau0, dr.calibrate.choose_tau(z, y, shift, 0.0)[0])
        # a tolerance that admits every tau takes the one with the most recall (here a different one)
        self.assertNotEqual(tau0, max(table, key=lambda r: (r[2], -r[0]))[0])
        self.assertEqual(dr.calibrate.choose_tau(z, y, shift, 1.0)[0], max(table, key=lambda r: (r[2], -r[0]))[0])

    def test_threshold_scores(self):
        """What each threshold rule reads: the model's own probabilities, or softmax(z + bias),
        the probabilities a calibrated file hands out."""
        z, y = shifted_scores(n=20)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        bias = np.array([0.0, 0.5, 1.0])
        np.testing.assert_array_equal(dr.model_probs(z, p, bias), p)
        q = np.exp(z + bias) / np.exp(z + bias).sum(1, keepdims=True)
        np.testing.assert_allclose(dr.output_probs(z, p, bias), q, rtol=1e-12)

    def test_cross_validate_scores_the_held_out_half_with_the_fitted_bias(self):
        z, y = shifted_scores(n=300)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        seen = []

        def on(zz, pp, bias):
            seen.append((len(zz), bias.copy()))
            return pp
        fitted = np.array([0.0, 0.25, 0.75])
        saved = dr.RULES
        try:
            dr.RULES = [("probe", lambda zz, pp, yy, prior: (fitted, np.array([0, 0, 0.5]), on))]
            dr.cross_validate(p, y, np.array([0.5, 0.35, 0.15]), splits=1)
        finally:
            dr.RULES = saved
        self.assertEqual(len(seen), 2)
        self.assertEqual(sum(n for n, _ in seen), 300)  # each held-out half, scored once
        for _, bias in seen:
            np.testing.assert_array_equal(bias, fitted)

    def test_halves_partition_every_class(self):
        y = np.array([0] * 10 + [1] * 5 + [2] * 3)
        a, b = dr.stratified_halves(y, np.random.default_rng(0))
        self.assertEqual(sorted(np.concatenate([a, b]).tolist()), list(range(len(y))))
        for c in range(3):
            self.assertLessEqual(abs((y[a] == c).sum() - (y[b] == c).sum()), 1)

    def test_cross_validate_scores_every_rule_on_both_halves(self):
        z, y = shifted_scores(n=300)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        out = dr.cross_validate(p, y, np.array([0.5, 0.35, 0.15]), splits=1)
        self.assertEqual(set(out), {name for name, _ in dr.RULES})
        for rows in out.values():
            self.assertEqual(rows.shape, (2, 5))
            self.assertTrue(np.all((rows[:, :4] >= 0) & (rows[:, :4] <= 1)))
            self.assertTrue(np.all(np.isnan(rows[:, 4])))  # 3 classes: no disgust column


if __name__ == "__main__":
    unittest.main()
