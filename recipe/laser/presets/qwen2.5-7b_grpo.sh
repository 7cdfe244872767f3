# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset qwen2.5-7b_grpo: the GRPO baseline of qwen2.5-7b_laser, every setting the same but laser.enable=False.
LASER=False
source "$REPO_DIR/recipe/laser/presets/qwen2.5-7b_laser.sh"
