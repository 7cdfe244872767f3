# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Run inside the vLLM environment (.venv-vllm) by test_evaluate.py: for each model, vLLM on CPU
samples responses and scores z_c by the cheap continuation and by the authors' prompt log-prob
re-prefill; a plain transformers fp32 forward gives the reference value. Both engines stay loaded,
and the second one scores the first one's samples, as ``--c-ref exact`` does with a reference model.
Prints one JSON object (per model: counts, the largest differences, cache figures).

    .venv-vllm/bin/python tests/recipe/laser/evaluation/vllm_cpu_check.py MODEL_DIR MODEL_DIR
"""

from __future__ import annotations

import json
import sys


def reference_values(model_dir: str, sequences: list[list[int]], zc: int) -> list[float]:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        return [
            float(torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0, -1].float(), -1)[zc])
            for seq in sequences
        ]


def check(model_dir: str) -> tuple[dict, object, list[list[int]]]:
    from transformers import AutoTokenizer

    from recipe.laser.evaluation.backends import VLLMBackend
    from recipe.laser.evaluation.evaluate import auto_chunk_size
    from recipe.laser.families import stop_token_ids
    from recipe.laser.prompts import training_messages

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    stops = stop_token_ids(model_dir, tokenizer)
    zc = tokenizer.convert_tokens_to_ids("<|vision_start|>")
    # a 512 MiB KV cache (a million tokens of this model; the check uses a few hundred): the default share
    # of host memory is 4.8 GB per engine, whose pages cost the two engines about 25 CPU-seconds to fault in
    backend = VLLMBackend(
        model_dir,
        zc,
        stops,
        dtype="float32",
        seed=0,
        max_model_len=256,
        enforce_eager=True,
        block_size=32,  # CPU attention needs a multiple of 32
        kv_cache_memory_bytes=512 << 20,
    )
    # the training prompt: in distribution for the warm-started models, and long enough (> 32 tokens
    # with the answer) that [x, y] fills a KV block the cheap score can find in the prefix cache
    prompts = [
        list(
            tokenizer.apply_chat_template(
                training_messages(f"What is {a} + {b}?"), add_generation_prompt=True, return_dict=False
            )
        )  # fmt: skip
        for a, b in ((12, 7), (45, 30), (3, 99))
    ]
    samples = backend.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_tokens=24, seed=0)
    finished = [(p + s.response_ids, s.zc_log_prob) for p, ss in zip(prompts, samples, strict=True) for s in ss
                if s.finished]  # fmt: skip
    sequences = [seq for seq, _ in finished]
    prefill = backend.score_prefill(sequences)
    reference = reference_values(model_dir, sequences, zc)
    kv = backend.kv_cache_tokens()
    result = {
        "stop_ids": stops,
        "samples": sum(len(ss) for ss in samples),
        "finished": len(finished),
        "ends_with_stop": all(seq[-1] in stops for seq in sequences),
        "cheap_vs_transformers": max((abs(c - r) for (_, c), r in zip(finished, reference, strict=True)), default=None),
        "prefill_vs_transformers": max((abs(p - r) for p, r in zip(prefill, reference, strict=True)), default=None),
        "prompt_tokens": [len(p) for p in prompts],
        "score_cache": backend.score_cache_stats(),
        "kv_cache_tokens": kv,
        "auto_chunk_size": auto_chunk_size(kv, 32, 2048, 8192),
    }
    return result, backend, sequences


def main() -> None:
    policy_dir, reference_dir = sys.argv[1], sys.argv[2]
    results = {}
    results[policy_dir], policy, sequences = check(policy_dir)
    results[reference_dir], reference, _ = check(reference_dir)
    # exact mode: the second engine (still loaded beside the first) scores the first one's samples
    values = reference.score_continuation(sequences)
    expected = reference_values(reference_dir, sequences, reference.zc)
    results["exact"] = {
        "scored": len(values),
        "reference_vs_transformers": max(abs(v - e) for v, e in zip(values, expected, strict=True)),
        "both_engines_alive": policy.llm is not None and reference.llm is not None,
    }
    print("VLLM_CPU_CHECK " + json.dumps(results))


if __name__ == "__main__":  # vLLM starts its engine in a spawned process: the guard is required
    main()
