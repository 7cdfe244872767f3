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

from verl_patches import when_imported

TRAINER_PACKAGE = "verl.trainer.ppo.v1"  # holds verl's trainer registry (register_trainer, get_trainer_cls)
TRAINER_MODULE = "recipe.laser.trainer"  # registers LaSeRTrainer in it


def install() -> None:
    """Import ``TRAINER_MODULE`` right after ``TRAINER_PACKAGE`` (at once if it is already imported)."""
    when_imported(TRAINER_PACKAGE, lambda _package: importlib.import_module(TRAINER_MODULE))


install()
