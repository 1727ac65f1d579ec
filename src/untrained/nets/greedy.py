"""He et al. 2016's "stacked" random weights, chosen greedily layer by layer.

For each conv layer in forward order (earlier layers fixed), K candidate weight sets are drawn;
each is judged by how well a reference image can be reconstructed from that layer's rectified
representation in a few L-BFGS iterations; the best candidate's seed is kept.  Du 2020 §2 points
out that this is a weak form of training on one image — here it is an explicit, named option.

The chosen seeds are written into the spec (``LayerSpec.seed``), so the result is plain data, and
cached on disk keyed by everything that determines them, so the cost is paid once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from importlib import resources
from pathlib import Path

import torch

from ..config import derive_seed, to_json
from ..errors import UserError
from .build import build
from .spec import NetSpec

#: L-BFGS evaluations per candidate reconstruction.
DEFAULT_ITERATIONS = 20


def reference_image() -> torch.Tensor:
    """The bundled 64×64 reference image (a crop of examples/ink.jpg), ``(1, 3, 64, 64)``."""
    from ..io import load_image

    with resources.as_file(resources.files("untrained") / "data" / "reference.png") as path:
        return load_image(path)


def cache_dir() -> Path:
    """Where greedy choices are cached: ``$UNTRAINED_CACHE`` or ``~/.cache/untrained``."""
    root = os.environ.get("UNTRAINED_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "untrained")
    return Path(root) / "greedy"


def reconstruction_error(spec: NetSpec, layer: str, reference: torch.Tensor, iterations: int, seed: int) -> float:
    """Relative squared error ‖φ(x) − φ(r)‖² / ‖φ(r)‖² after *iterations* L-BFGS evaluations
    reconstructing *reference* from white noise through *layer* of *spec* (He et al. §3)."""
    net = build(spec, derive_seed(seed, "net"))
    with torch.no_grad():
        target = net(reference, [layer])[layer]
    norm = float(target.pow(2).sum()) or 1.0
    x = torch.rand(reference.shape, generator=torch.Generator().manual_seed(derive_seed(seed, "greedy-noise"))).requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=iterations, history_size=50)
    best = [float("inf")]

    def closure():
        opt.zero_grad()
        loss = (net(x, [layer])[layer] - target).pow(2).sum() / norm
        loss.backward()
        x.grad.nan_to_num_(0.0, 0.0, 0.0)
        best[0] = min(best[0], float(loss.detach()))
        return loss

    opt.step(closure)
    return best[0]


def greedy_select(
    spec: NetSpec,
    candidates: int,
    seed: int = 0,
    reference: torch.Tensor | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    use_cache: bool = True,
) -> NetSpec:
    """*spec* with every conv layer's seed chosen as the best of *candidates* (He et al. 2016 §3).

    Returns a spec whose conv layers all carry explicit seeds.  Results are cached on disk.
    """
    if candidates < 1:
        raise UserError(f"--greedy must be ≥ 1 candidates, got {candidates}")
    reference = reference_image() if reference is None else reference
    key = hashlib.sha256(
        (to_json(spec) + f"|{candidates}|{seed}|{iterations}|").encode() + reference.numpy().tobytes()
    ).hexdigest()[:24]
    path = cache_dir() / f"{key}.json"
    chosen: dict[str, int] = {}
    if use_cache and path.is_file():
        try:
            chosen = {k: int(v) for k, v in json.loads(path.read_text())["seeds"].items()}
        except (ValueError, KeyError, TypeError):
            chosen = {}
    layers = list(spec.layers)
    convs = [i for i, l in enumerate(layers) if l.op == "conv"]
    if not all(layers[i].name in chosen for i in convs):
        chosen = {}
        for i in convs:
            name = layers[i].name
            tap = name if spec.pyramid == "none" else f"{name}@1"
            scores = []
            for c in range(candidates):
                s = derive_seed(seed, f"greedy:{name}:{c}")
                trial = spec.replace(layers=tuple(layers[:i] + [dataclasses.replace(layers[i], seed=s)] + layers[i + 1:]))
                scores.append((reconstruction_error(trial, tap, reference, iterations, seed), s))
            chosen[name] = min(scores)[1]
            layers[i] = dataclasses.replace(layers[i], seed=chosen[name])
        if use_cache:
            from ..io import atomic_write_json

            try:
                atomic_write_json(path, {"seeds": chosen, "candidates": candidates, "seed": seed, "net": spec.name})
            except OSError:
                pass  # an unwritable cache only costs time
    return spec.replace(layers=tuple(dataclasses.replace(l, seed=chosen[l.name]) if l.op == "conv" else l for l in spec.layers))
