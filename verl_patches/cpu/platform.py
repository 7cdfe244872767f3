# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""A CPU platform for verl's platform registry (``verl.plugin.platform``).

verl 0.9.1 registers only accelerator platforms (nvidia, npu, rocm) and, with none detected, falls
back to "nvidia" (``platform_manager._detect_platform_name``): device "cuda", backend "nccl". This
class is registered as ``cpu`` and chosen with ``VERL_PLATFORM=cpu``; no verl code is replaced.
"""

from __future__ import annotations

import types
from contextlib import contextmanager, nullcontext
from typing import Any

import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry


def _memory_zero(*args, **kwargs) -> int:
    return 0


def _mem_get_info(*args, **kwargs) -> tuple[int, int]:
    import psutil

    vm = psutil.virtual_memory()
    return vm.available, vm.total


class _CPUDeviceModule(types.ModuleType):
    """``torch.cpu`` plus the ``torch.cuda``-style calls verl makes on ``get_torch_device()``
    (memory statistics, RNG state, device name, ipc_collect), answered for the host."""

    def __init__(self):
        super().__init__("verl_patches.cpu.device_module")
        self.empty_cache = lambda: None
        self.ipc_collect = lambda: None
        self.set_per_process_memory_fraction = lambda *a, **k: None
        self.memory_allocated = _memory_zero
        self.memory_reserved = _memory_zero
        self.max_memory_allocated = _memory_zero
        self.max_memory_reserved = _memory_zero
        self.reset_peak_memory_stats = lambda *a, **k: None
        self.mem_get_info = _mem_get_info
        self.get_device_name = lambda *a, **k: "CPU"
        self.get_rng_state = lambda *a, **k: torch.get_rng_state()
        self.set_rng_state = lambda state, *a, **k: torch.set_rng_state(state)
        self.manual_seed = torch.manual_seed
        self.manual_seed_all = torch.manual_seed
        # verl calls set_device(local_rank) after init_process_group; there is one host device.
        self.set_device = lambda *a, **k: None
        self.current_device = lambda: "cpu"
        self.is_available = lambda: True
        self.device_count = lambda: 1

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cpu, name)


CPU_DEVICE_MODULE = _CPUDeviceModule()


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    """Host CPU as verl's "device": tensors on ``cpu``, collectives over gloo.

    Ray scheduling still counts the resource "GPU" (verl's resource pool only counts GPU/NPU,
    ``single_controller/ray/base.py: _check_resource_available``), so a CPU run starts Ray with
    logical GPUs: ``+ray_kwargs.ray_init.num_gpus=N``. Each "GPU" is one training process.
    """

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> types.ModuleType:
        return CPU_DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check=False) -> bool:
        # Never auto-detected: a CPU run is asked for explicitly with VERL_PLATFORM=cpu.
        return False

    def current_device(self) -> str:
        # FSDP2 and tensor.to() receive this value: the string "cpu" is a valid device, 0 is not.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: int | None = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        # Ray sets CUDA_VISIBLE_DEVICES for its logical GPUs; nothing reads it on CPU.
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        with nullcontext():
            yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None
