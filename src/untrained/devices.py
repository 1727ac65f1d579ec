"""Where the work runs: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (issue #18).

Randomness never depends on the device: every draw (weights, starting noise, SWD directions,
perturbations) comes from a CPU :class:`torch.Generator` and is then moved, so the same seed gives
the same weights and starting image everywhere.  "Same inputs and seed give the same bytes"
holds per device: on CUDA, :func:`deterministic` turns on deterministic algorithms and turns off
TF32 for the duration of a run, and puts the previous settings back afterwards.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from .errors import UserError

#: The names :func:`resolve` accepts (``cuda:N`` too).
CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve(name: str | torch.device | None = "auto") -> torch.device:
    """The :class:`torch.device` for *name*: ``auto`` (or ``None``) is CUDA, then MPS, then the
    CPU; a device that is not there is a one-line :class:`UserError`."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise UserError("device mps is not available here (no Apple GPU, or torch built without MPS): use --device cpu")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        index = name.partition(":")[2]
        if index and not index.isdigit():
            raise UserError(f"unknown device {name!r}: write cuda:N with N a number, e.g. cuda:0")
        if not torch.cuda.is_available():
            raise UserError(f"device {name} is not available here (no CUDA GPU, or torch built without CUDA): use --device cpu")
        count = torch.cuda.device_count()
        i = int(index) if index else torch.cuda.current_device()
        if i >= count:
            raise UserError(f"device {name} is not available here: there {'is' if count == 1 else 'are'} {count} CUDA "
                            f"device{'s' if count != 1 else ''} (cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
        return torch.device("cuda", i)
    raise UserError(f"unknown device {name!r}; choose from {', '.join(CHOICES)}")


def describe(device: torch.device) -> str:
    """A short name of *device* for the output JSON, with the GPU's model where there is one."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def free_memory(device: torch.device) -> int | None:
    """Bytes free on an accelerator (``torch.cuda.mem_get_info`` on CUDA); ``None`` for the
    CPU (see :func:`untrained.resources.available_memory`) and where it cannot be asked."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type == "mps":
        mps = getattr(torch, "mps", None)
        try:
            return int(mps.recommended_max_memory() - mps.driver_allocated_memory())  # type: ignore[union-attr]
        except (AttributeError, RuntimeError):
            return None
    return None


@contextlib.contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Within the block, CUDA runs deterministic kernels and no TF32 (so the same inputs and
    seed give the same bytes on one GPU, and float32 means float32); the previous settings come
    back on exit.  Nothing changes for the CPU and MPS.  Kernels without a deterministic version
    warn instead of failing (``warn_only``).  For cuBLAS, the command line also sets
    ``CUBLAS_WORKSPACE_CONFIG`` (an environment variable, process-wide)."""
    if device.type != "cuda":
        yield
        return
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32)
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = True, False, False, False
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = saved[2:]


def synchronize(device: torch.device) -> None:
    """Wait for queued work on *device* (for honest timings)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
