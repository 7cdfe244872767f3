# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""scripts/score_probe.py on the tiny model: one line per evaluation, r_s trained by the MSE on right
and wrong worked responses, and the error for rows that have no wrong answer to pair."""

import json
import subprocess
import sys

from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
from tests.conftest import REPO_DIR

SCRIPT = REPO_DIR / "scripts/score_probe.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


def test_the_probe_trains_the_score_and_reports_each_evaluation(tmp_path, tiny_models):
    write_synthetic_arithmetic(tmp_path / "zero_rule", n_train=8, n_test=4, task="zero_rule")
    proc = run("--model", str(tiny_models["base"]), "--data", str(tmp_path / "zero_rule"), "--steps", "4",
               "--evals", "2", "--batch", "4", "--lr", "1e-2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["step"] for x in lines] == [0, 2, 4] and lines[0]["mse"] is None
    assert all(0.0 <= x["within_problem_auroc"] <= 1.0 for x in lines)
    # an untrained score sits near 0 (c_ref is its own mean): the class-balanced MSE starts near 1/2
    # and the updates move it down
    assert 0.3 < lines[1]["mse"] < 0.7 and lines[2]["mse"] < lines[1]["mse"]


def test_rows_without_a_wrong_answer_are_refused_by_name(tmp_path, tiny_models):
    write_synthetic_arithmetic(tmp_path / "arithmetic", n_train=4, n_test=2, task="arithmetic")
    proc = run("--model", str(tiny_models["base"]), "--data", str(tmp_path / "arithmetic"), "--steps", "1")
    assert proc.returncode == 2
    assert "train.parquet row 0: needs extra_info.worked_response and extra_info.wrong_answers" in proc.stderr
