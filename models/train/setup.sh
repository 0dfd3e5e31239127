#!/usr/bin/env bash
# Set up the plate-OCR training environment: Debian font packages + a Python venv
# with pinned requirements. Idempotent: re-running only installs what is missing.
#
#   bash models/train/setup.sh
#
# Env overrides: VENV (default /root/.cache/gatehouse/train-venv), PYTHON (default python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-/root/.cache/gatehouse/train-venv}"
PYTHON="${PYTHON:-python3}"

# Fonts used by synth.py (plate characters, state names, slogans, stickers).
FONT_PKGS=(
  fonts-roadgeek            # Highway Gothic-like road-sign fonts (main plate characters)
  fonts-bebas-neue fonts-opendin fonts-national-park fonts-routed-gothic
  fonts-yanone-kaffeesatz fonts-dosis fonts-beteckna fonts-clear-sans fonts-play
  fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-freefont-ttf
  fonts-urw-base35 fonts-roboto-unhinted fonts-roboto-slab fonts-open-sans fonts-noto-core
  fonts-croscore fonts-crosextra-carlito fonts-b612 fonts-go fonts-league-spartan
  fonts-lobster fonts-dancingscript fonts-linuxlibertine fonts-gfs-didot fonts-texgyre
  fonts-cantarell fonts-cabin fonts-lato fonts-karla
)

missing=()
for p in "${FONT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] all ${#FONT_PKGS[@]} font packages already installed"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
else
  echo "[setup] venv exists: $VENV"
fi

if "$VENV/bin/python" - "$HERE/requirements.txt" <<'EOF'
import sys
from importlib import metadata
bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, ver = line.split("==")
    try:
        if metadata.version(name) != ver:
            bad.append(line)
    except metadata.PackageNotFoundError:
        bad.append(line)
sys.exit(1 if bad else 0)
EOF
then
  echo "[setup] requirements already satisfied"
else
  echo "[setup] pip install -r $HERE/requirements.txt (torch pulls large CUDA wheels on first install)"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi

"$VENV/bin/python" -c "import torch, onnx, onnxruntime, cv2, PIL, numpy; print('[setup] ok: torch', torch.__version__, 'onnxruntime', onnxruntime.__version__)"
echo "[setup] activate with: source $VENV/bin/activate"
