# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The presets' one shared helper: functions that build a preset's inputs when they are missing.
# Sourced by each preset; defines functions only. run_laser.sh calls the preset's prepare_inputs
# before training; every command here keeps what is already there (built with the same options).

# A tiny random Qwen2 with Qwen2.5's tokenizer ($1 folder, $2 convention: base = pad is EOS, chat = pad is not).
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

# DeepMath-103K and the five benchmarks with the authors' prompt ($1 folder, $2 model whose chat template renders it).
ensure_math_data() {
    if [ ! -f "$1/train.parquet" ]; then
        "$PYTHON" -m data_prep.prepare_math --out-dir "$1" --tokenizer "$2" ${CHAT_TEMPLATE:+--chat-template "$CHAT_TEMPLATE"}
    fi
}
