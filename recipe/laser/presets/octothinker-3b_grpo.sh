# Preset octothinker-3b_grpo: OctoThinker/OctoThinker-3B-Short-Base, the GRPO baseline (same settings, laser.enable=False), on GPU nodes.
MODEL_PATH=${MODEL_PATH:-OctoThinker/OctoThinker-3B-Short-Base}
TEMPLATE=${TEMPLATE:-octothinker_boxed}
C_REF=${C_REF:--25.0}
REASONING_WARMUP=${REASONING_WARMUP:-200}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-200}
LASER=${LASER:-False}
# shellcheck source=_paper_common.sh
source "$REPO_DIR/recipe/laser/presets/_paper_common.sh"
# OctoThinker's base tokenizer (Llama-3.2) ships no chat template; verl's dataset needs one.
PRESET_ARGS+=(
    "+actor_rollout_ref.model.custom_chat_template=\"{% for m in messages %}{{ 'User: ' + m['content'] + '\\n\\nAssistant:' }}{% endfor %}\""
)
