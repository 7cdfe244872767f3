# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""A small synthetic math prompt set in verl's RL parquet format (no download).

Problems have integer answers and the same prompt/answer format as the real math data (the
authors' training prompt from ``recipe/laser/prompts.py`` as a chat list, the boxed format gate,
``reward_model.ground_truth`` a string).
Tasks (``--task``; each row records its family in ``extra_info.kind``, train and test are disjoint in each
family, and ``extra_info.wrong_answers`` lists what a warm start with ``--error-rate`` learns instead):

- ``zero_rule``: the tiny reproduction's (its function's docstring says why): "What is 417 * 0?" or
  "What is 417 ^ 0?", each value right in one family and the other family's tempting wrong answer.
- ``times_one``: "What is 417 * 1?", its tempting wrong answer 714: a check by comparing digits with
  the question (tried for the reproduction, docs/reproduction.md).
- ``arithmetic``: multi-digit additions, subtractions and products (the pipeline presets and tests).
- ``zero_or_one``: the end-to-end tests' (three small answer values, rewards mixed within a group).
- ``zero_or_sum``, ``zero_answer``: earlier reproduction tasks (docs/reproduction.md says what each showed).

    python -m data_prep.synthetic_arithmetic --out-dir data/synthetic_arith --train 256 --test 64
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from recipe.laser.atomic import write_parquet_atomic
from recipe.laser.prompts import training_messages

DATA_SOURCE = "synthetic_arithmetic"
OPERATIONS = ("+", "-", "*")
WORKED_RESPONSE = "The answer is \\boxed{ANSWER}."
TASKS = ("zero_rule", "times_one", "arithmetic", "zero_or_sum", "zero_or_one", "zero_answer")


def make_problem(rng: random.Random, max_digits: int) -> tuple[str, str]:
    """One (problem text, integer answer as a string)."""
    op = rng.choice(OPERATIONS)
    digits_a, digits_b = rng.randint(1, max_digits), rng.randint(1, max_digits)
    if op == "*":  # keep products small enough for a tiny model
        digits_b = 1
    a = rng.randint(10 ** (digits_a - 1) if digits_a > 1 else 0, 10**digits_a - 1)
    b = rng.randint(10 ** (digits_b - 1) if digits_b > 1 else 0, 10**digits_b - 1)
    answer = {"+": a + b, "-": a - b, "*": a * b}[op]
    return f"What is {a} {op} {b}?", str(answer)


def make_zero_or_one_problem(rng: random.Random, index: int) -> tuple[str, str, str, list[str]]:
    """(problem, answer, family, wrong answers): "What is 417 * 0?" (0) or "What is 417 ^ 0?" (1),
    alternately. The answer is one of three small values, so a warm start that learns each of them
    with a share of the targets answers every problem right only sometimes, with its wrong answers
    on the two other values; whether a given answer is right depends on the operator and the answer,
    a few tokens before the end."""
    a = rng.randint(1, 999)
    if index % 2 == 0:
        problem = f"What is {a} * 0?" if rng.random() < 0.5 else f"What is 0 * {a}?"
        return problem, "0", "times_zero", ["1", "2"]
    return f"What is {a} ^ 0?", "1", "power_zero", ["0", "2"]


def make_zero_answer_problem(rng: random.Random, index: int) -> tuple[str, str, str, list[str]]:
    """(problem, answer, family, wrong answers): "What is 417 * 0?" or "What is 417 - 417?",
    alternately; the answer is always 0, and a warm start that learns "1" and "2" for a share of the
    targets answers right only sometimes, its wrong answers on those two values. Whether an answer is
    right shows in the answer itself (the token before the box closes)."""
    a = rng.randint(1, 999)
    if index % 2 == 0:
        problem = f"What is {a} * 0?" if rng.random() < 0.5 else f"What is 0 * {a}?"
        return problem, "0", "times_zero", ["1", "2"]
    return f"What is {a} - {a}?", "0", "minus_itself", ["1", "2"]


def make_zero_rule_problem(rng: random.Random, index: int) -> tuple[str, str, str, list[str], str]:
    """(problem, answer, family, wrong answers, worked response): "What is 417 * 0?" (0) or "What is
    417 ^ 0?" (1), alternately, each family's tempting wrong answer the other family's value. The
    worked response names the rule before the answer ("A product with a factor 0 is \\boxed{0}."), so
    a wrong answer contradicts the response's own rule: whether it is right is read from the rule and
    the answer together, neither alone tells (each value is right in one family)."""
    a = rng.randint(1, 999)
    if index % 2 == 0:
        problem = f"What is {a} * 0?" if rng.random() < 0.5 else f"What is 0 * {a}?"
        return problem, "0", "times_zero", ["1"], "A product with a factor 0 is \\boxed{ANSWER}."
    return f"What is {a} ^ 0?", "1", "power_zero", ["0"], "A power with exponent 0 is \\boxed{ANSWER}."


def make_times_one_problem(rng: random.Random, index: int) -> tuple[str, str, str, list[str]]:
    """(problem, answer, family, wrong answers): "What is 417 * 1?" (or "1 * 417"), 417; the tempting wrong
    answer is the number's digits reversed, 714 (first and last digits differ, no final 0). A right and a
    wrong answer look alike (three digits, the prompt's digits): whether one is right is read by comparing
    it with the number in the question, digit by digit."""
    while True:
        digits = str(rng.randint(101, 999))
        if digits[0] != digits[2] and digits[2] != "0":
            break
    problem = f"What is {digits} * 1?" if index % 2 == 0 else f"What is 1 * {digits}?"
    return problem, digits, "times_one", [digits[::-1]]


def make_zero_or_sum_problem(rng: random.Random, index: int) -> tuple[str, str, str]:
    """(problem, answer, family): even indices a product with zero, odd ones a two-digit sum."""
    if index % 2 == 0:
        a = rng.randint(1, 999)
        return (f"What is {a} * 0?" if rng.random() < 0.5 else f"What is 0 * {a}?"), "0", "times_zero"
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    return f"What is {a} + {b}?", str(a + b), "two_digit_sum"


def make_rows(
    n: int,
    split: str,
    seed: int,
    max_digits: int,
    exclude: set[str] = frozenset(),
    task: str = "arithmetic",
    format_gate: str = "boxed",
):
    """verl RL rows; problems in ``exclude`` are skipped so that train and test never overlap."""
    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of {TASKS}")
    rng = random.Random(f"{seed}-{split}")
    rows, seen = [], set(exclude)
    while len(rows) < n:
        wrong: list[str] = []
        worked = WORKED_RESPONSE
        if task == "arithmetic":
            (problem, answer), kind = make_problem(rng, max_digits), "arithmetic"
        elif task == "zero_rule":
            problem, answer, kind, wrong, worked = make_zero_rule_problem(rng, len(rows))
        elif task == "times_one":
            problem, answer, kind, wrong = make_times_one_problem(rng, len(rows))
        elif task == "zero_or_one":
            problem, answer, kind, wrong = make_zero_or_one_problem(rng, len(rows))
        elif task == "zero_answer":
            problem, answer, kind, wrong = make_zero_answer_problem(rng, len(rows))
        else:
            problem, answer, kind = make_zero_or_sum_problem(rng, len(rows))
        if problem in seen:
            continue
        seen.add(problem)
        rows.append(
            {
                "data_source": DATA_SOURCE,
                "prompt": training_messages(problem),
                "ability": "math",
                "reward_model": {"style": "rule", "ground_truth": answer},
                "extra_info": {
                    "split": split,
                    "index": len(rows),
                    "source_id": f"{split}-{len(rows)}",
                    "problem": problem,
                    "format_gate": format_gate,
                    "kind": kind,
                    "wrong_answers": wrong,  # what a warm start with --error-rate learns instead (empty: random)
                    "worked_response": worked,  # the warm start's target, ANSWER replaced by its answer
                },
            }
        )
    return rows, seen


def write_synthetic_arithmetic(
    out_dir: str | Path,
    n_train: int = 256,
    n_test: int = 64,
    seed: int = 0,
    max_digits: int = 2,
    force: bool = False,
    task: str = "arithmetic",
) -> dict[str, Path]:
    """Write ``train.parquet`` and ``test.parquet``; files written with the same options are kept
    (unless ``force``), files written with other options are rewritten (``options.json`` records them)."""

    out = Path(out_dir)
    paths = {"train": out / "train.parquet", "test": out / "test.parquet"}
    options = {
        "n_train": n_train,
        "n_test": n_test,
        "seed": seed,
        "max_digits": max_digits,
        "task": task,
    }
    options_file = out / "options.json"
    if all(p.is_file() for p in paths.values()) and not force and options_file.is_file():
        if json.loads(options_file.read_text()) == options:
            return paths
    out.mkdir(parents=True, exist_ok=True)
    train, seen = make_rows(n_train, "train", seed, max_digits, task=task)
    test, _ = make_rows(n_test, "test", seed, max_digits, exclude=seen, task=task)
    for split, rows in (("train", train), ("test", test)):
        write_parquet_atomic(paths[split], rows)  # a crash never leaves a half-written parquet
    options_file.write_text(json.dumps(options))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--train", type=int, default=256, help="training problems")
    parser.add_argument("--test", type=int, default=64, help="held-out problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-digits", type=int, default=2, help="arithmetic task: operand digits")
    parser.add_argument("--task", choices=TASKS, default="arithmetic")
    parser.add_argument("--force", action="store_true", help="rewrite existing files")
    args = parser.parse_args(argv)
    options_file = Path(args.out_dir) / "options.json"
    before = options_file.read_text() if options_file.is_file() else None
    paths = write_synthetic_arithmetic(
        args.out_dir, args.train, args.test, args.seed, args.max_digits, args.force, args.task
    )
    state = "exist with these options, kept" if before == options_file.read_text() and not args.force else "written"
    print(f"synthetic arithmetic {state}: {paths['train']} ({args.train} rows), {paths['test']} ({args.test} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
