# Preset tiny_cpu_grpo: verl's real trainer (GRPO) on a CPU, a tiny random Qwen2 model and a
# synthetic arithmetic prompt set, all built offline on first use. Minutes, not a result: it proves
# the pipeline (rollout, reward, reference, update, weight sync) end to end.
# Sourced by run_laser.sh; every value below is a ${VAR:-default} that the environment overrides.

# -- paths -----------------------------------------------------------------------------------------
MODEL_PATH=${MODEL_PATH:-$REPO_DIR/models/tiny-qwen2-base}
TOKENIZER_CONVENTION=${TOKENIZER_CONVENTION:-base}   # base: pad == EOS; chat: pad != EOS
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/synthetic_arith}
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/train.parquet}
VAL_FILE=${VAL_FILE:-$DATA_DIR/test.parquet}
CKPT_DIR=${CKPT_DIR:-$REPO_DIR/checkpoints/$PRESET}
METRICS_FILE=${METRICS_FILE:-$CKPT_DIR/metrics.jsonl}    # one JSON line of metrics per step
REWARD_FN_PATH=${REWARD_FN_PATH:-$REPO_DIR/recipe/laser/reward.py}
REWARD_FN_NAME=${REWARD_FN_NAME:-compute_score}
# -- sizes -----------------------------------------------------------------------------------------
NGPUS=${NGPUS:-1}                     # logical GPUs = training processes on this host
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-4}
N_RESPONSES=${N_RESPONSES:-4}
MAX_PROMPT_LENGTH=${MAX_PROMPT_LENGTH:-64}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-32}
TOTAL_STEPS=${TOTAL_STEPS:-4}
SAVE_FREQ=${SAVE_FREQ:--1}            # -1: no checkpoint; N: every N steps (and at the end), with an HF export
LR=${LR:-1e-4}
USE_V1_TRAINER=${USE_V1_TRAINER:-True}
USE_KL_LOSS=${USE_KL_LOSS:-True}      # True starts verl's reference worker

# -- the CPU path: verl_patches.cpu.plugin loaded in every process -----------------------------------------
export VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin${VERL_USE_EXTERNAL_MODULES:+,$VERL_USE_EXTERNAL_MODULES}
export VERL_PLATFORM=cpu
export TOKENIZERS_PARALLELISM=false
export VERL_FILE_LOGGER_PATH=$METRICS_FILE
mkdir -p "$(dirname "$METRICS_FILE")"

# -- offline model and data (skipped when present) ---------------------------------------------------
if [ ! -f "$MODEL_PATH/config.json" ]; then
    $PYTHON "$REPO_DIR/data_prep/tiny_model.py" --out "$MODEL_PATH" --convention "$TOKENIZER_CONVENTION"
fi
if [ ! -f "$TRAIN_FILE" ]; then
    $PYTHON "$REPO_DIR/data_prep/synthetic_arithmetic.py" --out-dir "$DATA_DIR"
fi

PRESET_ARGS=(
    algorithm.adv_estimator=grpo
    data.train_files="$TRAIN_FILE"
    data.val_files="$VAL_FILE"
    data.train_batch_size=$TRAIN_PROMPTS_PER_STEP
    data.max_prompt_length=$MAX_PROMPT_LENGTH
    data.max_response_length=$MAX_RESPONSE_LENGTH
    data.dataloader_num_workers=0
    actor_rollout_ref.model.path="$MODEL_PATH"
    +actor_rollout_ref.model.override_config.attn_implementation=sdpa
    actor_rollout_ref.model.use_remove_padding=True
    actor_rollout_ref.actor.strategy=fsdp2
    actor_rollout_ref.actor.optim.lr=$LR
    actor_rollout_ref.actor.ppo_mini_batch_size=$TRAIN_PROMPTS_PER_STEP
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=$((TRAIN_PROMPTS_PER_STEP * N_RESPONSES))
    actor_rollout_ref.actor.use_kl_loss=$USE_KL_LOSS
    actor_rollout_ref.actor.kl_loss_coef=0.001
    actor_rollout_ref.actor.fsdp_config.use_torch_compile=False
    +actor_rollout_ref.actor.fsdp_config.mixed_precision.param_dtype=fp32
    actor_rollout_ref.ref.strategy=fsdp2
    actor_rollout_ref.ref.fsdp_config.use_torch_compile=False
    +actor_rollout_ref.ref.fsdp_config.mixed_precision.param_dtype=fp32
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=$((TRAIN_PROMPTS_PER_STEP * N_RESPONSES))
    actor_rollout_ref.rollout.name=hf
    actor_rollout_ref.rollout.dtype=float32
    actor_rollout_ref.rollout.n=$N_RESPONSES
    actor_rollout_ref.rollout.tensor_model_parallel_size=1
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=$((TRAIN_PROMPTS_PER_STEP * N_RESPONSES))
    actor_rollout_ref.rollout.agent.num_workers=1
    reward.num_workers=1
    reward.custom_reward_function.path="$REWARD_FN_PATH"
    reward.custom_reward_function.name=$REWARD_FN_NAME
    trainer.device=cpu
    trainer.use_v1=$USE_V1_TRAINER
    trainer.nnodes=1
    trainer.n_gpus_per_node=$NGPUS
    trainer.total_training_steps=$TOTAL_STEPS
    trainer.val_before_train=False
    trainer.test_freq=-1
    trainer.save_freq=$SAVE_FREQ
    actor_rollout_ref.actor.checkpoint.save_contents=[model,optimizer,extra,hf_model]
    trainer.logger=[console,file]
    trainer.project_name=laser-verl
    trainer.experiment_name=$PRESET
    trainer.default_local_dir="$CKPT_DIR"
    transfer_queue.backend.SimpleStorage.num_data_storage_units=1
    ray_kwargs.ray_init.num_cpus=16
    +ray_kwargs.ray_init.num_gpus=$NGPUS
)
