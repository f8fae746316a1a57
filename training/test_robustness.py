"""training/robustness.py: its perturbations do what their names say (PIL + NumPy only)."""
import os
import sys
import unittest

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import robustness as rb  # noqa: E402


def face():
    a = np.zeros((48, 48), np.uint8)
    a[10:20, 30:40] = 255          # a bright block right of centre, in the upper half
    return Image.fromarray(a)


def centroid(img):
    a = np.asarray(img).astype(np.float64)
    ys, xs = np.mgrid[:a.shape[0], :a.shape[1]]
    return (a * xs).sum() / a.sum(), (a * ys).sum() / a.sum()


class RobustnessTest(unittest.TestCase):
    def test_every_condition_has_its_own_folder(self):
        names = [rb.slug(n) for n, _ in rb.PERTURBATIONS]
        self.assertEqual(len(set(names)), len(names), names)

    def test_reframe_identity_shift_scale_rotation(self):
        im = face()
        np.testing.assert_array_equal(np.asarray(rb.reframe(im)), np.asarray(im))
        cx, cy = centroid(im)
        # the crop moves right-down, so the content moves left-up by 10% of the side
        sx, sy = centroid(rb.reframe(im, dx=0.1, dy=0.1))
        self.assertAlmostEqual(sx, cx - 4.8, delta=0.6)
        self.assertAlmostEqual(sy, cy - 4.8, delta=0.6)
        # a tighter crop (0.85) magnifies: the block moves away from the centre
        zx, _ = centroid(rb.reframe(im, scale=0.85))
        self.assertAlmostEqual(zx - 24, (cx - 24) / 0.85, delta=0.6)
        # +15 degrees turns the content counter-clockwise on screen: a point right of centre
        # (above it) moves up
        _, ry = centroid(rb.reframe(im, degrees=15))
        self.assertLess(ry, cy - 1.0)

    def test_photometric(self):
        im = Image.fromarray(np.full((48, 48), 128, np.uint8))
        self.assertGreater(np.asarray(rb.gamma(im, 0.6)).mean(), 128)
        self.assertLess(np.asarray(rb.gamma(im, 1.6)).mean(), 128)
        noisy = np.asarray(rb.noise(im, 8.0, seed=1)).astype(float)
        self.assertAlmostEqual(noisy.std(), 8.0, delta=1.0)
        np.testing.assert_array_equal(noisy, np.asarray(rb.noise(im, 8.0, seed=1)))


if __name__ == "__main__":
    unittest.main()


class CardSectionTest(unittest.TestCase):
    """write_card puts the table before "## Training", and rewrites it in place, each time with a
    blank line before the next heading (a heading glued to the table's last row is not markdown
    every renderer reads as a heading)."""

    def test_inserted_and_replaced_with_a_blank_line_before_the_next_heading(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            card = os.path.join(tmp, "card.md")
            with open(card, "w") as f:
                f.write("# M\n\ntext\n\n## Training\n\nhow\n")
            for rows in (["| a | 1 |"], ["| b | 2 |"]):
                rb.write_card(card, "m.emx", rows)
                with open(card) as f:
                    text = f.read()
                self.assertIn(rows[0] + "\n\n## Training\n", text)
                self.assertEqual(text.count("## Robustness"), 1)
                self.assertTrue(text.startswith("# M\n\ntext\n\n## Robustness"), text)


class ScoreCacheTest(unittest.TestCase):
    """Each set's score is kept under the model's bytes (and the scorer's), so a candidate judged
    before it ships is not scored again when it ships, and a changed model is."""

    def test_scores_reused_for_the_same_model_and_redone_for_another(self):
        import tempfile
        from unittest import mock
        with tempfile.TemporaryDirectory() as tmp:
            valid = os.path.join(tmp, "valid")
            os.makedirs(valid)
            with open(os.path.join(valid, "label.csv"), "w") as f:
                for i in range(2):
                    face().save(os.path.join(valid, f"f{i}.png"))
                    f.write(f'f{i}.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0\n')
            model = os.path.join(tmp, "m.emx")
            with open(model, "wb") as f:
                f.write(b"model A")
            calls = []

            def fake_eval(folder, m):
                calls.append(folder)
                return {"accuracy": 0.5, "mean_class_recall": 0.5}

            argv = [valid, "--model", model, "--work", os.path.join(tmp, "work"), "--jobs", "2"]
            with mock.patch.object(rb, "evaluate", fake_eval):
                first = rb.main(argv)
                self.assertEqual(len(calls), len(rb.PERTURBATIONS) + 1)  # every set and clean
                self.assertEqual(rb.main(argv), first)
                self.assertEqual(len(calls), len(rb.PERTURBATIONS) + 1)  # all read back
                with open(model, "wb") as f:
                    f.write(b"model B")
                rb.main(argv)
                self.assertEqual(len(calls), 2 * (len(rb.PERTURBATIONS) + 1))
