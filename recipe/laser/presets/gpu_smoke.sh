# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset gpu_smoke: the first thing to run on a GPU node (1-2 GPUs, minutes): Qwen2.5-0.5B-Instruct,
# vLLM rollout, 3 LaSeR steps on MATH500 problems, with every response's z_c log-prob and score
# dumped; scripts/check_score_dump.py then compares them with a plain transformers forward.
#   bash setup.sh --gpu && PRESET=gpu_smoke bash run_laser.sh
#   .venv-gpu/bin/python scripts/check_score_dump.py --dump checkpoints/gpu_smoke/scores.jsonl \
#       --model Qwen/Qwen2.5-0.5B-Instruct --metrics checkpoints/gpu_smoke/metrics.jsonl --atol 0.05
# On a CPU, the same sequence with vLLM for CPU and a tiny model (what tests/e2e runs; .venv-vllm):
#   DEVICE=cpu MODEL_PATH=<a small local model> TRAIN_FILE=<parquet> MAX_RESPONSE_LENGTH=16 PRESET=gpu_smoke bash run_laser.sh

# -- cluster --------------------------------------------------------------------------------------------
NNODES=${NNODES:-1}
NGPUS_PER_NODE=${NGPUS_PER_NODE:-1}
DEVICE=${DEVICE:-cuda}                                           # cuda | cpu (vLLM for CPU, verl_patches.cpu)
ROLLOUT_TP=${ROLLOUT_TP:-1}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.4}            # vLLM's share; the actor needs the rest
# -- paths ----------------------------------------------------------------------------------------------
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-0.5B-Instruct}             # pad != EOS: z_c follows <|im_end|>
FAMILY=${FAMILY:-qwen2.5}
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/smoke_$FAMILY}
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/eval/math500.parquet}        # a smoke test: benchmark problems as prompts
CKPT_DIR=${CKPT_DIR:-$REPO_DIR/checkpoints/$PRESET}
METRICS_FILE=${METRICS_FILE:-$CKPT_DIR/metrics.jsonl}
SCORE_DUMP=${SCORE_DUMP:-$CKPT_DIR/scores.jsonl}
# -- algorithm: the paper's values, MSE from step 1, blending from step 2 -----------------------------------
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-0.1}
C_REF=${C_REF:-null}                                             # null: the family's constant
TAU=${TAU:-0.1}
REASONING_WARMUP=${REASONING_WARMUP:-0}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-1}
TEMPERATURE=${TEMPERATURE:-1.0}
# -- sizes ----------------------------------------------------------------------------------------------
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-8}
N_RESPONSES=${N_RESPONSES:-4}
MAX_PROMPT_LENGTH=${MAX_PROMPT_LENGTH:-512}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-1024}
MAX_TOKENS_PER_GPU=${MAX_TOKENS_PER_GPU:-8192}
TOTAL_STEPS=${TOTAL_STEPS:-3}
LR=${LR:-1e-6}
SEED=${SEED:-0}

export VERL_FILE_LOGGER_PATH=$METRICS_FILE
source "$REPO_DIR/recipe/laser/presets/_common.sh"
PRESET_ENV=gpu                                                   # scripts/python_env.sh
CPU_PLATFORM_ARGS=()
case "$DEVICE" in
    cuda) ;;
    cpu) use_cpu_platform vllm "$NGPUS_PER_NODE" ;;              # PRESET_ENV=vllm-cpu
    *) echo "gpu_smoke: DEVICE=$DEVICE: expected cuda or cpu" >&2; exit 2 ;;
esac
prepare_inputs() {
    if [ -e "$SCORE_DUMP" ]; then  # the checker reads step 1 of one run: a second run would add its own
        echo "gpu_smoke: $SCORE_DUMP holds an earlier smoke run; FRESH=1 PRESET=gpu_smoke bash run_laser.sh" \
             "starts over (deletes $CKPT_DIR), or set CKPT_DIR to keep both" >&2
        exit 2
    fi
    mkdir -p "$CKPT_DIR"
    if [ ! -f "$TRAIN_FILE" ]; then
        "$PYTHON" -m data_prep.prepare_math --out-dir "$DATA_DIR" --tokenizer "$MODEL_PATH" --no-train
    fi
}

PRESET_ARGS=(
    laser.enable=True
    laser.family=$FAMILY
    laser.alpha=$ALPHA
    laser.beta_v=$BETA_V
    laser.c_ref=$C_REF
    laser.tau=$TAU
    laser.reasoning_warmup_steps=$REASONING_WARMUP
    laser.self_reward_warmup_steps=$SELF_REWARD_WARMUP
    laser.score_dump_path="$SCORE_DUMP"
    algorithm.adv_estimator=grpo
    data.train_files="$TRAIN_FILE"
    data.val_files="$TRAIN_FILE"
    data.train_batch_size=$TRAIN_PROMPTS_PER_STEP
    data.max_prompt_length=$MAX_PROMPT_LENGTH
    data.max_response_length=$MAX_RESPONSE_LENGTH
    data.filter_overlong_prompts=True
    data.seed=$SEED
    actor_rollout_ref.model.path="$MODEL_PATH"
    actor_rollout_ref.model.use_remove_padding=True
    +actor_rollout_ref.model.override_config.attn_implementation=sdpa
    +actor_rollout_ref.actor.fsdp_config.mixed_precision.param_dtype=fp32
    actor_rollout_ref.actor.optim.lr=$LR
    actor_rollout_ref.actor.ppo_mini_batch_size=$TRAIN_PROMPTS_PER_STEP
    actor_rollout_ref.actor.use_dynamic_bsz=True
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.actor.use_kl_loss=False
    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.tensor_model_parallel_size=$ROLLOUT_TP
    actor_rollout_ref.rollout.gpu_memory_utilization=$GPU_MEMORY_UTILIZATION
    actor_rollout_ref.rollout.n=$N_RESPONSES
    actor_rollout_ref.rollout.temperature=$TEMPERATURE
    actor_rollout_ref.rollout.seed=$SEED
    actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True
    actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    trainer.nnodes=$NNODES
    trainer.n_gpus_per_node=$NGPUS_PER_NODE
    trainer.total_training_steps=$TOTAL_STEPS
    trainer.val_before_train=False
    trainer.test_freq=-1
    trainer.save_freq=-1
    trainer.resume_mode=auto
    trainer.logger=[console,file]
    trainer.project_name=laser-verl
    trainer.experiment_name=$PRESET
    trainer.default_local_dir="$CKPT_DIR"
    "${CPU_PLATFORM_ARGS[@]}"
)
