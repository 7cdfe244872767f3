# Preset orz-7b_grpo: Open-Reasoner-Zero/Open-Reasoner-Zero-7B, the GRPO baseline (same settings, laser.enable=False), on GPU nodes.
MODEL_PATH=${MODEL_PATH:-Open-Reasoner-Zero/Open-Reasoner-Zero-7B}
TEMPLATE=${TEMPLATE:-orz_r1}
C_REF=${C_REF:--23.0}
REASONING_WARMUP=${REASONING_WARMUP:-0}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-200}
LASER=${LASER:-False}
# shellcheck source=_paper_common.sh
source "$REPO_DIR/recipe/laser/presets/_paper_common.sh"
