# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Verifier reward r_v in {0, 1} for verl: ``compute_score`` (verl's custom-reward signature).

The final answer (the last ``\\boxed{}``, behind a per-template format gate) is checked against the
ground truth with math-verify; on a multiple-choice row (``extra_info.options``, ground truth a letter)
it must name the right option (``answers.choice_letter``). LaSeR regresses its self-reward onto this
verdict, so a verifier mistake becomes a training target; the function is built so that it never
hangs, never raises into the trainer, and never scores a correct answer 0 because of where it runs:

- math-verify's own timeouts use ``signal.alarm``, which only works on a process's main thread;
  verl calls reward functions from a thread pool (``NaiveRewardManager.run_single``). So
  equivalence checks run in a small pool of spawned worker processes, where the task runs on the
  main thread and math-verify's timeouts work, and the caller also waits at most a hard timeout:
  a worker stuck in C code (a huge power, say) is killed and the pool restarted.
- Integer answers (AIME, AMC, arithmetic) and exact matches after light normalisation are decided
  without math-verify.
- Every outcome is explained in the returned dict, and process-wide counters
  (``verifier_stats()``) count timeouts, parse failures, format failures and errors.
- Only math-verify's LaTeX parser is used (an ANTLR grammar); its expression parser would run
  sympy's ``parse_expr``, which evaluates Python.

Options (``+reward.custom_reward_function.reward_kwargs.<name>=...``):
``format_gate``: ``auto`` (the row's ``extra_info.format_gate``, decided from the rendered prompt at
data preparation; ``boxed`` for rows without one), ``boxed``, ``r1`` or ``none``; ``timeout_s``: the
per-call bound (default 5, env ``LASER_VERIFY_TIMEOUT_S``).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from recipe.laser.verifier.answers import (
    FORMAT_GATES,
    OPTION_LETTERS,
    as_integer,
    check_format,
    choice_letter,
    normalize_answer,
)

DEFAULT_TIMEOUT_S = float(os.environ.get("LASER_VERIFY_TIMEOUT_S", "5"))
POOL_WORKERS = int(os.environ.get("LASER_VERIFY_WORKERS", str(min(2, os.cpu_count() or 1))))

_stats: Counter = Counter()
_stats_lock = threading.Lock()


def verifier_stats() -> dict[str, int]:
    """Process-wide counts since start: calls, correct, format_failed, parse_failed, compare_failed,
    timed_out, errors, worker_restarts (a verifier worker that died or hung and was replaced), and for
    the judge (``judge.py``) judge_no_decision and judge_failed (a request that failed on every try)."""
    with _stats_lock:
        return dict(_stats)


def _count(**increments: int) -> None:
    with _stats_lock:
        _stats.update(increments)


# -- the worker side: runs on a worker process's main thread ----------------------------------------
def _warm_worker() -> None:
    import math_verify  # noqa: F401  (import once per worker, not per call)


def _math_verify_in_worker(answer: str, ground_truth: str, timeout_s: int) -> tuple[bool, str]:
    """(equivalent, outcome) with outcome "ok", "parse_failed", "compare_failed" or "timed_out".

    ``raise_on_error=True``: by default math-verify logs a timeout or an error and returns False,
    which would be indistinguishable from a wrong answer."""
    from math_verify import LatexExtractionConfig, parse, verify
    from math_verify.errors import TimeoutException

    config = [LatexExtractionConfig()]
    try:
        try:
            gold = parse(f"\\boxed{{{ground_truth}}}", config, parsing_timeout=timeout_s, raise_on_error=True)
            pred = parse(f"\\boxed{{{answer}}}", config, parsing_timeout=timeout_s, raise_on_error=True)
        except Exception:
            return False, "parse_failed"
        if not gold or not pred:
            return False, "parse_failed"
        try:
            return bool(verify(gold, pred, timeout_seconds=timeout_s, raise_on_error=True)), "ok"
        except Exception:
            return False, "compare_failed"
    except TimeoutException:  # a BaseException: caught by name, outside the Exception handlers
        return False, "timed_out"


# -- the caller side -------------------------------------------------------------------------------------
class _VerifierPool:
    """Spawned worker processes for math-verify, restarted when a call outlives its hard timeout."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_worker
                )
            return self._executor

    def restart(self, broken: ProcessPoolExecutor) -> bool:
        """Replace a broken or stuck pool; False when another thread already did."""
        with self._lock:
            if self._executor is not broken:
                return False
            self._executor = None
        for process in list(getattr(broken, "_processes", {}).values()):
            process.kill()
        broken.shutdown(wait=False, cancel_futures=True)
        return True

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def verify(self, answer: str, ground_truth: str, timeout_s: float) -> tuple[bool, str, bool]:
        """(equivalent, outcome, retried): a call whose worker died (killed under another caller's
        timeout, or from outside) is retried once on a fresh pool and reported as retried."""
        soft = max(1, int(timeout_s))  # math-verify: a float timeout makes verify() return False
        for attempt in range(2):
            executor = self._get()
            try:
                future = executor.submit(_math_verify_in_worker, answer, ground_truth, soft)
                # the worker's own timeouts cover parsing and verifying; the margin covers the rest
                equivalent, outcome = future.result(timeout=2 * soft + 5)
                return equivalent, outcome, attempt > 0
            except FutureTimeout:
                self.restart(executor)
                _count(worker_restarts=1)
                return False, "timed_out", attempt > 0
            except BrokenProcessPool:
                if self.restart(executor):
                    _count(worker_restarts=1)
                if attempt:
                    raise
        raise AssertionError("unreachable")


_pool = _VerifierPool(POOL_WORKERS)
atexit.register(_pool.shutdown)


def answers_match(answer: str, ground_truth: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[bool, str, bool]:
    """Equivalence of an extracted answer and the ground truth: (equivalent, outcome, retried)."""
    if normalize_answer(answer) == normalize_answer(ground_truth):
        return True, "ok", False
    a, b = as_integer(answer), as_integer(ground_truth)
    if a is not None and b is not None:
        return a == b, "ok", False
    return _pool.verify(answer, ground_truth, timeout_s)


VERDICT_OUTCOMES = ("timed_out", "parse_failed", "compare_failed")  # what answers_match reports besides "ok"


def multiple_choice_options(extra_info: dict | None) -> list[str] | None:
    """The option texts of a multiple-choice row (``extra_info.options``, in letter order), or None for
    a free-answer row."""
    options = (extra_info or {}).get("options")
    if options is None:
        return None
    if isinstance(options, str) or not hasattr(options, "__len__") or not 2 <= len(options) <= len(OPTION_LETTERS):
        expected = f"a list of 2 to {len(OPTION_LETTERS)} option texts"
        raise ValueError(f"extra_info.options: expected {expected}, got {options!r}")
    if not all(isinstance(o, str) for o in options):
        raise ValueError(f"extra_info.options: expected option texts (strings), got {list(options)!r}")
    return list(options)


def choice_verdict(answer: str, ground_truth: str, options: list[str]) -> tuple[bool, str]:
    """(correct, outcome) of a multiple-choice answer: outcome "ok", or "no_option" when the answer
    names no option (``answers.choice_letter``)."""
    letters = OPTION_LETTERS[: len(options)]
    truth = ground_truth.strip().upper()
    if len(truth) != 1 or truth not in letters:
        expected = f"one of the option letters {letters[0]}-{letters[-1]}"
        raise ValueError(f"ground_truth {ground_truth!r}: expected {expected}")
    letter = choice_letter(answer, options)
    return letter == truth, "ok" if letter is not None else "no_option"


def answer_verdict(
    answer: str, ground_truth: str, extra_info: dict | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[bool, str, bool]:
    """(correct, outcome, retried) of an extracted answer: the option letter for a multiple-choice row
    (outcome "no_option" when it names none), else ``answers_match``."""
    options = multiple_choice_options(extra_info)
    if options is not None:
        return *choice_verdict(answer, ground_truth, options), False
    return answers_match(answer, ground_truth, timeout_s)


def is_exception_error(error: str) -> bool:
    """True when a result's ``error`` comes from bad input or an exception caught inside
    ``compute_score``, not from a format gate, a verdict outcome or a judge's fault (``judge.py``)."""
    return bool(error) and not error.startswith(("format:", "judge:")) and error not in VERDICT_OUTCOMES


def resolve_format_gate(format_gate: str, extra_info: dict | None) -> str:
    if format_gate == "auto":
        gate = (extra_info or {}).get("format_gate") or "boxed"
        if gate not in FORMAT_GATES:
            raise ValueError(f"extra_info.format_gate={gate!r}: expected one of {FORMAT_GATES}")
        return gate
    if format_gate not in FORMAT_GATES:
        raise ValueError(f"format_gate={format_gate!r}: expected 'auto' or one of {FORMAT_GATES}")
    return format_gate


def unverified_result() -> dict[str, Any]:
    """A reward result before any check: score 0, nothing extracted, no fault."""
    return {
        "score": 0.0,
        "acc": 0.0,
        "extracted_answer": "",
        "format_ok": False,
        "timed_out": False,
        "parse_failed": False,
        "retried": False,
        "error": "",
    }


def checked_ground_truth(solution_str: Any, ground_truth: Any, data_source: str) -> str:
    """The ground truth as a stripped string (a one-item list unwrapped); bad input raises naming the field."""
    if not isinstance(solution_str, str):
        raise TypeError(f"solution_str: expected str, got {type(solution_str).__name__}")
    if isinstance(ground_truth, (list, tuple)) and len(ground_truth) == 1:
        ground_truth = ground_truth[0]
    if ground_truth is None or not str(ground_truth).strip():
        raise ValueError(f"ground_truth: expected a non-empty answer, got {ground_truth!r} ({data_source})")
    return str(ground_truth).strip()


def gated_answer(result: dict[str, Any], solution_str: str, format_gate: str, extra_info: dict | None) -> str | None:
    """The answer behind the format gate, recorded in ``result``; None, with the gate's failure recorded
    and counted, when there is none."""
    ok, answer, reason = check_format(solution_str, resolve_format_gate(format_gate, extra_info))
    result["format_ok"] = ok
    if not ok:
        result["error"] = f"format:{reason}"
        _count(format_failed=1)
        return None
    result["extracted_answer"] = answer
    return answer


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    format_gate: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **kwargs,
) -> dict[str, Any]:
    """verl custom reward: ``{"score", "acc", "extracted_answer", "format_ok", "timed_out",
    "parse_failed", "retried", "error"}``; score and acc are 1.0 for a verified correct answer, else 0.0."""
    result = unverified_result()
    _count(calls=1)
    try:
        truth = checked_ground_truth(solution_str, ground_truth, data_source)
        answer = gated_answer(result, solution_str, format_gate, extra_info)
        if answer is None:
            return result
        correct, outcome, retried = answer_verdict(answer, truth, extra_info, timeout_s)
        if outcome == "no_option":  # a multiple-choice answer that names no option: a format failure
            result["error"] = "format:no_option"
            _count(format_failed=1)
            return result
        result["retried"] = retried
        result["timed_out"] = outcome == "timed_out"
        result["parse_failed"] = outcome in ("parse_failed", "compare_failed")
        if outcome != "ok":
            result["error"] = outcome
            _count(**{outcome: 1})
        if correct:
            result["score"] = result["acc"] = 1.0
            _count(correct=1)
    except Exception as error:  # never raise into the trainer; the error is reported and counted
        result["error"] = f"{type(error).__name__}: {error}"[:500]
        _count(errors=1)
    return result


def verifier_step_metrics(infos: list[dict]) -> dict[str, float]:
    """Share of a step's responses whose verdict came with a timeout, a parse failure, a format-gate
    failure, a retry on a fresh worker (the first one died) or an error (bad input or an exception
    caught inside ``compute_score``), from the per-sample results verl keeps as reward extra info.
    Empty for rewards other than ``compute_score``; with the judge (``judge.py``) also the share of
    responses the judge decided and the share whose judge request failed or gave no decision."""
    if not infos or "timed_out" not in infos[0]:
        return {}
    n = len(infos)
    judge = {}
    if "decided_by" in infos[0]:
        judge = {
            "verifier/judge_share": sum(i.get("decided_by") == "judge" for i in infos) / n,
            "verifier/judge_fail_rate": sum(str(i.get("error", "")).startswith("judge:") for i in infos) / n,
        }
    return {
        **judge,
        "verifier/timeout_rate": sum(bool(i.get("timed_out")) for i in infos) / n,
        "verifier/parse_fail_rate": sum(bool(i.get("parse_failed")) for i in infos) / n,
        "verifier/format_fail_rate": sum(str(i.get("error", "")).startswith("format:") for i in infos) / n,
        "verifier/retry_rate": sum(bool(i.get("retried")) for i in infos) / n,
        "verifier/error_rate": sum(is_exception_error(str(i.get("error", ""))) for i in infos) / n,
    }
