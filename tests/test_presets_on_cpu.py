"""Every preset composes against verl 0.9.1's config schema (hydra --cfg job, nothing runs)."""

import os
import subprocess

import pytest
import yaml

from recipe.laser.config import LaSeRConfig
from tests.conftest import REPO_DIR

PRESETS = sorted(p.stem for p in (REPO_DIR / "recipe/laser/presets").glob("*.sh") if not p.name.startswith("_"))


def compose(preset: str, tmp_path, *overrides) -> dict:
    dummy = tmp_path / "train.parquet"
    dummy.touch()  # the paper presets prepare data only when the training file is missing
    env = {**os.environ, "PRESET": preset, "TRAIN_FILE": str(dummy), "MODEL_PATH": str(tmp_path / "m")}
    if preset.startswith("tiny"):
        env["MODEL_PATH"] = str(REPO_DIR / "models/not-built")
        env["DATA_DIR"] = str(tmp_path)
        (tmp_path / "not-built").mkdir(exist_ok=True)
    proc = subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh"), *overrides, "--cfg", "job"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_DIR,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return yaml.safe_load(proc.stdout)


@pytest.mark.parametrize("preset", [p for p in PRESETS if not p.startswith("tiny")])
def test_paper_presets_compose_with_the_papers_hyperparameters(preset, tmp_path):
    cfg = compose(preset, tmp_path)
    laser = LaSeRConfig.from_config(cfg["laser"])
    assert laser.enable == preset.endswith("_laser")
    assert (laser.alpha, laser.beta_v, laser.tau, laser.std_threshold) == (0.1, 0.1, 0.1, 0.1)
    assert laser.c_ref == (-25.0 if preset.startswith("octothinker") else -23.0)
    assert laser.reasoning_warmup_steps == (0 if preset.startswith("orz") else 200)
    assert laser.self_reward_warmup_steps == 200
    arr = cfg["actor_rollout_ref"]
    assert arr["rollout"]["n"] == 8 and cfg["data"]["train_batch_size"] == 128
    assert arr["actor"]["optim"]["lr"] == 1e-6 and arr["actor"]["ppo_mini_batch_size"] == 128
    assert (cfg["data"]["max_prompt_length"], cfg["data"]["max_response_length"]) == (2048, 8192)
    assert arr["rollout"]["name"] == "vllm" and arr["rollout"]["temperature"] == 1.0
    assert arr["rollout"]["val_kwargs"]["n"] == 2 and cfg["trainer"]["total_epochs"] == 2
    assert not arr["actor"]["use_kl_loss"], "constant c_ref needs no reference worker"
    assert cfg["trainer"]["n_gpus_per_node"] == 8 and cfg["trainer"]["v1"]["trainer_mode"] == "laser"


def test_multi_node_and_passthrough_overrides(tmp_path):
    cfg = compose("qwen2.5-7b_laser", tmp_path, "trainer.nnodes=4", "laser.tau=0.0")
    assert cfg["trainer"]["nnodes"] == 4 and cfg["laser"]["tau"] == 0.0
