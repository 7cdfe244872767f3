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


def grpo_advantages(reward: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """verl's GRPO outcome advantage: (r - group mean) / (group std + 1e-6), unbiased std."""
    out = torch.zeros_like(reward)
    for g in group.unique():
        members = group == g
        r = reward[members]
        out[members] = (r - r.mean()) / (r.std() + 1e-6) if len(r) > 1 else r
    return out


@pytest.mark.runs("ablations")
def test_self_reward_only_advantages_replace_the_verifiers(jobs):
    """tau = 1, T = 0, blending from step 1: a group whose clipped scores differ trains on A_self alone
    (0 for an unfinished member), any other group on verl's A_v. Each step's advantages, rebuilt from
    its responses' scores and rewards, bound verl's advantage metrics (read from what the update used)."""
    run = jobs.get("ablations")["self_only"]
    seen_blend = False
    for n in (1, 2):
        step = run.step(n)
        assert step["laser/blend_active"] == 1.0
        groups = defaultdict(list)
        for r in (r for r in run.dump if r["step"] == n):  # a group: the tokens before the response (and z_c)
            cut = len(r["input_ids"]) - r["response_length"] - (1 if r["valid"] else 0)
            groups[tuple(r["input_ids"][:cut])].append(r)
        ordered = [r for g in groups.values() for r in g]
        group = torch.tensor([i for i, g in enumerate(groups.values()) for _ in g])
        valid = torch.tensor([r["valid"] for r in ordered])
        score = torch.tensor([r["score"] if r["valid"] else 0.0 for r in ordered])
        reward = torch.tensor([r["reward"] for r in ordered])
        a_self, blended = self_reward_advantages(score, valid, group, 0.0)
        in_blended_group = torch.isin(group, group[blended])
        expected = torch.where(in_blended_group, a_self, grpo_advantages(reward, group))
        assert step["laser/self_adv_group_fraction"] == pytest.approx(len(group[blended].unique()) / len(groups))
        assert step["critic/advantages/max"] == pytest.approx(float(expected.max()), abs=1e-4)
        assert step["critic/advantages/min"] == pytest.approx(float(expected.min()), abs=1e-4)
        seen_blend |= bool(blended.any())
    assert seen_blend, "no group's scores differed in either step: the run shows nothing about A_self"


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
