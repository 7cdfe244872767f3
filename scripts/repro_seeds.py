# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Several seeds of the tiny reproduction in one table: the per-seed held-out figures and their mean.

    for s in 0 1 2; do SEED=$s bash run_laser.sh; done
    python scripts/repro_seeds.py outputs/tiny_cpu_repro/seed*/summary.json

Reads each seed's ``summary.json`` (written by ``scripts/repro_report.py``) and prints a markdown table:
one row per seed and model, then the mean over seeds, with Weighted@k - Maj@k as its own column.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from recipe.laser.evaluation.report import pct

COLUMNS = (("accuracy", "accuracy"), ("f1_all", "F1"), ("auroc", "AUROC"), ("mixed_fraction", "mixed problems"),
           ("within_problem_auroc", "AUROC within problems"),
           ("surface_within_problem_auroc", "best surface feature within problems"), ("majority@k", "Maj@{k}"),
           ("weighted@k", "Weighted@{k}"), ("best_of_n@k", "Best-of-{k}"))  # fmt: skip


def load(paths: list[Path]) -> dict[str, dict]:
    """{seed label: summary}; the label is the summary's folder name (``seed0``)."""
    out = {}
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such summary (run the reproduction for that seed first)")
        summary = json.loads(path.read_text())
        if "held_out" not in summary:
            raise ValueError(f"{path}: expected a repro_report.py summary with a 'held_out' table")
        out[path.parent.name] = summary
    ks = {row["k"] for s in out.values() for row in s["held_out"].values()}
    if len(ks) != 1:
        raise ValueError(f"the summaries were evaluated with different k (EVAL_N): {sorted(ks)}")
    return out


def table(summaries: dict[str, dict]) -> str:
    k = next(iter(next(iter(summaries.values()))["held_out"].values()))["k"]
    header = ["seed", "model", *(name.format(k=k) for _, name in COLUMNS), f"Weighted@{k} - Maj@{k}"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    models = list(next(iter(summaries.values()))["held_out"])
    means: dict[str, list[list[float]]] = {m: [] for m in models}
    for seed, summary in summaries.items():
        for model in models:
            row = summary["held_out"].get(model)
            if row is None:
                raise ValueError(f"{seed}: no held-out row for {model!r}")
            values = [row[key] for key, _ in COLUMNS] + [row["weighted@k"] - row["majority@k"]]
            means[model].append(values)
            lines.append(f"| {seed} | {model} | " + " | ".join(pct(v) for v in values) + " |")
    for model, rows in means.items():
        mean = [sum(col) / len(col) for col in zip(*rows, strict=True)]  # an undefined figure (NaN) stays n/a
        lines.append(f"| **mean of {len(rows)}** | {model} | " + " | ".join(pct(v) for v in mean) + " |")
    if {"LaSeR", "GRPO"} <= set(models):
        lines += ["", *targets(means, k)]
    minutes = [s["seconds"] / 60 for s in summaries.values() if s.get("seconds")]
    if minutes:
        lines += ["", "Percentages. Wall time per seed: " + ", ".join(f"{m:.1f}" for m in minutes) + " min."]
    return "\n".join(lines) + "\n"


def targets(means: dict[str, list[list[float]]], k: int) -> list[str]:
    """The tiny reproduction's targets on the seed means, each with its figures and whether it is met:
    mixed problems >= 30%, LaSeR's within-problem AUROC >= 0.80 and >= GRPO's + 0.10, F1 >= 0.75,
    LaSeR's accuracy within one standard error (over seeds) of GRPO's, Weighted@k >= Maj@k + 5 points."""
    col = {key: i for i, (key, _) in enumerate(COLUMNS)}

    def mean(model, key):
        return float(np.mean([row[col[key]] for row in means[model]]))

    grpo_accuracy = [row[col["accuracy"]] for row in means["GRPO"]]
    se = float(np.std(grpo_accuracy, ddof=1) / np.sqrt(len(grpo_accuracy))) if len(grpo_accuracy) > 1 else float("nan")
    laser_within, grpo_within = mean("LaSeR", "within_problem_auroc"), mean("GRPO", "within_problem_auroc")
    gap = mean("LaSeR", "weighted@k") - mean("LaSeR", "majority@k")
    accuracy_gap = mean("LaSeR", "accuracy") - mean("GRPO", "accuracy")
    checks = [
        ("LaSeR's held-out problems with right and wrong samples >= 30%",
         mean("LaSeR", "mixed_fraction") >= 0.30, pct(mean("LaSeR", "mixed_fraction"))),
        ("LaSeR's AUROC within problems >= 80 and >= GRPO's + 10",
         laser_within >= 0.80 and laser_within >= grpo_within + 0.10, f"{pct(laser_within)} vs {pct(grpo_within)}"),
        ("LaSeR's F1 >= 75", mean("LaSeR", "f1_all") >= 0.75, pct(mean("LaSeR", "f1_all"))),
        ("LaSeR's accuracy within one SE (over seeds) of GRPO's", abs(accuracy_gap) <= se,
         f"{pct(accuracy_gap)} points, SE {pct(se)}"),
        (f"LaSeR's Weighted@{k} >= Maj@{k} + 5 points", gap >= 0.05, f"{pct(gap)} points"),
    ]  # fmt: skip
    return ["| target (mean over seeds) | met | figures |", "|---|---|---|"] + [
        f"| {name} | {'yes' if ok else 'no'} | {figures} |" for name, ok, figures in checks
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summaries", nargs="+", type=Path, help="summary.json of each seed")
    args = parser.parse_args(argv)
    try:
        print(table(load(args.summaries)), end="")
    except (FileNotFoundError, ValueError) as error:
        print(f"repro_seeds: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
