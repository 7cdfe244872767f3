# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The tiny reproduction's summary: learning curves from the trainer's per-step metrics and the
held-out evaluations side by side (``scripts/tiny_cpu_repro.sh`` calls it).

    python scripts/repro_report.py --out-dir outputs/tiny_cpu_repro/seed0 \\
        --run GRPO=checkpoints/.../grpo/metrics.jsonl --run LaSeR=checkpoints/.../laser/metrics.jsonl \\
        --eval "warm start=outputs/.../eval_warm_start" --eval GRPO=... --eval LaSeR=...

Writes ``summary.md`` and ``summary.json`` (the held-out table, per task family where rows carry
one), ``curves.png`` (training-batch accuracy and self-verification F1 per step), ``verification.png``
(r_s's AUROC over all samples and within problems, next to the best surface feature's) and
``voting.png`` (held-out accuracy vs k: majority vs self-reward-weighted voting), and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from recipe.laser.atomic import write_text_atomic
from recipe.laser.evaluation.report import (
    headline,
    load_samples,
    pct,
    read_jsonl,
    run_metrics,
    save_figure,
)

CURVES = (("critic/score/mean", "accuracy (training batch)"), ("laser/f1", "self-verification F1 (training batch)"))


def read_steps(metrics_file: Path) -> list[dict]:
    """verl's file logger lines ``{"step": s, "data": {...}}``, one dict per step in step order (a
    step can have two lines: its validation metrics and, on a resumed run, its training metrics)."""
    rows = read_jsonl(metrics_file)
    if not rows:
        raise ValueError(f"{metrics_file}: no metrics")
    steps: dict[int, dict] = {}
    for r in rows:
        steps.setdefault(r["step"], {"step": r["step"]}).update(r["data"])
    return [steps[s] for s in sorted(steps)]


def moving_average(values: list[float | None], window: int) -> np.ndarray:
    """Mean over the last ``window`` steps, skipping steps without a value (NaN where none)."""
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    out = np.full_like(x, np.nan)
    for i in range(len(x)):
        w = x[max(0, i - window + 1) : i + 1]
        if (~np.isnan(w)).any():
            out[i] = np.nanmean(w)
    return out


def family_table(run_dir: Path) -> dict[str, dict[str, float]]:
    """Accuracy and mean score per ``kind`` (task family), where the samples carry one."""
    out: dict[str, dict[str, float]] = {}
    for rows in load_samples(run_dir).values():
        for kind in sorted({r.get("kind") for r in rows} - {None}):
            sel = [r for r in rows if r.get("kind") == kind]
            scores = [r["score"] for r in sel if r["score"] is not None]
            out[kind] = {
                "accuracy": float(np.mean([r["correct"] for r in sel])),
                "score_mean": float(np.mean(scores)) if scores else float("nan"),
                "samples": len(sel),
            }
    return out


HELD_OUT_FIGURES = ("accuracy", "f1_all", "f1_answered", "auroc", "mixed_fraction", "within_problem_auroc",
                    "surface_auroc", "surface_within_problem_auroc")  # fmt: skip


def overall(metrics: dict) -> dict:
    """Headline figures and scaling curves: the benchmark's own when there is one, else the average."""
    if len(metrics["benchmarks"]) == 1:
        (b,) = metrics["benchmarks"].values()
        return {**headline(b), "scaling": b["scaling"]}
    return metrics["average"]


def summarize(runs: dict[str, Path], evals: dict[str, Path], seconds: float | None) -> dict:
    held_out = {}
    for label, d in evals.items():
        metrics = run_metrics(d)
        src = overall(metrics)
        k = max(src["scaling"]["majority"])
        held_out[label] = {
            **{key: src[key] for key in HELD_OUT_FIGURES},
            "k": k,
            **{
                f"{method}@k": src["scaling"][method][k]
                for method in ("majority", "weighted", "best_of_n", "pass_at_k")
            },
            "families": family_table(d),
            # each feature's AUROCs (metrics.surface_feature_auroc); the tiny task has one benchmark
            "surface_features": next(iter(metrics["benchmarks"].values()))["surface_features"],
            "scaling": src["scaling"],
        }
    curves = {}
    for label, f in runs.items():
        steps = read_steps(f)
        curves[label] = {key: [s.get(key) for s in steps] for key, _ in CURVES}
        curves[label]["step"] = [s["step"] for s in steps]
        curves[label]["step_time_s"] = float(np.mean([s.get("timing_s/step", np.nan) for s in steps]))
    return {"held_out": held_out, "curves": curves, "seconds": seconds}


def markdown(summary: dict) -> str:
    rows = summary["held_out"]
    k = next(iter(rows.values()))["k"] if rows else 0
    lines = [
        f"| held-out | accuracy | F1 (all) | F1 (answered) | AUROC | mixed problems | AUROC within problems "
        f"| best surface feature: AUROC / within | Maj@{k} | Weighted@{k} | Best-of-{k} | Pass@{k} |",
        "|---" * 12 + "|",
    ]
    for label, r in rows.items():
        lines.append(
            f"| {label} | {pct(r['accuracy'])} | {pct(r['f1_all'])} | {pct(r['f1_answered'])} | {pct(r['auroc'])} | "
            f"{pct(r['mixed_fraction'])} | {pct(r['within_problem_auroc'])} | "
            f"{pct(r['surface_auroc'])} / {pct(r['surface_within_problem_auroc'])} | "
            f"{pct(r['majority@k'])} | {pct(r['weighted@k'])} | {pct(r['best_of_n@k'])} | {pct(r['pass_at_k@k'])} |"
        )
    features = list(next(iter(rows.values()))["surface_features"]) if rows else []
    if features:
        lines += [
            "",
            "| held-out, AUROC of each surface feature (all / within problems) | " + " | ".join(features) + " |",
            "|---" * (len(features) + 1) + "|",
        ]
        for label, r in rows.items():
            cells = [f"{pct(x['auroc'])} / {pct(x['within_problem_auroc'])}" for x in r["surface_features"].values()]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    families = sorted({f for r in rows.values() for f in r["families"]})
    if families:
        lines += [
            "",
            "| held-out, per family | " + " | ".join(f"{f}: accuracy / mean r_s" for f in families) + " |",
            "|---" * (len(families) + 1) + "|",
        ]
        for label, r in rows.items():
            cells = []
            for f in families:
                x = r["families"].get(f)
                score = "n/a" if x is None or math.isnan(x["score_mean"]) else f"{x['score_mean']:.2f}"
                cells.append("n/a" if x is None else f"{pct(x['accuracy'])} / {score}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    times = ", ".join(f"{label} {c['step_time_s']:.1f} s/step" for label, c in summary["curves"].items())
    total = f"; whole preset {summary['seconds'] / 60:.1f} min" if summary.get("seconds") else ""
    lines += ["", f"Percentages. Training: {times}{total}."]
    return "\n".join(lines) + "\n"


def plot(summary: dict, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, axes = plt.subplots(1, len(CURVES), figsize=(9, 3.2))
    for ax, (key, title) in zip(axes, CURVES, strict=True):
        for label, c in summary["curves"].items():
            raw = [np.nan if v is None else v for v in c[key]]
            (line,) = ax.plot(c["step"], moving_average(c[key], 4), label=f"{label} (mean of 4 steps)")
            ax.plot(c["step"], raw, ".", color=line.get_color(), alpha=0.35)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training step")
        ax.set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    paths.append(save_figure(fig, out_dir / "curves.png"))

    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    for label, row in summary["held_out"].items():
        scaling = row["scaling"]
        ks = sorted(scaling["majority"])
        (line,) = ax.plot(ks, [100 * scaling["weighted"][k] for k in ks], marker="o", label=f"{label}: weighted")
        ax.plot(
            ks,
            [100 * scaling["majority"][k] for k in ks],
            marker="x",
            ls="--",
            color=line.get_color(),
            label=f"{label}: majority",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k samples")
    ax.set_ylabel("held-out accuracy %")
    ax.legend(fontsize=7)
    paths.append(save_figure(fig, out_dir / "voting.png"))

    # does the score read more than a surface feature does? AUROC over all samples and within problems
    bars = (
        ("auroc", "r_s, all samples"),
        ("within_problem_auroc", "r_s, within problems"),
        ("surface_auroc", "best surface feature, all"),
        ("surface_within_problem_auroc", "best surface feature, within"),
    )
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    models = list(summary["held_out"])
    width = 0.8 / len(bars)
    for i, (key, label) in enumerate(bars):
        values = [100 * summary["held_out"][m][key] for m in models]
        ax.bar(np.arange(len(models)) + (i - (len(bars) - 1) / 2) * width, np.nan_to_num(values), width, label=label)
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(models)), models)
    ax.set_ylim(0, 100)
    ax.set_ylabel("held-out AUROC %")
    ax.legend(fontsize=7, loc="lower right")
    paths.append(save_figure(fig, out_dir / "verification.png"))
    return paths


def labelled(items: list[str], flag: str) -> dict[str, Path]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag} {item!r}: expected LABEL=PATH")
        label, path = item.split("=", 1)
        if not Path(path).exists():
            raise FileNotFoundError(f"{flag} {label}: {path} does not exist")
        out[label] = Path(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--run", action="append", default=[], help="LABEL=metrics.jsonl of a training run")
    parser.add_argument("--eval", action="append", default=[], help="LABEL=evaluation folder")
    parser.add_argument("--seconds", type=float, default=None, help="wall time of the whole preset, for the table")
    args = parser.parse_args(argv)
    try:
        runs, evals = labelled(args.run, "--run"), labelled(args.eval, "--eval")
        summary = summarize(runs, evals, args.seconds)
    except (FileNotFoundError, ValueError) as error:
        print(f"repro_report: error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(summary)
    write_text_atomic(out / "summary.md", table)
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))
    paths = plot(summary, out)
    print(table)
    print("repro_report: wrote " + ", ".join(str(p) for p in [out / "summary.md", out / "summary.json", *paths]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
