# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The recipe's config block ``laser:`` (paper symbols), validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from recipe.laser.families import FAMILIES, ModelFamily, get_family


class LaSeRConfigError(ValueError):
    pass


# mse: the paper's (eq. 13) on r_s; bce: its ablation (eq. 16) as a two-class cross-entropy on p(z_c)
SELF_REWARD_LOSSES = ("mse", "bce")


@dataclass(frozen=True)
class LaSeRConfig:
    """``laser.*`` keys; ``config/laser_trainer.yaml`` documents each one, the README maps them to the paper."""

    enable: bool = False
    family: str | None = None  # recipe/laser/families.py; None: inferred from the model at start-up
    alpha: float = 0.1  # weight of the self-rewarding MSE in the actor loss (eq. 13)
    beta_v: float = 0.1  # scale of the score r_s = beta_v (log pi(z_c|x,y,EOS) - c_ref) (eq. 11)
    c_ref: Any = None  # float < 0 (constant), "exact" (reference model), "auto" (measured once), None: the family's
    tau: float = 0.1  # weight of the self-rewarding advantage (eq. 15); 0 turns blending off
    std_threshold: float = 0.1  # groups whose score std is not above it keep the verifier advantage
    zc_token_id: int | None = None  # None: the family's z_c token
    reasoning_warmup_steps: int = 0  # MSE from step reasoning_warmup_steps + 1
    self_reward_warmup_steps: int = 0  # blending from step reasoning_warmup + self_reward_warmup + 1
    class_balance: bool = True  # eq. 14 class weights
    self_reward_loss: str = "mse"  # mse: eq. 13 on r_s; bce: cross-entropy on p(z_c) (the eq. 16 ablation)
    verify_threshold: float = 0.5  # r_s above it counts as "judged correct" in the metrics
    chat_template_file: str | None = None  # a jinja chat template for a tokenizer that has none
    score_dump_path: str | None = None  # a jsonl of every response's z_c log-prob and score (smoke tests)

    @classmethod
    def from_config(cls, node) -> LaSeRConfig:
        raw = dict(node or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise LaSeRConfigError(f"laser: unknown keys {unknown}; expected some of {sorted(known)}")
        config = cls(**raw)
        config.validate()
        return config

    def with_family(self, family: ModelFamily) -> LaSeRConfig:
        """The family recorded, and c_ref taken from it when not set."""
        return replace(self, family=family.name, c_ref=family.c_ref if self.c_ref is None else self.c_ref)

    @property
    def c_ref_mode(self) -> str:
        if isinstance(self.c_ref, str):
            return self.c_ref
        return "constant"

    def validate(self) -> None:
        for name in ("alpha", "beta_v", "tau", "std_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise LaSeRConfigError(f"laser.{name}={value!r}: expected a number >= 0")
        if self.beta_v == 0:
            raise LaSeRConfigError("laser.beta_v=0: the score would be constant; expected > 0 (paper: 0.1)")
        if self.tau > 1:
            raise LaSeRConfigError(f"laser.tau={self.tau}: expected a mixing weight in [0, 1]")
        for name in ("reasoning_warmup_steps", "self_reward_warmup_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise LaSeRConfigError(f"laser.{name}={value!r}: expected an integer >= 0")
        if self.self_reward_loss not in SELF_REWARD_LOSSES:
            raise LaSeRConfigError(
                f"laser.self_reward_loss={self.self_reward_loss!r}: expected one of {list(SELF_REWARD_LOSSES)}"
            )
        if self.self_reward_loss == "bce" and self.c_ref == "exact":
            raise LaSeRConfigError(
                "laser.self_reward_loss=bce scores with p(z_c) itself and reads no c_ref: laser.c_ref=exact would "
                "start a reference model for nothing; leave laser.c_ref unset"
            )
        if self.family is not None and self.family not in FAMILIES:
            raise LaSeRConfigError(f"laser.family={self.family!r}: expected one of {sorted(FAMILIES)} or null")
        if self.c_ref is None or isinstance(self.c_ref, str):
            if self.c_ref not in (None, "exact", "auto"):
                raise LaSeRConfigError(
                    f"laser.c_ref={self.c_ref!r}: expected a negative number, 'exact', 'auto' or null (the family's)"
                )
        elif not isinstance(self.c_ref, (int, float)) or self.c_ref >= 0:
            raise LaSeRConfigError(
                f"laser.c_ref={self.c_ref!r}: a constant must be a log-prob, i.e. < 0 (paper: -23 for Qwen2.5, "
                "-25 for OctoThinker); or use 'exact' / 'auto'"
            )

    def mse_active(self, step: int) -> bool:
        """Authors' schedule: MSE from step reasoning_warmup + 1 (steps count from 1)."""
        return self.enable and self.alpha > 0 and step > self.reasoning_warmup_steps

    def blend_active(self, step: int) -> bool:
        return self.enable and self.tau > 0 and step > self.reasoning_warmup_steps + self.self_reward_warmup_steps


def resolve_zc_token(config: LaSeRConfig, tokenizer, stop_token_ids: set[int]) -> int:
    """The z_c id: given, else the family's token, else the first family token in the vocabulary;
    checked against the vocabulary and every id that ends or pads a response."""
    zc = config.zc_token_id
    if zc is None:
        vocab = tokenizer.get_vocab()
        candidates = [get_family(config.family).zc_token] if config.family else []
        candidates += [f.zc_token for f in FAMILIES.values()]
        zc = next((vocab[t] for t in candidates if t in vocab), None)
        if zc is None:
            raise LaSeRConfigError(
                "laser.zc_token_id is not set and the tokenizer has none of the families' z_c tokens "
                f"{sorted({f.zc_token for f in FAMILIES.values()})}: set laser.zc_token_id to a special token the "
                "model never emits"
            )
    vocab_size = len(tokenizer)
    if not isinstance(zc, int) or not 0 <= zc < vocab_size:
        raise LaSeRConfigError(f"laser.zc_token_id={zc!r}: outside the tokenizer's vocabulary (size {vocab_size})")
    reserved = set(stop_token_ids) | {tokenizer.eos_token_id, tokenizer.pad_token_id}
    if zc in reserved:
        raise LaSeRConfigError(
            f"laser.zc_token_id={zc} is an end, stop or pad token ({sorted(t for t in reserved if t is not None)}); "
            "z_c must be a token the model never emits"
        )
    return zc
