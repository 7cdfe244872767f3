# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""``laser.score_dump_path``: one JSON line per real response of every step, with its tokens (prompt +
response + z_c), the z_c log-prob the trainer read, its score and verdict. ``scripts/check_score_dump.py``
recomputes the log-probs with a plain transformers forward."""

from __future__ import annotations

import json

import torch


def score_dump_lines(
    step: int,
    input_ids: torch.Tensor,
    response_lengths: list[int],
    zc_log_prob: torch.Tensor,
    ref_zc_log_prob: torch.Tensor | None,
    score: torch.Tensor,
    reward: torch.Tensor,
    valid: torch.Tensor,
    padding: torch.Tensor,
) -> list[str]:
    """JSON lines of the real rows (padding rows are left out).

    Args: input_ids nested (B rows); response_lengths B ints; zc_log_prob, score, reward (B,);
    ref_zc_log_prob (B,) or None; valid, padding (B,) bool. A value without a z_c slot is null.
    """
    offsets, flat = input_ids.offsets().tolist(), input_ids.values().tolist()
    lines = []
    for i in range(len(offsets) - 1):
        if bool(padding[i]):
            continue
        scored = bool(valid[i])
        record = {
            "step": step,
            "input_ids": flat[offsets[i] : offsets[i + 1]],
            "response_length": response_lengths[i],
            "valid": scored,
            "zc_log_prob": float(zc_log_prob[i]) if scored else None,
            "ref_zc_log_prob": None if ref_zc_log_prob is None or not scored else float(ref_zc_log_prob[i]),
            "score": float(score[i]) if scored else None,
            "reward": float(reward[i]),
        }
        lines.append(json.dumps(record) + "\n")
    return lines
