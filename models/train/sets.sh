# make_set DIR COUNT SEED GENERATOR: makes a synthetic set with synth.py, or reuses the one in DIR
# when it was made with the same count, seed and generator version. Sourced by run_final.sh.
make_set() {
  if [ -f "$1/labels.txt" ] && grep -q "\"count\": $2," "$1/meta.json" && grep -q "\"seed\": $3," "$1/meta.json" \
     && { [ "$4" = 1 ] || grep -q "\"generator\": $4," "$1/meta.json"; }; then
    echo "[sets] reusing $1 ($2 samples, seed $3, generator $4)"
  else
    echo "[sets] $(date -u +%FT%TZ) generate $2 samples seed $3 generator $4 -> $1"
    local t=$(date +%s)
    OMP_NUM_THREADS=1 "$PY" synth.py --count "$2" --seed "$3" --generator "$4" --out "$1" --workers 2
    echo "[sets] generation wall-clock $(($(date +%s) - t)) s"
  fi
}
