# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""``laser.c_ref=auto``: c_ref measured once, on the first step with finished responses, and kept
next to the checkpoints (``laser_c_ref.json``), so that a resumed run scores with the same constant.
The record names the model and z_c it was measured for; a record for another setup is refused."""

from __future__ import annotations

import json
from pathlib import Path

from recipe.laser.atomic import write_text_atomic
from recipe.laser.config import LaSeRConfigError
from recipe.laser.core_algos import StepInputs

FILE_NAME = "laser_c_ref.json"


def load(path: Path, identity: dict) -> float | None:
    """The recorded c_ref, None when there is no record; a damaged record or one measured for
    another ``identity`` (model path, z_c id) is refused with what to do."""
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
    mismatched = {k: (state.get(k), v) for k, v in identity.items() if state.get(k) != v}
    if mismatched:
        raise LaSeRConfigError(
            f"{path}: c_ref was measured for another setup {mismatched} (saved, now); use a new "
            "trainer.default_local_dir, or delete the file to measure again"
        )
    print(f"[laser] c_ref=auto: using {value:.4f} measured at step {state.get('step')} ({path})")
    return value


def measure(inputs: StepInputs, step: int) -> tuple[float, int] | None:
    """(c_ref, responses it was measured on): the mean reference log-prob of z_c over the step's
    finished real responses, or the actor's own at step 1 (before any update the actor is the
    reference model). None when nothing finished yet (the next step tries again)."""
    valid = inputs.valid & ~inputs.padding
    if not bool(valid.any()):
        return None
    if inputs.ref_zc_log_prob is not None:
        source = inputs.ref_zc_log_prob
    elif step == 1:
        source = inputs.zc_log_prob
    else:
        raise LaSeRConfigError(
            "laser.c_ref=auto: step 1 had no finished response to measure c_ref on, and without a reference "
            "worker it cannot be measured later (the actor has moved); set laser.c_ref to a number, or enable "
            "the reference model (actor_rollout_ref.actor.use_kl_loss=True with kl_loss_coef=0)"
        )
    return float(source[valid].mean()), int(valid.sum())


def save(path: Path, c_ref: float, step: int, n: int, identity: dict) -> None:
    write_text_atomic(path, json.dumps({"c_ref": c_ref, "step": step, "n": n, **identity}))  # never half a record
    print(f"[laser] c_ref=auto: measured {c_ref:.4f} on {n} responses (saved to {path})")
