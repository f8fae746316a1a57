"""Robustness of a shipped model to what the product sees: FER+ Valid faces reframed, relit,
blurred, compressed and noised, each set scored through WASM with `emoxnet eval`.

    /usr/bin/python3 training/robustness.py ../shared/data/ferplus/FER2013Valid \\
        --model models/emoxnet-lite.emx [--model models/emoxnet.emx] [--work /tmp/emx-robust] \\
        [--card models/emoxnet-lite.md ...]   # one --card per --model: writes its table

Perturbations (each a whole FER+-layout folder: the same label.csv, every face changed the same
way, deterministic): crop scale 0.85 / 1.15 (tighter / looser framing, as the detector's boxes
vary), shift +-10% of the side (right-down / left-up), rotation +-15 degrees (roll left after
eye alignment), gamma 0.6 / 1.6 (brighter / darker), Gaussian blur (radius 1 px at 48 px), JPEG
quality 30, sensor noise (Gaussian, sigma 8 of 255). Framing changes read outside the 48x48
crop, which FER+ does not have: the face is padded by replicating its edges first. Needs Pillow,
NumPy and Node (no PyTorch). The perturbed sets are cached in --work and reused, and so is each
set's score, under the model's bytes and the WebAssembly build's (a candidate judged before it
ships is not scored again when it ships: an ensemble's 12 sets take about an hour on 2 cores).
--jobs N scores N sets at once (each `emoxnet eval` is one Node thread).
"""
import argparse
import glob
import hashlib
import io
import json
import math
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wasm_eval import evaluate  # noqa: E402

PAD = 24  # edge-replicated margin for reframing (half the face side)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
# what `emoxnet eval` runs besides the model: a score is reused only while these are unchanged
SCORER_FILES = ("bin/*.js", "wasm/emoxnet.js", "wasm/lib/*.js", "wasm/dist/*.wasm")


def reframe(img, scale=1.0, dx=0.0, dy=0.0, degrees=0.0):
    """Crop a square of `scale` x the side, centred (dx, dy) x side off the face centre, rotated
    by `degrees` (the content turns counter-clockwise on screen for positive values), resampled back to the face's size."""
    a = np.asarray(img)
    n = a.shape[0]
    big = Image.fromarray(np.pad(a, PAD, mode="edge"))
    c = PAD + n / 2.0
    th = math.radians(-degrees)  # image rows grow downwards: + turns the content counter-clockwise, as PIL's rotate
    # output pixel (u, v) -> input (x, y): centre, scale, rotate, shift (PIL's inverse map)
    s = scale
    ca, sa = math.cos(th) * s, math.sin(th) * s
    cx, cy = c + dx * n, c + dy * n
    coeffs = (ca, sa, cx - ca * n / 2 - sa * n / 2,
              -sa, ca, cy + sa * n / 2 - ca * n / 2)
    return big.transform((n, n), Image.AFFINE, coeffs, resample=Image.BILINEAR)


def gamma(img, g):
    a = np.asarray(img).astype(np.float64) / 255.0
    return Image.fromarray(np.clip(np.round(255.0 * a ** g), 0, 255).astype(np.uint8))


def jpeg(img, quality):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def noise(img, sigma, seed):
    rng = np.random.default_rng(seed)
    a = np.asarray(img).astype(np.float64) + rng.normal(0.0, sigma, np.asarray(img).shape)
    return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8))


PERTURBATIONS = [
    ("crop scale 0.85", lambda im, i: reframe(im, scale=0.85)),
    ("crop scale 1.15", lambda im, i: reframe(im, scale=1.15)),
    ("shift +10%", lambda im, i: reframe(im, dx=0.10, dy=0.10)),
    ("shift -10%", lambda im, i: reframe(im, dx=-0.10, dy=-0.10)),
    ("rotation +15 deg", lambda im, i: reframe(im, degrees=15)),
    ("rotation -15 deg", lambda im, i: reframe(im, degrees=-15)),
    ("gamma 0.6", lambda im, i: gamma(im, 0.6)),
    ("gamma 1.6", lambda im, i: gamma(im, 1.6)),
    ("blur (Gaussian, 1 px)", lambda im, i: im.filter(ImageFilter.GaussianBlur(1.0))),
    ("JPEG quality 30", lambda im, i: jpeg(im, 30)),
    ("sensor noise (sigma 8)", lambda im, i: noise(im, 8.0, i)),
]


def slug(name):
    """Folder name of a condition; signs are spelled out so +10% and -10% get their own."""
    name = name.lower().replace("+", " plus ").replace("-", " minus ")
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def make_set(valid, out, fn, limit=None):
    """A FER+-layout copy of `valid` (its first `limit` rows) with fn applied to every image
    (kept if already made)."""
    done = os.path.join(out, ".complete")
    if os.path.exists(done):
        return out
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(valid, "label.csv")) as f:
        lines = [line for line in f if line.strip()][:limit]
    with open(os.path.join(out, "label.csv"), "w") as f:
        f.writelines(lines)
    names = [line.split(",")[0].strip() for line in lines]
    for i, name in enumerate(names):
        src = os.path.join(valid, name)
        if not os.path.exists(src):
            continue
        with Image.open(src) as im:
            fn(im.convert("L"), i).save(os.path.join(out, name))
    open(done, "w").close()
    return out


def score_key(model):
    """The cache key of a model's scores: its bytes and the scorer's (CLI, JS, .wasm)."""
    h = hashlib.sha256()
    for path in [model] + sorted(p for pat in SCORER_FILES for p in glob.glob(os.path.join(ROOT, pat))):
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def cached_evaluate(folder, model, cache, key):
    """`emoxnet eval` of model on folder, kept as CACHE/KEY.json and read back while the key
    holds (the folder's images are fixed: each set is made once, deterministically)."""
    path = os.path.join(cache, key + ".json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    ev = evaluate(folder, model)
    os.makedirs(cache, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(ev, f)
    os.replace(path + ".tmp", path)  # a stopped run leaves no half-written score
    return ev


def table(rows, clean):
    """Markdown lines: one row per condition, then the mean drop."""
    L = ["| condition | top-1 | drop | mean per-class recall |", "|---|---:|---:|---:|",
         f"| clean | {clean['accuracy'] * 100:.2f}% | | {clean['mean_class_recall'] * 100:.2f}% |"]
    drops = []
    for name, ev in rows:
        d = (clean["accuracy"] - ev["accuracy"]) * 100
        drops.append(d)
        L.append(f"| {name} | {ev['accuracy'] * 100:.2f}% | {d:+.2f} | {ev['mean_class_recall'] * 100:.2f}% |")
    L.append(f"| **mean drop** | | **{np.mean(drops):+.2f}** | |")
    return L, float(np.mean(drops))


def write_card(card, model, lines):
    heading = "## Robustness (FER+ Valid, perturbed)"
    body = [heading, "",
            "Each row scores all FER+ Valid faces changed the same way, through WASM "
            "(drop: points of top-1 below clean). Made and scored by:", "", "```",
            f"/usr/bin/python3 training/robustness.py ../shared/data/ferplus/FER2013Valid --model {model}",
            "```", ""] + lines + ["", ""]  # a blank line between the table and the next heading
    text = open(card).read()
    if heading in text:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + "\n".join(body) + (text[nxt + 1:] if nxt >= 0 else "")
    else:
        i = text.index("\n## Training")
        text = text[:i + 1] + "\n".join(body) + text[i + 1:]
    open(card, "w").write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("valid")
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--card", action="append", default=[])
    ap.add_argument("--work", default=os.path.join("/tmp", "emx-robustness"))
    ap.add_argument("--limit", type=int, help="only the first N rows of label.csv (smoke tests)")
    ap.add_argument("--jobs", type=int, default=1, help="sets scored at once (one Node process each)")
    args = ap.parse_args(argv)
    if args.limit:
        args.work = os.path.join(args.work, f"limit-{args.limit}")
    if args.card and len(args.card) != len(args.model):
        sys.exit("give one --card per --model, or none")
    sets = [(name, make_set(args.valid, os.path.join(args.work, slug(name)), fn, args.limit))
            for name, fn in PERTURBATIONS]
    # the clean reference on the same rows (with --limit: a copy of those rows, unchanged)
    clean_dir = (make_set(args.valid, os.path.join(args.work, "clean"), lambda im, i: im, args.limit)
                 if args.limit else args.valid)
    result = {}
    for k, model in enumerate(args.model):
        key = score_key(model)
        folders = [("clean", clean_dir)] + sets
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            evs = list(pool.map(lambda nf: cached_evaluate(nf[1], model, os.path.join(
                args.work, "scores", slug(nf[0])), key), folders))
        clean, rows = evs[0], [(name, ev) for (name, _), ev in zip(sets, evs[1:])]
        lines, mean_drop = table(rows, clean)
        print(f"{model}\n" + "\n".join(lines) + "\n", flush=True)
        if args.card:
            write_card(args.card[k], model, lines)
        result[model] = dict(clean=clean["accuracy"], mean_drop=mean_drop,
                             rows={n: e["accuracy"] for n, e in rows})
    return result


if __name__ == "__main__":
    main()
