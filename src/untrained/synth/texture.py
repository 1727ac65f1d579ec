"""Texture synthesis from an exemplar with Gram matrices of a random network
(Gatys et al. 2015 with random weights: He et al. 2016 §3 "texture synthesis"; Du 2020 §3).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import derive_seed, to_dict
from ..errors import UserError
from ..losses import GramLoss, TVLoss
from ..nets import NetSpec, build, min_input_size, preset
from ..nets.init import validate as validate_init
from ..objective import Objective, Term
from .loop import Iterate, OptimConfig, Result, Synthesis, noise, resize, scale_sizes

#: The preset ``untrained texture`` uses unless told otherwise.
DEFAULT_NET = "vgg19"


def _finite_nonneg(value: float, what: str) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise UserError(f"{what} must be a finite number ≥ 0, got {value}")
    return float(value)


@dataclass(frozen=True)
class TextureConfig:
    """Everything that determines a texture synthesis, as plain data.

    ``size`` is (height, width); ``None`` means the exemplar's size.  Empty ``layers`` means the
    net's default style layers.  ``normalize`` turns on He et al.'s automatic per-layer weights.
    """

    size: tuple[int, int] | None = None
    net: NetSpec = field(default_factory=lambda: preset(DEFAULT_NET))
    layers: tuple[str, ...] = ()
    style_weight: float = 1.0
    smoothness: float = 0.0
    normalize: bool = True
    init: str = "noise"
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0

    def resolved(self, exemplar_size: tuple[int, int]) -> "TextureConfig":
        """Fill defaults from the exemplar and the net and check every setting; a
        :class:`UserError` names the first impossible one."""
        size = tuple(self.size) if self.size is not None else tuple(exemplar_size)
        if len(size) != 2 or min(size) < 1:
            raise UserError(f"size must be two positive numbers, got {self.size}")
        layers = tuple(self.layers) or self.net.style_layers
        if not layers:
            raise UserError(f"net {self.net.name} has no default style layers: name some with --layers")
        for name in layers:
            self.net.index(name)
        validate_init(self.net.weights, self.net.bias)
        if self.init not in INITS:
            raise UserError(f"unknown init {self.init!r}; choose from {', '.join(INITS)}")
        optim = self.optim.resolved()
        cfg = dataclasses.replace(
            self, size=(int(size[0]), int(size[1])), layers=layers, optim=optim,
            style_weight=_finite_nonneg(self.style_weight, "style weight"),
            smoothness=_finite_nonneg(self.smoothness, "smoothness"),
        )
        cfg._check_sizes(exemplar_size)
        return cfg

    def _check_sizes(self, exemplar_size: tuple[int, int]) -> None:
        deepest = max(self.layers, key=self.net.index)
        need = min_input_size(self.net, deepest)
        sizes = scale_sizes(self.size, self.optim.scales)
        coarse = sizes[0]
        if min(coarse) < need:
            raise UserError(
                f"the coarsest of {self.optim.scales} scales is {coarse[1]}×{coarse[0]} px, smaller than the "
                f"{need} px layer {deepest} needs: use fewer scales, a larger size or shallower layers"
            )
        factor = coarse[0] / self.size[0]
        ex = (round(exemplar_size[0] * factor), round(exemplar_size[1] * factor))
        if min(ex) < need:
            raise UserError(
                f"the exemplar ({exemplar_size[1]}×{exemplar_size[0]} px) shrinks to {ex[1]}×{ex[0]} px at the "
                f"coarsest scale, smaller than the {need} px layer {deepest} needs: use fewer scales or a larger exemplar"
            )


def _init_noise(problem: "TextureProblem", size, gen):
    return noise(size, gen)


def _init_mean(problem: "TextureProblem", size, gen):
    mean = problem.exemplar.mean(dim=(2, 3), keepdim=True)
    return (mean + 0.1 * torch.randn((1, 3, *size), generator=gen)).clamp(0, 1)


#: Starting images: white noise (He et al.) or the exemplar's mean colour plus a little noise.
INITS: dict[str, Callable] = {"noise": _init_noise, "mean": _init_mean}


class TextureProblem:
    """Gram-matrix targets of an exemplar at every scale, plus optional total variation."""

    def __init__(self, exemplar: torch.Tensor, config: TextureConfig):
        self.exemplar = exemplar
        self.config = config
        self.net = build(config.net, derive_seed(config.seed, "net"))

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        ex_size = (max(1, round(self.exemplar.shape[-2] * factor)), max(1, round(self.exemplar.shape[-1] * factor)))
        exemplar = resize(self.exemplar, ex_size)
        with torch.no_grad():
            feats = self.net(exemplar, self.config.layers)
        terms = [Term(f"gram:{name}", name, GramLoss(feats[name]), self.config.style_weight) for name in self.config.layers]
        if self.config.smoothness > 0:
            terms.append(Term("tv", None, TVLoss(), self.config.smoothness))
        return Objective(self.net, terms)

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        return INITS[self.config.init](self, size, generator)


def image_digest(image: torch.Tensor) -> str:
    """Short SHA-256 of an image tensor's 8-bit pixels, recorded as the input's identity."""
    arr = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).contiguous().numpy()
    return hashlib.sha256(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:16]


def texture_synthesis(
    exemplar: torch.Tensor,
    config: TextureConfig | None = None,
    callback: Callable[[Iterate], None] | None = None,
) -> tuple[Synthesis, dict]:
    """A ready-to-run :class:`Synthesis` for *exemplar* and the resolved config as a dict.

    Use this instead of :func:`texture` to keep hold of the synthesis (resume it, or save its
    best image when interrupted).
    """
    if exemplar.dim() == 3:
        exemplar = exemplar.unsqueeze(0)
    if exemplar.dim() != 4 or exemplar.shape[:2] != (1, 3):
        raise UserError(f"exemplar must be one RGB image (1, 3, H, W), got {tuple(exemplar.shape)}")
    cfg = (config or TextureConfig()).resolved(tuple(exemplar.shape[-2:]))
    problem = TextureProblem(exemplar.float(), cfg)
    synthesis = Synthesis(problem, cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    resolved = {"task": "texture", **to_dict(cfg), "inputs": {"exemplar": image_digest(exemplar)}}
    return synthesis, resolved


def texture(
    exemplar: torch.Tensor,
    config: TextureConfig | None = None,
    *,
    callback: Callable[[Iterate], None] | None = None,
    **changes,
) -> Result:
    """Synthesise a texture that matches *exemplar*'s Gram statistics in a random network.

    *exemplar* is a ``(1, 3, H, W)`` tensor in [0, 1] (see :func:`untrained.load_image`).
    Settings come from *config* and/or keyword *changes* to it (``size=(256, 256)``, ``seed=7``,
    ``optim=OptimConfig(...)``).  Returns a :class:`Result` with the image, the loss history, the
    resolved config and run statistics.  He et al. 2016 §3; Du 2020 §3.
    """
    cfg = dataclasses.replace(config or TextureConfig(), **changes)
    synthesis, resolved = texture_synthesis(exemplar, cfg, callback)
    image = synthesis.run()
    return Result(image, synthesis.history, resolved, synthesis.stats())
