#!/usr/bin/env bash
# Create .venv and install the CPU requirements. Idempotent: a re-run checks the installed
# versions and installs nothing when they already match (a few seconds).
#
#   bash setup.sh                    # CPU environment in .venv (laptops, CI)
#   VENV=/path/to/env bash setup.sh  # elsewhere
#   TORCH_INDEX_URL=<a CPU wheel index> bash setup.sh   # where the default index would serve CUDA torch
#
# GPU nodes use requirements.txt in their own environment instead (see README).
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${VENV:-$REPO_DIR/.venv}
PYTHON_BIN=${PYTHON_BIN:-python3}
TORCH_VERSION=2.13.0
STAMP=$VENV/.laser-requirements-cpu.sha

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup.sh: creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi
PY=$VENV/bin/python
want=$(cat "$REPO_DIR/requirements-cpu.txt" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$PY" -c "import verl, torch" 2>/dev/null; then
    echo "setup.sh: $VENV is up to date"
    exit 0
fi
start=$(date +%s)
"$PY" -m pip install -q --upgrade pip
if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    "$PY" -m pip install -q ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==$TORCH_VERSION"
fi
"$PY" -c "import torch, sys; sys.exit('setup.sh: a CUDA build of torch was installed; set TORCH_INDEX_URL to a CPU wheel index' if torch.version.cuda else 0)"
"$PY" -m pip install -q -r "$REPO_DIR/requirements-cpu.txt"
"$PY" -c "import torch, sys; sys.exit('setup.sh: the requirements replaced the CPU torch build' if torch.version.cuda else 0)"
echo "$want" > "$STAMP"
echo "setup.sh: installed into $VENV in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
