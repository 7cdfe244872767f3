# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/loss.py through verl's real ppo_loss: the step's MSE is the paper's formula, and the
gradient is the same for any micro-batch split and data-parallel size."""

from functools import partial

import pytest
import torch
from tensordict import TensorDict

from recipe.laser.core_algos import mse_sample_weights, self_reward_score, weighted_cross_entropy
from recipe.laser.loss import LaSeRLoss
from tests.recipe.laser.test_core_algos import self_reward_mse_loss


def nested(rows, dtype=torch.long):
    return torch.nested.nested_tensor([torch.tensor(r, dtype=dtype) for r in rows], layout=torch.jagged)


def _step_batch(seed=0, n=8):
    g = torch.Generator().manual_seed(seed)
    prompt_lens = torch.randint(3, 6, (n,), generator=g)
    response_lens = torch.randint(2, 6, (n,), generator=g)
    valid = torch.rand(n, generator=g) > 0.25
    reward = (torch.rand(n, generator=g) > 0.5).float()
    log_probs = [torch.randn(int(p + r), generator=g) - 15 for p, r in zip(prompt_lens, response_lens, strict=True)]
    old = [torch.randn(int(r), generator=g) for r in response_lens]
    adv = [torch.full((int(r),), float(torch.randn(1, generator=g))) for r in response_lens]
    masks = [
        torch.cat([torch.ones(int(r) - 1), torch.zeros(1)]) if v else torch.ones(int(r))
        for r, v in zip(response_lens, valid, strict=True)
    ]
    return prompt_lens, response_lens, valid, reward, log_probs, old, adv, masks


def _micro_batch(step, idx, weight, dp_size=1):
    prompt_lens, response_lens, valid, reward, log_probs, old, adv, masks = step
    td = TensorDict(
        {
            "prompts": nested([[1] * int(prompt_lens[i]) for i in idx]),
            "responses": nested([[2] * int(response_lens[i]) for i in idx]),
            "response_mask": nested([masks[i].tolist() for i in idx], torch.float32),
            "old_log_probs": nested([old[i].tolist() for i in idx], torch.float32),
            "advantages": nested([adv[i].tolist() for i in idx], torch.float32),
            "laser_mse_weight": weight[idx],
            "laser_target": reward[idx],
        },
        batch_size=len(idx),
    )
    from verl.utils import tensordict_utils as tu

    # what verl's engine attaches to every micro-batch before calling the loss
    tu.assign_non_tensor(
        td, dp_size=dp_size, batch_num_tokens=int(sum(m.sum() for m in step[7])), global_batch_size=len(step[2])
    )
    return td


def _laser_loss(c_ref=-23.0, form="mse"):
    from verl.workers.config import ActorConfig
    from verl.workers.utils.losses import ppo_loss

    actor_config = ActorConfig(
        strategy="fsdp2", ppo_mini_batch_size=8, ppo_micro_batch_size_per_gpu=8, use_kl_loss=False, rollout_n=1
    )
    return LaSeRLoss(partial(ppo_loss, config=actor_config), alpha=0.1, beta_v=0.1, c_ref=c_ref, form=form)


def test_laser_mse_equals_paper_formula_for_any_micro_batch_split():
    step = _step_batch()
    prompt_lens, response_lens, valid, reward, log_probs, *_ = step
    n = len(valid)
    weight = mse_sample_weights(reward, valid)
    loss_fn = _laser_loss()

    # paper formula over the whole step. verl's engine returns, per packed sequence, entry t =
    # log p(token t+1 | ...); z_c is the last token, so its log-prob is the second-to-last entry.
    zc = torch.stack([lp[-2] for lp in log_probs])
    expected = self_reward_mse_loss(self_reward_score(zc, -23.0, 0.1), reward, valid)

    def mse_and_grads(splits, dp_size=1, loss=loss_fn):
        """Step MSE and the gradient of the whole loss (verl's PPO loss + alpha MSE) w.r.t. log-probs."""
        leaves = [lp.clone().requires_grad_(True) for lp in log_probs]
        total = 0.0
        for idx in splits:
            td = _micro_batch(step, torch.tensor(idx), weight, dp_size)
            out = {"log_probs": torch.nested.as_nested_tensor([leaves[i] for i in idx], layout=torch.jagged)}
            value, metrics = loss(model_output=out, data=td)
            (value / dp_size).backward()  # FSDP averages gradients over dp ranks
            if "laser/mse_loss" in metrics:
                total += sum(metrics["laser/mse_loss"].values) / dp_size
        return total, torch.cat([leaf.grad for leaf in leaves])

    whole, grad_whole = mse_and_grads([list(range(n))])
    single, grad_single = mse_and_grads([[i] for i in range(n)])
    assert whole == pytest.approx(float(expected), rel=1e-6)
    assert single == pytest.approx(float(expected), rel=1e-6)
    torch.testing.assert_close(grad_single, grad_whole, rtol=1e-5, atol=1e-9)
    # two data-parallel ranks with 4 samples each: the same step loss and gradient after the rank average
    dp, grad_dp = mse_and_grads([list(range(0, n, 2)), list(range(1, n, 2))], dp_size=2)
    assert dp == pytest.approx(float(expected), rel=1e-6)
    torch.testing.assert_close(grad_dp, grad_whole, rtol=1e-5, atol=1e-9)
    # the MSE's gradient (total minus verl's PPO loss alone) reaches the z_c slot of valid samples only
    _, grad_ppo = mse_and_grads([list(range(n))], loss=loss_fn.base_loss)
    grad_mse = grad_whole - grad_ppo
    offsets = torch.tensor([0, *torch.cumsum(prompt_lens + response_lens, 0).tolist()])
    zc_slots = offsets[1:] - 2
    assert (grad_mse[zc_slots[valid]] != 0).all()
    others = torch.ones_like(grad_mse, dtype=torch.bool)
    others[zc_slots[valid]] = False
    assert (grad_mse[others].abs() < 1e-9).all()


def test_laser_loss_before_auto_c_ref_is_measured_adds_nothing():
    """c_ref=auto with no finished response yet: the loss runs (no exact-mode field needed), MSE 0."""
    step = _step_batch(seed=1)
    _, _, valid, reward, log_probs, *_ = step
    idx = torch.arange(len(valid))
    td = _micro_batch(step, idx, torch.zeros(len(valid)))
    leaves = [lp.clone().requires_grad_(True) for lp in log_probs]
    out = {"log_probs": torch.nested.as_nested_tensor(leaves, layout=torch.jagged)}
    loss = _laser_loss(c_ref=None)
    value, metrics = loss(model_output=out, data=td)
    base, _ = loss.base_loss(model_output=out, data=td)
    assert sum(metrics["laser/mse_loss"].values) == 0.0
    assert float(value) == pytest.approx(float(base))


def test_the_cross_entropy_ablation_adds_alpha_times_its_step_loss_at_the_zc_slot():
    """laser.self_reward_loss=bce: verl's PPO loss + alpha * the weighted cross-entropy on p(z_c),
    the same for any micro-batch split; no c_ref is read."""
    step = list(_step_batch(seed=2))
    step[4] = [(lp + 14).clamp(max=-0.05) for lp in step[4]]  # p(z_c) around 1/3: a loss well above float32's noise
    prompt_lens, response_lens, valid, reward, log_probs, *_ = step
    weight = mse_sample_weights(reward, valid)
    zc = torch.stack([lp[-2] for lp in log_probs])
    expected = weighted_cross_entropy(zc, reward, weight)
    loss = _laser_loss(c_ref=None, form="bce")
    for splits in ([list(range(len(valid)))], [[i] for i in range(len(valid))]):
        total, gap = 0.0, 0.0
        for idx in splits:
            td = _micro_batch(step, torch.tensor(idx), weight)
            out = {"log_probs": torch.nested.as_nested_tensor([log_probs[i] for i in idx], layout=torch.jagged)}
            value, metrics = loss(model_output=out, data=td)
            base, _ = loss.base_loss(model_output=out, data=td)
            assert "laser/mse_loss" not in metrics
            total += sum(metrics["laser/bce_loss"].values)
            gap += float(value - base)
        assert total == pytest.approx(float(expected), rel=1e-6)
        assert gap == pytest.approx(0.1 * float(expected), rel=1e-5)
