"""Run inside the vLLM environment (.venv-vllm) by tests/test_evaluate_on_cpu.py: for each model,
vLLM on CPU samples responses, scores z_c by the cheap continuation and by the authors' prompt
log-prob re-prefill, and a plain transformers fp32 forward gives the reference value. Prints one
JSON object (per model: counts and the largest differences).

    .venv-vllm/bin/python tests/vllm_cpu_check.py MODEL_DIR [MODEL_DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def check(model_dir: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from recipe.laser.eval_backends import VLLMBackend, stop_token_ids
    from recipe.laser.templates import get_template

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    stops = stop_token_ids(model_dir, tokenizer)
    zc = tokenizer.convert_tokens_to_ids("<|vision_start|>")
    backend = VLLMBackend(model_dir, zc, stops, dtype="float32", seed=0, max_model_len=256, enforce_eager=True,
                          block_size=32)  # CPU attention needs a multiple of 32
    # the training template: in distribution for the warm-started models, and long enough (> 32 tokens
    # with the answer) that [x, y] fills a KV block the cheap score can find in the prefix cache
    template = get_template("qwen_boxed")
    prompts = [
        list(tokenizer.apply_chat_template(template.messages(f"What is {a} + {b}?"), add_generation_prompt=True,
                                           return_dict=False))
        for a, b in ((12, 7), (45, 30), (3, 99))
    ]
    samples = backend.generate(prompts, n=4, temperature=1.0, top_p=1.0, max_tokens=24, seed=0)
    finished = [(p + s.response_ids, s.zc_log_prob) for p, ss in zip(prompts, samples, strict=False) for s in ss if s.finished]
    sequences = [seq for seq, _ in finished]
    prefill = backend.score_prefill(sequences)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        reference = [
            float(torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0, -1].float(), -1)[zc])
            for seq in sequences
        ]
    return {
        "stop_ids": stops,
        "samples": sum(len(ss) for ss in samples),
        "finished": len(finished),
        "ends_with_stop": all(seq[-1] in stops for seq in sequences),
        "cheap_vs_transformers": max((abs(c - r) for (_, c), r in zip(finished, reference, strict=False)), default=None),
        "prefill_vs_transformers": max((abs(p - r) for p, r in zip(prefill, reference, strict=False)), default=None),
        "prompt_tokens": [len(p) for p in prompts],
        "prefix_cache": backend.prefix_cache_stats(),
    }


def main() -> None:
    results = {m: check(m) for m in sys.argv[1:]}
    print("VLLM_CPU_CHECK " + json.dumps(results))


if __name__ == "__main__":  # vLLM starts its engine in a spawned process: the guard is required
    main()
