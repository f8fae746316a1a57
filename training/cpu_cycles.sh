# shellcheck shell=sh
# Shell functions shared by the CPU profile's anneal stages (training/anneal_cpu.sh,
# training/anneal_cpu_stage4.sh); sourced, not run, from the repository root. The settings both
# take from the environment (documented in their headers), with their defaults:
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-runs/emoxnet-cpu}
EPOCHS=${EPOCHS:-12}
LITE_EPOCHS=${LITE_EPOCHS:-30}
LR=${LR:-0.02}
EMA=${EMA:-0.999}
DATA=${DATA:-data/ferplus}
FERPLUS=${FERPLUS:-../shared/data/ferplus}
LANES=${LANES:-ab}

cycle() {  # NAME ARCH INIT SEED EPOCHS [TRAIN.PY ARGS...]: one cosine cycle from INIT, one thread
  name=$1 arch=$2 init=$3 seed=$4 ep=$5; shift 5
  if $PY training/run_done.py "$RUNS/$name"; then echo "== $name: done earlier, kept"; return 0; fi
  [ -f "$init" ] || { echo "missing $init (run the earlier stages first)" >&2; return 1; }
  echo "== $name ($arch from $init, seed $seed, $ep epochs) $*"
  $PY training/train.py --arch "$arch" --data "$DATA" --out "$RUNS/$name" --init "$init" \
    --seed "$seed" --epochs "$ep" --lr "$LR" --warmup 1 --ema "$EMA" --threads 1 "$@" \
    > "$RUNS/$name.log" 2>&1 || { echo "$name failed: $RUNS/$name.log" >&2; return 1; }
}

score() {  # CHECKPOINT NAME: export with flip TTA to $RUNS/NAME.emx, WASM eval to NAME.eval.json
  $PY training/export_checkpoint.py "$1" "$RUNS/$2.emx" --name "EmoXNetLite" --flip-tta
  npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$RUNS/$2.emx" --json > "$RUNS/$2.eval.json"
}

both() {  # run two shell functions side by side (two 1-thread lanes); fail if either fails
  "$1" & p1=$!
  "$2" & p2=$!
  wait $p1 || { wait $p2; return 1; }
  wait $p2
}

show() {  # NAME...: one line per $RUNS/NAME.eval.json
  for m in "$@"; do
    $PY -c 'import json, sys; e = json.load(open(sys.argv[1]))
print("%s %.2f%% (%d/%d)" % (sys.argv[2], e["accuracy"] * 100, e["correct"], e["n"]))' "$RUNS/$m.eval.json" "$m"
  done
}
