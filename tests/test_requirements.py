# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""requirements.txt (GPU nodes) resolves from PyPI for Linux x86-64 and Python 3.12 with the versions
verl 0.9.1 pins: a pin that cannot install (a source-only package that needs a compiler and torch
such as flash-attn 2.8.3, a yanked version, a conflict) fails here, on any machine, before anyone
tries. pip's cross-platform resolve accepts wheels only, so the pure-Python packages PyPI has only
as source (PURE_PYTHON_SDISTS; pip builds them on the node as anywhere) are built into a local
wheel folder first."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_DIR

# pip matches a wheel's manylinux tag exactly: list the glibc versions a GPU node may have
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in range(5, 40)] + ["manylinux2014_x86_64", "manylinux1_x86_64"]
# hydra-core 1.3 and omegaconf 2.3 pin antlr4 4.9.*, published as source only
PURE_PYTHON_SDISTS = ["antlr4-python3-runtime==4.9.3"]


@pytest.mark.slow
def test_gpu_requirements_resolve_to_wheels(tmp_path):
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), *PURE_PYTHON_SDISTS]
    proc = subprocess.run(build, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert all(w.name.endswith("-py3-none-any.whl") for w in wheels.iterdir()), "only pure-Python wheels belong here"
    args = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
            "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312", "--target", str(tmp_path / "t"),
            "--report", str(tmp_path / "report.json"), "--find-links", str(wheels),
            "-r", str(REPO_DIR / "requirements.txt")]  # fmt: skip
    for platform in PLATFORMS:
        args += ["--platform", platform]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    resolved = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in report["install"]}
    expected = {"verl": "0.9.1", "vllm": "0.24.0", "torch": "2.11.0", "transformers": "5.9.0", "ray": "2.60.0",
                "math-verify": "0.9.0", "cuda-toolkit": "13.0.2"}  # fmt: skip
    assert {k: resolved.get(k) for k in expected} == expected
    assert "flashinfer-python" in resolved and "transferqueue" in resolved and "nvidia-cudnn-cu13" in resolved
    assert "flash-attn" not in resolved  # built by setup.sh --gpu after torch, not resolved here
