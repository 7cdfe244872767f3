#!/usr/bin/env bash
# The whole test suite on a CPU: installs what is missing (setup.sh), then pytest.
#   bash run_tests.sh                 # everything, including verl's real trainer end to end
#   bash run_tests.sh -m "not slow"   # no end-to-end trainer runs or shortened reproduction
#   LASER_SKIP_VLLM_CPU=1 bash run_tests.sh   # without the vLLM environment (its test is skipped)
#   bash run_tests.sh tests/test_core_algos_on_cpu.py -k mse   # any pytest arguments
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$REPO_DIR/setup.sh"
# the vLLM-on-CPU evaluation environment (.venv-vllm): the evaluation tests run vLLM for real
[ "${LASER_SKIP_VLLM_CPU:-0}" = 1 ] || bash "$REPO_DIR/setup.sh" --vllm-cpu
cd "$REPO_DIR"
exec "${VENV:-$REPO_DIR/.venv}/bin/python" -m pytest "$@"
