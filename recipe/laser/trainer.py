# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""LaSeR on verl 0.9.1's v1 trainer: ``trainer.v1.trainer_mode=laser``.

A subclass of verl's ``PPOTrainerSync`` that overrides a few step methods and adds nothing to the
loop itself (verl's ``fit``/``_step_once`` run unchanged):

1. ``_compute_old_log_prob``: append z_c after each finished, real response in TransferQueue, then
   verl's own pass. Its log-prob at the new last slot is log pi(z_c | x, y, EOS), and so are the
   reference and update passes'. The reward was computed in the agent loop, before this, so the
   verifier never sees z_c.
2. ``_compute_advantage``: verl's GRPO advantages, then ``laser_step``: the score r_s from this
   step's old-log-prob pass, the MSE weights and targets for the update pass, and after the
   warm-ups the blend (1 - tau) A_v + tau A_self. It must sit after the old-log-prob pass: the score
   does not exist before the actor's forward.
3. ``_compute_metrics``: the optional score dump, then z_c taken off ``responses`` again, so verl's
   length metrics and rollout dumps see the responses as generated.
4. ``on_init_end`` (verl's hook after its setup): resolve z_c and c_ref and install ``LaSeRLoss``
   (verl's PPO loss + alpha MSE) in the actor workers with ``set_loss_fn``.

The per-step math is ``core_algos.laser_step``; c_ref=auto's record is ``c_ref_record``; the score
dump's lines are ``score_dump``; this file reads and writes TransferQueue around them.

verl's padding rows (``is_padding`` tags, added when the batch does not divide into data-parallel
ranks and mini-batches) are never LaSeR samples: no z_c, no score, no weight, not in any metric.
With ``laser.enable=false`` the trainer is verl's ``PPOTrainerSync`` (the GRPO baseline).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch
import transfer_queue as tq
from omegaconf import open_dict
from tensordict import TensorDict
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from recipe.laser import c_ref_record, core_algos
from recipe.laser.config import LaSeRConfig, LaSeRConfigError, resolve_zc_token
from recipe.laser.families import stop_token_ids
from recipe.laser.loss import LaSeRLoss
from recipe.laser.nested import append_to_nested, drop_last_of_nested, last_of_nested, row_sums
from recipe.laser.score_dump import score_dump_lines
from recipe.laser.verifier.judge import unavailable_judge
from recipe.laser.verifier.reward import verifier_step_metrics

# Per-response-token fields that verl 0.9.1's agent loop stores in TransferQueue, and what the z_c
# slot gets in each (tests/recipe/laser/test_trainer.py checks this list against verl's source).
RESPONSE_TOKEN_FIELDS_FILL = {"response_mask": 0, "loss_mask": 0, "rm_scores": 0.0, "rollout_log_probs": 0.0}
SEQUENCE_FIELDS = ("input_ids", "position_ids")


def padding_mask(batch) -> torch.Tensor:
    """(B,) True for verl's synthetic padding rows (``upsample_batch_to_divisible_size``)."""
    return torch.tensor([bool(tag.get("is_padding", False)) for tag in batch.tags], dtype=torch.bool)


@register_trainer("laser")
class LaSeRTrainer(PPOTrainerSync):
    def __init__(self, config):
        # verl tells its synchronous mode from the asynchronous ones by trainer_mode == "sync"
        # (replay buffer, dataloader batching, TransferQueue checkpoints): this trainer is the
        # synchronous one with LaSeR's steps, so it runs under that name once selected.
        with open_dict(config):
            config.trainer.v1.trainer_mode = "sync"
        super().__init__(config)
        self.laser = LaSeRConfig.from_config(config.get("laser"))
        self.zc_token_id: int | None = None
        self.end_token_ids: torch.Tensor | None = None
        self.c_ref: float | None = float(self.laser.c_ref) if self.laser.c_ref_mode == "constant" else None
        self._append_metrics: dict[str, float] = {}
        self._last_step: core_algos.StepOutputs | None = None

    # -- 4. setup: verl's on_init_end hook, after its workers exist and a resumed run has loaded its checkpoint --
    def on_init_end(self):
        super().on_init_end()  # verl: push the (loaded) weights to the rollout replicas
        from verl_patches import file_logger

        file_logger.set_resume_step(self.global_steps)
        if not self.laser.enable:
            return
        # a response is finished when it ends with any id the rollout stops on
        stop_ids = set(stop_token_ids(self.config.actor_rollout_ref.model.path, self.tokenizer))
        self.zc_token_id = resolve_zc_token(self.laser, self.tokenizer, stop_ids)
        self.end_token_ids = torch.tensor(sorted(stop_ids), dtype=torch.long)
        if self.laser.c_ref_mode == "exact" and not self.use_reference_policy:
            raise LaSeRConfigError("laser.c_ref=exact needs the reference worker (recipe.laser.main_laser enables it)")
        if self.laser.c_ref_mode == "auto":
            self.c_ref = c_ref_record.load(self._c_ref_path(), self._c_ref_identity())
        self._install_loss()
        print(
            f"[laser] family={self.laser.family}, z_c={self.zc_token_id} "
            f"({self.tokenizer.convert_ids_to_tokens(self.zc_token_id)}), end tokens={self.end_token_ids.tolist()}, "
            f"c_ref={self.laser.c_ref} ({self.laser.c_ref_mode}), alpha={self.laser.alpha}, "
            f"beta_v={self.laser.beta_v}, tau={self.laser.tau}, from step {self.global_steps + 1}"
        )

    def _install_loss(self):
        from verl.utils.config import omega_conf_to_dataclass
        from verl.workers.utils.losses import ppo_loss

        actor_config = omega_conf_to_dataclass(self.config.actor_rollout_ref.actor)
        exact = self.laser.c_ref_mode == "exact"
        loss = LaSeRLoss(
            partial(ppo_loss, config=actor_config),
            self.laser.alpha,
            self.laser.beta_v,
            self.c_ref,
            exact=exact,
            form=self.laser.self_reward_loss,
        )
        self.actor_rollout_wg.set_loss_fn(loss)

    # -- c_ref = auto: measured once, kept with the checkpoints (recipe/laser/c_ref_record.py) -----------------------
    def _c_ref_path(self) -> Path:
        return Path(self.config.trainer.default_local_dir) / c_ref_record.FILE_NAME

    def _c_ref_identity(self) -> dict:
        return {"model": str(self.config.actor_rollout_ref.model.path), "zc_token_id": self.zc_token_id}

    def _measure_c_ref(self, inputs: core_algos.StepInputs) -> None:
        measured = c_ref_record.measure(inputs, self.global_steps)
        if measured is None:
            return  # nothing finished yet: no score this step
        self.c_ref, n = measured
        c_ref_record.save(self._c_ref_path(), self.c_ref, self.global_steps, n, self._c_ref_identity())
        self._install_loss()

    # -- 1. z_c into every forward pass ------------------------------------------------------------------------
    def _response_token_fields(self) -> dict[str, float]:
        fill = dict(RESPONSE_TOKEN_FIELDS_FILL)
        if not self.config.actor_rollout_ref.rollout.calculate_log_probs:
            del fill["rollout_log_probs"]  # verl stores no rollout log-probs then
        return fill

    def _append_zc(self, batch) -> None:
        fill = self._response_token_fields()
        fields = ["responses", *SEQUENCE_FIELDS, *fill]
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        responses = data["responses"]
        lengths = responses.offsets().diff()
        padding = padding_mask(batch)
        finished = (lengths > 0) & torch.isin(last_of_nested(responses), self.end_token_ids)
        append = finished & ~padding
        zc = torch.full_like(lengths, self.zc_token_id)
        out = {
            "responses": append_to_nested(responses, zc, append),
            "input_ids": append_to_nested(data["input_ids"], zc, append),
            "position_ids": append_to_nested(data["position_ids"], last_of_nested(data["position_ids"]) + 1, append),
        }
        for name, value in fill.items():
            nested = data[name]
            out[name] = append_to_nested(nested, torch.full((len(lengths),), value, dtype=nested.dtype), append)
        out["laser_valid"] = append.to(torch.int64)
        tq.kv_batch_put(
            keys=batch.keys, partition_id=batch.partition_id, fields=TensorDict(out, batch_size=len(lengths))
        )
        self._append_metrics = response_fault_metrics(responses, lengths, finished, padding, self.zc_token_id)

    def _compute_old_log_prob(self, batch, metrics):
        if self.laser.enable:
            self._append_zc(batch)
        return super()._compute_old_log_prob(batch, metrics)

    # -- 2. scores, MSE weights, blending ------------------------------------------------------------------------
    def _compute_advantage(self, batch, metrics):
        batch = super()._compute_advantage(batch, metrics)  # verl's GRPO advantages A_v
        metrics.update(self._verifier_metrics(batch))
        if not self.laser.enable:
            return batch
        inputs = self._fetch_step_inputs(batch)
        if self.laser.c_ref_mode == "auto" and self.c_ref is None:
            self._measure_c_ref(inputs)
        num_minibatches = self._num_minibatches(len(batch))
        out = core_algos.laser_step(inputs, self.laser, self.global_steps, self.c_ref, num_minibatches)
        batch = tq.kv_batch_put(
            keys=batch.keys, partition_id=batch.partition_id, fields=TensorDict(out.fields, batch_size=len(batch))
        )
        metrics.update(out.metrics)
        metrics.update(self._append_metrics)
        self._last_step = out
        return batch

    def _fetch_step_inputs(self, batch) -> core_algos.StepInputs:
        need_ref = self.use_reference_policy and self.laser.c_ref_mode in ("exact", "auto")
        fields = ["uid", "old_log_probs", "rm_scores", "advantages", "laser_valid"] + (
            ["ref_log_prob"] if need_ref else []
        )
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        group = np.unique(np.array(data["uid"], dtype=object), return_inverse=True)[1]
        return core_algos.StepInputs(
            zc_log_prob=last_of_nested(data["old_log_probs"]),
            ref_zc_log_prob=last_of_nested(data["ref_log_prob"]) if need_ref else None,
            verifier_reward=row_sums(data["rm_scores"]),
            valid=data["laser_valid"].bool(),
            padding=padding_mask(batch),
            group=torch.as_tensor(group),
            advantages=data["advantages"],
        )

    def _num_minibatches(self, batch_rows: int) -> int:
        """Optimizer steps in this step's update: verl cuts the (padded) batch into mini-batches of
        ppo_mini_batch_size prompts x rollout.n responses."""
        rows_per_minibatch = (
            self.config.actor_rollout_ref.actor.ppo_mini_batch_size * self.config.actor_rollout_ref.rollout.n
        )
        return max(1, batch_rows // rows_per_minibatch)

    def _verifier_metrics(self, batch) -> dict:
        """The verifier's per-step counters, and how many of the step's responses verl dropped: its agent
        loop trains on the rest of a step when a response's rollout or reward raised (its log says
        "Error in _run_prompt"). Stops the run when the judge (verifier/judge.py) cannot be used."""
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        real = ~padding_mask(batch)
        extra = np.array(data["extra_fields"], dtype=object).ravel()
        infos = [(e or {}).get("reward_extra_info", {}) or {} for e, r in zip(extra, real, strict=True) if r]
        expected = self.config.data.train_batch_size * self.config.actor_rollout_ref.rollout.n
        return reward_step_metrics(infos, expected, self.global_steps)

    def _update_actor(self, batch, metrics):
        batch = super()._update_actor(batch, metrics)
        term = f"actor/laser/{self.laser.self_reward_loss}_loss"  # loss.py logs the term it adds
        if self.laser.enable and term not in metrics:
            raise RuntimeError(
                f"LaSeR: the actor loss did not see the laser_* fields (no {term} metric); "
                "the self-rewarding loss would be silently skipped"
            )
        return batch

    # -- 3. after the step: the score dump, and verl's metrics without z_c ---------------------------------------
    def _compute_metrics(self, batch, metrics, timing_raw, global_steps, epoch):
        if self.laser.enable:
            if self.laser.score_dump_path and self._last_step is not None:
                self._dump_scores(batch, self._last_step)
            self._remove_zc(batch)
        return super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)

    def _remove_zc(self, batch) -> None:
        """Take z_c off ``responses`` again before verl's metrics (response length, clip ratio) and
        rollout dumps: LaSeR and GRPO runs then report the same lengths for the same responses. verl
        reads the lengths, and the clip ratio's maximum, from ``responses`` alone; in the other
        per-token fields it reads (advantages, returns, rewards) the z_c slot is left in place, where
        ``response_mask`` is 0 and the reward 0.0, so their statistics exclude it already. One field
        moved instead of six: this runs on every step."""
        data = tq.kv_batch_get(
            keys=batch.keys, partition_id=batch.partition_id, select_fields=["responses", "laser_valid"]
        )
        responses = drop_last_of_nested(data["responses"], data["laser_valid"].bool())
        tq.kv_batch_put(
            keys=batch.keys,
            partition_id=batch.partition_id,
            fields=TensorDict({"responses": responses}, batch_size=len(batch)),
        )

    def _dump_scores(self, batch, step: core_algos.StepOutputs) -> None:
        fields = ["input_ids", "old_log_probs", "rm_scores", "laser_valid", "responses"]
        if self.use_reference_policy and self.laser.c_ref_mode in ("exact", "auto"):
            fields.append("ref_log_prob")
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        lines = score_dump_lines(
            self.global_steps,
            data["input_ids"],
            data["responses"].offsets().diff().tolist(),
            last_of_nested(data["old_log_probs"]),
            last_of_nested(data["ref_log_prob"]) if "ref_log_prob" in fields else None,
            step.score,
            row_sums(data["rm_scores"]),
            data["laser_valid"].bool(),
            padding_mask(batch),
        )
        with open(self.laser.score_dump_path, "a") as f:
            f.writelines(lines)


def reward_step_metrics(infos: list[dict], expected_responses: int, step: int) -> dict[str, float]:
    """The verifier's counters over a step's reward results (one per real response), and how many of
    the ``expected_responses`` (prompts x rollout.n) have none: dropped by verl (under verl's
    ``training/`` prefix: GRPO runs log it too). Raises when the judge could not be used."""
    unusable = unavailable_judge(infos)
    if unusable is not None:
        raise RuntimeError(f"[laser] step {step}: {unusable}; every answer it decides would score 0")
    dropped = float(max(0, expected_responses - len(infos)))
    return {**verifier_step_metrics(infos), "training/dropped_responses": dropped}


def response_fault_metrics(
    responses: torch.Tensor, lengths: torch.Tensor, finished: torch.Tensor, padding: torch.Tensor, zc_token_id: int
) -> dict[str, float]:
    """Counters for responses LaSeR cannot score normally, over the step's real responses:
    empty ones (no token at all, e.g. an aborted request), ones with nothing before their end token,
    and ones that contain z_c themselves (the model emitted the token that is supposed to be unused)."""
    real = ~padding
    n = real.sum().clamp(min=1)
    rows = torch.arange(len(lengths)).repeat_interleave(lengths)
    has_zc = torch.zeros(len(lengths), dtype=torch.bool)
    has_zc[rows[responses.values() == zc_token_id]] = True
    return {
        "laser/empty_response_fraction": float(((lengths == 0) & real).sum() / n),
        "laser/end_token_only_fraction": float(((lengths == 1) & finished & real).sum() / n),
        "laser/zc_emitted_fraction": float((has_zc & real).sum() / n),
        "laser/unfinished_fraction": float((~finished & real).sum() / n),
    }
