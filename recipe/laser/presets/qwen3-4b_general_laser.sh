# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset qwen3-4b_general_laser: the paper's general-reasoning run. Qwen3-4B-Base with LaSeR on
# WebInstruct-verified, each answer judged by TIGER-Lab/general-verifier (recipe/laser/verifier/judge.py),
# validated on GPQA-Diamond; the authors' math setup otherwise (recipe/laser/presets/_paper.sh).
# MMLU-Pro and GPQA-Diamond are evaluated after training: docs/experiments.md. GPU nodes; not run here.
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen3-4B-Base}
FAMILY=${FAMILY:-qwen3}                    # z_c <|vision_start|>; c_ref measured at step 1 (none reported)
REASONING_WARMUP=${REASONING_WARMUP:-200}  # not reported for this run: the Qwen2.5-7B value
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/general_$FAMILY}
VAL_FILES=${VAL_FILES:-[$DATA_DIR/eval/gpqa_diamond.parquet]}  # MMLU-Pro (12k questions) after training
# -- the judge --------------------------------------------------------------------------------------------
JUDGE_MODEL=${JUDGE_MODEL:-TIGER-Lab/general-verifier}
JUDGE_URL=${JUDGE_URL:-}                   # empty: verl serves JUDGE_MODEL beside the policy; else your server's URL
JUDGE_TP=${JUDGE_TP:-1}
JUDGE_GPU_MEMORY_UTILIZATION=${JUDGE_GPU_MEMORY_UTILIZATION:-0.15}
JUDGE_MAX_TOKENS=${JUDGE_MAX_TOKENS:-1024}  # of its reply
JUDGE_TIMEOUT_S=${JUDGE_TIMEOUT_S:-120}     # per try, 3 tries

source "$REPO_DIR/recipe/laser/presets/_paper.sh"
prepare_inputs() {
    ensure_general_data "$DATA_DIR" "$MODEL_PATH"
}
PRESET_ARGS+=(
    reward.custom_reward_function.path="$REPO_DIR/recipe/laser/verifier/judge.py"
    +reward.custom_reward_function.reward_kwargs.max_tokens=$JUDGE_MAX_TOKENS
    +reward.custom_reward_function.reward_kwargs.timeout_s=$JUDGE_TIMEOUT_S
)
if [ -n "$JUDGE_URL" ]; then
    PRESET_ARGS+=(+reward.custom_reward_function.reward_kwargs.judge_url="$JUDGE_URL")
else
    PRESET_ARGS+=(
        reward.reward_model.enable=True
        reward.reward_model.model_path="$JUDGE_MODEL"
        reward.reward_model.rollout.name=vllm
        reward.reward_model.rollout.tensor_model_parallel_size=$JUDGE_TP
        reward.reward_model.rollout.gpu_memory_utilization=$JUDGE_GPU_MEMORY_UTILIZATION
        reward.reward_model.rollout.prompt_length=$(( MAX_PROMPT_LENGTH + 1024 ))   # the question, the truth, the answer
        reward.reward_model.rollout.response_length=$JUDGE_MAX_TOKENS
    )
fi
