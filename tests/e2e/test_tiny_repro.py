# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's reproduction (``bash run_laser.sh`` without PRESET) end to end, shortened to 2 RL
steps: the pipeline, not the figures (those are in the README, made by the full run); a second run
of the same command keeps everything, one with another option is refused."""

import json

import numpy as np
import pandas as pd
import pytest

from recipe.laser.evaluation.metrics import within_problem_verification
from recipe.laser.evaluation.report import authors_scores

pytestmark = pytest.mark.slow


@pytest.mark.runs("tiny_repro")
def test_tiny_cpu_repro_pipeline(jobs):
    workdir = jobs.get("tiny_repro")["workdir"]
    out, ckpt = workdir / "out", workdir / "ckpt"
    summary = json.loads((out / "summary.json").read_text())
    kinds = set(pd.read_parquet(workdir / "data" / "test.parquet")["extra_info"].map(lambda e: e["kind"]))
    assert list(summary["held_out"]) == ["warm start", "GRPO", "LaSeR"]
    for row in summary["held_out"].values():
        assert 0 <= row["accuracy"] <= 1 and row["k"] == 2
        assert set(row["families"]) == kinds
    for run in ("GRPO", "LaSeR"):
        assert summary["curves"][run]["step"] == [1, 2]
    steps = {
        run: [json.loads(x)["data"] for x in (ckpt / run / "metrics.jsonl").read_text().splitlines()]
        for run in ("grpo", "laser")
    }
    assert all(s["actor/laser/mse_loss"] > 0 for s in steps["laser"])
    assert all(s["laser/mse_active"] == 0.0 and s["laser/blend_active"] == 0.0 for s in steps["grpo"])
    assert [s["laser/blend_active"] for s in steps["laser"]] == [0.0, 1.0]
    c_ref = json.loads((ckpt / "laser" / "laser_c_ref.json").read_text())["c_ref"]
    evaluated = json.loads((out / "eval_laser" / "run_config.json").read_text())
    assert evaluated["c_ref"] == c_ref and evaluated["model"].endswith("global_step_2/actor/huggingface")
    # each row's figures are its own evaluation's, recomputed here from its samples; the task's rows
    # carry their family, so the family is among the surface features each score is set against
    beta_v = float(next(line for line in (out / "repro_options.txt").read_text().splitlines()
                        if line.startswith("BETA_V=")).split("=")[1])  # fmt: skip
    for label, folder, model in (("warm start", "eval_warm_start", "warm"), ("GRPO", "eval_grpo", "grpo"),
                                 ("LaSeR", "eval_laser", "laser")):  # fmt: skip
        row = summary["held_out"][label]
        samples = [json.loads(x) for x in (out / folder / "samples" / "test.jsonl").read_text().splitlines()]
        config = json.loads((out / folder / "run_config.json").read_text())
        assert (
            config["model"]
            .rstrip("/")
            .endswith(model if model == "warm" else f"{model}/global_step_2/actor/huggingface")
        )
        assert row["accuracy"] == pytest.approx(np.mean([r["correct"] for r in samples]))
        # the report's scores: r_s of the answered samples (authors_scores), as in every F1 and AUROC
        expected = within_problem_verification([r["correct"] for r in samples], authors_scores(samples),
                                               [r["problem_id"] for r in samples])  # fmt: skip
        assert row["mixed_fraction"] == pytest.approx(expected["mixed_fraction"])
        assert row["within_problem_auroc"] == pytest.approx(expected["auroc"], nan_ok=True)
        assert (
            "family" in row["surface_features"] and row["surface_auroc"] >= row["surface_features"]["family"]["auroc"]
        )
        for r in samples:  # r_s = beta_v (log p(z_c) - c_ref), c_ref the LaSeR run's
            if r["score"] is not None:
                assert r["score"] == pytest.approx(beta_v * (r["zc_log_prob"] - c_ref), abs=1e-9)
    table = (out / "summary.md").read_text()
    assert "| LaSeR |" in table and "Weighted@2" in table and "AUROC within problems" in table
    for png in ("curves.png", "voting.png", "verification.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.runs("tiny_repro")
def test_a_second_reproduction_keeps_every_result_and_other_options_are_refused(jobs):
    job = jobs.get("tiny_repro")
    again, refused = job["again"], job["refused"]
    log = again.stdout + again.stderr
    for run in ("grpo", "laser"):
        assert f"tiny_cpu_repro.sh: {run} is finished in" in log and "FRESH=1 trains it again" in log
    assert "main_laser" not in log, "a finished run was trained again"
    assert job["kept"] == job["first"], "the second run changed the first one's results"
    assert refused.returncode == 2
    message = refused.stderr
    assert "were made with other options" in message and "now:LR=1e-3" in message.replace(" ", "")
    assert "main_laser" not in message, "refused before any run"
    assert "were made with other options" in message and "before:LR=5e-4" in message.replace(" ", "")
    assert "FRESH=1 bash run_laser.sh starts over" in message
