# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Answer extraction and format gates: pure string functions, shared by the training reward and
evaluation. Nothing here evaluates model output as Python."""

from __future__ import annotations

import re

FORMAT_GATES = ("boxed", "r1", "none")

_BOX_OPENERS = ("\\boxed", "\\fbox")


def _boxed_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every ``\\boxed{...}``/``\\fbox{...}`` with balanced braces, in order.
    An opener whose braces never close is skipped."""
    spans = []
    i = 0
    while True:
        starts = [s for s in (text.find(o, i) for o in _BOX_OPENERS) if s >= 0]
        if not starts:
            return spans
        start = min(starts)
        brace = start + (6 if text.startswith("\\boxed", start) else 5)
        while brace < len(text) and text[brace] == " ":
            brace += 1
        if brace >= len(text) or text[brace] != "{":
            i = start + 1
            continue
        depth, j = 0, brace
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth != 0:  # never closed
            i = start + 1
            continue
        spans.append((start, j + 1, text[brace + 1 : j].strip()))
        i = j + 1


def extract_last_boxed(text: str) -> str | None:
    """Content of the last balanced ``\\boxed{...}`` (or ``\\fbox{...}``), else None (the paper's
    convention: the final answer is the last box)."""
    spans = _boxed_spans(text)
    return spans[-1][2] if spans else None


def count_box_openers(text: str) -> int:
    return text.count("\\boxed") + text.count("\\fbox")


_R1_PATTERN = re.compile(r".*</think>.*<answer>.*\\boxed\{.*\}.*</answer>", re.DOTALL)


def check_format(text: str, gate: str) -> tuple[bool, str | None, str]:
    """Apply a format gate; returns (ok, extracted answer or None, reason when not ok).

    - ``boxed``: exactly one ``\\boxed{`` (the authors' gate for boxed-instruction templates).
    - ``r1``: exactly one ``</think>``, ``<answer>``, ``</answer>``, in that order, with a box
      inside the answer (the authors' gate for R1/ORZ templates); the answer is that box.
    - ``none``: no gate; the last box, if any.
    """
    if gate == "none":
        answer = extract_last_boxed(text)
        return answer is not None, answer, "" if answer is not None else "no_box"
    if gate == "boxed":
        n = count_box_openers(text)
        if n != 1:
            return False, None, "no_box" if n == 0 else "several_boxes"
        answer = extract_last_boxed(text)
        return answer is not None, answer, "" if answer is not None else "unclosed_box"
    if gate == "r1":
        if not all(text.count(tag) == 1 for tag in ("</think>", "<answer>", "</answer>")):
            return False, None, "r1_tags"
        if not _R1_PATTERN.fullmatch(text):
            return False, None, "r1_order"
        inside = text[text.index("<answer>") : text.index("</answer>")]
        answer = extract_last_boxed(inside)
        return answer is not None, answer, "" if answer is not None else "no_box"
    raise ValueError(f"format gate {gate!r}: expected one of {FORMAT_GATES}")


_SPACING = re.compile(r"\\[,;:! ]|\\left|\\right|\\displaystyle|\s+|\$")
_INTEGER = re.compile(r"[-+]?\d+")


def normalize_answer(answer: str) -> str:
    """Light normalisation for the exact-match fast path (never for deciding 'wrong')."""
    text = _SPACING.sub("", answer)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\text\{\s*([^{}]*?)\s*\}", r"\1", text)
    return text.rstrip(".")


def as_integer(answer: str) -> int | None:
    """The integer a plain integer answer denotes (``"007"``, ``"+3"``), else None."""
    text = normalize_answer(answer)
    if _INTEGER.fullmatch(text) and len(text) <= 200:
        return int(text)
    return None


OPTION_LETTERS = "ABCDEFGHIJKLMNOP"
_LETTER_WRAPPERS = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox)\{\s*([^{}]*?)\s*\}")
_LEADING_LETTER = re.compile(
    r"(?:(?:option|answer|choice)\s*:?\s*)?\(?([A-P])\)?(?:\s*[.:)\-]\s*(.*)|\s*$)", re.S | re.I
)


def choice_letter(answer: str, options: list[str]) -> str | None:
    """The option a boxed answer names, as a letter (``A`` for ``options[0]``), or None when it names
    none: ``C``, ``(C)``, ``\\text{C}``, ``Option C``, ``C. 42`` and ``C) 42`` name C (a letter
    followed by text names it only when the text is that option's or empty); an answer that is exactly
    one option's text names that option."""
    letters = OPTION_LETTERS[: len(options)]
    text = _LETTER_WRAPPERS.sub(r"\1", answer).strip().rstrip(".").strip()
    match = _LEADING_LETTER.fullmatch(text)
    if match and match.group(1).upper() in letters:
        letter, rest = match.group(1).upper(), (match.group(2) or "").strip()
        if not rest or normalize_answer(rest) == normalize_answer(options[letters.index(letter)]):
            return letter
    named = [letters[i] for i, option in enumerate(options) if normalize_answer(option) == normalize_answer(text)]
    return named[0] if len(named) == 1 else None
