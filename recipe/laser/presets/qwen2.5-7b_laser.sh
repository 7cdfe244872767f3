# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset qwen2.5-7b_laser: Qwen2.5-7B-Base with LaSeR, the authors' setup (recipe/laser/presets/_paper.sh), on GPU nodes.
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-7B}
FAMILY=${FAMILY:-qwen2.5}                  # recipe/laser/families.py: z_c, c_ref, evaluation prompt
REASONING_WARMUP=${REASONING_WARMUP:-200}            # the MSE from step 201, blending from step 401
source "$REPO_DIR/recipe/laser/presets/_paper.sh"
