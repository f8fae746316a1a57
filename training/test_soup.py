"""training/soup.py: interpolation ends and midpoint, refusals, BatchNorm re-measured."""
import json
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soup  # noqa: E402
from models import build  # noqa: E402


def random_state(arch, seed):
    torch.manual_seed(seed)
    model = build(arch)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return model.state_dict()


class SoupTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.sa, self.sb = random_state("lite", 1), random_state("lite", 2)
        self.a, self.b = (os.path.join(self.dir.name, n) for n in ("a.pt", "b.pt"))
        torch.save(dict(arch="lite", state_dict=self.sa, mean=0.5, std=0.25), self.a)
        torch.save(dict(arch="lite", state_dict=self.sb, mean=0.5, std=0.25), self.b)

    def tearDown(self):
        self.dir.cleanup()

    def run_soup(self, alpha, *extra, b=None):
        out = os.path.join(self.dir.name, f"out-{alpha}.pt")
        soup.main([self.a, b or self.b, out, "--alpha", str(alpha), *extra])
        return torch.load(out)

    def test_ends_and_midpoint(self):
        for alpha, want in ((0.0, self.sa), (1.0, self.sb)):
            got = self.run_soup(alpha)["state_dict"]
            for k in want:
                self.assertTrue(torch.equal(got[k], want[k]), (alpha, k))
        mid = self.run_soup(0.5)["state_dict"]
        k = next(k for k in mid if k.endswith("weight"))
        torch.testing.assert_close(mid[k], (self.sa[k] + self.sb[k]) / 2)
        self.assertEqual(mid[k].dtype, torch.float32)

    def test_last_pt_takes_the_moving_average_and_the_runs_arch(self):
        run = os.path.join(self.dir.name, "run")
        os.makedirs(run)
        torch.save(dict(model=self.sa, ema=self.sb), os.path.join(run, "last.pt"))
        with open(os.path.join(run, "history.json"), "w") as f:
            json.dump(dict(args=dict(arch="lite")), f)
        got = self.run_soup(1.0, b=os.path.join(run, "last.pt"))["state_dict"]
        k = next(iter(self.sb))
        self.assertTrue(torch.equal(got[k], self.sb[k]))

    def test_refuses_other_networks_and_alpha_outside(self):
        other = os.path.join(self.dir.name, "w.pt")
        torch.save(dict(arch="lite-w", state_dict=random_state("lite-w", 3)), other)
        with self.assertRaises(SystemExit):
            self.run_soup(0.5, b=other)
        with self.assertRaises(SystemExit):
            self.run_soup(1.5)
        # the same architecture name but not the same tensors (a missing one, a reshaped one)
        for change in ("drop", "reshape"):
            sd = dict(self.sb)
            k = next(k for k in sd if k.endswith("weight"))
            if change == "drop":
                del sd[k]
            else:
                sd[k] = sd[k].reshape(-1)
            odd = os.path.join(self.dir.name, f"{change}.pt")
            torch.save(dict(arch="lite", state_dict=sd), odd)
            out = os.path.join(self.dir.name, "o.pt")
            for argv in ([self.a, odd, out, "--alpha", "0.5"], [self.a, self.b, odd, out, "--mean"]):
                with self.assertRaises(SystemExit, msg=(change, argv)):
                    soup.main(argv)

    def test_mean_of_three_is_the_uniform_average(self):
        c = os.path.join(self.dir.name, "c.pt")
        sc = random_state("lite", 3)
        torch.save(dict(arch="lite", state_dict=sc, mean=0.5, std=0.25), c)
        out = os.path.join(self.dir.name, "mean.pt")
        soup.main([self.a, self.b, c, out, "--mean"])
        got = torch.load(out)["state_dict"]
        for k, v in got.items():
            if v.is_floating_point():
                torch.testing.assert_close(v, (self.sa[k] + self.sb[k] + sc[k]) / 3)
            else:
                self.assertTrue(torch.equal(v, sc[k]), k)

    def test_refuses_wrong_counts(self):
        out = os.path.join(self.dir.name, "x.pt")
        for argv in ([self.a, out, "--mean"], [self.a, self.b, self.a, out, "--alpha", "0.5"],
                     [self.a, self.b, out]):
            with self.assertRaises(SystemExit, msg=argv):
                soup.main(argv)

    def test_batchnorm_remeasured_is_the_plain_average(self):
        model = build("lite")
        model.load_state_dict(self.sa)
        x = torch.randn(64, 1, 48, 48)
        soup.remeasure_batchnorm(model, x, batch=16)
        bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
        self.assertFalse(bn.training)
        self.assertEqual(bn.momentum, 0.1)
        # the first BatchNorm sees the first convolution's output: its mean over all of x
        conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
        with torch.no_grad():
            want = conv(x).mean((0, 2, 3))
        torch.testing.assert_close(bn.running_mean, want, rtol=1e-4, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
