#!/bin/sh
# Write the ensemble's model card, $OUT/emoxnet.md, and $OUT/emoxnet-curve.png (every member's
# curves in one figure) from the runs of training/train_all.sh ($RUNS: ensemble.json, each
# member's best.pt and history.json) and a WASM evaluation of the .emx on FER+ Valid.
#
#   sh training/card_ensemble.sh                    # runs/emoxnet-cpu -> models/emoxnet.md
#   RUNS=/tmp/q OUT=/tmp/card LIMIT=256 sh training/card_ensemble.sh   # a quick try elsewhere
#
# Env: RUNS (default runs/emoxnet-cpu), FERPLUS (default ../shared/data/ferplus), OUT (card and
#      curve folder, default models), EMX (default models/emoxnet.emx), LIMIT (eval only the
#      first N Valid images; default all), EVAL (eval JSON written, default
#      $RUNS/emoxnet-card-eval.json), PROFILE (as given to train_all.sh, default cpu),
#      ENS_JSON (ensemble.py --summary to describe, default $RUNS/ensemble.json),
#      HARDWARE (text for the card), EXTRA (as given to train_all.sh) and EXTRA_NOTE (a
#      sentence on where those extra members come from), PIPELINE (the top-level commands that
#      trained the members, default PROFILE=$PROFILE [EXTRA=...] sh training/train_all.sh),
#      NOTE (the card's closing paragraph; default: how the weights were chosen).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-runs/emoxnet-cpu}
DATA="${FERPLUS:-../shared/data/ferplus}"
OUT=${OUT:-models}
EMX=${EMX:-models/emoxnet.emx}
EVAL=${EVAL:-$RUNS/emoxnet-card-eval.json}
ENS_JSON=${ENS_JSON:-$RUNS/ensemble.json}
PROFILE=${PROFILE:-cpu}
HARDWARE=${HARDWARE:-"the project's 2-core x86-64 machine (AMD EPYC), CPU only, shared with other jobs"}
LIM=""; [ -n "${LIMIT:-}" ] && LIM="--limit $LIMIT"
mkdir -p "$OUT"

# the member runs' folders, in the ensemble's order (ensemble.json names each member's
# checkpoint, FOLDER/best.pt, beside its history.json; paths without spaces)
MEMBERS=$($PY -c 'import json, os, sys
rows = json.load(open(sys.argv[1]))["rows"]
print(" ".join(os.path.dirname(r["checkpoint"]) for r in rows if "checkpoint" in r))' "$ENS_JSON")
CKPTS=""; HISTS=""; CURVES=""
for d in $MEMBERS; do
  CKPTS="$CKPTS $d/best.pt"; HISTS="$HISTS $d/history.json"; CURVES="$CURVES $(basename "$d")=$d/history.json"
done

# shellcheck disable=SC2086  # LIM and the lists are words without spaces
npx emoxnet eval "$DATA/FER2013Valid" --model "$EMX" --json $LIM > "$EVAL"
# shellcheck disable=SC2086
$PY training/plot_history.py --out "$OUT/emoxnet-curve.png" $CURVES \
  --title "EmoXNet ensemble members (PROFILE=$PROFILE): training loss and FER+ Valid accuracy"

# what train_all.sh ran, as the exact commands (from each run's recorded arguments)
# shellcheck disable=SC2086
STEPS=$($PY - "$RUNS" "$EMX" "$ENS_JSON" $HISTS <<'PY'
import json, os, sys
sys.path.insert(0, "training")
from model_card import train_command
runs, emx, ens_json, hists = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cks = []
for p in hists:
    a = json.load(open(p))["args"]
    print("#   " + train_command(a))
    cks.append(f"{a['out']}/best.pt")
teacher = f"--teacher-out {runs}/teacher.npy " if os.path.basename(ens_json) == "ensemble.json" else ""
print(f"#   /usr/bin/python3 training/ensemble.py {' '.join(cks)} --data {a['data']} --out {emx} "
      f"{teacher}--summary {ens_json} " + ("--quick" if a.get("quick") else "--golden emoxnet"))
PY
)

DEFAULT_NOTE="The combination weights were chosen on FER+ Valid only (greedy forward selection with replacement from one copy of each member, training/ensemble.py); FER+ Train was used only for training and FER+ Test was never used. The lite member is EmoXNetLite trained without distillation in the same run (the distillation ablation's baseline); train_all.sh then distils a Lite from this ensemble. Members are averaged inside the .emx graph (one file, one run of the C core per face)."
# shellcheck disable=SC2086
$PY training/model_card.py --emx "$EMX" --checkpoints $CKPTS --history $HISTS \
  --members-json "$ENS_JSON" --eval "$EVAL" --curve "$OUT/emoxnet-curve.png" \
  --hardware "$HARDWARE" \
  --train-cmd "sh scripts/setup.sh --training
/usr/bin/python3 training/ferplus.py ../shared/data/ferplus data/ferplus
${PIPELINE:-PROFILE=$PROFILE${EXTRA:+ EXTRA=$EXTRA} sh training/train_all.sh}
# which runs (seeds fixed in the scripts; the members first, then the ensemble):
$STEPS" \
  --notes "${NOTE:-$DEFAULT_NOTE}${EXTRA:+ $EXTRA_NOTE}" \
  --out "$OUT/emoxnet.md"
