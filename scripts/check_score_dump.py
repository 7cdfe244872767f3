# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Check a LaSeR run's per-sample score dump (``laser.score_dump_path``) against a plain transformers
forward: the first thing to run after a GPU smoke run (``PRESET=gpu_smoke``), and what the CPU
end-to-end tests run.

    python scripts/check_score_dump.py --dump checkpoints/gpu_smoke/scores.jsonl --model Qwen/Qwen2.5-0.5B-Instruct \\
        [--metrics checkpoints/gpu_smoke/metrics.jsonl] [--step 1] [--atol 1e-3]

Checks, for the responses of one step (by default step 1, where the actor still has the model's
weights; a later step needs ``--model`` to be that step's weights):
1. every response the trainer scored ends with an end token followed by z_c, and every response it
   did not score (truncated) ends with neither (so ``laser/valid_fraction`` counts exactly the
   finished responses; with ``--metrics`` it is compared with the logged value too);
2. the z_c log-prob the trainer read from verl's actor equals log p(z_c | prompt, response, EOS)
   from a transformers forward of the same token ids, within ``--atol``.
Prints one line per check and ``SCORE_DUMP_CHECK {json}``; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load_records(path: Path, step: int) -> list[dict]:
    records = []
    with path.open() as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise SystemExit(f"check_score_dump: {path} line {number} is not JSON ({error.msg})") from None
            if record.get("step") == step:
                records.append(record)
    if not records:
        raise SystemExit(f"check_score_dump: {path} has no record of step {step}")
    return records


def logged_valid_fraction(metrics_file: Path, step: int) -> float | None:
    with metrics_file.open() as f:
        for line in f:
            record = json.loads(line)
            if record.get("step") == step and "laser/valid_fraction" in record.get("data", {}):
                return float(record["data"]["laser/valid_fraction"])
    return None


def check(args) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    records = load_records(Path(args.dump), args.step)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    end_ids = {tokenizer.eos_token_id}
    try:
        eos = GenerationConfig.from_pretrained(args.model).eos_token_id
        end_ids |= set(eos if isinstance(eos, list) else [eos])
    except OSError:
        pass
    end_ids.discard(None)
    zc = args.zc_token_id
    if zc is None:
        zc = next(r["input_ids"][-1] for r in records if r["valid"])

    # 1. validity: scored <=> the generated response ended with an end token
    placement_errors = []
    for i, r in enumerate(records):
        ids, n = r["input_ids"], r["response_length"]
        if r["valid"]:
            if not (ids[-1] == zc and ids[-2] in end_ids and n >= 2):
                placement_errors.append(f"record {i}: scored but its tokens end with {ids[-3:]}")
        elif n > 0 and ids[-1] in end_ids:
            placement_errors.append(f"record {i}: ends with end token {ids[-1]} but was not scored")
        elif n > 0 and ids[-1] == zc:
            placement_errors.append(f"record {i}: not scored (truncated) but z_c was appended")
    valid_fraction = sum(r["valid"] for r in records) / len(records)
    logged = logged_valid_fraction(Path(args.metrics), args.step) if args.metrics else None

    # 2. the z_c log-prob against a plain forward
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=getattr(torch, args.dtype)).to(device).eval()
    diffs = []
    with torch.inference_mode():
        for r in (r for r in records if r["valid"]):
            logits = model(torch.tensor([r["input_ids"][:-1]], device=device)).logits[0, -1].float()
            expected = torch.log_softmax(logits, -1)[zc].item()
            diffs.append(abs(r["zc_log_prob"] - expected))
    result = {
        "step": args.step,
        "responses": len(records),
        "scored": sum(r["valid"] for r in records),
        "truncated": sum(not r["valid"] and r["response_length"] > 0 for r in records),
        "valid_fraction": valid_fraction,
        "logged_valid_fraction": logged,
        "placement_errors": placement_errors[:10],
        "zc_token_id": zc,
        "end_token_ids": sorted(end_ids),
        "max_abs_diff": max(diffs, default=None),
        "atol": args.atol,
    }
    result["ok"] = (
        not placement_errors
        and bool(diffs)
        and max(diffs) <= args.atol
        and (logged is None or abs(logged - valid_fraction) < 1e-6)
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", required=True, help="the run's laser.score_dump_path")
    parser.add_argument("--model", required=True, help="the weights of that step (step 1: the initial model)")
    parser.add_argument("--metrics", default=None, help="the run's metrics.jsonl, to compare laser/valid_fraction")
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--atol", type=float, default=1e-3, help="largest allowed |trainer - transformers| in nats")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default=None)
    parser.add_argument("--zc-token-id", type=int, default=None, help="default: the last token of a scored response")
    args = parser.parse_args(argv)
    result = check(args)
    print(
        f"responses {result['responses']}, scored {result['scored']} (valid_fraction {result['valid_fraction']:.4f}"
        + (f", logged {result['logged_valid_fraction']:.4f})" if result["logged_valid_fraction"] is not None else ")")
    )
    print(f"placement: {'ok' if not result['placement_errors'] else result['placement_errors']}")
    print(f"z_c log-prob vs transformers: max |diff| {result['max_abs_diff']} (atol {args.atol})")
    print("SCORE_DUMP_CHECK " + json.dumps(result))
    print("PASS" if result["ok"] else "FAIL")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
