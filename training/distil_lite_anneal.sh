#!/bin/sh
# Distillation as a short anneal: start from a trained EmoXNetLite (default: the checkpoint the
# shipped model came from) and anneal it for a few epochs twice, with the same seed, schedule
# and init: once on label-smoothed votes only (control), once with the ensemble's
# temperature-softened predictions mixed in (the teacher .npy train_all.sh writes). The
# difference between the two is the distillation's effect at that starting point; both are
# exported with flip TTA and scored through WASM.
#
#   sh training/distil_lite_anneal.sh          # after PROFILE=cpu sh training/train_all.sh
#
# Env: RUNS (default runs/emoxnet-cpu: teacher.npy in, results out), INIT (default
#      runs/lite/best.pt), EPOCHS (default 6), LR (default 0.01), T (4), ALPHA (0.7),
#      DATA (default data/ferplus), FERPLUS (default ../shared/data/ferplus),
#      THREADS (per run, default 1: the two runs go side by side on a 2-core machine).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-runs/emoxnet-cpu}
INIT=${INIT:-runs/lite/best.pt}
EPOCHS=${EPOCHS:-6}
LR=${LR:-0.01}
T=${T:-4}
ALPHA=${ALPHA:-0.7}
DATA=${DATA:-data/ferplus}
FERPLUS=${FERPLUS:-../shared/data/ferplus}
THREADS=${THREADS:-1}
[ -f "$RUNS/teacher.npy" ] || { echo "no $RUNS/teacher.npy: run training/train_all.sh first" >&2; exit 1; }

run() {  # NAME EXTRA...: one anneal from INIT
  name=$1; shift
  $PY training/train.py --arch lite --data "$DATA" --out "$RUNS/$name" --init "$INIT" --lr "$LR" \
    --warmup 0 --epochs "$EPOCHS" --seed 11 --threads "$THREADS" "$@" > "$RUNS/$name.log" 2>&1
}
run anneal-nokd &
nokd=$!
run anneal-kd --teacher "$RUNS/teacher.npy" --alpha "$ALPHA" --temperature "$T" &
kd=$!
wait $nokd || { echo "anneal-nokd failed: $RUNS/anneal-nokd.log" >&2; exit 1; }
wait $kd || { echo "anneal-kd failed: $RUNS/anneal-kd.log" >&2; exit 1; }

for v in nokd kd; do
  $PY training/export_checkpoint.py "$RUNS/anneal-$v/best.pt" "$RUNS/emoxnet-lite-anneal-$v.emx" \
    --name "EmoXNetLite (anneal, $v)" --flip-tta
  npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$RUNS/emoxnet-lite-anneal-$v.emx" --json \
    > "$RUNS/emoxnet-lite-anneal-$v.eval.json"
done
$PY - "$RUNS" "$INIT" "$EPOCHS" "$LR" "$T" "$ALPHA" <<'PY' | tee "$RUNS/anneal-ablation.md"
import json, os, sys
runs, init, epochs, lr, T, alpha = sys.argv[1:]
print(f"## Distillation as an anneal of {init} ({epochs} epochs, cosine lr {lr} -> 0, seed 11; "
      f"T = {T}, alpha = {alpha})\n")
print("| Lite | Valid (PyTorch) | Valid + flip (PyTorch) | WASM .emx + flip | n |\n|---|---:|---:|---:|---:|")
for v, label in (("nokd", "anneal without distillation (label-smoothed votes)"),
                 ("kd", "anneal with distillation (ensemble, temperature-softened)")):
    h = json.load(open(os.path.join(runs, "anneal-" + v, "history.json")))["history"]
    b = max(h, key=lambda r: max(r["valid_acc"], r["valid_acc_flip"]))
    e = json.load(open(os.path.join(runs, f"emoxnet-lite-anneal-{v}.eval.json")))
    print(f"| {label} | {b['valid_acc'] * 100:.2f}% | {b['valid_acc_flip'] * 100:.2f}% | "
          f"{e['accuracy'] * 100:.2f}% ({e['correct']}) | {e['n']} |")
PY
