# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Cost of the self-reward score at evaluation, vLLM backend: generation time, then scoring the same
samples by the cheap continuation ([x, y, EOS], max_tokens=1, logprob_token_ids=[z_c]) and by the
authors' re-prefill (prompt log-probs over [x, y, EOS, z_c]), side by side in one engine, with the
prefix-cache hits vLLM counts for each phase. Run in the vLLM environment (on CPU: .venv-vllm).

    .venv-vllm/bin/python benchmarks/bench_eval_scoring.py                 # random Qwen2, 19.7M params
    .venv-vllm/bin/python benchmarks/bench_eval_scoring.py --hidden 512 --layers 8 --max-tokens 512
    python benchmarks/bench_eval_scoring.py --model Qwen/Qwen2.5-7B --n 8    # a real model on a GPU

A random model rarely emits EOS, so every sample is scored as if it ended there: EOS is appended
to its tokens (the cost is the same as for a finished response).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def cache_delta(before: dict, after: dict) -> dict:
    return {k: after.get(k, 0) - before.get(k, 0) for k in ("prefix_cache_queries", "prefix_cache_hits")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF model folder; default: a random tiny Qwen2 built here")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--block-size", type=int, default=None, help="KV block size (CPU default 128)")
    parser.add_argument("--enforce-eager", action="store_true")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from recipe.laser.evaluation.backends import VLLMBackend
    from recipe.laser.families import stop_token_ids

    model = args.model
    if model is None:
        from data_prep.tiny_model import build_tiny_model

        model = str(
            build_tiny_model(
                Path(tempfile.mkdtemp()) / "tiny",
                hidden_size=args.hidden,
                num_layers=args.layers,
                num_heads=args.hidden // 32,
                intermediate_size=2 * args.hidden,
            )
        )
    tokenizer = AutoTokenizer.from_pretrained(model)
    stops = stop_token_ids(model, tokenizer)
    zc = tokenizer.convert_tokens_to_ids("<|vision_start|>")
    t0 = time.time()
    backend = VLLMBackend(
        model,
        zc,
        stops,
        dtype="float32",
        seed=0,
        max_model_len=args.max_tokens + 256,
        enforce_eager=args.enforce_eager,
        block_size=args.block_size,
    )
    engine_s = time.time() - t0
    problems = [f"What is {17 * i + 3} + {29 * i + 11}? Show your work." for i in range(args.prompts)]
    prompts = [
        list(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": p}], add_generation_prompt=True, return_dict=False
            )
        )
        for p in problems
    ]

    from vllm import SamplingParams

    # Generation only (the backend's generate() would also score): time it alone.
    params = SamplingParams(
        n=args.n, temperature=1.0, top_p=1.0, max_tokens=args.max_tokens, detokenize=False, stop_token_ids=stops
    )
    c0 = backend.prefix_cache_stats()
    t0 = time.time()
    outputs = backend.llm.generate([backend._prompt(p) for p in prompts], params, use_tqdm=False)
    generate_s = time.time() - t0
    c1 = backend.prefix_cache_stats()
    sequences = []
    for p, out in zip(prompts, outputs, strict=True):
        for completion in out.outputs:
            tokens = list(completion.token_ids)
            sequences.append(p + (tokens if tokens and tokens[-1] in stops else tokens + [stops[0]]))
    generated_tokens = sum(len(s) for s in sequences) - args.n * sum(len(p) for p in prompts)

    # The first scoring call also pays vLLM's one-time set-up of this request shape; an evaluation
    # scores once per chunk, so the second, steady-state call is the figure (both are printed).
    t0 = time.time()
    cheap_first = backend.score_continuation(sequences)
    cheap_first_s = time.time() - t0
    c_first = backend.prefix_cache_stats()
    t0 = time.time()
    cheap = backend.score_continuation(sequences)
    cheap_s = time.time() - t0
    c2 = backend.prefix_cache_stats()
    t0 = time.time()
    prefill = backend.score_prefill(sequences)
    prefill_s = time.time() - t0
    c3 = backend.prefix_cache_stats()
    result = {
        "model": model,
        "samples": len(sequences),
        "generated_tokens": generated_tokens,
        "mean_sequence_tokens": sum(map(len, sequences)) / len(sequences),
        "engine_start_s": round(engine_s, 1),
        "generate_s": round(generate_s, 3),
        "cheap_score_first_call_s": round(cheap_first_s, 3),
        "cheap_score_s": round(cheap_s, 3),
        "prefill_score_s": round(prefill_s, 3),
        "cheap_over_generate": round(cheap_s / generate_s, 4),
        "prefill_over_generate": round(prefill_s / generate_s, 4),
        "max_abs_diff_cheap_vs_prefill": max(
            abs(a - b) for a, b in zip(cheap + cheap_first, prefill + prefill, strict=True)
        ),
        "prefix_cache_tokens": {
            "generate": cache_delta(c0, c1),
            "cheap_score_first_call": cache_delta(c1, c_first),
            "cheap_score": cache_delta(c_first, c2),
            "prefill_score": cache_delta(c2, c3),
        },
    }
    print(f"{'':22s}{'seconds':>10s}{'/ generation':>14s}{'cache hits / queries (tokens)':>34s}")
    for label, key, phase in (
        ("generation", "generate_s", "generate"),
        ("cheap score, 1st call", "cheap_score_first_call_s", "cheap_score_first_call"),
        ("cheap score (ours)", "cheap_score_s", "cheap_score"),
        ("re-prefill (authors)", "prefill_score_s", "prefill_score"),
    ):
        c = result["prefix_cache_tokens"][phase]
        share = result[key] / generate_s
        print(f"{label:22s}{result[key]:10.3f}{share:14.2%}{c['prefix_cache_hits']:>20d} / {c['prefix_cache_queries']}")
    print("BENCH_EVAL_SCORING " + json.dumps(result))


if __name__ == "__main__":  # vLLM's engine runs in a spawned process
    main()
