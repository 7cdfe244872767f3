#!/usr/bin/env bash
# The whole test suite on a CPU: installs what is missing (setup.sh), then pytest.
#   bash run_tests.sh                 # everything, including verl's real trainer end to end
#   bash run_tests.sh -m "not slow"   # unit tests only (about a minute)
#   bash run_tests.sh tests/test_core_algos_on_cpu.py -k mse   # any pytest arguments
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$REPO_DIR/setup.sh"
cd "$REPO_DIR"
exec "${VENV:-$REPO_DIR/.venv}/bin/python" -m pytest "$@"
