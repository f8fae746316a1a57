"""training/live_teacher.py: an ensemble file as a teacher that scores the student's own batch."""
import json
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

SPEC = dict(height=48, width=48, channels=1, mean=0.5, std=0.25)


def tiny_ensemble(tmp, weights, spec=SPEC):
    """A flip-TTA file of a lite and a resnet-s (fp16, BatchNorm folded) and the two nets
    (also test_view_tta's ensemble)."""
    import export_emx
    from test_train import folded_fp16
    g = torch.Generator().manual_seed(3)
    nets = [folded_fp16(a, g)[1] for a in ("lite", "resnet-s")]
    path = os.path.join(tmp, "ens.emx")
    export_emx.export_ensemble(nets, weights, path, spec, fp16=True, flip_tta=True)
    return path, nets


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class LiveTeacherTest(unittest.TestCase):
    def test_weighted_mean_of_the_members_on_the_given_view(self):
        import emx_format as ef
        from live_teacher import LiveTeacher, member_weights
        x = torch.randn(6, 1, 48, 48, generator=torch.Generator().manual_seed(4))
        with tempfile.TemporaryDirectory() as tmp:
            path, nets = tiny_ensemble(tmp, [0.25, 0.75])
            np.testing.assert_allclose(member_weights(ef.read(path), 2), [0.25, 0.75], atol=1e-6)
            teacher = LiveTeacher(path, ["lite", "resnet-s"])
            got = teacher(x)
            with torch.no_grad():
                want = 0.25 * torch.softmax(nets[0](x), 1) + 0.75 * torch.softmax(nets[1](x), 1)
            np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-4)
            self.assertFalse(got.requires_grad)
            # the view it is given, not its flip-averaged prediction: a flipped batch differs
            self.assertGreater(float((teacher(torch.flip(x, [3])) - got).abs().max()), 1e-3)
            with self.assertRaises(SystemExit):  # member 0 is a lite
                LiveTeacher(path, ["resnet-s", "lite"])

    def test_train_with_a_live_teacher(self):
        import train
        from test_train import make_ferplus
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "ferplus")
            make_ferplus(data)
            path, _ = tiny_ensemble(tmp, [0.5, 0.5])
            base = ["--data", data, "--quick", "--threads", "1", "--batch", "16", "--arch", "lite"]
            out = os.path.join(tmp, "kd")
            train.main(base + ["--out", out, "--teacher-model", path,
                               "--teacher-archs", "lite,resnet-s", "--alpha", "1"])
            ck = torch.load(os.path.join(out, "best.pt"), map_location="cpu")
            self.assertEqual(ck["args"]["teacher_archs"], "lite,resnet-s")
            # alpha 1: the loss is the teacher term alone, so it is not the vote targets' loss
            train.main(base + ["--out", os.path.join(tmp, "none"), "--alpha", "1"])
            loss = [[h["loss"] for h in json.load(open(os.path.join(tmp, d, "history.json")))["history"]]
                    for d in ("kd", "none")]
            self.assertGreater(abs(loss[0][0] - loss[1][0]), 1e-3)
            with self.assertRaises(SystemExit):  # the archs say what the file's members are
                train.main(base + ["--out", os.path.join(tmp, "x"), "--teacher-model", path])
            other, _ = tiny_ensemble(tmp, [0.5, 0.5], dict(SPEC, mean=0.4))
            with self.assertRaises(SystemExit):  # another input normalisation than the student's
                train.main(base + ["--out", os.path.join(tmp, "y"), "--teacher-model", other,
                                   "--teacher-archs", "lite,resnet-s"])

    def test_teacher_view(self):
        """--teacher-view geometric: the teacher scores each image before the photometric
        changes (what the face is, whatever the degradation); batch: the student's very view."""
        from unittest import mock
        import train
        from test_train import make_ferplus
        seen = []

        class Recording:  # stands in for LiveTeacher: remembers the mean of what it is shown
            mean, std = train.MEAN, train.STD

            def __init__(self, *args):
                pass

            def __call__(self, x):
                seen.append(float(x.mean()))
                return torch.full((x.shape[0], 8), 1 / 8)

        def marked(x, gen, p):  # the photometric change, made unmistakable
            return x + 100.0

        with tempfile.TemporaryDirectory() as tmp, \
                mock.patch("live_teacher.LiveTeacher", Recording), \
                mock.patch.object(train, "photometric", marked):
            data = os.path.join(tmp, "ferplus")
            make_ferplus(data)
            base = ["--data", data, "--quick", "--threads", "1", "--batch", "16", "--arch", "lite",
                    "--photometric", "0.5", "--teacher-model", "unused.emx", "--teacher-archs", "lite"]
            for view, degraded in (("geometric", False), ("batch", True)):
                seen.clear()
                # --teacher-balance reaches the live rows too (soften's third argument)
                with mock.patch.object(train, "soften", wraps=train.soften) as spy:
                    train.main(base + ["--out", os.path.join(tmp, view), "--teacher-view", view,
                                       "--teacher-balance", "0.5"])
                self.assertTrue(seen)
                self.assertTrue(all((m > 50) == degraded for m in seen), (view, seen[:3]))
                self.assertEqual(len(spy.call_args_list), len(seen))
                self.assertTrue(all(c.args[2] is not None for c in spy.call_args_list))
            with self.assertRaises(SystemExit):  # precomputed targets have no view to choose
                train.main(["--data", data, "--quick", "--out", os.path.join(tmp, "x"),
                            "--teacher-view", "geometric"])

    def test_pipeline_live_teacher(self):
        """A Lite recipe with "distillation": {"live": true}: the teacher is the model file and
        its members' architectures (no probabilities on Train computed), and each student run
        gets it as --teacher-model."""
        import pipeline
        from test_train import make_ferplus, skip_unless_git_checkout
        skip_unless_git_checkout(self)
        # a revision whose ensemble these are (pinned: the shipped file's members change with it)
        archs = ["sewide-s", "resnet-s", "lite-w", "lite", "lite"]
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "ferplus")
            make_ferplus(data)
            ctx = type("Ctx", (), dict(runs=tmp, data=data, quick=True, threads=1))
            recipe = dict(path=os.path.join(tmp, "r.json"), teacher_model="ff0eca9:models/emoxnet.emx",
                          distillation=dict(alpha=0.7, temperature=1, live=True, teacher_archs=archs))
            name, kd = pipeline.lite_teacher(ctx, recipe, [{}])
            self.assertTrue(name.endswith("(live, batch view)"), name)  # the ablation table's row
            geo = dict(recipe, distillation=dict(recipe["distillation"], view="geometric"))
            self.assertTrue(pipeline.lite_teacher(ctx, geo, [{}])[0].endswith("(live, geometric view)"))
            self.assertEqual(kd["archs"], archs)
            self.assertNotIn("probs", kd)
            self.assertEqual((kd["alpha"], kd["temperature"]), (0.7, 1))
            self.assertFalse(any(f.startswith("teacher-") for f in os.listdir(tmp)))  # no WASM pass
            with self.assertRaises(SystemExit):  # a file alone does not say its members' networks
                pipeline.lite_teacher(ctx, dict(recipe, distillation=dict(alpha=0.7, temperature=1,
                                                                          live=True)), [{}])
            with self.assertRaises(SystemExit):  # precomputed probabilities have no view
                pipeline.lite_teacher(ctx, dict(recipe, distillation=dict(
                    alpha=0.7, temperature=1, view="geometric")), [{}])
            m = dict(name="s", arch="lite", epochs=2, lr=0.01, seed=1, batch=16)
            for view in ("batch", "geometric"):
                dist = dict(recipe["distillation"], view=view) if view != "batch" else recipe["distillation"]
                _, kd = pipeline.lite_teacher(ctx, dict(recipe, distillation=dist), [{}])
                ck = pipeline.train_member(ctx, m, kd, suffix="-kd-" + view)
                with open(os.path.join(os.path.dirname(ck), "history.json")) as f:
                    args = json.load(f)["args"]
                self.assertEqual(args["teacher_model"], kd["model"])
                self.assertEqual(args["teacher_archs"], ",".join(archs))
                self.assertEqual(args["teacher_view"], view)
                self.assertIsNone(args["teacher"])


if __name__ == "__main__":
    unittest.main()
