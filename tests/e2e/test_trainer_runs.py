"""verl's real trainer, end to end on CPU, through the user's entry point ``run_laser.sh``.

Each run: hf rollout -> reward -> [reference] -> old log-prob -> GRPO advantages -> FSDP2 update ->
weight sync -> checkpoint with an HF export. GRPO through both of verl's trainers; LaSeR through the
v1 trainer with both tokenizer conventions and both c_ref modes that need no constant.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import REPO_DIR

pytestmark = pytest.mark.slow

STEPS = 2


def run_preset(tmp_path: Path, model_dir: Path, *hydra_args: str, **env_overrides) -> tuple[list[dict], Path]:
    ckpt = tmp_path / "ckpt"
    env = {
        **os.environ,
        "PRESET": "tiny_cpu_grpo",
        "MODEL_PATH": str(model_dir),
        "DATA_DIR": str(tmp_path / "data"),
        "CKPT_DIR": str(ckpt),
        "TOTAL_STEPS": str(STEPS),
        "SAVE_FREQ": str(STEPS),
        "MAX_RESPONSE_LENGTH": "16",
        "REWARD_FN_PATH": str(REPO_DIR / "tests/fixtures/parity_reward.py"),
        **env_overrides,
    }
    proc = subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh"), *hydra_args],
        env=env,
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    (tmp_path / "run.log").write_text(log)
    assert proc.returncode == 0, f"run_laser.sh failed (rc={proc.returncode}); log tail:\n{log[-6000:]}"
    metrics_file = ckpt / "metrics.jsonl"
    assert metrics_file.is_file(), f"no metrics file; log tail:\n{log[-3000:]}"
    rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
    return [r["data"] | {"_step": r["step"]} for r in rows if "training/global_step" in r["data"]], ckpt


def assert_trained(steps: list[dict], ckpt: Path, model_dir: Path):
    assert [s["_step"] for s in steps] == list(range(1, STEPS + 1))
    for s in steps:
        # rewards flowed: the parity reward gives a mix of 0 and 1 across the step's responses
        assert s["critic/score/max"] == 1.0 and s["critic/score/min"] == 0.0, s
        assert s["critic/advantages/max"] > 0 > s["critic/advantages/min"]
        # the hf rollout and the FSDP actor agree on the sampled tokens' probabilities (fp32 both)
        assert s["training/rollout_probs_diff_max"] < 1e-3
        assert abs(s["rollout_corr/log_ppl_diff"]) < 1e-3
        assert s["actor/grad_norm"] > 0
    exported = ckpt / f"global_step_{STEPS}" / "actor" / "huggingface"
    assert (exported / "config.json").is_file(), sorted(p.name for p in ckpt.rglob("*"))[:50]
    before = load_file(model_dir / "model.safetensors")
    after = {}
    for f in exported.glob("*.safetensors"):
        after.update(load_file(f))
    shared = sorted(set(before) & set(after))
    assert len(shared) >= len(before) - 1  # tied lm_head may be saved once
    changed = [k for k in shared if not torch.equal(before[k].float(), after[k].float())]
    assert len(changed) >= len(shared) // 2, f"only {len(changed)}/{len(shared)} tensors changed"


@pytest.mark.parametrize("use_v1", [True, False], ids=["v1_trainer", "legacy_trainer"])
def test_tiny_cpu_grpo_trains(tmp_path, tiny_models, use_v1):
    steps, ckpt = run_preset(tmp_path, tiny_models["base"], USE_V1_TRAINER=str(use_v1))
    assert_trained(steps, ckpt, tiny_models["base"])


# -- LaSeR -----------------------------------------------------------------------------------------------
ZC = 151652


def check_zc_log_probs_against_transformers(dump: Path, model_dir: Path, end_token: int) -> list[dict]:
    """Step-1 records (the actor still has the initial weights): the z_c log-prob the recipe read from
    verl's actor equals a plain transformers forward on prompt + response + EOS + z_c."""
    from transformers import AutoModelForCausalLM

    records = [json.loads(line) for line in dump.read_text().splitlines()]
    first = [r for r in records if r["step"] == 1]
    assert first and sum(r["valid"] for r in first) >= len(first) // 2, "too few finished responses to test"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    for r in first:
        ids = r["input_ids"]
        if not r["valid"]:
            assert ids[-1] != ZC
            continue
        assert ids[-1] == ZC and ids[-2] == end_token, ids[-4:]
        with torch.no_grad():
            logits = model(torch.tensor([ids[:-1]])).logits[0, -1].float()
        expected = torch.log_softmax(logits, -1)[ZC].item()
        assert abs(r["zc_log_prob"] - expected) < 1e-5, (r["zc_log_prob"], expected)
    return records


def test_tiny_cpu_laser_auto_c_ref_no_reference_worker(tmp_path, warm_models):
    """pad == EOS, c_ref measured at step 1 without a reference worker, MSE from step 1, blending from step 2."""
    dump = tmp_path / "scores.jsonl"
    steps, ckpt = run_preset(
        tmp_path,
        warm_models["base"],
        PRESET="tiny_cpu_laser",
        TOTAL_STEPS="4",
        SAVE_FREQ="-1",
        C_REF="auto",
        ALPHA="1.0",
        STD_THRESHOLD="0.0",
        SELF_REWARD_WARMUP="1",
        LASER_SCORE_DUMP=str(dump),
    )
    assert [s["_step"] for s in steps] == [1, 2, 3, 4]
    assert not any("timing_s/ref" in s for s in steps), "constant/auto mode must not start the reference worker"
    mse = [s["actor/laser/mse_loss"] for s in steps]
    assert all(m > 0 for m in mse) and mse[-1] < mse[0], mse
    assert all(s["laser/valid_fraction"] > 0.5 for s in steps)
    assert [s["laser/blend_active"] for s in steps] == [0.0, 1.0, 1.0, 1.0]
    assert max(s["laser/self_adv_group_fraction"] for s in steps[1:]) > 0
    saved = json.loads((ckpt / "laser_c_ref.json").read_text())
    assert saved["step"] == 1 and -40 < saved["c_ref"] < 0
    assert all(s["laser/c_ref"] == pytest.approx(saved["c_ref"], abs=1e-4) for s in steps)
    records = check_zc_log_probs_against_transformers(dump, warm_models["base"], end_token=151643)
    assert sum(1 for r in records if r["step"] == 4) == 16


def test_tiny_cpu_laser_exact_c_ref_with_pad_not_eos(tmp_path, warm_models):
    """pad != EOS (z_c after <|im_end|>), exact mode: the reference worker's z_c log-prob is c_ref."""
    dump = tmp_path / "scores.jsonl"
    steps, _ = run_preset(
        tmp_path,
        warm_models["chat"],
        PRESET="tiny_cpu_laser",
        TOTAL_STEPS="2",
        SAVE_FREQ="-1",
        C_REF="exact",
        LASER_SCORE_DUMP=str(dump),
    )
    assert [s["_step"] for s in steps] == [1, 2]
    assert all("timing_s/ref" in s for s in steps)
    records = check_zc_log_probs_against_transformers(dump, warm_models["chat"], end_token=151645)
    for r in records:
        if r["step"] == 1 and r["valid"]:  # before any update the actor is the reference model
            assert abs(r["ref_zc_log_prob"] - r["zc_log_prob"]) < 1e-5
            assert r["score"] == pytest.approx(0.0, abs=1e-6)


def test_laser_gradient_is_the_same_for_micro_batch_1_and_the_whole_batch(tmp_path, warm_models):
    """One LaSeR step through verl's FSDP actor: PPO loss + alpha MSE with micro-batch 1 (16 gradient
    accumulation steps) and with the whole batch in one micro-batch give the same gradient norm."""
    runs = {}
    for micro in (1, 16):
        dump = tmp_path / f"scores_{micro}.jsonl"
        steps, _ = run_preset(
            tmp_path / str(micro),
            warm_models["base"],
            f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={micro}",
            "actor_rollout_ref.rollout.full_determinism=True",  # identical rollouts in both runs
            PRESET="tiny_cpu_laser",
            TOTAL_STEPS="1",
            SAVE_FREQ="-1",
            C_REF="-18",
            ALPHA="1.0",
            LASER_SCORE_DUMP=str(dump),
        )
        runs[micro] = (steps[0], [json.loads(line) for line in dump.read_text().splitlines()])
    (one, dump_one), (whole, dump_whole) = runs[1], runs[16]
    assert "timing_s/ref" not in one, "constant c_ref must not start the reference worker"
    key = lambda r: (r["input_ids"], r["reward"])  # noqa: E731
    assert sorted(map(key, dump_one)) == sorted(map(key, dump_whole)), (
        "rollouts differ; the comparison needs equal batches"
    )
    assert one["actor/laser/mse_loss"] == pytest.approx(whole["actor/laser/mse_loss"], rel=1e-5)
    assert one["actor/grad_norm"] == pytest.approx(whole["actor/grad_norm"], rel=1e-5)
