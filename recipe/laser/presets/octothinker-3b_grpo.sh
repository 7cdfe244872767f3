# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset octothinker-3b_grpo: the GRPO baseline of octothinker-3b_laser, every setting the same but laser.enable=False.
LASER=False
source "$REPO_DIR/recipe/laser/presets/octothinker-3b_laser.sh"
