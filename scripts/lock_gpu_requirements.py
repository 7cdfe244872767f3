# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Resolve requirements.txt (GPU nodes) from PyPI for Linux x86-64 and Python 3.12, wheels only, and
write what resolved to requirements-gpu.lock: one ``name==version`` line per package, under a header
that holds the sha256 of the files it was resolved from. A pin that cannot install (a source-only
package that needs a compiler and torch such as flash-attn 2.8.3, a yanked version, a conflict)
fails here, on any machine with PyPI, before anyone tries on a GPU node. The lock is the record of a
resolve; tests/test_requirements.py checks offline that it is current and holds verl's pins.

    python scripts/lock_gpu_requirements.py                 # rewrite requirements-gpu.lock
    python scripts/lock_gpu_requirements.py --out /tmp/x    # resolve now, compare by hand

pip's cross-platform resolve accepts wheels only, so the pure-Python packages PyPI has only as source
(PURE_PYTHON_SDISTS; pip builds them on the node as anywhere) are built into a local wheel folder first."""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
LOCK = REPO_DIR / "requirements-gpu.lock"
# the files a resolve reads: requirements.txt and the verl constraint it names
INPUTS = ("requirements.txt", "recipe/laser/REQUIRED_VERL.txt")
# pip matches a wheel's manylinux tag exactly: list the glibc versions a GPU node may have
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in range(5, 40)] + ["manylinux2014_x86_64", "manylinux1_x86_64"]
# hydra-core 1.3 and omegaconf 2.3 pin antlr4 4.9.*, published as source only
PURE_PYTHON_SDISTS = ["antlr4-python3-runtime==4.9.3"]
HEADER = "# resolved by scripts/lock_gpu_requirements.py for Linux x86-64, CPython 3.12, wheels only, from"


def inputs_digest(repo_dir: Path = REPO_DIR) -> str:
    """One sha256 over the resolve's input files, in INPUTS order."""
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (repo_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()


def read_lock(path: Path = LOCK) -> tuple[str, dict[str, str]]:
    """(the inputs' sha256 the lock was resolved from, {normalised name: version})."""
    digest, pins = None, {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# inputs sha256 "):
            digest = line.removeprefix("# inputs sha256 ").strip()
        elif line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            if not sep or not version:
                raise ValueError(f"{path}:{number}: expected 'name==version', got {line!r}")
            pins[name] = version
    if digest is None:
        raise ValueError(f"{path}: no '# inputs sha256 <hex>' line; rewrite it with scripts/lock_gpu_requirements.py")
    return digest, pins


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def resolve(work: Path) -> dict[str, str]:
    """{normalised name: version} of everything pip would install from requirements.txt on a GPU node."""
    wheels = work / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), *PURE_PYTHON_SDISTS]
    proc = subprocess.run(build, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"building {PURE_PYTHON_SDISTS} failed:\n{proc.stderr[-4000:]}")
    impure = [w.name for w in wheels.iterdir() if not w.name.endswith("-py3-none-any.whl")]
    if impure:
        raise RuntimeError(f"only pure-Python wheels belong in PURE_PYTHON_SDISTS, got {impure}")
    args = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
            "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312", "--target", str(work / "t"),
            "--report", str(work / "report.json"), "--find-links", str(wheels),
            "-r", str(REPO_DIR / "requirements.txt")]  # fmt: skip
    for platform in PLATFORMS:
        args += ["--platform", platform]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"pip could not resolve requirements.txt to wheels:\n{proc.stderr[-4000:]}")
    report = json.loads((work / "report.json").read_text())
    return {normalise(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]}


def write_lock(pins: dict[str, str], path: Path) -> None:
    lines = [f"{HEADER} {', '.join(INPUTS)}", f"# inputs sha256 {inputs_digest()}"]
    lines += [f"{name}=={pins[name]}" for name in sorted(pins)]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=LOCK, help="where to write the lock (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="laser-lock-") as work:
        pins = resolve(Path(work))
    write_lock(pins, args.out)
    print(f"lock_gpu_requirements: {len(pins)} packages -> {args.out}")


if __name__ == "__main__":
    main()
