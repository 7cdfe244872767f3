# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Prepare the paper's general-reasoning sets as verl RL parquet: WebInstruct-verified for training
(judged by a model, ``recipe/laser/verifier/judge.py``) and MMLU-Pro and GPQA-Diamond for evaluation
(multiple choice, graded by letter), with the authors' prompt.

    # from the hub (GPQA is gated: accept its terms on the hub and log in, or pass --source-dir)
    python -m data_prep.prepare_general --out-dir data/general_qwen3 --tokenizer Qwen/Qwen3-4B-Base
    # from local files of the upstream schemas (the test fixtures: tests/fixtures/general)
    python -m data_prep.prepare_general --out-dir /tmp/general --tokenizer <model> --source-dir tests/fixtures/general

The prompt is ``prepare_math``'s: one user turn, the problem, one space and the boxed instruction,
rendered by the model's chat template (which also decides the format gate). A multiple-choice
problem lists its options as ``A. ...`` lines and asks for the letter; its ground truth is the
letter and ``extra_info.options`` holds the option texts, so the verifier grades the boxed letter
(``answers.choice_letter``: ``C``, ``(C)``, ``C. <its text>`` or the option's text). GPQA-Diamond's
four answers are put in a seeded order per record (``--seed``), so the right letter is spread evenly.

Sources (``--source-dir`` holds the local files; otherwise the hub id, split in brackets):
- WebInstruct-verified: ``webinstruct_verified.jsonl`` or TIGER-Lab/WebInstruct-verified [train];
  question, answer (id, answer_type, category, difficulty are kept).
- MMLU-Pro: ``mmlu_pro.jsonl`` or TIGER-Lab/MMLU-Pro [test]; question, options, answer (a letter),
  answer_index (checked against it), question_id, category.
- GPQA-Diamond: ``gpqa_diamond.jsonl`` or Idavidrein/gpqa, config gpqa_diamond [train]; Question,
  Correct Answer, Incorrect Answer 1-3, Record ID, High-level domain, Subdomain.

Writes ``train.parquet``, ``eval/mmlu_pro.parquet``, ``eval/gpqa_diamond.parquet`` and
``summary.json``; idempotent like ``prepare_math`` (``--force`` rewrites). Rows with an unusable
field (an empty answer, a letter outside the options, an empty option) are skipped and counted, the
first few printed with file, row and field; ``--strict`` stops at the first. Training rows that
repeat one another or an evaluation question are removed and counted.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from data_prep.prepare_math import (
    DataError,
    Report,
    _require_columns,
    _text_field,
    make_row,
    normalize_problem,
    prepared_before,
    print_counts,
    read_rows,
    rendered_gate,
    write_summary,
)
from recipe.laser.atomic import write_parquet_atomic
from recipe.laser.verifier.answers import OPTION_LETTERS

WEBINSTRUCT = "WebInstruct-verified"
CHOICE_INSTRUCTION = "Answer with the letter of the correct option."


@dataclass(frozen=True)
class Source:
    name: str
    local_file: str
    hub_id: str
    hub_config: str | None
    hub_split: str


TRAIN_SOURCE = Source(WEBINSTRUCT, "webinstruct_verified.jsonl", "TIGER-Lab/WebInstruct-verified", None, "train")
EVAL_SOURCES = (
    Source("mmlu_pro", "mmlu_pro.jsonl", "TIGER-Lab/MMLU-Pro", None, "test"),
    Source("gpqa_diamond", "gpqa_diamond.jsonl", "Idavidrein/gpqa", "gpqa_diamond", "train"),
)


def load_source(source: Source, source_dir: Path | None) -> tuple[list[dict], str]:
    """(rows, label) from ``source_dir`` or, when it is None, from the hub."""
    if source_dir is not None:
        path = source_dir / source.local_file
        if not path.is_file():
            raise DataError(f"{path}: missing; --source-dir must hold {source.local_file}")
        return read_rows(path), str(path)
    from datasets import load_dataset  # needs the hub (and, for GPQA, an accepted licence and a token)

    try:
        rows = load_dataset(source.hub_id, source.hub_config, split=source.hub_split)
    except Exception as error:  # gated or unreachable: say which set and what to do
        raise DataError(
            f"{source.hub_id} ({source.hub_config or 'default'}) [{source.hub_split}]: cannot load ({error}); "
            "for a gated set accept its terms on the hub and log in (huggingface-cli login), or pass --source-dir"
        ) from None
    return list(rows), f"{source.hub_id}[{source.hub_split}]"


def choice_problem(question: str, options: list[str]) -> str:
    """The question, its options as ``A. text`` lines and the request for the letter."""
    lines = "\n".join(f"{OPTION_LETTERS[i]}. {option}" for i, option in enumerate(options))
    return f"{question}\n\nOptions:\n{lines}\n\n{CHOICE_INSTRUCTION}"


def _options_field(row: dict, key: str) -> list[str]:
    options = row.get(key)
    if isinstance(options, str) or not hasattr(options, "__len__"):
        raise ValueError(f"field {key!r}: expected a list of option texts, got {type(options).__name__}")
    options = [o.strip() if isinstance(o, str) else o for o in options]
    if not 2 <= len(options) <= len(OPTION_LETTERS):
        raise ValueError(f"field {key!r}: expected 2 to {len(OPTION_LETTERS)} options, got {len(options)}")
    if not all(isinstance(o, str) and o for o in options):
        raise ValueError(f"field {key!r}: an option is empty or not a string")
    return options


def mmlu_pro_item(row: dict, seed: int) -> tuple[str, list[str], str, str, dict]:
    """(question, options, answer letter, id, extra) of an MMLU-Pro row."""
    question = _text_field(row, ("question",))
    options = _options_field(row, "options")
    letter = _text_field(row, ("answer",)).upper()
    if letter not in OPTION_LETTERS[: len(options)]:
        raise ValueError(f"field 'answer': {letter!r} is not one of the {len(options)} option letters")
    index = row.get("answer_index")
    if index is not None and OPTION_LETTERS[int(index)] != letter:
        raise ValueError(f"field 'answer_index': {index} disagrees with answer {letter!r}")
    extra = {"category": str(row.get("category", "")), "subcategory": ""}  # GPQA's fields: one schema in verl
    return question, options, letter, str(row.get("question_id", "")), extra


GPQA_WRONG = ("Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")


def gpqa_item(row: dict, seed: int) -> tuple[str, list[str], str, str, dict]:
    """(question, options, answer letter, id, extra) of a GPQA row: the correct answer and the three
    wrong ones in an order drawn from the seed and the record id."""
    question = _text_field(row, ("Question",))
    correct = _text_field(row, ("Correct Answer",))
    wrong = [_text_field(row, (key,)) for key in GPQA_WRONG]
    record = str(row.get("Record ID", ""))
    options = [correct, *wrong]
    random.Random(f"{seed}:{record or question}").shuffle(options)
    extra = {"category": str(row.get("High-level domain", "")), "subcategory": str(row.get("Subdomain", ""))}
    return question, options, OPTION_LETTERS[options.index(correct)], record, extra


ITEM_READERS = {
    "mmlu_pro": (mmlu_pro_item, ("question",), ("options",)),
    "gpqa_diamond": (gpqa_item, ("Question",), ("Correct Answer",)),
}


def eval_rows(source: Source, raw: list[dict], label: str, gate: str, seed: int, report: Report, strict: bool):
    """verl rows of a multiple-choice benchmark; unusable rows skipped and counted."""
    reader, problem_keys, answer_keys = ITEM_READERS[source.name]
    _require_columns(raw, problem_keys, label)
    _require_columns(raw, answer_keys, label)
    rows = []
    for i, row in enumerate(raw):
        try:
            question, options, letter, source_id, extra = reader(row, seed)
        except (ValueError, TypeError, IndexError) as e:
            report.skip(f"{label} row {i}", str(e), strict)
            continue
        rows.append(
            make_row(
                source.name, choice_problem(question, options), letter, gate, "test", len(rows), source_id or str(i),
                ability="general", extra={"options": options, **extra},
            )
        )  # fmt: skip
    return rows


def train_rows(raw, label, eval_keys, gate, answer_types, max_train, seed, report, strict) -> tuple[list[dict], int]:
    """WebInstruct-verified rows in a seeded order without repeats and evaluation questions, and how
    many evaluation questions were removed."""
    _require_columns(raw, ("question",), label)
    _require_columns(raw, ("answer",), label)
    order = list(range(len(raw)))
    random.Random(seed).shuffle(order)
    rows, seen, overlap = [], set(), 0
    for i in order:
        if max_train is not None and len(rows) >= max_train:
            break
        row = raw[i]
        if answer_types and row.get("answer_type") not in answer_types:
            report.skipped[f"{label}: answer_type filter"] += 1
            continue
        try:
            question = _text_field(row, ("question",))
            answer = _text_field(row, ("answer",), numeric_ok=True)
        except ValueError as e:
            report.skip(f"{label} row {i}", str(e), strict)
            continue
        key = normalize_problem(question)
        if key in eval_keys:
            overlap += 1
            continue
        if key in seen:
            report.skipped[f"{label}: duplicate problem"] += 1
            continue
        seen.add(key)
        kept = {k: str(row.get(k, "")) for k in ("answer_type", "category", "difficulty")}
        rows.append(
            make_row(
                WEBINSTRUCT, question, answer, gate, "train", len(rows), str(row.get("id", i)),
                ability="general", reward_style="model", extra=kept,
            )
        )  # fmt: skip
    return rows, overlap


def prepare(
    out_dir: str | Path,
    tokenizer: str,
    source_dir: str | Path | None = None,
    chat_template: str | Path | None = None,
    train: bool = True,
    answer_types: tuple[str, ...] = (),
    max_train: int | None = None,
    seed: int = 0,
    strict: bool = False,
    force: bool = False,
) -> dict:
    """Write the training and evaluation parquet files; returns the summary (also in summary.json)."""
    out = Path(out_dir)
    if chat_template is not None and not Path(chat_template).is_file():
        raise DataError(f"--chat-template {chat_template}: no such file")
    options = {
        "tokenizer": str(tokenizer),
        "chat_template": str(chat_template) if chat_template else None,
        "source_dir": str(source_dir) if source_dir else None,
        "train": train,
        "answer_types": list(answer_types),
        "max_train": max_train,
        "seed": seed,
    }
    previous = prepared_before(out, options, force)
    if previous is not None:
        return previous
    gate, example = rendered_gate(str(tokenizer), Path(chat_template).read_text() if chat_template else None)
    source_path = Path(source_dir) if source_dir else None
    report = Report()
    evaluation = {}
    for source in EVAL_SOURCES:
        raw, label = load_source(source, source_path)
        evaluation[source.name] = eval_rows(source, raw, label, gate, seed, report, strict)
    # an evaluation question is recognised in training data by its text without the options
    eval_keys = {
        normalize_problem(r["extra_info"]["problem"].split("\n\nOptions:\n")[0])
        for rows in evaluation.values()
        for r in rows
    }
    overlap = 0
    if train:
        raw, label = load_source(TRAIN_SOURCE, source_path)
        rows, overlap = train_rows(raw, label, eval_keys, gate, set(answer_types), max_train, seed, report, strict)
        write_parquet_atomic(out / "train.parquet", rows)
        report.written["train"] = len(rows)
    for name, rows in evaluation.items():
        write_parquet_atomic(out / "eval" / f"{name}.parquet", rows)
        report.written[name] = len(rows)
    return write_summary(out, options, gate, example, report, overlap, warnings=[])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--tokenizer", required=True, help="the model (folder or hub id) whose chat template renders")
    parser.add_argument("--chat-template", default=None, help="a jinja chat template file, for a tokenizer without one")
    parser.add_argument("--source-dir", default=None, help="a folder with the three local files (default: the hub)")
    parser.add_argument("--no-train", action="store_true", help="evaluation sets only")
    parser.add_argument("--answer-types", nargs="*", default=[], help="keep only these WebInstruct answer_type values")
    parser.add_argument("--max-train", type=int, default=None, help="cap on training rows (after shuffling)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed, and GPQA's option order")
    parser.add_argument("--strict", action="store_true", help="stop at the first unusable row instead of skipping it")
    parser.add_argument("--force", action="store_true", help="rewrite an existing folder")
    args = parser.parse_args(argv)
    try:
        summary = prepare(
            args.out_dir, args.tokenizer, source_dir=args.source_dir, chat_template=args.chat_template,
            train=not args.no_train, answer_types=tuple(args.answer_types), max_train=args.max_train,
            seed=args.seed, strict=args.strict, force=args.force,
        )  # fmt: skip
    except DataError as e:
        print(f"prepare_general: error: {e}", file=sys.stderr)
        return 2
    state = "kept (same options; --force rewrites)" if summary.get("kept") else "written"
    print(f"prepare_general: {args.out_dir} {state}; format gate {summary['format_gate']!r}")
    print_counts(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
