# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Can a model's last-token score learn a synthetic task's check at all? The upper bound of what the
LaSeR term can do on that task: no policy, no RL, only the class-balanced self-rewarding MSE on a
right and a wrong worked response to every training problem (the rows' ``extra_info.worked_response``
with the ground truth and with the first of ``extra_info.wrong_answers``). ``--loss bce`` trains the
eq. 16 ablation's cross-entropy on p(z_c) instead (``laser.self_reward_loss=bce``), scored by p(z_c).

    python scripts/score_probe.py --model models/tiny-qwen2-base --data data/zero_rule --lr 3e-3 --steps 160

Prints one JSON line per evaluation (``--evals`` of them, and one before training): the step, the
training batch's loss (keyed ``mse`` or ``bce``), and on the held-out problems the share of pairs where
the right response scores above the wrong one (the within-problem AUROC: each problem has one of each)
and the F1 of the score > 0.5. A score that reads only the problem (its family) stays at 0.5 within problems.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import torch

from recipe.laser.core_algos import (
    binary_auroc,
    mse_sample_weights,
    self_reward,
    self_verification_metrics,
    weighted_cross_entropy,
    weighted_squared_error,
)


def pairs(tokenizer, path: Path) -> list[list[list[int]]]:
    """[[right ids, wrong ids]] per row: prompt + worked response + EOS (data_prep.warm_start's)."""
    import pandas as pd

    from data_prep.warm_start import worked_example

    out = []
    for i, row in enumerate(pd.read_parquet(path).to_dict("records")):
        extra = row.get("extra_info") or {}
        if not extra.get("worked_response") or not len(extra.get("wrong_answers", [])):
            raise ValueError(f"{path} row {i}: needs extra_info.worked_response and extra_info.wrong_answers")
        answers = (row["reward_model"]["ground_truth"], list(extra["wrong_answers"])[0])
        out.append([sum(worked_example(tokenizer, row, a), []) for a in answers])
    return out


def zc_log_prob(model, sequences: list[list[int]], zc: int, pad: int) -> torch.Tensor:
    """(B,) log pi(z_c | sequence) at the slot after each sequence's last token (its EOS)."""
    width = max(map(len, sequences))
    ids = torch.full((len(sequences), width), pad)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(sequences):
        ids[i, : len(s)], mask[i, : len(s)] = torch.tensor(s), 1
    hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    last = mask.sum(1) - 1
    # the output layer only where z_c is scored: the vocabulary's logits at every position cost most of a step
    logits = model.get_output_embeddings()(hidden[torch.arange(len(sequences)), last])
    return torch.log_softmax(logits.float(), -1)[:, zc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, type=Path, help="a folder with train.parquet and test.parquet")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta-v", type=float, default=1.0)
    parser.add_argument("--loss", choices=("mse", "bce"), default="mse", help="the self-rewarding loss trained")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8, help="problems per step (a right and a wrong response each)")
    parser.add_argument("--evals", type=int, default=8)
    parser.add_argument("--zc-token-id", type=int, default=151652)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    try:
        train, test = pairs(tokenizer, args.data / "train.parquet"), pairs(tokenizer, args.data / "test.parquet")
    except (ValueError, FileNotFoundError) as error:
        print(f"score_probe: error: {error}", file=sys.stderr)
        return 2
    with torch.no_grad():  # c_ref measured once on the untrained model, as c_ref=auto does
        c_ref = float(zc_log_prob(model, [s for p in train[:32] for s in p], args.zc_token_id, pad).mean())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)

    def scored(zc_log_prob: torch.Tensor) -> torch.Tensor:  # what the recipe reports as the score for that loss
        return self_reward(zc_log_prob, c_ref, args.beta_v, args.loss)

    def evaluate(step: int, loss: float | None) -> None:
        with torch.no_grad():
            lp = zc_log_prob(model, [s for p in test for s in p], args.zc_token_id, pad).view(-1, 2)
        score = scored(lp).flatten()  # right, wrong, right, wrong, ...
        right = torch.arange(len(score)) % 2 == 0
        everyone = torch.ones_like(right)
        within = float(binary_auroc(score, right, everyone, torch.arange(len(score)) // 2))  # pairs of one problem
        f1 = float(self_verification_metrics(score, right.to(score.dtype), everyone)["f1"])
        print(json.dumps({"step": step, args.loss: loss, "within_problem_auroc": within, "f1": f1, "c_ref": c_ref}))

    evaluate(0, None)
    every = max(1, args.steps // max(1, args.evals))
    for step in range(1, args.steps + 1):
        batch = rng.sample(train, min(args.batch, len(train)))
        lp = zc_log_prob(model, [s for p in batch for s in p], args.zc_token_id, pad)
        reward = torch.tensor([1.0, 0.0] * len(batch))
        weight = mse_sample_weights(reward, torch.ones_like(reward).bool())
        if args.loss == "bce":
            loss = weighted_cross_entropy(lp, reward, weight)
        else:
            loss = weighted_squared_error(scored(lp), reward, weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % every == 0 or step == args.steps:
            evaluate(step, float(loss.detach()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
