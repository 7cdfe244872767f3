# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""What the entry point settles in the driver, before verl starts Ray and its workers: which verl
settings the recipe supports (refused with the key named, before the long start-up), the family's
defaults, absolute paths, the logging backends, and the Ray runtime environment that makes the
recipe load in every worker, also on a cluster started before the run (``ray start`` on each node).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from omegaconf import DictConfig, open_dict

from recipe.laser.config import LaSeRConfig, LaSeRConfigError
from recipe.laser.families import family_of

RECIPE_DIR = Path(__file__).resolve().parent
REPO_DIR = RECIPE_DIR.parents[1]
TRAINER_MODULE = "recipe.laser.trainer_plugin"  # registers the trainer where verl builds one
# Variables the recipe and verl read in their workers; a worker of a cluster started before the run
# sees only what the runtime environment carries.
FORWARDED_ENV_PREFIXES = ("LASER_", "VERL_", "HF_", "WANDB_", "TQ_")
FORWARDED_ENV_NAMES = ("TOKENIZERS_PARALLELISM", "TRANSFORMERS_OFFLINE", "PYTHONHASHSEED", "CUDA_LAUNCH_BLOCKING")
# Credentials stay out of the runtime environment: verl prints its ray.init arguments to the log. A
# cluster's workers read them where ``ray start`` ran (its environment, ~/.cache/huggingface/token, ~/.netrc).
SECRET_NAME_PARTS = ("TOKEN", "KEY", "SECRET", "PASSWORD")


def is_secret(name: str) -> bool:
    return any(part in name.upper() for part in SECRET_NAME_PARTS)


def check_supported(config: DictConfig) -> None:
    """Refuse, with the key named, every verl mode the recipe does not handle."""
    refusals = [*trainer_refusals(config), *rollout_refusals(config), *engine_refusals(config)]
    if refusals:
        raise LaSeRConfigError("unsupported with laser.enable=true:\n  - " + "\n  - ".join(refusals))


def trainer_refusals(config: DictConfig) -> Iterator[str]:
    """The trainer and its step: v1 in mode laser, one rollout per update."""
    if not config.trainer.use_v1:
        yield (
            "trainer.use_v1=False: LaSeR's z_c insertion and advantage blending are step methods of verl's v1 trainer "
            "(README, 'Which verl trainer'); the legacy trainer runs the GRPO presets only"
        )
    elif config.trainer.v1.trainer_mode != "laser":
        yield f"trainer.v1.trainer_mode={config.trainer.v1.trainer_mode}: LaSeR needs trainer_mode=laser"
    v1 = config.trainer.get("v1") or {}
    # LaSeRTrainer runs as verl's "sync" mode, so verl's PPOTrainer.__init__ reads
    # trainer.v1.sync.parameter_sync_step: above 1 it splits each step into that many rollouts and
    # updates, each from a policy older than the one that sampled it (tests/recipe/laser/test_launch.py).
    sync_steps = (v1.get("sync") or {}).get("parameter_sync_step", 1)
    if sync_steps != 1:
        yield (
            f"trainer.v1.sync.parameter_sync_step={sync_steps}: LaSeR's advantages and warm-up schedule are "
            "defined per synchronous step; keep 1"
        )
    if "parameter_sync_step" in (v1.get("laser") or {}):
        yield (
            "trainer.v1.laser.parameter_sync_step: verl never reads it (the LaSeR trainer runs as mode sync); remove it"
        )


def rollout_refusals(config: DictConfig) -> Iterator[str]:
    """What the score and the group statistics are defined on: GRPO groups of single-turn responses at
    temperature 1, old log-probs recomputed by the actor."""
    rollout, algorithm = config.actor_rollout_ref.rollout, config.algorithm
    if algorithm.adv_estimator != "grpo":
        yield (
            f"algorithm.adv_estimator={algorithm.adv_estimator}: the self-rewarding advantage is defined over GRPO's "
            "prompt groups; use grpo"
        )
    if rollout.temperature != 1.0:
        yield (
            f"actor_rollout_ref.rollout.temperature={rollout.temperature}: LaSeR's score is defined at temperature "
            "1 and verl computes log-probs at the rollout temperature; set it to 1.0"
        )
    if rollout.n < 2:
        yield (
            f"actor_rollout_ref.rollout.n={rollout.n}: GRPO and LaSeR's group statistics need at least 2 responses "
            "per prompt"
        )
    if (algorithm.get("rollout_correction") or {}).get("bypass_mode", False):
        yield (
            "algorithm.rollout_correction.bypass_mode=True: old log-probs would be the rollout's, which have no z_c "
            "slot (every score would be beta_v * (0 - c_ref)); use the decoupled mode (bypass_mode=False)"
        )
    if rollout.multi_turn.enable:
        yield (
            "actor_rollout_ref.rollout.multi_turn.enable=True: multi-turn and tool trajectories interleave "
            "environment tokens with the response; LaSeR here scores single-turn responses only"
        )
    agent = rollout.agent
    agent_loop = agent.get("default_agent_loop", "single_turn_agent")
    if agent.get("agent_loop_config_path") or agent_loop != "single_turn_agent":
        yield (
            "actor_rollout_ref.rollout.agent (custom or tool agent loops): LaSeR here scores single-turn responses; "
            "keep default_agent_loop=single_turn_agent and no agent_loop_config_path"
        )


def engine_refusals(config: DictConfig) -> Iterator[str]:
    """The engines and add-ons the recipe is not built on."""
    arr = config.actor_rollout_ref
    if arr.actor.strategy not in ("fsdp", "fsdp2"):
        yield (
            f"actor_rollout_ref.actor.strategy={arr.actor.strategy}: the recipe is built and tested on verl's FSDP "
            "engine (Megatron/VeOmni, and their MoE router replay, are not handled); use fsdp or fsdp2"
        )
    if arr.model.get("lora_rank", 0) or (arr.model.get("lora") or {}).get("rank", 0):
        yield "actor_rollout_ref.model.lora_rank > 0: LaSeR with LoRA is not supported by this recipe"
    if (config.get("distillation") or {}).get("enabled", False):
        yield "distillation.enabled=True: on-policy distillation is not supported with LaSeR"
    if (config.get("critic") or {}).get("enable", False):
        yield "critic.enable=True: LaSeR runs with GRPO, without a critic"


def resolve_family(config: DictConfig, laser: LaSeRConfig) -> LaSeRConfig:
    """laser.family (given, or inferred from the model) and the c_ref it implies when unset."""
    if laser.family is None and (
        isinstance(laser.c_ref, str) or laser.c_ref is not None and laser.zc_token_id is not None
    ):
        return laser  # nothing to take from a family
    family, why = family_of(laser.family, config.actor_rollout_ref.model.path)
    resolved = laser.with_family(family)
    print(f"[laser] family {family.name} ({why}): c_ref={resolved.c_ref}, z_c {family.zc_token}")
    return resolved


def resolve_paths(config: DictConfig, laser: LaSeRConfig) -> None:
    """Absolute paths for what workers open (the reward function, the chat template), checked here."""
    reward = config.reward.custom_reward_function
    if reward.get("path") is None and reward.get("name") == "compute_score":
        with open_dict(config):
            reward.path = str(RECIPE_DIR / "verifier" / "reward.py")
    if reward.get("path"):
        path = Path(reward.path).expanduser()
        path = path if path.is_absolute() else (Path.cwd() / path)
        if not path.is_file():
            raise LaSeRConfigError(f"reward.custom_reward_function.path={reward.path}: no such file ({path})")
        with open_dict(config):
            reward.path = str(path.resolve())
    if laser.chat_template_file:
        template = Path(laser.chat_template_file).expanduser()
        if not template.is_file():
            raise LaSeRConfigError(f"laser.chat_template_file={laser.chat_template_file}: no such file")
        with open_dict(config):
            config.actor_rollout_ref.model.custom_chat_template = template.read_text()


JUDGE_REWARD = RECIPE_DIR / "verifier" / "judge.py"


def check_judge(config: DictConfig) -> None:
    """The judge verifier (verifier/judge.py) needs a judge: verl's reward-model server or a judge_url.
    Checked in the driver, so that a run without one stops before its first rollout."""
    reward = config.reward
    if Path(reward.custom_reward_function.get("path") or "") != JUDGE_REWARD:
        return
    judge_url = (reward.custom_reward_function.get("reward_kwargs") or {}).get("judge_url")
    served = reward.reward_model.enable
    if served and not reward.reward_model.get("model_path"):
        raise LaSeRConfigError("reward.reward_model.enable=True: set reward.reward_model.model_path to the judge model")
    if served and judge_url:
        raise LaSeRConfigError(
            "the judge is given twice: reward.reward_model.enable=True (verl serves it) and "
            f"reward_kwargs.judge_url={judge_url}; keep one"
        )
    if not served and not judge_url:
        raise LaSeRConfigError(
            f"reward.custom_reward_function.path={JUDGE_REWARD.relative_to(RECIPE_DIR.parents[1])} needs a judge: "
            "reward.reward_model.enable=True with reward.reward_model.model_path=<judge model> (verl serves it), "
            "or +reward.custom_reward_function.reward_kwargs.judge_url=http://host:port (a server you run)"
        )


def wandb_configured(environ=os.environ) -> bool:
    if environ.get("WANDB_API_KEY") or environ.get("WANDB_MODE"):
        return True
    netrc = Path(environ.get("NETRC", Path.home() / ".netrc"))
    return netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore")


def configure_loggers(config: DictConfig, environ=os.environ) -> None:
    """wandb when it is configured; otherwise the file logger in its place, said once."""
    loggers = config.trainer.logger
    loggers = [loggers] if isinstance(loggers, str) else list(loggers)
    if "wandb" in loggers and not wandb_configured(environ):
        loggers = [x for x in loggers if x != "wandb"] + ([] if "file" in loggers else ["file"])
        target = environ.get("VERL_FILE_LOGGER_PATH", "VERL_FILE_LOGGER_ROOT/<project>/<experiment>.jsonl")
        print(
            "[laser] wandb is not configured (no WANDB_API_KEY, WANDB_MODE or wandb login): "
            f"logging to {loggers}, metrics in {target}"
        )
        with open_dict(config):
            config.trainer.logger = loggers


def cluster_address(given: str | None, environ=os.environ) -> str | None:
    """The address of the cluster the run joins: ``given`` (``ray_kwargs.ray_init.address``, which
    ``ray.init`` prefers) or RAY_ADDRESS; None for a local cluster."""
    address = given or environ.get("RAY_ADDRESS")
    return address if address and address not in ("local", "null") else None


def cluster_requires_token(address: str, timeout_s: float = 5.0) -> bool | None:
    """Ask the cluster's GCS (``host:port``) whether it requires a token: one unauthenticated call of
    its cheapest RPC, answered UNAUTHENTICATED by a cluster started with token authentication. None
    when the address is not a GCS address (``auto``, ``ray://``) or the answer says neither."""
    if "://" in address or ":" not in address:
        return None
    import grpc  # Ray's own dependency; plain gRPC, so Ray's settings are not read before they are set

    with grpc.insecure_channel(address) as channel:
        try:
            channel.unary_unary("/ray.rpc.NodeInfoGcsService/GetClusterId")(b"", timeout=timeout_s)
            return False
        except grpc.RpcError as error:
            return True if error.code() == grpc.StatusCode.UNAUTHENTICATED else None


def enable_ray_token_auth(argv: list[str], environ=os.environ, requires_token=cluster_requires_token) -> bool:
    """Before ``import ray`` (composing verl's config imports it): set RAY_AUTH_MODE=token when the run
    joins a cluster that requires a token. Ray >= 2.59 starts a cluster with token authentication when
    a token is on its machine (``~/.ray/auth_token``, written by any local ``ray.init``), and a client
    that joins by address sends the token only with that mode set; a client with the mode set cannot
    join a cluster started without it (the task runner is cancelled before it starts). So the cluster
    is asked (``cluster_requires_token``); when it cannot be asked, a token on this machine decides.
    An explicit RAY_AUTH_MODE is left alone."""
    given = [a.split("=", 1)[1].strip("'\"") for a in argv if a.startswith("ray_kwargs.ray_init.address=")]
    address = cluster_address(given[-1] if given else None, environ)
    if address is None or environ.get("RAY_AUTH_MODE"):
        return False
    home_token = Path(environ.get("HOME", Path.home())) / ".ray" / "auth_token"
    has_token = bool(environ.get("RAY_AUTH_TOKEN") or environ.get("RAY_AUTH_TOKEN_PATH") or home_token.is_file())
    required = requires_token(address)
    if required and not has_token:
        raise LaSeRConfigError(
            f"the Ray cluster at {address} requires token authentication and its token is not on this machine: "
            "copy it to ~/.ray/auth_token (`ray get-auth-token` on the head node prints it) or set RAY_AUTH_TOKEN"
        )
    if has_token and required is not False:
        environ["RAY_AUTH_MODE"] = "token"
        return True
    return False


def worker_env(environ=os.environ) -> dict[str, str]:
    """The variables every Ray worker needs: the recipe importable (its repository on PYTHONPATH),
    verl's plugin modules, and the recipe's and verl's settings from the launching shell."""
    env = {
        k: v
        for k, v in environ.items()
        if (k.startswith(FORWARDED_ENV_PREFIXES) or k in FORWARDED_ENV_NAMES) and not is_secret(k)
    }
    paths = [str(REPO_DIR)] + [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(REPO_DIR)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    modules = [m for m in environ.get("VERL_USE_EXTERNAL_MODULES", "").split(",") if m]
    env["VERL_USE_EXTERNAL_MODULES"] = ",".join(modules + ([TRAINER_MODULE] if TRAINER_MODULE not in modules else []))
    env["LASER_RECIPE_DIR"] = str(RECIPE_DIR)
    if "TQ_NUM_THREADS" not in environ:
        # TransferQueue asks torch for 8 threads and warns on every call on smaller machines
        import psutil

        env["TQ_NUM_THREADS"] = str(min(8, psutil.cpu_count(logical=False) or 1))
    return env


def configure_ray(config: DictConfig, environ=os.environ) -> None:
    """verl's ``ray.init`` arguments: the worker environment in ``runtime_env.env_vars`` (workers of
    an existing cluster inherit nothing from this shell), and when joining a cluster, no resource
    counts (ray refuses them) and Ray's token authentication if the cluster's token is here."""
    env = worker_env(environ)
    held_back = sorted(k for k in environ if k.startswith(FORWARDED_ENV_PREFIXES) and is_secret(k))
    if held_back:
        print(
            "[laser] not passed to Ray's workers (credentials; verl prints the runtime environment): "
            + ", ".join(held_back)
        )
    os.environ.update({k: env[k] for k in ("VERL_USE_EXTERNAL_MODULES", "TQ_NUM_THREADS")})  # the driver, too
    with open_dict(config):
        # (DictConfig.setdefault returns a copy: the nodes are created, then read back)
        for parent, key in ((config.ray_kwargs, "ray_init"), (config.ray_kwargs.ray_init, "runtime_env")):
            if parent.get(key) is None:
                parent[key] = {}
        ray_init = config.ray_kwargs.ray_init
        if ray_init.runtime_env.get("env_vars") is None:
            ray_init.runtime_env["env_vars"] = {}
        env_vars = ray_init.runtime_env.env_vars
        for key, value in env.items():
            if key not in env_vars:
                env_vars[key] = value
        address = cluster_address(ray_init.get("address"), environ)
        if address is not None:
            dropped = [k for k in ("num_cpus", "num_gpus") if ray_init.get(k) is not None]
            for key in dropped:
                del ray_init[key]
            print(
                f"[laser] joining the Ray cluster at {address}"
                + (f" (its own resources: ray_kwargs.ray_init.{'/'.join(dropped)} dropped)" if dropped else "")
                + (", token authentication" if environ.get("RAY_AUTH_MODE") == "token" else "")
            )


def prepare_config(config: DictConfig) -> LaSeRConfig:
    """Validate and settle the composed config in the driver; returns the resolved ``laser`` block."""
    laser = LaSeRConfig.from_config(config.get("laser"))
    resolve_paths(config, laser)
    check_judge(config)
    configure_loggers(config)
    configure_ray(config)
    if not laser.enable:
        return laser
    check_supported(config)
    laser = resolve_family(config, laser)
    if laser.c_ref_mode == "exact" and not (
        config.actor_rollout_ref.actor.use_kl_loss or config.algorithm.get("use_kl_in_reward", False)
    ):
        # verl starts the reference worker only for a KL term; a zero-weight KL loss asks for it.
        with open_dict(config):
            config.actor_rollout_ref.actor.use_kl_loss = True
            config.actor_rollout_ref.actor.kl_loss_coef = 0.0
        print("[laser] c_ref=exact: reference worker enabled (actor.use_kl_loss=True, kl_loss_coef=0.0)")
    with open_dict(config):
        config.laser.family = laser.family
        config.laser.c_ref = laser.c_ref
    sys.stdout.flush()
    return laser
