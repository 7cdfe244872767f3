# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Multiple-choice answers (MMLU-Pro, GPQA-Diamond): which option a boxed answer names, and the
verifier's verdict on rows whose ground truth is a letter."""

import numpy as np
import pytest

from recipe.laser.verifier.answers import choice_letter
from recipe.laser.verifier.reward import answer_verdict, compute_score, verifier_stats

OPTIONS = ["42", "17", "x^2", "Paris"]


@pytest.mark.parametrize(
    "answer, letter",
    [
        ("C", "C"),
        ("c", "C"),
        ("(C)", "C"),
        ("\\text{C}", "C"),
        ("\\textbf{(B)}", "B"),
        ("Option C", "C"),
        ("answer: b", "B"),
        ("B.", "B"),
        ("C. x^2", "C"),  # the letter and its own option's text
        ("C) x^2", "C"),
        ("x^2", "C"),  # an option's text alone
        ("Paris", "D"),
        ("C. 42", None),  # letter and text disagree
        ("E", None),  # no option E among four
        ("the answer is C", None),
        ("43", None),
    ],
)
def test_choice_letter(answer, letter):
    assert choice_letter(answer, OPTIONS) == letter


def test_an_answer_matching_two_options_names_none():
    assert choice_letter("same", ["same", "Same", "same"]) is None
    assert choice_letter("1", ["1", "1.0", "2"]) == "A"  # "1.0" is another text


def test_verdicts_on_a_multiple_choice_row():
    info = {"options": OPTIONS, "format_gate": "boxed"}
    assert compute_score("mmlu_pro", "so \\boxed{C}", "C", info)["score"] == 1.0
    assert compute_score("mmlu_pro", "so \\boxed{(c)}", "c", info)["score"] == 1.0
    assert compute_score("mmlu_pro", "so \\boxed{Paris}", "D", info)["score"] == 1.0
    assert compute_score("mmlu_pro", "so \\boxed{B}", "C", info)["score"] == 0.0
    # the free-answer path would call "42" right for a ground truth "42"; here the truth is a letter
    assert compute_score("mmlu_pro", "so \\boxed{42}", "A", info)["score"] == 1.0
    assert compute_score("mmlu_pro", "so \\boxed{42}", "B", info)["score"] == 0.0
    # options as parquet returns them (a numpy array)
    assert answer_verdict("C", "C", {"options": np.array(OPTIONS, dtype=object)})[:2] == (True, "ok")


def test_an_answer_that_names_no_option_is_a_counted_format_failure():
    before = verifier_stats().get("format_failed", 0)
    result = compute_score("gpqa", "so \\boxed{C. 42}", "C", {"options": OPTIONS, "format_gate": "boxed"})
    assert result["score"] == 0.0 and result["error"] == "format:no_option"
    assert result["extracted_answer"] == "C. 42"
    assert verifier_stats()["format_failed"] == before + 1


@pytest.mark.parametrize(
    "truth, options, message",
    [
        ("Z", OPTIONS, "ground_truth 'Z': expected one of the option letters A-D"),
        ("42", OPTIONS, "ground_truth '42': expected one of the option letters A-D"),
        ("A", "AB", "extra_info.options: expected a list of 2 to 16 option texts"),
        ("A", ["only one"], "extra_info.options: expected a list of 2 to 16 option texts"),
        ("A", ["x", 3], "extra_info.options: expected option texts (strings)"),
    ],
)
def test_a_bad_multiple_choice_row_is_an_error_that_names_the_field(truth, options, message):
    result = compute_score("mmlu_pro", "\\boxed{A}", truth, {"options": options, "format_gate": "boxed"})
    assert result["score"] == 0.0 and message in result["error"]
