"""training/view_tta.py: the reframed views move the face as named, and the table's rows are
the file's ensemble averaged over each view and its mirror image."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class ViewTtaTest(unittest.TestCase):
    def test_reframe(self):
        from view_tta import reframe
        x = torch.rand(2, 1, 48, 48, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(reframe(x), x)
        right = reframe(x, dx=1 / 48)          # one pixel right: column c shows column c - 1
        torch.testing.assert_close(right[..., 1:], x[..., :-1])
        down = reframe(x, dy=2 / 48)
        torch.testing.assert_close(down[..., 2:, :], x[..., :-2, :])
        centre = torch.zeros(1, 1, 48, 48)
        centre[..., 20:28, 20:28] = 1
        self.assertGreater(float(reframe(centre, zoom=1.5).sum()), 1.5 * float(centre.sum()))  # zoom in: larger
        rot = reframe(torch.arange(48.0).expand(1, 1, 48, 48), degrees=90)  # columns become rows
        self.assertLess(float((rot[0, 0, 10, 5:43] - rot[0, 0, 10, 5]).abs().max()), 1e-3)

    def test_rows_are_the_flip_averaged_ensemble(self):
        import view_tta
        from live_teacher import LiveTeacher
        from test_live_teacher import tiny_ensemble
        from test_train import make_ferplus
        with tempfile.TemporaryDirectory() as tmp:
            path, _ = tiny_ensemble(tmp, [0.4, 0.6])
            make_ferplus(os.path.join(tmp, "data"))
            probs = view_tta.main([path, "--archs", "lite,resnet-s", "--data", os.path.join(tmp, "data")])
            self.assertEqual(set(probs), set(view_tta.VIEWS))
            import train
            _, (images, _, _) = train.load_data(os.path.join(tmp, "data"))
            x = train.to_input(images, "cpu")
            t = LiveTeacher(path, ["lite", "resnet-s"])
            want = 0.5 * (t(x) + t(torch.flip(x, [3])))
            np.testing.assert_allclose(probs["as given"].numpy(), want.numpy(), atol=1e-5)
            shifted = view_tta.reframe(x, dx=1 / 24)
            want = 0.5 * (t(shifted) + t(torch.flip(shifted, [3])))
            np.testing.assert_allclose(probs["shift right"].numpy(), want.numpy(), atol=1e-5)


if __name__ == "__main__":
    unittest.main()
