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
4. ``init``: after verl's setup, resolve z_c and c_ref and install ``LaSeRLoss`` (verl's PPO loss +
   alpha MSE) in the actor workers with ``set_loss_fn``.

verl's padding rows (``is_padding`` tags, added when the batch does not divide into data-parallel
ranks and mini-batches) are never LaSeR samples: no z_c, no score, no weight, not in any metric.
With ``laser.enable=false`` the trainer is verl's ``PPOTrainerSync`` (the GRPO baseline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import transfer_queue as tq
from omegaconf import open_dict
from tensordict import TensorDict
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from recipe.laser import core_algos
from recipe.laser.atomic import write_text_atomic
from recipe.laser.config import LaSeRConfig, LaSeRConfigError, resolve_zc_token
from recipe.laser.families import stop_token_ids
from recipe.laser.loss import LaSeRLoss
from recipe.laser.verifier.reward import verifier_step_metrics

# Per-response-token fields that verl 0.9.1's agent loop stores in TransferQueue, and what the z_c
# slot gets in each (tests/recipe/laser/test_trainer.py checks this list against verl's source).
RESPONSE_TOKEN_FIELDS_FILL = {"response_mask": 0, "loss_mask": 0, "rm_scores": 0.0, "rollout_log_probs": 0.0}
SEQUENCE_FIELDS = ("input_ids", "position_ids")
C_REF_STATE_FILE = "laser_c_ref.json"


# -- jagged (nested) tensor helpers: one row per response -----------------------------------------------------
def append_to_nested(nested: torch.Tensor, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Append ``values[i]`` to row i of a jagged nested tensor where ``mask[i]``.

    Args: nested: B rows (1-D). values: (B,). mask: (B,) bool.
    One concatenation of the rows' views (3x faster than a scatter at the paper's batch shape:
    benchmarks/bench_laser_step_overhead.py).
    """
    flat, offsets = nested.values(), nested.offsets()
    lengths = offsets.diff()
    values = values.to(flat.dtype)
    parts = []
    for i, (row, append) in enumerate(zip(flat.split(lengths.tolist()), mask.tolist(), strict=True)):
        parts.append(row)
        if append:
            parts.append(values[i : i + 1])
    return nested_from_rows(parts, lengths + mask.to(torch.long), flat)


def drop_last_of_nested(nested: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Remove the last element of row i where ``mask[i]`` (rows must then be non-empty)."""
    flat, offsets = nested.values(), nested.offsets()
    lengths = offsets.diff()
    kept = lengths - mask.to(torch.long)
    rows = flat.split(lengths.tolist())
    return nested_from_rows([row[:k] for row, k in zip(rows, kept.tolist(), strict=True)], kept, flat)


def nested_from_rows(parts: list[torch.Tensor], lengths: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A jagged nested tensor of B rows whose values are ``parts`` concatenated and whose row lengths
    are ``lengths`` (B,); ``like`` gives the dtype of an empty batch."""
    offsets = lengths.new_zeros(len(lengths) + 1)
    offsets[1:] = lengths.cumsum(0)
    return torch.nested.nested_tensor_from_jagged(torch.cat(parts) if parts else like.new_empty(0), offsets)


def last_of_nested(nested: torch.Tensor) -> torch.Tensor:
    """(B,) the last element of each row; an empty row gives an arbitrary value (mask it)."""
    values = nested.values()
    if values.numel() == 0:
        return values.new_zeros(nested.offsets().numel() - 1)
    return values[(nested.offsets()[1:] - 1).clamp(min=0)]


def row_sums(nested: torch.Tensor) -> torch.Tensor:
    lengths = nested.offsets().diff()
    rows = torch.arange(lengths.numel(), device=lengths.device).repeat_interleave(lengths)
    return torch.zeros(lengths.numel(), dtype=nested.dtype).index_add_(0, rows, nested.values())


def padding_mask(batch) -> torch.Tensor:
    """(B,) True for verl's synthetic padding rows (``upsample_batch_to_divisible_size``)."""
    return torch.tensor([bool(tag.get("is_padding", False)) for tag in batch.tags], dtype=torch.bool)


# -- 2. the LaSeR part of a step, as a pure function --------------------------------------------------------
@dataclass
class StepInputs:
    """What ``_compute_advantage`` reads from TransferQueue; B rows, padding rows included."""

    zc_log_prob: torch.Tensor  # (B,) log pi_old(z_c | x, y, EOS) from this step's old-log-prob pass
    ref_zc_log_prob: torch.Tensor | None  # (B,) the reference model's, when a reference worker runs
    verifier_reward: torch.Tensor  # (B,) r_v
    valid: torch.Tensor  # (B,) bool: finished real responses (z_c appended)
    padding: torch.Tensor  # (B,) bool: verl's padding rows
    group: torch.Tensor  # (B,) prompt group id
    advantages: torch.Tensor  # nested (B rows): verl's GRPO advantage A_v per response token


@dataclass
class StepOutputs:
    fields: dict[str, torch.Tensor]  # written back to TransferQueue for the update pass
    score: torch.Tensor  # (B,) r_s (0 where invalid)
    metrics: dict[str, float]


def laser_step(
    inputs: StepInputs, laser: LaSeRConfig, step: int, c_ref: float | None, num_minibatches: int
) -> StepOutputs:
    """Scores, MSE weights and targets, and blended advantages of one step (eqs. 11-15).

    ``c_ref`` is the constant (constant and auto modes; None while auto has not been measured);
    exact mode uses ``inputs.ref_zc_log_prob``. Padding rows take part in nothing.
    """
    exact = laser.c_ref_mode == "exact"
    reference = inputs.ref_zc_log_prob if exact else c_ref
    valid = inputs.valid & ~inputs.padding
    # 1. score r_s (eq. 11); none while c_ref=auto waits for its first finished responses
    if reference is None:
        valid = torch.zeros_like(valid)
        score = torch.zeros_like(inputs.zc_log_prob)
    else:
        score = torch.where(valid, core_algos.self_reward_score(inputs.zc_log_prob, reference, laser.beta_v), 0.0)
    # 2. MSE weights and targets for the update pass (eq. 14); 0 during the reasoning warm-up
    mse_on = laser.mse_active(step) and reference is not None
    weight = core_algos.mse_sample_weights(inputs.verifier_reward, valid, laser.class_balance, num_minibatches)
    fields = {
        "laser_mse_weight": weight * float(mse_on),
        "laser_target": inputs.verifier_reward.to(score.dtype),
    }
    if exact:
        fields["laser_ref_zc_log_prob"] = inputs.ref_zc_log_prob
    # 3. blend (eq. 15) after both warm-ups
    blend = torch.zeros_like(valid)
    blend_on = laser.blend_active(step) and reference is not None
    if blend_on:
        self_adv, blend = core_algos.self_reward_advantages(score, valid, inputs.group, laser.std_threshold)
        blend &= ~inputs.padding
        adv = inputs.advantages
        rows = torch.arange(len(valid)).repeat_interleave(adv.offsets().diff())
        flat = core_algos.blend_advantages(adv.values(), self_adv[rows], blend[rows], laser.tau)
        fields["advantages"] = torch.nested.nested_tensor_from_jagged(flat, adv.offsets())
    # 4. metrics over the real responses
    real = ~inputs.padding
    m = core_algos.self_verification_metrics(
        torch.where(valid, score, float("nan")), inputs.verifier_reward, valid, laser.verify_threshold
    )
    metrics = {f"laser/{k}": v for k, v in m.items()}
    metrics["laser/score_mean"] = score[valid].mean() if bool(valid.any()) else torch.tensor(float("nan"))
    metrics["laser/valid_fraction"] = valid.sum() / real.sum().clamp(min=1)
    blended_groups = inputs.group[blend].unique().numel()
    metrics["laser/self_adv_group_fraction"] = torch.tensor(
        blended_groups / max(1, inputs.group[real].unique().numel())
    )
    metrics["laser/padding_rows"] = inputs.padding.sum()
    metrics["laser/mse_active"] = torch.tensor(float(mse_on))
    metrics["laser/blend_active"] = torch.tensor(float(blend_on))
    if exact and bool(valid.any()):
        metrics["laser/c_ref"] = inputs.ref_zc_log_prob[valid].mean()
    elif c_ref is not None and not exact:
        metrics["laser/c_ref"] = torch.tensor(c_ref)
    values = torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in metrics.values()]).tolist()  # one copy
    return StepOutputs(fields=fields, score=score, metrics=dict(zip(metrics, values, strict=True)))


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
        self._last_step: StepOutputs | None = None

    # -- 4. setup ------------------------------------------------------------------------------------------
    def init(self):
        super().init()  # verl's setup; a resumed run has loaded its checkpoint and global step here
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
            self.c_ref = self._load_c_ref()
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
            partial(ppo_loss, config=actor_config), self.laser.alpha, self.laser.beta_v, self.c_ref, exact=exact
        )
        self.actor_rollout_wg.set_loss_fn(loss)

    # -- c_ref = auto: measured once, kept with the checkpoints ---------------------------------------------------
    def _c_ref_state_path(self) -> Path:
        return Path(self.config.trainer.default_local_dir) / C_REF_STATE_FILE

    def _c_ref_identity(self) -> dict:
        return {"model": str(self.config.actor_rollout_ref.model.path), "zc_token_id": self.zc_token_id}

    def _load_c_ref(self) -> float | None:
        path = self._c_ref_state_path()
        if not path.is_file():
            return None
        try:
            state = json.loads(path.read_text())
            value = float(state["c_ref"])
        except (ValueError, KeyError, TypeError) as error:
            raise LaSeRConfigError(
                f"{path}: not a valid c_ref record ({type(error).__name__}: {error}); delete it to measure c_ref "
                "again, or set laser.c_ref to a number"
            ) from None
        mismatched = {k: (state.get(k), v) for k, v in self._c_ref_identity().items() if state.get(k) != v}
        if mismatched:
            raise LaSeRConfigError(
                f"{path}: c_ref was measured for another setup {mismatched} (saved, now); use a new "
                "trainer.default_local_dir, or delete the file to measure again"
            )
        print(f"[laser] c_ref=auto: using {value:.4f} measured at step {state.get('step')} ({path})")
        return value

    def _measure_c_ref(self, inputs: StepInputs) -> None:
        """Mean reference log-prob of z_c over the finished responses of the first step that has any."""
        valid = inputs.valid & ~inputs.padding
        if not bool(valid.any()):
            return  # nothing finished yet: no score this step, try again next step
        if inputs.ref_zc_log_prob is not None:
            source = inputs.ref_zc_log_prob
        elif self.global_steps == 1:
            source = inputs.zc_log_prob  # before any update, the actor is the reference model
        else:
            raise LaSeRConfigError(
                "laser.c_ref=auto: step 1 had no finished response to measure c_ref on, and without a reference "
                "worker it cannot be measured later (the actor has moved); set laser.c_ref to a number, or enable "
                "the reference model (actor_rollout_ref.actor.use_kl_loss=True with kl_loss_coef=0)"
            )
        self.c_ref = float(source[valid].mean())
        path = self._c_ref_state_path()
        record = {"c_ref": self.c_ref, "step": self.global_steps, "n": int(valid.sum()), **self._c_ref_identity()}
        write_text_atomic(path, json.dumps(record))  # a kill never leaves half a record
        print(f"[laser] c_ref=auto: measured {self.c_ref:.4f} on {int(valid.sum())} responses (saved to {path})")
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
        out = laser_step(inputs, self.laser, self.global_steps, self.c_ref, self._num_minibatches(len(batch)))
        batch = tq.kv_batch_put(
            keys=batch.keys, partition_id=batch.partition_id, fields=TensorDict(out.fields, batch_size=len(batch))
        )
        metrics.update(out.metrics)
        metrics.update(self._append_metrics)
        self._last_step = out
        return batch

    def _fetch_step_inputs(self, batch) -> StepInputs:
        need_ref = self.use_reference_policy and self.laser.c_ref_mode in ("exact", "auto")
        fields = ["uid", "old_log_probs", "rm_scores", "advantages", "laser_valid"] + (
            ["ref_log_prob"] if need_ref else []
        )
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        group = np.unique(np.array(data["uid"], dtype=object), return_inverse=True)[1]
        return StepInputs(
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

    @staticmethod
    def _verifier_metrics(batch) -> dict:
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        real = ~padding_mask(batch)
        extra = np.array(data["extra_fields"], dtype=object).ravel()
        return verifier_step_metrics(
            [(e or {}).get("reward_extra_info", {}) or {} for e, r in zip(extra, real, strict=True) if r]
        )

    def _update_actor(self, batch, metrics):
        batch = super()._update_actor(batch, metrics)
        if self.laser.enable and "actor/laser/mse_loss" not in metrics:
            raise RuntimeError(
                "LaSeR: the actor loss did not see the laser_* fields (no actor/laser/mse_loss metric); "
                "the MSE would be silently skipped"
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

    def _dump_scores(self, batch, step: StepOutputs) -> None:
        """One JSON line per real response: its tokens (prompt + response + z_c), the z_c log-prob the
        trainer read, its score and verdict (``scripts/check_score_dump.py`` checks them)."""
        fields = ["input_ids", "old_log_probs", "rm_scores", "laser_valid", "responses"]
        if self.use_reference_policy and self.laser.c_ref_mode in ("exact", "auto"):
            fields.append("ref_log_prob")
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        ids, zc = data["input_ids"], last_of_nested(data["old_log_probs"])
        ref = last_of_nested(data["ref_log_prob"]) if "ref_log_prob" in fields else None
        reward, valid, padding = row_sums(data["rm_scores"]), data["laser_valid"].bool(), padding_mask(batch)
        offsets, flat = ids.offsets().tolist(), ids.values().tolist()
        response_lengths = data["responses"].offsets().diff().tolist()
        with open(self.laser.score_dump_path, "a") as f:
            for i in range(len(offsets) - 1):
                if bool(padding[i]):
                    continue
                record = {
                    "step": self.global_steps,
                    "input_ids": flat[offsets[i] : offsets[i + 1]],
                    "response_length": response_lengths[i],
                    "valid": bool(valid[i]),
                    "zc_log_prob": float(zc[i]) if valid[i] else None,
                    "ref_zc_log_prob": None if ref is None or not valid[i] else float(ref[i]),
                    "score": float(step.score[i]) if valid[i] else None,
                    "reward": float(reward[i]),
                }
                f.write(json.dumps(record) + "\n")


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
