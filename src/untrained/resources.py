"""Memory estimates, so an impossible size is refused before any work (issue #9, #7).

The estimate counts, for the output's final size: the activations of every layer up to the
deepest one used (kept for the backward pass, plus their gradients), the L-BFGS history
(2 × history vectors of the image's size), the exemplar features of the patch loss and one
chunk of patch-matching scores.  It is deliberately simple and errs on the high side.
"""

from __future__ import annotations

import os

from .errors import UserError
from .nets import NetSpec
from .nets.build import feature_sizes

BYTES = 4  # float32


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def activation_bytes(net: NetSpec, layers, size: tuple[int, int]) -> int:
    """Bytes of all activations up to the deepest of *layers* for an input of *size*."""
    deepest = max(net.index(n) for n in layers)
    sizes = feature_sizes(net, size)
    total, channels = 0, 3
    levels = range(1, net.levels + 1) if net.pyramid != "none" else [None]
    for level in levels:
        for i, layer in enumerate(net.layers[: deepest + 1]):
            if layer.op == "conv":
                channels = layer.channels
            h, w = sizes[layer.name if level is None else f"{layer.name}@{level}"]
            total += channels * h * w * BYTES
    return total


def estimate_bytes(net: NetSpec, layers, size: tuple[int, int], lbfgs_history: int = 100,
                   patch_exemplar: tuple[int, int] | None = None) -> int:
    """A high-side estimate of the peak memory of one synthesis at *size* (H, W)."""
    pixels = 3 * size[0] * size[1] * BYTES
    total = 3 * activation_bytes(net, layers, size)  # forward, saved for backward, gradients
    total += (2 * lbfgs_history + 4) * pixels
    if patch_exemplar is not None:
        ex = feature_sizes(net, patch_exemplar)
        for name in layers:
            convs = [l.channels for l in net.layers[: net.index(name) + 1] if l.op == "conv"]
            channels = convs[-1] if convs else 3
            h, w = ex[name]
            patches = max(h - 2, 1) * max(w - 2, 1)
            # exemplar patches (float32) and their bfloat16 keys, plus one chunk of scores
            total += patches * channels * 9 * (BYTES + 2) + 1024 * patches * BYTES
    return total + (300 << 20)  # the interpreter, torch and the net's weights


def check_memory(net: NetSpec, layers, size: tuple[int, int], lbfgs_history: int = 100,
                 patch_exemplar: tuple[int, int] | None = None) -> int:
    """The estimate, or a :class:`UserError` with it when it exceeds the memory available."""
    need = estimate_bytes(net, layers, size, lbfgs_history, patch_exemplar)
    have = available_memory()
    if need > have:
        raise UserError(
            f"a {size[1]}×{size[0]} output with net {net.name} needs about {need / 2**30:.1f} GiB, "
            f"more than the {have / 2**30:.1f} GiB available: use a smaller --size or a lighter net"
        )
    return need
