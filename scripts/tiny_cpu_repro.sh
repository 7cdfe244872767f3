#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The tiny CPU reproduction: LaSeR vs GRPO from one warm start, on verl's real trainer, evaluated on
# held-out problems. `bash run_laser.sh` (no PRESET) runs this script.
#   1. a tiny random Qwen2, the synthetic task and a supervised warm start, built offline (kept when present);
#   2. GRPO and LaSeR from that checkpoint, same seed and budget (PRESET=tiny_cpu_laser through run_laser.sh;
#      the GRPO run is the LaSeR trainer with alpha = tau = 0, so its untrained score's F1 is tracked too);
#   3. held-out evaluation of the warm start and both runs (recipe.laser.evaluation.evaluate);
#   4. the summary table, learning curves and voting plot in $OUT_DIR (scripts/repro_report.py).
# Every value is a ${VAR:-default}; extra arguments go to both training runs (hydra overrides).
set -xeuo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO_DIR/scripts/python_env.sh"
pick_python "the tiny CPU reproduction (run_laser.sh without PRESET)" cpu

SEED=${SEED:-0}                           # RL data order and sampling, evaluation sampling (not the warm start)
TASK=${TASK:-zero_rule}
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/$TASK}
N_TRAIN=${N_TRAIN:-512}
N_TEST=${N_TEST:-64}                      # held-out problems (disjoint from training in each family)
MODEL_DIR=${MODEL_DIR:-$REPO_DIR/models/tiny-qwen2-base}
WARM_STEPS=${WARM_STEPS:-150}
WARM_ERROR_RATE=${WARM_ERROR_RATE:-0.5}   # share of wrong answers (the other family's value) in the warm-start targets
WARM_MODEL=${WARM_MODEL:-$REPO_DIR/models/tiny-qwen2-base-$TASK-warm$WARM_STEPS-err$WARM_ERROR_RATE}
TOTAL_STEPS=${TOTAL_STEPS:-16}
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-4}
N_RESPONSES=${N_RESPONSES:-4}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-16}
LR=${LR:-5e-4}
ALPHA=${ALPHA:-0.1}                       # paper
BETA_V=${BETA_V:-1.0}                     # paper 0.1: 16 steps move log p(z_c) by about a nat
SELF_REWARD_LOSS=${SELF_REWARD_LOSS:-mse} # mse (eq. 13, the paper's) | bce (eq. 16's cross-entropy on p(z_c))
PPO_EPOCHS=${PPO_EPOCHS:-1}               # optimizer passes over each step's batch, both runs
USE_KL_LOSS=${USE_KL_LOSS:-False}         # True: verl's KL loss to the warm start, both runs
KL_LOSS_COEF=${KL_LOSS_COEF:-0.001}       # its weight (docs/reproduction.md: 1.0 with 16 passes holds the policy)
TAU=${TAU:-0.1}                           # paper
STD_THRESHOLD=${STD_THRESHOLD:-0.1}       # paper
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-4}
EVAL_N=${EVAL_N:-8}                       # samples per held-out problem: voting and best-of-k up to k = EVAL_N
OUT_DIR=${OUT_DIR:-$REPO_DIR/outputs/tiny_cpu_repro/seed$SEED}
CKPT_ROOT=${CKPT_ROOT:-$REPO_DIR/checkpoints/tiny_cpu_repro/seed$SEED}

# A second run keeps what the first finished: a training run with its final checkpoint is not trained
# again, an unfinished one continues from its last checkpoint (trainer.resume_mode=auto), evaluations
# resume. Other options than those recorded next to earlier results are refused; FRESH=1 deletes them.
if [ "${FRESH:-0}" = 1 ]; then
    echo "tiny_cpu_repro.sh: FRESH=1: deleting $CKPT_ROOT/grpo, $CKPT_ROOT/laser and $OUT_DIR" >&2
    rm -rf "${CKPT_ROOT:?}/grpo" "$CKPT_ROOT/laser" "${OUT_DIR:?}"
fi
export FRESH=0  # the training runs below keep their checkpoints
same_options_as_before() {  # $1 record file, then the options, one per line on stdin
    local given
    given=$(cat)
    if [ -f "$1" ] && [ "$(cat "$1")" != "$given" ]; then
        set +x
        echo "tiny_cpu_repro.sh: the results next to $1 were made with other options:" >&2
        { diff <(cat "$1") <(echo "$given") || true; } | grep '^[<>]' | sed 's/^</  before:/; s/^>/  now:   /' >&2
        echo "  FRESH=1 bash run_laser.sh starts over (deletes them); or set CKPT_ROOT and OUT_DIR to keep both" >&2
        exit 2
    fi
    mkdir -p "$(dirname "$1")"
    [ -f "$1" ] || echo "$given" > "$1"
}

start=$SECONDS
for run in grpo laser; do
    alpha=$ALPHA tau=$TAU
    if [ "$run" = grpo ]; then alpha=0 tau=0; fi
    run_env=(PRESET=tiny_cpu_laser MODEL_DIR="$MODEL_DIR" MODEL_PATH="$WARM_MODEL" WARM_STEPS="$WARM_STEPS" TASK="$TASK"
        WARM_ERROR_RATE="$WARM_ERROR_RATE" DATA_DIR="$DATA_DIR" N_TRAIN="$N_TRAIN" N_TEST="$N_TEST"
        CKPT_DIR="$CKPT_ROOT/$run" SEED="$SEED" TOTAL_STEPS="$TOTAL_STEPS" SAVE_FREQ="$TOTAL_STEPS" LR="$LR"
        TRAIN_PROMPTS_PER_STEP="$TRAIN_PROMPTS_PER_STEP" N_RESPONSES="$N_RESPONSES"
        MAX_RESPONSE_LENGTH="$MAX_RESPONSE_LENGTH" ALPHA="$alpha" BETA_V="$BETA_V" TAU="$tau" C_REF=auto
        SELF_REWARD_LOSS="$SELF_REWARD_LOSS" PPO_EPOCHS="$PPO_EPOCHS" USE_KL_LOSS="$USE_KL_LOSS" KL_LOSS_COEF="$KL_LOSS_COEF"
        STD_THRESHOLD="$STD_THRESHOLD" REASONING_WARMUP=0 SELF_REWARD_WARMUP="$SELF_REWARD_WARMUP")
    printf '%s\n' "${run_env[@]}" "hydra overrides: $*" | same_options_as_before "$CKPT_ROOT/$run/repro_options.txt"
    if [ -d "$CKPT_ROOT/$run/global_step_$TOTAL_STEPS/actor/huggingface" ]; then
        echo "tiny_cpu_repro.sh: $run is finished in $CKPT_ROOT/$run: kept (FRESH=1 trains it again)" >&2
        continue
    fi
    env "${run_env[@]}" bash "$REPO_DIR/run_laser.sh" trainer.experiment_name="tiny_cpu_repro_${run}_seed$SEED" "$@"
done
printf '%s\n' "EVAL_N=$EVAL_N" "SEED=$SEED" "BETA_V=$BETA_V" "SELF_REWARD_LOSS=$SELF_REWARD_LOSS" \
    "MAX_RESPONSE_LENGTH=$MAX_RESPONSE_LENGTH" "CKPT_ROOT=$CKPT_ROOT" "DATA_DIR=$DATA_DIR" | same_options_as_before "$OUT_DIR/repro_options.txt"

# Held-out evaluation: the warm start and both runs, with the c_ref the LaSeR run measured (a finished
# evaluation is read back, not sampled again).
for name in warm_start grpo laser; do
    model=$WARM_MODEL
    [ "$name" != warm_start ] && model=$CKPT_ROOT/$name/global_step_$TOTAL_STEPS/actor/huggingface
    "$PYTHON" -m recipe.laser.evaluation.evaluate --backend hf --model "$model" --data "$DATA_DIR/test.parquet" \
        --out-dir "$OUT_DIR/eval_$name" --n "$EVAL_N" --max-tokens "$MAX_RESPONSE_LENGTH" --seed "$SEED" \
        --prompt-style training --beta-v "$BETA_V" --self-reward-loss "$SELF_REWARD_LOSS" \
        --c-ref "$CKPT_ROOT/laser/laser_c_ref.json" --no-progress
done
"$PYTHON" "$REPO_DIR/scripts/repro_report.py" --out-dir "$OUT_DIR" \
    --run GRPO="$CKPT_ROOT/grpo/metrics.jsonl" --run LaSeR="$CKPT_ROOT/laser/metrics.jsonl" \
    --eval "warm start=$OUT_DIR/eval_warm_start" --eval GRPO="$OUT_DIR/eval_grpo" --eval LaSeR="$OUT_DIR/eval_laser" \
    --seconds $((SECONDS - start))
