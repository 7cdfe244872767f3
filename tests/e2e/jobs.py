# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The end-to-end jobs: runs of verl's real trainer through ``run_laser.sh``, each joined to a Ray
cluster that the session starts with ``ray start --head`` (as a user does on a node before the run)
and stops when done, only that one. The workers of such a cluster inherit nothing from the test's
shell: every setting reaches them through the runtime environment the entry point builds.

A pytest plugin (``tests/conftest.py`` loads it). Each run is a job (``JOBS`` below), started once
per session and shared by the tests that read it; a test names its jobs with
``@pytest.mark.runs(...)``. The jobs of the selected tests start before the first test of the
session and the tests that read them run last, so the unit tests run while the trainer runs do. The
jobs run in lanes side by side (``LASER_E2E_LANES``, default 3), each lane taking the next job from one
queue once the job's share of memory is free (MEMORY_SHARES), all but the first at a lower CPU
priority than the unit tests (``LASER_E2E_NICE``). Each lane has its own Ray cluster: one cluster runs one verl
job at a time, because TransferQueue's controller is a cluster-wide named actor.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO_DIR, VLLM_ENGINE, require_vllm_env, warm_start_in_subprocess

RAY_GPUS = 2  # logical GPUs: enough for the two-rank run
LANES = int(os.environ.get("LASER_E2E_LANES", "3"))
# What a job holds at its peak, in shares of about 3 GiB (a one-rank trainer run on the hf rollout with its
# Ray workers: 1), and how many shares the lanes may hold together (LASER_E2E_MEMORY_SHARES). vllm_smoke
# (a vLLM engine in a Ray cluster of its own, then run_eval.sh's) leaves room for one more run only: beside
# two others it took a 24 GiB CI machine past Ray's memory threshold (the free-memory column of
# LASER_E2E_TIMELINE shows the margin).
MEMORY_SHARES = {"vllm_smoke": 3, "laser": 2}  # laser: two ranks
MEMORY_CAPACITY = int(os.environ.get("LASER_E2E_MEMORY_SHARES", "4"))
# The jobs' processes (Ray clusters, their workers, the runs) run at a lower CPU priority, so that
# the unit tests (one process, a chain of their own) finish while the jobs run instead of after them
# on one busy core; except lane 0, whose first job is the longest chain (the reproduction).
NICE = int(os.environ.get("LASER_E2E_NICE", "5"))  # 19 starved `ray start` past its timeout
# How long one trainer run may take. A run takes 2-8 minutes alone, but the lanes and the unit tests share
# two cores, so a run that starts beside heavy ones takes several times longer; a run past this is killed
# and its log tail is the failure.
RUN_TIMEOUT_S = int(os.environ.get("LASER_E2E_RUN_TIMEOUT", "2400"))
# Each started process leads a process group of its own (the tests end runs and clusters with killpg)
# but stays in the test's session: with the kernel's autogroup scheduling, every session shares the
# CPU equally whatever its nice value, so a new session per process would defeat NICE.
OWN_PROCESS_GROUP = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}
# LASER_E2E_TIMELINE=<file>: one line per lane event (cluster up/down, job start/end) with seconds since
# the session started, for profiling CI (what ran when, next to a CPU trace).
TIMELINE = os.environ.get("LASER_E2E_TIMELINE")
SESSION_START = time.time()


def timeline(lane: int, event: str) -> None:
    if TIMELINE:
        now = time.time()
        with open(TIMELINE, "a") as f:
            f.write(
                f"{now - SESSION_START:7.1f} {now:.0f} lane {lane} {event} ({memory_available_gib():.1f} GiB free)\n"
            )


# Ray's own settings for the test clusters, for a 2-core machine: no idle workers started ahead of each
# job (about two per run, each importing Ray for nothing) and the dashboard agent's node statistics every
# minute instead of every 5 s (it reads every worker process's figures each time)
CLUSTER_SETTINGS = {"RAY_prestart_worker_first_driver": "0", "REPORTER_UPDATE_INTERVAL_MS": "60000"}
# Ray's token authentication: lane 1's cluster starts with it, the others without, and every run finds a
# token on its machine (RAY_AUTH_TOKEN_PATH), as a user's run does once any local ray.init wrote
# ~/.ray/auth_token: the entry point must ask each cluster what it requires (recipe/laser/launch.py)
TOKEN_LANES = {1}


@functools.cache
def token_file() -> Path:
    path = Path(tempfile.mkdtemp(prefix="laser-ray-token-")) / "auth_token"
    path.write_text(secrets.token_hex(16))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayCluster:
    """A Ray cluster started as a user starts one before a run (``ray start --head``), in a clean
    environment (no recipe variables; CLUSTER_SETTINGS), with or without token authentication (token_file()),
    with its own temporary folder; stopped by ending its process group, so that no other Ray on the
    machine is touched."""

    def __init__(self, nice: int = 0, token_auth: bool = False, python: Path | None = None):
        self.nice_value = nice
        self.nice = ["nice", "-n", str(nice)]  # a prefix for the commands of the runs on this cluster
        self.token_auth = token_auth
        # the environment its workers run in: the test's own, or another (the vLLM one)
        self.address, self.proc, self.log = start_ray_cluster(self.nice, token_auth, Path(python or sys.executable))

    def stop(self):
        # `ray start --block` takes about 30 s to wind down after SIGTERM; a few seconds of grace,
        # then the whole group (nothing of a test cluster needs to survive it)
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)
        self.log.close()


def start_ray_cluster(nice: list[str], token_auth: bool, python: Path):
    ray = python.parent / "ray"
    port = free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="laser-ray-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERL_", "LASER_", "RAY_"))}
    env.update(CLUSTER_SETTINGS)
    # explicit either way: with the mode unset, `ray start` would follow whatever ~/.ray holds
    env.update(
        {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file())}
        if token_auth
        else {"RAY_AUTH_MODE": "disabled"}
    )
    log = open(temp_dir / "ray_start.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [*nice, str(ray), "start", "--head", "--block", f"--port={port}", "--num-cpus=16", f"--num-gpus={RAY_GPUS}",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, **OWN_PROCESS_GROUP,
    )  # fmt: skip
    address = None
    deadline = time.time() + 300
    while time.time() < deadline and address is None:
        text = (temp_dir / "ray_start.log").read_text()
        if "Ray runtime started" in text:
            address = next(line.split("'")[1] for line in text.splitlines() if "ray start --address=" in line)
        elif proc.poll() is not None:
            pytest.fail(f"ray start failed:\n{text[-3000:]}")
        time.sleep(1)
    if address is None:
        pytest.fail("ray start did not come up in 300 s")
    return address, proc, log


def build_e2e_inputs(base_model: Path, root: Path) -> dict:
    """The tiny base model, the zero_or_one task and a short warm start with 60% wrong targets (so the
    rewards within a prompt's group are mixed), built as the tiny preset's prepare_inputs builds them."""
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic

    data = root / "zero_or_one"
    write_synthetic_arithmetic(data, n_train=64, n_test=16, task="zero_or_one")
    warm = warm_start_in_subprocess(base_model, data, root / "warm", steps=150, error_rate=0.6)
    return {
        "MODEL_DIR": str(base_model),
        "DATA_DIR": str(data),
        "TASK": "zero_or_one",
        "N_TRAIN": "64",
        "N_TEST": "16",
        "WARM_STEPS": "150",
        "WARM_ERROR_RATE": "0.6",
        "MODEL_PATH": str(warm),
    }


@pytest.fixture(scope="session")
def e2e_inputs_future(tiny_models, tmp_path_factory, background) -> Future:
    return background.submit(build_e2e_inputs, tiny_models["base"], tmp_path_factory.mktemp("e2e_inputs"))


@pytest.fixture(scope="session")
def e2e_inputs(e2e_inputs_future) -> dict:
    return e2e_inputs_future.result()


@dataclass
class Run:
    ckpt: Path
    log: str
    token_auth: bool  # the cluster's
    steps: list[dict] = field(default_factory=list)  # the metrics file, one dict per step line
    dump: list[dict] = field(default_factory=list)  # laser.score_dump_path records

    def step(self, n: int) -> dict:
        return next(s for s in self.steps if s["_step"] == n)


def read_run(ckpt: Path, log: str, dump: Path | None, token_auth: bool) -> Run:
    metrics = ckpt / "metrics.jsonl"
    assert metrics.is_file(), f"no metrics file; log tail:\n{log[-3000:]}"
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    steps = [r["data"] | {"_step": r["step"]} for r in rows if "training/global_step" in r["data"]]
    records = [json.loads(line) for line in dump.read_text().splitlines()] if dump and dump.is_file() else []
    return Run(ckpt=ckpt, log=log, token_auth=token_auth, steps=steps, dump=records)


def run_environ(cluster: RayCluster) -> dict:
    """The test's environment for a run on ``cluster``: a Ray token on the machine, the mode left to the
    entry point."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    return {**env, "RAY_ADDRESS": cluster.address, "RAY_AUTH_TOKEN_PATH": str(token_file())}


def launch(workdir: Path, cluster: RayCluster, *hydra_args: str, **env_overrides) -> tuple[subprocess.Popen, dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **run_environ(cluster),
        "CKPT_DIR": str(workdir / "ckpt"),
        "SCORE_DUMP": str(workdir / "scores.jsonl"),
        "MAX_RESPONSE_LENGTH": "16",
        **env_overrides,
    }
    log = open(workdir / "run.log", "w")  # noqa: SIM115 (closed by the caller through the returned process)
    proc = subprocess.Popen(
        [*cluster.nice, "bash", str(REPO_DIR / "run_laser.sh"), *hydra_args],
        env=env, cwd=REPO_DIR, stdout=log, stderr=subprocess.STDOUT, **OWN_PROCESS_GROUP,
    )  # fmt: skip
    proc.log_file = log
    return proc, env


# What Ray's raylet prints into a run's log when its memory monitor killed workers of the run's cluster (it
# prints the line with a count of 0 when workers only crashed otherwise, e.g. after the kill-and-resume's
# kill); the run then usually waits on the dead workers until the timeout, so the wait ends at such a line
RAY_MEMORY_KILL = re.compile(r"\b[1-9]\d* Workers \(tasks / actors\) killed due to memory pressure")


def memory_available_gib() -> float:
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return int(fields["MemAvailable"].split()[0]) / (1 << 20)


def end_run(proc: subprocess.Popen, workdir: Path, why: str) -> AssertionError:
    """Kills a run (its whole process group) and returns the failure, with the log's tail."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    tail = (workdir / "run.log").read_text()[-6000:]
    return AssertionError(f"run_laser.sh {why}; log tail:\n{tail}")


def end_if_starved(proc: subprocess.Popen, workdir: Path) -> None:
    """Ends the run and fails if its log says Ray killed its workers for memory (RAY_MEMORY_KILL)."""
    if RAY_MEMORY_KILL.search((workdir / "run.log").read_text(errors="replace")):
        raise end_run(proc, workdir, f"lost workers to Ray's memory monitor ({memory_available_gib():.1f} "
                      "GiB available now): the machine ran short of memory")  # fmt: skip


def wait_for_run(proc: subprocess.Popen, workdir: Path) -> str:
    """Waits for a run launched in ``workdir`` and returns its log. A run past RUN_TIMEOUT_S, or one whose
    workers Ray killed for memory (RAY_MEMORY_KILL), is killed (its whole process group) and fails with its
    log's tail, so a slow run, a stuck one and a starved one can be told apart."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    log = workdir / "run.log"
    try:
        while proc.poll() is None:
            end_if_starved(proc, workdir)
            if time.monotonic() > deadline:
                raise end_run(proc, workdir, f"ran past {RUN_TIMEOUT_S} s (LASER_E2E_RUN_TIMEOUT)") from None
            time.sleep(2)
    finally:
        proc.log_file.close()
    return log.read_text()


def run_preset(workdir: Path, cluster: RayCluster, *hydra_args: str, **env_overrides) -> Run:
    """run_laser.sh to the end; the run must succeed."""
    proc, env = launch(workdir, cluster, *hydra_args, **env_overrides)
    log = wait_for_run(proc, workdir)
    assert proc.returncode == 0, f"run_laser.sh failed (rc={proc.returncode}); log tail:\n{log[-6000:]}"
    dump = Path(env["SCORE_DUMP"]) if env.get("SCORE_DUMP", "null") != "null" else None
    return read_run(Path(env["CKPT_DIR"]), log, dump, cluster.token_auth)


def run_and_kill_after_checkpoint(workdir: Path, cluster: RayCluster, step: int, **env_overrides) -> Run:
    """run_laser.sh, killed with SIGKILL (the whole process group, as a preemption would) once the
    checkpoint of ``step`` is complete and that step is logged."""
    proc, env = launch(workdir, cluster, **env_overrides)
    ckpt = Path(env["CKPT_DIR"])
    latest, metrics = ckpt / "latest_checkpointed_iteration.txt", ckpt / "metrics.jsonl"
    deadline = time.time() + RUN_TIMEOUT_S
    try:
        while time.time() < deadline:
            logged = metrics.is_file() and f'"step":{step},' in metrics.read_text().replace(" ", "")
            if latest.is_file() and latest.read_text().strip() == str(step) and logged:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            if proc.poll() is not None:
                break
            end_if_starved(proc, workdir)
            time.sleep(0.5)
        proc.wait(timeout=60)
    finally:
        proc.log_file.close()
    log = (workdir / "run.log").read_text()
    assert proc.returncode == -signal.SIGKILL, (
        f"the run was not killed at step {step} (rc={proc.returncode}):\n{log[-4000:]}"
    )
    return read_run(ckpt, log, Path(env["SCORE_DUMP"]), cluster.token_auth)


# -- the jobs ---------------------------------------------------------------------------------------------
# LaSeR and GRPO on the same samples: 4 prompts x 4 responses, one mini-batch, MSE from step 1,
# blending from step 3, checkpoints at steps 2 and 4 (laser_resume kills its run after step 2).
PAIR = {
    "PRESET": "tiny_cpu_laser",
    "TRAIN_PROMPTS_PER_STEP": "4",
    "N_RESPONSES": "4",
    "TOTAL_STEPS": "4",
    "SAVE_FREQ": "2",
    "FULL_DETERMINISM": "True",
    "C_REF": "auto",
    "ALPHA": "1.0",
    "SELF_REWARD_WARMUP": "2",
    "STD_THRESHOLD": "0.0",
}


@dataclass
class Inputs:
    """What the jobs start from. The warm starts are futures (built in the background while the first
    jobs and the unit tests run); a job that needs one waits for it."""

    random_base: Path
    e2e_future: Future
    warm_chat_future: Future

    @property
    def e2e(self) -> dict:
        return self.e2e_future.result()

    @property
    def warm_chat(self) -> str:
        return str(self.warm_chat_future.result())


def pair_env(inputs: Inputs, laser: bool) -> dict:
    return {**inputs.e2e, **PAIR, "LASER": str(laser)}


def kill_and_resume(workdir: Path, cluster: RayCluster, env: dict) -> tuple[Run, Run, str | None]:
    killed = run_and_kill_after_checkpoint(workdir, cluster, step=2, **env)
    c_ref_file = killed.ckpt / "laser_c_ref.json"
    c_ref_before = c_ref_file.read_text() if c_ref_file.is_file() else None
    resumed = run_preset(workdir, cluster, **env, SCORE_DUMP=str(workdir / "scores_resumed.jsonl"))
    return killed, resumed, c_ref_before


def tiny_repro(workdir: Path, cluster: RayCluster, inputs: Inputs) -> dict:
    """The README's reproduction (run_laser.sh without PRESET), shortened to 2 RL steps; then the same
    command again, and once with another learning rate."""
    env = {
        **run_environ(cluster),
        "MODEL_DIR": str(inputs.random_base),
        "DATA_DIR": str(workdir / "data"),
        "WARM_MODEL": str(workdir / "warm"),
        "WARM_STEPS": "60",
        "N_TRAIN": "64",
        "N_TEST": "8",
        "TOTAL_STEPS": "2",
        "SELF_REWARD_WARMUP": "1",
        "EVAL_N": "2",
        "OUT_DIR": str(workdir / "out"),
        "CKPT_ROOT": str(workdir / "ckpt"),
    }
    command = [*cluster.nice, "bash", str(REPO_DIR / "run_laser.sh")]
    proc = subprocess.run(command, env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    (workdir / "run.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    # the same command again keeps every result; with another option it refuses, naming FRESH=1
    # what is expensive to make: the checkpoints and metrics of both runs, the evaluations' samples
    results = [*(workdir / "ckpt").rglob("*"), *(workdir / "out").glob("eval_*/samples/*.jsonl")]
    first = {f: (f.stat().st_mtime_ns, f.read_bytes()) for f in results if f.is_file()}
    again = subprocess.run(command, env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    (workdir / "again.log").write_text(again.stdout + again.stderr)
    assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
    kept = {f: (f.stat().st_mtime_ns, f.read_bytes()) for f in first if f.is_file()}
    changed = {**env, "LR": "1e-3"}
    refused = subprocess.run(command, env=changed, cwd=REPO_DIR, capture_output=True, text=True, timeout=300)
    (workdir / "refused.log").write_text(refused.stdout + refused.stderr)
    return {"workdir": workdir, "first": first, "kept": kept, "again": again, "refused": refused}


def vllm_smoke(workdir: Path, cluster: RayCluster, inputs: Inputs) -> tuple[Run, dict, str, dict]:
    """vllm_smoke_steps while no unit test runs a vLLM engine (tests/conftest.py VLLM_ENGINE)."""
    with VLLM_ENGINE:
        return vllm_smoke_steps(workdir, cluster, inputs)


def vllm_smoke_steps(workdir: Path, cluster: RayCluster, inputs: Inputs) -> tuple[Run, dict, str, dict]:
    """The gpu_smoke preset's sequence on a CPU: verl's vLLM rollout (vLLM for CPU, .venv-vllm) for 3
    LaSeR steps on the warm-started chat model (pad != EOS), then scripts/check_score_dump.py. Its own
    Ray cluster, started from the vLLM environment (a cluster's workers run the python it was started
    with), at the lane's priority. Then run_eval.sh with vLLM in the same environment."""
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic

    python = require_vllm_env()
    data = write_synthetic_arithmetic(workdir / "data", n_train=64, n_test=8)
    vllm_cluster = RayCluster(cluster.nice_value, python=python)
    try:
        run = run_preset(
            workdir,
            vllm_cluster,
            PRESET="gpu_smoke",
            DEVICE="cpu",
            MODEL_PATH=inputs.warm_chat,
            TRAIN_FILE=str(data["train"]),
            TRAIN_PROMPTS_PER_STEP="4",
            N_RESPONSES="4",
            MAX_PROMPT_LENGTH="64",
            MAX_RESPONSE_LENGTH="10",  # the warm start's answers take 6-11 tokens: most end, some are cut off
            MAX_TOKENS_PER_GPU="1024",
            LR="5e-4",  # the tiny preset's: the policy moves every step, so each step samples from newly synced weights
        )  # fmt: skip
    finally:
        vllm_cluster.stop()
    command = [str(python), str(REPO_DIR / "scripts/check_score_dump.py"), "--dump", str(workdir / "scores.jsonl"),
               "--model", inputs.warm_chat, "--metrics", str(run.ckpt / "metrics.jsonl"), "--atol", "1e-4"]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_DIR)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("SCORE_DUMP_CHECK ")), None)
    assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
    # evaluation in the same environment: run_eval.sh with vLLM, a slice of the five benchmarks
    env = {**os.environ, "MODEL_PATH": inputs.warm_chat, "EVAL_DATA": str(workdir / "eval_data" / "eval"),
           "OUT_DIR": str(workdir / "eval"), "BACKEND": "vllm", "LIMIT": "2", "N": "2", "MAX_TOKENS": "16"}  # fmt: skip
    env.pop("PYTHON", None)
    command = [
        *cluster.nice,
        "bash",
        str(REPO_DIR / "run_eval.sh"),
        "--enforce-eager",
        "--no-progress",
        "--chunk-size",
        "1",
    ]
    evaluation = subprocess.run(command, env=env, cwd=REPO_DIR, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT_S)  # fmt: skip
    (workdir / "eval.log").write_text(evaluation.stdout + evaluation.stderr)
    assert evaluation.returncode == 0, (evaluation.stdout + evaluation.stderr)[-4000:]
    # An interrupted evaluation: each benchmark's second problem (its second chunk) not sampled yet.
    # Resumed in a new engine that has drawn less before it, it must write the same samples.
    samples = sorted((workdir / "eval" / "samples").glob("*.jsonl"))
    resumed_dir = workdir / "eval_resumed"
    shutil.copytree(workdir / "eval", resumed_dir)
    for f in samples:
        (resumed_dir / "samples" / f.name).write_text("".join(f.read_text().splitlines(keepends=True)[:2]))
    resumed = subprocess.run(command, env={**env, "OUT_DIR": str(resumed_dir)}, cwd=REPO_DIR, capture_output=True,
                             text=True, timeout=RUN_TIMEOUT_S)  # fmt: skip
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    same = {f.name: (resumed_dir / "samples" / f.name).read_text() == f.read_text() for f in samples}
    return (
        run,
        json.loads(line.split(" ", 1)[1]),
        evaluation.stdout + evaluation.stderr,
        {"log": resumed.stdout, "same": same},
    )


def ablations(workdir: Path, cluster: RayCluster, inputs: Inputs) -> dict[str, Run]:
    """The paper's ablations that take code paths no other job runs, 2 steps each from the pair's
    warm start: the cross-entropy self-rewarding loss, self-reward-only advantages (tau = 1 from
    step 1) and the MSE without class re-weighting."""
    short = {**pair_env(inputs, True), "TOTAL_STEPS": "2", "SAVE_FREQ": "-1"}
    return {
        "bce": run_preset(workdir / "bce", cluster, "laser.self_reward_loss=bce", **short),
        "self_only": run_preset(
            workdir / "self_only",
            cluster,
            **{**short, "TAU": "1.0", "STD_THRESHOLD": "0.0", "SELF_REWARD_WARMUP": "0"},
        ),
        "unbalanced": run_preset(workdir / "unbalanced", cluster, "laser.class_balance=false", **short),
    }


def judge_run(workdir: Path, cluster: RayCluster, inputs: Inputs) -> tuple[Run, list[dict], tuple[int, str]]:
    """LaSeR for 2 steps from the pair's warm start with the judge verifier (recipe/laser/verifier/judge.py)
    in verl's reward loop, the judge being the stand-in server (tests/fixtures/judge_server.py) on this
    machine; then the same run with the judge's address pointing at a port nothing listens on. Returns
    the run, the requests the judge received, and the second run's exit status and log."""
    from tests.fixtures.judge_server import JudgeServer

    env = {
        **pair_env(inputs, True),
        "TOTAL_STEPS": "2",
        "SAVE_FREQ": "-1",
        "REWARD_FN_PATH": str(REPO_DIR / "recipe/laser/verifier/judge.py"),
    }
    judge_url = "+reward.custom_reward_function.reward_kwargs.judge_url="
    with JudgeServer() as server:
        run = run_preset(workdir / "served", cluster, judge_url + server.url, **env)
    unreachable = (
        judge_url + f"http://127.0.0.1:{free_port()}",
        "+reward.custom_reward_function.reward_kwargs.max_tries=2",
    )
    proc, _ = launch(workdir / "unreachable", cluster, *unreachable, **{**env, "TOTAL_STEPS": "1"})
    log = wait_for_run(proc, workdir / "unreachable")
    return run, list(server.requests), (proc.returncode, log)


# name: work (workdir, the lane's Ray cluster, inputs). The lanes take them in this order: first the two that start
# from the random base model (no warm start to wait for; the reproduction, the longest chain, at
# normal priority in lane 0), then the longest.
JOBS: dict[str, Callable[[Path, RayCluster, Inputs], object]] = {
    "tiny_repro": tiny_repro,
    "legacy": lambda d, cluster, i: run_preset(
        d,
        cluster,
        "trainer.use_v1=False",
        PRESET="tiny_cpu_grpo",
        MODEL_PATH=str(i.random_base),
        WARM_STEPS="0",
        DATA_DIR=str(d / "data"),
        TASK="arithmetic",
        TOTAL_STEPS="2",
        SAVE_FREQ="-1",
        SCORE_DUMP="null",
        REWARD_FN_PATH=str(FIXTURES / "parity_reward.py"),
    ),  # fmt: skip
    "laser_resume": lambda d, cluster, i: kill_and_resume(d, cluster, pair_env(i, True)),
    # LaSeR on two ranks (two FSDP ranks over gloo, two rollout servers): its twins on one rank are the
    # GRPO run (step 1: the same samples) and the killed-and-resumed LaSeR run (every step)
    "laser": lambda d, cluster, i: run_preset(d, cluster, **pair_env(i, True), NGPUS="2"),
    "grpo": lambda d, cluster, i: run_preset(d, cluster, **pair_env(i, False)),
    "vllm_smoke": vllm_smoke,
    "ablations": ablations,
    "judge": judge_run,
    "exact_chat": lambda d, cluster, i: run_preset(
        d,
        cluster,
        "+reward.custom_reward_function.reward_kwargs.timeout_s=1",
        PRESET="tiny_cpu_laser",
        MODEL_PATH=i.warm_chat,
        WARM_STEPS="0",
        DATA_DIR=str(d / "data"),
        TASK="arithmetic",
        TRAIN_PROMPTS_PER_STEP="3",
        MINI_BATCH_PROMPTS="2",
        N_RESPONSES="4",
        TOTAL_STEPS="2",
        C_REF="exact",
        REWARD_FN_PATH=str(FIXTURES / "faulty_reward.py"),
        LASER_FAULTS_DIR=str(d / "faults"),
    ),  # fmt: skip
}


class Lanes:
    """``lanes`` threads, each with its own Ray cluster: lane k runs job k first, then the next job
    from one queue until none is left (lane 0 at normal CPU priority, the others at ``nice``, see
    NICE). A lane stops its cluster as soon as it is done. Every job's future is always resolved:
    with the job's result, its error, the error of a cluster that did not start, or a cancellation."""

    def __init__(self, work: list[tuple[str, Callable[[RayCluster], object]]], lanes: int):
        self.pending = collections.deque(work[lanes:])
        self.lock = threading.Lock()
        self.memory = threading.Condition()
        self.shares_held = 0
        self.tickets_issued = self.ticket_served = 0  # the order in which lanes ask for memory
        self.futures = {name: Future() for name, _ in work}
        self.threads = [
            threading.Thread(
                target=self._run,
                args=(k, item, 0 if k == 0 else NICE),
                name=f"e2e-{k}",
                daemon=True,
            )
            for k, item in enumerate(work[:lanes])
        ]
        for thread in self.threads:
            thread.start()

    def _next(self):
        with self.lock:
            return self.pending.popleft() if self.pending else None

    def _hold_memory(self, lane: int, name: str) -> int:
        """Waits until the job's share of memory (MEMORY_SHARES) fits beside what the other lanes hold, in
        the order the lanes asked (a large job is not overtaken by small ones); a job larger than the whole
        capacity runs alone."""
        shares = min(MEMORY_SHARES.get(name, 1), MEMORY_CAPACITY)
        with self.memory:
            ticket = self.tickets_issued
            self.tickets_issued += 1
            if ticket != self.ticket_served or self.shares_held + shares > MEMORY_CAPACITY:
                timeline(lane, f"{name} waits for memory ({self.shares_held} of {MEMORY_CAPACITY} shares held)")
            self.memory.wait_for(lambda: ticket == self.ticket_served and self.shares_held + shares <= MEMORY_CAPACITY)
            self.shares_held += shares
            self.ticket_served += 1
            self.memory.notify_all()
        return shares

    def _release_memory(self, shares: int) -> None:
        with self.memory:
            self.shares_held -= shares
            self.memory.notify_all()

    def _run(self, lane: int, first, nice: int):
        try:
            cluster, error = RayCluster(nice, token_auth=lane in TOKEN_LANES), None
            timeline(lane, "cluster up")
        except BaseException as start_error:  # pytest.fail raises a BaseException
            cluster, error = None, start_error
        try:
            item = first
            while item is not None:
                name, work = item
                if error is not None:
                    self.futures[name].set_exception(error)
                else:
                    shares = self._hold_memory(lane, name)
                    timeline(lane, f"start {name}")
                    try:
                        self.futures[name].set_result(work(cluster))
                    except BaseException as job_error:  # a failed assert, or pytest.fail
                        self.futures[name].set_exception(job_error)
                    finally:
                        self._release_memory(shares)
                    timeline(lane, f"end {name}")
                item = self._next()
        finally:
            if cluster is not None:
                cluster.stop()
                timeline(lane, "cluster down")

    def get(self, name: str):
        if name not in self.futures:
            raise KeyError(f"job {name!r} was not scheduled: mark the test with @pytest.mark.runs({name!r})")
        return self.futures[name].result()

    def close(self):
        """Cancel the jobs no lane has taken yet (a session that ends early), wait for the others."""
        with self.lock:
            while self.pending:
                self.futures[self.pending.popleft()[0]].cancel()
        for thread in self.threads:
            thread.join()


def pytest_configure(config):
    config.addinivalue_line("markers", "runs(*names): the e2e jobs (tests/e2e/jobs.py JOBS) a test reads")


def pytest_collection_modifyitems(config, items):
    """The tests that read e2e jobs run last: the unit tests run while the jobs do."""
    items.sort(key=lambda item: item.get_closest_marker("runs") is not None)  # stable: order kept otherwise


@pytest.fixture(scope="session")
def jobs(request, tiny_models, warm_model_futures, e2e_inputs_future, tmp_path_factory):
    """Start every job the selected tests name, in JOBS order, in the lanes; returns at once."""
    named = {n for item in request.session.items for m in item.iter_markers("runs") for n in m.args}
    assert named <= set(JOBS), f"unknown e2e jobs {sorted(named - set(JOBS))}"
    inputs = Inputs(tiny_models["base"], e2e_inputs_future, warm_model_futures["chat"])
    workdirs = {name: tmp_path_factory.mktemp(name) for name in JOBS if name in named}
    work = [(name, lambda cluster, job=JOBS[name], d=d: job(d, cluster, inputs)) for name, d in workdirs.items()]
    lanes = Lanes(work, min(LANES, max(1, len(work))))
    yield lanes
    lanes.close()


@pytest.fixture(scope="session", autouse=True)
def start_e2e_jobs_with_the_session(request):
    """The selected e2e jobs start before the session's first test, whatever it is."""
    if any(item.get_closest_marker("runs") for item in request.session.items):
        request.getfixturevalue("jobs")
