# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Write-then-rename, the recipe's one way to write a file that a kill must never leave half-written
(c_ref records, evaluation samples and reports, prepared datasets)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` next to ``path``, then rename it onto ``path`` (atomic on one file system)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return replace_atomically(path, lambda tmp: tmp.write_text(text))


def write_parquet_atomic(path: Path, rows: list[dict]) -> Path:
    import pandas as pd

    return replace_atomically(path, lambda tmp: pd.DataFrame(rows).to_parquet(tmp, index=False))
