# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/evaluation/metrics.py against hand-computed cases."""

import math

import numpy as np
import pytest

from recipe.laser.evaluation.metrics import (
    CORRECT_KEY,
    equivalence_keys,
    expected_calibration_error,
    scaling_curve,
    verification_f1,
    weighted_vote,
)
from recipe.laser.verifier.reward import answers_match

NAN = float("nan")


def keys_of(correct, answers):
    """Vote keys where only identical texts are equivalent (the hand-made cases below)."""
    return equivalence_keys(answers, list(correct), lambda a, b: (a == b,))


def test_equivalent_wrong_answers_vote_together():
    calls = []

    def match(a, b):
        calls.append((a, b))
        return answers_match(a, b)

    answers = ["1/2", "0.5", "\\frac{1}{2}", "3", "1/2", None, "7"]
    correct = [False, False, False, False, False, False, True]
    keys = equivalence_keys(answers, correct, match)
    assert keys == ["answer:1/2"] * 3 + ["answer:3", "answer:1/2", None, CORRECT_KEY]
    assert len(calls) == len(set(calls)) <= 4  # each distinct pair checked once, identical texts not at all
    # majority at k = 7: the three equivalent wrong answers (4 votes with the repeat) beat the correct one
    curve = scaling_curve(np.array(correct), keys, np.full(7, NAN), ks=[7])
    assert curve["majority"][7] == 0.0


def test_majority_and_weighted_voting_with_ties_and_missing_answers():
    # answers: 5 (correct, written twice differently), 7, 7, none
    correct = np.array([True, True, False, False, False])
    answer = ["5", "\\frac{10}{2}", "7", "7", None]
    scores = np.array([0.9, 0.8, 0.1, 0.2, NAN])
    curve = scaling_curve(correct, keys_of(correct, answer), scores, ks=[5])
    # majority: correct class 2 votes vs "7" 2 votes -> tie -> 1/2; the no-answer sample does not vote
    assert curve["majority"][5] == 0.5
    # weighted: correct 1.7 vs "7" 0.3
    assert curve["weighted"][5] == 1.0
    assert curve["best_of_n"][5] == 1.0 and curve["pass_at_k"][5] == 1.0


def test_all_wrong_problem_and_weights_clipped():
    correct = np.array([False, False, False])
    curve = scaling_curve(correct, keys_of(correct, ["1", "2", "2"]), np.array([5.0, -3.0, 0.2]), ks=[3])
    assert curve == {"majority": {3: 0.0}, "weighted": {3: 0.0}, "best_of_n": {3: 0.0}, "pass_at_k": {3: 0.0}}
    keys = keys_of([True, False], ["3", "4"])
    # weights clip to [0, 1]: 3.0 -> 1.0 for the correct answer, 0.4 for the wrong one
    assert weighted_vote(keys, np.array([3.0, 0.4]), np.array([0, 1])) == 1.0
    assert weighted_vote(keys, np.array([-1.0, 0.4]), np.array([0, 1])) == 0.0


def test_no_answer_at_all_and_best_of_n_ties():
    curve = scaling_curve(np.array([False, False]), [None, None], np.array([NAN, NAN]), ks=[2])
    assert curve["majority"][2] == 0.0 and curve["weighted"][2] == 0.0 and curve["best_of_n"][2] == 0.0
    # two samples tie on the top score, one right one wrong -> best-of-N 1/2
    correct = np.array([True, False, False])
    curve = scaling_curve(correct, keys_of(correct, ["1", "2", "3"]), np.array([0.7, 0.7, 0.1]), ks=[3])
    assert curve["best_of_n"][3] == 0.5


def test_resampled_k_is_deterministic_and_k_above_n_refused():
    rng = np.random.default_rng(1)
    correct = rng.random(8) > 0.5
    answer = keys_of(correct, [str(i % 3) for i in range(8)])
    scores = rng.random(8)
    a = scaling_curve(correct, answer, scores, ks=[1, 2, 4, 8], seed=3)
    assert a == scaling_curve(correct, answer, scores, ks=[1, 2, 4, 8], seed=3)
    # pass@1 with many resamples is the accuracy (in expectation); pass@k grows with k
    assert a["pass_at_k"][1] <= a["pass_at_k"][2] <= a["pass_at_k"][8] == float(correct.any())
    with pytest.raises(ValueError, match="k=9"):
        scaling_curve(correct, answer, scores, ks=[9])


def test_verification_f1_both_populations():
    correct = np.array([True, True, False, False, False])
    score = np.array([0.9, 0.2, 0.1, 0.8, NAN])  # the last has no extracted answer and no score
    extracted = np.array([True, True, True, True, False])
    filtered = verification_f1(correct, score, extracted)
    # correct: 1 of 2 judged correct; incorrect (filtered): 1 of 2 judged incorrect
    assert (filtered["tpr"], filtered["tnr"], filtered["f1"], filtered["n"]) == (0.5, 0.5, 0.5, 4)
    # AUROC over the scored: positives 0.9, 0.2 vs negatives 0.1, 0.8 -> 3 of 4 pairs ordered
    assert filtered["auroc"] == pytest.approx(0.75)
    every = verification_f1(correct, score, np.ones(5, bool))
    # the unscored sample counts as correctly rejected: TNR 2/3 -> F1 = 2 * 0.5 * 2/3 / (0.5 + 2/3)
    assert every["tnr"] == pytest.approx(2 / 3) and every["f1"] == pytest.approx(4 / 7)
    assert math.isnan(verification_f1(np.array([True]), np.array([0.9]), np.array([True]))["f1"])


def test_expected_calibration_error_hand_computed():
    # bin [0.9, 1.0): p 0.95, 0.95, outcomes 1, 0 -> |0.95 - 0.5| * 2/4
    # bin [0.1, 0.2): p 0.1, 0.1, outcomes 0, 0 -> 0.1 * 2/4
    ece = expected_calibration_error(np.array([1, 0, 0, 0]), np.array([0.95, 0.95, 0.1, 0.1]))
    assert ece == pytest.approx(0.45 * 0.5 + 0.1 * 0.5)
    assert math.isnan(expected_calibration_error(np.array([1]), np.array([NAN])))


def test_k_larger_than_the_number_of_finished_samples():
    # n = 4, only sample 2 finished (scored); truncated samples 0, 1 still carry answers ("8", "8")
    correct = np.array([False, False, True, False])
    answer = keys_of(correct, ["8", "8", "6", None])
    scores = np.array([NAN, NAN, 0.6, NAN])
    curve = scaling_curve(correct, answer, scores, ks=[4])
    assert curve["majority"][4] == 0.0  # "8" has two votes, the correct answer one
    assert curve["weighted"][4] == 1.0  # unfinished samples weigh 0: only the scored one votes
    assert curve["best_of_n"][4] == 1.0  # unscored samples rank last
    assert curve["pass_at_k"][4] == 1.0
    # no finished sample at all: every vote weighs 0, so the two answers tie (1/2 in expectation);
    # best-of-N ties over all four samples (1/4)
    curve = scaling_curve(correct, answer, np.full(4, NAN), ks=[4])
    assert curve["weighted"][4] == 0.5 and curve["best_of_n"][4] == 0.25
