# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/trainer_plugin.py as verl loads it (``VERL_USE_EXTERNAL_MODULES``): a worker that imports
verl and its own modules never imports the trainer; a process that imports verl's v1 trainer package
finds trainer mode "laser" registered. Fails when verl moves its trainer registry out of that package."""

import os
import subprocess
import sys
import textwrap

from recipe.laser.trainer_plugin import TRAINER_MODULE, TRAINER_PACKAGE

WORKER_THEN_TRAINER = f"""
    import sys
    import verl
    import verl.workers.engine_workers  # the FSDP workers' module
    import verl.workers.rollout.router  # the request router's
    import verl_patches.cpu.hf_rollout  # the CPU rollout server's
    assert {TRAINER_MODULE!r} not in sys.modules, "a worker imported the trainer"
    from {TRAINER_PACKAGE} import get_trainer_cls
    assert {TRAINER_MODULE!r} in sys.modules, "the trainer package did not bring the trainer"
    trainer = get_trainer_cls("laser")  # before this process imports the trainer itself
    assert (trainer.__module__, trainer.__name__) == ({TRAINER_MODULE!r}, "LaSeRTrainer"), trainer
    print("REGISTERED")
"""

PACKAGE_THEN_PLUGIN = f"""
    import sys
    from {TRAINER_PACKAGE} import get_trainer_cls
    assert {TRAINER_MODULE!r} not in sys.modules
    import recipe.laser.trainer_plugin  # loaded after the package: registers at once
    trainer = get_trainer_cls("laser")
    assert (trainer.__module__, trainer.__name__) == ({TRAINER_MODULE!r}, "LaSeRTrainer"), trainer
    print("REGISTERED")
"""


def test_workers_skip_the_trainer_and_the_trainer_package_registers_it():
    env = {**os.environ, "VERL_USE_EXTERNAL_MODULES": "verl_patches.cpu.plugin,recipe.laser.trainer_plugin",
           "VERL_PLATFORM": "cpu"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WORKER_THEN_TRAINER)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "REGISTERED" in proc.stdout, proc.stderr[-3000:]


def test_loaded_after_the_trainer_package_it_registers_at_once():
    env = {k: v for k, v in os.environ.items() if k != "VERL_USE_EXTERNAL_MODULES"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PACKAGE_THEN_PLUGIN)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "REGISTERED" in proc.stdout, proc.stderr[-3000:]
