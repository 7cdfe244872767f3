# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Run verl 0.9.1's real trainer on a machine with no accelerator.

Opt-in: importing this module applies the patches, and verl imports it in every process (driver,
Ray workers, rollout servers) when ``VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin`` and
``VERL_PLATFORM=cpu`` are set. ``run_laser.sh`` sets both for its CPU presets only; on a GPU node
nothing here is loaded.

What each piece replaces or wraps, and why (see ``tests/test_verl_patches_on_cpu.py``):

1. ``PlatformCPU`` (``platform.py``): a platform for ``verl.plugin.platform.PlatformRegistry``;
   without it verl falls back to "nvidia" (device cuda, backend nccl). Registration, no patch.
2. ``verl.utils.distributed.initialize_global_process_group_ray`` is wrapped: it builds the backend
   string ``f"cpu:gloo,{device}:{backend}"``, which on CPU reads ``"cpu:gloo,cpu:gloo"`` and torch
   rejects the duplicate device. The wrapper passes ``"cpu:gloo"``.
3. ``verl.workers.engine.fsdp.transformer_impl``: its FSDP engines are registered for device "cpu"
   too (``EngineRegistry`` only has cuda/npu), and its module-level name ``CPUOffloadPolicy`` is
   replaced by one that never pins memory (``pin_memory=True`` needs an accelerator; the
   reference worker always gets this policy).
4. The "hf" rollout backend (``hf_rollout.py``): registered in verl's two rollout registries.

Attention uses sdpa (``+actor_rollout_ref.model.override_config.attn_implementation=sdpa``), Ray
gets logical GPUs (``+ray_kwargs.ray_init.num_gpus=N``), and FSDP2 is required
(``actor.strategy=fsdp2``): those are configuration, set by the CPU preset, not patches.
"""

from __future__ import annotations

import functools
import os

from verl_patches import check_verl_version, when_imported

VERL_VERSION = check_verl_version("verl_patches.cpu.plugin")

if os.environ.get("VERL_PLATFORM", "").strip().lower() != "cpu":
    # The plugin was requested but the platform was not: verl would pick "nvidia" and fail later
    # with a CUDA error far from the cause.
    raise RuntimeError(
        "verl_patches.cpu.plugin is loaded (VERL_USE_EXTERNAL_MODULES) but VERL_PLATFORM is not 'cpu'. "
        "Set VERL_PLATFORM=cpu as well (run_laser.sh does this for the CPU presets)."
    )

from verl_patches.cpu import platform as _platform  # noqa: E402,F401  (registers "cpu")


# -- 2. gloo-only process group ------------------------------------------------------------------
def _patch_distributed(module) -> None:
    original = module.initialize_global_process_group_ray
    if getattr(original, "_laser_cpu_patch", False):
        return

    @functools.wraps(original)
    def initialize_global_process_group_ray(timeout_second=None, backend=None):
        return original(timeout_second=timeout_second, backend=backend or "cpu:gloo")

    initialize_global_process_group_ray._laser_cpu_patch = True
    module.initialize_global_process_group_ray = initialize_global_process_group_ray


when_imported("verl.utils.distributed", _patch_distributed)


# -- 3. FSDP engine on device "cpu", and no pinned memory ---------------------------------------
def _unpinned_offload_policy(policy_cls):
    @functools.wraps(policy_cls, updated=())
    def make(*args, **kwargs):
        kwargs["pin_memory"] = False
        return policy_cls(*args, **kwargs)

    make._laser_cpu_patch = True
    return make


def _patch_fsdp_engine(module) -> None:
    from verl.workers.engine.base import EngineRegistry

    EngineRegistry.register(model_type="language_model", backend=["fsdp", "fsdp2"], device="cpu")(
        module.FSDPEngineWithLMHead
    )
    EngineRegistry.register(model_type="value_model", backend=["fsdp", "fsdp2"], device="cpu")(
        module.FSDPEngineWithValueHead
    )
    if not getattr(module.CPUOffloadPolicy, "_laser_cpu_patch", False):
        module.CPUOffloadPolicy = _unpinned_offload_policy(module.CPUOffloadPolicy)


when_imported("verl.workers.engine.fsdp.transformer_impl", _patch_fsdp_engine)


# -- 4. "hf" rollout backend -------------------------------------------------------------------------
def _register_hf_adapter(module) -> None:
    # verl resolves the in-worker adapter from this table by dotted name, lazily.
    module._ROLLOUT_REGISTRY[("hf", "async")] = "verl_patches.cpu.hf_rollout.HFServerAdapter"


def _register_hf_replica(module) -> None:
    def load():
        from verl_patches.cpu.hf_rollout import HFReplica

        return HFReplica

    module.RolloutReplicaRegistry.register("hf", load)


when_imported("verl.workers.rollout.base", _register_hf_adapter)
when_imported("verl.workers.rollout.replica", _register_hf_replica)
