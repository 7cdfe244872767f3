# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""requirements.txt (GPU nodes) resolves to wheels with the versions verl 0.9.1 pins. Offline: the
committed record of a resolve (requirements-gpu.lock, written by scripts/lock_gpu_requirements.py) is
the record of this requirements.txt and holds those versions. With PyPI (marked slow): pip resolves
requirements.txt again, now, to the same pins."""

import importlib.util

import pytest

from tests.conftest import REPO_DIR

# by path: a package in the environment installs a top-level module named ``scripts``
_spec = importlib.util.spec_from_file_location("lock_gpu_requirements", REPO_DIR / "scripts/lock_gpu_requirements.py")
lock_gpu_requirements = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock_gpu_requirements)
LOCK, inputs_digest = lock_gpu_requirements.LOCK, lock_gpu_requirements.inputs_digest
read_lock, resolve = lock_gpu_requirements.read_lock, lock_gpu_requirements.resolve

# what verl 0.9.1's [vllm,fsdp] extras pin, and what the GPU notes (docs/gpu.md) promise
EXPECTED = {"verl": "0.9.1", "vllm": "0.24.0", "torch": "2.11.0", "transformers": "5.9.0", "ray": "2.60.0",
            "math-verify": "0.9.0", "cuda-toolkit": "13.0.2"}  # fmt: skip
ALSO_RESOLVED = ("flashinfer-python", "transferqueue", "nvidia-cudnn-cu13")


def check_pins(pins: dict[str, str]) -> None:
    assert {k: pins.get(k) for k in EXPECTED} == EXPECTED
    assert all(name in pins for name in ALSO_RESOLVED), [n for n in ALSO_RESOLVED if n not in pins]
    assert "flash-attn" not in pins  # built by setup.sh --gpu after torch, not resolved here


def test_the_lock_records_a_resolve_of_this_requirements_file():
    digest, pins = read_lock()
    assert digest == inputs_digest(), (
        "requirements.txt or REQUIRED_VERL.txt changed since requirements-gpu.lock was written: "
        "run python scripts/lock_gpu_requirements.py"
    )
    check_pins(pins)


def test_the_inputs_digest_moves_with_either_input(tmp_path):
    (tmp_path / "recipe/laser").mkdir(parents=True)
    for name, text in (("requirements.txt", "torch==2.11.0\n"), ("recipe/laser/REQUIRED_VERL.txt", "verl==0.9.1\n")):
        (tmp_path / name).write_text(text)
    before = inputs_digest(tmp_path)
    (tmp_path / "recipe/laser/REQUIRED_VERL.txt").write_text("verl==0.9.2\n")
    assert inputs_digest(tmp_path) != before


def test_a_lock_line_without_a_version_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "lock"
    bad.write_text("# inputs sha256 00\ntorch\n")
    with pytest.raises(ValueError, match=r"lock:2: expected 'name==version', got 'torch'"):
        read_lock(bad)
    (tmp_path / "headless").write_text("torch==2.11.0\n")
    with pytest.raises(ValueError, match="no '# inputs sha256"):
        read_lock(tmp_path / "headless")


@pytest.mark.slow
def test_gpu_requirements_resolve_to_wheels_now(tmp_path):
    """PyPI moves (new releases of unpinned packages): only verl's pins are compared with the lock."""
    pins = resolve(tmp_path)
    check_pins(pins)
    locked = read_lock(LOCK)[1]
    assert {k: pins[k] for k in EXPECTED} == {k: locked[k] for k in EXPECTED}
