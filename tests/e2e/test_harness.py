# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The e2e harness's own failure paths (tests/e2e/jobs.py): a run that Ray starved of memory, or one past
its time, ends at once with its log instead of holding a lane."""

import subprocess
import time

import pytest

from tests.e2e import jobs


def start(workdir, script: str) -> subprocess.Popen:
    log = open(workdir / "run.log", "w")  # noqa: SIM115 (closed by wait_for_run)
    proc = subprocess.Popen(["bash", "-c", script], stdout=log, stderr=subprocess.STDOUT, **jobs.OWN_PROCESS_GROUP)
    proc.log_file = log
    return proc


def test_a_run_whose_workers_ray_killed_for_memory_fails_at_once_with_its_log(tmp_path):
    line = "(raylet) node_manager.cc:3517: 4 Workers (tasks / actors) killed due to memory pressure (OOM)"
    proc = start(tmp_path, f"echo 'step:2'; echo '{line}'; sleep 600")
    began = time.monotonic()
    with pytest.raises(AssertionError, match="memory monitor") as failure:
        jobs.wait_for_run(proc, tmp_path)
    assert time.monotonic() - began < 30 and proc.returncode is not None
    assert "step:2" in str(failure.value)


def test_a_run_past_its_time_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "RUN_TIMEOUT_S", 3)
    proc = start(tmp_path, "echo started; sleep 600")
    with pytest.raises(AssertionError, match="ran past 3 s") as failure:
        jobs.wait_for_run(proc, tmp_path)
    assert proc.returncode is not None and "started" in str(failure.value)


def test_a_finished_run_returns_its_log(tmp_path):
    proc = start(tmp_path, "echo done")
    assert jobs.wait_for_run(proc, tmp_path).strip() == "done" and proc.returncode == 0
