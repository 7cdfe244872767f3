# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset tiny_cpu_grpo: the GRPO baseline of tiny_cpu_laser, every setting the same but laser.enable=False.
LASER=False
source "$REPO_DIR/recipe/laser/presets/tiny_cpu_laser.sh"
