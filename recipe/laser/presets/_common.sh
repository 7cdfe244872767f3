# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The presets' shared helpers: functions that build a preset's inputs when they are missing, and the CPU path.
# Sourced by each preset; defines functions only. run_laser.sh calls the preset's prepare_inputs
# before training; every command here keeps what is already there (built with the same options).

# A tiny random Qwen2 with a real Qwen tokenizer (Qwen2.5's ids) ($1 folder, $2 convention: base = pad is EOS, chat = pad is not).
ensure_tiny_model() {
    "$PYTHON" -m data_prep.tiny_model --out "$1" --convention "$2"
}

# The synthetic task in verl's parquet format ($1 folder, $2 task, $3 training rows, $4 held-out rows).
ensure_synthetic_data() {
    "$PYTHON" -m data_prep.synthetic_arithmetic --out-dir "$1" --task "$2" --train "$3" --test "$4"
}

# A short supervised warm start, so that the tiny model ends its answers ($1 model, $2 data, $3 output,
# $4 steps, $5 share of deliberately wrong answers in the warm-start targets).
ensure_warm_start() {
    "$PYTHON" -m data_prep.warm_start --model "$1" --data-dir "$2" --out "$3" --steps "$4" --error-rate "$5"
}

# DeepMath-103K and the five benchmarks with the authors' prompt ($1 folder, $2 model whose chat template
# renders it, $3 the family its answer gate is checked against, optional).
ensure_math_data() {
    if [ ! -f "$1/train.parquet" ]; then
        "$PYTHON" -m data_prep.prepare_math --out-dir "$1" --tokenizer "$2" ${3:+--family "$3"} \
            ${CHAT_TEMPLATE:+--chat-template "$CHAT_TEMPLATE"}
    fi
}

# WebInstruct-verified, MMLU-Pro and GPQA-Diamond with the authors' prompt ($1 folder, $2 model whose chat
# template renders it; GENERAL_SOURCE_DIR: local files instead of the hub; MAX_TRAIN: a cap on training rows).
ensure_general_data() {
    if [ ! -f "$1/train.parquet" ]; then
        "$PYTHON" -m data_prep.prepare_general --out-dir "$1" --tokenizer "$2" \
            ${GENERAL_SOURCE_DIR:+--source-dir "$GENERAL_SOURCE_DIR"} ${MAX_TRAIN:+--max-train "$MAX_TRAIN"} \
            ${CHAT_TEMPLATE:+--chat-template "$CHAT_TEMPLATE"}
    fi
}

# The CPU path, for a preset that runs on a machine without an accelerator: verl_patches.cpu.plugin in
# every verl process (recipe/laser/launch.py passes these variables on to Ray's workers) and, in
# CPU_PLATFORM_ARGS, the overrides that put verl's trainer on the CPU. $1: the rollout, hf (the
# plugin's) or vllm (verl's own, with vLLM for CPU: no sleep mode, eager, a fixed KV cache in host
# memory); $2: training processes (FSDP ranks over gloo, each a logical GPU for Ray). Sets PRESET_ENV
# to the environment that path needs (scripts/python_env.sh).
use_cpu_platform() {
    export VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin${VERL_USE_EXTERNAL_MODULES:+,$VERL_USE_EXTERNAL_MODULES}
    export VERL_PLATFORM=cpu
    export TOKENIZERS_PARALLELISM=false
    CPU_PLATFORM_ARGS=(
        trainer.device=cpu
        actor_rollout_ref.actor.strategy=fsdp2
        actor_rollout_ref.actor.fsdp_config.use_torch_compile=False
        actor_rollout_ref.ref.strategy=fsdp2
        actor_rollout_ref.ref.fsdp_config.use_torch_compile=False
        actor_rollout_ref.rollout.name="$1"
        actor_rollout_ref.rollout.dtype=float32
        actor_rollout_ref.rollout.tensor_model_parallel_size=1
        actor_rollout_ref.rollout.agent.num_workers=1
        reward.num_workers=1
        transfer_queue.backend.SimpleStorage.num_data_storage_units=1
        ray_kwargs.ray_init.num_cpus=16
        +ray_kwargs.ray_init.num_gpus="$2"
    )
    case "$1" in
        hf) PRESET_ENV=cpu ;;
        vllm) PRESET_ENV=vllm-cpu
            CPU_PLATFORM_ARGS+=(
                +actor_rollout_ref.rollout.enable_sleep_mode=False
                actor_rollout_ref.rollout.free_cache_engine=False
                actor_rollout_ref.rollout.enforce_eager=True
                +actor_rollout_ref.rollout.engine_kwargs.vllm.kv_cache_memory_bytes="${VLLM_CPU_KV_CACHE_BYTES:-268435456}"
            ) ;;
        *) echo "use_cpu_platform: rollout '$1': expected hf or vllm" >&2; exit 2 ;;
    esac
}
