# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation metrics over n sampled solutions per problem: self-verification and inference-time
scaling with the last-token self-reward. Functions on per-sample arrays, independent of the
generation backend; the self-verification figures are the trainer's own
(``recipe.laser.core_algos.self_verification_metrics``), so training and evaluation share one
definition of TPR, TNR and F1.

Per sample: ``correct`` (bool), ``key`` (the sample's vote: answers the verifier judges equivalent
share one key, see ``equivalence_keys``; None when no answer was extracted, which does not vote),
``score`` (r_s; NaN for a sample without a score). Ties are resolved in expectation (a uniform random
pick among the tied answers), so every figure is deterministic and unbiased.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

CORRECT_KEY = "correct"


def equivalence_keys(
    answers: list[str | None], correct: list[bool], match: Callable[[str, str], tuple]
) -> list[str | None]:
    """Vote keys for one problem's samples: every correct answer votes ``"correct"``; wrong answers
    vote together when the verifier judges them equivalent to each other ("1/2" with "0.5"), each
    group under its first member's text; a sample without an answer gets None. ``match(a, b)``
    returns a tuple whose first item is the verdict (``reward.answers_match``); each distinct pair
    of texts is checked once."""
    keys: list[str | None] = []
    representatives: list[str] = []
    cache: dict[tuple[str, str], bool] = {}
    for answer, ok in zip(answers, correct, strict=True):
        if answer is None:
            keys.append(None)
        elif ok:
            keys.append(CORRECT_KEY)
        else:
            for rep in representatives:
                if (answer, rep) not in cache:
                    cache[(answer, rep)] = answer == rep or bool(match(answer, rep)[0])
                if cache[(answer, rep)]:
                    keys.append("answer:" + rep)
                    break
            else:
                representatives.append(answer)
                keys.append("answer:" + answer)
    return keys


def _vote(keys: list[str | None], weights: np.ndarray) -> float:
    """Probability that the top-weighted key is the correct one (ties shared); 0 with no vote."""
    totals: dict[str, float] = {}
    for key, w in zip(keys, weights, strict=True):
        if key is not None:
            totals[key] = totals.get(key, 0.0) + float(w)
    if not totals:
        return 0.0
    best = max(totals.values())
    winners = [k for k, v in totals.items() if math.isclose(v, best, rel_tol=1e-12, abs_tol=1e-12)]
    return (CORRECT_KEY in winners) / len(winners)


def majority_vote(keys, idx) -> float:
    return _vote([keys[i] for i in idx], np.ones(len(idx)))


def weighted_vote(keys, scores, idx) -> float:
    """Votes weighted by r_s clipped to [0, 1] (samples without a score: weight 0)."""
    w = np.nan_to_num(np.clip(scores[idx], 0.0, 1.0), nan=0.0)
    return _vote([keys[i] for i in idx], w)


def best_of_n(correct, scores, idx) -> float:
    """Correctness of the highest-scoring sample (ties shared; samples without a score rank last)."""
    s = np.where(np.isnan(scores[idx]), -np.inf, scores[idx])
    top = np.flatnonzero(s == s.max())
    return float(np.mean(correct[np.asarray(idx)[top]]))


def pass_at_k(correct, idx) -> float:
    return float(np.any(correct[idx]))


# the inference-time scaling methods, with the label the report prints for each
SCALING_METHODS = {
    "majority": "Maj@k",
    "weighted": "Self-reward weighted@k",
    "best_of_n": "Best-of-k (r_s)",
    "pass_at_k": "Pass@k",
}


def scaling_curve(correct, keys, scores, ks, resamples: int = 64, seed: int = 0) -> dict[str, dict[int, float]]:
    """Mean over ``resamples`` draws of k of the n samples (without replacement; k = n uses all once)
    of majority voting, self-reward-weighted voting, best-of-N and pass@k, for one problem."""
    correct = np.asarray(correct, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    n = len(correct)
    rng = np.random.default_rng(seed)
    out = {name: {} for name in SCALING_METHODS}
    for k in ks:
        if k > n:
            raise ValueError(f"k={k} is larger than the number of samples n={n}")
        draws = [np.arange(n)] if k == n else [rng.choice(n, size=k, replace=False) for _ in range(resamples)]
        out["majority"][k] = float(np.mean([majority_vote(keys, d) for d in draws]))
        out["weighted"][k] = float(np.mean([weighted_vote(keys, scores, d) for d in draws]))
        out["best_of_n"][k] = float(np.mean([best_of_n(correct, scores, d) for d in draws]))
        out["pass_at_k"][k] = float(np.mean([pass_at_k(correct, d) for d in draws]))
    return out


def verification_f1(correct, score, population, threshold: float = 0.5) -> dict[str, float]:
    """TPR, TNR, F1 (their harmonic mean, the paper's definition) and AUROC over ``population``; a
    sample without a score (NaN) is judged incorrect. The trainer's formulas, on numpy input."""
    import torch

    from recipe.laser.core_algos import self_verification_metrics

    population = np.asarray(population, dtype=bool)
    m = self_verification_metrics(
        torch.as_tensor(np.asarray(score, dtype=np.float64)),
        torch.as_tensor(np.asarray(correct, dtype=np.float64)),
        torch.as_tensor(population),
        threshold,
    )
    out = {k: float(m[k]) for k in ("tpr", "tnr", "f1", "auroc")}
    out["n"] = int(population.sum())
    return out


def within_problem_verification(correct, score, problem) -> dict[str, float]:
    """How well r_s tells a right answer from a wrong one to the same problem: the share of problems
    with both right and wrong samples (``mixed_fraction``), the AUROC over (right, wrong) pairs of the
    same problem (``auroc``, scored samples; NaN without such a pair) and the number of those pairs.
    A score that only recognises which problems are easy scores no better than 0.5 here."""
    import torch

    from recipe.laser.core_algos import binary_auroc

    correct = np.asarray(correct, dtype=bool)
    score = np.asarray(score, dtype=float)
    _, group = np.unique(np.asarray(problem), return_inverse=True)
    right = np.bincount(group, weights=correct)
    size = np.bincount(group)
    scored = ~np.isnan(score)
    right_scored = np.bincount(group, weights=correct & scored, minlength=len(size))
    wrong_scored = np.bincount(group, weights=~correct & scored, minlength=len(size))
    auroc = binary_auroc(
        torch.as_tensor(np.nan_to_num(score)), torch.as_tensor(correct), torch.as_tensor(scored), torch.as_tensor(group)
    )
    return {
        "mixed_fraction": float(np.mean((right > 0) & (right < size))),
        "auroc": float(auroc),
        "pairs": int((right_scored * wrong_scored).sum()),
    }


def surface_feature_auroc(correct, features: dict[str, list], problem) -> dict[str, dict[str, float]]:
    """For each feature of a sample that is not its answer's correctness (task family, response
    length, answer length, format), the AUROC of the best predictor of correctness that reads that
    feature alone: each value scored by the accuracy of the samples with that value (fitted on these
    samples: over all samples no function of the feature ranks better). Over all samples and within
    problems, the figures to set next to r_s's: a score above them reads more than the feature."""
    import torch

    from recipe.laser.core_algos import binary_auroc

    correct = np.asarray(correct, dtype=bool)
    _, group = np.unique(np.asarray(problem), return_inverse=True)
    everyone = torch.ones(len(correct), dtype=torch.bool)
    out = {}
    label = torch.as_tensor(correct)
    for name, values in features.items():
        _, value_of = np.unique(np.array([repr(v) for v in values]), return_inverse=True)
        accuracy = np.bincount(value_of, weights=correct) / np.bincount(value_of)  # per distinct value
        predictor = torch.as_tensor(accuracy[value_of], dtype=torch.float64)
        out[name] = {
            "auroc": float(binary_auroc(predictor, label, everyone)),
            "within_problem_auroc": float(binary_auroc(predictor, label, everyone, torch.as_tensor(group))),
            "values": len(accuracy),
        }
    return out


def expected_calibration_error(correct, score, bins: int = 10) -> float:
    """ECE of r_s clipped to [0, 1] read as the probability of being correct (scored samples only)."""
    correct = np.asarray(correct, dtype=float)
    s = np.asarray(score, dtype=float)
    keep = ~np.isnan(s)
    if not keep.any():
        return float("nan")
    p, y = np.clip(s[keep], 0.0, 1.0), correct[keep]
    which = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(ece)
