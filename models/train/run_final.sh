#!/usr/bin/env bash
# Final training run: generate the synthetic set (2 processes) and train the exported model.
#   cd models/train && nohup bash run_final.sh > /tmp/anpr-train.log 2>&1 &
# A set already generated at $DATA (same count and seed) is reused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY="${VENV:-/root/.cache/gatehouse/train-venv}/bin/python"
DATA="${DATA:-/root/.cache/gatehouse/anpr/synth-160k}"
COUNT="${COUNT:-160000}"
EPOCHS="${EPOCHS:-12}"
export OMP_NUM_THREADS=2
t0=$(date +%s)
if [ -f "$DATA/labels.txt" ] && grep -q "\"count\": $COUNT," "$DATA/meta.json" && grep -q '"seed": 2024,' "$DATA/meta.json"; then
  echo "[final] reusing $DATA ($COUNT samples, seed 2024)"
else
  echo "[final] $(date -u +%FT%TZ) generate $COUNT samples seed 2024 -> $DATA"
  OMP_NUM_THREADS=1 "$PY" synth.py --count "$COUNT" --seed 2024 --out "$DATA" --workers 2
fi
t1=$(date +%s)
echo "[final] generation wall-clock $((t1 - t0)) s"
"$PY" train_ocr.py --data "$DATA" --epochs "$EPOCHS" --head ctc --width 1.0 --seed 0 --threads 2 \
  --out ../plate_ocr.onnx --ckpt /root/.cache/gatehouse/anpr/plate_ocr_ctc.pt
t2=$(date +%s)
echo "[final] training wall-clock $((t2 - t1)) s, total $((t2 - t0)) s"
OMP_NUM_THREADS=1 "$PY" eval_crops.py --model ../plate_ocr.onnx --dir /work/shared/data/plates/us-crops \
  --failures /tmp/plate_ocr_failures.png
sha256sum ../plate_ocr.onnx
echo "[final] done $(date -u +%FT%TZ)"
