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


def test_a_crash_count_without_memory_kills_does_not_end_a_run(tmp_path):
    line = "(raylet) 0 Workers (tasks / actors) killed due to memory pressure (OOM), 3 Workers crashed due to other"
    proc = start(tmp_path, f"echo '{line}'; sleep 3; echo done")
    assert jobs.wait_for_run(proc, tmp_path).endswith("done\n") and proc.returncode == 0


def test_a_finished_run_returns_its_log(tmp_path):
    proc = start(tmp_path, "echo done")
    assert jobs.wait_for_run(proc, tmp_path).strip() == "done" and proc.returncode == 0


class NoCluster:
    def __init__(self, *args, **kwargs):
        pass

    def stop(self):
        pass


def test_lanes_hold_memory_shares_in_the_order_asked(monkeypatch):
    """Three lanes, capacity 4: the 3-share job waits for room and no 1-share job asked after it
    overtakes it; at no time do the running jobs hold more than 4 shares."""
    import threading

    monkeypatch.setattr(jobs, "RayCluster", NoCluster)
    monkeypatch.setattr(jobs, "TIMELINE", None)  # the session's own timeline is not this test's
    monkeypatch.setattr(jobs, "MEMORY_SHARES", {"big": 3})
    monkeypatch.setattr(jobs, "MEMORY_CAPACITY", 4)
    lock, running, events = threading.Lock(), {}, []

    def job(name, seconds):
        def work(cluster):
            with lock:
                running[name] = jobs.MEMORY_SHARES.get(name, 1)
                events.append(("start", name, sum(running.values())))
            time.sleep(seconds)
            with lock:
                del running[name]
            return name

        return name, work

    # lanes start a (1), b (1), c (1); "big" is asked for when a ends, d and e after it
    lanes = jobs.Lanes([job("a", 0.2), job("b", 1.0), job("c", 1.0), job("big", 0.5), job("d", 0.1), job("e", 0.1)], 3)
    assert [lanes.get(n) for n in ("a", "b", "c", "big", "d", "e")] == ["a", "b", "c", "big", "d", "e"]
    lanes.close()
    order = [name for _, name, _ in events]
    assert order.index("big") < order.index("d") < order.index("e") and order.index("big") > order.index("c")
    assert max(held for *_, held in events) <= 4
