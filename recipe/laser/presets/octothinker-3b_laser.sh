# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset octothinker-3b_laser: OctoThinker-3B-Short-Base with LaSeR, the authors' setup (recipe/laser/presets/_paper.sh), on GPU nodes.
MODEL_PATH=${MODEL_PATH:-OctoThinker/OctoThinker-3B-Short-Base}
FAMILY=${FAMILY:-octothinker}                  # recipe/laser/families.py: z_c, c_ref, evaluation prompt
REASONING_WARMUP=${REASONING_WARMUP:-200}            # the MSE from step 201, blending from step 401
source "$REPO_DIR/recipe/laser/presets/_paper.sh"
