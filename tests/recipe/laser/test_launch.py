# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/launch.py on the recipe's real composed config (no Ray, no workers): every unsupported
verl mode refused with its key named, family defaults, absolute paths, loggers, and the runtime
environment that carries the recipe into the workers of a cluster started before the run."""

import concurrent.futures
import os
import subprocess
from unittest import mock

import pytest
from hydra import compose, initialize_config_dir

from recipe.laser.config import LaSeRConfigError
from recipe.laser.launch import (
    RECIPE_DIR,
    REPO_DIR,
    TRAINER_MODULE,
    check_supported,
    cluster_requires_token,
    configure_loggers,
    configure_ray,
    enable_ray_token_auth,
    prepare_config,
    worker_env,
)

BASE = ["laser.enable=True", "actor_rollout_ref.rollout.n=4", "laser.c_ref=-20.0", "laser.family=qwen2.5"]


def composed(*overrides):
    with initialize_config_dir(config_dir=str(RECIPE_DIR / "config"), version_base=None):
        return compose("laser_trainer", overrides=[*BASE, *overrides])


@pytest.mark.parametrize(
    "override, key",
    [
        ("trainer.use_v1=False", "trainer.use_v1=False"),
        ("trainer.v1.trainer_mode=sync", "trainer.v1.trainer_mode=sync"),
        ("algorithm.adv_estimator=gae", "algorithm.adv_estimator=gae"),
        ("actor_rollout_ref.rollout.temperature=0.7", "actor_rollout_ref.rollout.temperature=0.7"),
        ("actor_rollout_ref.rollout.n=1", "actor_rollout_ref.rollout.n=1"),
        ("algorithm.rollout_correction.bypass_mode=True", "algorithm.rollout_correction.bypass_mode=True"),
        ("actor_rollout_ref.rollout.multi_turn.enable=True", "actor_rollout_ref.rollout.multi_turn.enable=True"),
        ("actor_rollout_ref.rollout.agent.default_agent_loop=tool_agent", "actor_rollout_ref.rollout.agent"),
        ("actor_rollout_ref.rollout.agent.agent_loop_config_path=loops.yaml", "actor_rollout_ref.rollout.agent"),
        ("actor_rollout_ref.actor.strategy=megatron", "actor_rollout_ref.actor.strategy=megatron"),
        ("actor_rollout_ref.model.lora_rank=8", "actor_rollout_ref.model.lora_rank"),
        ("+trainer.v1.sync.parameter_sync_step=2", "trainer.v1.sync.parameter_sync_step=2"),
        ("+trainer.v1.laser.parameter_sync_step=1", "trainer.v1.laser.parameter_sync_step: verl never reads it"),
    ],
)
def test_unsupported_modes_are_refused_naming_the_key(override, key):
    config = composed(override)
    with pytest.raises(LaSeRConfigError, match="unsupported with laser.enable=true") as error:
        check_supported(config)
    assert key in str(error.value)


def test_the_refused_sync_key_is_the_one_verl_reads_for_the_laser_trainer():
    """verl's PPOTrainer.__init__ reads parameter_sync_step under the trainer's mode; the LaSeR trainer
    runs as mode sync, so trainer.v1.sync.parameter_sync_step changes verl's step and the laser one
    does nothing. Breaks when verl reads the key elsewhere."""
    from verl.trainer.ppo.v1 import trainer_base

    from recipe.laser.trainer import LaSeRTrainer

    with mock.patch.object(trainer_base.PPOTrainer, "_build_replay_buffer", lambda self: None):
        read = LaSeRTrainer(composed("+trainer.v1.sync.parameter_sync_step=2"))
        ignored = LaSeRTrainer(composed("+trainer.v1.laser.parameter_sync_step=2"))
    assert (read.trainer_mode, read.parameter_sync_step, ignored.parameter_sync_step) == ("sync", 2, 1)


def test_a_run_with_the_sync_key_stops_before_ray_naming_it(tmp_path, tiny_models):
    """The user's command: run_laser.sh with the key verl reads exits non-zero naming it, before any
    Ray process starts."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "RAY_ADDRESS")}
    env.update(PRESET="tiny_cpu_laser", WARM_STEPS="0", MODEL_PATH=str(tiny_models["base"]), N_TRAIN="8", N_TEST="4",
               DATA_DIR=str(tmp_path / "data"), CKPT_DIR=str(tmp_path / "ckpt"))  # fmt: skip
    proc = subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh"), "+trainer.v1.sync.parameter_sync_step=2"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_DIR,
    )  # fmt: skip
    assert proc.returncode != 0
    assert (
        "trainer.v1.sync.parameter_sync_step=2" in proc.stderr and "unsupported with laser.enable=true" in proc.stderr
    )
    assert "ray init kwargs" not in proc.stdout + proc.stderr and "Ray runtime started" not in proc.stderr


def test_supported_config_passes_and_refusals_come_before_any_worker():
    check_supported(composed())
    config = composed("algorithm.rollout_correction.bypass_mode=True")
    with pytest.raises(LaSeRConfigError, match="bypass_mode"):
        prepare_config(config)  # the driver, before verl's ray.init


def test_family_decides_c_ref_and_the_reward_path_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run started from elsewhere
    config = composed("laser.c_ref=null", "laser.family=octothinker")  # the family's c_ref
    laser = prepare_config(config)
    assert (laser.family, laser.c_ref, config.laser.c_ref) == ("octothinker", -25.0, -25.0)
    assert config.reward.custom_reward_function.path == str(RECIPE_DIR / "verifier" / "reward.py")
    with pytest.raises(LaSeRConfigError, match="no such file"):
        prepare_config(composed("reward.custom_reward_function.path=missing.py"))


JUDGE = f"reward.custom_reward_function.path={RECIPE_DIR / 'verifier' / 'judge.py'}"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ([], "needs a judge: reward.reward_model.enable=True with reward.reward_model.model_path"),
        (["reward.reward_model.enable=True"], "set reward.reward_model.model_path to the judge model"),
        (
            [
                "reward.reward_model.enable=True",
                "reward.reward_model.model_path=j",
                "+reward.custom_reward_function.reward_kwargs.judge_url=http://h:1",
            ],
            "the judge is given twice",
        ),
    ],
)
def test_the_judge_reward_without_one_judge_stops_in_the_driver(overrides, message):
    for enable in ("True", "False"):  # the GRPO baseline too
        with pytest.raises(LaSeRConfigError, match=message):
            prepare_config(composed(JUDGE, f"laser.enable={enable}", *overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        ["+reward.custom_reward_function.reward_kwargs.judge_url=http://h:1"],
        ["reward.reward_model.enable=True", "reward.reward_model.model_path=TIGER-Lab/general-verifier"],
    ],
)
def test_the_judge_reward_with_one_judge_passes(overrides):
    prepare_config(composed(JUDGE, *overrides))


def test_exact_mode_asks_verl_for_the_reference_worker():
    config = composed("laser.c_ref=exact")
    prepare_config(config)
    assert config.actor_rollout_ref.actor.use_kl_loss and config.actor_rollout_ref.actor.kl_loss_coef == 0.0
    config = composed()
    prepare_config(config)
    assert not config.actor_rollout_ref.actor.use_kl_loss  # a constant c_ref starts no reference worker


def test_chat_template_file_reaches_verls_model_config(tmp_path):
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages[0]['content'] }}")
    config = composed(f"laser.chat_template_file={template}")
    prepare_config(config)
    assert config.actor_rollout_ref.model.custom_chat_template == template.read_text()


def test_wandb_only_when_configured(tmp_path, capsys):
    config = composed("trainer.logger=[console,wandb]")
    configure_loggers(config, environ={"NETRC": str(tmp_path / "none")})
    assert list(config.trainer.logger) == ["console", "file"]
    assert capsys.readouterr().out.count("wandb is not configured") == 1
    config = composed("trainer.logger=[console,wandb]")
    configure_loggers(config, environ={"WANDB_API_KEY": "x"})
    assert list(config.trainer.logger) == ["console", "wandb"]


def test_workers_get_the_recipe_and_its_settings():
    env = worker_env({"LASER_X": "1", "VERL_PLATFORM": "cpu", "PYTHONPATH": "/elsewhere", "HOME": "/root"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_DIR), "/elsewhere"]
    assert env["VERL_USE_EXTERNAL_MODULES"] == TRAINER_MODULE
    assert env["LASER_X"] == "1" and env["VERL_PLATFORM"] == "cpu" and "HOME" not in env
    assert 1 <= int(env["TQ_NUM_THREADS"]) <= 8  # no TransferQueue thread warning on small machines
    env = worker_env({"VERL_USE_EXTERNAL_MODULES": "verl_patches.cpu.plugin"})
    assert env["VERL_USE_EXTERNAL_MODULES"] == f"verl_patches.cpu.plugin,{TRAINER_MODULE}"


def test_credentials_are_neither_forwarded_nor_printed(capsys):
    shell = {"HF_TOKEN": "hf-secret", "WANDB_API_KEY": "wandb-secret", "HF_HOME": "/h", "WANDB_MODE": "offline"}
    env = worker_env(shell)
    assert env["HF_HOME"] == "/h" and env["WANDB_MODE"] == "offline"
    assert "HF_TOKEN" not in env and "WANDB_API_KEY" not in env
    config = composed()
    configure_ray(config, environ=shell)
    printed = capsys.readouterr().out
    assert "HF_TOKEN, WANDB_API_KEY" in printed and "secret" not in printed
    assert "secret" not in str(config.ray_kwargs.ray_init.runtime_env)


def test_token_authentication_follows_what_the_cluster_requires(tmp_path):
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("secret")
    asked = []

    def cluster(answer):
        return lambda address: asked.append(address) or answer

    environ = {"HOME": str(tmp_path), "RAY_ADDRESS": "10.0.0.1:6379"}
    assert enable_ray_token_auth([], environ, cluster(True)) and environ["RAY_AUTH_MODE"] == "token"
    # a cluster started before the token was written (by a local ray.init) requires none: joining it in
    # token mode fails, so the mode stays unset although the token is here
    environ = {"HOME": str(tmp_path), "RAY_ADDRESS": "10.0.0.1:6379"}
    assert not enable_ray_token_auth([], environ, cluster(False)) and "RAY_AUTH_MODE" not in environ
    # the command line's address wins over RAY_ADDRESS (ray.init prefers its argument)
    environ = {"HOME": str(tmp_path), "RAY_ADDRESS": "10.0.0.2:6379"}
    assert enable_ray_token_auth(["ray_kwargs.ray_init.address='10.0.0.1:6379'"], environ, cluster(True))
    assert asked == ["10.0.0.1:6379"] * 3
    # a cluster that cannot be asked (ray://, auto, not up): the token here decides
    assert enable_ray_token_auth([], {"HOME": str(tmp_path), "RAY_ADDRESS": "auto"}, cluster(None))
    assert not enable_ray_token_auth([], {"HOME": str(tmp_path / "nobody"), "RAY_ADDRESS": "x:1"}, cluster(None))
    # a local cluster or an explicit mode: Ray decides, the cluster is not asked
    assert not enable_ray_token_auth([], {"HOME": str(tmp_path)}, cluster(True))
    explicit = {"HOME": str(tmp_path), "RAY_ADDRESS": "x:1", "RAY_AUTH_MODE": "disabled"}
    assert not enable_ray_token_auth([], explicit, cluster(True)) and explicit["RAY_AUTH_MODE"] == "disabled"
    assert len(asked) == 5
    # a cluster that requires a token this machine does not have: said before the long start-up
    with pytest.raises(LaSeRConfigError, match=r"10.0.0.1:6379 requires token authentication.*auth_token"):
        enable_ray_token_auth([], {"HOME": str(tmp_path / "nobody"), "RAY_ADDRESS": "10.0.0.1:6379"}, cluster(True))


@pytest.mark.parametrize("requires", [True, False])
def test_the_cluster_is_asked_with_one_unauthenticated_gcs_call(requires):
    """A stand-in GCS that answers Ray's cluster-id call as a cluster with or without token
    authentication does (the end-to-end tests join real clusters of both kinds)."""
    import grpc

    calls = []

    def get_cluster_id(request, context):
        calls.append(dict(context.invocation_metadata()))
        if requires:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "InvalidAuthToken: Authentication token is missing")
        return b""

    class StandInGcs(grpc.GenericRpcHandler):
        def service(self, details):
            if details.method == "/ray.rpc.NodeInfoGcsService/GetClusterId":
                return grpc.unary_unary_rpc_method_handler(get_cluster_id)
            return None

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    server.add_generic_rpc_handlers((StandInGcs(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        assert cluster_requires_token(f"127.0.0.1:{port}") is requires
        assert len(calls) == 1 and "authorization" not in calls[0]
    finally:
        server.stop(grace=None)
    assert cluster_requires_token(f"127.0.0.1:{port}", timeout_s=2) is None  # nobody answers
    assert cluster_requires_token("ray://10.0.0.1:10001") is None and cluster_requires_token("auto") is None


def test_joining_an_existing_cluster(capsys):
    config = composed("ray_kwargs.ray_init.num_cpus=16", "+ray_kwargs.ray_init.num_gpus=2")
    configure_ray(config, environ={"RAY_ADDRESS": "10.0.0.1:6379", "VERL_PLATFORM": "cpu"})
    ray_init = config.ray_kwargs.ray_init
    assert "num_cpus" not in ray_init and "num_gpus" not in ray_init  # ray.init refuses them when joining
    assert ray_init.runtime_env.env_vars.VERL_PLATFORM == "cpu"
    assert TRAINER_MODULE in ray_init.runtime_env.env_vars.VERL_USE_EXTERNAL_MODULES
    assert "joining the Ray cluster at 10.0.0.1:6379" in capsys.readouterr().out
    local = composed("ray_kwargs.ray_init.num_cpus=16")
    configure_ray(local, environ={})
    assert local.ray_kwargs.ray_init.num_cpus == 16  # a local cluster keeps its sizes
