# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset qwen3-4b_general_grpo: the GRPO baseline of qwen3-4b_general_laser, every setting the same but laser.enable=False.
LASER=False
source "$REPO_DIR/recipe/laser/presets/qwen3-4b_general_laser.sh"
