# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/core_algos.py against hand-computed values (verl's *_on_cpu.py style)."""

import math
import re

import pytest
import torch

from recipe.laser.core_algos import (
    binary_auroc,
    blend_advantages,
    class_balance_weights,
    mse_sample_weights,
    self_reward,
    self_reward_advantages,
    self_reward_probability,
    self_reward_score,
    self_verification_metrics,
    weighted_cross_entropy,
    weighted_squared_error,
)

T = torch.tensor


def self_reward_mse_loss(score, verifier_reward, valid, class_balance=True):
    """The step's self-rewarding MSE as the trainer and loss.py compose it from core_algos (one
    mini-batch, one rank): 1/N_valid sum_{valid i} w_i (r_s,i - r_v,i)^2 (eq. 12, re-weighted as eq. 14)."""
    return weighted_squared_error(score, verifier_reward, mse_sample_weights(verifier_reward, valid, class_balance))


def test_self_reward_score_constant_and_exact():
    # 0.1 * (-13 - (-23)) = 1.0 ; 0.1 * (-23 + 23) = 0 ; 0.1 * (-18 + 23) = 0.5
    torch.testing.assert_close(self_reward_score(T([-13.0, -23.0, -18.0]), -23.0, 0.1), T([1.0, 0.0, 0.5]))
    # exact mode: per-sample reference log-probs
    torch.testing.assert_close(self_reward_score(T([-10.0, -20.0]), T([-20.0, -21.0]), 0.1), T([1.0, 0.1]))


def test_self_reward_scores_by_the_trained_loss():
    lp = T([-13.0, -0.5])
    # mse: r_s = 0.1 * (lp + 23) = [1.0, 2.25]; bce: p(z_c) = exp(lp), c_ref and beta_v unread
    torch.testing.assert_close(self_reward(lp, -23.0, 0.1, "mse"), T([1.0, 2.25]))
    torch.testing.assert_close(self_reward(lp, None, 0.1, "bce"), T([math.exp(-13.0), math.exp(-0.5)]))
    with pytest.raises(ValueError, match="needs c_ref"):
        self_reward(lp, None, 0.1, "mse")
    with pytest.raises(ValueError, match="'mse' or 'bce'"):
        self_reward(lp, -23.0, 0.1, "mae")


def test_class_balance_weights_hand_computed():
    r = T([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    valid = T([True, True, True, True, False, False])
    # N = 4 valid, N_c = 1, N_i = 3: w_c = 4/2 = 2, w_i = 4/6 = 2/3; invalid -> 0
    torch.testing.assert_close(class_balance_weights(r, valid), T([2.0, 2 / 3, 2 / 3, 2 / 3, 0.0, 0.0]))
    # each class carries half the total weight N/2
    w = class_balance_weights(r, valid)
    assert math.isclose(float((w * (r > 0.5)).sum()), 2.0) and math.isclose(float((w * (r < 0.5)).sum()), 2.0)


def test_class_balance_weights_empty_class_and_nothing_valid():
    # all valid samples correct: N = 3, N_c = 3 -> w_c = 3/6 = 0.5; empty incorrect class -> 0 weight
    torch.testing.assert_close(
        class_balance_weights(T([1.0, 1.0, 1.0, 0.0]), T([1, 1, 1, 0]).bool()), T([0.5, 0.5, 0.5, 0.0])
    )
    torch.testing.assert_close(class_balance_weights(T([1.0, 0.0]), T([False, False])), T([0.0, 0.0]))


def test_class_balance_weights_for_graded_rewards_hand_computed():
    # r_v = 1, 0.5, 0, 0: N = 4, N_c = 1.5, N_i = 2.5 -> w_c = 4/3, w_i = 4/5; the half-right sample
    # weighs 0.5 * 4/3 + 0.5 * 4/5 = 16/15; the invalid one 0
    r, valid = T([1.0, 0.5, 0.0, 0.0, 0.7]), T([True, True, True, True, False])
    w = class_balance_weights(r, valid)
    torch.testing.assert_close(w, T([4 / 3, 16 / 15, 0.8, 0.8, 0.0]))
    # the weights sum to N = 4, half for each class's mass: N_c w_c = 1.5 * 4/3 = N_i w_i = 2.5 * 4/5 = 2
    assert math.isclose(float(w.sum()), 4.0, rel_tol=1e-6)


@pytest.mark.parametrize("bad, found", [(-1.0, "min -1, max 1"), (1.5, "min 0, max 1.5"), (float("nan"), "1 NaN")])
def test_verifier_rewards_outside_the_unit_interval_are_refused(bad, found):
    r, valid = T([1.0, 0.0, bad]), T([True, True, True])
    with pytest.raises(ValueError, match=rf"rewards .* in \[0, 1\].*{re.escape(found)}"):
        mse_sample_weights(r, valid)
    # the same reward on an unfinished response (no score, no loss) is not looked at
    mse_sample_weights(r, T([True, True, False]))


def test_mse_loss_hand_computed():
    score, r = T([0.5, 0.2, 0.9, 3.0]), T([1.0, 0.0, 1.0, 0.0])
    valid = T([True, True, True, False])
    # without class balance: (0.25 + 0.04 + 0.01) / 3
    torch.testing.assert_close(self_reward_mse_loss(score, r, valid, class_balance=False), T(0.30 / 3))
    # eq. 14: N = 3, N_c = 2, N_i = 1 -> w_c = 3/4, w_i = 3/2: (0.75*0.25 + 1.5*0.04 + 0.75*0.01) / 3
    torch.testing.assert_close(self_reward_mse_loss(score, r, valid), T((0.1875 + 0.06 + 0.0075) / 3))


def test_mse_sample_weights_carry_every_factor():
    r, valid = T([1.0, 0.0, 0.0, 1.0]), T([True, True, True, False])
    # w = (3/2, 3/4, 3/4, 0), / N_valid = 3, x 2 mini-batches
    torch.testing.assert_close(mse_sample_weights(r, valid, num_minibatches=2), T([1.0, 0.5, 0.5, 0.0]))
    torch.testing.assert_close(mse_sample_weights(r, valid, class_balance=False), T([1 / 3, 1 / 3, 1 / 3, 0.0]))


def test_weighted_cross_entropy_hand_computed():
    # p = 0.8 (right, weight 0.5): -log 0.8; p = 0.25 (wrong, weight 0.25): -log 0.75;
    # p = 1 (wrong, weight 0): not in the sum, even though log(1 - p) = -inf
    lp = torch.log(T([0.8, 0.25, 1.0], dtype=torch.float64))
    r, w = T([1.0, 0.0, 0.0], dtype=torch.float64), T([0.5, 0.25, 0.0], dtype=torch.float64)
    expected = 0.5 * -math.log(0.8) + 0.25 * -math.log(0.75)
    assert float(weighted_cross_entropy(lp, r, w)) == pytest.approx(expected, rel=1e-12)
    # both branches of log(1 - p): p = e^-30 (far below 1/2) and p = 0.9 (above)
    lp = T([-30.0, math.log(0.9)], dtype=torch.float64)
    value = weighted_cross_entropy(lp, T([0.0, 0.0], dtype=torch.float64), T([1.0, 1.0], dtype=torch.float64))
    assert float(value) == pytest.approx(-math.log1p(-math.exp(-30.0)) - math.log(0.1), rel=1e-12)
    # the gradient pulls log p(z_c) up for a right answer, down for a wrong one
    lp = torch.log(T([0.3, 0.3])).requires_grad_(True)
    weighted_cross_entropy(lp, T([1.0, 0.0]), T([1.0, 1.0])).backward()
    assert lp.grad[0] < 0 < lp.grad[1]
    torch.testing.assert_close(self_reward_probability(torch.log(T([0.5, 0.01]))), T([0.5, 0.01]))


def test_weighted_squared_error_ignores_unweighted_samples_even_if_not_finite():
    score = T([0.5, float("inf"), 0.0], requires_grad=True)
    loss = weighted_squared_error(score, T([1.0, 0.0, 1.0]), T([2.0, 0.0, 1.0]))
    torch.testing.assert_close(loss, T(2 * 0.25 + 1.0))
    loss.backward()
    torch.testing.assert_close(score.grad, T([2 * 2 * -0.5, 0.0, 2 * -1.0]))


def test_mse_loss_all_truncated_is_zero_with_zero_gradient():
    score = T([0.3, 0.7], requires_grad=True)
    loss = self_reward_mse_loss(score, T([1.0, 0.0]), T([False, False]))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(score.grad, T([0.0, 0.0]))


def test_mse_gradient_reaches_valid_samples_only():
    score = T([0.5, 0.2, 0.9], requires_grad=True)
    self_reward_mse_loss(score, T([1.0, 0.0, 1.0]), T([True, True, False])).backward()
    # d/ds (s - r)^2 / 2 = (s - r)
    torch.testing.assert_close(score.grad, T([-0.5, 0.2, 0.0]))


def test_self_reward_advantages_hand_computed():
    # group 7: scores 0.2, 0.6, 1.4 (clipped to 1.0), all valid: mean 0.6, unbiased std 0.4
    # group 3: one valid sample only -> verifier advantage kept
    # group 5: an invalid sample (score 0.9) takes no part: valid 0.1, 0.3 -> mean 0.2, std 0.141 > 0.1;
    #          the group blends, its invalid member with A_self = 0
    score = T([0.2, 0.6, 1.4, 0.5, 0.1, 0.3, 0.9])
    valid = T([1, 1, 1, 1, 1, 1, 0]).bool()
    group = T([7, 7, 7, 3, 5, 5, 5])
    adv, blend = self_reward_advantages(score, valid, group, std_threshold=0.1)
    std5 = math.sqrt(0.02)
    expected = T([-0.4 / (0.4 + 1e-6), 0.0, 0.4 / (0.4 + 1e-6), 0.0, -0.1 / (std5 + 1e-6), 0.1 / (std5 + 1e-6), 0.0])
    torch.testing.assert_close(adv, expected)
    assert blend.tolist() == [True, True, True, False, True, True, True]


def test_unfinished_member_of_a_blended_group_keeps_its_share_of_the_verifier_advantage():
    # group of three: two finished (scores 0.9, 0.1), one unfinished; verifier advantages 1, -1, -0.5.
    # After blending with tau 0.1 the unfinished response gets (1 - tau) A_v = -0.45 (A_self = 0), not
    # A_v unchanged and not the authors' A_self of a score-0 sample.
    score, valid, group = T([0.9, 0.1, 0.0]), T([True, True, False]), T([0, 0, 0])
    self_adv, blend = self_reward_advantages(score, valid, group, std_threshold=0.1)
    s = (0.4 * math.sqrt(2)) + 1e-6  # std of (0.9, 0.1) = 0.5657
    torch.testing.assert_close(self_adv, T([0.4 / s, -0.4 / s, 0.0]))
    out = blend_advantages(T([1.0, -1.0, -0.5]), self_adv, blend, tau=0.1)
    torch.testing.assert_close(out, T([0.9 + 0.1 * 0.4 / s, -0.9 - 0.1 * 0.4 / s, -0.45]))


def test_self_reward_advantages_threshold_edge():
    # std of (0.4, 0.6) is sqrt(0.02) = 0.1414...; threshold exactly at it: not strictly above -> unused
    score, valid, group = T([0.4, 0.6]), T([True, True]), T([0, 0])
    _, use = self_reward_advantages(score, valid, group, std_threshold=math.sqrt(0.02))
    assert not use.any()
    _, use = self_reward_advantages(score, valid, group, std_threshold=0.14)
    assert use.all()
    # clipping: 1.5 and 2.0 both clip to 1.0 -> std 0 -> unused
    _, use = self_reward_advantages(T([1.5, 2.0]), valid, group, std_threshold=0.0)
    assert not use.any()


def test_blend_advantages_per_sample_and_token_level():
    a_v = T([1.0, -1.0, 0.5])
    a_s = T([2.0, 0.0, -3.0])
    use = T([True, False, True])
    torch.testing.assert_close(blend_advantages(a_v, a_s, use, tau=0.1), T([0.9 * 1 + 0.2, -1.0, 0.45 - 0.3]))
    token_level = a_v[:, None].expand(3, 4).clone()
    out = blend_advantages(token_level, a_s, use, tau=0.1)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out[:, 0], T([1.1, -1.0, 0.15]))
    torch.testing.assert_close(out, out[:, :1].expand(3, 4))


def test_auroc_with_ties_and_empty_class():
    score, label, mask = T([0.9, 0.5, 0.5, 0.1]), T([1, 1, 0, 0]).bool(), T([True] * 4)
    # pairs (pos, neg): (0.9,0.5) win, (0.9,0.1) win, (0.5,0.5) tie, (0.5,0.1) win -> 3.5 / 4
    assert binary_auroc(score, label, mask).item() == pytest.approx(0.875)
    assert math.isnan(binary_auroc(score, T([1, 1, 1, 1]).bool(), mask).item())
    # a masked-out sample takes no part: without the 0.1 negative, 1.5 / 2
    assert binary_auroc(score, label, T([True, True, True, False])).item() == pytest.approx(0.75)


def test_auroc_equals_the_pairwise_count_on_random_ties():
    g = torch.Generator().manual_seed(0)
    score = torch.randint(0, 5, (200,), generator=g).float()
    label, mask = torch.rand(200, generator=g) > 0.4, torch.rand(200, generator=g) > 0.2
    s, y = score[mask], label[mask]
    pairs = (s[y][:, None] > s[~y][None, :]).float() + 0.5 * (s[y][:, None] == s[~y][None, :]).float()
    assert binary_auroc(score, label, mask).item() == pytest.approx(pairs.mean().item(), rel=1e-9)


def test_within_group_auroc_counts_only_pairs_of_the_same_group():
    score, label = T([0.9, 0.1, 0.5, 0.5, 0.2, 0.8]), T([1, 0, 1, 0, 1, 0]).bool()
    mask, group = T([True] * 6), torch.tensor([0, 0, 1, 1, 2, 2])
    # all pairs: 0.9 beats 3, 0.5 beats 0.1 and ties 0.5, 0.2 beats 0.1 -> 5.5 / 9
    assert binary_auroc(score, label, mask).item() == pytest.approx(5.5 / 9)
    # same-group pairs only: win, tie, loss -> 1.5 / 3
    assert binary_auroc(score, label, mask, group).item() == pytest.approx(0.5)
    # a group with one class adds no pair; none left: NaN
    assert binary_auroc(score, label, T([True, True, True, False, True, True]), group).item() == pytest.approx(0.5)
    assert math.isnan(binary_auroc(score, label, T([True, False, True, False, True, False]), group).item())


def test_within_group_auroc_equals_the_pairwise_count_on_random_groups():
    g = torch.Generator().manual_seed(1)
    score = torch.randint(0, 4, (300,), generator=g).float()
    label, mask = torch.rand(300, generator=g) > 0.5, torch.rand(300, generator=g) > 0.1
    group = torch.randint(0, 37, (300,), generator=g) * 7 - 40  # any integer ids, unsorted
    same = (group[:, None] == group[None, :]) & mask[:, None] & mask[None, :] & label[:, None] & ~label[None, :]
    wins = (score[:, None] > score[None, :]).float() + 0.5 * (score[:, None] == score[None, :]).float()
    expected = (wins * same).sum() / same.sum()
    assert binary_auroc(score, label, mask, group).item() == pytest.approx(expected.item(), rel=1e-9)


def test_self_verification_metrics_hand_computed():
    score = T([0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.8])
    r = T([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    valid = T([1, 1, 1, 1, 1, 1, 0]).bool()
    m = self_verification_metrics(score, r, valid)
    # correct valid: 0.9, 0.6, 0.2 -> 2 of 3 above 0.5; incorrect valid: 0.7, 0.1, 0.3 -> 2 of 3 at or below
    assert m["tpr"].item() == pytest.approx(2 / 3) and m["tnr"].item() == pytest.approx(2 / 3)
    assert m["f1"].item() == pytest.approx(2 / 3)
    assert m["score_mean_correct"].item() == pytest.approx(1.7 / 3)
    assert m["score_std_correct"].item() == pytest.approx(float(torch.tensor([0.9, 0.6, 0.2]).std()))
    # AUROC: 9 pairs; 0.9 beats all 3, 0.6 beats 0.1, 0.3, 0.2 beats 0.1 -> 6/9
    assert m["auroc"].item() == pytest.approx(6 / 9)
    empty = self_verification_metrics(score, T([1.0] * 7), valid)
    assert math.isnan(empty["tnr"].item()) and math.isnan(empty["f1"].item())
    # a member of the population without a score (NaN) is judged incorrect and left out of AUROC
    unscored = self_verification_metrics(T([0.9, float("nan"), 0.2]), T([1.0, 1.0, 0.0]), T([True, True, True]))
    assert unscored["tpr"].item() == pytest.approx(0.5) and unscored["tnr"].item() == 1.0
    assert unscored["auroc"].item() == 1.0 and unscored["score_mean_correct"].item() == pytest.approx(0.9)
