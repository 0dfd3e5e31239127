#!/usr/bin/env bash
# Final training run, in three stages:
#   1. generate 160 000 crops with generator version 1 (seed 2024) and train the CTC reader for 12 epochs;
#   2. generate 120 000 crops with generator version 2 (seed 2025: plain-bar 1s, narrow glyphs, tall
#      emblems between groups, side logos) and fine-tune stage 1's weights on both sets for 3 epochs;
#   3. generate 100 000 crops with generator version 3 (seed 2026: more plain-bar 1s, US serials
#      without I/O/Q) and fine-tune stage 2's weights on the version-2 and version-3 sets for 3 epochs.
#   cd models/train && nohup bash run_final.sh > /tmp/anpr-train.log 2>&1 &
# A set already generated (same count, seed and generator) is reused, and so is a stage's
# checkpoint when it exists ($CKPT1, $CKPT2: delete one to train that stage again).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY="${VENV:-/root/.cache/gatehouse/train-venv}/bin/python"
CACHE=/root/.cache/gatehouse/anpr
DATA="${DATA:-$CACHE/synth-160k}"
DATA2="${DATA2:-$CACHE/synth-v2-120k}"
CKPT1="${CKPT1:-$CACHE/plate_ocr_ctc.pt}"
DATA3="${DATA3:-$CACHE/synth-v3-100k}"
CKPT2="${CKPT2:-$CACHE/plate_ocr_ctc_v2.pt}"
CKPT3="${CKPT3:-$CACHE/plate_ocr_ctc_v3.pt}"
export OMP_NUM_THREADS=2

# make_set DIR COUNT SEED GENERATOR
make_set() {
  if [ -f "$1/labels.txt" ] && grep -q "\"count\": $2," "$1/meta.json" && grep -q "\"seed\": $3," "$1/meta.json" \
     && { [ "$4" = 1 ] || grep -q "\"generator\": $4," "$1/meta.json"; }; then
    echo "[final] reusing $1 ($2 samples, seed $3, generator $4)"
  else
    echo "[final] $(date -u +%FT%TZ) generate $2 samples seed $3 generator $4 -> $1"
    local t=$(date +%s)
    OMP_NUM_THREADS=1 "$PY" synth.py --count "$2" --seed "$3" --generator "$4" --out "$1" --workers 2
    echo "[final] generation wall-clock $(($(date +%s) - t)) s"
  fi
}

t0=$(date +%s)
if [ -f "$CKPT1" ]; then
  echo "[final] reusing stage 1 weights $CKPT1"
else
  make_set "$DATA" 160000 2024 1
  t=$(date +%s)
  "$PY" train_ocr.py --data "$DATA" --epochs 12 --head ctc --width 1.0 --seed 0 --threads 2 \
    --out /tmp/plate_ocr_stage1.onnx --ckpt "$CKPT1"
  echo "[final] stage 1 training wall-clock $(($(date +%s) - t)) s"
fi
make_set "$DATA2" 120000 2025 2   # stage 2 trains on it, stage 3 too
if [ -f "$CKPT2" ]; then
  echo "[final] reusing stage 2 weights $CKPT2"
else
  t=$(date +%s)
  "$PY" train_ocr.py --data "$DATA,$DATA2" --epochs 3 --lr 1e-3 --head ctc --width 1.0 --seed 1 --threads 2 \
    --init "$CKPT1" --out /tmp/plate_ocr_stage2.onnx --ckpt "$CKPT2"
  echo "[final] stage 2 training wall-clock $(($(date +%s) - t)) s"
fi
make_set "$DATA3" 100000 2026 3
t=$(date +%s)
"$PY" train_ocr.py --data "$DATA2,$DATA3" --epochs 3 --lr 1e-3 --head ctc --width 1.0 --seed 2 --threads 2 \
  --init "$CKPT2" --out ../plate_ocr.onnx --ckpt "$CKPT3"
echo "[final] stage 3 training wall-clock $(($(date +%s) - t)) s, total $(($(date +%s) - t0)) s"
OMP_NUM_THREADS=1 "$PY" eval_crops.py --model ../plate_ocr.onnx --dir /work/shared/data/plates/us-crops \
  --failures /tmp/plate_ocr_failures.png
sha256sum ../plate_ocr.onnx
echo "[final] done $(date -u +%FT%TZ)"
