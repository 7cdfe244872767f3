# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Every command in the README's and docs/gpu.md's bash blocks, read from the files: each one is run
where a CPU can (a run_laser.sh command composes its config with hydra's --cfg job, with the
environment it picks shown), or resolved against what it names (setup.sh's options, the checker's
flags and the paths the smoke preset writes, ray's flags); the long ones are run by the suite
(tests/e2e). A command of a kind this file does not know fails the test. Also: which environment
each script picks, and the error when it is missing."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_DIR

DOCUMENTS = ("README.md", "docs/gpu.md")
ENV_ASSIGNMENT = re.compile(r"^([A-Z_]+)=(\S+)\s+")


def documented_commands() -> list[tuple[str, str]]:
    """(document, command) for every command of every bash block: continuation lines joined,
    comments dropped, `a && b` split."""
    commands = []
    for document in DOCUMENTS:
        text = (REPO_DIR / document).read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"(^|\s)#.*$", "", line).strip()
                commands += [(document, part.strip()) for part in line.split("&&") if part.strip()]
    return commands


def split_env(command: str, tmp_path: Path) -> tuple[dict, str]:
    """The leading VAR=value assignments and the rest; a placeholder gets a value: <head>, <head-ip> an
    address, any other <name> a path."""

    def filled(value: str) -> str:
        value = value.replace("<head>", "127.0.0.1").replace("<head-ip>", "127.0.0.1")
        return re.sub(r"<([\w.-]+)>", lambda m: str(tmp_path / m.group(1)), value)

    env = {}
    while match := ENV_ASSIGNMENT.match(command):
        env[match.group(1)] = filled(match.group(2))
        command = command[match.end() :]
    return env, command


def run_laser(args: list[str], tmp_path: Path, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "RAY_ADDRESS")}
    full.update({"CKPT_DIR": str(tmp_path / "ckpt"), **env})
    return subprocess.run(
        ["bash", str(REPO_DIR / "run_laser.sh"), *args], env=full, capture_output=True, text=True, timeout=300,
        cwd=REPO_DIR,
    )  # fmt: skip


@pytest.fixture
def fake_venv(tmp_path) -> Path:
    """A stand-in for .venv-gpu or .venv-vllm: its python is the test's own interpreter (composing needs only verl)."""
    venv = tmp_path / "venv-gpu"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return venv


def test_the_documents_have_the_commands_this_file_checks():
    commands = [c for _, c in documented_commands()]
    assert "bash setup.sh --gpu" in commands and "PRESET=gpu_smoke bash run_laser.sh" in commands
    assert any(c.startswith("DEVICE=cpu ") for c in commands)
    assert len(commands) >= 15, commands


@pytest.mark.parametrize("document,command", documented_commands(), ids=lambda x: x[:60])
def test_documented_command(document, command, tmp_path, fake_venv):
    env, rest = split_env(command, tmp_path)
    setup_options = re.findall(r"^\s+(cpu|--[a-z-]+)\) REQUIREMENTS", (REPO_DIR / "setup.sh").read_text(), flags=re.M)
    if match := re.fullmatch(r"bash setup\.sh( --[a-z-]+)?", rest):
        assert (match.group(1) or " cpu").strip() in setup_options, f"{document}: setup.sh has no {match.group(1)}"
    elif rest.startswith("bash run_laser.sh"):
        args = rest.split()[2:]
        if "PRESET" not in env:  # the reproduction: tests/e2e/test_tiny_repro.py runs it (twice)
            jobs = (REPO_DIR / "tests/e2e/jobs.py").read_text()
            assert 'command = [*cluster.nice, "bash", str(REPO_DIR / "run_laser.sh")]' in jobs and not args
            return
        # the GPU presets run in .venv-gpu; DEVICE=cpu in .venv-vllm
        on_cpu = env.get("DEVICE") == "cpu"
        kind, variable, flag = ("vllm-cpu", "VLLM_VENV", "--vllm-cpu") if on_cpu else ("gpu", "GPU_VENV", "--gpu")
        # without it: the error names the command that builds it
        missing = run_laser([*args, "--cfg", "job"], tmp_path, **{variable: str(tmp_path / "absent")}, **env)
        assert missing.returncode == 2 and f"`bash setup.sh {flag}`" in missing.stderr, missing.stderr[-2000:]
        # with it: the command composes its config with that environment's python
        proc = run_laser([*args, "--cfg", "job"], tmp_path, **{variable: str(fake_venv)}, **env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"PRESET={env['PRESET']}: python {fake_venv}/bin/python ({kind} environment)" in proc.stderr
        cfg = yaml.safe_load(proc.stdout)
        assert cfg["trainer"]["nnodes"] == int(env.get("NNODES", cfg["trainer"]["nnodes"]))
    elif rest.startswith("bash run_tests.sh"):
        assert "bash run_tests.sh" in (REPO_DIR / ".ci/run").read_text(), "CI runs the README's test command"
    elif match := re.fullmatch(r"\.venv-(?:gpu|vllm)/bin/python scripts/check_score_dump\.py (.*)", rest):
        flags = dict(re.findall(r"(--[a-z-]+) (\S+)", match.group(1)))
        usage = subprocess.run([sys.executable, str(REPO_DIR / "scripts/check_score_dump.py"), "--help"],
                               capture_output=True, text=True, timeout=120).stdout  # fmt: skip
        assert all(flag in usage for flag in flags), (flags, usage)
        # the paths are where the smoke preset writes, relative to the repository (as the command runs)
        proc = run_laser(["--cfg", "job"], tmp_path, PRESET="gpu_smoke", PYTHON=sys.executable, CKPT_DIR="")
        cfg = yaml.safe_load(proc.stdout)
        assert REPO_DIR / flags["--dump"] == Path(cfg["laser"]["score_dump_path"])
        assert flags["--model"] in (cfg["actor_rollout_ref"]["model"]["path"], "<local-model>")
        assert str(REPO_DIR / flags["--metrics"]) in proc.stderr  # VERL_FILE_LOGGER_PATH, in the trace
    elif rest == "source .venv-gpu/bin/activate":
        assert "VENV=${VENV:-$REPO_DIR/.venv-gpu}" in (REPO_DIR / "setup.sh").read_text()
    elif rest.startswith("ray start "):
        usage = subprocess.run([str(Path(sys.executable).parent / "ray"), "start", "--help"], capture_output=True,
                               text=True, timeout=120).stdout  # fmt: skip
        assert all(flag in usage for flag in re.findall(r"--[a-z-]+", rest)), rest
    else:
        pytest.fail(f"{document}: no check for the command {command!r}: add one here")


def test_run_eval_sh_names_the_setup_commands_when_its_environment_is_missing(tmp_path):
    env = {**os.environ, "MODEL_PATH": "unused", "BACKEND": "vllm", "GPU_VENV": str(tmp_path / "no-gpu"),
           "VLLM_VENV": str(tmp_path / "no-vllm")}  # fmt: skip
    env.pop("PYTHON", None)
    proc = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh")], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO_DIR)  # fmt: skip
    assert proc.returncode == 2
    assert "`bash setup.sh --gpu`" in proc.stderr and "`bash setup.sh --vllm-cpu`" in proc.stderr, proc.stderr


def test_cpu_presets_pick_their_environment_and_python_overrides(tmp_path):
    hf = run_laser(["--cfg", "job"], tmp_path, PRESET="tiny_cpu_laser")
    assert f"python {REPO_DIR}/.venv/bin/python (cpu environment)" in hf.stderr, hf.stderr[-2000:]
    vllm = run_laser(["--cfg", "job"], tmp_path, PRESET="tiny_cpu_laser", ROLLOUT="vllm", VLLM_VENV=str(tmp_path / "v"))
    assert vllm.returncode == 2 and "`bash setup.sh --vllm-cpu`" in vllm.stderr
    chosen = run_laser(["--cfg", "job"], tmp_path, PRESET="gpu_smoke", PYTHON=sys.executable)
    assert chosen.returncode == 0 and f"python {sys.executable} (PYTHON)" in chosen.stderr
