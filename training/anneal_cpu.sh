#!/bin/sh
# Stage 3 of the CPU profile: a second, longer cosine cycle (warm restart) for the Lite and for
# the ensemble's larger members, with a moving average of the weights (train.py --ema). The
# first cycles of PROFILE=cpu were 10-12 epochs, too short to converge; restarting from their
# best checkpoints costs less than training from scratch for longer.
#
#   sh training/anneal_cpu.sh        # after PROFILE=cpu sh training/train_all.sh and
#                                    # sh training/distil_lite_anneal.sh (about 1.5 h on 2 cores)
#
# Two lanes side by side, one thread each (two single-thread runs train more images per second
# on 2 cores than one run on two threads): lane A the Lite from the shipped Lite's checkpoint
# (LITE_EPOCHS), then a second Lite from the first cycle's Lite (a different member for the
# ensemble); lane B resnet-s, lite-w and sewide-s (EPOCHS each). Then a new ensemble from every
# member (old and new; weights chosen on Valid by training/ensemble.py) and the new Lite, both
# exported to $RUNS and scored through WASM. Copy them to models/ to ship them.
#
# Env: RUNS (default runs/emoxnet-cpu), EPOCHS (members, default 12), LITE_EPOCHS (default 30),
#      LR (default 0.02), EMA (default 0.999), DATA (default data/ferplus),
#      FERPLUS (default ../shared/data/ferplus), LANES (a or b to run one lane only).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-runs/emoxnet-cpu}
EPOCHS=${EPOCHS:-12}
LITE_EPOCHS=${LITE_EPOCHS:-30}
LR=${LR:-0.02}
EMA=${EMA:-0.999}
DATA=${DATA:-data/ferplus}
FERPLUS=${FERPLUS:-../shared/data/ferplus}
LANES=${LANES:-ab}

cycle() {  # NAME ARCH INIT SEED EPOCHS: one warm-restart cycle from INIT, one thread
  [ -f "$3" ] || { echo "missing $3 (run the earlier stages first)" >&2; return 1; }
  echo "== $1 ($2 from $3, seed $4, $5 epochs)"
  $PY training/train.py --arch "$2" --data "$DATA" --out "$RUNS/$1" --init "$3" --seed "$4" \
    --epochs "$5" --lr "$LR" --warmup 1 --ema "$EMA" --threads 1 > "$RUNS/$1.log" 2>&1 ||
    { echo "$1 failed: $RUNS/$1.log" >&2; return 1; }
}
lane_a() {
  cycle lite-c2 lite "$RUNS/anneal-nokd/best.pt" 21 "$LITE_EPOCHS" &&
  cycle lite-nokd-c2 lite "$RUNS/lite-nokd/best.pt" 25 "$LITE_EPOCHS"
}
lane_b() {
  cycle resnet-s-c2 resnet-s "$RUNS/resnet-s/best.pt" 22 "$EPOCHS" &&
  cycle lite-w-c2 lite-w "$RUNS/lite-w/best.pt" 23 "$EPOCHS" &&
  cycle sewide-s-c2 sewide-s "$RUNS/sewide-s/best.pt" 24 "$EPOCHS"
}
pids=""
case $LANES in *a*) lane_a & pids="$pids $!" ;; esac
case $LANES in *b*) lane_b & pids="$pids $!" ;; esac
for p in $pids; do wait "$p" || exit 1; done

# the ensemble: every member so far, old and new (the selection gives each a weight)
CKPTS=""
for r in lite-nokd resnet-s sewide-s lite-w anneal-nokd resnet-s-c2 lite-w-c2 sewide-s-c2 lite-c2 lite-nokd-c2; do
  [ -f "$RUNS/$r/best.pt" ] && CKPTS="$CKPTS $RUNS/$r/best.pt"
done
[ -f runs/lite/best.pt ] && CKPTS="$CKPTS runs/lite/best.pt"
# shellcheck disable=SC2086  # a list of paths without spaces
$PY training/ensemble.py $CKPTS --data "$DATA" --out "$RUNS/emoxnet-c2.emx" \
  --teacher-out "$RUNS/teacher-c2.npy" --summary "$RUNS/ensemble-c2.json" > "$RUNS/ensemble-c2.log" 2>&1
npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$RUNS/emoxnet-c2.emx" --json > "$RUNS/emoxnet-c2.eval.json"
$PY training/export_checkpoint.py "$RUNS/lite-c2/best.pt" "$RUNS/emoxnet-lite-c2.emx" \
  --name "EmoXNetLite" --flip-tta
npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$RUNS/emoxnet-lite-c2.emx" --json > "$RUNS/emoxnet-lite-c2.eval.json"
for m in emoxnet-c2 emoxnet-lite-c2; do
  $PY -c 'import json, sys; e = json.load(open(sys.argv[1])); print(sys.argv[2], f"{e[\"accuracy\"] * 100:.2f}% ({e[\"correct\"]}/{e[\"n\"]})")' \
    "$RUNS/$m.eval.json" "$m"
done
