# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""data_prep.prepare_math: the five shipped evaluation sets, the authors' prompt rendered with real
tokenizers (Qwen2.5's, Llama-3's, an R1 template), a DeepMath-schema fixture, and bad input."""

import json

import pandas as pd
import pytest

from data_prep.prepare_math import DataError, main, normalize_problem, prepare
from tests.conftest import BENCHMARK_DIR, FIXTURES

EVAL_DIR = BENCHMARK_DIR
EXPECTED_ROWS = {"math500": 500, "amc23": 40, "aime24": 30, "aime25": 30, "olympiadbench": 675}
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


@pytest.fixture(scope="module")
def qwen_tokenizer(tiny_models):
    return str(tiny_models["base"])


@pytest.fixture(scope="module")
def prepared_eval(tmp_path_factory, qwen_tokenizer):
    out = tmp_path_factory.mktemp("eval_prep")
    return out, prepare(out, qwen_tokenizer, use_hub_train=False)


def test_five_shipped_benchmarks_convert(prepared_eval):
    out, summary = prepared_eval
    assert summary["options"]["eval_dir"] == str(BENCHMARK_DIR)  # the default: the repository's copy
    assert summary["written"] == EXPECTED_ROWS
    assert summary["skipped"] == {}
    for name, n in EXPECTED_ROWS.items():
        df = pd.read_parquet(out / "eval" / f"{name}.parquet")
        assert len(df) == n and set(df["data_source"]) == {name}
        gts = df["reward_model"].map(lambda r: r["ground_truth"])
        assert gts.map(lambda g: isinstance(g, str) and g.strip() != "").all()
        info = df.iloc[0]["extra_info"]
        assert info["format_gate"] == "boxed" and info["split"] == "test" and info["source_id"]
        prompt = list(df.iloc[0]["prompt"])
        assert len(prompt) == 1 and prompt[0]["role"] == "user"
        assert prompt[0]["content"] == f"{info['problem']} {INSTRUCTION}"


def test_gate_follows_the_rendered_prompt(tmp_path, qwen_tokenizer, llama3_tokenizer_dir, capsys):
    r1 = prepare(
        tmp_path / "r1", qwen_tokenizer, chat_template=FIXTURES / "r1_chat_template.jinja", use_hub_train=False,
        benchmarks=("aime24",), family="orz",
    )  # fmt: skip
    assert r1["format_gate"] == "r1" and r1["warnings"] == [] and "<answer>" in r1["example_prompt"]
    rows = pd.read_parquet(tmp_path / "r1" / "eval" / "aime24.parquet")
    assert set(rows["extra_info"].map(lambda e: e["format_gate"])) == {"r1"}
    llama = prepare(tmp_path / "llama", str(llama3_tokenizer_dir), use_hub_train=False, benchmarks=("aime24",))
    assert llama["format_gate"] == "boxed" and llama["example_prompt"].startswith("<|begin_of_text|>")
    # a family whose training gate differs from the rendered prompt's is reported
    wrong = prepare(tmp_path / "w", qwen_tokenizer, use_hub_train=False, benchmarks=("aime24",), family="orz")
    assert "is --tokenizer the orz model's?" in wrong["warnings"][0]
    assert main(["--out-dir", str(tmp_path / "cli"), "--tokenizer", qwen_tokenizer, "--no-train",
                 "--benchmarks", "aime24"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "format gate 'boxed'" in printed and "<|im_start|>user" in printed


def test_a_tokenizer_without_chat_template_stops_with_the_option_to_supply_one(tmp_path, tiny_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    tokenizer.chat_template = None
    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "tok" / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(DataError, match="no chat template.*--chat-template FILE"):
        prepare(tmp_path / "out", str(tmp_path / "tok"), use_hub_train=False, benchmarks=("aime24",))
    supplied = prepare(
        tmp_path / "out2", str(tmp_path / "tok"), chat_template=FIXTURES / "r1_chat_template.jinja",
        use_hub_train=False, benchmarks=("aime24",),
    )  # fmt: skip
    assert supplied["format_gate"] == "r1"


def test_output_loads_through_verls_rl_dataset(prepared_eval, tiny_models):
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    out, _ = prepared_eval
    tok = AutoTokenizer.from_pretrained(tiny_models["chat"])
    config = OmegaConf.create({"max_prompt_length": 1024, "prompt_key": "prompt", "filter_overlong_prompts": True})
    dataset = RLHFDataset(data_files=[str(out / "eval" / "aime24.parquet")], tokenizer=tok, config=config)
    assert len(dataset) == 30
    assert dataset[0]["data_source"] == "aime24"


def _deepmath_fixture(tmp_path):
    math500 = [json.loads(line) for line in (EVAL_DIR / "math500.jsonl").read_text().splitlines()[:3]]
    rows = [
        {"question": f"Compute {i} + {i}.", "final_answer": str(2 * i), "difficulty": float(i % 10), "topic": "arith"}
        for i in range(40)
    ]
    # the same problem as in MATH500, with other case, spacing and dollar signs: removed as overlap
    rows += [
        {
            "question": "  " + m["problem"].upper().replace("$", "") + " ",
            "final_answer": "1",
            "difficulty": 5.0,
            "topic": "t",
        }
        for m in math500
    ]
    rows += [
        {"question": "Compute 3 + 3.", "final_answer": "6", "difficulty": 3.0, "topic": "dup"},  # duplicate of row 3
        {"question": "What is 2+2?", "final_answer": "", "difficulty": 5.0, "topic": "empty answer"},
        {"question": 12345, "final_answer": "1", "difficulty": 5.0, "topic": "non-string question"},
        {"question": "Find x.", "final_answer": "3", "difficulty": "hard", "topic": "bad difficulty"},
    ]
    path = tmp_path / "deepmath.jsonl"  # jsonl: a parquet column cannot hold the non-string question
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_training_prep_filters_dedups_and_removes_eval_overlap(tmp_path, qwen_tokenizer):
    fixture = _deepmath_fixture(tmp_path)
    summary = prepare(
        tmp_path / "out", qwen_tokenizer, eval_dir=EVAL_DIR, train_files=[str(fixture)], benchmarks=("math500",)
    )
    assert summary["overlap_with_eval_removed"] == 3
    skipped = summary["skipped"]
    assert skipped[f"{fixture}: duplicate problem"] == 1
    assert skipped[f"{fixture}: field 'final_answer'"] == 1
    assert skipped[f"{fixture}: field 'question'"] == 1
    assert summary["written"]["train"] == 41  # 40 + "Find x." (no difficulty filter asked)
    train = pd.read_parquet(tmp_path / "out" / "train.parquet")
    assert set(train["data_source"]) == {"DeepMath-103K"}
    eval_keys = {normalize_problem(p) for p in pd.read_json(EVAL_DIR / "math500.jsonl", lines=True)["problem"]}
    assert not eval_keys & set(train["extra_info"].map(lambda e: normalize_problem(e["problem"])))
    assert any("field 'question': expected a string" in e for e in summary["skip_examples"])


def test_difficulty_filter_cap_and_seed(tmp_path, qwen_tokenizer):
    fixture = _deepmath_fixture(tmp_path)
    kw = {
        "eval_dir": EVAL_DIR,
        "train_files": [str(fixture)],
        "benchmarks": ("math500",),
        "min_difficulty": 5,
        "max_difficulty": 8,
    }
    a = prepare(tmp_path / "a", qwen_tokenizer, seed=1, max_train=6, **kw)
    prepare(tmp_path / "b", qwen_tokenizer, seed=1, max_train=6, **kw)
    prepare(tmp_path / "c", qwen_tokenizer, seed=2, max_train=6, **kw)
    assert a["written"]["train"] == 6
    assert a["skipped"][f"{fixture}: field 'difficulty'"] == 1
    assert a["skipped"][f"{fixture}: difficulty filter"] > 0
    problems = {
        k: list(pd.read_parquet(tmp_path / k / "train.parquet")["extra_info"].map(lambda e: e["problem"]))
        for k in "abc"
    }
    assert problems["a"] == problems["b"] != problems["c"]
    for p in problems["a"]:
        i = int(p.split()[1])
        assert 5 <= i % 10 <= 8


def test_idempotent_and_force(tmp_path, qwen_tokenizer):
    out = tmp_path / "x"
    first = prepare(out, qwen_tokenizer, use_hub_train=False, benchmarks=("aime25",))
    again = prepare(out, qwen_tokenizer, use_hub_train=False, benchmarks=("aime25",))
    assert again.get("kept") and again["written"] == first["written"]
    r1 = FIXTURES / "r1_chat_template.jinja"
    with pytest.raises(DataError, match="other options"):
        prepare(out, qwen_tokenizer, chat_template=r1, use_hub_train=False, benchmarks=("aime25",))
    rewritten = prepare(out, qwen_tokenizer, chat_template=r1, use_hub_train=False, benchmarks=("aime25",), force=True)
    assert rewritten["format_gate"] == "r1" and rewritten["options"]["chat_template"] == str(r1)


def test_bad_input_names_file_row_and_field(tmp_path, capsys, qwen_tokenizer):
    with pytest.raises(DataError, match="--tokenizer .*nowhere: cannot load a tokenizer"):
        prepare(tmp_path / "t", str(tmp_path / "nowhere"), use_hub_train=False)
    bad_dir = tmp_path / "evals"
    bad_dir.mkdir()
    for name in ("math500", "amc23", "aime24", "aime25", "olympiadbench"):
        (bad_dir / f"{name}.jsonl").write_text('{"problem": "p", "answer": "1"}\n')
    (bad_dir / "aime24.jsonl").write_text('{"problem": "p", "answer": "1"}\n{not json\n')
    with pytest.raises(DataError, match=r"aime24.jsonl row 1: not valid JSON"):
        prepare(tmp_path / "u", qwen_tokenizer, eval_dir=bad_dir, use_hub_train=False)
    (bad_dir / "aime24.jsonl").write_text('{"question_text": "p", "answer": "1"}\n')
    with pytest.raises(DataError, match=r"aime24.jsonl: no column 'problem' or 'question'"):
        prepare(tmp_path / "v", qwen_tokenizer, eval_dir=bad_dir, use_hub_train=False)
    (bad_dir / "aime24.jsonl").write_text('{"problem": "p", "answer": "1"}\n{"problem": "q", "answer": "  "}\n')
    with pytest.raises(DataError, match=r"aime24.jsonl row 1: field 'answer': empty"):
        prepare(tmp_path / "w", qwen_tokenizer, eval_dir=bad_dir, use_hub_train=False, strict=True)
    summary = prepare(tmp_path / "w2", qwen_tokenizer, eval_dir=bad_dir, use_hub_train=False)
    assert summary["skipped"] == {f"{bad_dir / 'aime24.jsonl'}: field 'answer'": 1}
    with pytest.raises(DataError, match="missing"):
        prepare(tmp_path / "z", qwen_tokenizer, eval_dir=tmp_path / "nowhere", use_hub_train=False)
    assert (
        main(["--out-dir", str(tmp_path / "cli"), "--tokenizer", qwen_tokenizer, "--chat-template", "nope.jinja"]) == 2
    )
    assert "--chat-template nope.jinja: no such file" in capsys.readouterr().err
