# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""End-to-end runs of verl's real trainer through ``run_laser.sh``, all joined to one Ray cluster that
this session starts with ``ray start --head`` (as a user does on a node before the run) and stops at
the end, only that one. The workers of that cluster inherit nothing from the test's shell: every
setting reaches them through the runtime environment the entry point builds.

Each run is a job (``JOBS`` below), started once per session and shared by the tests that read it;
a test names its jobs with ``@pytest.mark.runs(...)``. The jobs of the selected tests start together
at the first e2e test, in three lanes that run side by side (``LASER_E2E_LANES``; most of a run is
process start-up, which leaves the cores idle much of the time: on 2 cores and 24 GiB three lanes
finished the suite in 18.5 minutes where two took 23, with at most 14 GiB in use). Each lane has its
own Ray cluster: one cluster runs one verl job at a time, because TransferQueue's controller is a
cluster-wide named actor.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO_DIR

RAY_GPUS = 2  # logical GPUs: enough for the two-rank run
LANES = int(os.environ.get("LASER_E2E_LANES", "3"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayCluster:
    """A Ray cluster started as a user starts one before a run (``ray start --head``), in a clean
    environment (no recipe variables), with its own temporary folder; stopped by ending its
    process group, so that no other Ray on the machine is touched."""

    def __init__(self):
        self.address, self.proc, self.log = start_ray_cluster()

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def start_ray_cluster():
    ray = Path(sys.executable).parent / "ray"
    port = free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="laser-ray-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERL_", "LASER_", "RAY_"))}
    log = open(temp_dir / "ray_start.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [str(ray), "start", "--head", "--block", f"--port={port}", "--num-cpus=16", f"--num-gpus={RAY_GPUS}",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    address = None
    deadline = time.time() + 120
    while time.time() < deadline and address is None:
        text = (temp_dir / "ray_start.log").read_text()
        if "Ray runtime started" in text:
            address = next(line.split("'")[1] for line in text.splitlines() if "ray start --address=" in line)
        elif proc.poll() is not None:
            pytest.fail(f"ray start failed:\n{text[-3000:]}")
        time.sleep(1)
    if address is None:
        pytest.fail("ray start did not come up in 120 s")
    return address, proc, log


@pytest.fixture(scope="session")
def e2e_inputs(tiny_models, tmp_path_factory):
    """The tiny base model, the zero_or_one task and a short warm start with 60% wrong targets (so the
    rewards within a prompt's group are mixed), built as the tiny preset's prepare_inputs builds them."""
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
    from data_prep.warm_start import warm_start

    root = tmp_path_factory.mktemp("e2e_inputs")
    data = root / "zero_or_one"
    write_synthetic_arithmetic(data, n_train=64, n_test=16, task="zero_or_one")
    warm = warm_start(tiny_models["base"], data, root / "warm", steps=150, error_rate=0.6, log_every=0)
    return {
        "MODEL_DIR": str(tiny_models["base"]),
        "DATA_DIR": str(data),
        "TASK": "zero_or_one",
        "N_TRAIN": "64",
        "N_TEST": "16",
        "WARM_STEPS": "150",
        "WARM_ERROR_RATE": "0.6",
        "MODEL_PATH": str(warm),
    }


@dataclass
class Run:
    ckpt: Path
    log: str
    steps: list[dict] = field(default_factory=list)  # the metrics file, one dict per step line
    dump: list[dict] = field(default_factory=list)  # laser.score_dump_path records

    def step(self, n: int) -> dict:
        return next(s for s in self.steps if s["_step"] == n)


def read_run(ckpt: Path, log: str, dump: Path | None) -> Run:
    metrics = ckpt / "metrics.jsonl"
    assert metrics.is_file(), f"no metrics file; log tail:\n{log[-3000:]}"
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    steps = [r["data"] | {"_step": r["step"]} for r in rows if "training/global_step" in r["data"]]
    records = [json.loads(line) for line in dump.read_text().splitlines()] if dump and dump.is_file() else []
    return Run(ckpt=ckpt, log=log, steps=steps, dump=records)


def launch(workdir: Path, ray_address: str, *hydra_args: str, **env_overrides) -> tuple[subprocess.Popen, dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RAY_ADDRESS": ray_address,
        "CKPT_DIR": str(workdir / "ckpt"),
        "SCORE_DUMP": str(workdir / "scores.jsonl"),
        "MAX_RESPONSE_LENGTH": "16",
        **env_overrides,
    }
    log = open(workdir / "run.log", "w")  # noqa: SIM115 (closed by the caller through the returned process)
    proc = subprocess.Popen(
        ["bash", str(REPO_DIR / "run_laser.sh"), *hydra_args],
        env=env, cwd=REPO_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    proc.log_file = log
    return proc, env


def run_preset(workdir: Path, ray_address: str, *hydra_args: str, **env_overrides) -> Run:
    """run_laser.sh to the end; the run must succeed."""
    proc, env = launch(workdir, ray_address, *hydra_args, **env_overrides)
    try:
        proc.wait(timeout=900)
    finally:
        proc.log_file.close()
    log = (workdir / "run.log").read_text()
    assert proc.returncode == 0, f"run_laser.sh failed (rc={proc.returncode}); log tail:\n{log[-6000:]}"
    dump = Path(env["SCORE_DUMP"]) if env.get("SCORE_DUMP", "null") != "null" else None
    return read_run(Path(env["CKPT_DIR"]), log, dump)


def run_and_kill_after_checkpoint(workdir: Path, ray_address: str, step: int, **env_overrides) -> Run:
    """run_laser.sh, killed with SIGKILL (the whole process group, as a preemption would) once the
    checkpoint of ``step`` is complete and that step is logged."""
    proc, env = launch(workdir, ray_address, **env_overrides)
    ckpt = Path(env["CKPT_DIR"])
    latest, metrics = ckpt / "latest_checkpointed_iteration.txt", ckpt / "metrics.jsonl"
    deadline = time.time() + 900
    try:
        while time.time() < deadline:
            logged = metrics.is_file() and f'"step":{step},' in metrics.read_text().replace(" ", "")
            if latest.is_file() and latest.read_text().strip() == str(step) and logged:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        proc.wait(timeout=60)
    finally:
        proc.log_file.close()
    log = (workdir / "run.log").read_text()
    assert proc.returncode == -signal.SIGKILL, (
        f"the run was not killed at step {step} (rc={proc.returncode}):\n{log[-4000:]}"
    )
    return read_run(ckpt, log, Path(env["SCORE_DUMP"]))


# -- the jobs ---------------------------------------------------------------------------------------------
# LaSeR and GRPO on the same samples: 4 prompts x 4 responses, one mini-batch, MSE from step 1,
# blending from step 3, checkpoints at steps 2 and 4 (the resume jobs kill a twin after step 2).
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


def pair_env(inputs: dict, laser: bool) -> dict:
    return {**inputs["e2e"], **PAIR, "LASER": str(laser)}


def kill_and_resume(workdir: Path, ray_address: str, env: dict) -> tuple[Run, Run, str | None]:
    killed = run_and_kill_after_checkpoint(workdir, ray_address, step=2, **env)
    c_ref_file = killed.ckpt / "laser_c_ref.json"
    c_ref_before = c_ref_file.read_text() if c_ref_file.is_file() else None
    resumed = run_preset(workdir, ray_address, **env, SCORE_DUMP=str(workdir / "scores_resumed.jsonl"))
    return killed, resumed, c_ref_before


def tiny_repro(workdir: Path, ray_address: str, inputs: dict) -> Path:
    """The README's reproduction (run_laser.sh without PRESET), shortened to 2 RL steps."""
    env = {
        **os.environ,
        "RAY_ADDRESS": ray_address,
        "MODEL_DIR": inputs["e2e"]["MODEL_DIR"],
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
    proc = subprocess.run(["bash", str(REPO_DIR / "run_laser.sh")], env=env, cwd=REPO_DIR, capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    (workdir / "run.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return workdir


JOBS = {  # name: (work, the longest first so that the pool finishes early)
    "laser_resume": lambda d, ray, i: kill_and_resume(d, ray, pair_env(i, True)),
    "grpo_resume": lambda d, ray, i: kill_and_resume(d, ray, pair_env(i, False)),
    "tiny_repro": tiny_repro,
    "laser": lambda d, ray, i: run_preset(d, ray, **pair_env(i, True)),
    "grpo": lambda d, ray, i: run_preset(d, ray, **pair_env(i, False)),
    "exact_chat": lambda d, ray, i: run_preset(
        d,
        ray,
        "+reward.custom_reward_function.reward_kwargs.timeout_s=1",
        PRESET="tiny_cpu_laser",
        MODEL_PATH=i["warm_chat"],
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
    "two_ranks": lambda d, ray, i: run_preset(
        d, ray, **{**pair_env(i, True), "NGPUS": "2", "TOTAL_STEPS": "1", "SAVE_FREQ": "-1"}
    ),
    "legacy": lambda d, ray, i: run_preset(
        d,
        ray,
        "trainer.use_v1=False",
        PRESET="tiny_cpu_grpo",
        MODEL_PATH=i["random_base"],
        WARM_STEPS="0",
        DATA_DIR=str(d / "data"),
        TASK="arithmetic",
        TOTAL_STEPS="2",
        SAVE_FREQ="-1",
        SCORE_DUMP="null",
        REWARD_FN_PATH=str(FIXTURES / "parity_reward.py"),
    ),  # fmt: skip
}


class Jobs:
    def __init__(self, futures: dict[str, Future]):
        self.futures = futures

    def get(self, name: str):
        if name not in self.futures:
            raise KeyError(f"job {name!r} was not scheduled: mark the test with @pytest.mark.runs({name!r})")
        return self.futures[name].result()


def pytest_configure(config):
    config.addinivalue_line("markers", "runs(*names): the e2e jobs (tests/e2e/conftest.py JOBS) a test reads")


@pytest.fixture(scope="session")
def jobs(request, e2e_inputs, warm_models, tiny_models, tmp_path_factory):
    """Start every job the selected tests name, in JOBS order, dealt to the lanes in turn."""
    wanted = [n for n in JOBS if any(n in m.args for item in request.session.items for m in item.iter_markers("runs"))]
    named = {n for item in request.session.items for m in item.iter_markers("runs") for n in m.args}
    assert named <= set(JOBS), f"unknown e2e jobs {sorted(named - set(JOBS))}"
    inputs = {"e2e": e2e_inputs, "warm_chat": str(warm_models["chat"]), "random_base": str(tiny_models["base"])}
    lanes = [(RayCluster(), ThreadPoolExecutor(1)) for _ in range(min(LANES, max(1, len(wanted))))]
    futures = {}
    for i, name in enumerate(wanted):
        cluster, lane = lanes[i % len(lanes)]
        futures[name] = lane.submit(JOBS[name], tmp_path_factory.mktemp(name), cluster.address, inputs)
    yield Jobs(futures)
    for cluster, lane in lanes:
        lane.shutdown(wait=True)
        cluster.stop()
