#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# LaSeR (last-token self-rewarding) on verl: the entry point for training runs.
#
#   bash run_laser.sh                                   # no PRESET: the tiny CPU reproduction (scripts/tiny_cpu_repro.sh)
#   PRESET=<name> bash run_laser.sh [hydra overrides]   # one training run; extra arguments go to hydra
#   VAR=value PRESET=<name> bash run_laser.sh           # every path and size of a preset is a variable
#   RAY_ADDRESS=<head>:6379 PRESET=... bash run_laser.sh   # join a Ray cluster started on every node (README)
#   FRESH=1 PRESET=<name> bash run_laser.sh             # delete the run's $CKPT_DIR first; without it a second run resumes
#
# Presets live in recipe/laser/presets/<name>.sh (an unknown PRESET lists them). A preset sets its
# variables, PRESET_ENV and PRESET_ARGS, and defines prepare_inputs, which builds its missing inputs.
# PRESET_ENV names the environment the run needs (scripts/python_env.sh: .venv, .venv-vllm or .venv-gpu,
# as setup.sh builds them); PYTHON=<interpreter> runs with another one.
set -xeuo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${PRESET:-}" ]; then
    exec bash "$REPO_DIR/scripts/tiny_cpu_repro.sh" "$@"
fi
preset_file=$REPO_DIR/recipe/laser/presets/$PRESET.sh
if [ ! -f "$preset_file" ]; then
    set +x
    echo "run_laser.sh: unknown PRESET=$PRESET; available:" >&2
    ls "$REPO_DIR/recipe/laser/presets" | grep -v "^_" | sed "s/\.sh$//; s/^/  /" >&2
    exit 2
fi
# shellcheck source=/dev/null
source "$preset_file"
source "$REPO_DIR/scripts/python_env.sh"
pick_python "PRESET=$PRESET" "${PRESET_ENV:?$preset_file must set PRESET_ENV (cpu, vllm-cpu or gpu)}"

cd "$REPO_DIR"
if [[ " $* " != *" --cfg "* ]]; then  # hydra's --cfg only prints the composed config
    if [ "${FRESH:-0}" = 1 ]; then
        echo "run_laser.sh: FRESH=1: deleting ${CKPT_DIR:?} (checkpoints, metrics, score dump) before the run" >&2
        rm -rf "$CKPT_DIR"
        rm -f "${METRICS_FILE:-}"
        if [ "${SCORE_DUMP:-null}" != null ]; then rm -f "$SCORE_DUMP"; fi
    fi
    prepare_inputs
fi
exec "$PYTHON" -m recipe.laser.main_laser "${PRESET_ARGS[@]}" "$@"
