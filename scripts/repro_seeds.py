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

from recipe.laser.evaluation.report import pct

COLUMNS = (("accuracy", "accuracy"), ("f1_all", "F1"), ("auroc", "AUROC"), ("majority@k", "Maj@{k}"),
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
    minutes = [s["seconds"] / 60 for s in summaries.values() if s.get("seconds")]
    if minutes:
        lines += ["", "Percentages. Wall time per seed: " + ", ".join(f"{m:.1f}" for m in minutes) + " min."]
    return "\n".join(lines) + "\n"


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
