#!/bin/sh
# EmoXNet from scratch, one command: the four ensemble members (seeded), the ensemble (weights
# chosen on FER+ Valid, teacher probabilities on Train), EmoXNetLite distilled from it and the
# same Lite without distillation (ablation), exports, WASM evaluation and an ablation table.
#
#   sh training/train_all.sh               # full schedule (GPU: minutes to hours; CPU: days)
#   PROFILE=cpu sh training/train_all.sh   # CPU-sized members and schedule: ~1.5 h on 2 cores
#   QUICK=1 sh training/train_all.sh       # --quick everywhere: a few minutes on CPU
#
# PROFILE=full (default): members vgg, resnet, sewide, sep (1.4-2.8M params, 40 epochs, mixup or
# cutmix). PROFILE=cpu: members lite, lite-w, resnet-s, sewide-s (0.3-0.7M params, EPOCHS=10,
# LITE_EPOCHS=12, no mixing: too few epochs for it to pay); the Lite trained without
# distillation is also the ensemble's `lite` member (same seed, same schedule).
#
# Env: FERPLUS (FER+ root with PNGs, for the WASM eval; default ../shared/data/ferplus),
#      DATA (train.py --data; default data/ferplus if packed there, else FERPLUS),
#      RUNS (default runs/emoxnet, or runs/quick with QUICK=1), EPOCHS (members, default 40),
#      LITE_EPOCHS (default 40), T (temperature, default 4), ALPHA (default 0.7), AMP=1,
#      EXTRA (more member checkpoints, space-separated, e.g. an earlier, longer-trained Lite),
#      RESUME=1 (keep every run of $RUNS whose history shows all its epochs done).
# Full and cpu modes write models/emoxnet.emx and tests/golden/emoxnet.*; the Lite candidates stay in
# $RUNS (copy the distilled one to models/emoxnet-lite.emx to ship it). QUICK mode writes only
# under $RUNS.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
FERPLUS=${FERPLUS:-../shared/data/ferplus}
if [ -z "${DATA:-}" ]; then
  if [ -f data/ferplus/train.npz ]; then DATA=data/ferplus; else DATA=$FERPLUS; fi
fi
QUICK=${QUICK:-0}
T=${T:-4}
ALPHA=${ALPHA:-0.7}
if [ "$QUICK" = 1 ]; then
  RUNS=${RUNS:-runs/quick}; Q=--quick; ENS_OUT=$RUNS/emoxnet.emx; GOLDEN=""; LIMIT="--limit 256"
else
  RUNS=${RUNS:-runs/emoxnet-${PROFILE:-full}}; Q=""; ENS_OUT=models/emoxnet.emx; GOLDEN="--golden emoxnet"; LIMIT=""
fi
PROFILE=${PROFILE:-full}
case $PROFILE in
  full) EPOCHS=${EPOCHS:-40}; LITE_EPOCHS=${LITE_EPOCHS:-40} ;;
  cpu)  EPOCHS=${EPOCHS:-10}; LITE_EPOCHS=${LITE_EPOCHS:-12} ;;
  *) echo "PROFILE must be full or cpu" >&2; exit 2 ;;
esac
AMPF=""; [ "${AMP:-0}" = 1 ] && AMPF=--amp
mkdir -p "$RUNS"
logged() {  # LOG CMD...: run CMD, output to the terminal and LOG; fail when CMD fails (no pipefail in sh)
  log=$1; shift
  { if "$@" 2>&1; then echo 0 > "$log.rc"; else echo $? > "$log.rc"; fi; } | tee "$log"
  rc=$(cat "$log.rc"); rm -f "$log.rc"
  [ "$rc" = 0 ] || { echo "failed ($rc): $*" >&2; exit "$rc"; }
}
train() {  # NAME ARCH SEED EPOCHS LR EXTRA...
  name=$1 arch=$2 seed=$3 ep=$4 lr=$5; shift 5
  if [ "${RESUME:-0}" = 1 ] && $PY training/run_done.py "$RUNS/$name"; then
    echo "== $name: finished in an earlier run (RESUME=1), kept"
    return
  fi
  echo "== train $name ($arch, seed $seed)"
  logged "$RUNS/$name.log" $PY training/train.py --arch "$arch" --data "$DATA" \
    --out "$RUNS/$name" --seed "$seed" --epochs "$ep" --lr "$lr" $Q $AMPF "$@"
}

# 1. ensemble members: different families, depths, input sizes; strong augmentation
#    (rotation/scale/shift/mirror/erasing in train.py) plus mixup or cutmix; cosine; fixed seeds.
#    The Lite without distillation (ablation baseline) is trained here too.
train lite-nokd lite 7 "$LITE_EPOCHS" 0.05
if [ "$PROFILE" = cpu ]; then
  train resnet-s resnet-s 102 "$EPOCHS" 0.05
  train sewide-s sewide-s 103 "$EPOCHS" 0.05
  train lite-w   lite-w   101 "$EPOCHS" 0.05
  MEMBER_RUNS="lite-nokd resnet-s sewide-s lite-w"
else
  train vgg    vgg    101 "$EPOCHS" 0.05 --mix mixup  --mix-alpha 0.2
  train resnet resnet 102 "$EPOCHS" 0.05 --mix cutmix --mix-alpha 1.0
  train sewide sewide 103 "$EPOCHS" 0.05 --mix mixup  --mix-alpha 0.2
  train sep    sep    104 "$EPOCHS" 0.05 --mix cutmix --mix-alpha 1.0
  MEMBER_RUNS="vgg resnet sewide sep"
fi

# 2. ensemble: weights on Valid, teacher probabilities on Train (flip TTA), export
echo "== ensemble"
CKPTS=""; for r in $MEMBER_RUNS; do CKPTS="$CKPTS $RUNS/$r/best.pt"; done
CKPTS="$CKPTS ${EXTRA:-}"
# shellcheck disable=SC2086  # CKPTS is a list of paths without spaces
logged "$RUNS/ensemble.log" $PY training/ensemble.py $CKPTS --data "$DATA" --out "$ENS_OUT" \
  --teacher-out "$RUNS/teacher.npy" --summary "$RUNS/ensemble.json" $GOLDEN $Q

# 3. EmoXNetLite distilled: same seed and schedule as lite-nokd (the ablation)
train lite-kd   lite 7 "$LITE_EPOCHS" 0.05 --teacher "$RUNS/teacher.npy" --alpha "$ALPHA" \
  --temperature "$T"
for v in nokd kd; do
  $PY training/export_checkpoint.py "$RUNS/lite-$v/best.pt" "$RUNS/emoxnet-lite-$v.emx" \
    --name "EmoXNetLite ($v)" --flip-tta
done

# 4. WASM evaluation (FER+ Valid, majority protocol) and the ablation table
for m in emoxnet-lite-nokd emoxnet-lite-kd; do
  npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$RUNS/$m.emx" --json $LIMIT > "$RUNS/$m.eval.json"
done
npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$ENS_OUT" --json $LIMIT > "$RUNS/emoxnet.eval.json"
# 5. C/WASM vs PyTorch, per image on FER+ Valid (the issue's bar: >= 99.9% same class); the
#    QUICK run's tiny models have near-ties, so it skips this
if [ "$QUICK" != 1 ]; then
  $PY training/check_agreement.py "$ENS_OUT" --ensemble-json "$RUNS/ensemble.json" --data "$DATA" \
    --valid-dir "$FERPLUS/FER2013Valid" --out "$RUNS/emoxnet.agreement.json"
  for v in nokd kd; do
    $PY training/check_agreement.py "$RUNS/emoxnet-lite-$v.emx" --checkpoints "$RUNS/lite-$v/best.pt" \
      --flip-tta --data "$DATA" --valid-dir "$FERPLUS/FER2013Valid" --out "$RUNS/emoxnet-lite-$v.agreement.json"
  done
fi
$PY - "$RUNS" "$T" "$ALPHA" "$QUICK" <<'PY' > "$RUNS/ablation.md"
import json, os, sys
runs, T, alpha, quick = sys.argv[1:]
ev = lambda m: json.load(open(os.path.join(runs, m + ".eval.json")))
best = lambda r: json.load(open(os.path.join(runs, r, "history.json")))
ens = json.load(open(os.path.join(runs, "ensemble.json")))
print("# EmoXNet: ensemble and distillation ablation" + (" (QUICK schedule: smoke test, not results)" if quick == "1" else ""))
print()
print("FER+ Valid, majority protocol. PyTorch columns: best epoch's Valid accuracy (fp32); "
      "WASM: the exported fp16 .emx with flip TTA, through `npx emoxnet eval`.")
print()
print("| model | params | fp16 MB | weight | Valid | Valid + flip |\n|---|---:|---:|---:|---:|---:|")
n = len(ens["weights"])
for i, r in enumerate(ens["rows"]):
    w = f"{ens['weights'][i]:.3f}" if i < n else ""
    print(f"| {r['name']} | {r['params']:,} | {r['fp16_bytes'] / 1e6:.2f} | {w} | {r['valid'] * 100:.2f}% | {r['valid_flip'] * 100:.2f}% |")
e = ev("emoxnet")
print(f"\nEnsemble through WASM: {e['accuracy'] * 100:.2f}% ({e['correct']}/{e['n']}).")
agree = os.path.join(runs, "emoxnet.agreement.json")
if os.path.exists(agree):
    a = json.load(open(agree))
    print(f"Same class as PyTorch on {a['agree']}/{a['n']} Valid images "
          f"(largest probability difference {a['max_abs_prob_diff']:.1e}).")
print()
print(f"## Distillation ablation (EmoXNetLite, same seed and schedule; T = {T}, alpha = {alpha})\n")
print("| Lite | Valid (PyTorch) | Valid + flip (PyTorch) | WASM .emx + flip | n |\n|---|---:|---:|---:|---:|")
for v, label in (("nokd", "without distillation (label-smoothed votes)"),
                 ("kd", "with distillation (ensemble, temperature-softened)")):
    h = best("lite-" + v)["history"]
    b = max(h, key=lambda r: max(r["valid_acc"], r["valid_acc_flip"]))
    e = ev("emoxnet-lite-" + v)
    print(f"| {label} | {b['valid_acc'] * 100:.2f}% | {b['valid_acc_flip'] * 100:.2f}% | {e['accuracy'] * 100:.2f}% | {e['n']} |")
PY
cat "$RUNS/ablation.md"
echo "ablation table: $RUNS/ablation.md"
