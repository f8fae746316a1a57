#!/bin/sh
# Stage 4 of the CPU profile: one more cosine cycle (warm restart) for every lineage, after
# training/anneal_cpu.sh. Measured there: each longer cycle from the previous best checkpoint
# gained on FER+ Valid (the Lite 86.24 -> 86.78 -> 86.90%, resnet-s 84.14 -> 86.15%), and the
# ensemble gained little from members that were still far below the Lite.
#
#   sh training/anneal_cpu_stage4.sh   # after training/anneal_cpu.sh (about 1.5 h on 2 cores)
#   SHIP=1 sh training/anneal_cpu_stage4.sh   # and write models/emoxnet.emx, goldens, card
#
# Two single-thread lanes side by side: lane A the shipped Lite's lineage (30 epochs at lr 0.02,
# then 15 at lr 0.01) and then the second Lite lineage (30 epochs); lane B sewide-s, resnet-s
# and lite-w (EPOCHS each), then resnet-s once more (10 epochs: it gained most per cycle). Then
# every candidate Lite is scored through WASM, and the ensemble of the stage's members is built
# with weights chosen on Valid (training/ensemble.py). A cycle whose history shows all its epochs
# is kept, not rerun (so an interrupted run resumes).
#
# Env: RUNS (default runs/emoxnet-cpu), EPOCHS (members, default 12), LITE_EPOCHS (default 30),
#      LR (default 0.02), EMA (default 0.999), DATA (default data/ferplus),
#      FERPLUS (default ../shared/data/ferplus), LANES (a or b to run one lane only).
set -eu
cd "$(dirname "$0")/.."
. training/cpu_cycles.sh  # PY and the settings in the header (defaults there); cycle, score, both, show

lane_a() {
  cycle lite-c4 lite "$RUNS/lite-c3-nokd/best.pt" 51 "$LITE_EPOCHS" &&
  cycle lite-c5 lite "$RUNS/lite-c4/best.pt" 61 15 --lr 0.01 &&
  cycle lite-nokd-c3 lite "$RUNS/lite-nokd-c2/best.pt" 55 "$LITE_EPOCHS"
}
lane_b() {
  cycle sewide-s-c2 sewide-s "$RUNS/sewide-s/best.pt" 41 "$EPOCHS" &&
  cycle resnet-s-c3 resnet-s "$RUNS/resnet-s-c2/best.pt" 42 "$EPOCHS" &&
  cycle lite-w-c3 lite-w "$RUNS/lite-w-c2/best.pt" 53 "$EPOCHS" &&
  cycle resnet-s-c4 resnet-s "$RUNS/resnet-s-c3/best.pt" 44 10
}
case $LANES in
  ab) both lane_a lane_b || exit 1 ;;
  a) lane_a || exit 1 ;;
  b) lane_b || exit 1 ;;
esac

for r in lite-c4 lite-c5 lite-nokd-c3; do score "$RUNS/$r/best.pt" "emoxnet-$r"; done
# the ensemble: one member per lineage, each at its best cycle, weights chosen on Valid
# (training/ensemble.py). Measured on FER+ Valid: 87.84% (2803/3191); with resnet-s-c3 in place
# of resnet-s-c4 87.68%; without sewide-s (weight 0.05) also 87.84%, kept for a fourth family.
CKPTS=""
for r in sewide-s-c2 resnet-s-c4 lite-w-c3 lite-c4 lite-nokd-c3; do CKPTS="$CKPTS $RUNS/$r/best.pt"; done
# SHIP=1: the ensemble goes straight to models/emoxnet.emx with its goldens (one ensemble.py
# pass either way), is checked against PyTorch on every Valid image and gets its card.
# (The Lite ships by export_checkpoint.py and training/card_lite.sh: models/emoxnet-lite.md.)
EMX=$RUNS/emoxnet-c4.emx GOLDEN=""
[ "${SHIP:-0}" = 1 ] && EMX=models/emoxnet.emx GOLDEN="--golden emoxnet"
# shellcheck disable=SC2086  # a list of paths without spaces; GOLDEN: two words or none
$PY training/ensemble.py $CKPTS --data "$DATA" --out "$EMX" \
  --summary "$RUNS/ensemble-c4.json" $GOLDEN > "$RUNS/ensemble-c4.log" 2>&1
npx emoxnet eval "$FERPLUS/FER2013Valid" --model "$EMX" --json > "$RUNS/emoxnet-c4.eval.json"
show emoxnet-lite-c4 emoxnet-lite-c5 emoxnet-lite-nokd-c3 emoxnet-c4
[ "${SHIP:-0}" = 1 ] || exit 0

$PY training/check_agreement.py models/emoxnet.emx --ensemble-json "$RUNS/ensemble-c4.json" \
  --data "$DATA" --valid-dir "$FERPLUS/FER2013Valid" --out "$RUNS/emoxnet-c4.agreement.json"
export RUNS
ENS_JSON=$RUNS/ensemble-c4.json EVAL=$RUNS/emoxnet-c4-card-eval.json \
PIPELINE="PROFILE=cpu EXTRA=runs/lite/best.pt sh training/train_all.sh  # first cycles
sh training/distil_lite_anneal.sh  # the Lite's third stage (earlier stages: models/emoxnet-lite.md)
sh training/anneal_cpu.sh          # second cycles (--init: the previous cycle's best checkpoint)
SHIP=1 sh training/anneal_cpu_stage4.sh  # third (resnet-s: fourth) cycles, then this ensemble" \
NOTE="Members: one per lineage, each a chain of cosine cycles, every cycle started from the previous one's best checkpoint (--init, in the commands above), the later ones with a moving average of the weights (--ema 0.999): sewide-s 78.82% -> 81.67% (two cycles, 22 epochs), resnet-s 84.14% -> 86.15% -> 86.90% -> 87.25% (four cycles, 46 epochs), lite-w 84.96% -> 85.93% -> 86.74% (three cycles, 34 epochs), lite-c4 is the shipped EmoXNetLite (87.50%, six stages: models/emoxnet-lite.md) and lite-nokd-c3 a second Lite from another seed (85.99% -> 87.03%, 30 more epochs). The combination weights were chosen on FER+ Valid only (greedy forward selection with replacement from one copy of each member, training/ensemble.py); uniform weights give less (table above), so the shipped figure is optimistic by up to that difference. The member set was chosen on Valid too (training/anneal_cpu_stage4.sh says what else was measured). FER+ Train was used only for training, FER+ Test never. Members are averaged inside the .emx graph (one file, one run of the C core per face). The ensemble is only 0.3 points above its best member: the members are small, CPU-trained and make most of the same errors. The target (89%) is not reached; larger members trained longer (PROFILE=full, sized for a GPU) are what remains." \
  sh training/card_ensemble.sh
