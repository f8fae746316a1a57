"""training/model_card.py: the training tables say how each run was trained (its start, moving
average, photometric augmentation and teacher), from the run's own history.json."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch  # noqa: F401  (model_card imports it)
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

ROWS = [dict(epoch=1, valid_acc=0.87, valid_acc_flip=0.872, seconds=600.0)]
# a consistency cycle's history: clean Valid falls after the first epoch
FALLING = [dict(epoch=1, valid_acc=0.87, valid_acc_flip=0.872, seconds=300.0),
           dict(epoch=2, valid_acc=0.86, valid_acc_flip=0.865, seconds=600.0)]


def history(**args):
    base = dict(seed=7, batch=64, lr=0.002, wd=5e-4, smooth=0.1, mix="none", ema=0.0,
                photometric=0.0, init=None, teacher=None, teacher_model=None, alpha=0.7,
                temperature=1.0)
    return dict(args=dict(base, **args), history=ROWS)


@unittest.skipUnless(HAVE_TORCH, "PyTorch not installed")
class TrainingTablesTest(unittest.TestCase):
    def test_member_rows_show_start_ema_and_photometric(self):
        import model_card
        hists = [history(init="/r/init-abc-m1-resnet-s.pt", ema=0.999, photometric=0.25),
                 history(init="/r/lite-c3/best.pt"), history()]
        rows = model_card.members_training(None, hists, "")[2:5]
        self.assertEqual([r.split(" | ")[1:2] for r in rows],
                         [["init-abc-m1-resnet-s.pt"], ["lite-c3"], ["scratch"]])
        cells = rows[0].split(" | ")
        self.assertIn("0.999", cells)
        self.assertIn("0.25", cells)
        self.assertEqual(rows[2].split(" | ")[8:10], ["none", "none"])  # no EMA, no photometric

    def test_kept_epoch_follows_select(self):
        """The epoch column is the one best.pt holds: the best on clean Valid, or the last for
        --select last (a consistency cycle's clean Valid falls while it gets more robust)."""
        import model_card
        for select, want in (("best", "| 1: 87.00% / 87.20% |"), ("last", "| 2: 86.00% / 86.50% |")):
            h = dict(history(select=select), history=FALLING)
            self.assertIn(want, model_card.members_training(None, [h], "")[2])
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "c", "history.json")
                os.makedirs(os.path.dirname(path))
                with open(path, "w") as f:
                    json.dump(h, f)
                self.assertIn(want, model_card.cycles_training([path], "")[4])

    def test_kept_epoch_of_a_run_resumed_across_the_flag(self):
        """Epochs written before train.py flagged the kept epoch, then flagged ones: a flagged
        row that took best.pt wins; if none did, the best of the earlier rows, even when a
        later row's plain figure is higher (the later rule never kept it)."""
        import model_card
        rows = [dict(epoch=1, valid_acc=0.85, valid_acc_flip=0.86),
                dict(epoch=2, valid_acc=0.86, valid_acc_flip=0.87),
                dict(epoch=3, valid_acc=0.875, valid_acc_flip=0.865, kept=False)]
        self.assertEqual(model_card.kept_epoch({}, rows)["epoch"], 2)
        rows.append(dict(epoch=4, valid_acc=0.86, valid_acc_flip=0.88, kept=True))
        self.assertEqual(model_card.kept_epoch({}, rows)["epoch"], 4)

    def test_a_member_taken_as_it_is(self):
        """A member the pipeline took from an earlier file (no epochs here) gets a row that says
        where it came from and adds no minutes, beside a member trained here."""
        import model_card
        as_is = dict(args=dict(arch="resnet-s", taken_as_is=True, init_model="ff0eca9:models/emoxnet.emx",
                               init_member=1), history=[])
        trained = dict(history(), torch="1.13", device="cpu")
        rows = model_card.members_training(None, [as_is, trained], "")
        self.assertIn("ff0eca9:models/emoxnet.emx member 1, as it is (its training: "
                      "`git show ff0eca9:models/emoxnet.md`)", rows[2])
        self.assertEqual(len(rows[2].split("|")), len(rows[0].split("|")))  # every column
        self.assertTrue(rows[2].endswith("| 0 |"))
        self.assertIn("torch 1.13 on cpu: 10 minutes", rows[5])

    def test_members_left_out_for_the_size_budget(self):
        import model_card
        row = lambda name, w=None: dict(name=name, valid=0.87, valid_flip=0.875, **({"weights": w} if w else {}))
        ens = dict(rows=[row("a"), row("b"), row("ensemble", [0.4, 0.6])], weights=[0.4, 0.6], flip_tta=True,
                   left_out=[row("sewide-s")], max_bytes=16000000)
        lines = model_card.members_valid(ens, dict(accuracy=0.88, correct=2808, n=3191))
        self.assertIn("| sewide-s: left out for the 16 MB budget | 0 | 87.00% | 87.50% |", lines)
        self.assertEqual(sum("left out" in x for x in lines), 1)

    def test_single_run_names_the_kept_epoch(self):
        """A model trained in one run (no cycles, no members): its sentence names the epoch
        best.pt holds, the last one for --select last."""
        import model_card
        for select, want in (("best", "epoch 1 (87.00% plain, 87.20% with flip)"),
                             ("last", "epoch 2 (86.00% plain, 86.50% with flip)")):
            h = dict(history(select=select), history=FALLING, torch="1.13", device="cpu")
            self.assertIn(want, model_card.single_run_training(h, "")[0])

    def test_cycle_rows_name_the_teacher_kind(self):
        import model_card
        kinds = [(dict(teacher="/r/t.npy"), "precomputed"),
                 (dict(teacher_model="/r/emoxnet.emx", teacher_view="geometric"),
                  "emoxnet.emx, live on the geometric view"),
                 (dict(teacher_model="/r/emoxnet.emx"), "live on the batch view"),
                 (dict(), "| none |")]
        with tempfile.TemporaryDirectory() as tmp:
            for i, (args, want) in enumerate(kinds):
                path = os.path.join(tmp, f"c{i}", "history.json")
                os.makedirs(os.path.dirname(path))
                with open(path, "w") as f:
                    json.dump(history(photometric=0.25, **args), f)
                row = model_card.cycles_training([path], "")[4]
                self.assertIn(want, row)
                self.assertIn("| 0.25 |", row)


if __name__ == "__main__":
    unittest.main()
