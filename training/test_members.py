"""training/members.py: the heads it cuts out of an ensemble recompute the ensemble (NumPy oracle;
no PyTorch, no Node)."""
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emx_format as ef  # noqa: E402
import emx_numpy_ref  # noqa: E402
import members  # noqa: E402

ENSEMBLE = os.path.join(HERE, "..", "tests", "golden", "ensemble.emx")   # 2 members, flip TTA


class MembersTest(unittest.TestCase):
    def test_heads_pair_views_and_their_weighted_mean_is_the_ensemble(self):
        m = ef.read(ENSEMBLE)
        heads = members.member_heads(m, "golden")
        self.assertEqual(len(heads), 2)
        mean = m.ops[m.outputs[0] - 1]
        self.assertEqual(mean.type, ef.OP_WEIGHTED_MEAN)
        weights = dict(zip(mean.inputs, m.tensors[mean.tensors[0]].data.reshape(-1)))
        x = np.random.default_rng(3).random((m.input.height, m.input.width, m.input.channels))
        total = np.zeros(len(m.class_names))
        for name, plain, flipped in heads:
            self.assertIsNotNone(flipped)
            for value in (plain, flipped):
                cut = ef.from_bytes(ef.to_bytes(members.head_model(m, value, name)))  # a valid file
                self.assertLess(len(cut.ops), len(m.ops))
                self.assertLessEqual(len(cut.tensors), len(m.tensors))
                total += weights[value] * emx_numpy_ref.predict(cut, x)
            # the mirrored view runs one FLIP_W more (the 64x64 member also flips inside itself)
            flips = [sum(o.type == ef.OP_FLIP_W for o in members.head_model(m, v, name).ops) for v in (plain, flipped)]
            self.assertEqual(flips[1], flips[0] + 1)
        np.testing.assert_allclose(total / sum(weights.values()), emx_numpy_ref.predict(m, x), rtol=1e-6, atol=1e-7)


if __name__ == "__main__":
    unittest.main()
