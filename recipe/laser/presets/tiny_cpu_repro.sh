# Preset tiny_cpu_repro: LaSeR vs GRPO on a CPU in minutes, the README's headline result.
#   1. a tiny random Qwen2 (9.8M params, Qwen2.5's tokenizer) and the zero_or_sum task (half "417 * 0",
#      which a short warm start learns; half two-digit sums, which it does not), built offline;
#   2. a supervised warm start (plain torch) to partial accuracy; held-out evaluation of it;
#   3. GRPO and LaSeR from that checkpoint, same seed and budget, on verl's real trainer;
#   4. held-out evaluation of both (recipe.laser.evaluate, transformers backend), learning curves,
#      tables and plots in $OUT_DIR (recipe.laser.repro_report).
# The GRPO run is the LaSeR trainer with alpha = tau = 0: the same loss and advantages as GRPO, with
# z_c still scored so that its self-verification F1 can be tracked.
# Every value is a ${VAR:-default}; SEED changes the RL runs (data order, sampling), not the warm start.
SEED=${SEED:-0}
MODEL_DIR=${MODEL_DIR:-$REPO_DIR/models/tiny-qwen2-base}
DATA_DIR=${DATA_DIR:-$REPO_DIR/data/zero_or_sum}
N_TRAIN=${N_TRAIN:-512}
N_TEST=${N_TEST:-64}                      # held-out problems (disjoint from training in each family)
WARM_STEPS=${WARM_STEPS:-150}
WARM_MODEL=${WARM_MODEL:-$REPO_DIR/models/tiny-qwen2-base-zero_or_sum-warm$WARM_STEPS}
TOTAL_STEPS=${TOTAL_STEPS:-16}
TRAIN_PROMPTS_PER_STEP=${TRAIN_PROMPTS_PER_STEP:-4}
N_RESPONSES=${N_RESPONSES:-4}
MAX_RESPONSE_LENGTH=${MAX_RESPONSE_LENGTH:-16}
LR=${LR:-5e-4}
# LaSeR: the paper's alpha, tau and threshold; beta_v = 1 (paper 0.1) so that a 16-step run can move
# the score by a whole unit (r_s = beta_v * (log p - c_ref): 1 nat instead of 10); c_ref measured at step 1.
ALPHA=${ALPHA:-0.1}
BETA_V=${BETA_V:-1.0}
TAU=${TAU:-0.1}
STD_THRESHOLD=${STD_THRESHOLD:-0.1}
SELF_REWARD_WARMUP=${SELF_REWARD_WARMUP:-4}
EVAL_N=${EVAL_N:-4}                       # samples per held-out problem
OUT_DIR=${OUT_DIR:-$REPO_DIR/outputs/tiny_cpu_repro/seed$SEED}
CKPT_ROOT=${CKPT_ROOT:-$REPO_DIR/checkpoints/tiny_cpu_repro/seed$SEED}

preset_pipeline() {
    local start=$SECONDS
    mkdir -p "$OUT_DIR"
    "$PYTHON" "$REPO_DIR/data_prep/tiny_model.py" --out "$MODEL_DIR" --convention base
    "$PYTHON" "$REPO_DIR/data_prep/synthetic_arithmetic.py" --out-dir "$DATA_DIR" --task zero_or_sum \
        --train "$N_TRAIN" --test "$N_TEST"
    "$PYTHON" "$REPO_DIR/data_prep/warm_start.py" --model "$MODEL_DIR" --data-dir "$DATA_DIR" --out "$WARM_MODEL" \
        --steps "$WARM_STEPS" --error-rate 0.0
    local run
    for run in grpo laser; do
        local alpha=$ALPHA tau=$TAU
        if [ "$run" = grpo ]; then alpha=0; tau=0; fi
        rm -rf "$CKPT_ROOT/$run"
        env PRESET=tiny_cpu_laser PYTHON="$PYTHON" MODEL_PATH="$WARM_MODEL" DATA_DIR="$DATA_DIR" \
            CKPT_DIR="$CKPT_ROOT/$run" TOTAL_STEPS="$TOTAL_STEPS" SAVE_FREQ="$TOTAL_STEPS" LR="$LR" \
            TRAIN_PROMPTS_PER_STEP="$TRAIN_PROMPTS_PER_STEP" N_RESPONSES="$N_RESPONSES" \
            MAX_RESPONSE_LENGTH="$MAX_RESPONSE_LENGTH" ALPHA="$alpha" BETA_V="$BETA_V" TAU="$tau" C_REF=auto \
            STD_THRESHOLD="$STD_THRESHOLD" REASONING_WARMUP=0 SELF_REWARD_WARMUP="$SELF_REWARD_WARMUP" \
            bash "$REPO_DIR/run_laser.sh" data.seed="$SEED" actor_rollout_ref.rollout.seed="$SEED" \
            trainer.experiment_name="tiny_cpu_repro_${run}_seed$SEED" "$@"
    done
    # Held-out evaluation: the warm start and both runs, with the c_ref measured by the LaSeR run.
    local name model
    for name in warm_start grpo laser; do
        model=$WARM_MODEL
        [ "$name" != warm_start ] && model=$CKPT_ROOT/$name/global_step_$TOTAL_STEPS/actor/huggingface
        "$PYTHON" -m recipe.laser.evaluate --backend hf --model "$model" --data "$DATA_DIR/test.parquet" \
            --out-dir "$OUT_DIR/eval_$name" --n "$EVAL_N" --max-tokens "$MAX_RESPONSE_LENGTH" --seed "$SEED" \
            --beta-v "$BETA_V" --c-ref "$CKPT_ROOT/laser/laser_c_ref.json" --force --no-progress
    done
    "$PYTHON" -m recipe.laser.repro_report --out-dir "$OUT_DIR" \
        --run GRPO="$CKPT_ROOT/grpo/metrics.jsonl" --run LaSeR="$CKPT_ROOT/laser/metrics.jsonl" \
        --eval "warm start=$OUT_DIR/eval_warm_start" --eval GRPO="$OUT_DIR/eval_grpo" --eval LaSeR="$OUT_DIR/eval_laser" \
        --seconds $((SECONDS - start))
}
