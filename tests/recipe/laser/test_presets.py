# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Every preset composes against verl 0.9.1's config schema through run_laser.sh (hydra --cfg job,
nothing runs), passes the recipe's refusals, and the paper presets hold the paper's values."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from omegaconf import OmegaConf

from recipe.laser.config import LaSeRConfig
from recipe.laser.launch import check_judge, check_supported, resolve_family
from tests.conftest import REPO_DIR

PRESET_DIR = REPO_DIR / "recipe/laser/presets"
PRESETS = sorted(p.stem for p in PRESET_DIR.glob("*.sh") if not p.name.startswith("_"))
PAPER = {
    "qwen2.5-7b": ("qwen2.5", -23.0, 200),
    "orz-7b": ("orz", -23.0, 0),
    "octothinker-3b": ("octothinker", -25.0, 200),
}


# what the general-reasoning preset sets besides a math preset's three variables: its data and its judge
GENERAL_DELTA = {
    "qwen3-4b_general_laser": [
        "DATA_DIR", "VAL_FILES", "JUDGE_MODEL", "JUDGE_URL", "JUDGE_TP", "JUDGE_GPU_MEMORY_UTILIZATION",
        "JUDGE_MAX_TOKENS", "JUDGE_TIMEOUT_S",
    ]
}  # fmt: skip


def compose(preset: str, tmp_path, *overrides, **env) -> dict:
    """The preset's config as run_laser.sh composes it, in the test's environment (PYTHON: a GPU preset
    composes without .venv-gpu)."""
    env = {**os.environ, "PRESET": preset, "CKPT_DIR": str(tmp_path / "ckpt"), "PYTHON": sys.executable, **env}
    proc = subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh"), *overrides, "--cfg", "job"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_DIR,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return yaml.safe_load(proc.stdout)


@pytest.mark.parametrize("preset", [p for p in PRESETS if p.rsplit("_", 1)[0] in PAPER])
def test_paper_presets_compose_with_the_papers_hyperparameters(preset, tmp_path):
    cfg = compose(preset, tmp_path)
    backbone = preset.rsplit("_", 1)[0]
    family, c_ref, reasoning_warmup = PAPER[backbone]
    config = OmegaConf.create(cfg)
    laser = resolve_family(config, LaSeRConfig.from_config(cfg["laser"]))
    assert laser.enable == preset.endswith("_laser")
    assert (laser.family, laser.c_ref) == (family, c_ref)  # from recipe/laser/families.py
    assert (laser.alpha, laser.beta_v, laser.tau, laser.std_threshold) == (0.1, 0.1, 0.1, 0.1)
    assert laser.reasoning_warmup_steps == reasoning_warmup and laser.self_reward_warmup_steps == 200
    check_supported(config)
    arr = cfg["actor_rollout_ref"]
    assert arr["rollout"]["n"] == 8 and cfg["data"]["train_batch_size"] == 128
    assert arr["actor"]["optim"]["lr"] == 1e-6 and arr["actor"]["ppo_mini_batch_size"] == 128
    assert arr["actor"]["optim"]["weight_decay"] == 0.01 and arr["actor"]["grad_clip"] == 1.0
    assert (cfg["data"]["max_prompt_length"], cfg["data"]["max_response_length"]) == (2048, 8192)
    assert arr["rollout"]["name"] == "vllm" and arr["rollout"]["temperature"] == 1.0
    assert arr["rollout"]["val_kwargs"]["n"] == 2 and cfg["trainer"]["total_epochs"] == 2
    assert not arr["actor"]["use_kl_loss"], "constant c_ref needs no reference worker"
    assert cfg["trainer"]["n_gpus_per_node"] == 8 and cfg["trainer"]["v1"]["trainer_mode"] == "laser"
    assert cfg["trainer"]["resume_mode"] == "auto"


@pytest.mark.parametrize("preset", ["qwen3-4b_general_laser", "qwen3-4b_general_grpo"])
def test_general_presets_train_qwen3_on_webinstruct_with_verl_serving_the_judge(preset, tmp_path):
    cfg = compose(preset, tmp_path)
    config = OmegaConf.create(cfg)
    laser = resolve_family(config, LaSeRConfig.from_config(cfg["laser"]))
    assert laser.enable == preset.endswith("_laser")
    assert (laser.family, laser.c_ref) == ("qwen3", "auto")  # z_c <|vision_start|>, from the family
    assert (laser.alpha, laser.beta_v, laser.tau, laser.std_threshold) == (0.1, 0.1, 0.1, 0.1)
    assert cfg["actor_rollout_ref"]["model"]["path"] == "Qwen/Qwen3-4B-Base"
    assert cfg["data"]["train_files"].endswith("data/general_qwen3/train.parquet")
    assert cfg["data"]["val_files"] == [str(REPO_DIR / "data/general_qwen3/eval/gpqa_diamond.parquet")]
    reward = cfg["reward"]
    assert reward["custom_reward_function"]["path"] == str(REPO_DIR / "recipe/laser/verifier/judge.py")
    assert reward["custom_reward_function"]["reward_kwargs"] == {"max_tokens": 1024, "timeout_s": 120}
    judge = reward["reward_model"]
    assert (
        judge["enable"] and judge["model_path"] == "TIGER-Lab/general-verifier" and judge["rollout"]["name"] == "vllm"
    )
    assert judge["rollout"]["prompt_length"] == 2048 + 1024 and judge["rollout"]["response_length"] == 1024
    check_judge(config)
    if laser.enable:
        check_supported(config)


def test_general_preset_with_a_judge_server_of_your_own(tmp_path):
    cfg = compose("qwen3-4b_general_laser", tmp_path, JUDGE_URL="http://judge-node:8000")
    assert not cfg["reward"]["reward_model"]["enable"]
    assert cfg["reward"]["custom_reward_function"]["reward_kwargs"]["judge_url"] == "http://judge-node:8000"
    check_judge(OmegaConf.create(cfg))


def test_gpu_smoke_preset(tmp_path):
    cfg = compose("gpu_smoke", tmp_path)
    config = OmegaConf.create(cfg)
    check_supported(config)
    laser = resolve_family(config, LaSeRConfig.from_config(cfg["laser"]))
    assert laser.enable and laser.c_ref == -23.0 and laser.score_dump_path == str(tmp_path / "ckpt" / "scores.jsonl")
    arr = cfg["actor_rollout_ref"]
    assert arr["rollout"]["name"] == "vllm" and cfg["trainer"]["total_training_steps"] == 3
    assert arr["actor"]["fsdp_config"]["mixed_precision"]["param_dtype"] == "fp32"  # a tight check of z_c
    assert cfg["trainer"]["n_gpus_per_node"] == 1


def test_gpu_smoke_on_a_cpu_uses_verls_vllm_rollout_with_the_cpu_settings(tmp_path):
    cfg = compose("gpu_smoke", tmp_path, DEVICE="cpu")
    check_supported(OmegaConf.create(cfg))
    rollout = cfg["actor_rollout_ref"]["rollout"]
    assert rollout["name"] == "vllm" and cfg["trainer"]["device"] == "cpu"
    assert not rollout["enable_sleep_mode"] and not rollout["free_cache_engine"] and rollout["enforce_eager"]
    assert rollout["engine_kwargs"]["vllm"]["kv_cache_memory_bytes"] == 268435456 and rollout["dtype"] == "float32"
    assert cfg["actor_rollout_ref"]["actor"]["strategy"] == "fsdp2"


def test_multi_node_and_passthrough_overrides(tmp_path):
    cfg = compose("qwen2.5-7b_laser", tmp_path, "laser.tau=0.0", NNODES="4", NGPUS_PER_NODE="8")
    assert cfg["trainer"]["nnodes"] == 4 and cfg["laser"]["tau"] == 0.0


@pytest.mark.parametrize("ngpus", [1, 2, 4])
def test_tiny_preset_derives_per_gpu_sizes_from_ngpus(tmp_path, ngpus):
    cfg = compose("tiny_cpu_laser", tmp_path, NGPUS=str(ngpus), TRAIN_PROMPTS_PER_STEP="4", N_RESPONSES="4")
    arr = cfg["actor_rollout_ref"]
    assert cfg["trainer"]["n_gpus_per_node"] == ngpus and cfg["ray_kwargs"]["ray_init"]["num_gpus"] == ngpus
    # each rank's share of a mini-batch (4 prompts x 4 responses) is one micro-batch
    assert arr["actor"]["ppo_micro_batch_size_per_gpu"] == 16 // ngpus
    assert arr["rollout"]["log_prob_micro_batch_size_per_gpu"] == 16 // ngpus
    check_supported(OmegaConf.create(cfg))


def test_tiny_preset_variables_of_the_reproductions_later_tries_reach_their_keys(tmp_path):
    cfg = compose("tiny_cpu_laser", tmp_path, PPO_EPOCHS="16", SELF_REWARD_LOSS="bce", USE_KL_LOSS="True",
                  KL_LOSS_COEF="1.0")  # fmt: skip
    actor = cfg["actor_rollout_ref"]["actor"]
    assert actor["ppo_epochs"] == 16 and actor["use_kl_loss"] is True and actor["kl_loss_coef"] == 1.0
    assert cfg["laser"]["self_reward_loss"] == "bce"
    default = compose("tiny_cpu_laser", tmp_path / "default")["actor_rollout_ref"]["actor"]
    assert (default["ppo_epochs"], default["use_kl_loss"], default["kl_loss_coef"]) == (1, False, 0.001)


def test_presets_do_no_work_when_sourced_and_read_alone():
    """Sourcing a preset only sets variables and defines prepare_inputs. A GRPO twin is its LaSeR file
    with LASER=False; a paper preset sets only its model, family and warm-up and sources the shared
    _paper.sh; the others (and _paper.sh) name their settings themselves next to the one helper."""
    paper = [
        p
        for p in PRESETS
        if "_paper" in re.findall(r"^source .*presets/([\w.-]+)\.sh", (PRESET_DIR / f"{p}.sh").read_text(), flags=re.M)
    ]
    assert sorted(paper) == ["octothinker-3b_laser", "orz-7b_laser", "qwen2.5-7b_laser", "qwen3-4b_general_laser"]
    for preset in [*PRESETS, "_paper"]:
        text = (PRESET_DIR / f"{preset}.sh").read_text()
        sources = re.findall(r"^source .*presets/([\w.-]+)\.sh", text, flags=re.M)
        if preset.endswith("_grpo"):
            assert sources == [preset.replace("_grpo", "_laser")] and "LASER=False" in text
            continue
        if preset in paper:
            assert sources == ["_paper"]
            names = re.findall(r"^([A-Z_]+)=", text, flags=re.M)
            assert names == ["MODEL_PATH", "FAMILY", "REASONING_WARMUP", *GENERAL_DELTA.get(preset, [])], names
            continue
        assert sources == ["_common"], preset
        body = re.sub(r"^prepare_inputs\(\) \{.*?^\}", "", text, flags=re.M | re.S)
        commands = [
            line for line in body.splitlines()
            if line.strip() and not line.lstrip().startswith(("#", "export ", "source ", ")", "PRESET_ARGS"))
            and not re.match(r"^\s*[A-Z_]+=", line) and not line.startswith("    ")
            and not re.match(r"^(case |esac$|use_cpu_platform )", line)
        ]  # fmt: skip
        assert commands == [], (preset, commands)


def test_a_second_smoke_run_is_refused_and_fresh_starts_over(tmp_path):
    """No destructive default: the smoke preset keeps an earlier run's score dump and refuses, naming
    FRESH=1; FRESH=1 deletes the run's folder first. (PYTHON=true: the shell logic only, no run.)"""
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "scores.jsonl").write_text('{"step": 1}\n')
    (ckpt / "metrics.jsonl").write_text("{}\n")
    train = tmp_path / "train.parquet"
    train.write_bytes(b"")
    env = {**os.environ, "PRESET": "gpu_smoke", "CKPT_DIR": str(ckpt), "TRAIN_FILE": str(train), "PYTHON": "true"}
    run = ["bash", str(REPO_DIR / "run_laser.sh")]
    refused = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "FRESH=1 PRESET=gpu_smoke bash run_laser.sh" in refused.stderr
    assert (ckpt / "scores.jsonl").read_text() == '{"step": 1}\n'
    fresh = subprocess.run(run, env={**env, "FRESH": "1"}, capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0 and f"FRESH=1: deleting {ckpt}" in fresh.stderr
    assert ckpt.is_dir() and not any(ckpt.iterdir())
    cfg = compose("gpu_smoke", tmp_path)
    assert cfg["trainer"]["resume_mode"] == "auto"


@pytest.mark.parametrize("preset, family", [("qwen2.5-7b_laser", "qwen2.5"), ("orz-7b_grpo", "orz"),
                                            ("octothinker-3b_laser", "octothinker")])  # fmt: skip
def test_a_paper_preset_prepares_its_data_for_its_family(tmp_path, preset, family):
    """prepare_inputs builds DeepMath and the benchmarks with the preset's model and family (the
    family's answer gate is checked against the data). PYTHON=echo: the command only."""
    script = f'source "$REPO_DIR/recipe/laser/presets/{preset}.sh" && PYTHON=echo && prepare_inputs'
    env = {**os.environ, "REPO_DIR": str(REPO_DIR), "PRESET": preset, "DATA_DIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    model = {"qwen2.5": "Qwen/Qwen2.5-7B", "orz": "Open-Reasoner-Zero/Open-Reasoner-Zero-7B",
             "octothinker": "OctoThinker/OctoThinker-3B-Short-Base"}[family]  # fmt: skip
    assert proc.stdout.split() == ["-m", "data_prep.prepare_math", "--out-dir", str(tmp_path), "--tokenizer", model,
                                   "--family", family]  # fmt: skip


def ablation_commands() -> list[tuple[str, str]]:
    """(ablation, command) of docs/experiments.md's ablation table."""
    text = (REPO_DIR / "docs/experiments.md").read_text()
    table = text.split("## Ablations", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ") and "bash run_laser.sh" in line]
    return [(row[0].strip("| "), re.search(r"`([^`]*bash run_laser.sh[^`]*)`", row[2]).group(1)) for row in rows]


ABLATIONS = {  # what each documented command must change in the composed laser config
    'no self-rewarding advantage ("-SWA")': {"tau": 0.0},
    "exact c_ref (the reference model's log-prob at the same slot) instead of the constant": {"c_ref": "exact"},
    "no class re-weighting of the MSE": {"class_balance": False},
    "SFT/BCE instead of MSE (eq. 16)": {"self_reward_loss": "bce"},
    "RL on the self-rewarding score alone": {"tau": 1.0, "std_threshold": 0.0},
}


@pytest.mark.parametrize("ablation, command", ablation_commands())
def test_each_documented_ablation_composes_and_changes_only_its_keys(ablation, command, tmp_path):
    env = dict(re.findall(r"([A-Z_]+)=(\S+)\s", command.split("bash run_laser.sh")[0]))
    overrides = command.split("bash run_laser.sh", 1)[1].split()
    cfg = compose(env.pop("PRESET"), tmp_path, *overrides, **env)
    laser = LaSeRConfig.from_config(cfg["laser"])
    baseline = LaSeRConfig.from_config(compose("orz-7b_laser", tmp_path)["laser"])
    changed = {k: getattr(laser, k) for k in vars(laser) if getattr(laser, k) != getattr(baseline, k)}
    assert changed == ABLATIONS[ablation]


def test_the_ablation_table_lists_each_ablation_once():
    assert sorted(name for name, _ in ablation_commands()) == sorted(ABLATIONS)
