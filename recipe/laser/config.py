"""The recipe's config block ``laser:`` (paper symbols), validated at startup."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# z_c defaults by tokenizer family: a special token the model never emits (paper sec. 3).
DEFAULT_ZC_TOKENS = {
    "qwen2": "<|vision_start|>",  # 151652 in Qwen2/2.5/3 vocabularies
    "llama3": "<|reserved_special_token_0|>",  # 128002 in the Llama-3 vocabulary (OctoThinker)
}


class LaSeRConfigError(ValueError):
    pass


@dataclass(frozen=True)
class LaSeRConfig:
    """``laser.*`` keys. See README "Paper hyperparameters and their keys"."""

    enable: bool = False
    alpha: float = 0.1  # weight of the self-rewarding MSE in the actor loss (eq. 13)
    beta_v: float = 0.1  # scale of the score r_s = beta_v (log pi(z_c|x,y,EOS) - c_ref) (eq. 11)
    c_ref: Any = -23.0  # float < 0 (constant), "exact" (reference model), or "auto" (measured once)
    tau: float = 0.1  # weight of the self-rewarding advantage (eq. 15); 0 turns blending off
    std_threshold: float = 0.1  # groups whose score std is not above it keep the verifier advantage
    zc_token_id: int | None = None  # None: the tokenizer family's default (DEFAULT_ZC_TOKENS)
    reasoning_warmup_steps: int = 0  # MSE from step reasoning_warmup_steps + 1
    self_reward_warmup_steps: int = 0  # blending from step reasoning_warmup + self_reward_warmup + 1
    class_balance: bool = True  # eq. 14 class weights
    verify_threshold: float = 0.5  # r_s above it counts as "judged correct" in the metrics

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
        if isinstance(self.c_ref, str):
            if self.c_ref not in ("exact", "auto"):
                raise LaSeRConfigError(f"laser.c_ref={self.c_ref!r}: expected a negative number, 'exact' or 'auto'")
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
    """The z_c id: given, or the tokenizer family's default; checked against the vocabulary and
    every id that ends or pads a response."""
    zc = config.zc_token_id
    if zc is None:
        vocab = tokenizer.get_vocab()
        for token in DEFAULT_ZC_TOKENS.values():
            if token in vocab:
                zc = vocab[token]
                break
        else:
            raise LaSeRConfigError(
                "laser.zc_token_id is not set and the tokenizer has none of the default z_c tokens "
                f"{list(DEFAULT_ZC_TOKENS.values())}: set laser.zc_token_id to a special token the model never emits"
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
