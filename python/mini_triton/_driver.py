"""`triton.runtime.driver`: the active backend's device queries, as Triton's tutorials use them
(`driver.active.get_active_torch_device()`, `driver.active.utils.get_device_properties(i)`,
`driver.active.get_current_target()`, ...).

With a usable NVIDIA GPU (libcuda and a device, and torch built with CUDA) the active driver is CUDA: torch
device "cuda", the device's properties from torch. Otherwise it is the CPU interpreter: torch device "cpu",
target backend "cpu", and properties of the CPU: its worker threads as multiprocessors; it has no registers
or shared memory to count (0), as CPU kernels report n_regs / metadata.shared = 0."""

from __future__ import annotations

import os
from typing import NamedTuple


class GPUTarget(NamedTuple):
    """What `get_current_target()` returns: backend ("cuda" or "cpu"), arch (compute capability as an
    int, 90 for sm_90; 0 on the CPU) and warp size."""
    backend: str
    arch: int
    warp_size: int


def _torch():
    import torch
    return torch


def _gpu_usable() -> bool:
    from .jit import _cuda_available
    if not _cuda_available()[0]:
        return False
    try:
        return _torch().cuda.is_available()
    except ImportError:
        return False


class _Utils:
    """`driver.active.utils`."""

    def __init__(self, gpu: bool):
        self._gpu = gpu

    def get_device_properties(self, device=None):
        if not self._gpu:
            return {"max_shared_mem": 0, "max_num_regs": 0, "multiprocessor_count": os.cpu_count() or 1,
                    "warpSize": 32, "sm_clock_rate": 0, "mem_clock_rate": 0, "mem_bus_width": 0}
        torch = _torch()
        p = torch.cuda.get_device_properties(0 if device is None else device)
        return {
            "max_shared_mem": getattr(p, "shared_memory_per_block_optin", 0),
            "max_num_regs": getattr(p, "regs_per_multiprocessor", 65536),
            "multiprocessor_count": p.multi_processor_count,
            "warpSize": getattr(p, "warp_size", 32),
            "sm_clock_rate": getattr(p, "clock_rate", 0),
            "mem_clock_rate": getattr(p, "memory_clock_rate", 0),
            "mem_bus_width": getattr(p, "memory_bus_width", 0),
        }


class ActiveDriver:
    """`driver.active`: the CUDA driver when a GPU is usable, else the CPU interpreter's."""

    def __init__(self):
        self._gpu = _gpu_usable()
        self.utils = _Utils(self._gpu)
        self.backend = "cuda" if self._gpu else "cpu"

    @staticmethod
    def is_active() -> bool:
        return True

    def get_current_target(self) -> GPUTarget:
        if not self._gpu:
            return GPUTarget("cpu", 0, 32)
        major, minor = _torch().cuda.get_device_capability(self.get_current_device())
        return GPUTarget("cuda", major * 10 + minor, 32)

    def get_active_torch_device(self):
        torch = _torch()
        return torch.device("cuda", self.get_current_device()) if self._gpu else torch.device("cpu")

    def get_current_device(self) -> int:
        return _torch().cuda.current_device() if self._gpu else 0

    def set_current_device(self, device: int) -> None:
        if self._gpu:
            _torch().cuda.set_device(device)
        elif device != 0:
            raise ValueError(f"the CPU backend has one device (0), not {device}")

    def get_current_stream(self, device=None) -> int:
        if not self._gpu:
            return 0
        torch = _torch()
        return torch.cuda.current_stream(device).cuda_stream

    def get_device_interface(self):
        torch = _torch()
        return torch.cuda if self._gpu else torch.cpu

    def get_benchmarker(self):
        from .testing import do_bench
        return do_bench

    def get_empty_cache_for_benchmark(self):
        """A 256 MB buffer whose zeroing evicts the L2 cache between timed runs (as Triton's)."""
        torch = _torch()
        return torch.empty(256 * 1024 * 1024 // 4, dtype=torch.int, device=self.get_active_torch_device())

    def clear_cache(self, cache) -> None:
        cache.zero_()


class DriverConfig:
    """`triton.runtime.driver`: `.active` (created on first use), `.default`, `set_active`, `reset_active`."""

    def __init__(self):
        self._default = None
        self._active = None

    @property
    def default(self) -> ActiveDriver:
        if self._default is None:
            self._default = ActiveDriver()
        return self._default

    @property
    def active(self) -> ActiveDriver:
        if self._active is None:
            self._active = self.default
        return self._active

    def set_active(self, driver) -> None:
        self._active = driver

    def reset_active(self) -> None:
        self._active = self.default


driver = DriverConfig()
