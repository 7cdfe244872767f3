# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Metrics, tables and plots from an evaluation folder (``samples/<benchmark>.jsonl``), and a
side-by-side comparison of runs.

    python -m recipe.laser.evaluation.report report outputs/eval/laser            # (re)writes the report
    python -m recipe.laser.evaluation.report compare outputs/eval/grpo outputs/eval/laser --labels GRPO LaSeR

Per benchmark and on average (the unweighted mean over benchmarks, as in the paper):
- accuracy as the authors compute it (last box, math-verify, no format gate; the paper's accuracy),
  and the training verifier's gated accuracy;
- self-verification TPR / TNR / F1 at r_s > 0.5 (F1 = the harmonic mean of TPR and TNR) over three
  populations: "all" (every sample; an answered one is scored, with an EOS appended when it was
  truncated, an unanswered one counts as score 0: the authors' "all"), "answered" (samples with an
  extracted answer: the authors' "filtered"), and "finished" (samples that ended with an end token,
  scored as in training); AUROC and ECE over the answered samples;
- for k = 1, 2, 4, ... n: majority voting (answers the verifier judges equivalent vote together),
  self-reward-weighted voting (votes weighted by r_s clipped to [0, 1]), best-of-k by r_s and pass@k,
  averaged over seeded draws of k of the n samples.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from recipe.laser.atomic import write_text_atomic
from recipe.laser.evaluation.metrics import (
    SCALING_METHODS,
    expected_calibration_error,
    scaling_curve,
    surface_feature_auroc,
    verification_f1,
    within_problem_verification,
)


def scaling_ks(n: int) -> list[int]:
    """Every k up to 8, then 16, 32, ... below n, then n."""
    ks = list(range(1, min(n, 8) + 1))
    k = 16
    while k < n:
        ks.append(k)
        k *= 2
    return ks if ks[-1] == n else ks + [n]


def authors_scores(rows: list[dict]) -> np.ndarray:
    """r_s of each answered sample, NaN otherwise (the authors give an unanswered response score 0,
    which the 0.5 threshold judges incorrect, as NaN is)."""
    return np.array(
        [np.nan if r["score"] is None or r["extracted_answer"] is None else r["score"] for r in rows], dtype=float
    )


def benchmark_metrics(rows: list[dict], resamples: int = 64, seed: int = 0) -> dict:
    """Metrics of one benchmark's sample rows (all problems must have the same number of samples)."""
    by_problem: dict[str, list[dict]] = {}
    for r in rows:
        by_problem.setdefault(r["problem_id"], []).append(r)
    sizes = {len(v) for v in by_problem.values()}
    if len(sizes) != 1:
        raise ValueError(f"{rows[0]['benchmark']}: problems have different numbers of samples {sorted(sizes)}")
    n = sizes.pop()
    correct = np.array([r["correct"] for r in rows], dtype=bool)
    gated = np.array([r.get("correct_gated", r["correct"]) for r in rows], dtype=bool)
    score = authors_scores(rows)
    finished_score = np.array([np.nan if r["score"] is None else r["score"] for r in rows], dtype=float)
    answered = np.array([r["extracted_answer"] is not None for r in rows], dtype=bool)
    finished = np.array([r["finished"] for r in rows], dtype=bool)
    ks = scaling_ks(n)
    curves = []
    for i, samples in enumerate(by_problem.values()):
        samples = sorted(samples, key=lambda r: r["sample"])
        curves.append(
            scaling_curve(
                np.array([s["correct"] for s in samples], dtype=bool),
                [s["vote_key"] for s in samples],
                authors_scores(samples),
                ks,
                resamples=resamples,
                seed=seed + i,
            )
        )
    scaling = {m: {k: float(np.mean([c[m][k] for c in curves])) for k in ks} for m in SCALING_METHODS}
    scored = ~np.isnan(score)
    problem = [r["problem_id"] for r in rows]
    return {
        "problems": len(by_problem),
        "n": n,
        "samples": len(rows),
        "accuracy": float(correct.mean()),
        "accuracy_gated": float(gated.mean()),
        "finished_fraction": float(finished.mean()),
        "answered_fraction": float(answered.mean()),
        "verification_all": verification_f1(correct, score, np.ones_like(correct)),
        "verification_answered": verification_f1(correct, score, answered),
        "verification_finished": verification_f1(correct, finished_score, finished),
        "ece": expected_calibration_error(correct[scored], score[scored]),
        "score_mean_correct": float(np.mean(score[scored & correct])) if (scored & correct).any() else float("nan"),
        "score_mean_incorrect": float(np.mean(score[scored & ~correct])) if (scored & ~correct).any() else float("nan"),
        "scaling": scaling,
        "within_problem": within_problem_verification(correct, score, problem),
        "surface_features": surface_feature_auroc(correct, surface_features(rows), problem),
    }


def surface_features(rows: list[dict]) -> dict[str, list]:
    """What a sample shows besides whether its answer is right: its task family (where rows carry
    one), its length, its answer's length and last character, whether it has an answer, whether it
    ended."""
    answers = [r["extracted_answer"] for r in rows]
    features = {
        "response length": [r["response_tokens"] for r in rows],
        "answer length": [None if a is None else len(a) for a in answers],
        "answer's last character": [None if not a else a[-1] for a in answers],
        "format (an answer)": [a is not None for a in answers],
        "finished": [r["finished"] for r in rows],
    }
    if all("kind" in r for r in rows):
        features = {"family": [r["kind"] for r in rows], **features}
    return features


def read_jsonl_checked(path: Path) -> tuple[list[dict], list[int]]:
    """(rows, numbers of the lines that are not valid JSON); ([], []) for a missing file."""
    path = Path(path)
    if not path.is_file():
        return [], []
    rows, bad = [], []
    with path.open() as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                bad.append(number)
    return rows, bad


def read_jsonl(path: Path) -> list[dict]:
    """One dict per line; [] for a missing file; a damaged line is an error that names it."""
    rows, bad = read_jsonl_checked(path)
    if bad:
        raise ValueError(f"{path}: lines {bad[:10]} are not valid JSON")
    return rows


def save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# What the report reads from each sample line (recipe.laser.evaluation.evaluate writes them all)
SAMPLE_FIELDS = ("problem_id", "sample", "correct", "score", "extracted_answer", "vote_key", "finished",
                 "response_tokens")  # fmt: skip


def load_samples(run_dir: Path) -> dict[str, list[dict]]:
    files = sorted((Path(run_dir) / "samples").glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"{run_dir}/samples: no <benchmark>.jsonl (run recipe.laser.evaluation.evaluate first)")
    out = {}
    for f in files:
        rows = read_jsonl(f)
        for line, row in enumerate(rows, start=1):
            missing = [k for k in SAMPLE_FIELDS if k not in row]
            if missing:
                raise ValueError(
                    f"{f}: line {line} has no field {', '.join(missing)} (expected {', '.join(SAMPLE_FIELDS)})"
                )
        if rows:
            out[f.stem] = rows
    return out


def run_metrics(run_dir: Path, resamples: int = 64, seed: int = 0) -> dict:
    per_bench = {name: benchmark_metrics(rows, resamples, seed) for name, rows in load_samples(run_dir).items()}
    metrics = {"benchmarks": per_bench, "average": average(per_bench)}
    engine = Path(run_dir) / "engine.json"
    if engine.is_file():  # KV-cache size and the score requests' prefix-cache hit rate (vLLM)
        metrics["engine"] = json.loads(engine.read_text())
    return metrics


def _mean(values) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _best(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return max(values) if values else float("nan")


def headline(m: dict) -> dict[str, float]:
    """The scalar figures of one benchmark's metrics, by row label."""
    return {
        "accuracy": m["accuracy"],
        "accuracy_gated": m["accuracy_gated"],
        "f1_all": m["verification_all"]["f1"],
        "f1_answered": m["verification_answered"]["f1"],
        "f1_finished": m["verification_finished"]["f1"],
        "tpr_all": m["verification_all"]["tpr"],
        "tnr_all": m["verification_all"]["tnr"],
        "auroc": m["verification_answered"]["auroc"],
        "ece": m["ece"],
        "finished_fraction": m["finished_fraction"],
        "answered_fraction": m["answered_fraction"],
        "mixed_fraction": m["within_problem"]["mixed_fraction"],
        "within_problem_auroc": m["within_problem"]["auroc"],
        "surface_auroc": _best(f["auroc"] for f in m["surface_features"].values()),
        "surface_within_problem_auroc": _best(f["within_problem_auroc"] for f in m["surface_features"].values()),
    }


def average(per_bench: dict[str, dict]) -> dict:
    heads = [headline(m) for m in per_bench.values()]
    avg = {key: _mean([h[key] for h in heads]) for key in heads[0]} if heads else {}
    ks = sorted({k for m in per_bench.values() for k in m["scaling"]["majority"]})
    avg["scaling"] = {
        method: {k: _mean([m["scaling"][method].get(k) for m in per_bench.values()]) for k in ks}
        for method in SCALING_METHODS
    }
    return avg


ROWS = (
    ("accuracy", "Accuracy (authors: last box, math-verify)"),
    ("accuracy_gated", "Accuracy (training verifier, format gate)"),
    ("f1_all", "Self-verification F1 (authors: all samples)"),
    ("f1_answered", "Self-verification F1 (authors: answered only)"),
    ("f1_finished", "Self-verification F1 (finished only, as in training)"),
    ("tpr_all", "TPR: correct judged correct (all)"),
    ("tnr_all", "TNR: incorrect judged incorrect (all)"),
    ("auroc", "AUROC of r_s (answered)"),
    ("ece", "ECE of clip(r_s, 0, 1)"),
    ("finished_fraction", "Finished (ended with EOS)"),
    ("answered_fraction", "Answered (a boxed answer)"),
    ("mixed_fraction", "Problems with right and wrong samples"),
    ("within_problem_auroc", "AUROC of r_s within problems (right vs wrong of one problem)"),
    ("surface_auroc", "Best surface feature's AUROC (family, length, format)"),
    ("surface_within_problem_auroc", "Best surface feature's AUROC within problems"),
)


def pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f}"


def markdown(metrics: dict, title: str) -> str:
    names = list(metrics["benchmarks"])
    lines = [f"# {title}", "", "Percentages (AUROC and ECE x 100). Avg: unweighted mean over benchmarks.", ""]
    lines.append("| | " + " | ".join(names) + " | Avg |")
    lines.append("|---" * (len(names) + 2) + "|")
    for key, label in ROWS:
        cells = [pct(headline(metrics["benchmarks"][b])[key]) for b in names] + [pct(metrics["average"][key])]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    sizes = [f"{m['problems']} x {m['n']}" for m in metrics["benchmarks"].values()]
    lines.append("| problems x samples | " + " | ".join(sizes) + " | |")
    lines += ["", "## Inference-time scaling (accuracy %, mean over draws of k of the n samples)", ""]
    for name, scaling in [("Avg", metrics["average"]["scaling"])] + [
        (b, m["scaling"]) for b, m in metrics["benchmarks"].items()
    ]:
        ks = sorted(scaling["majority"])
        lines += [
            f"**{name}**",
            "",
            "| method | " + " | ".join(f"k={k}" for k in ks) + " |",
            "|---" * (len(ks) + 1) + "|",
        ]
        for method, label in SCALING_METHODS.items():
            lines.append(f"| {label} | " + " | ".join(pct(scaling[method][k]) for k in ks) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(metrics: dict, samples: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    panels = [("Avg", metrics["average"]["scaling"])] + [(b, m["scaling"]) for b, m in metrics["benchmarks"].items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False)
    for ax, (name, scaling) in zip(axes[0], panels, strict=True):
        ks = sorted(scaling["majority"])
        for method, label in SCALING_METHODS.items():
            ax.plot(
                ks,
                [100 * scaling[method][k] for k in ks],
                marker="o",
                ms=3,
                label=label,
                linestyle="--" if method == "pass_at_k" else "-",
            )
        ax.set_xscale("log", base=2)
        ax.set_ylim(-2, 102)
        ax.set_title(name)
        ax.set_xlabel("k samples")
    axes[0][0].set_ylabel("accuracy %")
    axes[0][0].legend(fontsize=7)
    paths.append(save_figure(fig, out_dir / "scaling.png"))

    fig, axes = plt.subplots(1, len(samples), figsize=(3.2 * len(samples), 3.0), squeeze=False)
    for ax, (name, rows) in zip(axes[0], samples.items(), strict=True):
        for correct, color in ((True, "tab:green"), (False, "tab:red")):
            values = [r["score"] for r in rows if r["score"] is not None and r["correct"] == correct]
            if values:
                ax.hist(
                    values,
                    bins=20,
                    alpha=0.6,
                    color=color,
                    label=f"{'correct' if correct else 'incorrect'} ({len(values)})",
                )
        ax.axvline(0.5, color="k", lw=0.8, ls=":")
        ax.set_title(name)
        ax.set_xlabel("r_s")
        ax.legend(fontsize=7)
    paths.append(save_figure(fig, out_dir / "score_hist.png"))
    return paths


def write_report(run_dir: str | Path, resamples: int = 64, seed: int = 0) -> dict:
    """metrics.json, results.md and plots/ in ``run_dir``; returns the metrics (and plot paths)."""
    run_dir = Path(run_dir)
    samples = load_samples(run_dir)
    metrics = run_metrics(run_dir, resamples, seed)
    config_path = run_dir / "run_config.json"
    model = json.loads(config_path.read_text()).get("model", "?") if config_path.is_file() else "?"
    write_text_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=1))
    write_text_atomic(run_dir / "results.md", markdown(metrics, f"Evaluation of {model}"))
    metrics["plots"] = [str(p) for p in plot(metrics, samples, run_dir / "plots")]
    return metrics


def read_metrics(path: Path) -> dict:
    """metrics.json with the scaling curves' k keys back as integers (JSON made them strings)."""
    metrics = json.loads(Path(path).read_text())
    for m in list(metrics["benchmarks"].values()) + [metrics["average"]]:
        m["scaling"] = {method: {int(k): v for k, v in curve.items()} for method, curve in m["scaling"].items()}
    return metrics


def compare(run_dirs: list[str | Path], labels: list[str] | None = None) -> str:
    """One markdown table, runs side by side: accuracy and F1 (all samples) per benchmark and on
    average, then majority vs self-reward-weighted voting at the largest k all runs share."""
    labels = labels or [Path(d).name for d in run_dirs]
    if len(labels) != len(run_dirs):
        raise ValueError(f"--labels: {len(labels)} labels for {len(run_dirs)} runs")
    runs = []
    for d in run_dirs:
        path = Path(d) / "metrics.json"
        runs.append(read_metrics(path) if path.is_file() else run_metrics(Path(d)))
    names = sorted(set.intersection(*(set(r["benchmarks"]) for r in runs)))
    if not names:
        raise ValueError(f"runs {list(map(str, run_dirs))} share no benchmark")
    lines = []
    for key, label in (("accuracy", "Accuracy %"), ("f1_all", "Self-verification F1 % (all samples)")):
        lines += [f"**{label}**", "", "| run | " + " | ".join(names) + " | Avg |", "|---" * (len(names) + 2) + "|"]
        for lab, r in zip(labels, runs, strict=True):
            cells = [pct(headline(r["benchmarks"][b])[key]) for b in names]
            cells.append(pct(_mean([headline(r["benchmarks"][b])[key] for b in names])))
            lines.append(f"| {lab} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "**Voting at the largest shared k (accuracy %)**",
        "",
        "| run | " + " | ".join(f"{b} Maj / Weighted" for b in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    shared_k = {b: min(max(r["benchmarks"][b]["scaling"]["majority"]) for r in runs) for b in names}
    for lab, r in zip(labels, runs, strict=True):
        cells = []
        for b in names:
            s, k = r["benchmarks"][b]["scaling"], shared_k[b]
            cells.append(f"{pct(s['majority'][k])} / {pct(s['weighted'][k])} (k={k})")
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="(re)write metrics.json, results.md and plots/ of a run folder")
    rep.add_argument("run_dir")
    rep.add_argument("--resamples", type=int, default=64)
    rep.add_argument("--seed", type=int, default=0)
    cmp_ = sub.add_parser("compare", help="runs side by side")
    cmp_.add_argument("run_dirs", nargs="+")
    cmp_.add_argument("--labels", nargs="*", default=None)
    cmp_.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    try:
        if args.command == "report":
            write_report(args.run_dir, args.resamples, args.seed)
            print((Path(args.run_dir) / "results.md").read_text())
        else:
            table = compare(args.run_dirs, args.labels)
            print(table)
            if args.out:
                write_text_atomic(Path(args.out), table)
    except (FileNotFoundError, ValueError) as error:
        print(f"eval_report: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
