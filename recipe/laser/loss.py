# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""LaSeR's actor loss: verl's own PPO loss (any configured policy-loss mode) + alpha * the
class-balanced self-rewarding MSE (eq. 13-14), or with ``laser.self_reward_loss=bce`` the
cross-entropy of the eq. 16 ablation (core_algos.weighted_cross_entropy). Installed in the actor workers with verl's
``ActorRolloutRefWorker.set_loss_fn`` by ``recipe.laser.trainer.LaSeRTrainer``.

The score comes from the same forward pass verl already runs for the policy loss: the trainer
appended z_c after each finished response (response_mask 0), so the engine's log-prob at that last
response slot is log pi_theta(z_c | x, y, EOS).

Each micro-batch adds ``weighted_squared_error(r_s, r_v, laser_mse_weight) * dp_size``, with the
per-sample weights of ``core_algos.mse_sample_weights`` computed by the trainer over the whole step.
Summed over micro-batches and averaged over data-parallel ranks (FSDP's gradient all-reduce) that is
the paper's step loss whatever the micro-batch size, gradient accumulation and data-parallel size:
the same global normalisation verl's ``agg_loss`` uses for token-mean.
"""

from __future__ import annotations

from tensordict import TensorDict

from recipe.laser.core_algos import self_reward_score, weighted_cross_entropy, weighted_squared_error


class LaSeRLoss:
    """Picklable loss callable: ``loss(model_output, data, dp_group=None) -> (loss, metrics)``."""

    def __init__(
        self, base_loss, alpha: float, beta_v: float, c_ref: float | None, exact: bool = False, form: str = "mse"
    ):
        self.base_loss = base_loss  # functools.partial(verl ppo_loss, config=actor_config)
        self.form = form  # laser.self_reward_loss: mse (eq. 13) or bce (the eq. 16 ablation)
        self.alpha = alpha
        self.beta_v = beta_v
        self.c_ref = c_ref  # the constant; None while c_ref=auto has not been measured yet
        self.exact = exact  # exact mode: the reference log-prob of z_c comes with the batch

    def __call__(self, model_output, data: TensorDict, dp_group=None):
        from verl.utils.metric import AggregationType, Metric
        from verl.workers.utils.padding import no_padding_2_padding

        policy_loss, metrics = self.base_loss(model_output=model_output, data=data, dp_group=dp_group)
        if "laser_mse_weight" not in data.keys():  # noqa: SIM118 (TensorDict membership goes through keys())
            return policy_loss, metrics
        log_prob = no_padding_2_padding(model_output["log_probs"], data)  # (bsz, max_response_len)
        response_lens = data["responses"].offsets().diff()  # z_c is the last response token
        zc_slot = (response_lens - 1).clamp(min=0).to(log_prob.device)
        zc_log_prob = log_prob.gather(1, zc_slot[:, None]).squeeze(1)
        weight = data["laser_mse_weight"].to(log_prob.device, log_prob.dtype)
        target = data["laser_target"].to(log_prob.device, log_prob.dtype)
        if self.form == "bce":  # p(z_c) itself is the score: no c_ref
            bce = weighted_cross_entropy(zc_log_prob, target, weight) * data["dp_size"]
            metrics["laser/bce_loss"] = Metric(value=bce, aggregation=AggregationType.SUM)
            return policy_loss + self.alpha * bce, metrics
        if self.exact:
            c_ref = data["laser_ref_zc_log_prob"].to(log_prob.device, log_prob.dtype)
        elif self.c_ref is not None:
            c_ref = self.c_ref
        else:  # c_ref=auto before its measurement: no score yet (the trainer set every weight to 0)
            c_ref = zc_log_prob.detach()
        score = self_reward_score(zc_log_prob, c_ref, self.beta_v)
        mse = weighted_squared_error(score, target, weight) * data["dp_size"]
        metrics["laser/mse_loss"] = Metric(value=mse, aggregation=AggregationType.SUM)
        return policy_loss + self.alpha * mse, metrics
