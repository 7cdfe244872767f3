# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Supervised warm start of the tiny model on synthetic arithmetic, offline, on CPU.

A random model never finishes a response (EOS has probability ~1/150k per token), so LaSeR would
have nothing to score. This teaches each row's worked response (``extra_info.worked_response``, by
default "The answer is \\boxed{N}.") followed by the tokenizer's EOS, on the synthetic training
prompts, with a share of deliberately wrong answers so that RL starts from partial accuracy. Loss
on response tokens only; plain torch (minutes).

    python data_prep/warm_start.py --model models/tiny-qwen2-base --data-dir data/synthetic_arith \\
        --out models/tiny-qwen2-base-warm --steps 300
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path


def worked_example(tokenizer, row: dict, answer) -> tuple[list[int], list[int]]:
    """(prompt ids, response ids) of a row answered with ``answer``: the training prompt rendered by the
    chat template, and the row's worked response (``extra_info.worked_response``, its ANSWER replaced)
    followed by the tokenizer's EOS."""
    from data_prep.synthetic_arithmetic import WORKED_RESPONSE

    prompt = tokenizer.apply_chat_template(list(row["prompt"]), add_generation_prompt=True, return_dict=False)
    worked = (row.get("extra_info") or {}).get("worked_response") or WORKED_RESPONSE  # rows written before it existed
    response = tokenizer.encode(worked.replace("ANSWER", str(answer)), add_special_tokens=False)
    return list(prompt), response + [tokenizer.eos_token_id]


def build_examples(tokenizer, rows, error_rate: float, seed: int):
    """(prompt ids, response ids) pairs (``worked_example``). A share ``error_rate`` of the targets is
    wrong: one of the row's ``extra_info.wrong_answers`` when it lists some, else the answer off by 1 to 9."""
    rng = random.Random(seed)
    examples = []
    for row in rows:
        answer = int(row["reward_model"]["ground_truth"])
        listed = (row.get("extra_info") or {}).get("wrong_answers")
        wrong = [] if listed is None else list(listed)
        if rng.random() < error_rate:
            answer = int(rng.choice(wrong)) if wrong else answer + rng.choice([-1, 1]) * rng.randint(1, 9)
        examples.append(worked_example(tokenizer, row, answer))
    return examples


def warm_start(
    model_dir, data_dir, out_dir, steps=300, batch_size=16, lr=3e-3, error_rate=0.3, seed=0, force=False, log_every=50
) -> Path:
    out = Path(out_dir)
    marker = out / "laser_warm_start.json"
    settings = {
        "from": str(Path(model_dir).resolve()),
        "data": str(Path(data_dir).resolve()),
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "error_rate": error_rate,
        "seed": seed,
    }
    if marker.is_file() and not force:
        done = json.loads(marker.read_text())
        if {k: done.get(k) for k in settings} == settings:
            return out
        print(f"warm start: {out} was made with other settings ({done}); training again", flush=True)
    import pandas as pd  # after the cheap check: a kept warm start costs no import
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    rows = pd.read_parquet(Path(data_dir) / "train.parquet").to_dict("records")
    examples = build_examples(tokenizer, rows, error_rate, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    pad = tokenizer.pad_token_id
    start, losses = time.time(), []
    model.train()
    for step in range(1, steps + 1):
        batch = rng.sample(examples, min(batch_size, len(examples)))
        width = max(len(p) + len(r) for p, r in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        target = torch.zeros_like(ids, dtype=torch.bool)  # positions whose NEXT token is a response token
        for i, (p, r) in enumerate(batch):
            seq = p + r
            ids[i, : len(seq)] = torch.tensor(seq)
            mask[i, : len(seq)] = 1
            target[i, len(p) - 1 : len(seq) - 1] = True
        hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = model.lm_head(hidden[target])  # response positions only: the vocabulary is 152k wide
        labels = ids[:, 1:][target[:, :-1]]
        loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            mean_loss = sum(losses[-log_every:]) / log_every
            print(f"warm start step {step}/{steps}: loss {mean_loss:.3f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "generation_config.json").write_text((Path(model_dir) / "generation_config.json").read_text())
    marker.write_text(json.dumps({**settings, "final_loss": losses[-1]}))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", required=True, help="folder with train.parquet (synthetic_arithmetic.py)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--error-rate", type=float, default=0.3, help="share of deliberately wrong answers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    marker = Path(args.out) / "laser_warm_start.json"
    before = marker.read_text() if marker.is_file() else None
    out = warm_start(
        args.model,
        args.data_dir,
        args.out,
        args.steps,
        args.batch_size,
        args.lr,
        args.error_rate,
        args.seed,
        args.force,
    )
    info = json.loads((out / "laser_warm_start.json").read_text())
    state = "exists with these settings, kept" if before == marker.read_text() and not args.force else "written"
    print(f"warm start {state}: {out} (final loss {info['final_loss']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
