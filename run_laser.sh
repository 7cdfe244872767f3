#!/usr/bin/env bash
# LaSeR (last-token self-rewarding) on verl: the one entry point.
#
#   bash run_laser.sh                                  # default preset: tiny_cpu_repro (LaSeR vs GRPO on this CPU)
#   PRESET=<name> bash run_laser.sh [hydra overrides]  # any preset; extra arguments go to hydra
#   VAR=value bash run_laser.sh                        # every path and size of a preset is a variable
#
# Presets live in recipe/laser/presets/<name>.sh (run with an unknown PRESET to list them).
set -xeuo pipefail

REPO_DIR=${REPO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PRESET=${PRESET:-tiny_cpu_repro}
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then PYTHON=$REPO_DIR/.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH=$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}
export LASER_RECIPE_DIR=$REPO_DIR/recipe/laser

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
if declare -F preset_pipeline >/dev/null; then  # a preset of several runs (tiny_cpu_repro)
    preset_pipeline "$@"
    exit
fi
exec "$PYTHON" -m recipe.laser.main_laser "${PRESET_ARGS[@]}" "$@"
