# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/atomic.py: a writer that fails midway leaves the previous file as it was."""

import pandas as pd
import pytest

from recipe.laser.atomic import replace_atomically, write_parquet_atomic, write_text_atomic


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "sub" / "record.json"
    write_text_atomic(path, '{"c_ref": -20.0}')
    assert path.read_text() == '{"c_ref": -20.0}' and sorted(p.name for p in path.parent.iterdir()) == ["record.json"]

    def half_then_crash(tmp):
        tmp.write_text('{"c_ref": -')
        raise KeyboardInterrupt  # a kill between the write and the rename

    with pytest.raises(KeyboardInterrupt):
        replace_atomically(path, half_then_crash)
    assert path.read_text() == '{"c_ref": -20.0}'
    write_parquet_atomic(tmp_path / "rows.parquet", [{"a": 1}, {"a": 2}])
    assert pd.read_parquet(tmp_path / "rows.parquet")["a"].tolist() == [1, 2]
