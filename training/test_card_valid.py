"""training/card_valid.py: rewriting a card's FER+ Valid section in place (NumPy only)."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import card_valid  # noqa: E402
import ferplus  # noqa: E402

MODEL = os.path.join(HERE, "..", "models", "emoxnet-lite.emx")


def ev(acc, contempt_row):
    n = len(ferplus.CLASSES)
    confusion = [[0] * n for _ in range(n)]
    confusion[-1] = contempt_row
    return dict(accuracy=acc, n=3191, mean_class_recall=0.7, ece=0.02,
                per_class={c: 0.5 for c in ferplus.CLASSES}, per_class_n={c: 10 for c in ferplus.CLASSES},
                confusion=confusion)


class CardValidTest(unittest.TestCase):
    def test_rewrites_the_section_once_and_keeps_the_rest(self):
        """The section ends at the confusion matrix's contempt row, not at the per-class table's
        (session 22: the old matrix was left under the new one)."""
        with tempfile.TemporaryDirectory() as tmp:
            card = os.path.join(tmp, "card.md")
            section = "\n".join(card_valid.valid_section(ev(0.8, [1] * 8), MODEL, {}))
            with open(card, "w") as f:
                f.write("# Card\n\n| File | `m.emx` (1 bytes, fp16) |\n\n" + section + "\n\n## Robustness\n\nkept\n")
            card_valid.replace_in_card(card, MODEL, ev(0.9, [2] * 8))
            text = open(card).read()
        self.assertEqual(text.count("Confusion matrix"), 1)
        self.assertEqual(text.count(card_valid.HEADING), 1)
        self.assertIn("**90.00%**", text)
        self.assertNotIn("**80.00%**", text)
        self.assertIn("| contempt | 2 | 2 |", text)
        self.assertNotIn("| contempt | 1 | 1 |", text)
        self.assertTrue(text.endswith("## Robustness\n\nkept\n"))
        self.assertIn(f"({os.path.getsize(MODEL):,} bytes", text)


if __name__ == "__main__":
    unittest.main()
