# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The judge verifier (``recipe/laser/verifier/judge.py``) over real HTTP against the stand-in judge
server (``tests/fixtures/judge_server.py``): verdicts, what is decided without the judge, every fault,
and verl's own reward-function loader and reward manager calling it."""

import asyncio
import re
import socket
import time

import pytest

from recipe.laser.verifier import judge
from recipe.laser.verifier.judge import (
    JudgeUnavailableError,
    chat_url,
    compute_score,
    judge_prompt,
    parse_decision,
    unavailable_judge,
)
from recipe.laser.verifier.reward import verifier_stats, verifier_step_metrics
from tests.fixtures.judge_server import JudgeServer

QUESTION = "A car travels 100 m in 32 s. What is its speed in m/s?"
INFO = {"problem": QUESTION, "format_gate": "boxed"}


def score(server, answer_text, truth="3.125", info=INFO, **kwargs):
    return asyncio.run(compute_score("WebInstruct-verified", answer_text, truth, info, judge_url=server.url, **kwargs))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(judge, "RETRY_BACKOFF_S", 0.01)


@pytest.mark.parametrize(
    "reply, decision",
    [
        ("Final Decision: Yes", True),
        ("final decision: no", False),
        ("Reasoning...\n\nFinal Decision: **Yes**", True),
        ("Final Decision: No. Wait. Final Decision: Yes", True),  # the last one counts
        ("Final Decision:No", False),
        ("Yes, it is correct.", None),
        ("Final Decision: Maybe", None),
        ("", None),
    ],
)
def test_parse_decision(reply, decision):
    assert parse_decision(reply) is decision


def test_the_prompt_is_the_general_verifiers():
    prompt = judge_prompt(" Q? ", "3.125", " 3.13 m/s ")
    assert prompt.startswith(
        "User: ### Question: Q?\n\n### Ground Truth Answer: 3.125\n\n### Student Answer: 3.13 m/s\n\n"
    )
    assert 'output "Final Decision: Yes"' in prompt and prompt.endswith("Assistant:")


def test_chat_url():
    assert chat_url("http://h:8000", None) == "http://h:8000/v1/chat/completions"
    assert chat_url("http://h:8000/v1/", None) == "http://h:8000/v1/chat/completions"
    assert chat_url("http://h:8000/v1/chat/completions", "ignored:1") == "http://h:8000/v1/chat/completions"
    assert chat_url(None, "10.0.0.2:9000") == "http://10.0.0.2:9000/v1/chat/completions"  # verl's router
    with pytest.raises(JudgeUnavailableError, match="reward.reward_model.enable=True.*judge_url"):
        chat_url(None, None)


def test_the_judge_decides_what_no_rule_can():
    with JudgeServer() as server:
        right = score(server, "So v = \\boxed{3.13 m/s}", truth="3.125 m/s")
        wrong = score(server, "So v = \\boxed{31.25}")
        assert len(server.requests) == 2
        sent = server.requests[0]
    assert (right["score"], right["judge_decision"], right["decided_by"]) == (1.0, "yes", "judge")
    assert (wrong["score"], wrong["judge_decision"], wrong["decided_by"]) == (0.0, "no", "judge")
    assert sent["temperature"] == 0.0 and "model" not in sent  # the server's only model
    assert (
        "### Student Answer: 3.13 m/s" in sent["messages"][0]["content"] and QUESTION in sent["messages"][0]["content"]
    )


def test_exact_answers_choices_and_format_failures_never_reach_the_judge():
    mc = {"problem": "Pick one.", "options": ["3.125", "31.25"], "format_gate": "boxed"}
    with JudgeServer() as server:
        exact = score(server, "\\boxed{3.125}")
        choice = score(server, "\\boxed{A}", truth="A", info=mc)
        unformatted = score(server, "the speed is 3.125")
        assert server.requests == []
    assert (exact["score"], exact["decided_by"]) == (1.0, "exact")
    assert (choice["score"], choice["decided_by"], choice["judge_decision"]) == (1.0, "choice", "")
    assert (unformatted["score"], unformatted["error"], unformatted["decided_by"]) == (0.0, "format:no_box", "")


def test_a_reply_without_a_decision_is_counted_not_silent():
    before = verifier_stats().get("judge_no_decision", 0)
    with JudgeServer("no_decision") as server:
        result = score(server, "\\boxed{3.13}")
    assert (result["score"], result["error"], result["judge_decision"]) == (0.0, "judge:no_decision", "")
    assert verifier_stats()["judge_no_decision"] == before + 1


def test_a_hanging_judge_costs_the_timeout_per_try_and_is_counted():
    with JudgeServer("hang") as server:
        start = time.monotonic()
        result = score(server, "\\boxed{3.13}", timeout_s=0.5, max_tries=2)
        elapsed = time.monotonic() - start
    assert result["timed_out"] and result["score"] == 0.0 and result["error"] == "timed_out"
    assert elapsed < 3.0, elapsed


def test_a_server_error_is_retried():
    with JudgeServer("http500_once") as server:
        result = score(server, "\\boxed{3.13}", max_tries=2)
        assert len(server.requests) == 2
    assert result["score"] == 1.0


@pytest.mark.parametrize("behaviour, error", [("http400", "judge:http_400: "), ("bad_reply", "judge:bad_reply: ")])
def test_one_refused_request_scores_zero_with_its_error(behaviour, error):
    with JudgeServer(behaviour) as server:
        result = score(server, "\\boxed{3.13}")
    assert result["score"] == 0.0 and result["error"].startswith(error)


def test_a_wrong_address_is_an_unavailable_judge_named_with_its_url():
    """Not raised: verl's agent loop would drop the response and train on the rest (judge.py); the
    trainer stops the run on this error instead (test_trainer.py)."""
    with JudgeServer("http404") as server:
        result = score(server, "\\boxed{3.13}")
        url = server.url
    assert result["score"] == 0.0 and result["decided_by"] == "judge"
    assert re.match(rf"judge:unavailable: judge at {url}/v1/chat/completions answered HTTP 404", result["error"])
    assert unavailable_judge([{"error": ""}, result]) == result["error"]
    assert unavailable_judge([{"error": "judge:no_decision"}, {}]) is None


def test_an_unreachable_judge_is_an_unavailable_judge_named_with_its_url():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = asyncio.run(compute_score("w", "\\boxed{1}", "2", INFO, judge_url=f"http://127.0.0.1:{port}", max_tries=2))
    expected = rf"judge:unavailable: judge at http://127.0.0.1:{port}/v1/chat/completions is unreachable \(2 tries\)"
    assert result["score"] == 0.0 and re.match(expected, result["error"])


def test_no_judge_address_at_all_is_an_unavailable_judge():
    result = asyncio.run(compute_score("w", "\\boxed{1}", "2", INFO))
    assert result["error"].startswith("judge:unavailable: no judge to ask: set reward.reward_model.enable=True")


def test_bad_input_names_the_field():
    with JudgeServer() as server:
        no_question = score(server, "\\boxed{3.13}", info={"format_gate": "boxed"})
        no_truth = score(server, "\\boxed{3.13}", truth=" ")
    assert (
        no_question["score"] == 0.0 and "extra_info.problem: the judge needs the question text" in no_question["error"]
    )
    assert "ground_truth: expected a non-empty answer" in no_truth["error"]
    bad_options = score(server, "\\boxed{A}", truth="A", info={**INFO, "options": "AB"})  # reported, not raised
    assert bad_options["score"] == 0.0 and "extra_info.options: expected a list" in bad_options["error"]


def test_step_metrics_tell_judge_faults_from_errors():
    with JudgeServer() as server:
        infos = [score(server, "\\boxed{3.13}"), score(server, "\\boxed{3.125}"), score(server, "no box")]
    with JudgeServer("no_decision") as server:
        infos.append(score(server, "\\boxed{3.13}"))
    metrics = verifier_step_metrics(infos)
    assert metrics["verifier/judge_share"] == 0.5  # the first and the last
    assert metrics["verifier/judge_fail_rate"] == 0.25 and metrics["verifier/error_rate"] == 0.0
    assert metrics["verifier/format_fail_rate"] == 0.25


def test_many_concurrent_calls_each_get_their_verdict():
    async def many(url):
        answers = [f"\\boxed{{{3.125 + k}}}" for k in range(40)]
        return await asyncio.gather(*(compute_score("w", a, "3.125", INFO, judge_url=url) for a in answers))

    with JudgeServer() as server:
        results = asyncio.run(many(server.url))
    assert [r["score"] for r in results] == [1.0] + [0.0] * 39  # 3.125 exact; the others more than 1% away


def test_verls_reward_loader_and_reward_manager_call_the_judge(tiny_models):
    """verl 0.9.1's own path: get_custom_reward_fn binds reward_kwargs (judge_url) to the async
    function, and the reward loop's NaiveRewardManager awaits it on a decoded response."""
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    with JudgeServer() as server:
        config = OmegaConf.create(
            {
                "reward": {
                    "custom_reward_function": {
                        "path": str(judge.__file__),
                        "name": "compute_score",
                        "reward_kwargs": {"judge_url": server.url},
                    }
                }
            }
        )
        manager = NaiveRewardManager(config, tokenizer, get_custom_reward_fn(config))
        ids = tokenizer("The speed is \\boxed{3.13}.")["input_ids"]
        data = DataProto.from_dict(
            tensors={"responses": torch.tensor([ids]), "attention_mask": torch.ones(1, 3 + len(ids), dtype=torch.long)},
            non_tensors={
                "data_source": np.array(["WebInstruct-verified"], dtype=object),
                "reward_model": np.array([{"ground_truth": "3.125"}], dtype=object),
                "extra_info": np.array([dict(INFO)], dtype=object),
            },
        )

        async def run():
            manager.loop = asyncio.get_running_loop()
            return await manager.run_single(data)

        out = asyncio.run(run())
        assert len(server.requests) == 1
    assert out["reward_score"] == 1.0 and out["reward_extra_info"]["decided_by"] == "judge"


@pytest.mark.slow
def test_the_judge_client_speaks_to_vllms_openai_server(tiny_models, tmp_path, one_vllm_engine):
    """vLLM's own OpenAI server (vLLM for CPU, .venv-vllm) serving the tiny random model as the judge:
    the request as judge.py sends it (no model field, the chat template applied by the server) is
    accepted and the reply read. The random model gives no decision, which is counted, not a crash."""
    import os
    import subprocess
    import urllib.request

    from tests.conftest import REPO_DIR, require_vllm_env

    python = require_vllm_env()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "vllm.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_models["base"]),
         "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32", "--max-model-len", "1024",
         "--enforce-eager", "--block-size", "32", "--kv-cache-memory-bytes", str(256 << 20)],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO_DIR, env={**os.environ, "VLLM_TARGET_DEVICE": "cpu"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, (tmp_path / "vllm.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "vLLM did not come up in 600 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(2)
        url = f"http://127.0.0.1:{port}"
        reply, error = asyncio.run(
            judge.ask_judge(chat_url(url, None), judge_prompt(QUESTION, "3.125", "3.13"), None, 120, 1, 16)
        )
        assert error == "" and isinstance(reply, str), error
        result = asyncio.run(compute_score("w", "\\boxed{3.13}", "3.125", INFO, judge_url=url, max_tokens=16))
        assert result["decided_by"] == "judge" and result["error"] in ("", "judge:no_decision"), result
        assert (result["judge_decision"] != "") == (result["error"] == "")
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
