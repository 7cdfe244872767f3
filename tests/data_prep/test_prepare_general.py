# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""data_prep.prepare_general: WebInstruct-verified, MMLU-Pro and GPQA-Diamond from fixtures of the
upstream schemas (tests/fixtures/general), rendered with a real Qwen tokenizer; skips and bad input."""

import json
from collections import Counter

import pandas as pd
import pytest

from data_prep.prepare_general import CHOICE_INSTRUCTION, main, prepare
from data_prep.prepare_math import DataError
from recipe.laser.verifier.reward import compute_score
from tests.conftest import FIXTURES

SOURCE_DIR = FIXTURES / "general"
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    return str(tiny_models["base"])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, tokenizer):
    out = tmp_path_factory.mktemp("general")
    return out, prepare(out, tokenizer, source_dir=SOURCE_DIR)


def read(path):
    return pd.read_parquet(path).to_dict("records")


def fixture_rows(name):
    return [json.loads(line) for line in (SOURCE_DIR / name).read_text().splitlines()]


def test_fixtures_convert_and_every_unusable_row_is_counted(prepared):
    out, summary = prepared
    assert summary["written"] == {"train": 12, "mmlu_pro": 5, "gpqa_diamond": 4}
    assert summary["skipped"] == {
        f"{SOURCE_DIR}/mmlu_pro.jsonl: field 'answer'": 1,  # letter Q among two options
        f"{SOURCE_DIR}/gpqa_diamond.jsonl: field 'Incorrect Answer 3'": 1,  # empty
        f"{SOURCE_DIR}/webinstruct_verified.jsonl: field 'answer'": 1,  # empty
        f"{SOURCE_DIR}/webinstruct_verified.jsonl: duplicate problem": 1,
    }
    assert any(
        "mmlu_pro.jsonl row 5: field 'answer': 'Q' is not one of the 2 option letters" in e
        for e in summary["skip_examples"]
    )
    assert summary["format_gate"] == "boxed"


def test_training_rows_are_judged_rows_with_the_authors_prompt(prepared):
    out, _ = prepared
    rows = read(out / "train.parquet")
    by_id = {r["extra_info"]["source_id"]: r for r in rows}
    row = by_id["wi-0001"]
    assert row["data_source"] == "WebInstruct-verified" and row["reward_model"]["style"] == "model"
    assert row["reward_model"]["ground_truth"] == "60 km/h"
    assert row["prompt"][0]["content"] == f"{row['extra_info']['problem']} {INSTRUCTION}"
    info = row["extra_info"]
    assert (info["answer_type"], info["category"], info["difficulty"]) == ("Float", "Physics", "Junior High School")
    assert len({r["extra_info"]["source_id"] for r in rows}) == 12 and [r["extra_info"]["index"] for r in rows] == list(
        range(12)
    )


def test_mmlu_pro_rows_list_their_options_and_keep_the_letter(prepared):
    out, _ = prepared
    rows = {r["extra_info"]["source_id"]: r for r in read(out / "eval" / "mmlu_pro.parquet")}
    row = rows["70001"]
    assert row["reward_model"]["ground_truth"] == "C" and list(row["extra_info"]["options"])[2] == "Mitochondrion"
    problem = row["extra_info"]["problem"]
    assert problem.startswith(
        "Which organelle is the site of cellular respiration?\n\nOptions:\nA. Nucleus\nB. Ribosome\n"
    )
    assert problem.endswith(f"D. Golgi apparatus\n\n{CHOICE_INSTRUCTION}")
    assert len(rows["70005"]["extra_info"]["options"]) == 10 and "J. express" in rows["70005"]["extra_info"]["problem"]
    # the verifier grades a boxed letter on the row as written
    info = dict(row["extra_info"])
    assert compute_score("mmlu_pro", "\\boxed{C}", "C", info)["score"] == 1.0
    assert compute_score("mmlu_pro", "\\boxed{Ribosome}", "C", info)["score"] == 0.0


def test_gpqa_options_are_shuffled_by_seed_and_the_letter_follows_the_correct_answer(prepared, tokenizer, tmp_path):
    out, _ = prepared
    raw = {r["Record ID"]: r for r in fixture_rows("gpqa_diamond.jsonl")}
    first = read(out / "eval" / "gpqa_diamond.parquet")
    for row in first:
        options, letter = list(row["extra_info"]["options"]), row["reward_model"]["ground_truth"]
        source = raw[row["extra_info"]["source_id"]]
        assert options["ABCD".index(letter)] == source["Correct Answer"]
        assert sorted(options) == sorted(
            [source["Correct Answer"], *(source[f"Incorrect Answer {k}"] for k in (1, 2, 3))]
        )
        assert row["extra_info"]["category"] == source["High-level domain"]

    def gpqa_options(out, seed):
        prepare(out, tokenizer, source_dir=SOURCE_DIR, train=False, seed=seed)
        return [list(r["extra_info"]["options"]) for r in read(out / "eval" / "gpqa_diamond.parquet")]

    options = [list(r["extra_info"]["options"]) for r in first]
    assert gpqa_options(tmp_path / "same", 0) == options
    assert gpqa_options(tmp_path / "seed1", 1) != options


def test_gpqa_letters_are_spread_over_the_options(tokenizer, tmp_path):
    template = fixture_rows("gpqa_diamond.jsonl")[0]
    source = tmp_path / "src"
    source.mkdir()
    rows = [{**template, "Record ID": f"rec{k}", "Question": f"Question {k}?"} for k in range(200)]
    (source / "gpqa_diamond.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (source / "mmlu_pro.jsonl").write_text((SOURCE_DIR / "mmlu_pro.jsonl").read_text())
    prepare(tmp_path / "out", tokenizer, source_dir=source, train=False)
    letters = Counter(r["reward_model"]["ground_truth"] for r in read(tmp_path / "out/eval/gpqa_diamond.parquet"))
    assert set(letters) == set("ABCD") and min(letters.values()) >= 30, letters


def test_both_benchmarks_share_one_extra_info_schema(prepared):
    """verl's validation set reads the evaluation files together; their extra_info fields must agree."""
    out, _ = prepared
    keys = [set(read(out / "eval" / f"{name}.parquet")[0]["extra_info"]) for name in ("mmlu_pro", "gpqa_diamond")]
    assert keys[0] == keys[1]


def test_training_rows_that_repeat_an_evaluation_question_are_removed(tokenizer, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("mmlu_pro.jsonl", "gpqa_diamond.jsonl"):
        (source / name).write_text((SOURCE_DIR / name).read_text())
    web = fixture_rows("webinstruct_verified.jsonl")
    web.append(
        {"id": "leak", "question": "Which organelle is the site of  cellular respiration?", "answer": "mitochondrion"}
    )
    (source / "webinstruct_verified.jsonl").write_text("".join(json.dumps(r) + "\n" for r in web))
    summary = prepare(tmp_path / "out", tokenizer, source_dir=source)
    assert summary["overlap_with_eval_removed"] == 1 and summary["written"]["train"] == 12


def test_answer_type_filter_and_cap(tokenizer, tmp_path):
    summary = prepare(tmp_path / "out", tokenizer, source_dir=SOURCE_DIR, answer_types=("Float",), max_train=3)
    rows = read(tmp_path / "out/train.parquet")
    assert len(rows) == 3 and {r["extra_info"]["answer_type"] for r in rows} == {"Float"}
    assert summary["skipped"][f"{SOURCE_DIR}/webinstruct_verified.jsonl: answer_type filter"] >= 1


def test_strict_stops_at_the_first_unusable_row_with_file_row_and_field(tokenizer, tmp_path):
    with pytest.raises(
        DataError, match=r"mmlu_pro.jsonl row 5: field 'answer': 'Q' is not one of the 2 option letters"
    ):
        prepare(tmp_path / "out", tokenizer, source_dir=SOURCE_DIR, strict=True)


@pytest.mark.parametrize(
    "name, row, message",
    [
        (
            "mmlu_pro.jsonl",
            {"question": "q", "options": ["a", "b"], "answer": "A", "answer_index": 1},
            "field 'answer_index': 1 disagrees with answer 'A'",
        ),
        (
            "mmlu_pro.jsonl",
            {"question": "q", "options": "a b", "answer": "A"},
            "field 'options': expected a list of option texts",
        ),
        (
            "mmlu_pro.jsonl",
            {"question": "q", "options": ["a"], "answer": "A"},
            "field 'options': expected 2 to 16 options, got 1",
        ),
        (
            "mmlu_pro.jsonl",
            {"question": "q", "options": ["a", ""], "answer": "A"},
            "field 'options': an option is empty",
        ),
    ],
)
def test_bad_rows_name_their_field(tokenizer, tmp_path, name, row, message):
    source = tmp_path / "src"
    source.mkdir()
    for fixture in ("mmlu_pro.jsonl", "gpqa_diamond.jsonl", "webinstruct_verified.jsonl"):
        (source / fixture).write_text((SOURCE_DIR / fixture).read_text())
    (source / name).write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=message):
        prepare(tmp_path / "out", tokenizer, source_dir=source, strict=True)


def test_a_file_of_another_schema_or_a_missing_file_stops_with_its_name(tokenizer, tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    (source / "mmlu_pro.jsonl").write_text(json.dumps({"prompt": "q", "label": 1}) + "\n")
    with pytest.raises(DataError, match=r"mmlu_pro.jsonl: no column 'question' \(found \['label', 'prompt'\]\)"):
        prepare(tmp_path / "out", tokenizer, source_dir=source)
    assert (
        main(["--out-dir", str(tmp_path / "o2"), "--tokenizer", tokenizer, "--source-dir", str(tmp_path / "none")]) == 2
    )
    assert "mmlu_pro.jsonl: missing; --source-dir must hold mmlu_pro.jsonl" in capsys.readouterr().err


def test_a_prepared_folder_is_kept_and_other_options_are_refused(prepared, tokenizer):
    out, summary = prepared
    assert prepare(out, tokenizer, source_dir=SOURCE_DIR)["kept"] is True
    with pytest.raises(DataError, match="prepared with other options"):
        prepare(out, tokenizer, source_dir=SOURCE_DIR, seed=5)
