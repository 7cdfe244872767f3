# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Verifier reward from a judge model, for answers no rule can check (WebInstruct-verified's
free-form answers: units, expressions, words): ``compute_score``, an async verl custom reward.

The judge is a generative verifier behind an OpenAI-compatible chat endpoint, asked in the prompt
format of TIGER-Lab/general-verifier (the model the authors use) and read from its last
"Final Decision: Yes|No". Either
- verl's own reward-model server: ``reward.reward_model.enable=True``,
  ``reward.reward_model.model_path=TIGER-Lab/general-verifier``, ``reward.reward_model.rollout.name=vllm``;
  verl passes its router's address to this function as ``reward_router_address``; or
- a server you run (``vllm serve TIGER-Lab/general-verifier``):
  ``+reward.custom_reward_function.reward_kwargs.judge_url=http://host:8000``.

Per response: the format gate and the last box as in ``reward.compute_score``; a multiple-choice row
(``extra_info.options``) is graded by its letter there, without the judge; an answer equal to the
ground truth after normalisation is correct without asking; every other answer goes to the judge
with the question (``extra_info.problem``), the ground truth and the extracted answer.

Faults never become a silent zero:
- a reply without a decision: score 0, ``error="judge:no_decision"``, counted;
- a try that outlives ``timeout_s``, a reset connection or an HTTP 5xx is retried (``max_tries`` in
  all, with backoff); a request that still fails scores 0 with ``timed_out`` or the error, counted;
- one request refused (another HTTP 4xx, say a too-long prompt): score 0, the error, counted;
- a judge that cannot be used at all (no address, refused connections on every try, HTTP 401, 403
  or 404): score 0 with ``error="judge:unavailable: <why, with the address>"``, and the recipe's
  trainer stops the run at that step (``unavailable_judge``), since a run on it would score every
  answer 0. It is not raised here: verl's agent loop drops a response whose reward raised and trains
  on the rest of the step, which for a dead judge would be the answers decided without it.

Options (``+reward.custom_reward_function.reward_kwargs.<name>=...``): ``judge_url``, ``judge_model``
(the ``model`` field; default: the server's only model), ``timeout_s`` (per try, default 120),
``max_tries`` (default 3), ``max_tokens`` (of the judge's reply, default 1024), ``format_gate``.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from recipe.laser.verifier.answers import normalize_answer
from recipe.laser.verifier.reward import _count, checked_ground_truth, gated_answer, unverified_result
from recipe.laser.verifier.reward import compute_score as rule_compute_score

JUDGE_PROMPT = (
    "User: ### Question: {question}\n\n"
    "### Ground Truth Answer: {ground_truth}\n\n"
    "### Student Answer: {answer}\n\n"
    "For the above question, please verify if the student's answer is equivalent to the ground truth answer.\n"
    "Do not solve the question by yourself; just check if the student's answer is equivalent to the ground "
    "truth answer.\n"
    "If the student's answer is correct, output \"Final Decision: Yes\". If the student's answer is incorrect, "
    'output "Final Decision: No". Assistant:'
)
_DECISION = re.compile(r"Final\s+Decision\s*:\s*\**\s*(yes|no)\b", re.IGNORECASE)
RETRY_STATUSES = range(500, 600)
RETRY_BACKOFF_S = 1.0  # before try k + 1: RETRY_BACKOFF_S * 2 ** (k - 1), at most 30 s
UNUSABLE_STATUSES = (401, 403, 404)


class JudgeUnavailableError(RuntimeError):
    """The judge cannot be reached or refuses every request: a configuration fault, not a verdict."""


UNAVAILABLE = "judge:unavailable: "


def unavailable_judge(infos: list[dict]) -> str | None:
    """The first "judge unavailable" error among a step's reward results, or None."""
    return next((str(i["error"]) for i in infos if str(i.get("error", "")).startswith(UNAVAILABLE)), None)


def judge_prompt(question: str, ground_truth: str, answer: str) -> str:
    return JUDGE_PROMPT.format(question=question.strip(), ground_truth=ground_truth.strip(), answer=answer.strip())


def parse_decision(reply: str) -> bool | None:
    """The judge's last "Final Decision: Yes/No" (True/False), or None when it gives none."""
    found = _DECISION.findall(reply or "")
    return None if not found else found[-1].lower() == "yes"


def chat_url(judge_url: str | None, reward_router_address: str | None) -> str:
    """The chat-completions URL: ``judge_url`` when given, else verl's reward-model router."""
    if judge_url:
        base = judge_url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
    if reward_router_address:
        return f"http://{reward_router_address}/v1/chat/completions"
    raise JudgeUnavailableError(
        "no judge to ask: set reward.reward_model.enable=True with reward.reward_model.model_path=<judge model> "
        "(verl serves it), or +reward.custom_reward_function.reward_kwargs.judge_url=http://host:port "
        "(a server you run, e.g. `vllm serve TIGER-Lab/general-verifier`)"
    )


async def _post(url: str, payload: dict, timeout_s: float) -> tuple[int, str]:
    """(HTTP status, body) of one request, bounded by ``timeout_s`` in all."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.post(url, json=payload) as response:
        return response.status, await response.text()


def _reply_text(body: str) -> str:
    """The message of an OpenAI chat-completions reply; ValueError when the body is not one."""
    try:
        return str(json.loads(body)["choices"][0]["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ValueError(body[:200]) from None


async def ask_judge(
    url: str, prompt: str, model: str | None, timeout_s: float, max_tries: int, max_tokens: int
) -> tuple[str | None, str]:
    """(the judge's reply, "") or (None, the error of the last try). Raises JudgeUnavailableError."""
    import aiohttp

    payload: dict[str, Any] = {
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.0,
        "max_tokens": max_tokens,
    }
    if model:
        payload["model"] = model
    error, refused = "", 0
    for attempt in range(max_tries):
        if attempt:
            await asyncio.sleep(min(RETRY_BACKOFF_S * 2.0 ** (attempt - 1), 30.0))
        try:
            status, body = await _post(url, payload, timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            error = "timed_out"
            continue
        except aiohttp.ClientConnectorError as e:
            refused += 1
            error = f"judge:unreachable: {e}"
            continue
        except aiohttp.ClientError as e:
            error = f"judge:{type(e).__name__}: {e}"
            continue
        if status in UNUSABLE_STATUSES:
            raise JudgeUnavailableError(
                f"judge at {url} answered HTTP {status}: {body[:300]} (check the address, judge_model and the "
                "server's authentication)"
            )
        if status in RETRY_STATUSES:
            error = f"judge:http_{status}"
            continue
        if status >= 400:
            return None, f"judge:http_{status}: {body[:200]}"
        try:
            return _reply_text(body), ""
        except ValueError as e:
            return None, f"judge:bad_reply: {e}"
    if refused == max_tries:
        raise JudgeUnavailableError(f"judge at {url} is unreachable ({max_tries} tries): {error}")
    return None, error


async def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    reward_router_address: str | None = None,
    reward_model_tokenizer: Any = None,
    judge_url: str | None = None,
    judge_model: str | None = None,
    format_gate: str = "auto",
    timeout_s: float = 120.0,
    max_tries: int = 3,
    max_tokens: int = 1024,
    **kwargs,
) -> dict[str, Any]:
    """verl custom reward (async): ``reward.compute_score``'s keys plus ``judge_decision`` ("yes", "no"
    or "") and ``decided_by`` ("judge", "exact", "choice" or "" when no answer was extracted)."""
    if isinstance(extra_info, dict) and extra_info.get("options") is not None:  # a letter, checked by rule
        result = rule_compute_score(data_source, solution_str, ground_truth, extra_info, format_gate)
        return {**result, "judge_decision": "", "decided_by": "choice" if result["format_ok"] else ""}
    result: dict[str, Any] = {**unverified_result(), "judge_decision": "", "decided_by": ""}
    _count(calls=1)
    try:
        truth = checked_ground_truth(solution_str, ground_truth, data_source)
        question = (extra_info or {}).get("problem")
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"extra_info.problem: the judge needs the question text, got {question!r} ({data_source})")
        answer = gated_answer(result, solution_str, format_gate, extra_info)
        if answer is None:
            return result
        if normalize_answer(answer) == normalize_answer(truth):
            result.update(score=1.0, acc=1.0, decided_by="exact")
            _count(correct=1)
            return result
        prompt = judge_prompt(question, truth, answer)
        result["decided_by"] = "judge"
        try:
            url = chat_url(judge_url, reward_router_address)
            reply, error = await ask_judge(url, prompt, judge_model, timeout_s, max_tries, max_tokens)
        except JudgeUnavailableError as unusable:
            reply, error = None, UNAVAILABLE + str(unusable)
        if reply is None:
            result["timed_out"] = error == "timed_out"
            result["error"] = error
            _count(**({"timed_out": 1} if error == "timed_out" else {"judge_failed": 1}))
            return result
        decision = parse_decision(reply)
        if decision is None:
            result["error"] = "judge:no_decision"
            _count(judge_no_decision=1)
            return result
        result["judge_decision"] = "yes" if decision else "no"
        if decision:
            result.update(score=1.0, acc=1.0)
            _count(correct=1)
    except Exception as error:  # never raise a verdict fault into the trainer; reported and counted
        result["error"] = f"{type(error).__name__}: {error}"[:500]
        _count(errors=1)
    return result
