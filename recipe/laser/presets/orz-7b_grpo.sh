# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset orz-7b_grpo: the GRPO baseline of orz-7b_laser, every setting the same but laser.enable=False.
LASER=False
source "$REPO_DIR/recipe/laser/presets/orz-7b_laser.sh"
