# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Run verl's real trainer without an accelerator. Importing this package changes nothing; the
patches are applied by ``verl_patches.cpu.plugin``, which verl imports in every process when
``VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin`` and ``VERL_PLATFORM=cpu`` are set."""
