"""pipeline.load_recipe: every recipe in training/recipes loads, and a member given as
{"from": recipe, "name": member} is that recipe's member, settings and run folder alike."""
import glob
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pipeline  # noqa: E402

MEMBER = dict(name="faceres-192", arch="faceres-192", init="faceres", epochs=10, lr=0.01, seed=1)


class LoadRecipeTest(unittest.TestCase):
    def write(self, tmp, name, recipe):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            json.dump(recipe, f)
        return path

    def test_every_shipped_recipe_loads(self):
        paths = glob.glob(os.path.join(HERE, "recipes", "*.json"))
        self.assertTrue(paths)
        for path in paths:
            r = pipeline.load_recipe(path)
            self.assertTrue(all("from" not in m for m in r.get("members", [])), path)

    def test_member_from_another_recipe(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.write(tmp, "one.json", dict(name="E", kind="ensemble", members=[MEMBER]))
            self.write(tmp, "two.json", dict(name="E", kind="ensemble", members=[
                dict(MEMBER, name="other"), dict(MEMBER, name="faceres-192", seed=5)]))
            pool = self.write(tmp, "pool.json", dict(name="E", kind="ensemble", members=[
                dict(name="lite", arch="lite", epochs=1), {"from": "one.json"},
                {"from": "two.json", "name": "faceres-192"}]))
            r = pipeline.load_recipe(pool)
            self.assertEqual(r["members"], [dict(name="lite", arch="lite", epochs=1), MEMBER,
                                            dict(MEMBER, seed=5)])
            self.assertEqual(r["key"], "pool")

    def test_member_not_found(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.write(tmp, "two.json", dict(name="E", kind="ensemble", members=[
                dict(MEMBER, name="a"), dict(MEMBER, name="b")]))
            for ref in ({"from": "two.json"}, {"from": "two.json", "name": "c"}):
                pool = self.write(tmp, "pool.json", dict(name="E", kind="ensemble", members=[ref]))
                with self.assertRaises(SystemExit):
                    pipeline.load_recipe(pool)


if __name__ == "__main__":
    unittest.main()
