# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Prepare LaSeR's prompt sets as verl RL parquet: DeepMath-103K for training, and the five evaluation
benchmarks (MATH500, AMC23, AIME24, AIME25, OlympiadBench), with the authors' prompt.

    # the five benchmarks shipped in data_prep/benchmarks, prompts rendered with Qwen2.5's chat template
    python -m data_prep.prepare_math --out-dir data/math_qwen2.5 --tokenizer Qwen/Qwen2.5-7B --no-train
    # training set from the hub (or --train-files a.parquet b.jsonl of its schema), filtered and capped
    python -m data_prep.prepare_math --out-dir data/math_orz --tokenizer Open-Reasoner-Zero/Open-Reasoner-Zero-7B \
        --min-difficulty 5 --max-train 20000 --seed 0

Every row holds the same prompt for every backbone: one user turn, the problem, one space, then "Please
reason step by step, and put your final answer within \\boxed{}." (verl renders it with the model's
chat template). Its format gate is decided as the authors do, from the rendered prompt (``<answer>``
and ``</answer>`` in it: the R1 gate; otherwise exactly one ``\\boxed{``), here with the model's
tokenizer, and stored in ``extra_info.format_gate``. A tokenizer without a chat template stops with a
message; ``--chat-template FILE`` supplies one (train with ``laser.chat_template_file=FILE`` too).

Writes ``train.parquet``, ``eval/<benchmark>.parquet`` and ``summary.json`` (rows written and skipped
by reason, overlap removed, the format gate, a rendered prompt, the options). Idempotent: a folder
prepared with the same options is kept; ``--force`` rewrites. Rows with an unusable field are skipped
and counted (the first few are printed with file, row and field); ``--strict`` turns them into errors.
A missing column or an unreadable file always stops with an error.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from recipe.laser.atomic import write_parquet_atomic
from recipe.laser.families import get_family
from recipe.laser.prompts import ChatTemplateError, format_gate_for, render, training_messages

DEEPMATH_HUB_ID = "zwhe99/DeepMath-103K"
SHIPPED_EVAL_DIR = Path(__file__).resolve().parent / "benchmarks"  # the five benchmarks, in the repository
DEEPMATH_SOURCE = "DeepMath-103K"


@dataclass(frozen=True)
class Benchmark:
    name: str
    local_file: str  # name in --eval-dir
    hub_id: str  # used when no --eval-dir is given (needs network)
    hub_split: str
    # the first key a row has is used: local jsonl and the hub copies name columns differently
    problem_keys: tuple[str, ...] = ("problem", "question")
    answer_keys: tuple[str, ...] = ("answer", "final_answer")
    id_keys: tuple[str, ...] = ("id", "unique_id")


BENCHMARKS = (
    Benchmark("math500", "math500.jsonl", "HuggingFaceH4/MATH-500", "test", id_keys=("unique_id", "id")),
    Benchmark("amc23", "amc23.jsonl", "math-ai/amc23", "test"),
    Benchmark("aime24", "aime24.jsonl", "math-ai/aime24", "test"),
    Benchmark("aime25", "aime25.jsonl", "math-ai/aime25", "test"),
    Benchmark("olympiadbench", "olympiadbench.jsonl", "math-ai/olympiadbench", "test"),
)


class DataError(ValueError):
    """Bad input that stops preparation; the message names the file, row and field."""


@dataclass
class Report:
    written: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # "<set>: <reason>" -> count
    examples: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str, strict: bool) -> None:
        message = f"{where}: {reason}"
        if strict:
            raise DataError(message)
        self.skipped[f"{where.split(' row ')[0]}: {reason.split(':')[0]}"] += 1
        if len(self.examples) < 10:
            self.examples.append(message)


def normalize_problem(text: str) -> str:
    """Text key for overlap detection: case, spacing, dollar signs and punctuation do not count."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\$|\\[,;:! ]|\\left|\\right", "", text)
    text = re.sub(r"[^\w\\{}^+\-*/=<>()\[\]]", "", text)
    return text


def read_rows(path: Path) -> list[dict]:
    """Rows of a .jsonl, .json or .parquet file."""
    try:
        if path.suffix == ".parquet":
            import pandas as pd

            return pd.read_parquet(path).to_dict("records")
        if path.suffix == ".jsonl":
            rows = []
            with path.open() as f:
                for i, line in enumerate(f):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as e:
                            raise DataError(f"{path} row {i}: not valid JSON ({e.msg})") from None
            return rows
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            return data if isinstance(data, list) else data["data"]
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: cannot read ({type(e).__name__}: {e})") from None
    raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected .parquet, .jsonl or .json")


def _text_field(row: dict, keys: tuple[str, ...], numeric_ok: bool = False) -> str:
    key = next((k for k in keys if k in row), keys[0])
    value = row.get(key)
    if value is None:
        raise ValueError(f"field {key!r}: missing")
    if numeric_ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # numeric answers (AIME) become strings
    if not isinstance(value, str):
        raise ValueError(f"field {key!r}: expected a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"field {key!r}: empty")
    return value.strip()


def make_row(
    data_source: str, problem: str, answer: str, gate: str, split: str, index: int, source_id: str,
    ability: str = "math", reward_style: str = "rule", extra: dict | None = None,
) -> dict:  # fmt: skip
    """A verl RL row with the authors' prompt; ``extra`` adds fields to ``extra_info``."""
    info = {"split": split, "index": index, "source_id": source_id, "problem": problem, "format_gate": gate}
    return {
        "data_source": data_source,
        "prompt": training_messages(problem),
        "ability": ability,
        "reward_model": {"style": reward_style, "ground_truth": answer},
        "extra_info": {**info, **(extra or {})},
    }


def convert(rows, name, file_label, problem_keys, answer_keys, id_keys, gate, split, report, strict):
    """verl rows from raw rows; unusable rows are skipped and counted (or raise with --strict)."""
    from tqdm import tqdm

    out = []
    for i, row in enumerate(tqdm(rows, desc=f"{name}", unit="row", leave=False)):
        where = f"{file_label} row {i}"
        try:
            problem = _text_field(row, problem_keys)
            answer = _text_field(row, answer_keys, numeric_ok=True)
        except ValueError as e:
            report.skip(where, str(e), strict)
            continue
        source_id = next((str(row[k]) for k in id_keys if row.get(k) is not None), str(i))
        out.append(make_row(name, problem, answer, gate, split, len(out), source_id))
    return out


def load_eval_rows(bench: Benchmark, eval_dir: Path | None) -> tuple[list[dict], str]:
    """From ``eval_dir`` (the shipped folder by default), or from the hub when it is None."""
    if eval_dir is not None:
        path = eval_dir / bench.local_file
        if not path.is_file():
            raise DataError(f"{path}: missing; --eval-dir must hold {', '.join(b.local_file for b in BENCHMARKS)}")
        return read_rows(path), str(path)
    from datasets import load_dataset  # needs the hub

    return list(load_dataset(bench.hub_id, split=bench.hub_split)), f"{bench.hub_id}[{bench.hub_split}]"


def _require_columns(rows: list[dict], columns: tuple[str, ...], label: str) -> None:
    """A file whose first row has none of the accepted names for a field has the wrong schema."""
    if rows and not any(c in rows[0] for c in columns):
        raise DataError(f"{label}: no column {' or '.join(map(repr, columns))} (found {sorted(rows[0])[:12]})")


def prepared_before(out: Path, options: dict, force: bool) -> dict | None:
    """The summary of a folder already prepared with these options (marked ``kept``), None when there
    is none or ``force``; a folder prepared with other options is refused."""
    summary_path = out / "summary.json"
    if not summary_path.is_file() or force:
        return None
    previous = json.loads(summary_path.read_text())
    if previous.get("options") != options:
        raise DataError(f"{out} was prepared with other options ({previous.get('options')}); use --force to rewrite")
    previous["kept"] = True
    return previous


def rendered_gate(tokenizer_path: str, chat_template: str | None) -> tuple[str, str]:
    """(format gate, an example prompt as the model sees it) from the model's tokenizer."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    except (OSError, ValueError) as error:
        raise DataError(f"--tokenizer {tokenizer_path}: cannot load a tokenizer ({error})") from None
    try:
        example = render(tokenizer, training_messages("What is 1 + 1?"), chat_template)
    except ChatTemplateError as error:
        raise DataError(str(error)) from None
    return format_gate_for(example), example


def convert_benchmarks(
    benchmarks: tuple[str, ...], eval_dir: Path | None, gate: str, report: Report, strict: bool
) -> dict[str, list[dict]]:
    """{benchmark: verl rows} of the chosen evaluation sets (shipped, or from ``eval_dir``)."""
    eval_rows: dict[str, list[dict]] = {}
    for bench in (b for b in BENCHMARKS if b.name in benchmarks):
        raw, label = load_eval_rows(bench, eval_dir)
        _require_columns(raw, bench.problem_keys, label)
        _require_columns(raw, bench.answer_keys, label)
        eval_rows[bench.name] = convert(
            raw, bench.name, label, bench.problem_keys, bench.answer_keys, bench.id_keys, gate, "test", report, strict
        )
    return eval_rows


def difficulty_candidates(
    sources: list[tuple[list[dict], str]], report: Report, strict: bool, low: float | None, high: float | None
) -> list[tuple[dict, str, str, int]]:
    """(row, where, source label, index) of every training row within the difficulty range."""
    candidates = []
    for raw, label in sources:
        _require_columns(raw, ("question",), label)
        _require_columns(raw, ("final_answer",), label)
        if (low is not None or high is not None) and raw and "difficulty" not in raw[0]:
            raise DataError(f"{label}: difficulty filter asked for but the file has no 'difficulty' column")
        for i, row in enumerate(raw):
            where = f"{label} row {i}"
            if low is not None or high is not None:
                try:
                    difficulty = float(row["difficulty"])
                except (TypeError, ValueError):
                    report.skip(where, f"field 'difficulty': expected a number, got {row.get('difficulty')!r}", strict)
                    continue
                if (low is not None and difficulty < low) or (high is not None and difficulty > high):
                    report.skipped[f"{label}: difficulty filter"] += 1
                    continue
            candidates.append((row, where, label, i))
    return candidates


def training_rows(
    sources: list[tuple[list[dict], str]] | None, eval_keys: set[str], gate: str, report: Report, strict: bool,
    min_difficulty: float | None, max_difficulty: float | None, max_train: int | None, seed: int,
) -> tuple[list[dict], int]:  # fmt: skip
    """DeepMath rows (``sources``: the given files, or None for the hub's train split) in a seeded
    order, without benchmark problems and duplicates; and how many benchmark problems were removed."""
    if sources is None:
        from datasets import load_dataset  # needs the hub

        sources = [(list(load_dataset(DEEPMATH_HUB_ID, split="train")), f"{DEEPMATH_HUB_ID}[train]")]
    candidates = difficulty_candidates(sources, report, strict, min_difficulty, max_difficulty)
    random.Random(seed).shuffle(candidates)
    train: list[dict] = []
    seen: set[str] = set()
    overlap_removed = 0
    for row, where, label, i in candidates:
        if max_train is not None and len(train) >= max_train:
            break
        try:
            problem = _text_field(row, ("question",))
            answer = _text_field(row, ("final_answer",), numeric_ok=True)
        except ValueError as e:
            report.skip(where, str(e), strict)
            continue
        key = normalize_problem(problem)
        if key in eval_keys:
            overlap_removed += 1
            continue
        if key in seen:
            report.skipped[f"{label}: duplicate problem"] += 1
            continue
        seen.add(key)
        source_id = str(row.get("id", f"{Path(label).name}:{i}"))
        train.append(make_row(DEEPMATH_SOURCE, problem, answer, gate, "train", len(train), source_id))
    return train, overlap_removed


def prepare(
    out_dir: str | Path,
    tokenizer: str,
    eval_dir: str | Path | None = SHIPPED_EVAL_DIR,
    chat_template: str | Path | None = None,
    family: str | None = None,
    train_files: list[str] | None = None,
    use_hub_train: bool = True,
    min_difficulty: float | None = None,
    max_difficulty: float | None = None,
    max_train: int | None = None,
    seed: int = 0,
    strict: bool = False,
    force: bool = False,
    benchmarks: tuple[str, ...] = tuple(b.name for b in BENCHMARKS),
) -> dict:
    """Write the training and evaluation parquet files; returns the summary (also in summary.json)."""

    unknown = set(benchmarks) - {b.name for b in BENCHMARKS}
    if unknown:
        raise DataError(f"benchmarks {sorted(unknown)}: unknown; expected some of {[b.name for b in BENCHMARKS]}")
    out = Path(out_dir)
    template_text = None
    if chat_template is not None:
        if not Path(chat_template).is_file():
            raise DataError(f"--chat-template {chat_template}: no such file")
        template_text = Path(chat_template).read_text()
    options = {
        "tokenizer": str(tokenizer),
        "chat_template": str(chat_template) if chat_template else None,
        "eval_dir": str(eval_dir) if eval_dir else None,
        "train_files": [str(f) for f in train_files] if train_files else None,
        "use_hub_train": bool(use_hub_train and not train_files),
        "min_difficulty": min_difficulty,
        "max_difficulty": max_difficulty,
        "max_train": max_train,
        "seed": seed,
        "benchmarks": list(benchmarks),
    }
    previous = prepared_before(out, options, force)
    if previous is not None:
        return previous

    gate, example = rendered_gate(str(tokenizer), template_text)
    warnings = []
    if family is not None and get_family(family).training_gate != gate:
        warnings.append(
            f"the rendered prompt gives the {gate!r} format gate, but the {family} family is trained with "
            f"{get_family(family).training_gate!r}: is --tokenizer the {family} model's?"
        )
    report = Report()
    eval_rows = convert_benchmarks(benchmarks, Path(eval_dir) if eval_dir else None, gate, report, strict)
    eval_keys = {normalize_problem(r["extra_info"]["problem"]) for rows in eval_rows.values() for r in rows}
    train: list[dict] = []
    overlap_removed = 0
    if train_files or use_hub_train:
        sources = [(read_rows(Path(f)), str(f)) for f in train_files] if train_files else None
        train, overlap_removed = training_rows(
            sources, eval_keys, gate, report, strict, min_difficulty, max_difficulty, max_train, seed
        )

    if train_files or use_hub_train:
        write_parquet_atomic(out / "train.parquet", train)
        report.written["train"] = len(train)
    for name, rows in eval_rows.items():
        write_parquet_atomic(out / "eval" / f"{name}.parquet", rows)
        report.written[name] = len(rows)
    return write_summary(out, options, gate, example, report, overlap_removed, warnings)


def write_summary(
    out: Path, options: dict, gate: str, example: str, report: Report, overlap_removed: int, warnings: list[str]
) -> dict:
    """``summary.json`` of a prepared folder (what ``prepared_before`` reads back); returns it."""
    summary = {
        "options": options,
        "format_gate": gate,
        "example_prompt": example,
        "warnings": warnings,
        "written": dict(report.written),
        "skipped": dict(report.skipped),
        "overlap_with_eval_removed": overlap_removed,
        "skip_examples": report.examples,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def print_counts(summary: dict) -> None:
    """The rows written, the overlap removed and the rows skipped by reason, with a few examples."""
    for name, n in summary["written"].items():
        print(f"  {name:14s} {n:7d} rows")
    print(f"  overlap with evaluation sets removed: {summary['overlap_with_eval_removed']}")
    for reason, n in summary["skipped"].items():
        print(f"  skipped {n:6d}  {reason}")
    for example in summary["skip_examples"][:5]:
        print(f"    e.g. {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--tokenizer", required=True, help="the model (folder or hub id) whose chat template renders")
    parser.add_argument("--chat-template", default=None, help="a jinja chat template file, for a tokenizer without one")
    parser.add_argument("--family", default=None, help="recipe/laser/families.py name: warn if its gate differs")
    parser.add_argument(
        "--eval-dir",
        default=str(SHIPPED_EVAL_DIR),
        help="folder with the five benchmark jsonl files (default: data_prep/benchmarks); 'hub' downloads them",
    )
    parser.add_argument("--train-files", nargs="*", default=None, help="local DeepMath-schema files (default: the hub)")
    parser.add_argument("--no-train", action="store_true", help="evaluation sets only")
    parser.add_argument("--benchmarks", nargs="*", default=[b.name for b in BENCHMARKS])
    parser.add_argument("--min-difficulty", type=float, default=None)
    parser.add_argument("--max-difficulty", type=float, default=None)
    parser.add_argument("--max-train", type=int, default=None, help="cap on training rows (after shuffling)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed")
    parser.add_argument("--strict", action="store_true", help="stop at the first unusable row instead of skipping it")
    parser.add_argument("--force", action="store_true", help="rewrite an existing folder")
    args = parser.parse_args(argv)
    try:
        summary = prepare(
            args.out_dir,
            args.tokenizer,
            eval_dir=None if args.eval_dir == "hub" else args.eval_dir,
            chat_template=args.chat_template,
            family=args.family,
            train_files=args.train_files,
            use_hub_train=not args.no_train,
            min_difficulty=args.min_difficulty,
            max_difficulty=args.max_difficulty,
            max_train=args.max_train,
            seed=args.seed,
            strict=args.strict,
            force=args.force,
            benchmarks=tuple(args.benchmarks),
        )
    except DataError as e:
        print(f"prepare_math: error: {e}", file=sys.stderr)
        return 2
    state = "kept (same options; --force rewrites)" if summary.get("kept") else "written"
    print(f"prepare_math: {args.out_dir} {state}; format gate {summary['format_gate']!r}; a rendered prompt:")
    print("    " + summary["example_prompt"].replace("\n", "\n    "))
    for warning in summary.get("warnings", []):
        print(f"prepare_math: warning: {warning}", file=sys.stderr)
    print_counts(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
