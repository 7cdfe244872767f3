#!/usr/bin/env bash
# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# Evaluate a Hugging Face model folder on the five benchmarks (MATH500, AMC23, AIME24, AIME25,
# OlympiadBench; SUITE=general: MMLU-Pro and GPQA-Diamond, graded by the option letter) as the authors do: n samples per problem, the family's evaluation prompt, accuracy
# by the last box, the last-token self-reward of every answered sample (one extra token), then
# metrics.json, results.md and plots/ in OUT_DIR. The model family (z_c, c_ref, prompt) is inferred
# from the model and printed; FAMILY overrides it.
#
#   MODEL_PATH=checkpoints/qwen2.5-7b_laser/global_step_500/actor/huggingface bash run_eval.sh
#   MODEL_PATH=... BACKEND=hf LIMIT=8 N=2 MAX_TOKENS=256 bash run_eval.sh     # a quick slice
#   MODEL_PATH=... bash run_eval.sh --c-ref exact --ref-model Qwen/Qwen2.5-7B  # any evaluate option
#   MODEL_PATH=... REWARD_MODELS="Skywork/Skywork-Reward-V2-Llama-3.1-8B" bash run_eval.sh  # F1 next to external verifiers
#   MODEL_PATH=checkpoints/qwen3-4b_general_laser/global_step_500/actor/huggingface SUITE=general bash run_eval.sh
#
# Every value below is a ${VAR:-default}; extra arguments go to `python -m recipe.laser.evaluation.evaluate`.
# The environment (scripts/python_env.sh; PYTHON overrides): BACKEND=vllm runs in .venv-gpu on a GPU
# node, else in .venv-vllm (`bash setup.sh --vllm-cpu`); BACKEND=hf in .venv, .venv-gpu or .venv-vllm.
set -euo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

MODEL_PATH=${MODEL_PATH:?set MODEL_PATH to a Hugging Face model folder (verl checkpoints: see docs/evaluation.md)}
FAMILY=${FAMILY:-auto}                                  # qwen2.5, orz, octothinker; auto: from the model
# the model's name: checkpoints/<run>/global_step_N/actor/huggingface -> <run>_global_step_N;
# any other path or hub id -> its slashes as underscores
run_name=${MODEL_PATH%/}; run_name=${run_name%/actor/huggingface}; run_name=${run_name#*checkpoints/}
# math: the five benchmarks (shipped); general: MMLU-Pro and GPQA-Diamond (multiple choice; from the hub,
# GPQA gated, or GENERAL_SOURCE_DIR with local files of their schemas: data_prep/prepare_general.py)
SUITE=${SUITE:-math}
case "$SUITE" in
    math) suite_dir=eval ;;
    general) suite_dir=eval_general ;;
    *) echo "run_eval.sh: SUITE=$SUITE: expected math or general" >&2; exit 2 ;;
esac
# the suite's benchmarks rendered with this model's tokenizer and chat template, one parquet file each
EVAL_DATA=${EVAL_DATA:-$REPO_DIR/data/$suite_dir/${run_name//\//_}/eval}
OUT_DIR=${OUT_DIR:-$REPO_DIR/outputs/$suite_dir/${run_name//\//_}}
BACKEND=${BACKEND:-vllm}                                # vllm | hf
N=${N:-}                                                # samples per problem; empty: 2 (MATH500, OlympiadBench), 32 (AMC23, AIME24/25)
MAX_TOKENS=${MAX_TOKENS:-8192}
TEMPERATURE=${TEMPERATURE:-1.0}
TOP_P=${TOP_P:-1.0}
BETA_V=${BETA_V:-0.1}
C_REF=${C_REF:-}                                        # empty: the family's (-23 Qwen2.5/ORZ, -25 OctoThinker; qwen3 has none); exact; or laser_c_ref.json
LIMIT=${LIMIT:-}                                        # first K problems of each benchmark
SEED=${SEED:-0}
TENSOR_PARALLEL_SIZE=${TENSOR_PARALLEL_SIZE:-1}
REWARD_MODELS=${REWARD_MODELS:-}                        # external verifiers scored next to r_s (verifiers.md): space-separated
RM_DEVICE=${RM_DEVICE:-auto}                            # their device; auto: cuda when there is one

source "$REPO_DIR/scripts/python_env.sh"
case "$BACKEND" in
    vllm) pick_python "run_eval.sh BACKEND=vllm" gpu vllm-cpu ;;
    hf) pick_python "run_eval.sh BACKEND=hf" cpu gpu vllm-cpu ;;
    *) echo "run_eval.sh: BACKEND=$BACKEND: expected vllm or hf" >&2; exit 2 ;;
esac

if [ ! -d "$EVAL_DATA" ] && [ "$SUITE" = math ]; then  # the shipped benchmarks (data_prep/benchmarks) as verl parquet
    "$PYTHON" -m data_prep.prepare_math --out-dir "$(dirname "$EVAL_DATA")" --tokenizer "$MODEL_PATH" --no-train
elif [ ! -d "$EVAL_DATA" ]; then
    "$PYTHON" -m data_prep.prepare_general --out-dir "$(dirname "$EVAL_DATA")" --tokenizer "$MODEL_PATH" --no-train \
        ${GENERAL_SOURCE_DIR:+--source-dir "$GENERAL_SOURCE_DIR"}
fi

ARGS=(--model "$MODEL_PATH" --data "$EVAL_DATA" --out-dir "$OUT_DIR" --backend "$BACKEND" --family "$FAMILY"
      --max-tokens "$MAX_TOKENS" --temperature "$TEMPERATURE" --top-p "$TOP_P" --beta-v "$BETA_V"
      --seed "$SEED" --tensor-parallel-size "$TENSOR_PARALLEL_SIZE")
[ -n "$C_REF" ] && ARGS+=(--c-ref "$C_REF")
[ -n "$N" ] && ARGS+=(--n "$N")
[ -n "$LIMIT" ] && ARGS+=(--limit "$LIMIT")
"$PYTHON" -m recipe.laser.evaluation.evaluate "${ARGS[@]}" "$@"
for reward_model in $REWARD_MODELS; do  # sequence-classification reward models (recipe/laser/evaluation/external_verifier.py)
    "$PYTHON" -m recipe.laser.evaluation.external_verifier "$OUT_DIR" --model "$reward_model" --device "$RM_DEVICE"
done
