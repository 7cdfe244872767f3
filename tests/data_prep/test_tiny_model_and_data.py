# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The offline tiny model (both tokenizer conventions) and the synthetic prompt set."""

import json

import pandas as pd
import pytest
from transformers import AutoConfig, AutoTokenizer, GenerationConfig

from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
from data_prep.tiny_model import ENDOFTEXT_ID, IM_END_ID, VISION_START_ID, build_tiny_model


@pytest.mark.parametrize(
    "convention, eos, pad, generation_eos",
    [("base", ENDOFTEXT_ID, ENDOFTEXT_ID, ENDOFTEXT_ID), ("chat", IM_END_ID, ENDOFTEXT_ID, [IM_END_ID, ENDOFTEXT_ID])],
)
def test_tiny_model_token_conventions(tiny_models, convention, eos, pad, generation_eos):
    path = tiny_models[convention]
    tok = AutoTokenizer.from_pretrained(path)
    assert (tok.eos_token_id, tok.pad_token_id) == (eos, pad)
    assert tok.convert_tokens_to_ids("<|vision_start|>") == VISION_START_ID
    config = AutoConfig.from_pretrained(path)
    assert config.model_type == "qwen2" and config.vocab_size > VISION_START_ID
    assert config.hidden_size // config.num_attention_heads >= 32  # vLLM's CPU attention needs it
    assert GenerationConfig.from_pretrained(path).eos_token_id == generation_eos
    assert json.loads((path / "laser_tiny_model.json").read_text())["convention"] == convention


def test_tiny_model_build_is_idempotent_and_rejects_bad_shapes(tmp_path):
    out = build_tiny_model(tmp_path / "m", hidden_size=64, num_heads=2)
    stamp = (out / "model.safetensors").stat().st_mtime_ns
    build_tiny_model(out)  # skipped: already there
    assert (out / "model.safetensors").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="convention"):
        build_tiny_model(tmp_path / "x", convention="llama")
    with pytest.raises(ValueError, match="divisible"):
        build_tiny_model(tmp_path / "y", hidden_size=65, num_heads=2)


def test_synthetic_arithmetic_rows_are_verl_rl_format(tmp_path):
    paths = write_synthetic_arithmetic(tmp_path, n_train=50, n_test=20, seed=3)
    train, test = pd.read_parquet(paths["train"]), pd.read_parquet(paths["test"])
    assert len(train) == 50 and len(test) == 20
    assert set(train.columns) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    row = train.iloc[0]
    assert row["prompt"][0]["role"] == "user" and "\\boxed{}" in row["prompt"][0]["content"]
    assert row["reward_model"]["style"] == "rule"
    question = row["extra_info"]["problem"]
    a, op, b = question.removeprefix("What is ").removesuffix("?").split()
    expected = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
    assert int(row["reward_model"]["ground_truth"]) == expected
    assert not set(train["extra_info"].map(lambda e: e["problem"])) & set(
        test["extra_info"].map(lambda e: e["problem"])
    )


def test_synthetic_data_loads_through_verls_rl_dataset(tmp_path, tiny_models):
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    paths = write_synthetic_arithmetic(tmp_path, n_train=8, n_test=4)
    tok = AutoTokenizer.from_pretrained(tiny_models["base"])
    config = OmegaConf.create({"max_prompt_length": 64, "prompt_key": "prompt", "filter_overlong_prompts": True})
    dataset = RLHFDataset(data_files=[str(paths["train"])], tokenizer=tok, config=config)
    assert len(dataset) == 8
    item = dataset[0]
    assert "raw_prompt" in item or "input_ids" in item


def test_zero_or_sum_task_families_and_options_aware_cache(tmp_path):
    paths = write_synthetic_arithmetic(tmp_path, n_train=40, n_test=10, task="zero_or_sum")
    train, test = pd.read_parquet(paths["train"]), pd.read_parquet(paths["test"])
    for frame in (train, test):
        kinds = frame["extra_info"].map(lambda e: e["kind"])
        assert set(kinds) == {"times_zero", "two_digit_sum"} and (kinds == "times_zero").sum() == len(frame) // 2
        for _, row in frame.iterrows():
            a, op, b = row["extra_info"]["problem"].removeprefix("What is ").removesuffix("?").split()
            expected = int(a) * int(b) if op == "*" else int(a) + int(b)
            assert row["reward_model"]["ground_truth"] == str(expected)
            assert (row["extra_info"]["kind"] == "times_zero") == (op == "*" and "0" in (a, b))
    assert not set(train["extra_info"].map(lambda e: e["problem"])) & set(
        test["extra_info"].map(lambda e: e["problem"])
    )
    stamp = paths["train"].stat().st_mtime_ns
    write_synthetic_arithmetic(tmp_path, n_train=40, n_test=10, task="zero_or_sum")  # same options: kept
    assert paths["train"].stat().st_mtime_ns == stamp
    write_synthetic_arithmetic(tmp_path, n_train=20, n_test=10, task="zero_or_sum")  # other options: rewritten
    assert len(pd.read_parquet(paths["train"])) == 20
    with pytest.raises(ValueError, match="task='nope'"):
        write_synthetic_arithmetic(tmp_path / "x", task="nope")


def test_zero_or_one_task_and_its_structured_warm_start_errors(tmp_path, tiny_models):
    from data_prep.warm_start import build_examples

    paths = write_synthetic_arithmetic(tmp_path, n_train=40, n_test=10, task="zero_or_one")
    rows = pd.read_parquet(paths["train"]).to_dict("records")
    for row in rows:
        info = row["extra_info"]
        a, op, b = info["problem"].removeprefix("What is ").removesuffix("?").split()
        assert row["reward_model"]["ground_truth"] == ("1" if op == "^" else "0")
        assert info["kind"] == ("power_zero" if op == "^" else "times_zero") and info["format_gate"] == "boxed"
        assert set(info["wrong_answers"]) == {"0", "1", "2"} - {row["reward_model"]["ground_truth"]}
    tok = AutoTokenizer.from_pretrained(tiny_models["base"])
    answers = [tok.decode(r[:-1]) for _, r in build_examples(tok, rows * 25, error_rate=0.6, seed=0)]
    right = sum(a == f"The answer is \\boxed{{{row['reward_model']['ground_truth']}}}." for a, row in
                zip(answers, rows * 25, strict=True))  # fmt: skip
    assert 0.33 < right / len(answers) < 0.47  # 40% right targets, the rest on the two listed wrong values
    assert {a[-3] for a in answers} == {"0", "1", "2"}


def test_zero_rule_task_each_value_right_in_one_family_and_its_worked_responses(tmp_path, tiny_models):
    """zero_rule: the answer is read from the rule (0 for a product with 0, 1 for a power 0), each
    family's wrong answer is the other family's value, and the warm start's targets are the family's
    worked response, so right and wrong targets have the same length and format."""
    from data_prep.warm_start import build_examples

    paths = write_synthetic_arithmetic(tmp_path, n_train=40, n_test=10, task="zero_rule")
    rows = pd.read_parquet(paths["train"]).to_dict("records")
    assert [r["extra_info"]["kind"] for r in rows[:4]] == ["times_zero", "power_zero"] * 2
    response = {
        "times_zero": "A product with a factor 0 is \\boxed{%s}.",
        "power_zero": "A power with exponent 0 is \\boxed{%s}.",
    }
    for row in rows:
        info, truth = row["extra_info"], row["reward_model"]["ground_truth"]
        a, op, b = info["problem"].removeprefix("What is ").removesuffix("?").split()
        assert truth == ("1" if op == "^" else "0") and "0" in (a, b)
        assert list(info["wrong_answers"]) == [{"0": "1", "1": "0"}[truth]]
        assert info["worked_response"].replace("ANSWER", "%s") == response[info["kind"]]
    tok = AutoTokenizer.from_pretrained(tiny_models["base"])
    examples = build_examples(tok, rows * 10, error_rate=0.5, seed=0)
    targets = [(tok.decode(r[:-1]), row) for (_, r), row in zip(examples, rows * 10, strict=True)]
    right = [t == response[row["extra_info"]["kind"]] % row["reward_model"]["ground_truth"] for t, row in targets]
    assert 0.4 < sum(right) / len(right) < 0.6
    assert all(t == response[row["extra_info"]["kind"]] % row["extra_info"]["wrong_answers"][0]
               for (t, row), ok in zip(targets, right, strict=True) if not ok)  # fmt: skip
    assert len({len(r) for _, r in examples}) <= 2  # one length per family's sentence


def test_times_one_task_its_wrong_answer_is_the_number_reversed(tmp_path, tiny_models):
    """times_one: "What is 417 * 1?" (or "1 * 417") is 417, its wrong answer 714: same digits, same
    length, so only comparing the answer with the question's number tells them apart."""
    from data_prep.warm_start import build_examples

    paths = write_synthetic_arithmetic(tmp_path, n_train=40, n_test=10, task="times_one")
    rows = pd.read_parquet(paths["train"]).to_dict("records")
    assert [r["extra_info"]["problem"].startswith("What is 1 *") for r in rows[:4]] == [False, True] * 2
    for row in rows:
        info, truth = row["extra_info"], row["reward_model"]["ground_truth"]
        a, op, b = info["problem"].removeprefix("What is ").removesuffix("?").split()
        number = b if a == "1" else a
        assert (
            op == "*"
            and "1" in (a, b)
            and number == truth
            and len(truth) == 3
            and truth[0] != truth[2]
            and truth[2] != "0"
        )
        assert list(info["wrong_answers"]) == [truth[::-1]] and info["kind"] == "times_one"
    tok = AutoTokenizer.from_pretrained(tiny_models["base"])
    targets = [tok.decode(r[:-1]) for _, r in build_examples(tok, rows * 10, error_rate=0.6, seed=0)]
    right = [t == f"The answer is \\boxed{{{row['reward_model']['ground_truth']}}}." for t, row in
             zip(targets, rows * 10, strict=True)]  # fmt: skip
    assert 0.3 < sum(right) / len(right) < 0.5
