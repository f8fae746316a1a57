"""Tests of the training pipeline on a tiny synthetic FER+-layout folder (no ../shared data):
train.py --quick for 'lite' and one ensemble member (with mixup, distillation and temperature),
and the .emx exporter on every architecture in models.ARCHS (NumPy reference vs PyTorch).

    /usr/bin/python3 -m unittest training/test_train.py
"""
import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import torch
    torch.set_num_threads(1)
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def make_ferplus(root, n_train=48, n_valid=24, seed=0):
    """FER+ layout: root/FER2013Train and root/FER2013Valid, each with label.csv + 48x48 PNGs.
    Each image's class is drawn into it (a bright square at a class-dependent place)."""
    from PIL import Image
    rng = np.random.RandomState(seed)
    for sub, n in (("FER2013Train", n_train), ("FER2013Valid", n_valid)):
        d = os.path.join(root, sub)
        os.makedirs(d)
        rows = []
        for i in range(n):
            c = i % 8
            img = rng.randint(0, 120, (48, 48)).astype(np.uint8)
            y, x = 4 + (c // 4) * 22, 4 + (c % 4) * 10
            img[y:y + 16, x:x + 8] = 230
            name = f"fer{i:07d}.png"
            Image.fromarray(img).save(os.path.join(d, name))
            votes = [0] * 10
            votes[c] = 8
            votes[(c + 1) % 8] = 2
            rows.append(f"{name},\"(0, 0, 48, 48)\"," + ",".join(map(str, votes)))
        with open(os.path.join(d, "label.csv"), "w") as f:
            f.write("\n".join(rows) + "\n")


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class TrainQuickTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "ferplus")
        make_ferplus(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_train(self, name, *extra):
        import train
        out = os.path.join(self.tmp.name, name)
        train.main(["--data", self.data, "--out", out, "--quick", "--threads", "1",
                    "--batch", "16"] + list(extra))
        torch.set_num_threads(1)
        ck = torch.load(os.path.join(out, "best.pt"), map_location="cpu")
        with open(os.path.join(out, "history.json")) as f:
            hist = json.load(f)["history"]
        self.assertEqual(len(hist), 2)
        self.assertTrue(all(np.isfinite(h["loss"]) for h in hist))
        self.assertIn("state_dict", ck)
        return out, ck

    def test_lite_and_member_distilled(self):
        out, ck = self.run_train("lite", "--arch", "lite", "--mix", "cutmix", "--mix-alpha", "1")
        self.assertEqual(ck["arch"], "lite")
        _, ck = self.run_train("lite-ema", "--arch", "lite", "--ema", "0.9")
        self.assertEqual(ck["args"]["ema"], 0.9)
        self.assertTrue(all(v.is_contiguous() for v in ck["state_dict"].values()))
        # a teacher file (uniform-ish probabilities, one row per Train image) for distillation
        import ferplus
        _, votes = ferplus.read_label_csv(os.path.join(self.data, "FER2013Train"))
        rng = np.random.RandomState(1)
        t = rng.dirichlet(np.ones(8), len(votes)).astype(np.float32)
        tpath = os.path.join(self.tmp.name, "teacher.npy")
        np.save(tpath, t)
        _, ck = self.run_train("sewide", "--arch", "sewide", "--mix", "mixup",
                               "--teacher", tpath, "--alpha", "0.5", "--temperature", "3")
        self.assertEqual(ck["arch"], "sewide")
        self.assertEqual(ck["args"]["temperature"], 3.0)
        # --teacher-balance tau: the teacher's rows go through soften with tau * log(Train prior)
        # (this synthetic Train's prior is uniform, so the shift itself is checked, not the loss)
        from unittest import mock
        import train
        for tau in (0.0, 0.5):
            with mock.patch.object(train, "soften", wraps=train.soften) as spy:
                _, ck = self.run_train(f"bal{tau}", "--arch", "lite", "--teacher", tpath,
                                       "--teacher-balance", str(tau))
            shifts = [c.args[2] if len(c.args) > 2 else c.kwargs.get("balance") for c in spy.call_args_list]
            if tau:
                self.assertTrue(torch.allclose(shifts[0].cpu(), torch.full((8,), tau * np.log(1 / 8))))
            else:
                self.assertIsNone(shifts[0])
            self.assertEqual(ck["args"]["teacher_balance"], tau)
        with self.assertRaises(SystemExit):  # nothing to balance without a teacher
            self.run_train("bal-none", "--arch", "lite", "--teacher-balance", "1")

    def test_part_of_a_pretrained_backbone(self):
        # facelite --init a whole faceres state dict (as faceres-init.pt): its blocks start from
        # those weights (the run's own init, before any step, is what adapt_init kept)
        from models import build
        whole = os.path.join(self.tmp.name, "whole.pt")
        torch.save({"state_dict": build("faceres").state_dict()}, whole)
        _, ck = self.run_train("facelite", "--arch", "facelite", "--init", whole)
        self.assertEqual(ck["arch"], "facelite")
        self.assertNotIn("blocks.6.0.weight", ck["state_dict"])

    def test_photometric(self):
        import train
        g = torch.Generator().manual_seed(0)
        x = torch.rand(16, 1, 48, 48) * 4 - 2                 # the normalised input range
        self.assertTrue(torch.equal(train.photometric(x, g, 0.0), x.clamp(-2, 2)))
        y = train.photometric(x, torch.Generator().manual_seed(1), 1.0)
        self.assertEqual(y.shape, x.shape)
        self.assertTrue(bool((y >= -2).all() and (y <= 2).all()))
        self.assertGreater(float((y - x).abs().mean()), 0.05)  # every change applied
        again = train.photometric(x, torch.Generator().manual_seed(1), 1.0)
        self.assertTrue(torch.equal(y, again))                 # seeded: reproducible runs
        out, _ = self.run_train("photo", "--photometric", "0.5")

    def test_jpeg(self):
        """--jpeg: off at p 0 (the same tensor), every image re-encoded at p 1 (what PIL's
        decoder gives back for that image at some quality 20..90, so close to it on a smooth
        face but not equal), seeded, and recorded in the run's settings."""
        import io
        from PIL import Image
        import train
        yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
        smooth = ((xx + yy) / 94.0 * 255).round()                 # a 0..255 ramp, whole grey levels
        x = ((smooth / 255.0 - train.MEAN) / train.STD).expand(6, 1, 48, 48).clone()
        self.assertIs(train.jpeg(x, torch.Generator().manual_seed(0), 0.0), x)
        y = train.jpeg(x, torch.Generator().manual_seed(1), 1.0)
        diff = ((y - x) * train.STD * 255).abs().flatten(1)
        self.assertTrue(bool((diff.max(1).values > 0).all()))     # every image changed ...
        self.assertLess(float(diff.mean()), 6.0)                  # ... by compression, not noise
        self.assertTrue(torch.equal(y, train.jpeg(x, torch.Generator().manual_seed(1), 1.0)))
        qualities = set()
        for q in range(20, 91):
            buf = io.BytesIO()
            Image.fromarray(smooth.numpy().astype(np.uint8)).save(buf, format="JPEG", quality=q)
            dec = torch.from_numpy(np.asarray(Image.open(buf), dtype=np.float32))
            for i in range(6):
                if torch.equal((dec / 255.0 - train.MEAN) / train.STD, y[i, 0]):
                    qualities.add(q)
        self.assertTrue(qualities)                                # a real JPEG round trip
        out, ck = self.run_train("jpeg", "--jpeg", "0.5", "--keep-epochs")
        self.assertEqual(ck["args"]["jpeg"], 0.5)
        for e in (1, 2):  # --keep-epochs: each epoch's evaluated model, loadable like best.pt
            kept = torch.load(os.path.join(out, f"epoch{e}.pt"), map_location="cpu")
            self.assertEqual(kept["epoch"], e)
            self.assertEqual(set(kept["state_dict"]), set(ck["state_dict"]))
        best = torch.load(os.path.join(out, f"epoch{ck['epoch']}.pt"), map_location="cpu")
        for k, v in ck["state_dict"].items():
            self.assertTrue(torch.equal(v, best["state_dict"][k]), k)

    def test_consistency(self):
        """--consistency: the Jensen-Shannon term is 0 for equal predictions, symmetric, at most
        ln 2; in training the labels fit the undegraded half of a doubled batch and the term
        compares the two halves; without a degraded view (or with mixing) the run is refused."""
        from unittest import mock
        import torch.nn.functional as F
        import train
        z = torch.randn(5, 8)
        self.assertAlmostEqual(float(train.consistency_loss(z, z.clone())), 0.0, places=6)
        w = torch.randn(5, 8)
        self.assertAlmostEqual(float(train.consistency_loss(z, w)), float(train.consistency_loss(w, z)), places=6)
        self.assertGreater(float(train.consistency_loss(z, w)), 0.0)
        far = torch.full((1, 8), -30.0)
        a, b = far.clone(), far.clone()
        a[0, 0], b[0, 1] = 30.0, 30.0                            # disjoint certainties
        self.assertAlmostEqual(float(train.consistency_loss(a, b)), math.log(2), places=4)
        # --consistency-stop: KL(clean || degraded), 0 when equal, no gradient into the clean view
        zc, zd = z.clone().requires_grad_(), w.clone().requires_grad_()
        kl = train.consistency_loss(zc, zd, stop=True)
        kl.backward()
        self.assertAlmostEqual(float(kl), float(F.kl_div(F.log_softmax(w, 1), F.softmax(z, 1),
                                                         reduction="batchmean")), places=6)
        self.assertIsNone(zc.grad)
        self.assertGreater(float(zd.grad.abs().sum()), 0.0)
        self.assertAlmostEqual(float(train.consistency_loss(z, z.clone(), stop=True)), 0.0, places=6)
        with mock.patch.object(train, "batch_loss", wraps=train.batch_loss) as sup, \
                mock.patch.object(train, "consistency_loss", wraps=train.consistency_loss) as con:
            _, ck = self.run_train("cons", "--photometric", "1", "--consistency", "2")
        self.assertEqual(ck["args"]["consistency"], 2.0)
        self.assertEqual(sup.call_count, con.call_count)
        for s_call, c_call in zip(sup.call_args_list, con.call_args_list):
            clean, degraded = c_call.args[:2]
            self.assertEqual(clean.shape, degraded.shape)        # the two halves of one batch
            self.assertEqual(s_call.args[0].shape, clean.shape)  # labels on the clean half only
            self.assertTrue(torch.equal(s_call.args[0], clean))
        _, ck = self.run_train("cons-stop", "--jpeg", "1", "--consistency", "2", "--consistency-stop")
        self.assertTrue(ck["args"]["consistency_stop"])
        self.assertEqual(ck["epoch"], 1)                         # clean Valid flat: the first kept
        _, ck = self.run_train("cons-last", "--jpeg", "1", "--consistency", "2", "--select", "last")
        self.assertEqual(ck["epoch"], 2)                         # --select last: the cycle's end
        # --consistency-reframe: the degraded copy is a second framing of the same faces (a
        # second augment call, without erasing), not the clean view degraded
        framed, real_augment = [], train.augment

        def spy_augment(x, gen, **kw):
            out = real_augment(x, gen, **kw)
            framed.append((kw.get("erase_p"), out))
            return out
        with mock.patch.object(train, "augment", side_effect=spy_augment), \
                mock.patch.object(train, "jpeg", wraps=train.jpeg) as jp:
            _, ck = self.run_train("cons-frame", "--jpeg", "1", "--consistency", "1",
                                   "--consistency-reframe")
        self.assertTrue(ck["args"]["consistency_reframe"])
        self.assertEqual(len(framed), 2 * jp.call_count)
        for i, call in enumerate(jp.call_args_list):
            (clean_erase, clean), (frame_erase, frame) = framed[2 * i], framed[2 * i + 1]
            self.assertEqual((clean_erase, frame_erase), (None, 0.0))
            self.assertTrue(torch.equal(call.args[0], frame))   # degraded: the second framing
            self.assertFalse(torch.equal(frame, clean))
        for bad in (["--consistency", "1"], ["--consistency", "1", "--jpeg", "0.5", "--mix", "mixup"],
                    ["--jpeg", "0.5", "--consistency-reframe"]):
            with self.assertRaises(SystemExit):
                self.run_train("cons-bad", *bad)

    def test_stop_after(self):
        """--stop-after N ends the run after N epochs of the --epochs schedule: its epoch N is the
        same model as a full run's epoch N (the lr schedule, cosine after a short warm-up, is not
        shortened to N epochs), and --select last keeps it."""
        import train
        outs = {}
        for name, extra in (("full", []), ("cut", ["--stop-after", "1", "--select", "last"])):
            outs[name] = os.path.join(self.tmp.name, "stop-" + name)
            train.main(["--data", self.data, "--out", outs[name], "--quick", "--threads", "1",
                        "--batch", "16", "--seed", "3", "--warmup", "0.25", "--keep-epochs"] + extra)
        torch.set_num_threads(1)
        with open(os.path.join(outs["cut"], "history.json")) as f:
            self.assertEqual(len(json.load(f)["history"]), 1)
        self.assertFalse(os.path.exists(os.path.join(outs["cut"], "epoch2.pt")))
        cut = torch.load(os.path.join(outs["cut"], "best.pt"), map_location="cpu")
        full = torch.load(os.path.join(outs["full"], "epoch1.pt"), map_location="cpu")
        self.assertEqual(cut["epoch"], 1)
        for k, v in full["state_dict"].items():
            self.assertTrue(torch.allclose(v.float(), cut["state_dict"][k].float()), k)
        with self.assertRaises(SystemExit):
            train.main(["--data", self.data, "--out", os.path.join(self.tmp.name, "stop-bad"),
                        "--quick", "--threads", "1", "--stop-after", "-1"])

    def test_best_is_chosen_on_flip_tta(self):
        """best.pt holds the epoch best with flip TTA, the way every .emx runs: an epoch better
        only without the mirror does not win (it did while the rule was the better of the two),
        and the history flags the kept epoch so the card names the same one."""
        from unittest import mock
        import model_card
        import train
        # per epoch: plain, then flip TTA. Epoch 1 wins on plain, epoch 2 on flip TTA.
        scores = iter([0.80, 0.79, 0.70, 0.795])
        out = os.path.join(self.tmp.name, "select-flip")
        with mock.patch.object(train, "majority_accuracy", lambda p, l: next(scores)):
            train.main(["--data", self.data, "--out", out, "--quick", "--threads", "1",
                        "--batch", "16"])
        torch.set_num_threads(1)
        self.assertEqual(torch.load(os.path.join(out, "best.pt"), map_location="cpu")["epoch"], 2)
        with open(os.path.join(out, "history.json")) as f:
            h = json.load(f)
        self.assertEqual([r["kept"] for r in h["history"]], [True, True])
        self.assertEqual(model_card.kept_epoch(h["args"], h["history"])["epoch"], 2)

    def test_logit_adjusted_loss(self):
        """--logit-adjust: with targets equal to the class prior, the loss is stationary at
        uniform logits when tau = 1 (the balanced posterior), not at log(prior) as plain
        cross-entropy; a sign error in the shift moves both minima."""
        import train
        prior = torch.tensor([[0.35, 0.29, 0.13, 0.12, 0.08, 0.01, 0.015, 0.005]])
        def grad_at(z, tau, teacher=None):
            z = z.clone().requires_grad_(True)
            train.batch_loss(z, prior, teacher, tau * prior.log(), 0.5, 2.0).backward()
            return z.grad.abs().max().item()
        self.assertLess(grad_at(torch.zeros(1, 8), 1.0), 1e-6)
        self.assertGreater(grad_at(torch.zeros(1, 8), 0.0), 0.05)
        self.assertLess(grad_at(prior.log(), 0.0), 1e-6)
        self.assertGreater(grad_at(prior.log(), 1.0), 0.05)
        out, ck = self.run_train("logit-adjust", "--logit-adjust", "0.5")
        self.assertEqual(ck["args"]["logit_adjust"], 0.5)

    def test_sample_balance(self):
        """--sample-balance: without weights an epoch is a permutation (the runs before the
        option, bit for bit); with prior^-tau weights a class 100x rarer is drawn 10x more often
        per image at tau 0.5, and the option reaches a run and its recorded settings."""
        import train
        gen = torch.Generator().manual_seed(3)
        self.assertTrue(torch.equal(train.epoch_order(50, gen),
                                    torch.randperm(50, generator=torch.Generator().manual_seed(3))))
        labels = torch.tensor([0] * 1000 + [1] * 10)
        prior = torch.tensor([1000 / 1010, 10 / 1010])
        w = train.balanced_sample_weights(torch.nn.functional.one_hot(labels).float(), prior.log(), 0.5)
        draws = train.epoch_order(len(labels), gen, w)
        self.assertEqual(len(draws), len(labels))
        rare = (labels[draws] == 1).float().mean().item()  # expected 100 / (1000 + 100) = 0.091
        self.assertGreater(rare, 0.06)
        self.assertLess(rare, 0.13)
        out, ck = self.run_train("sample-balance", "--sample-balance", "0.5")
        self.assertEqual(ck["args"]["sample_balance"], 0.5)

    def test_resume_mid_epoch_is_bit_identical(self):
        """A run stopped inside an epoch (--max-steps, after its checkpoint) and resumed ends
        with exactly the weights of the same run done in one go."""
        import train
        common = ["--data", self.data, "--quick", "--threads", "1", "--batch", "16", "--ema", "0.9",
                  "--photometric", "0.5", "--seed", "5"]
        a, b = os.path.join(self.tmp.name, "straight"), os.path.join(self.tmp.name, "split")
        train.main(common + ["--out", a])
        # 48 synthetic faces, batch 16: 3 steps per epoch
        train.main(common + ["--out", b, "--max-steps", "1"])               # epoch 1, step 1
        ck = torch.load(os.path.join(b, "last.pt"))
        self.assertEqual((ck["epoch"], ck["step"]), (0, 1))
        train.main(common + ["--out", b, "--resume", "--max-steps", "3"])  # across the epoch end
        ck = torch.load(os.path.join(b, "last.pt"))
        self.assertEqual((ck["epoch"], ck["step"], len(ck["hist"])), (1, 1, 1))
        train.main(common + ["--out", b, "--resume"])
        torch.set_num_threads(1)
        sa = torch.load(os.path.join(a, "last.pt"))
        sb = torch.load(os.path.join(b, "last.pt"))
        self.assertEqual(sb["epoch"], 2)
        for k, v in sa["model"].items():
            self.assertTrue(torch.equal(v, sb["model"][k]), k)
        for k, v in sa["ema"].items():
            self.assertTrue(torch.equal(v, sb["ema"][k]), k)
        self.assertEqual([h["loss"] for h in sa["hist"]], [h["loss"] for h in sb["hist"]])

    def test_resume_refuses_other_settings(self):
        """--resume continues a run only under the settings it was trained with: another
        learning rate or another teacher file exits saying so; the same teacher under another
        name continues."""
        import shutil
        import train
        out = os.path.join(self.tmp.name, "settings")
        teacher = os.path.join(self.tmp.name, "t.npy")
        np.save(teacher, np.full((48, 8), 1 / 8, np.float32))
        common = ["--data", self.data, "--out", out, "--quick", "--threads", "1", "--batch", "16",
                  "--seed", "3"]
        train.main(common + ["--teacher", teacher, "--max-steps", "4"])  # into epoch 2
        with self.assertRaises(SystemExit) as e:
            train.main(common + ["--teacher", teacher, "--resume", "--lr", "0.5"])
        self.assertIn("lr", str(e.exception.code))
        other = os.path.join(self.tmp.name, "t2.npy")
        np.save(other, np.full((48, 8), 1 / 4, np.float32) * np.eye(8, dtype=np.float32)[np.arange(48) % 8] * 4)
        with self.assertRaises(SystemExit) as e:
            train.main(common + ["--teacher", other, "--resume"])
        self.assertIn("teacher", str(e.exception.code))
        same = os.path.join(self.tmp.name, "t-copy.npy")
        shutil.copy(teacher, same)
        train.main(common + ["--teacher", same, "--resume"])
        torch.set_num_threads(1)
        self.assertEqual(torch.load(os.path.join(out, "last.pt"))["epoch"], 2)

    def test_one_writer_per_run_folder(self):
        """A second train.py on a folder another process is training waits for it, then finds
        the run finished, instead of interleaving its checkpoints with the first one's."""
        import fcntl
        import subprocess
        import time
        out = os.path.join(self.tmp.name, "locked")
        os.makedirs(out)
        cmd = [sys.executable, os.path.join(HERE, "train.py"), "--data", self.data, "--out", out,
               "--quick", "--threads", "1", "--batch", "16", "--resume"]
        with open(os.path.join(out, ".lock"), "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)          # the "other process" holds the folder
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            # its first line: the wait (without the lock it would be epoch 1's line, having
            # trained over the folder); a fixed sleep instead raced torch's import under load
            first = p.stdout.readline()
            self.assertIn("being trained by another process; waiting", first)
            time.sleep(1)
            self.assertIsNone(p.poll())
            self.assertFalse(os.path.exists(os.path.join(out, "last.pt")))
        text, _ = p.communicate(timeout=600)          # released: it trains now
        self.assertEqual(p.returncode, 0, first + text)
        self.assertTrue(os.path.exists(os.path.join(out, "best.pt")))

    def test_weight_ema(self):
        """w_ema = d * w_ema + (1 - d) * w on floating tensors; integer buffers are copied."""
        import train
        from models import build
        torch.manual_seed(0)
        model = build("lite")
        ema = train.WeightEMA(model, 0.75)
        before = {k: v.clone() for k, v in ema.model.state_dict().items()}
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
            model.features[1].num_batches_tracked.fill_(5)
        ema.update(model)
        after, now = ema.model.state_dict(), model.state_dict()
        for k, v in after.items():
            if v.dtype.is_floating_point:
                self.assertTrue(torch.allclose(v, 0.75 * before[k] + 0.25 * now[k]), k)
            else:
                self.assertTrue(torch.equal(v, now[k]), k)
        w = "features.0.weight"
        self.assertTrue(torch.allclose(after[w], before[w] + 0.25))
        self.assertFalse(any(p.requires_grad for p in ema.model.parameters()))

    def test_soften_and_mix(self):
        import train
        p = torch.tensor([[0.7, 0.2, 0.1]])
        self.assertTrue(torch.allclose(train.soften(p, 1.0), p))
        q = train.soften(p, 2.0)
        e = p.sqrt() / p.sqrt().sum()
        self.assertTrue(torch.allclose(q, e))
        # balance tau * log(prior) divided out: the prior itself becomes uniform at tau 1,
        # half-way (prior^0.5 renormalised) at tau 0.5, and comes before the temperature
        prior = torch.tensor([[0.6, 0.3, 0.1]])
        self.assertTrue(torch.allclose(train.soften(prior, 1.0, prior[0].log()), torch.full((1, 3), 1 / 3)))
        half = prior.sqrt() / prior.sqrt().sum()
        self.assertTrue(torch.allclose(train.soften(prior, 1.0, 0.5 * prior[0].log()), half))
        self.assertTrue(torch.allclose(train.soften(prior, 2.0, 0.5 * prior[0].log()), train.soften(half, 2.0)))
        g = torch.Generator().manual_seed(0)
        x = torch.randn(6, 1, 8, 8)
        y = torch.eye(6)
        for mode in ("mixup", "cutmix"):
            xm, (ym, none) = train.mix_batch(x, [y, None], g, mode, 1.0)
            self.assertIsNone(none)
            self.assertEqual(xm.shape, x.shape)
            self.assertTrue(torch.allclose(ym.sum(1), torch.ones(6)))


def skip_unless_git_checkout(test):
    """The repository root, or skip `test`: REV:PATH model files need git history."""
    import subprocess
    root = os.path.join(HERE, "..")
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True).returncode:
        test.skipTest("not a git checkout")
    return root


def folded_fp16(name, g):
    """(network `name` with random BatchNorm statistics and shifts, so that folding is exercised;
    the same with its BatchNorms folded and weights rounded to fp16, as export_checkpoint.py
    ships it)."""
    import torch.fx.experimental.optimization as fx_opt
    from models import build
    torch.manual_seed(0)
    model = build(name).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
            m.bias.data.uniform_(-0.2, 0.2, generator=g)
    fused = fx_opt.fuse(model)
    with torch.no_grad():
        for p in fused.parameters():
            p.copy_(p.half().float())
    return model, fused


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class ExportArchsTest(unittest.TestCase):
    def test_every_arch_exports_exactly(self):
        import emx_numpy_ref
        import export_emx
        from models import ARCHS
        spec = dict(height=48, width=48, channels=1, mean=0.5, std=0.25)
        g = torch.Generator().manual_seed(0)
        x = torch.randn(1, 1, 48, 48, generator=g)
        for name in ARCHS:
            with self.subTest(arch=name):
                model, fused = folded_fp16(name, g)
                # the GAP + one Linear head that class activation maps need
                self.assertIsInstance(model.fc, torch.nn.Linear)
                self.assertIsInstance(model.pool, torch.nn.AdaptiveAvgPool2d)
                with torch.no_grad():
                    want = torch.softmax(fused(x), 1).double().numpy().ravel()
                m = export_emx.convert(fused, spec, fp16=True)
                got = emx_numpy_ref.predict(m, x[0].permute(1, 2, 0).double().numpy())
                np.testing.assert_allclose(got, want, atol=1e-4)



class EmxTeacherTest(unittest.TestCase):
    """pipeline.emx_teacher: a model file's probabilities on every Train image (not only those
    the majority protocol keeps), in label.csv order, the same numbers `emoxnet eval
    --predictions` gives for the kept ones. No PyTorch: the model runs in WASM."""

    def test_every_train_image_in_order(self):
        import pipeline
        from ferplus import majority_labels, read_label_csv
        from wasm_eval import evaluate, read_predictions
        if not os.path.exists(os.path.join(HERE, "..", "wasm", "dist", "emoxnet-simd.wasm")):
            self.skipTest("WebAssembly build missing (npm run build)")
        model = os.path.join(HERE, "..", "models", "emoxnet-lite.emx")
        with tempfile.TemporaryDirectory() as tmp:
            make_ferplus(tmp)
            train = os.path.join(tmp, "FER2013Train")
            # every fifth image without a majority (4/4/2 votes): the protocol drops it
            with open(os.path.join(train, "label.csv")) as f:
                lines = f.read().splitlines()
            for i in range(0, len(lines), 5):
                lines[i] = lines[i].rsplit("\"", 1)[0] + "\"," + ",".join(["4", "4", "2"] + ["0"] * 7)
            with open(os.path.join(train, "label.csv"), "w") as f:
                f.write("\n".join(lines) + "\n")
            names, votes = read_label_csv(train)
            # three processes, each on a slice (48 rows: slices of 16), joined in label.csv order
            ctx = type("Ctx", (), dict(runs=tmp, ferplus=tmp, threads=3))
            probs = np.load(pipeline.emx_teacher(ctx, model))
            self.assertEqual(probs.shape, (len(names), 8))
            np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
            evaluate(train, model, predictions=os.path.join(tmp, "p.csv"))
            files, _, want = read_predictions(os.path.join(tmp, "p.csv"))
            kept = np.nonzero(majority_labels(votes) >= 0)[0]
            self.assertLess(len(kept), len(names))  # some rows only the teacher scores
            self.assertEqual(files, [names[i] for i in kept])
            np.testing.assert_allclose(probs[kept], want, atol=1e-6)


class EnsembleTeacherOnDemandTest(unittest.TestCase):
    """pipeline.ensemble pools without the Train teacher pass (hours with two 192 px face
    backbones on 2 cores) and runs it only when a Lite recipe learns from those probabilities."""

    def run_pipeline(self, fn):
        import pipeline
        from unittest import mock
        cmds = []

        def fake_run(log, cmd):  # each step "writes" what it promises
            cmds.append(cmd)
            for flag in ("--out", "--summary", "--teacher-out"):
                if flag in cmd:
                    open(cmd[cmd.index(flag) + 1], "w").close()

        with tempfile.TemporaryDirectory() as tmp, \
                mock.patch.object(pipeline, "log_run", fake_run), \
                mock.patch.object(pipeline, "finish_candidate", lambda *a: None), \
                mock.patch.object(pipeline, "train_member", lambda ctx, m, *a, **k: f"/r/{m['name']}/best.pt"), \
                mock.patch.object(pipeline, "emx_teacher", lambda ctx, emx: "/r/wasm-probs.npy"):
            ctx = type("Ctx", (), dict(runs=tmp, data="/d", quick=False))
            ens = dict(name="E", key="e", members=[dict(name="a", arch="lite"), dict(name="b", arch="lite")])
            out = fn(pipeline, ctx, ens, tmp)
        return cmds, out

    def test_pool_alone_has_no_teacher_pass(self):
        cmds, (_, _, teacher) = self.run_pipeline(lambda pl, ctx, ens, tmp: pl.ensemble(ctx, ens))
        self.assertIsNone(teacher)
        self.assertEqual(len(cmds), 1)
        self.assertNotIn("--teacher-out", cmds[0])
        self.assertIn("--cache", cmds[0])  # members' Valid probabilities are kept for a re-pool

    def test_teacher_pass_from_the_pool_summary_when_asked(self):
        def twice(pl, ctx, ens, tmp):
            pl.ensemble(ctx, ens)
            return pl.ensemble(ctx, ens, with_teacher=True)
        cmds, (_, summary, teacher) = self.run_pipeline(twice)
        self.assertEqual(len(cmds), 2)  # the pool once, then only the teacher pass
        self.assertEqual(cmds[1][cmds[1].index("--teacher-from") + 1], summary)
        self.assertEqual(cmds[1][cmds[1].index("--teacher-out") + 1], teacher)

    def test_a_teacher_model_skips_the_pool_teacher_pass(self):
        def lite(pl, ctx, ens, tmp):
            with open(os.path.join(tmp, "e.json"), "w") as f:
                json.dump(dict(ens, kind="ensemble"), f)
            recipe = dict(path=os.path.join(tmp, "l.json"), teacher="e.json", teacher_model="m.emx",
                          distillation=dict(alpha=0.5, temperature=2))
            return pl.lite_teacher(ctx, recipe, [dict(name="s")])
        cmds, (_, kd) = self.run_pipeline(lite)
        self.assertEqual(kd["probs"], "/r/wasm-probs.npy")
        self.assertFalse([c for c in cmds if "--teacher-out" in c or "--teacher-from" in c])


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class EnsembleValidCacheTest(unittest.TestCase):
    """ensemble.py --cache: a member's Valid probabilities are computed once per checkpoint."""

    def test_cached_under_the_checkpoint_bytes(self):
        import ensemble
        from unittest import mock
        images = np.zeros((3, 48, 48), np.uint8)
        with tempfile.TemporaryDirectory() as tmp:
            ck = os.path.join(tmp, "best.pt")
            with open(ck, "wb") as f:
                f.write(b"A")
            calls = []

            def fake(model, imgs, *a, **k):
                calls.append(1)
                return np.full((len(imgs), 8), len(calls) / 8.0), np.full((len(imgs), 8), 0.125)

            with mock.patch.object(ensemble, "member_probs_both", fake):
                first = ensemble.cached_valid_probs(None, ck, images, tmp)
                again = ensemble.cached_valid_probs(None, ck, images, tmp)
                self.assertEqual(len(calls), 1)
                np.testing.assert_array_equal(first[0], again[0])
                with open(ck, "wb") as f:
                    f.write(b"B")
                ensemble.cached_valid_probs(None, ck, images, tmp)
                self.assertEqual(len(calls), 2)

    def test_one_forward_per_view(self):
        import ensemble
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, 8))
        n = []
        net.register_forward_hook(lambda *a: n.append(1))
        images = np.random.RandomState(0).randint(0, 255, (5, 48, 48)).astype(np.uint8)
        plain, flip = ensemble.member_probs_both(net, images)
        self.assertEqual(len(n), 2)
        np.testing.assert_allclose(plain, ensemble.member_probs(net, images, False), atol=1e-6)
        np.testing.assert_allclose(flip, ensemble.member_probs(net, images, True), atol=1e-6)


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class PipelineQuickTest(unittest.TestCase):
    """training/pipeline.py end to end on the synthetic folder: a two-member ensemble recipe as
    teacher of a Lite recipe (one ablation seed, with and without it), exported and scored
    through WASM; a second run finds every step done and retrains nothing."""

    def test_lite_recipe_with_teacher_then_resume(self):
        import pipeline
        from unittest import mock
        cli = os.path.join(HERE, "..", "bin", "emoxnet.js")
        wasm = os.path.join(HERE, "..", "wasm", "dist", "emoxnet-simd.wasm")
        if not os.path.exists(wasm):
            self.skipTest("WebAssembly build missing (npm run build)")
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "ferplus")
            make_ferplus(data)
            ens = dict(name="Q", kind="ensemble", max_mb=2, members=[
                dict(name="a", arch="lite", epochs=2, lr=0.05, seed=1, batch=16, ensemble=False),
                dict(name="a2", arch="lite", epochs=2, lr=0.02, seed=1, batch=16, init="a"),
                dict(name="b", arch="lite-w", epochs=2, lr=0.05, seed=2, batch=16, ema=0.9,
                     stop_after=1)])
            lite = dict(name="QL", kind="lite", teacher="q-ens.json", ablation_seeds=[3],
                        distillation=dict(alpha=0.5, temperature=2),
                        student=[dict(name="s", arch="lite", epochs=2, lr=0.05, batch=16,
                                      photometric=0.5, jpeg=0.5, init_run="a", consistency=1,
                                      consistency_stop=True, consistency_reframe=True,
                                      select="last"),
                                 dict(name="s2", arch="lite", epochs=2, lr=0.02, batch=16,
                                      init="s")],
                        out=os.path.join(tmp, "ql.emx"), card=os.path.join(tmp, "ql.md"),
                        golden=None)
            for name, r in (("q-ens.json", ens), ("q-lite.json", lite)):
                with open(os.path.join(tmp, name), "w") as f:
                    json.dump(r, f)
            os.environ["RUNS"] = os.path.join(tmp, "runs")
            try:
                args = [os.path.join(tmp, "q-lite.json"), "--quick", "--threads", "1",
                        "--data", data, "--ferplus", data, "--ship"]
                rows = pipeline.main(args)
                # the distilled variant (the one that ships) trains first
                self.assertEqual([(s, v) for s, v, *_ in rows], [(3, "kd"), (3, "nokd")])
                runs = os.path.join(tmp, "runs", "quick")
                for f in ("a/best.pt", "a2/best.pt", "b/best.pt", "q-ens.emx", "q-ens.teacher.npy",
                          "s-s3-kd/best.pt", "s2-s3-kd/best.pt", "q-lite-s3-kd.emx",
                          "q-lite.ablation.md"):
                    self.assertTrue(os.path.exists(os.path.join(runs, f)), f)
                # a later cycle starts from the earlier one's best checkpoint, and only the last
                # cycle of a lineage is an ensemble member
                with open(os.path.join(runs, "a2", "history.json")) as f:
                    self.assertTrue(json.load(f)["args"]["init"].endswith(os.path.join("a", "best.pt")))
                with open(os.path.join(runs, "q-ens.json")) as f:
                    summary = json.load(f)
                members = [r["checkpoint"] for r in summary["rows"] if "checkpoint" in r]
                self.assertEqual([os.path.basename(os.path.dirname(c)) for c in members], ["a2", "b"])
                # the recipe's size budget reached ensemble.py (both members fit in 2 MB)
                self.assertEqual((summary["max_bytes"], summary["left_out"]), (2000000, []))
                # the distilled student really read the teacher, in each of its cycles, and its
                # second cycle continued the distilled first one (not the plain one)
                for run in ("s-s3-kd", "s2-s3-kd"):
                    with open(os.path.join(runs, run, "history.json")) as f:
                        self.assertTrue(json.load(f)["args"]["teacher"].endswith("q-ens.teacher.npy"))
                with open(os.path.join(runs, "s2-s3-kd", "history.json")) as f:
                    self.assertTrue(json.load(f)["args"]["init"].endswith(os.path.join("s-s3-kd", "best.pt")))
                # the recipe's augmentation settings reach train.py
                with open(os.path.join(runs, "s-s3-kd", "history.json")) as f:
                    run_args = json.load(f)["args"]
                self.assertEqual((run_args["photometric"], run_args["jpeg"]), (0.5, 0.5))
                self.assertEqual((run_args["consistency"], run_args["consistency_stop"],
                                  run_args["consistency_reframe"], run_args["select"]),
                                 (1.0, True, True, "last"))
                # every variant's first cycle starts from the one shared run (init_run), unsuffixed
                for run in ("s-s3-kd", "s-s3-nokd"):
                    with open(os.path.join(runs, run, "history.json")) as f:
                        self.assertTrue(json.load(f)["args"]["init"].endswith(os.path.join(runs, "a", "best.pt")), run)
                # shipped: the file, and a card with the command, Valid figures and robustness
                self.assertTrue(os.path.exists(os.path.join(tmp, "ql.emx")))
                with open(os.path.join(tmp, "ql.md")) as f:
                    card = f.read()
                for want in ("training/pipeline.py", "on n = ", "Mean per-class recall",
                             "## Robustness", "sensor noise", "mean drop", "ql-curve.png",
                             "## Distillation ablation", "| 3 | none |", "chain of cosine cycles",
                             "| a | 1 | 2 |", "| s2-s3-kd | 3 | 2 | 0.02 |"):
                    self.assertIn(want, card)
                # stop_after: the member ran one epoch of its schedule and counts as finished
                with open(os.path.join(runs, "b", "history.json")) as f:
                    b_run = json.load(f)
                self.assertEqual((len(b_run["history"]), b_run["args"]["stop_after"]), (1, 1))
                before = os.path.getmtime(os.path.join(runs, "a", "best.pt"))
                with mock.patch.object(pipeline, "log_run", wraps=pipeline.log_run) as logged:
                    pipeline.main(args)
                self.assertEqual(os.path.getmtime(os.path.join(runs, "a", "best.pt")), before)
                # the rerun trains nothing: every run, the cut one included, was finished
                self.assertFalse([call.args[1] for call in logged.call_args_list
                                  if "training/train.py" in call.args[1]])
            finally:
                del os.environ["RUNS"]
            self.assertTrue(os.path.exists(cli))


class PipelineShipGoldensTest(unittest.TestCase):
    """pipeline.ship: a Lite with a golden name also rewrites the golden class activation maps
    (tests/test-explain.c compares emx_explain with them) from the checkpoint it ships; an
    ensemble has no such golden. Every step that would touch the repository is recorded instead."""

    def ship_commands(self, kind):
        from unittest import mock
        import pipeline
        cmds = []
        ctx = mock.Mock(runs="/runs", quick=False, hardware="here", ferplus="/fer")
        recipe = dict(kind=kind, key="r", name="N", out="models/x.emx", card="models/x.md",
                      golden="emoxnet-lite", path=os.path.join(pipeline.ROOT, "training", "r.json"))
        with mock.patch.object(pipeline, "log_run", lambda log, cmd: cmds.append(cmd)), \
                mock.patch.object(pipeline.shutil, "copy"), mock.patch.object(pipeline.ef, "read"), \
                mock.patch.object(pipeline.calibrate, "write_golden"), \
                mock.patch.object(pipeline, "valid_eval"), mock.patch.object(pipeline.os, "remove"):
            pipeline.ship(ctx, recipe, "/runs/c.emx", ["/runs/s/best.pt"])
        return [c for c in cmds if "training/make_golden_cam.py" in c]

    def test_lite_rewrites_its_cam_golden(self):
        import pipeline
        self.assertEqual(self.ship_commands("lite"),
                         [[pipeline.PY, "training/make_golden_cam.py", "--lite", "/runs/s/best.pt"]])

    def test_ensemble_has_no_cam_golden(self):
        self.assertEqual(self.ship_commands("ensemble"), [])


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class ImportEmxTest(unittest.TestCase):
    """training/import_emx.py: every architecture exported (BatchNorm folded, fp16) and imported
    back computes the file's function in eval mode, and its rebuilt BatchNorms are the identity
    (+ the folded bias) in training mode too, on the images their statistics came from."""

    def test_every_arch_round_trips(self):
        import export_emx
        import import_emx
        from models import ARCHS
        spec = dict(height=48, width=48, channels=1, mean=0.5, std=0.25)
        g = torch.Generator().manual_seed(0)
        x = torch.randn(16, 1, 48, 48, generator=g)
        for name in ARCHS:
            with self.subTest(arch=name), tempfile.TemporaryDirectory() as tmp:
                _, fused = folded_fp16(name, g)
                with torch.no_grad():
                    want = torch.softmax(fused(x), 1)
                path = os.path.join(tmp, "m.emx")
                export_emx.export_ensemble([fused], [1.0], path, spec, fp16=True, flip_tta=True)
                back = import_emx.import_member(path, name, 0, x)
                with torch.no_grad():
                    got = torch.softmax(back(x), 1)
                    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
                    back.train()
                    for m in back.modules():
                        if isinstance(m, torch.nn.Dropout):
                            m.p = 0.0
                    train_mode = torch.softmax(back(x), 1)
                np.testing.assert_allclose(train_mode.numpy(), want.numpy(), atol=1e-3)
                # and the file's own graph (flip averaged), as the CLI checks
                self.assertLess(import_emx.max_diff_vs_file(back.eval(), __import__("emx_format").read(path), 0, x[:2]), 1e-4)

    def test_a_member_of_an_ensemble(self):
        """Member 1 of a two-member file comes back as that member, not the first one."""
        import emx_format as ef
        import export_emx
        import import_emx
        import torch.fx.experimental.optimization as fx_opt
        from models import build
        spec = dict(height=48, width=48, channels=1, mean=0.5, std=0.25)
        x = torch.randn(8, 1, 48, 48, generator=torch.Generator().manual_seed(2))
        torch.manual_seed(0)
        nets = [fx_opt.fuse(build(a).eval()) for a in ("lite", "resnet-s")]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ens.emx")
            export_emx.export_ensemble(nets, [0.5, 0.5], path, spec, fp16=True, flip_tta=True)
            back = import_emx.import_member(path, "resnet-s", 1, x)
            self.assertLess(import_emx.max_diff_vs_file(back, ef.read(path), 1, x[:2]), 1e-4)
            with self.assertRaises(SystemExit):  # member 0 is a lite, not a resnet-s
                import_emx.import_member(path, "resnet-s", 0, x)

    def test_pipeline_init_model_from_a_revision(self):
        """A recipe's "init_model": "REV:PATH" -> the file as committed (git show) -> a
        checkpoint train.py --init loads, holding the shipped Lite's function."""
        import subprocess
        import emx_format as ef
        import import_emx
        import pipeline
        from models import build
        root = skip_unless_git_checkout(self)
        with tempfile.TemporaryDirectory() as tmp:
            make_ferplus(tmp)
            ctx = type("Ctx", (), dict(runs=tmp, data=tmp))
            emx = pipeline.model_file(ctx, "HEAD:models/emoxnet-lite.emx")
            with open(emx, "rb") as f:
                self.assertEqual(f.read(), subprocess.run(["git", "show", "HEAD:models/emoxnet-lite.emx"],
                                                          cwd=root, capture_output=True).stdout)
            ck = torch.load(pipeline.imported_init(ctx, "HEAD:models/emoxnet-lite.emx", "lite"))
            model = build(ck["arch"])
            model.load_state_dict(ck["state_dict"])  # what train.py --init does
            x = torch.randn(2, 1, 48, 48, generator=torch.Generator().manual_seed(1))
            self.assertLess(import_emx.max_diff_vs_file(model.eval(), ef.read(emx), 0, x), 1e-4)

    def test_pipeline_init_member(self):
        """"init_member": member i of an ensemble file, cached under its own name (member 0
        keeps the untagged name earlier runs used), each holding its member's function."""
        import emx_format as ef
        import import_emx
        import pipeline
        from models import build
        skip_unless_git_checkout(self)
        with tempfile.TemporaryDirectory() as tmp:
            make_ferplus(tmp)
            ctx = type("Ctx", (), dict(runs=tmp, data=tmp))
            spec = "HEAD:models/emoxnet.emx"
            paths = [pipeline.imported_init(ctx, spec, "sewide-s", 0),
                     pipeline.imported_init(ctx, spec, "resnet-s", 1)]
            self.assertNotEqual(paths[0], paths[1])
            self.assertNotIn("-m0", paths[0])
            self.assertIn("-m1-resnet-s", paths[1])
            m = ef.read(pipeline.model_file(ctx, spec))
            x = torch.randn(2, 1, 48, 48, generator=torch.Generator().manual_seed(1))
            for member, path in enumerate(paths):
                ck = torch.load(path)
                model = build(ck["arch"])
                model.load_state_dict(ck["state_dict"])
                self.assertLess(import_emx.max_diff_vs_file(model.eval(), m, member, x), 1e-4)

    def test_pipeline_member_taken_as_it_is(self):
        """"epochs": 0 takes an ensemble file's member as it is: its run folder holds that
        member's function and a history with no epochs (no curve, a card row saying where it came
        from), and it trains nothing; without "init_model" it is refused."""
        import emx_format as ef
        import import_emx
        import pipeline
        from models import build
        skip_unless_git_checkout(self)
        with tempfile.TemporaryDirectory() as tmp:
            make_ferplus(tmp)
            ctx = type("Ctx", (), dict(runs=tmp, data=tmp))
            m = dict(name="resnet-s-shipped", arch="resnet-s", init_model="HEAD:models/emoxnet.emx",
                     init_member=1, epochs=0)
            best = pipeline.train_member(ctx, m)
            self.assertEqual(best, os.path.join(tmp, "resnet-s-shipped", "best.pt"))
            self.assertFalse(pipeline.trained_here(os.path.dirname(best)))
            with open(os.path.join(os.path.dirname(best), "history.json")) as f:
                args = json.load(f)["args"]
            self.assertEqual((args["taken_as_is"], args["init_model"], args["init_member"]),
                             (True, "HEAD:models/emoxnet.emx", 1))
            ck = torch.load(best)
            model = build(ck["arch"])
            model.load_state_dict(ck["state_dict"])
            x = torch.randn(2, 1, 48, 48, generator=torch.Generator().manual_seed(1))
            emx = ef.read(pipeline.model_file(ctx, "HEAD:models/emoxnet.emx"))
            self.assertLess(import_emx.max_diff_vs_file(model.eval(), emx, 1, x), 1e-4)
            with self.assertRaises(SystemExit):
                pipeline.train_member(ctx, dict(m, name="x", init_model=None))
            self.assertEqual(pipeline.train_member(ctx, m), best)  # again: kept
            with self.assertRaises(SystemExit):  # the same name for another member: refused
                pipeline.train_member(ctx, dict(m, arch="sewide-s", init_member=0))


if __name__ == "__main__":
    unittest.main()
