"""LaSeR's math: pure, vectorised torch functions (no Python loops over samples, no host syncs).

Paper: Yang et al., "LaSeR: Reinforcement Learning with Last-Token Self-Rewarding",
arXiv 2510.14943. Symbols as in the paper:

- z_c:    a token the policy never emits, scored right after the response's end token.
- beta_v: scale of the self-rewarding score (eq. 11).
- c_ref:  the reference log-prob of z_c, a constant (about -23 for Qwen2.5) or the reference
          model's value at that position (eqs. 11-13, sec. 2.4 of our notes).
- alpha:  weight of the self-rewarding MSE in the actor loss (eq. 13).
- tau:    mixing weight of the self-rewarding advantage (eq. 15).

Shapes: B = number of responses in the batch, T = response length.
"""

from __future__ import annotations

import torch

GROUP_STD_EPS = 1e-6  # verl's GRPO epsilon: (r - mean) / (std + eps)


def self_reward_score(zc_log_prob: torch.Tensor, c_ref: float | torch.Tensor, beta_v: float) -> torch.Tensor:
    """Last-token self-rewarding score r_s = beta_v * (log pi(z_c | x, y, EOS) - c_ref)   (eq. 11, 13).

    Args:
        zc_log_prob: (B,) log-prob of z_c at the slot after each response's end token.
        c_ref: a float (constant mode) or a (B,) tensor of the reference model's log-prob of z_c
            at the same slot (exact mode).
        beta_v: scale.
    Returns:
        (B,) score; for a correct response the MSE drives it to 1, for an incorrect one to 0.
    """
    return beta_v * (zc_log_prob - c_ref)


def class_balance_weights(verifier_reward: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per-sample class weights of eq. 14: w_c = N / (2 N_c), w_i = N / (2 N_i).

    A sample is "correct" when its verifier reward is above 0.5 (rewards are {0, 1} for the
    rule verifier). Each non-empty class then carries half of the total weight.

    Args:
        verifier_reward: (B,) r_v.
        valid: (B,) bool, finished responses that carry a z_c score.
    Returns:
        (B,) weights: N/(2 N_c) for valid correct, N/(2 N_i) for valid incorrect, 0 for invalid
        samples and for samples of an empty class.
    """
    valid = valid.bool()
    correct = (verifier_reward > 0.5) & valid
    incorrect = ~(verifier_reward > 0.5) & valid
    n = valid.sum().to(verifier_reward.dtype)
    n_c = correct.sum().to(verifier_reward.dtype)
    n_i = incorrect.sum().to(verifier_reward.dtype)
    w_c = torch.where(n_c > 0, n / (2 * n_c.clamp(min=1)), torch.zeros_like(n))
    w_i = torch.where(n_i > 0, n / (2 * n_i.clamp(min=1)), torch.zeros_like(n))
    zeros = torch.zeros_like(verifier_reward)
    return torch.where(correct, w_c, torch.where(incorrect, w_i, zeros))


def self_reward_mse_loss(
    score: torch.Tensor,
    verifier_reward: torch.Tensor,
    valid: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Self-rewarding MSE (eq. 12, re-weighted as eq. 14):
    sum_{valid i} w_i (r_s,i - r_v,i)^2 / N_valid, and 0 when nothing is valid.

    Args:
        score: (B,) r_s (differentiable).
        verifier_reward: (B,) r_v.
        valid: (B,) bool.
        weight: (B,) w_i, or None for 1.
    Returns:
        scalar loss.
    """
    valid = valid.bool()
    sq = (score - verifier_reward.to(score.dtype)) ** 2
    if weight is not None:
        sq = sq * weight.to(score.dtype)
    total = torch.where(valid, sq, torch.zeros_like(sq)).sum()
    return total / valid.sum().clamp(min=1).to(score.dtype)


def _group_ids(group_index: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Dense 0..G-1 ids for arbitrary integer group labels, and G (an upper bound: B)."""
    _, dense = torch.unique(group_index, return_inverse=True)
    return dense, group_index.numel()


def self_reward_advantages(
    score: torch.Tensor,
    valid: torch.Tensor,
    group_index: torch.Tensor,
    std_threshold: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Self-rewarding advantage A_self (eq. 15, second term) and where to use it.

    The score is clipped to [0, 1] and normalised within each prompt's group over its VALID
    samples: (s - mean) / (std + 1e-6), std unbiased as in verl's GRPO. Unfinished responses take
    no part in their group's statistics (the authors counted them as 0, bug B8).

    Args:
        score: (B,) r_s.
        valid: (B,) bool.
        group_index: (B,) integer group id (one per prompt).
        std_threshold: a group whose score std is not above it keeps the verifier advantage.
    Returns:
        adv: (B,) A_self (0 where not used).
        use_self: (B,) bool, True for valid samples of groups with >= 2 valid samples and
            std > std_threshold.
    """
    valid = valid.bool()
    s = score.clamp(0.0, 1.0)
    dense, size = _group_ids(group_index)
    v = valid.to(s.dtype)
    count = torch.zeros(size, dtype=s.dtype, device=s.device).index_add_(0, dense, v)
    total = torch.zeros_like(count).index_add_(0, dense, s * v)
    mean = total / count.clamp(min=1)
    dev = (s - mean[dense]) * v
    sq = torch.zeros_like(count).index_add_(0, dense, dev**2)
    std = torch.sqrt(sq / (count - 1).clamp(min=1))
    enough = count >= 2
    use_group = enough & (std > std_threshold)
    use_self = valid & use_group[dense]
    adv = torch.where(use_self, (s - mean[dense]) / (std[dense] + GROUP_STD_EPS), torch.zeros_like(s))
    return adv, use_self


def blend_advantages(
    verifier_adv: torch.Tensor, self_adv: torch.Tensor, use_self: torch.Tensor, tau: float
) -> torch.Tensor:
    """(1 - tau) * A_v + tau * A_self where ``use_self``, else A_v   (eq. 15).

    Args:
        verifier_adv: (B,) or (B, T) GRPO advantage.
        self_adv: (B,) A_self.
        use_self: (B,) bool.
        tau: mixing weight.
    Returns:
        the blended advantage, shaped like ``verifier_adv``.
    """
    if verifier_adv.dim() == 2:
        self_adv = self_adv.unsqueeze(-1)
        use_self = use_self.unsqueeze(-1)
    blended = (1.0 - tau) * verifier_adv + tau * self_adv.to(verifier_adv.dtype)
    return torch.where(use_self.bool(), blended, verifier_adv)


def binary_auroc(score: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Area under the ROC curve of ``score`` for ``label`` over masked samples (ties count 1/2):
    the Mann-Whitney statistic. NaN when a class is empty.

    Args: score, label (bool), mask (bool): (B,). Returns a scalar.
    """
    mask = mask.bool()
    pos = (label.bool() & mask).to(score.dtype)
    neg = (~label.bool() & mask).to(score.dtype)
    greater = (score[:, None] > score[None, :]).to(score.dtype)
    ties = (score[:, None] == score[None, :]).to(score.dtype)
    wins = ((greater + 0.5 * ties) * pos[:, None] * neg[None, :]).sum()
    pairs = pos.sum() * neg.sum()
    return torch.where(pairs > 0, wins / pairs.clamp(min=1), torch.full_like(pairs, float("nan")))


def self_verification_metrics(
    score: torch.Tensor, verifier_reward: torch.Tensor, valid: torch.Tensor, threshold: float = 0.5
) -> dict[str, torch.Tensor]:
    """The paper's self-verification figures over valid samples: a response is judged correct when
    r_s > threshold. TPR = accuracy on correct responses, TNR = accuracy on incorrect ones,
    F1 = their harmonic mean (the paper's "F1"), AUROC, and score mean/std per class.

    Returns scalars (NaN where a class is empty); the caller moves them to the host once.
    """
    valid = valid.bool()
    correct = (verifier_reward > 0.5) & valid
    incorrect = ~(verifier_reward > 0.5) & valid
    judged = score > threshold
    nan = torch.full((), float("nan"), dtype=score.dtype, device=score.device)

    def frac(hit, pop):
        n = pop.sum()
        return torch.where(n > 0, (hit & pop).sum().to(score.dtype) / n.clamp(min=1), nan)

    def mean_std(pop):
        n = pop.sum().to(score.dtype)
        m = torch.where(n > 0, (score * pop).sum() / n.clamp(min=1), nan)
        var = ((score - m) ** 2 * pop).sum() / (n - 1).clamp(min=1)
        return m, torch.where(n > 1, var.sqrt(), nan)

    tpr, tnr = frac(judged, correct), frac(~judged, incorrect)
    f1 = torch.where((tpr + tnr) > 0, 2 * tpr * tnr / (tpr + tnr), torch.zeros_like(tpr))
    f1 = torch.where(tpr.isnan() | tnr.isnan(), nan, f1)
    mean_c, std_c = mean_std(correct)
    mean_i, std_i = mean_std(incorrect)
    return {
        "tpr": tpr,
        "tnr": tnr,
        "f1": f1,
        "auroc": binary_auroc(score, verifier_reward > 0.5, valid),
        "score_mean_correct": mean_c,
        "score_std_correct": std_c,
        "score_mean_incorrect": mean_i,
        "score_std_incorrect": std_i,
    }
