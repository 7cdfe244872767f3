# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The recipe's verl plugin (``VERL_USE_EXTERNAL_MODULES``): registers ``LaSeRTrainer`` as v1 trainer
mode "laser" in the processes that can build a trainer, and only there.

verl imports every listed module in every process that imports verl: the task runner, and also each
FSDP, rollout, reward, agent-loop and router worker. ``recipe.laser.trainer`` imports verl's v1 trainer
package (``verl.trainer.ppo.v1``: the agent loop, the datasets), 1-2 CPU-seconds that most of those
workers never use. A trainer can only be asked for through that package (``get_trainer_cls``), so the
recipe's trainer is imported right after the package is, in whichever process imports it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

TRAINER_PACKAGE = "verl.trainer.ppo.v1"  # holds verl's trainer registry (register_trainer, get_trainer_cls)
TRAINER_MODULE = "recipe.laser.trainer"  # registers LaSeRTrainer in it


class _RegisterAfterTrainerPackage(importlib.abc.MetaPathFinder):
    """Finds ``TRAINER_PACKAGE`` with the other finders and imports ``TRAINER_MODULE`` once the package
    has executed; for every other module, and after that one import, it finds nothing."""

    def __init__(self):
        self.done = False

    def find_spec(self, fullname, path, target=None):
        if fullname != TRAINER_PACKAGE or self.done:
            return None
        self.done = True
        finders = (f for f in sys.meta_path if f is not self and hasattr(f, "find_spec"))
        spec = next((s for f in finders if (s := f.find_spec(fullname, path, target)) is not None), None)
        if spec is None or spec.loader is None:
            return spec
        exec_package = spec.loader.exec_module

        def exec_then_register(module):
            exec_package(module)
            importlib.import_module(TRAINER_MODULE)

        spec.loader.exec_module = exec_then_register
        return spec


def install() -> None:
    if TRAINER_PACKAGE in sys.modules:
        importlib.import_module(TRAINER_MODULE)
    elif not any(isinstance(f, _RegisterAfterTrainerPackage) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterTrainerPackage())


install()
