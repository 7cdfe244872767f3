"""Answer extraction and equivalence (math-verify), shared by the training reward and evaluation."""

from __future__ import annotations


def extract_last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) with balanced braces, else None."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : i].strip()
    return None  # unbalanced: the box never closed


def is_equivalent(answer: str, ground_truth: str) -> bool:
    """math-verify equivalence of an extracted answer and the ground truth."""
    from math_verify import parse, verify

    # Timeouts are disabled here: math-verify implements them with signal.alarm, which raises off
    # the main thread (verl's reward workers are threaded). The caller bounds time instead.
    gold = parse(f"\\boxed{{{ground_truth}}}", parsing_timeout=None)
    pred = parse(f"\\boxed{{{answer}}}", parsing_timeout=None)
    if not gold or not pred:
        return False
    return bool(verify(gold, pred, timeout_seconds=None))
