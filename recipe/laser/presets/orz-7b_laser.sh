# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset orz-7b_laser: Open-Reasoner-Zero-7B with LaSeR, the authors' setup (recipe/laser/presets/_paper.sh), on GPU nodes.
MODEL_PATH=${MODEL_PATH:-Open-Reasoner-Zero/Open-Reasoner-Zero-7B}
FAMILY=${FAMILY:-orz}                  # recipe/laser/families.py: z_c, c_ref, evaluation prompt
REASONING_WARMUP=${REASONING_WARMUP:-0}            # the MSE from step 1, blending from step 201
source "$REPO_DIR/recipe/laser/presets/_paper.sh"
