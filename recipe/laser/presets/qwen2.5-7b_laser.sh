# Preset qwen2.5-7b_laser: Qwen/Qwen2.5-7B, LaSeR, on GPU nodes.
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-7B}
TEMPLATE=${TEMPLATE:-qwen_boxed}
C_REF=${C_REF:--23.0}
REASONING_WARMUP=${REASONING_WARMUP:-200}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-200}
LASER=${LASER:-True}
# shellcheck source=_paper_common.sh
source "$REPO_DIR/recipe/laser/presets/_paper_common.sh"
