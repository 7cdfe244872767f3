# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""LaSeR's math: pure, vectorised torch functions (no Python loops over samples).

Paper: Yang et al., "LaSeR: Reinforcement Learning with Last-Token Self-Rewarding", arXiv 2510.14943.
Symbols as in the paper:

- z_c:    a token the policy never emits, scored right after the response's end token.
- beta_v: scale of the self-rewarding score (eq. 11).
- c_ref:  the reference log-prob of z_c: a constant (about -23 for Qwen2.5), or the reference model's
          value at the same position (eqs. 11-13).
- r_v:    the verifier reward in {0, 1}; r_s the self-rewarding score.
- alpha:  weight of the self-rewarding MSE in the actor loss (eq. 13).
- tau:    mixing weight of the self-rewarding advantage (eq. 15); T its group-std threshold.

Shapes: B = number of responses in the batch, T = response length. ``valid`` marks the responses
LaSeR scores: finished (ended with an end token, so z_c was appended) and real (not one of verl's
padding rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from recipe.laser.config import LaSeRConfig

GROUP_STD_EPS = 1e-6  # verl's GRPO epsilon: (r - mean) / (std + eps)


def self_reward_score(zc_log_prob: torch.Tensor, c_ref: float | torch.Tensor, beta_v: float) -> torch.Tensor:
    """Last-token self-rewarding score r_s = beta_v * (log pi(z_c | x, y, EOS) - c_ref)   (eq. 11, 13).

    Args:
        zc_log_prob: (B,) log-prob of z_c at the slot after each response's end token.
        c_ref: a float (constant mode) or a (B,) tensor of the reference model's log-prob of z_c
            at the same slot (exact mode).
        beta_v: scale.
    Returns:
        (B,) r_s; the MSE drives it to 1 for a correct response and to 0 for an incorrect one.
    """
    return beta_v * (zc_log_prob - c_ref)


def class_balance_weights(verifier_reward: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per-sample class weights of eq. 14, w_c = N / (2 N_c) and w_i = N / (2 N_i), for rewards in [0, 1].

    A reward r_v in [0, 1] makes a sample a member of the correct class by r_v and of the incorrect one
    by 1 - r_v: N_c = sum r_v, N_i = sum (1 - r_v) over the valid samples, and the sample's weight is
    r_v w_c + (1 - r_v) w_i. For the rule verifier's {0, 1} this is the paper's eq. 14 exactly; for
    graded rewards each non-empty class still carries half of the total weight N.

    Args:
        verifier_reward: (B,) r_v in [0, 1] (``check_verifier_reward``).
        valid: (B,) bool.
    Returns:
        (B,) r_v N/(2 N_c) + (1 - r_v) N/(2 N_i) for valid samples (a class with no mass weighs 0);
        0 for invalid samples.
    """
    valid = valid.bool()
    member = torch.where(valid, verifier_reward, torch.zeros_like(verifier_reward))
    n = valid.sum().to(verifier_reward.dtype)
    n_c = member.sum()
    n_i = n - n_c
    w_c = torch.where(n_c > 0, n / (2 * n_c.clamp(min=1e-12)), torch.zeros_like(n))
    w_i = torch.where(n_i > 0, n / (2 * n_i.clamp(min=1e-12)), torch.zeros_like(n))
    return torch.where(valid, member * w_c + (1 - member) * w_i, torch.zeros_like(verifier_reward))


def check_verifier_reward(verifier_reward: torch.Tensor, valid: torch.Tensor) -> None:
    """Refuse verifier rewards outside [0, 1] on valid samples: r_s is fitted to r_v, and r_s lives in
    [0, 1] once clipped (eq. 15); a penalty (-1 for a wrong format, say) would be fitted as a target
    no finished response can reach. Raises ValueError naming the range found.

    Args: verifier_reward (B,); valid (B,) bool.
    """
    seen = verifier_reward[valid.bool()]
    nan = seen.isnan()
    finite = seen[~nan]
    if bool(nan.any()) or bool((finite < 0).any()) or bool((finite > 1).any()):
        found = f"min {float(finite.min()):g}, max {float(finite.max()):g}" if finite.numel() else "no number"
        raise ValueError(
            "LaSeR's self-rewarding loss needs verifier rewards (the reward function's score) in [0, 1]; this "
            f"step's finished responses have {found}{f' and {int(nan.sum())} NaN' if bool(nan.any()) else ''}: "
            "rescale the reward function to [0, 1]"
        )


def mse_sample_weights(
    verifier_reward: torch.Tensor, valid: torch.Tensor, class_balance: bool = True, num_minibatches: int = 1
) -> torch.Tensor:
    """The weight of each response's squared error in the step's self-rewarding MSE:

        weight_i = w_i / N_valid * num_minibatches

    - w_i: the class weight of eq. 14 (1 without class balancing); 0 for invalid responses.
    - 1 / N_valid: eq. 14 averages over the step's valid responses; dividing here, by the count over
      the whole step, makes the loss independent of how the batch is cut into micro-batches and
      data-parallel ranks (the same global normalisation verl uses for token-mean).
    - num_minibatches: verl takes one optimizer step per mini-batch, and each mini-batch holds only
      its share of the responses; scaling by their number makes each mini-batch's MSE an unbiased
      estimate of the step's (exactly the paper's when, as in the paper, a step is one mini-batch).

    Args:
        verifier_reward: (B,) r_v in [0, 1] (else ValueError). valid: (B,) bool. Returns (B,).
    """
    valid = valid.bool()
    check_verifier_reward(verifier_reward, valid)
    w = class_balance_weights(verifier_reward, valid) if class_balance else valid.to(verifier_reward.dtype)
    return w / valid.sum().clamp(min=1).to(w.dtype) * num_minibatches


def weighted_squared_error(score: torch.Tensor, verifier_reward: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_i weight_i (r_s,i - r_v,i)^2 over the samples with a non-zero weight (a response without a
    z_c slot may carry any value in ``score``; it never reaches the sum or its gradient).

    Args: score (B,) differentiable; verifier_reward (B,); weight (B,). Returns a scalar.
    """
    weight = weight.to(score.dtype)
    err = torch.where(weight != 0, score - verifier_reward.to(score.dtype), torch.zeros_like(score))
    return (weight * err**2).sum()


def self_reward_probability(zc_log_prob: torch.Tensor) -> torch.Tensor:
    """The score of the cross-entropy ablation (eq. 16): p = pi(z_c | x, y, EOS), judged correct when
    p > 0.5 (the authors' prediction rule for it).

    Args: zc_log_prob (B,). Returns (B,) in [0, 1].
    """
    return zc_log_prob.exp()


def weighted_cross_entropy(
    zc_log_prob: torch.Tensor, verifier_reward: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """sum_i weight_i * -[r_v,i log p_i + (1 - r_v,i) log(1 - p_i)], p_i = pi(z_c | x_i, y_i, EOS): the
    self-rewarding loss of the eq. 16 ablation in two-class form (the authors' variant trains a second
    token z_i for incorrect responses; here 1 - p(z_c) stands for it, so one appended token suffices).
    Unlike the MSE it drives p(z_c) towards 1 for correct responses: real probability mass on z_c.

    Args: zc_log_prob (B,) differentiable, <= 0; verifier_reward (B,) in [0, 1]; weight (B,) as for
    the MSE (mse_sample_weights). Returns a scalar.
    """
    weight = weight.to(zc_log_prob.dtype)
    r = verifier_reward.to(zc_log_prob.dtype)
    lp = torch.where(weight != 0, zc_log_prob, torch.full_like(zc_log_prob, -1.0)).clamp(max=-1e-7)
    # log(1 - e^lp), stable on both sides of -log 2
    log_not = torch.where(lp > -0.6931471805599453, torch.log(-torch.expm1(lp)), torch.log1p(-torch.exp(lp)))
    nll = -(r * lp + (1 - r) * log_not)  # finite everywhere: an unweighted slot was set to log p = -1
    return (weight * nll).sum()


def _group_ids(group_index: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Dense 0..G-1 ids for arbitrary integer group labels, and G (an upper bound: B)."""
    _, dense = torch.unique(group_index, return_inverse=True)
    return dense, group_index.numel()


def self_reward(
    zc_log_prob: torch.Tensor, c_ref: float | torch.Tensor | None, beta_v: float, loss: str
) -> torch.Tensor:
    """The score of a model trained with ``laser.self_reward_loss=loss``: r_s (mse, eq. 11) or p(z_c)
    (bce, the eq. 16 ablation, which reads neither c_ref nor beta_v). The one place that choice is made:
    the trainer's step, the evaluation and scripts/score_probe.py all score through it.

    Args: zc_log_prob (B,); c_ref a float, a (B,) tensor, or None (bce only); beta_v; loss "mse" or "bce".
    Returns: (B,) scores, judged correct above 0.5 either way.
    """
    if loss == "bce":
        return self_reward_probability(zc_log_prob)
    if loss != "mse":
        raise ValueError(f"self_reward_loss must be 'mse' or 'bce', got {loss!r}")
    if c_ref is None:
        raise ValueError("the mse score r_s needs c_ref (a constant or the reference model's log-probs)")
    return self_reward_score(zc_log_prob, c_ref, beta_v)


def self_reward_advantages(
    score: torch.Tensor,
    valid: torch.Tensor,
    group_index: torch.Tensor,
    std_threshold: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Self-rewarding advantage A_self (eq. 15, second term) and the groups that use it.

    The score is clipped to [0, 1] and normalised within each prompt's group over its VALID
    samples: (s - mean) / (std + 1e-6), std unbiased as in verl's GRPO. A group blends when it has
    at least 2 valid samples and its std is above T. Its invalid members (unfinished responses: no
    z_c, no score) get A_self = 0, the group's mean, and therefore (1 - tau) A_v after blending:
    every member of a blended group has its verifier advantage scaled by the same (1 - tau), so the
    verifier's ranking inside the group is kept, and an unfinished response is neither rewarded nor
    punished by a score it does not have. (The authors counted unfinished responses as score 0 in
    the group's statistics.)

    Args:
        score: (B,) r_s. valid: (B,) bool. group_index: (B,) integer group id (one per prompt).
        std_threshold: T.
    Returns:
        adv: (B,) A_self (0 for invalid samples and for groups that do not blend).
        blend: (B,) bool, True for every sample of a group that blends.
    """
    valid = valid.bool()
    s = score.clamp(0.0, 1.0)
    dense, size = _group_ids(group_index)
    v = valid.to(s.dtype)
    count = torch.zeros(size, dtype=s.dtype, device=s.device).index_add_(0, dense, v)
    total = torch.zeros_like(count).index_add_(0, dense, torch.where(valid, s, torch.zeros_like(s)))
    mean = total / count.clamp(min=1)
    dev = torch.where(valid, s - mean[dense], torch.zeros_like(s))
    sq = torch.zeros_like(count).index_add_(0, dense, dev**2)
    std = torch.sqrt(sq / (count - 1).clamp(min=1))
    blend_group = (count >= 2) & (std > std_threshold)
    blend = blend_group[dense]
    adv = torch.where(blend & valid, dev / (std[dense] + GROUP_STD_EPS), torch.zeros_like(s))
    return adv, blend


def blend_advantages(
    verifier_adv: torch.Tensor, self_adv: torch.Tensor, blend: torch.Tensor, tau: float
) -> torch.Tensor:
    """(1 - tau) * A_v + tau * A_self where ``blend``, else A_v   (eq. 15).

    Args:
        verifier_adv: (B,) or (B, T) GRPO advantage A_v.
        self_adv: (B,) A_self.
        blend: (B,) bool.
        tau: mixing weight.
    Returns:
        the blended advantage, shaped like ``verifier_adv``.
    """
    if verifier_adv.dim() == 2:
        self_adv = self_adv.unsqueeze(-1)
        blend = blend.unsqueeze(-1)
    blended = (1.0 - tau) * verifier_adv + tau * self_adv.to(verifier_adv.dtype)
    return torch.where(blend.bool(), blended, verifier_adv)


def binary_auroc(
    score: torch.Tensor, label: torch.Tensor, mask: torch.Tensor, group: torch.Tensor | None = None
) -> torch.Tensor:
    """Area under the ROC curve of ``score`` for ``label`` over masked samples (ties count 1/2): the
    Mann-Whitney statistic from average ranks, O(B log B). NaN when there is no (positive, negative) pair.

    With ``group``, only pairs within the same group count (the within-problem AUROC: a right and a
    wrong answer to the same problem): sum over groups of U_g / sum over groups of n_pos,g * n_neg,g,
    i.e. the share of such pairs the score orders right.

    Args: score, label (bool), mask (bool), group (int, optional): (B,). Returns a scalar.
    """
    mask = mask.bool()
    s = score[mask].to(torch.float64)
    pos = label.bool()[mask]
    if s.numel() == 0:
        return torch.tensor(float("nan"), dtype=score.dtype, device=score.device)
    g = torch.zeros_like(s) if group is None else group[mask].to(torch.float64)
    # distinct (group, score) pairs in lexicographic order: ranks are counted inside each group
    _, inverse, counts = torch.unique(torch.stack([g, s], 1), dim=0, return_inverse=True, return_counts=True)
    groups, group_of_sample = torch.unique(g, return_inverse=True)
    group_size = torch.bincount(group_of_sample, minlength=len(groups))
    group_start = torch.cumsum(group_size, 0) - group_size  # samples in the groups before each group
    first_rank = torch.cumsum(counts, 0) - counts + 1  # 1-based rank of each distinct pair's first copy
    average_rank = first_rank[inverse].to(torch.float64) + (counts[inverse].to(torch.float64) - 1) / 2
    average_rank = average_rank - group_start[group_of_sample]
    n_pos = torch.bincount(group_of_sample, weights=pos.to(torch.float64), minlength=len(groups))
    n_neg = group_size.to(torch.float64) - n_pos
    rank_sum = torch.bincount(group_of_sample, weights=average_rank * pos, minlength=len(groups))
    pairs = (n_pos * n_neg).sum()
    auc = (rank_sum - n_pos * (n_pos + 1) / 2).sum() / pairs.clamp(min=1)
    return torch.where(pairs > 0, auc, torch.full_like(auc, float("nan"))).to(score.dtype)


def self_verification_metrics(
    score: torch.Tensor, verifier_reward: torch.Tensor, population: torch.Tensor, threshold: float = 0.5
) -> dict[str, torch.Tensor]:
    """The paper's self-verification figures over ``population``: a response is judged correct when
    r_s > threshold (a NaN score, i.e. no score, is judged incorrect). TPR = accuracy on correct
    responses, TNR = accuracy on incorrect ones, F1 = their harmonic mean (the paper's "F1", not
    precision/recall F1), AUROC over the scored members, and score mean/std per class.

    Training calls this over the step's valid responses, evaluation over each of its populations.
    Returns scalars (NaN where a class is empty); the caller moves them to the host once.
    """
    population = population.bool()
    correct = (verifier_reward > 0.5) & population
    incorrect = ~(verifier_reward > 0.5) & population
    judged = score > threshold
    scored = ~torch.isnan(score)
    nan = torch.full((), float("nan"), dtype=score.dtype, device=score.device)

    def frac(hit, pop):
        n = pop.sum()
        return torch.where(n > 0, (hit & pop).sum().to(score.dtype) / n.clamp(min=1), nan)

    def mean_std(pop):
        pop = pop & scored
        n = pop.sum().to(score.dtype)
        s = torch.where(pop, score, torch.zeros_like(score))
        m = torch.where(n > 0, s.sum() / n.clamp(min=1), nan)
        var = torch.where(pop, (s - m) ** 2, torch.zeros_like(s)).sum() / (n - 1).clamp(min=1)
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
        "auroc": binary_auroc(torch.nan_to_num(score), verifier_reward > 0.5, population & scored),
        "score_mean_correct": mean_c,
        "score_std_correct": std_c,
        "score_mean_incorrect": mean_i,
        "score_std_incorrect": std_i,
    }


# -- one training step: the formulas above composed as the trainer applies them -----------------------------
@dataclass
class StepInputs:
    """What the trainer's ``_compute_advantage`` reads from TransferQueue; B rows, padding rows included."""

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
    """Scores, MSE weights and targets, and blended advantages of one step (eqs. 11-15; with
    ``laser.self_reward_loss=bce`` the score is p(z_c) and the weights serve the cross-entropy).

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
        raw = self_reward(inputs.zc_log_prob, reference, laser.beta_v, laser.self_reward_loss)
        score = torch.where(valid, raw, 0.0)
    # 2. MSE weights and targets for the update pass (eq. 14); 0 during the reasoning warm-up
    mse_on = laser.mse_active(step) and reference is not None
    weight = mse_sample_weights(inputs.verifier_reward, valid, laser.class_balance, num_minibatches)
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
        self_adv, blend = self_reward_advantages(score, valid, inputs.group, laser.std_threshold)
        blend &= ~inputs.padding
        adv = inputs.advantages
        rows = torch.arange(len(valid)).repeat_interleave(adv.offsets().diff())
        flat = blend_advantages(adv.values(), self_adv[rows], blend[rows], laser.tau)
        fields["advantages"] = torch.nested.nested_tensor_from_jagged(flat, adv.offsets())
    # 4. metrics over the real responses
    real = ~inputs.padding
    m = self_verification_metrics(
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
