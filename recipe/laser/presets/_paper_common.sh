# Shared by the paper presets (sourced after the model file sets MODEL_PATH, TEMPLATE, C_REF and the
# warm-ups). The authors' setup (../shared notes, sec. 3): GRPO, n=8, 128 prompts a step, one
# optimizer step a step, lr 1e-6, prompt 2048 / response 8192, T = top-p = 1, validation n=2,
# 2 epochs, vLLM rollout. Runs on GPU nodes (requirements.txt); not run in this repository's CI.

# -- cluster ---------------------------------------------------------------------------------------
NNODES=${NNODES:-1}
NGPUS_PER_NODE=${NGPUS_PER_NODE:-8}
ROLLOUT_TP=${ROLLOUT_TP:-4}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.6}
# -- paths -----------------------------------------------------------------------------------------
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/math_$TEMPLATE}
EVAL_DIR=${EVAL_DIR:-}                      # folder of the five benchmark jsonl files; empty: the hub
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/train.parquet}
VAL_FILES=${VAL_FILES:-[$DATA_DIR/eval/math500.parquet,$DATA_DIR/eval/amc23.parquet,$DATA_DIR/eval/aime24.parquet,$DATA_DIR/eval/aime25.parquet,$DATA_DIR/eval/olympiadbench.parquet]}
CKPT_DIR=${CKPT_DIR:-$REPO_DIR/checkpoints/$PRESET}
# -- algorithm -------------------------------------------------------------------------------------
LASER=${LASER:-True}
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-0.1}
TAU=${TAU:-0.1}
STD_THRESHOLD=${STD_THRESHOLD:-0.1}
# -- sizes -----------------------------------------------------------------------------------------
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-128}
N_RESPONSES=${N_RESPONSES:-8}
MAX_PROMPT_LENGTH=${MAX_PROMPT_LENGTH:-2048}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-8192}
LR=${LR:-1e-6}
TOTAL_EPOCHS=${TOTAL_EPOCHS:-2}
MAX_TOKENS_PER_GPU=${MAX_TOKENS_PER_GPU:-$(( (MAX_PROMPT_LENGTH + MAX_RESPONSE_LENGTH) * 2 ))}
SAVE_FREQ=${SAVE_FREQ:-50}
TEST_FREQ=${TEST_FREQ:-50}

if [ ! -f "$TRAIN_FILE" ]; then
    $PYTHON -m data_prep.prepare_math --out-dir "$DATA_DIR" --template "$TEMPLATE" ${EVAL_DIR:+--eval-dir "$EVAL_DIR"}
fi

# shellcheck source=_laser_args.sh
source "$REPO_DIR/recipe/laser/presets/_laser_args.sh"
PRESET_ARGS=(
    "${LASER_ARGS[@]}"
    algorithm.adv_estimator=grpo
    algorithm.use_kl_in_reward=False
    data.train_files="$TRAIN_FILE"
    data.val_files="$VAL_FILES"
    data.train_batch_size=$TRAIN_PROMPTS_PER_STEP
    data.max_prompt_length=$MAX_PROMPT_LENGTH
    data.max_response_length=$MAX_RESPONSE_LENGTH
    data.filter_overlong_prompts=True
    actor_rollout_ref.model.path="$MODEL_PATH"
    actor_rollout_ref.model.use_remove_padding=True
    actor_rollout_ref.model.enable_gradient_checkpointing=True
    actor_rollout_ref.actor.optim.lr=$LR
    actor_rollout_ref.actor.optim.weight_decay=0.01
    actor_rollout_ref.actor.ppo_mini_batch_size=$TRAIN_PROMPTS_PER_STEP
    actor_rollout_ref.actor.ppo_epochs=1
    actor_rollout_ref.actor.use_dynamic_bsz=True
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.actor.use_kl_loss=False
    actor_rollout_ref.actor.entropy_coeff=0
    actor_rollout_ref.actor.loss_agg_mode=token-mean
    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.tensor_model_parallel_size=$ROLLOUT_TP
    actor_rollout_ref.rollout.gpu_memory_utilization=$GPU_MEMORY_UTILIZATION
    actor_rollout_ref.rollout.n=$N_RESPONSES
    actor_rollout_ref.rollout.temperature=1.0
    actor_rollout_ref.rollout.top_p=1.0
    actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True
    actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$MAX_TOKENS_PER_GPU
    actor_rollout_ref.rollout.val_kwargs.n=2
    actor_rollout_ref.rollout.val_kwargs.do_sample=True
    actor_rollout_ref.rollout.val_kwargs.temperature=1.0
    actor_rollout_ref.rollout.val_kwargs.top_p=1.0
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
