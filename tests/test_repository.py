# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The repository as a user clones it: every source file carries the licence header, and nothing
refers to files outside the repository."""

import re
import subprocess

from tests.conftest import REPO_DIR

HEADER = "# Copyright 2026 The laser-verl Authors\n# SPDX-License-Identifier: Apache-2.0\n"
OUTSIDE = re.compile(r"\.\./shared|shared/(data|reference|hooks)|/work/shared|[\"']shared[\"']|\bbug B\d+")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_DIR, capture_output=True, text=True)
    return [f for f in out.stdout.split() if (REPO_DIR / f).is_file()]


def test_every_source_file_has_the_licence_header():
    missing = []
    for f in tracked_files():
        if f.endswith((".py", ".sh", ".yaml")) or f == ".ci/run":
            text = (REPO_DIR / f).read_text()
            if text.startswith("#!"):
                text = text.split("\n", 1)[1]
            if not text.startswith(HEADER):
                missing.append(f)
    assert not missing, missing
    assert "Apache License" in (REPO_DIR / "LICENSE").read_text()


def test_nothing_refers_to_files_outside_the_repository():
    found = []
    for f in tracked_files():
        if f.endswith((".py", ".sh", ".md", ".yaml", ".txt", ".toml")) and f != "tests/test_repository.py":
            for number, line in enumerate((REPO_DIR / f).read_text().splitlines(), 1):
                if OUTSIDE.search(line):
                    found.append(f"{f}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)
