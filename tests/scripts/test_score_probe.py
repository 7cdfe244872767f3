# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""scripts/score_probe.py on the tiny model: one line per evaluation, r_s trained by the MSE on right
and wrong worked responses, and the error for rows that have no wrong answer to pair."""

import importlib.util
import json
import subprocess
import sys

import torch

from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
from tests.conftest import REPO_DIR

SCRIPT = REPO_DIR / "scripts/score_probe.py"
_spec = importlib.util.spec_from_file_location("score_probe", SCRIPT)
score_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score_probe)


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


def test_the_bce_probe_trains_p_z_c_by_the_eq_16_loss(tmp_path, tiny_models):
    write_synthetic_arithmetic(tmp_path / "zero_rule", n_train=8, n_test=4, task="zero_rule")
    proc = run("--model", str(tiny_models["base"]), "--data", str(tmp_path / "zero_rule"), "--steps", "4",
               "--evals", "2", "--batch", "4", "--lr", "1e-2", "--loss", "bce")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["step"] for x in lines] == [0, 2, 4] and "mse" not in lines[1]
    # p(z_c) starts near 0 (about e^-18): the weighted cross-entropy of the correct half is large, then falls
    assert lines[1]["bce"] > 1.0 and lines[2]["bce"] < lines[1]["bce"]


def test_rows_without_a_wrong_answer_are_refused_by_name(tmp_path, tiny_models):
    write_synthetic_arithmetic(tmp_path / "arithmetic", n_train=4, n_test=2, task="arithmetic")
    proc = run("--model", str(tiny_models["base"]), "--data", str(tmp_path / "arithmetic"), "--steps", "1")
    assert proc.returncode == 2
    assert "train.parquet row 0: needs extra_info.worked_response and extra_info.wrong_answers" in proc.stderr


def test_the_z_c_log_prob_is_the_full_forward_s_at_each_sequence_s_last_token(tiny_models):
    """The probe applies the output layer at the last token only; it must equal the log-softmax of the
    full forward's logits there, for sequences of different lengths (right-padded)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_models["base"], dtype=torch.float32)
    sequences, zc, pad = [[11, 12, 13, 14, 15], [21, 22], [31, 32, 33]], 151652, 0
    with torch.no_grad():
        got = score_probe.zc_log_prob(model, sequences, zc, pad)
        expected = [torch.log_softmax(model(input_ids=torch.tensor([s])).logits[0, -1], -1)[zc] for s in sequences]
    torch.testing.assert_close(got, torch.stack(expected), rtol=0, atol=1e-5)
