"""Weight and bias initialisers, by name (Du 2020 §5; He et al. 2016 §3).

A choice is a string ``"name:arg:arg"``: ``"uniform:0.1"``, ``"gaussian:0.015"``,
``"binary:0.1"``, ``"ternary:0.1:0.5"``, ``"levels:0.1:5"``; biases also accept a bare number
(``"0.5"``) and ``"zero"``.  Every draw goes through the explicit ``torch.Generator`` it is given.

Trained parameters are bring-your-own: ``trained:FILE``, ``shuffled:FILE`` and
``binarized:FILE[:A]`` read a torchvision-format VGG-19 state dict (``features.N.weight`` /
``features.N.bias``) with ``torch.load(..., weights_only=True)``; nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..errors import UserError
from ..registry import Registry, parse_choice, parse_float


@dataclass(frozen=True)
class InitContext:
    """Where a parameter sits: the conv layer's name and its index among the net's convs."""

    layer: str
    index: int


Initialiser = Callable[[tuple[int, ...], torch.Generator, list[str], InitContext], torch.Tensor]

WEIGHTS: Registry[Initialiser] = Registry("weight initialiser")
BIASES: Registry[Initialiser] = Registry("bias initialiser")


def _arg(args: list[str], i: int, default: float, what: str) -> float:
    return parse_float(args[i], what) if len(args) > i and args[i] != "" else default


def _magnitude(args: list[str], default: float, what: str) -> float:
    a = _arg(args, 0, default, what)
    if a < 0:
        raise UserError(f"{what}: the magnitude must be ≥ 0, got {a}")
    return a


def _signs(shape, gen) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=gen).float().mul_(2).sub_(1)


@WEIGHTS.register("gaussian", "N(0, σ²) — He et al. 2016 (σ small); Du 2020 Fig. 4")
@BIASES.register("gaussian", "N(0, σ²) biases")
def gaussian(shape, gen, args, ctx):
    """Gaussian weights ``gaussian:SIGMA`` (default σ = 0.015)."""
    sigma = _magnitude(args, 0.015, "gaussian:SIGMA")
    return torch.randn(shape, generator=gen) * sigma


@WEIGHTS.register("uniform", "U(−A, A) — Du 2020 §5.2's best continuous choice at A = 0.1")
@BIASES.register("uniform", "U(−A, A) biases")
def uniform(shape, gen, args, ctx):
    """Uniform weights ``uniform:A`` (default A = 0.1)."""
    a = _magnitude(args, 0.1, "uniform:A")
    return (torch.rand(shape, generator=gen) * 2 - 1) * a


@WEIGHTS.register("binary", "±A with equal probability — Du 2020 §5.3")
def binary(shape, gen, args, ctx):
    """Binary weights ``binary:A``: each exactly +A or −A (default A = 0.1)."""
    return _signs(shape, gen) * _magnitude(args, 0.1, "binary:A")


@WEIGHTS.register("ternary", "0 with probability P_ZERO, else ±A — Du 2020 §5.3")
def ternary(shape, gen, args, ctx):
    """Ternary weights ``ternary:A[:P_ZERO]`` (defaults A = 0.1, P_ZERO = 1/3)."""
    a = _magnitude(args, 0.1, "ternary:A")
    p = _arg(args, 1, 1.0 / 3.0, "ternary:A:P_ZERO")
    if not 0 <= p <= 1:
        raise UserError(f"ternary:A:P_ZERO: P_ZERO must be in [0, 1], got {p}")
    keep = (torch.rand(shape, generator=gen) >= p).float()
    return _signs(shape, gen) * keep * a


@WEIGHTS.register("levels", "N evenly spaced symmetric levels in [−A, A] — Du 2020 §5.3's finer quantisation")
def levels(shape, gen, args, ctx):
    """``levels:A:N``: each weight one of N values ``linspace(−A, A, N)``, equally likely."""
    a = _magnitude(args, 0.1, "levels:A")
    n = _arg(args, 1, 4, "levels:A:N")
    if n < 2 or n != int(n):
        raise UserError(f"levels:A:N: N must be an integer ≥ 2, got {n}")
    values = torch.linspace(-a, a, int(n))
    return values[torch.randint(0, int(n), shape, generator=gen)]


@BIASES.register("zero", "all biases 0 (Du 2020 Fig. 3d)")
def zero(shape, gen, args, ctx):
    """All-zero biases."""
    return torch.zeros(shape)


@BIASES.register("constant", "every bias VALUE; a bare number means this (Du 2020 §5.1: 0.5)")
def constant(shape, gen, args, ctx):
    """``constant:VALUE`` — the same bias everywhere."""
    return torch.full(shape, _arg(args, 0, 0.5, "bias VALUE"))


# --- Du 2020 §6.2: designed 2×2 first-layer kernels -------------------------------------------

def basic_filters(set_id: int, a: float) -> list[torch.Tensor]:
    """Du 2020 §6.2's basic single-channel 2×2 filter sets 1, 2, 3 with magnitude *a*."""
    lines = [[[-a, -a], [a, a]], [[a, a], [-a, -a]], [[a, -a], [a, -a]], [[-a, a], [-a, a]]]
    flats = [[[a, a], [a, a]], [[-a, -a], [-a, -a]]]
    diagonals = [[[0.0, -a], [a, 0.0]], [[0.0, a], [-a, 0.0]]]
    sets = {1: lines, 2: lines + flats, 3: lines + flats + diagonals}
    if set_id not in sets:
        raise UserError(f"--kernels: basic set must be 1, 2 or 3, got {set_id}")
    return [torch.tensor(f) for f in sets[set_id]]


#: RGB channel subsets per expansion strategy, as tuples of enabled channels.
_SUBSETS = [tuple(c for c in range(3) if mask >> c & 1) for mask in range(8)]


def expand_rgb(f: torch.Tensor, strategy: int) -> list[torch.Tensor]:
    """Expand one 2×2 filter to RGB (3×2×2) filters by Du 2020 §6.2's strategy 1–4.

    1. one filter per channel, zeros in the others (3);
    2. one per non-empty subset of channels: the filter on the subset, zeros elsewhere (7);
    3. one per subset (empty included): the filter on the subset, its negation elsewhere (8);
    4. as 2, keeping the degenerate all-zero filter of the empty subset (8).
    """
    zero = torch.zeros_like(f)
    if strategy == 1:
        return [torch.stack([f if c == k else zero for c in range(3)]) for k in range(3)]
    if strategy in (2, 4):
        subsets = _SUBSETS[1:] if strategy == 2 else _SUBSETS
        return [torch.stack([f if c in s else zero for c in range(3)]) for s in subsets]
    if strategy == 3:
        return [torch.stack([f if c in s else -f for c in range(3)]) for s in _SUBSETS]
    raise UserError(f"--kernels: strategy must be 1, 2, 3 or 4, got {strategy}")


def designed_kernels(set_id: int, strategy: int, a: float = 0.1) -> torch.Tensor:
    """All designed filters of basic set *set_id* expanded by *strategy*: ``(N, 3, 2, 2)``."""
    return torch.stack([k for f in basic_filters(set_id, a) for k in expand_rgb(f, strategy)])


def _set_strategy(set_id, strategy, what: str) -> tuple[int, int]:
    try:
        return int(set_id), int(strategy)
    except ValueError:
        raise UserError(f"{what}: SET and STRATEGY must be integers, got {set_id}:{strategy}") from None


def designed_count(set_id, strategy) -> int:
    """Number of filters ``SET:STRATEGY`` gives (e.g. 1:4 → 32, 2:1 → 18, 3:3 → 64, as Du Fig. 7)."""
    s, t = _set_strategy(set_id, strategy, "--kernels")
    return len(basic_filters(s, 1.0)) * len(expand_rgb(torch.ones(2, 2), t))


@WEIGHTS.register("designed", "designed:SET:STRATEGY[:A] — Du 2020 §6.2's hand-made 2×2 kernels (first layer)")
def designed(shape, gen, args, ctx):
    """Du 2020 §6.2's designed kernels; the layer must be 2×2 with 3 inputs and the right count."""
    if len(args) < 2:
        raise UserError("designed:SET:STRATEGY[:A]: give the basic set and the strategy")
    s, t = _set_strategy(args[0], args[1], "designed:SET:STRATEGY[:A]")
    w = designed_kernels(s, t, _arg(args, 2, 0.1, "designed:SET:STRATEGY:A"))
    if tuple(w.shape) != tuple(shape):
        raise UserError(f"layer {ctx.layer}: designed kernels {tuple(w.shape)} do not fit its shape {tuple(shape)}")
    return w


# --- bring-your-own trained parameters ---------------------------------------------------------

@functools.lru_cache(maxsize=4)
def load_trained(path: str) -> tuple[tuple[torch.Tensor, torch.Tensor | None], ...]:
    """(weight, bias) of every conv layer, in order, from a state-dict file.

    Accepts a torchvision VGG state dict (``features.N.weight``), optionally wrapped in
    ``{"state_dict": ...}``; any 4-D ``*.weight`` tensors are taken in the order of their keys'
    numbers.  Loaded with ``weights_only=True``; a malformed file is a :class:`UserError`.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"weights file {path}: no such file")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is the file's fault
        raise UserError(f"weights file {path}: cannot be loaded safely ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError(f"weights file {path}: expected a state dict, got {type(state).__name__}")

    def order(key: str):
        return [(0, int(n), "") if n.isdigit() else (1, 0, n) for n in re.split(r"(\d+)", key)]

    keys = sorted((k for k, v in state.items() if k.endswith("weight") and torch.is_tensor(v) and v.dim() == 4), key=order)
    if not keys:
        raise UserError(f"weights file {path}: no convolution weights (4-D '*.weight' tensors) found")
    out = []
    for k in keys:
        bias = state.get(k[: -len("weight")] + "bias")
        out.append((state[k].float(), bias.float() if torch.is_tensor(bias) else None))
    return tuple(out)


def _trained(args: list[str], ctx: InitContext, shape, which: int) -> torch.Tensor:
    if not args or not args[0]:
        raise UserError("trained parameters need a file: trained:FILE")
    params = load_trained(args[0])
    if ctx.index >= len(params):
        raise UserError(f"weights file {args[0]} has {len(params)} conv layers; layer {ctx.layer} is conv #{ctx.index + 1}")
    t = params[ctx.index][which]
    if t is None:
        raise UserError(f"weights file {args[0]}: conv #{ctx.index + 1} has no bias")
    if tuple(t.shape) != tuple(shape):
        raise UserError(f"weights file {args[0]}: conv #{ctx.index + 1} is {tuple(t.shape)}, layer {ctx.layer} needs {tuple(shape)}")
    return t.clone()


@WEIGHTS.register("trained", "trained:FILE — a torchvision VGG-19 state dict you bring")
def trained_weights(shape, gen, args, ctx):
    """The file's weights for this conv layer, unchanged."""
    return _trained(args, ctx, shape, 0)


@BIASES.register("trained", "trained:FILE — the file's biases")
def trained_bias(shape, gen, args, ctx):
    """The file's biases for this conv layer."""
    return _trained(args, ctx, shape, 1)


def _shuffle(t: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    flat = t.flatten()
    return flat[torch.randperm(flat.numel(), generator=gen)].reshape(t.shape)


@WEIGHTS.register("shuffled", "shuffled:FILE — each layer's trained weights randomly permuted (Du 2020 Fig. 4)")
def shuffled_weights(shape, gen, args, ctx):
    """A random permutation, within the layer, of the file's weights: their distribution, no structure."""
    return _shuffle(_trained(args, ctx, shape, 0), gen)


@BIASES.register("shuffled", "shuffled:FILE — each layer's trained biases permuted (Du 2020 Fig. 3f)")
def shuffled_bias(shape, gen, args, ctx):
    """A random permutation of the file's biases within the layer."""
    return _shuffle(_trained(args, ctx, shape, 1), gen)


@WEIGHTS.register("binarized", "binarized:FILE[:A] — trained weights → ±A by the layer mean (Du 2020 §5.3)")
def binarized_weights(shape, gen, args, ctx):
    """+A where a trained weight is above its layer's mean, −A elsewhere; A defaults to the
    layer's mean absolute weight."""
    w = _trained(args, ctx, shape, 0)
    a = _arg(args, 1, float(w.abs().mean()), "binarized:FILE:A")
    return torch.where(w > w.mean(), torch.full_like(w, a), torch.full_like(w, -a))


FILE_INITS = {"trained", "shuffled", "binarized"}


def draw(kind: str, spec: str, shape: tuple[int, ...], gen: torch.Generator, ctx: InitContext) -> torch.Tensor:
    """Draw a parameter of *shape* from initialiser *spec* (``kind`` is ``"weights"`` or ``"bias"``)."""
    registry = WEIGHTS if kind == "weights" else BIASES
    name, args = parse_choice(spec)
    if kind == "bias" and name not in registry:
        try:
            float(spec)
        except ValueError:
            pass
        else:
            name, args = "constant", [spec.strip()]
    return registry.get(name)(shape, gen, args, ctx).float()


def validate(weights: str, bias: str) -> None:
    """Check that *weights* and *bias* name real initialisers with valid arguments (files are
    checked by loading them; their shapes when the net is built)."""
    gen = torch.Generator().manual_seed(0)
    ctx = InitContext("check", 0)
    for kind, spec, shape in (("weights", weights, (1, 1, 1, 1)), ("bias", bias, (1,))):
        name, args = parse_choice(spec)
        if name in FILE_INITS:
            load_trained(args[0] if args else "")
        elif name == "designed":  # its shape is checked when the net is built
            if len(args) < 2:
                raise UserError("designed:SET:STRATEGY[:A]: give the basic set and the strategy")
            _set_strategy(args[0], args[1], "designed:SET:STRATEGY[:A]")
            _arg(args, 2, 0.1, "designed:SET:STRATEGY:A")
        else:
            draw(kind, spec, shape, gen, ctx)

