"""The tiny reproduction preset end to end, shortened (2 RL steps): the pipeline, not the figures
(those are in the README, made by the full preset)."""

import json
import os
import subprocess

import pytest

from tests.conftest import REPO_DIR


@pytest.mark.slow
def test_tiny_cpu_repro_pipeline(tmp_path, tiny_models):
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    env = {
        **os.environ,
        "PRESET": "tiny_cpu_repro",
        "MODEL_DIR": str(tiny_models["base"]),
        "DATA_DIR": str(tmp_path / "data"),
        "WARM_MODEL": str(tmp_path / "warm"),
        "WARM_STEPS": "100",
        "N_TRAIN": "64",
        "N_TEST": "8",
        "TOTAL_STEPS": "2",
        "SELF_REWARD_WARMUP": "1",
        "EVAL_N": "2",
        "OUT_DIR": str(out),
        "CKPT_ROOT": str(ckpt),
    }
    proc = subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh")], env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=1500
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["held_out"]) == ["warm start", "GRPO", "LaSeR"]
    for row in summary["held_out"].values():
        assert 0 <= row["accuracy"] <= 1 and row["k"] == 2
        assert set(row["families"]) == {"times_zero", "two_digit_sum"}
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
    table = (out / "summary.md").read_text()
    assert "| LaSeR |" in table and "Weighted@2" in table
    for png in ("curves.png", "voting.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
