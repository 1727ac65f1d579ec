"""Weight and bias initialisers, by name (Du 2020 §5; He et al. 2016 §3).

A choice is a string ``"name:arg:arg"``: ``"uniform:0.1"``, ``"gaussian:0.015"``,
``"binary:0.1"``, ``"ternary:0.1:0.5"``, ``"levels:0.1:5"``; biases also accept a bare number
(``"0.5"``) and ``"zero"``.  Every draw goes through the explicit ``torch.Generator`` it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """Check that *weights* and *bias* name real initialisers with valid arguments."""
    gen = torch.Generator().manual_seed(0)
    ctx = InitContext("check", 0)
    draw("weights", weights, (1, 1, 1, 1), gen, ctx)
    draw("bias", bias, (1,), gen, ctx)


#: Named (weights, bias) schemes of the papers, for ``--init-scheme``-like shortcuts.
SCHEMES = {
    "du": ("uniform:0.1", "0.5"),
    "he": ("gaussian:0.015", "zero"),
}
