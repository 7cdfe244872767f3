# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The paper's math RL setup (the authors' scripts), shared by the qwen2.5-7b, orz-7b and octothinker-3b
# presets, which set only MODEL_PATH, FAMILY and REASONING_WARMUP. GPU nodes; not run here (no GPU),
# composed and checked against verl's schema by tests/recipe/laser/test_presets.py.
# Every value is a ${VAR:-default}; extra arguments to run_laser.sh go to hydra.

# -- cluster ------------------------------------------------------------------------------------------
NNODES=${NNODES:-1}
NGPUS_PER_NODE=${NGPUS_PER_NODE:-8}
ROLLOUT_TP=${ROLLOUT_TP:-4}                                   # vLLM tensor parallel size
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.6}
# -- paths --------------------------------------------------------------------------------------------
MODEL_PATH=${MODEL_PATH:?the preset sets MODEL_PATH}
FAMILY=${FAMILY:?the preset sets FAMILY}                      # recipe/laser/families.py: z_c, c_ref, evaluation prompt
CHAT_TEMPLATE=${CHAT_TEMPLATE:-}                              # only for a tokenizer without a chat template
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/math_$FAMILY}
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/train.parquet}
VAL_FILES=${VAL_FILES:-[$DATA_DIR/eval/math500.parquet,$DATA_DIR/eval/amc23.parquet,$DATA_DIR/eval/aime24.parquet,$DATA_DIR/eval/aime25.parquet,$DATA_DIR/eval/olympiadbench.parquet]}
CKPT_DIR=${CKPT_DIR:-$REPO_DIR/checkpoints/$PRESET}
METRICS_FILE=${METRICS_FILE:-$CKPT_DIR/metrics.jsonl}         # used when wandb is not configured
# -- algorithm (paper values) ---------------------------------------------------------------------------
LASER=${LASER:-True}
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-0.1}
C_REF=${C_REF:-null}                                         # null: the family's constant; a number, exact or auto
TAU=${TAU:-0.1}
STD_THRESHOLD=${STD_THRESHOLD:-0.1}
REASONING_WARMUP=${REASONING_WARMUP:?the preset sets REASONING_WARMUP}   # MSE from step REASONING_WARMUP + 1
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-200}                 # blending SELF_REWARD_WARMUP steps after that
# -- sizes (the authors' scripts) ------------------------------------------------------------------------
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-128}
N_RESPONSES=${N_RESPONSES:-8}
MINI_BATCH_PROMPTS=${MINI_BATCH_PROMPTS:-$TRAIN_PROMPTS_PER_STEP}   # one optimizer step per RL step
MAX_PROMPT_LENGTH=${MAX_PROMPT_LENGTH:-2048}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-8192}
MAX_TOKENS_PER_GPU=${MAX_TOKENS_PER_GPU:-$(( (MAX_PROMPT_LENGTH + MAX_RESPONSE_LENGTH) * 2 ))}  # dynamic micro-batches
LR=${LR:-1e-6}
WEIGHT_DECAY=${WEIGHT_DECAY:-0.01}
GRAD_CLIP=${GRAD_CLIP:-1.0}
TOTAL_EPOCHS=${TOTAL_EPOCHS:-2}
VAL_N=${VAL_N:-2}
SAVE_FREQ=${SAVE_FREQ:-50}
TEST_FREQ=${TEST_FREQ:-50}
SEED=${SEED:-42}
TEMPERATURE=${TEMPERATURE:-1.0}                               # sampling, training and validation
TOP_P=${TOP_P:-1.0}

export VERL_FILE_LOGGER_PATH=$METRICS_FILE

source "$REPO_DIR/recipe/laser/presets/_common.sh"
PRESET_ENV=gpu                                                # scripts/python_env.sh
prepare_inputs() {
    ensure_math_data "$DATA_DIR" "$MODEL_PATH" "$FAMILY"
}

PRESET_ARGS=(
    laser.enable=$LASER
    laser.family=$FAMILY
    laser.alpha=$ALPHA
    laser.beta_v=$BETA_V
    laser.c_ref=$C_REF
    laser.tau=$TAU
    laser.std_threshold=$STD_THRESHOLD
    laser.reasoning_warmup_steps=$REASONING_WARMUP
    laser.self_reward_warmup_steps=$SELF_REWARD_WARMUP
    ${CHAT_TEMPLATE:+laser.chat_template_file="$CHAT_TEMPLATE"}
    algorithm.adv_estimator=grpo
    algorithm.use_kl_in_reward=False
    data.train_files="$TRAIN_FILE"
    data.val_files="$VAL_FILES"
    data.train_batch_size=$TRAIN_PROMPTS_PER_STEP
    data.max_prompt_length=$MAX_PROMPT_LENGTH
    data.max_response_length=$MAX_RESPONSE_LENGTH
    data.filter_overlong_prompts=True
    data.seed=$SEED
    actor_rollout_ref.model.path="$MODEL_PATH"
    actor_rollout_ref.model.use_remove_padding=True
    actor_rollout_ref.model.enable_gradient_checkpointing=True
    actor_rollout_ref.actor.optim.lr=$LR
    actor_rollout_ref.actor.optim.weight_decay=$WEIGHT_DECAY
    actor_rollout_ref.actor.grad_clip=$GRAD_CLIP
    actor_rollout_ref.actor.ppo_mini_batch_size=$MINI_BATCH_PROMPTS
    actor_rollout_ref.actor.ppo_epochs=1
    actor_rollout_ref.actor.use_dynamic_bsz=True
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.actor.use_kl_loss=False
    actor_rollout_ref.actor.entropy_coeff=0
    actor_rollout_ref.actor.loss_agg_mode=token-mean
    actor_rollout_ref.ref.log_prob_use_dynamic_bsz=True
    actor_rollout_ref.ref.log_prob_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.ref.fsdp_config.param_offload=True
    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.tensor_model_parallel_size=$ROLLOUT_TP
    actor_rollout_ref.rollout.gpu_memory_utilization=$GPU_MEMORY_UTILIZATION
    actor_rollout_ref.rollout.n=$N_RESPONSES
    actor_rollout_ref.rollout.temperature=$TEMPERATURE
    actor_rollout_ref.rollout.top_p=$TOP_P
    actor_rollout_ref.rollout.seed=$SEED
    actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True
    actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.rollout.val_kwargs.n=$VAL_N
    actor_rollout_ref.rollout.val_kwargs.do_sample=True
    actor_rollout_ref.rollout.val_kwargs.temperature=$TEMPERATURE
    actor_rollout_ref.rollout.val_kwargs.top_p=$TOP_P
    trainer.nnodes=$NNODES
    trainer.n_gpus_per_node=$NGPUS_PER_NODE
    trainer.total_epochs=$TOTAL_EPOCHS
    trainer.save_freq=$SAVE_FREQ
    trainer.test_freq=$TEST_FREQ
    trainer.val_before_train=True
    trainer.resume_mode=auto
    trainer.logger=[console,wandb]
    trainer.project_name=laser-verl
    trainer.experiment_name=$PRESET
    trainer.default_local_dir="$CKPT_DIR"
)
