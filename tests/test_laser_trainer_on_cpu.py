"""LaSeR's trainer plumbing, loss and config: unit tests (fast)."""

import inspect
from functools import partial

import pytest
import torch
from tensordict import TensorDict

from recipe.laser.config import LaSeRConfig, LaSeRConfigError, resolve_zc_token
from recipe.laser.core_algos import class_balance_weights, self_reward_mse_loss, self_reward_score
from recipe.laser.loss import LaSeRLoss
from recipe.laser.trainer import RESPONSE_TOKEN_FIELDS_FILL, append_to_nested, last_of_nested, row_sums


def nested(rows, dtype=torch.long):
    return torch.nested.nested_tensor([torch.tensor(r, dtype=dtype) for r in rows], layout=torch.jagged)


def test_append_to_nested_appends_only_where_asked():
    nt = nested([[1, 2, 3], [4], [5, 6]])
    out = append_to_nested(nt, torch.tensor([7, 8, 9]), torch.tensor([True, False, True]))
    assert [t.tolist() for t in out.unbind()] == [[1, 2, 3, 7], [4], [5, 6, 9]]
    assert last_of_nested(out).tolist() == [7, 4, 9]
    assert row_sums(nested([[1.0, 2.0], [3.0]], torch.float32)).tolist() == [3.0, 3.0]


def test_response_token_fields_match_what_verls_agent_loop_stores():
    from verl.trainer.ppo.v1 import agent_loop_tq

    source = inspect.getsource(agent_loop_tq.AgentLoopWorkerTQ._agent_loop_postprocess)
    assert 'field["loss_mask"] = field["response_mask"]' in source
    assert 'field["input_ids"] = input_ids' in source and 'field["position_ids"] = position_ids' in source
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput

    # every per-response-token list of AgentLoopOutput is extended by the trainer (or absent)
    per_token = {"response_mask", "response_logprobs"}
    assert per_token <= set(AgentLoopOutput.model_fields)
    assert set(RESPONSE_TOKEN_FIELDS_FILL) == {"response_mask", "loss_mask", "rm_scores", "rollout_log_probs"}


def test_config_validation_messages():
    assert LaSeRConfig.from_config({"enable": True}).c_ref_mode == "constant"
    assert LaSeRConfig.from_config({"c_ref": "auto"}).c_ref_mode == "auto"
    for bad, match in [
        ({"c_ref": 0.0}, "c_ref=0.0"),
        ({"c_ref": "ref"}, "c_ref='ref'"),
        ({"alpha": -0.1}, "alpha"),
        ({"beta_v": 0}, "beta_v"),
        ({"tau": 1.5}, "tau"),
        ({"reasoning_warmup_steps": -1}, "reasoning_warmup_steps"),
        ({"alhpa": 0.1}, "unknown keys"),
    ]:
        with pytest.raises(LaSeRConfigError, match=match):
            LaSeRConfig.from_config(bad)


def test_warmup_schedule_matches_the_authors_scripts():
    c = LaSeRConfig(enable=True, reasoning_warmup_steps=200, self_reward_warmup_steps=200)
    assert not c.mse_active(200) and c.mse_active(201)
    assert not c.blend_active(400) and c.blend_active(401)
    orz = LaSeRConfig(enable=True, reasoning_warmup_steps=0, self_reward_warmup_steps=200)
    assert orz.mse_active(1) and not orz.blend_active(200) and orz.blend_active(201)
    assert not LaSeRConfig(enable=True, tau=0.0).blend_active(10**6)


def test_zc_token_resolution(tiny_models):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_models["chat"])
    assert resolve_zc_token(LaSeRConfig(), tok, {151645, 151643}) == 151652
    with pytest.raises(LaSeRConfigError, match="end, stop or pad"):
        resolve_zc_token(LaSeRConfig(zc_token_id=151645), tok, {151645})
    with pytest.raises(LaSeRConfigError, match="end, stop or pad"):
        resolve_zc_token(LaSeRConfig(zc_token_id=151643), tok, {151645})  # pad
    with pytest.raises(LaSeRConfigError, match="outside the tokenizer"):
        resolve_zc_token(LaSeRConfig(zc_token_id=10**7), tok, set())


def test_entry_point_refuses_legacy_trainer_and_enables_reference_for_exact():
    from omegaconf import OmegaConf

    from recipe.laser.main_laser import prepare_config

    base = {
        "laser": {"enable": True},
        "trainer": {"use_v1": False, "v1": {"trainer_mode": "laser"}},
        "actor_rollout_ref": {"actor": {"use_kl_loss": False, "kl_loss_coef": 0.001}},
        "algorithm": {"use_kl_in_reward": False},
    }
    with pytest.raises(LaSeRConfigError, match="v1 trainer"):
        prepare_config(OmegaConf.create(base))
    base["trainer"]["use_v1"] = True
    cfg = OmegaConf.create(base | {"laser": {"enable": True, "c_ref": "exact"}})
    prepare_config(cfg)
    assert cfg.actor_rollout_ref.actor.use_kl_loss and cfg.actor_rollout_ref.actor.kl_loss_coef == 0.0
    cfg = OmegaConf.create(base)  # constant mode: no reference worker asked for
    prepare_config(cfg)
    assert not cfg.actor_rollout_ref.actor.use_kl_loss


# -- the actor loss, through verl's real ppo_loss ---------------------------------------------------
def _step_batch(seed=0, n=8):
    g = torch.Generator().manual_seed(seed)
    prompt_lens = torch.randint(3, 6, (n,), generator=g)
    response_lens = torch.randint(2, 6, (n,), generator=g)
    valid = torch.rand(n, generator=g) > 0.25
    reward = (torch.rand(n, generator=g) > 0.5).float()
    log_probs = [torch.randn(int(p + r), generator=g) - 15 for p, r in zip(prompt_lens, response_lens, strict=True)]
    old = [torch.randn(int(r), generator=g) for r in response_lens]
    adv = [torch.full((int(r),), float(torch.randn(1, generator=g))) for r in response_lens]
    masks = [torch.cat([torch.ones(int(r) - 1), torch.zeros(1)]) if v else torch.ones(int(r)) for r, v in zip(response_lens, valid, strict=True)]
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
    tu.assign_non_tensor(td, dp_size=dp_size, batch_num_tokens=int(sum(m.sum() for m in step[7])), global_batch_size=len(step[2]))
    return td


def _laser_loss(c_ref=-23.0):
    from verl.workers.config import ActorConfig
    from verl.workers.utils.losses import ppo_loss

    actor_config = ActorConfig(
        strategy="fsdp2", ppo_mini_batch_size=8, ppo_micro_batch_size_per_gpu=8, use_kl_loss=False, rollout_n=1
    )
    return LaSeRLoss(partial(ppo_loss, config=actor_config), alpha=0.1, beta_v=0.1, c_ref=c_ref)


def test_laser_mse_equals_paper_formula_for_any_micro_batch_split():
    step = _step_batch()
    prompt_lens, response_lens, valid, reward, log_probs, *_ = step
    n = len(valid)
    weight = class_balance_weights(reward, valid) / valid.sum()
    loss_fn = _laser_loss()

    # paper formula over the whole step. verl's engine returns, per packed sequence, entry t =
    # log p(token t+1 | ...); z_c is the last token, so its log-prob is the second-to-last entry.
    zc = torch.stack([lp[-2] for lp in log_probs])
    expected = self_reward_mse_loss(self_reward_score(zc, -23.0, 0.1), reward, valid, class_balance_weights(reward, valid))

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
