"""The "FER+ Valid accuracy" section of a model card, from `emoxnet eval --json` (what users get
through WASM, not PyTorch's figures). model_card.py writes it into new cards; run alone, it
rewrites that section of an existing card in place (e.g. after training/calibrate.py changed
the file), leaving the rest of the card as it was:

    node bin/emoxnet.js eval ../shared/data/ferplus/FER2013Valid --model models/emoxnet.emx \\
        --json > /tmp/ev.json
    /usr/bin/python3 training/card_valid.py models/emoxnet.md models/emoxnet.emx /tmp/ev.json

Needs no PyTorch.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emx_format  # noqa: E402
import ferplus  # noqa: E402

HEADING = "## FER+ Valid accuracy (majority protocol)"


def valid_section(ev, emx_path, meta):
    """Lines of the section: accuracy, mean per-class recall, ECE, calibration, per-class recall
    and the confusion matrix."""
    L = [HEADING, "",
         f"**{ev['accuracy'] * 100:.2f}%** on n = {ev['n']} images, measured through the "
         f"WebAssembly module by:", "", "```",
         f"npx emoxnet eval ../shared/data/ferplus/FER2013Valid --model {emx_path}", "```", ""]
    if "mean_class_recall" in ev:
        L += [f"Mean per-class recall {ev['mean_class_recall'] * 100:.2f}%; expected calibration "
              f"error (15 bins) {ev['ece'] * 100:.2f}%.", ""]
    if meta.get("calibration"):
        L += [f"Calibration (a CALIBRATE op at the end of the graph, applied by the C core): "
              f"{meta['calibration']}.", ""]
    L += ["| class | n | recall |", "|---|---:|---:|"]
    for c in ferplus.CLASSES:
        r = ev["per_class"][c]
        L.append(f"| {c} | {ev.get('per_class_n', {}).get(c, '')} | "
                 + ("-" if r is None else f"{r * 100:.1f}%") + " |")
    L += ["", "Confusion matrix (rows: true label, columns: prediction):", "",
          "| true \\ pred | " + " | ".join(c[:4] for c in ferplus.CLASSES) + " |",
          "|---|" + "---:|" * len(ferplus.CLASSES)]
    for c, row in zip(ferplus.CLASSES, ev["confusion"]):
        L.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    return L


def replace_in_card(card, emx_path, ev):
    text = open(card).read()
    meta = dict(emx_format.read(emx_path).meta)
    start = text.index(HEADING)
    # the section ends at the confusion matrix's last row (the per-class table above it has a
    # contempt row too: ending there left the old matrix under the new one)
    matrix = text.index("Confusion matrix", start)
    end_match = re.compile(r"^\| contempt \|[^\n]*\n", re.M).search(text, matrix)
    new = "\n".join(valid_section(ev, emx_path, meta)) + "\n"
    text = text[:start] + new + text[end_match.end():]
    size = os.path.getsize(emx_path)
    text = re.sub(r"(\| File \| `[^`]+` \()[\d,]+ bytes", lambda m: f"{m.group(1)}{size:,} bytes", text)
    open(card, "w").write(text)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    card, emx_path, ev_path = sys.argv[1:]
    replace_in_card(card, emx_path, json.loads(open(ev_path).read().strip().splitlines()[-1]))
    print(f"updated {card}")
