"""LaSeR on verl 0.9.1's v1 trainer: ``trainer.v1.trainer_mode=laser``.

A subclass of verl's ``PPOTrainerSync`` that overrides three step methods and adds nothing to the
loop itself (verl's ``fit``/``_step_once`` run unchanged):

1. ``_compute_old_log_prob``: first append z_c after each finished response in TransferQueue
   (``responses``/``input_ids`` get z_c, ``position_ids`` the next position, the per-token masks
   and scores a 0). The reward was computed in the agent loop, before this, so the verifier never
   sees z_c. Then verl's own pass: its log-prob at the new last slot is log pi(z_c | x, y, EOS),
   and the same holds in the reference and update passes. Unfinished responses get nothing and
   are invalid for LaSeR.
2. ``_compute_advantage``: verl's GRPO advantages, then the score r_s from the old-log-prob pass
   of this step (the authors read the wrong slot here, their bug B1), self-verification metrics,
   class weights over the step's valid responses for the MSE (written per sample for the loss),
   and after the warm-ups the blend (1 - tau) A_v + tau A_self. It must sit after the old-log-prob
   pass: the score does not exist before the actor's forward.
3. ``init``: after verl's setup, validate the recipe config against the tokenizer and install
   ``LaSeRLoss`` (verl's PPO loss + alpha MSE) in the actor workers with ``set_loss_fn``.

With ``laser.enable=false`` the trainer is verl's ``PPOTrainerSync`` (the GRPO baseline).
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import numpy as np
import torch
import transfer_queue as tq
from tensordict import TensorDict

from recipe.laser import core_algos
from recipe.laser.config import LaSeRConfig, LaSeRConfigError, resolve_zc_token
from recipe.laser.loss import LaSeRLoss
from recipe.laser.reward import is_exception_error
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

# Per-response-token fields that verl 0.9.1's agent loop stores in TransferQueue, and what the
# z_c slot gets in each (tests/test_laser_trainer_on_cpu.py checks this list against verl).
RESPONSE_TOKEN_FIELDS_FILL = {"response_mask": 0, "loss_mask": 0, "rm_scores": 0.0, "rollout_log_probs": 0.0}
SEQUENCE_FIELDS = ("input_ids", "position_ids")
C_REF_STATE_FILE = "laser_c_ref.json"


def append_to_nested(nested: torch.Tensor, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Append ``values[i]`` to row i of a jagged nested tensor where ``mask[i]``; vectorised.

    Args:
        nested: jagged nested tensor of B rows (1-D rows).
        values: (B,) what to append.
        mask: (B,) bool.
    """
    flat, offsets = nested.values(), nested.offsets()
    lengths = offsets.diff()
    add = mask.to(torch.long)
    new_lengths = lengths + add
    new_offsets = torch.zeros_like(offsets)
    new_offsets[1:] = new_lengths.cumsum(0)
    shift = (new_offsets[:-1] - offsets[:-1]).repeat_interleave(lengths)  # appended rows before each value
    out = flat.new_empty(int(new_offsets[-1]))
    out[torch.arange(flat.numel(), device=flat.device) + shift] = flat
    out[new_offsets[1:][mask] - 1] = values[mask].to(flat.dtype)
    return torch.nested.nested_tensor_from_jagged(out, new_offsets)


def last_of_nested(nested: torch.Tensor) -> torch.Tensor:
    """(B,) the last element of each row (rows must be non-empty)."""
    return nested.values()[nested.offsets()[1:] - 1]


def row_sums(nested: torch.Tensor) -> torch.Tensor:
    lengths = nested.offsets().diff()
    rows = torch.arange(lengths.numel(), device=lengths.device).repeat_interleave(lengths)
    return torch.zeros(lengths.numel(), dtype=nested.dtype).index_add_(0, rows, nested.values())


@register_trainer("laser")
class LaSeRTrainer(PPOTrainerSync):
    def __init__(self, config):
        super().__init__(config)
        self.laser = LaSeRConfig.from_config(config.get("laser"))
        self.zc_token_id: int | None = None
        self.end_token_ids: torch.Tensor | None = None
        self.c_ref: float | None = None if self.laser.c_ref_mode in ("exact", "auto") else float(self.laser.c_ref)
        if self.laser.enable:
            self._check_supported(config)

    # -- setup -------------------------------------------------------------------------------------
    @staticmethod
    def _check_supported(config) -> None:
        temperature = config.actor_rollout_ref.rollout.temperature
        if temperature != 1.0:
            # verl computes log-probs from logits / T; r_s is defined on the untempered policy.
            raise LaSeRConfigError(
                f"actor_rollout_ref.rollout.temperature={temperature}: LaSeR's score is defined at temperature 1 "
                "(verl's log-probs are computed at the rollout temperature); set it to 1.0"
            )
        if config.algorithm.adv_estimator != "grpo":
            raise LaSeRConfigError(
                f"algorithm.adv_estimator={config.algorithm.adv_estimator}: the self-rewarding advantage is defined "
                "over GRPO's prompt groups; use grpo"
            )
        if config.actor_rollout_ref.model.get("lora_rank", 0) or config.get("distillation", {}).get("enabled", False):
            raise LaSeRConfigError("LaSeR with LoRA or distillation is not supported by this recipe")

    def init(self):
        super().init()
        if not self.laser.enable:
            return
        from transformers import GenerationConfig

        # a response is finished when it ends with any id the rollout stops on
        stop_ids = {self.tokenizer.eos_token_id}
        try:
            eos = GenerationConfig.from_pretrained(self.config.actor_rollout_ref.model.path).eos_token_id
            stop_ids |= set(eos if isinstance(eos, (list, tuple)) else [eos])
        except OSError:  # no generation_config.json: the tokenizer's EOS is the stop id
            pass
        stop_ids.discard(None)
        self.zc_token_id = resolve_zc_token(self.laser, self.tokenizer, stop_ids)
        self.end_token_ids = torch.tensor(sorted(stop_ids), dtype=torch.long)
        if self.laser.c_ref_mode == "exact" and not self.use_reference_policy:
            raise LaSeRConfigError("laser.c_ref=exact needs the reference worker (run_laser.sh's presets enable it)")
        if self.laser.c_ref_mode == "auto":
            self.c_ref = self._load_c_ref()
        self._install_loss()
        print(
            f"[laser] z_c={self.zc_token_id} ({self.tokenizer.convert_ids_to_tokens(self.zc_token_id)}), "
            f"end tokens={self.end_token_ids.tolist()}, c_ref={self.laser.c_ref} ({self.laser.c_ref_mode}), "
            f"alpha={self.laser.alpha}, beta_v={self.laser.beta_v}, tau={self.laser.tau}"
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

    # -- c_ref = auto ------------------------------------------------------------------------------
    def _c_ref_state_path(self) -> Path:
        return Path(self.config.trainer.default_local_dir) / C_REF_STATE_FILE

    def _load_c_ref(self) -> float | None:
        path = self._c_ref_state_path()
        if path.is_file():
            value = float(json.loads(path.read_text())["c_ref"])
            print(f"[laser] c_ref=auto: using {value:.4f} measured earlier ({path})")
            return value
        return None

    def _measure_c_ref(self, ref_zc: torch.Tensor | None, old_zc: torch.Tensor, valid: torch.Tensor) -> None:
        """Mean reference log-prob of z_c over this step's finished responses, once."""
        if ref_zc is not None:
            source = ref_zc
        elif self.global_steps == 1:
            source = old_zc  # before any update, the actor is the reference model
        else:
            raise LaSeRConfigError(
                "laser.c_ref=auto: step 1 had no finished response to measure c_ref on, and without a reference "
                "worker it cannot be measured later (the actor has moved); set laser.c_ref to a number, or enable "
                "the reference model (actor_rollout_ref.actor.use_kl_loss=True with kl_loss_coef=0)"
            )
        if not bool(valid.any()):
            return  # no finished response yet: try again next step
        self.c_ref = float(source[valid].mean())
        path = self._c_ref_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"c_ref": self.c_ref, "step": self.global_steps, "n": int(valid.sum())}))
        print(f"[laser] c_ref=auto: measured {self.c_ref:.4f} on {int(valid.sum())} responses (saved to {path})")
        self._install_loss()

    # -- 1. z_c into every forward pass ----------------------------------------------------------------
    def _append_zc(self, batch) -> None:
        fields = ["responses", *SEQUENCE_FIELDS, *RESPONSE_TOKEN_FIELDS_FILL]
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        responses = data["responses"]
        lengths = responses.offsets().diff()
        last = last_of_nested(responses)
        finished = (lengths > 0) & torch.isin(last, self.end_token_ids)
        zc = torch.full_like(lengths, self.zc_token_id)
        out = {
            "responses": append_to_nested(responses, zc, finished),
            "input_ids": append_to_nested(data["input_ids"], zc, finished),
            "position_ids": append_to_nested(data["position_ids"], last_of_nested(data["position_ids"]) + 1, finished),
        }
        for name, fill in RESPONSE_TOKEN_FIELDS_FILL.items():
            nested = data[name]
            out[name] = append_to_nested(nested, torch.full((len(lengths),), fill, dtype=nested.dtype), finished)
        out["laser_valid"] = finished.to(torch.int64)
        tq.kv_batch_put(keys=batch.keys, partition_id=batch.partition_id, fields=TensorDict(out, batch_size=len(lengths)))

    def _compute_old_log_prob(self, batch, metrics):
        if self.laser.enable:
            self._append_zc(batch)
        return super()._compute_old_log_prob(batch, metrics)

    # -- 2. scores, MSE targets, blending ----------------------------------------------------------------
    def _compute_advantage(self, batch, metrics):
        batch = super()._compute_advantage(batch, metrics)
        metrics.update(self._verifier_metrics(batch))
        if not self.laser.enable:
            return batch
        exact = self.laser.c_ref_mode == "exact"
        need_ref = self.use_reference_policy and self.laser.c_ref_mode in ("exact", "auto")
        fields = ["uid", "old_log_probs", "rm_scores", "advantages", "laser_valid"]
        if need_ref:
            fields.append("ref_log_prob")
        dump_path = os.environ.get("LASER_SCORE_DUMP")  # debugging and tests: per-sample scores as jsonl
        if dump_path:
            fields.append("input_ids")
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
        valid = data["laser_valid"].bool()
        old_zc = last_of_nested(data["old_log_probs"])
        ref_zc = last_of_nested(data["ref_log_prob"]) if need_ref else None
        reward = row_sums(data["rm_scores"])
        group = torch.as_tensor(np.unique(np.array(data["uid"], dtype=object), return_inverse=True)[1])  # prompt ids
        step = self.global_steps

        if self.laser.c_ref_mode == "auto" and self.c_ref is None:
            self._measure_c_ref(ref_zc, old_zc, valid)
        c_ref = ref_zc if exact else self.c_ref
        out = {}
        if c_ref is None:  # auto, nothing finished yet: no score this step
            score = torch.zeros_like(old_zc)
            valid = torch.zeros_like(valid)
        else:
            score = core_algos.self_reward_score(old_zc, c_ref, self.laser.beta_v)

        if dump_path:
            self._dump_scores(dump_path, data["input_ids"], old_zc, ref_zc, score, reward, valid)

        # MSE targets for the update pass: weight w_i / N_valid, 0 when inactive or invalid.
        n_valid = valid.sum().clamp(min=1).to(score.dtype)
        if self.laser.class_balance:
            weight = core_algos.class_balance_weights(reward, valid)
        else:
            weight = valid.to(score.dtype)
        mse_on = self.laser.mse_active(step) and c_ref is not None
        num_minibatches = max(1, self.config.data.train_batch_size // self.config.actor_rollout_ref.actor.ppo_mini_batch_size)
        out["laser_mse_weight"] = weight / n_valid * num_minibatches * float(mse_on)
        out["laser_target"] = reward.to(score.dtype)
        if exact:
            out["laser_ref_zc_log_prob"] = ref_zc

        # Blending after both warm-ups.
        use_self = torch.zeros_like(valid)
        if self.laser.blend_active(step) and c_ref is not None:
            self_adv, use_self = core_algos.self_reward_advantages(score, valid, group, self.laser.std_threshold)
            adv_nested = data["advantages"]
            lengths = adv_nested.offsets().diff()
            rows = torch.arange(len(lengths)).repeat_interleave(lengths)
            flat = core_algos.blend_advantages(adv_nested.values(), self_adv[rows], use_self[rows], self.laser.tau)
            out["advantages"] = torch.nested.nested_tensor_from_jagged(flat, adv_nested.offsets())
        # the returned meta lists every persisted field: the update pass fetches exactly those
        batch = tq.kv_batch_put(
            keys=batch.keys, partition_id=batch.partition_id, fields=TensorDict(out, batch_size=len(score))
        )
        metrics.update(self._laser_metrics(score, reward, valid, use_self, group, mse_on, ref_zc, c_ref))
        return batch

    @staticmethod
    def _verifier_metrics(batch) -> dict:
        """Share of this step's responses whose verdict came with a timeout, a parse failure, a
        format-gate failure or an error (recipe/laser/reward.py's fields; absent for other rewards)."""
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        infos = [(e or {}).get("reward_extra_info", {}) or {} for e in np.array(data["extra_fields"], dtype=object).ravel()]
        if not infos or "timed_out" not in infos[0]:
            return {}
        n = len(infos)
        return {
            "verifier/timeout_rate": sum(bool(i.get("timed_out")) for i in infos) / n,
            "verifier/parse_fail_rate": sum(bool(i.get("parse_failed")) for i in infos) / n,
            "verifier/format_fail_rate": sum(not i.get("format_ok", True) for i in infos) / n,
            # anything else in "error": bad input or an exception caught inside compute_score
            "verifier/error_rate": sum(is_exception_error(str(i.get("error", ""))) for i in infos) / n,
        }

    def _dump_scores(self, path, input_ids, old_zc, ref_zc, score, reward, valid) -> None:
        offsets = input_ids.offsets().tolist()
        flat = input_ids.values().tolist()
        with open(path, "a") as f:
            for i in range(len(offsets) - 1):
                record = {
                    "step": self.global_steps,
                    "input_ids": flat[offsets[i] : offsets[i + 1]],
                    "zc_log_prob": float(old_zc[i]),
                    "ref_zc_log_prob": None if ref_zc is None else float(ref_zc[i]),
                    "score": float(score[i]),
                    "reward": float(reward[i]),
                    "valid": bool(valid[i]),
                }
                f.write(json.dumps(record) + "\n")

    def _update_actor(self, batch, metrics):
        batch = super()._update_actor(batch, metrics)
        if self.laser.enable and "actor/laser/mse_loss" not in metrics:
            raise RuntimeError(
                "LaSeR: the actor loss did not see the laser_* fields (no actor/laser/mse_loss metric); "
                "the MSE would be silently skipped"
            )
        return batch

    def _laser_metrics(self, score, reward, valid, use_self, group, mse_on, ref_zc, c_ref) -> dict:
        m = core_algos.self_verification_metrics(score, reward, valid, self.laser.verify_threshold)
        out = {f"laser/{k}": v for k, v in m.items()}
        out["laser/score_mean"] = score[valid].mean() if bool(valid.any()) else torch.tensor(float("nan"))
        out["laser/valid_fraction"] = valid.float().mean()
        out["laser/self_adv_group_fraction"] = group[use_self].unique().numel() / (int(group.max()) + 1)
        out["laser/mse_active"] = torch.tensor(float(mse_on))
        out["laser/blend_active"] = torch.tensor(float(self.laser.blend_active(self.global_steps)))
        if isinstance(c_ref, float):
            out["laser/c_ref"] = torch.tensor(c_ref)
        elif ref_zc is not None and bool(valid.any()):
            out["laser/c_ref"] = ref_zc[valid].mean()
        stacked = torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in out.values()]).tolist()  # one host copy
        return dict(zip(out.keys(), stacked, strict=True))
