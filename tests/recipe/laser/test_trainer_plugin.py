# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/trainer_plugin.py as verl loads it (``VERL_USE_EXTERNAL_MODULES``): a worker that imports
verl and its own modules never imports the trainer; a process that imports verl's v1 trainer package
finds trainer mode "laser" registered. Fails when verl moves its trainer registry out of that package."""

import importlib
import os
import subprocess
import sys
import textwrap

from recipe.laser.trainer_plugin import TRAINER_MODULE, TRAINER_PACKAGE, install

WORKER_THEN_TRAINER = f"""
    import sys
    import verl
    import verl.workers.engine_workers  # the FSDP workers' module
    import verl.workers.rollout.router  # the request router's
    import verl_patches.cpu.hf_rollout  # the CPU rollout server's
    assert {TRAINER_MODULE!r} not in sys.modules, "a worker imported the trainer"
    from {TRAINER_PACKAGE} import get_trainer_cls
    from recipe.laser.trainer import LaSeRTrainer
    assert get_trainer_cls("laser") is LaSeRTrainer
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
    trainer_package = importlib.import_module(TRAINER_PACKAGE)
    install()  # the module itself ran install() at collection, maybe before the package was imported
    from recipe.laser.trainer import LaSeRTrainer

    assert trainer_package.get_trainer_cls("laser") is LaSeRTrainer
