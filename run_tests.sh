#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The whole test suite on a CPU: installs what is missing (setup.sh, both environments at once),
# checks formatting and lint (ruff, as configured in pyproject.toml), then pytest.
#   bash run_tests.sh                         # everything, including verl's real trainer end to end
#   bash run_tests.sh -m "not slow"           # no trainer runs, vLLM or pip resolve (quick iteration)
#   LASER_SKIP_VLLM_CPU=1 bash run_tests.sh   # without the vLLM environment (its test is skipped)
#   bash run_tests.sh tests/recipe/laser/test_core_algos.py -k mse   # any pytest arguments
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO_DIR"
start=$SECONDS
# Python caches what it compiles on first import (PYTHONDONTWRITEBYTECODE would recompile it in every
# process), so the environments skip pip's byte-compilation of every installed file (about 30 s each)
unset PYTHONDONTWRITEBYTECODE
export BYTECODE=${BYTECODE:-lazy}
pids=()
bash setup.sh & pids+=($!)
# the vLLM-on-CPU evaluation environment (.venv-vllm): the evaluation tests run vLLM for real
if [ "${LASER_SKIP_VLLM_CPU:-0}" != 1 ]; then bash setup.sh --vllm-cpu & pids+=($!); fi
for pid in "${pids[@]}"; do wait "$pid"; done
echo "run_tests.sh: environments ready in $((SECONDS - start)) s"
VENV=${VENV:-$REPO_DIR/.venv}
# The tests run many torch processes side by side on few cores (trainer runs, warm starts, evaluations):
# one thread each spends no CPU spinning on busy cores, and transparent huge pages for torch's large
# allocations (the 152k-token vocabulary's tensors) spare most page faults. Together: the unit tests'
# CPU time 465 -> 308 s (pytest -m "not slow" on 2 cores).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export THP_MEM_ALLOC_ENABLE=${THP_MEM_ALLOC_ENABLE:-1}
"$VENV/bin/ruff" format --check .
"$VENV/bin/ruff" check .
exec "$VENV/bin/python" -m pytest "$@"
