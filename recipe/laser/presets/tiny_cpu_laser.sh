# Preset tiny_cpu_laser: the tiny CPU pipeline of tiny_cpu_grpo with LaSeR on: z_c scored in verl's
# own forward passes, class-balanced MSE from step REASONING_WARMUP + 1, advantage blending from
# step REASONING_WARMUP + SELF_REWARD_WARMUP + 1. Constant c_ref and no KL: no reference worker.
LASER=${LASER:-True}
USE_KL_LOSS=${USE_KL_LOSS:-False}
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-0.1}
C_REF=${C_REF:--23.0}                     # a number, exact or auto
TAU=${TAU:-0.1}
STD_THRESHOLD=${STD_THRESHOLD:-0.1}
REASONING_WARMUP=${REASONING_WARMUP:-0}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-1}

# shellcheck source=tiny_cpu_grpo.sh
source "$REPO_DIR/recipe/laser/presets/tiny_cpu_grpo.sh"

# shellcheck source=_laser_args.sh
source "$REPO_DIR/recipe/laser/presets/_laser_args.sh"
PRESET_ARGS+=("${LASER_ARGS[@]}")
