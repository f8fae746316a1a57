"""models.FaceLite: a Lite cut from the pretrained face backbone. Its init takes the blocks it
keeps bit for bit from a whole backbone's weights, gives itself a fresh head, refuses weights
that lack a block (export and import: test_train's every-arch tests)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import torch
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class FaceLiteTest(unittest.TestCase):
    def setUp(self):
        import models
        torch.manual_seed(0)
        self.whole = models.build("faceres").state_dict()   # stands for faceres-init.pt
        self.lite = models.build("facelite")

    def test_keeps_the_pretrained_blocks_and_a_fresh_head(self):
        state = self.lite.adapt_init(self.whole)
        self.lite.load_state_dict(state)
        for k, v in self.lite.state_dict().items():
            if k.startswith("fc."):
                self.assertEqual(tuple(v.shape)[-1:], (512,) if k == "fc.weight" else (8,))
            else:
                self.assertTrue(torch.equal(v, self.whole[k]), k)
        self.assertFalse(any(k.startswith("blocks.6.") for k in state))

    def test_its_own_checkpoint_loads_unchanged(self):
        own = {k: v.clone() for k, v in self.lite.state_dict().items()}
        state = self.lite.adapt_init(own)
        self.assertTrue(all(torch.equal(state[k], own[k]) for k in own))

    def test_refuses_weights_without_a_block(self):
        partial = {k: v for k, v in self.whole.items() if not k.startswith("blocks.5.")}
        with self.assertRaises(ValueError):
            self.lite.adapt_init(partial)


if __name__ == "__main__":
    unittest.main()
