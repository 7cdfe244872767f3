# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The judge verifier in verl's real trainer (tests/e2e/jobs.py, job ``judge``): verl's reward loop
awaits recipe/laser/verifier/judge.py, which asks the stand-in judge server over HTTP for the answers
no rule decides. The stand-in decides integers as equality, so every reward must equal the rule
verifier's verdict on the same response; what only a GPU shows (verl serving TIGER-Lab/general-verifier
itself) is in docs/experiments.md."""

import re

import pandas as pd
import pytest
from transformers import AutoTokenizer

from recipe.laser.verifier.reward import compute_score

pytestmark = pytest.mark.slow


@pytest.mark.runs("judge")
def test_the_judge_rewards_the_trainers_responses_in_verls_reward_loop(jobs, e2e_inputs):
    run, requests, _ = jobs.get("judge")
    assert [s["_step"] for s in run.steps] == [1, 2]
    # the wrong answers reached the judge, asked in the general verifier's format with the row's question
    assert requests, "no response reached the judge"
    for body in requests:
        prompt = body["messages"][0]["content"]
        assert re.match(
            r"User: ### Question: What is .*\?\n\n### Ground Truth Answer: \d+\n\n### Student Answer: ", prompt
        )
        assert prompt.endswith("Assistant:") and body["temperature"] == 0.0
    for step in run.steps:
        assert step["verifier/judge_share"] > 0 and step["verifier/judge_fail_rate"] == 0.0
        assert step["verifier/error_rate"] == 0.0 and step["actor/laser/mse_loss"] > 0
    # each response's reward as the judge decided it equals the rule verifier's verdict
    tokenizer = AutoTokenizer.from_pretrained(e2e_inputs["MODEL_PATH"])
    rows = pd.read_parquet(f"{e2e_inputs['DATA_DIR']}/train.parquet").to_dict("records")
    truth = {r["extra_info"]["problem"]: r["reward_model"]["ground_truth"] for r in rows}
    assert run.dump
    rewards = []
    for record in run.dump:
        ids, n = record["input_ids"], record["response_length"]
        prompt = tokenizer.decode(ids[:-n], skip_special_tokens=True)
        problem = next(p for p in truth if p in prompt)
        response = tokenizer.decode(ids[-n:], skip_special_tokens=True)
        expected = compute_score("synthetic", response, truth[problem], {"format_gate": "boxed"})["score"]
        assert record["reward"] == expected, (response, truth[problem])
        rewards.append(record["reward"])
    assert 0 < sum(rewards) < len(rewards)  # right and wrong answers both


@pytest.mark.runs("judge")
def test_an_unreachable_judge_stops_the_run_with_its_address(jobs):
    """verl would train on the step's other responses if the reward raised; the judge reports instead,
    and the recipe's trainer stops the run at the step, naming the address."""
    _, _, (returncode, log) = jobs.get("judge")
    assert returncode != 0
    url = r"http://127\.0\.0\.1:\d+/v1/chat/completions"
    expected = rf"RuntimeError: \[laser\] step 1: judge:unavailable: judge at {url} is unreachable \(2 tries\)"
    assert re.search(expected, log), log[-3000:]
    assert "Error in _run_prompt" not in log  # no response dropped on the way
