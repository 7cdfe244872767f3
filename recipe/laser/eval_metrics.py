"""Evaluation metrics over n sampled solutions per problem: self-verification and inference-time
scaling with the last-token self-reward. Pure functions on per-sample arrays (numpy), so they are
independent of the generation backend.

Per sample: ``correct`` (bool, verifier), ``answer`` (normalised extracted answer, or None when
none was extracted), ``score`` (r_s; NaN for an unfinished response, which has no z_c score).

Voting keys: all correct answers of a problem are equivalent (the verifier said so), so they share
one key; a wrong answer keeps its own normalised text. Without an extracted answer a sample does
not vote. Ties are resolved in expectation (a uniform random pick among the tied answers), so the
result is deterministic and unbiased.
"""

from __future__ import annotations

import math

import numpy as np

CORRECT_KEY = "\x00correct"


def vote_keys(correct: np.ndarray, answer: list[str | None]) -> list[str | None]:
    return [None if a is None else (CORRECT_KEY if c else a) for c, a in zip(correct, answer, strict=True)]


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
    """Votes weighted by r_s clipped to [0, 1] (unfinished samples: weight 0)."""
    w = np.nan_to_num(np.clip(scores[idx], 0.0, 1.0), nan=0.0)
    return _vote([keys[i] for i in idx], w)


def best_of_n(correct, scores, idx) -> float:
    """Correctness of the highest-scoring sample (ties shared; unfinished samples rank last)."""
    s = np.where(np.isnan(scores[idx]), -np.inf, scores[idx])
    top = np.flatnonzero(s == s.max())
    return float(np.mean(correct[np.asarray(idx)[top]]))


def pass_at_k(correct, idx) -> float:
    return float(np.any(correct[idx]))


def scaling_curve(correct, answer, scores, ks, resamples: int = 64, seed: int = 0) -> dict[str, dict[int, float]]:
    """Mean over ``resamples`` draws of k of the n samples (without replacement; k = n uses all once)
    of majority voting, self-reward-weighted voting, best-of-N and pass@k, for one problem."""
    correct = np.asarray(correct, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    keys = vote_keys(correct, answer)
    n = len(correct)
    rng = np.random.default_rng(seed)
    out = {name: {} for name in ("majority", "weighted", "best_of_n", "pass_at_k")}
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
    """TPR (accuracy on correct samples), TNR (on incorrect ones) and F1 = their harmonic mean (the
    paper's definition) over ``population``; an unscored sample (NaN) counts as judged incorrect."""
    correct = np.asarray(correct, dtype=bool)
    judged = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf) > threshold
    pop = np.asarray(population, dtype=bool)
    pos, neg = correct & pop, ~correct & pop
    tpr = float((judged & pos).sum() / pos.sum()) if pos.any() else float("nan")
    tnr = float((~judged & neg).sum() / neg.sum()) if neg.any() else float("nan")
    if math.isnan(tpr) or math.isnan(tnr):
        f1 = float("nan")
    else:
        f1 = 2 * tpr * tnr / (tpr + tnr) if tpr + tnr > 0 else 0.0
    return {"tpr": tpr, "tnr": tnr, "f1": f1, "n": int(pop.sum())}


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
