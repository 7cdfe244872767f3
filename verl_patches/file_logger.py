# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Keep the per-step metrics file across resumes.

verl 0.9.1's ``verl.utils.tracking.FileLogger.__init__`` opens ``VERL_FILE_LOGGER_PATH`` with mode
"wb": a run resumed from a checkpoint erases the steps logged before the interruption. Patched:
the file is opened for appending, and lines of steps after the step the run resumes from (logged by
the interrupted run after its last checkpoint, and about to be logged again) are dropped first, so
every step appears once. The trainer says where it resumes (``set_resume_step``, called by
``LaSeRTrainer.on_init_end`` after verl loaded the checkpoint); a fresh run (step 0) starts an empty file,
as verl does.

Opt-in: applied when this module is imported (``LaSeRTrainer.on_init_end`` imports it in verl's task
runner, the process that creates the logger). ``tests/verl_patches/test_file_logger.py`` fails when
verl's ``FileLogger`` changes. Outside ``SUPPORTED_VERL`` the patch is not applied and says so; the
run goes on (the patch changes no training, only what the metrics file keeps).
"""

from __future__ import annotations

import functools
import json
import os

from verl_patches import VerlVersionError, check_verl_version, when_imported

SUPPORTED_VERL = ">=0.9.1,<0.9.2"

_resume_step: int | None = None


def set_resume_step(step: int) -> None:
    """The global step the run continues from (0 for a fresh run); read when the logger opens."""
    global _resume_step
    _resume_step = int(step)


def keep_steps_up_to(path: str, step: int) -> int:
    """Rewrite ``path`` (verl's JSON lines ``{"step": s, "data": {...}}``) without lines of steps
    after ``step``; returns how many lines were dropped. Unparseable lines (a write cut off by the
    interruption) are dropped too."""
    if not os.path.isfile(path):
        return 0
    kept, dropped = [], 0
    with open(path, "rb") as f:
        for line in f:
            try:
                record = json.loads(line)
                keep = int(record["step"]) <= step
            except (ValueError, KeyError, TypeError):
                keep = False
            if keep:
                kept.append(line if line.endswith(b"\n") else line + b"\n")
            else:
                dropped += 1
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.writelines(kept)
    os.replace(tmp, path)
    return dropped


def _patch(module) -> None:
    logger_cls = module.FileLogger
    if getattr(logger_cls.__init__, "_laser_patch", False):
        return

    @functools.wraps(logger_cls.__init__)
    def __init__(self, project_name: str, experiment_name: str):
        # the path as verl's __init__ chooses it; only the open mode differs
        self.project_name = project_name
        self.experiment_name = experiment_name
        self.filepath = os.getenv("VERL_FILE_LOGGER_PATH", None)
        if self.filepath is None:
            directory = os.path.join(os.path.expanduser(os.getenv("VERL_FILE_LOGGER_ROOT", ".")), project_name)
            os.makedirs(directory, exist_ok=True)
            self.filepath = os.path.join(directory, f"{experiment_name}.jsonl")
        if _resume_step:
            dropped = keep_steps_up_to(self.filepath, _resume_step)
            print(f"[laser] metrics file {self.filepath}: continuing after step {_resume_step} ({dropped} dropped)")
            mode = "ab"
        else:  # a fresh run (or a trainer that did not say): a new file, as verl's "wb"
            mode = "wb"
        self.fp = open(self.filepath, mode, buffering=0)  # noqa: SIM115 (closed by FileLogger.finish)
        print(f"Creating file logger at {os.path.abspath(self.filepath)}")

    __init__._laser_patch = True
    logger_cls.__init__ = __init__


try:
    VERL_VERSION = check_verl_version(
        "verl_patches.file_logger", SUPPORTED_VERL, "verl.utils.tracking.FileLogger.__init__"
    )
    when_imported("verl.utils.tracking", _patch)
except VerlVersionError as error:  # optional: without it a run trains as verl does; only its metrics file restarts
    VERL_VERSION = None
    print(f"[laser] not applied: {error} Without it a resumed run's metrics file starts empty (verl's behaviour).")
