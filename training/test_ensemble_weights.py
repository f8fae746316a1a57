"""ensemble_weights.choose_within: the size budget the ensemble's member choice respects."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ensemble_weights import choose_weights, choose_within  # noqa: E402


def member(labels, right, rng, n_classes=4):
    """Probabilities that put 0.7 on the label for the faces in right, on a wrong class elsewhere."""
    p = np.full((len(labels), n_classes), 0.1)
    guess = np.where(right, labels, (labels + 1 + rng.integers(0, n_classes - 1, len(labels))) % n_classes)
    p[np.arange(len(labels)), guess] = 0.7
    return p


class ChooseWithinTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.labels = rng.integers(0, 4, 400)
        self.soft = np.eye(4)[self.labels]
        self.good = member(self.labels, rng.random(400) < 0.9, rng)
        self.weak = [member(self.labels, rng.random(400) < 0.5, rng) for _ in range(2)]

    def test_under_budget_is_choose_weights(self):
        probs = [self.good] + self.weak
        keep, w = choose_within(probs, self.labels, self.soft, [10, 6, 6], 22)
        self.assertEqual(keep, [0, 1, 2])
        np.testing.assert_allclose(w, choose_weights(probs, self.labels, self.soft))

    def test_leaves_out_what_costs_least(self):
        # the good member alone fits; the two weak ones together would fit too, and score less
        keep, w = choose_within([self.good] + self.weak, self.labels, self.soft, [10, 6, 6], 12)
        self.assertEqual(keep, [0])
        np.testing.assert_allclose(w, [1.0])

    def test_keeps_a_member_that_fits(self):
        # the better member is over the budget on its own: the one that fits stays
        keep, _ = choose_within([self.good, self.weak[0]], self.labels, self.soft, [10, 1], 5)
        self.assertEqual(keep, [1])

    def test_nothing_fits(self):
        with self.assertRaises(ValueError):
            choose_within([self.good], self.labels, self.soft, [10], 5)


if __name__ == "__main__":
    unittest.main()
