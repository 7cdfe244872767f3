# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""verl_patches/file_logger.py: the metrics file keeps every step across resumes, and the patch breaks
loudly when verl's FileLogger changes."""

import inspect
import json
import subprocess
import sys
import textwrap

from verl_patches.file_logger import keep_steps_up_to


def test_seam_verl_file_logger_truncates_on_open():
    from verl.utils import tracking

    source = inspect.getsource(tracking.FileLogger)
    # what the patch replaces, and the path rule it keeps
    assert 'self.fp = open(self.filepath, "wb", buffering=0)' in source
    assert 'os.getenv("VERL_FILE_LOGGER_PATH", None)' in source and "VERL_FILE_LOGGER_ROOT" in source
    assert list(inspect.signature(tracking.FileLogger.__init__).parameters) == [
        "self",
        "project_name",
        "experiment_name",
    ]


def test_keep_steps_up_to(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [{"step": s, "data": {"x": s}} for s in (0, 1, 2, 3)]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"step": 4, "da')  # a write cut off
    assert keep_steps_up_to(str(path), 2) == 2  # step 3 and the cut line
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [0, 1, 2]


def test_resumed_logger_appends_after_the_resume_step(tmp_path):
    """In a fresh process, as verl's task runner: a first run logs steps 1-3 (step 3 after its last
    checkpoint at 2), then a run resumed at step 2 logs 3 and 4: the file holds 1, 2, 3, 4 once."""
    path = tmp_path / "metrics.jsonl"
    code = f"""
        import os, sys
        os.environ["VERL_FILE_LOGGER_PATH"] = {str(path)!r}
        from verl_patches import file_logger
        from verl.utils.tracking import FileLogger
        resume, steps = int(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")]
        file_logger.set_resume_step(resume)
        logger = FileLogger("p", "e")
        for s in steps:
            logger.log({{"loss": s / 10, "resumed": bool(resume)}}, step=s)
        logger.finish()
        """
    for resume, steps in ((0, "1,2,3"), (2, "3,4")):
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), str(resume), steps], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert [r["data"]["resumed"] for r in records] == [False, False, True, True]
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), "0", "1"], capture_output=True, text=True)
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [1]  # a fresh run starts over
