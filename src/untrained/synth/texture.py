"""Texture synthesis from an exemplar with a random network: Gram matrices (Gatys et al. 2015
with random weights: He et al. 2016 §3 "texture synthesis"; Du 2020 §3) or neural patches
(Champandard 2016).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import to_dict
from ..errors import UserError
from ..nets import NetSpec, preset
from ..objective import Objective
from ..resources import check_memory
from .common import (STYLE_LOSSES, NetProblem, check_image, check_net, check_sizes, finite_nonneg,
                     image_digest, scaled, style_terms, tv_term)
from .loop import Iterate, OptimConfig, Result, Synthesis, noise

#: The preset ``untrained texture`` uses unless told otherwise, by loss.
DEFAULT_NETS = {"gram": "vgg19", "patch": "champandard"}
DEFAULT_NET = DEFAULT_NETS["gram"]
INITS = ("noise", "mean")


@dataclass(frozen=True)
class TextureConfig:
    """Everything that determines a texture synthesis, as plain data.

    ``size`` is (height, width); ``None`` means the exemplar's size.  ``net=None`` means the
    default net of the loss (vgg19 for Gram, champandard for patches); empty ``layers`` the net's
    default style layers.  ``normalize`` turns on He et al.'s automatic per-layer weights.
    ``variety`` applies to the patch loss (neural-doodle's ``--variety``).
    """

    size: tuple[int, int] | None = None
    net: NetSpec | None = None
    layers: tuple[str, ...] = ()
    loss: str = "gram"
    style_weight: float = 1.0
    smoothness: float = 0.0
    variety: float = 0.0
    normalize: bool = True
    init: str = "noise"
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0

    def resolved(self, exemplar_size: tuple[int, int]) -> "TextureConfig":
        """Fill defaults from the exemplar and the net and check every setting; a
        :class:`UserError` names the first impossible one."""
        if self.loss not in STYLE_LOSSES:
            raise UserError(f"unknown loss {self.loss!r}; choose from {', '.join(STYLE_LOSSES)}")
        net = self.net or preset(DEFAULT_NETS[self.loss])
        size = tuple(self.size) if self.size is not None else tuple(exemplar_size)
        if len(size) != 2 or min(size) < 1:
            raise UserError(f"size must be two positive numbers, got {self.size}")
        layers = tuple(self.layers) or net.style_layers
        if not layers:
            raise UserError(f"net {net.name} has no default style layers: name some with --layers")
        check_net(net, layers)
        if self.init not in INITS:
            raise UserError(f"unknown init {self.init!r}; choose from {', '.join(INITS)}")
        cfg = dataclasses.replace(
            self, net=net, size=(int(size[0]), int(size[1])), layers=layers, optim=self.optim.resolved(),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"),
            variety=finite_nonneg(self.variety, "variety"),
        )
        check_sizes(net, layers, cfg.size, cfg.optim.scales, {"exemplar": exemplar_size}, patch=self.loss == "patch")
        return cfg


class TextureProblem(NetProblem):
    """Style targets of an exemplar at every scale, plus optional total variation."""

    def __init__(self, exemplar: torch.Tensor, config: TextureConfig):
        super().__init__(config.net, config.seed)
        self.exemplar, self.config = exemplar, config

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        with torch.no_grad():
            feats = self.net(scaled(self.exemplar, factor), c.layers)
        terms = style_terms(feats, c.loss, c.style_weight, c.variety) + tv_term(c.smoothness)
        return Objective(self.net, terms)

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        if self.config.init == "mean":
            mean = self.exemplar.mean(dim=(2, 3), keepdim=True)
            return mean + 0.1 * torch.randn((1, 3, *size), generator=generator)
        return noise(size, generator)


def texture_synthesis(
    exemplar: torch.Tensor,
    config: TextureConfig | None = None,
    callback: Callable[[Iterate], None] | None = None,
) -> tuple[Synthesis, dict]:
    """A ready-to-run :class:`Synthesis` for *exemplar* and the resolved config as a dict.

    Use this instead of :func:`texture` to keep hold of the synthesis (resume it, or save its
    best image when interrupted).
    """
    exemplar = check_image(exemplar, "exemplar")
    cfg = (config or TextureConfig()).resolved(tuple(exemplar.shape[-2:]))
    check_memory(cfg.net, cfg.layers, cfg.size, cfg.optim.lbfgs_history,
                 tuple(exemplar.shape[-2:]) if cfg.loss == "patch" else None)
    synthesis = Synthesis(TextureProblem(exemplar, cfg), cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    resolved = {"task": "texture", **to_dict(cfg), "inputs": {"exemplar": image_digest(exemplar)}}
    return synthesis, resolved


def texture(
    exemplar: torch.Tensor,
    config: TextureConfig | None = None,
    *,
    callback: Callable[[Iterate], None] | None = None,
    **changes,
) -> Result:
    """Synthesise a texture that matches *exemplar*'s statistics in a random network.

    *exemplar* is a ``(1, 3, H, W)`` tensor in [0, 1] (see :func:`untrained.load_image`).
    Settings come from *config* and/or keyword *changes* to it (``size=(256, 256)``, ``seed=7``,
    ``loss="patch"``, ``optim=OptimConfig(...)``).  Returns a :class:`Result` with the image, the
    loss history, the resolved config and run statistics.  He et al. 2016 §3; Du 2020 §3;
    Champandard 2016 for ``loss="patch"``.
    """
    cfg = dataclasses.replace(config or TextureConfig(), **changes)
    synthesis, resolved = texture_synthesis(exemplar, cfg, callback)
    image = synthesis.run()
    return Result(image, synthesis.history, resolved, synthesis.stats())
