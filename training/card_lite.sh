#!/bin/sh
# Regenerate models/emoxnet-lite.md and its curve from the runs the shipped model came from, one
# run per stage (each stage starts from the previous stage's best checkpoint), and a WASM
# evaluation on FER+ Valid. The commands in the card are written from each run's recorded
# arguments (training/model_card.py train_command), so they are what was run.
#
#   sh training/card_lite.sh
#
# Env: STAGES (run folders, first to last; default: the shipped model's six stages),
#      FERPLUS (default ../shared/data/ferplus), NOTES (the card's closing paragraph).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
DATA="${FERPLUS:-../shared/data/ferplus}"
R=runs/emoxnet-cpu
STAGES=${STAGES:-"runs/lite-stage1 runs/lite $R/anneal-nokd $R/lite-c2 $R/lite-c3-nokd $R/lite-c4"}
LAST=$(echo "$STAGES" | awk '{print $NF}')
npx emoxnet eval "$DATA/FER2013Valid" --model models/emoxnet-lite.emx --json > runs/lite-eval.json

# one history for all stages (each stage's epochs continue the previous one's count), a title
# for the curve, and the stages' commands
# shellcheck disable=SC2086  # STAGES: folders without spaces
CMDS=$($PY - $STAGES <<'PY'
import json, sys
sys.path.insert(0, "training")
from model_card import train_command
runs = sys.argv[1:]
hs = [json.load(open(f"{r}/history.json")) for r in runs]
a = dict(hs[0], history=list(hs[0]["history"]))
for b in hs[1:]:
    n, t = len(a["history"]), a["history"][-1]["seconds"]
    a["history"] += [dict(r, epoch=r["epoch"] + n, seconds=r["seconds"] + t) for r in b["history"]]
a["args"] = dict(hs[-1]["args"], seed=", ".join(f"{h['args']['seed']} (stage {i + 1})" for i, h in enumerate(hs)))
json.dump(a, open("runs/lite-combined.json", "w"), indent=1)
title = (f"EmoXNetLite, {len(hs)} stages: epochs " + "/".join(str(len(h["history"])) for h in hs)
         + ", lr " + "/".join(f"{h['args']['lr']:g}" for h in hs))
open("runs/lite-combined.title", "w").write(title)
for i, (r, h) in enumerate(zip(runs, hs)):
    done = len(h["history"])
    note = "" if done == h["args"]["epochs"] else f"  # stopped after epoch {done} (session time)"
    # --out: the folder the run is kept in now (stage 1 was moved after it ran)
    print(f"# stage {i + 1}\n" + train_command(dict(h["args"], out=r)) + note)
PY
)
DEFAULT_NOTES="Six stages on CPU, each a cosine cycle started from the previous stage's best checkpoint: stage 1 ran 11 of its 35 planned epochs before it was stopped to fit a session; stage 2 (8 epochs) reached 85.65% with flip TTA, stage 3 (6 epochs) 86.24%, stage 4 (30 epochs, moving average of the weights, --ema 0.999) 86.78%, stage 5 (15 epochs, lr 0.01) 86.90%, stage 6 (30 epochs, lr 0.02) 87.50%. A seventh cycle from stage 6 (15 epochs, lr 0.01, training/anneal_cpu_stage4.sh) peaked at 87.40% and is not shipped. Stages 3 and 5 were each run twice from the same start, seed and schedule, with and without distillation from the EmoXNet ensemble: stage 3 with the 5-member first-cycle ensemble (85.99%) as teacher, T = 4, alpha = 0.7: 85.24% vs 86.24%; stage 5 with the then-shipped ensemble (87.28%), T = 2, alpha = 0.5: 86.65% vs 86.90%. Neither helped, so the shipped Lite is the one without distillation (models/ablation.md). The target is 87.5%: 2792 of 3191 is 87.496%, one image short of it. Label smoothing 0.1 on the vote distributions; augmentation: rotation +-15 degrees, scale 0.85-1.15, shift +-10%, mirror, random erasing. PyTorch (fp16 weights) and WASM predict the same class on all 3191 kept Valid images (training/check_agreement.py). Weak classes: disgust (25 Valid images, 24% recall) and contempt (16, none)."
$PY training/plot_history.py runs/lite-combined.json models/emoxnet-lite-curve.png "$(cat runs/lite-combined.title)"
$PY training/model_card.py --emx models/emoxnet-lite.emx --checkpoints "$LAST/best.pt" \
  --history runs/lite-combined.json --eval runs/lite-eval.json --curve models/emoxnet-lite-curve.png \
  --hardware "the project's 2-core x86-64 machine, CPU only, shared with builds, fuzzing and other training runs" \
  --train-cmd "sh scripts/setup.sh --training
/usr/bin/python3 training/ferplus.py ../shared/data/ferplus data/ferplus
# stages 1-2 by hand; stage 3 with its ablation twin by
# PROFILE=cpu sh training/train_all.sh && sh training/distil_lite_anneal.sh;
# stages 4-5 (and stage 5's ablation twin) by sh training/anneal_cpu.sh;
# stage 6 by sh training/anneal_cpu_stage4.sh
$CMDS
/usr/bin/python3 training/export_checkpoint.py $LAST/best.pt models/emoxnet-lite.emx --name EmoXNetLite --flip-tta --data data/ferplus --golden emoxnet-lite" \
  --notes "${NOTES:-$DEFAULT_NOTES}" \
  --out models/emoxnet-lite.md
