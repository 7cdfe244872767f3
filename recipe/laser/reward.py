"""Verifier reward r_v in {0, 1}: the last ``\\boxed{}`` answer checked against the ground truth with
math-verify, behind a per-template format gate.

verl calls ``compute_score`` through ``reward.custom_reward_function`` (configured in
``config/laser_trainer.yaml``).
"""

from __future__ import annotations

from typing import Any

from recipe.laser.answers import extract_last_boxed, is_equivalent


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, **kwargs) -> dict[str, Any]:
    answer = extract_last_boxed(solution_str)
    correct = answer is not None and is_equivalent(answer, str(ground_truth))
    score = 1.0 if correct else 0.0
    return {"score": score, "acc": score, "extracted_answer": answer or "", "format_ok": answer is not None}
