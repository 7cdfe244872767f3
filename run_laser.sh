#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# LaSeR (last-token self-rewarding) on verl: the entry point for training runs.
#
#   bash run_laser.sh                                   # no PRESET: the tiny CPU reproduction (scripts/tiny_cpu_repro.sh)
#   PRESET=<name> bash run_laser.sh [hydra overrides]   # one training run; extra arguments go to hydra
#   VAR=value PRESET=<name> bash run_laser.sh           # every path and size of a preset is a variable
#   RAY_ADDRESS=<head>:6379 PRESET=... bash run_laser.sh   # join a Ray cluster started on every node (README)
#
# Presets live in recipe/laser/presets/<name>.sh (an unknown PRESET lists them). A preset sets its
# variables and PRESET_ARGS, and defines prepare_inputs, which builds its missing inputs.
set -xeuo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${PRESET:-}" ]; then
    exec bash "$REPO_DIR/scripts/tiny_cpu_repro.sh" "$@"
fi
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then PYTHON=$REPO_DIR/.venv/bin/python; else PYTHON=python3; fi
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

cd "$REPO_DIR"
if [[ " $* " != *" --cfg "* ]]; then  # hydra's --cfg only prints the composed config
    prepare_inputs
fi
exec "$PYTHON" -m recipe.laser.main_laser "${PRESET_ARGS[@]}" "$@"
