# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The paper's ablations on verl's real trainer (tests/e2e/jobs.py, job ``ablations``), each read back
from its own step metrics and score dump: what the ablation changes, recomputed from the responses."""

import math
from collections import defaultdict

import pytest
import torch

from recipe.laser.core_algos import self_reward_advantages

pytestmark = pytest.mark.slow


@pytest.mark.runs("ablations")
def test_the_cross_entropy_ablation_scores_with_p_zc_and_trains_its_loss(jobs):
    run = jobs.get("ablations")["bce"]
    scored = [r for r in run.dump if r["valid"]]
    assert scored
    for r in scored:  # the score is p(z_c) itself: no c_ref, no beta_v
        assert r["score"] == pytest.approx(math.exp(r["zc_log_prob"]), rel=1e-5, abs=1e-12)
    for step in run.steps:
        assert step["actor/laser/bce_loss"] > 0 and "actor/laser/mse_loss" not in step
        assert step["actor/grad_norm"] > 0


@pytest.mark.runs("ablations")
def test_self_reward_only_advantages_replace_the_verifiers_from_step_two(jobs):
    """tau = 1, T = 0: from step 2 every response's advantage is A_self of its prompt's group (0 for
    an unfinished one); verl's advantage metrics are those of the advantages the update used."""
    run = jobs.get("ablations")["self_only"]
    assert run.step(1)["laser/blend_active"] == 0.0 and run.step(2)["laser/blend_active"] == 1.0
    records = [r for r in run.dump if r["step"] == 2]
    groups = defaultdict(list)
    for r in records:  # a prompt's group: the tokens before its response (and z_c, when appended)
        cut = len(r["input_ids"]) - r["response_length"] - (1 if r["valid"] else 0)
        groups[tuple(r["input_ids"][:cut])].append(r)
    ordered = [r for g in groups.values() for r in g]
    group = torch.tensor([i for i, g in enumerate(groups.values()) for _ in g])
    valid = torch.tensor([r["valid"] for r in ordered])
    score = torch.tensor([r["score"] if r["valid"] else 0.0 for r in ordered])
    a_self, used = self_reward_advantages(score, valid, group, 0.0)
    advantages = torch.where(used, a_self, torch.zeros_like(a_self))
    step = run.step(2)
    assert step["critic/advantages/max"] == pytest.approx(float(advantages.max()), abs=1e-4)
    assert step["critic/advantages/min"] == pytest.approx(float(advantages.min()), abs=1e-4)


@pytest.mark.runs("ablations")
def test_the_mse_without_class_weights_is_the_plain_mean_over_finished_responses(jobs):
    """laser.class_balance=false: step 1's MSE (the update's forward, parameters not yet changed) is
    mean (r_s - r_v)^2 over the finished responses, not the class-balanced mean."""
    run = jobs.get("ablations")["unbalanced"]
    scored = [r for r in run.dump if r["step"] == 1 and r["valid"]]
    errors = [(r["score"] - r["reward"]) ** 2 for r in scored]
    plain = sum(errors) / len(errors)
    assert run.step(1)["actor/laser/mse_loss"] == pytest.approx(plain, rel=1e-3, abs=1e-5)
    right = [e for e, r in zip(errors, scored, strict=True) if r["reward"] > 0.5]
    wrong = [e for e, r in zip(errors, scored, strict=True) if r["reward"] <= 0.5]
    if right and wrong:
        balanced = (sum(right) / len(right) + sum(wrong) / len(wrong)) / 2
        if abs(balanced - plain) > 0.05 * plain:  # this step tells them apart
            assert run.step(1)["actor/laser/mse_loss"] != pytest.approx(balanced, rel=1e-3)
