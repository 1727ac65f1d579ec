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
from ..nets import NetSpec
from ..objective import Objective
from ..resources import check_memory
from .common import (NetProblem, blend_weights, check_choice, resolve_size, check_image, check_net, check_sizes, finite_nonneg,
                     image_digest, parse_loss, scaled, spectrum_term, style_terms, tv_term)
from ..image import noise
from .loop import Iterate, OptimConfig, Result, Synthesis, scale_sizes

#: The net ``untrained texture`` uses unless told otherwise, by loss, as network options.  Gram
#: and SWD use VGG-19 at half width: in benchmarks/bench_texture.py it scored better than the
#: VGG-19 Gatys baseline on ink, water and smoke (0.072/0.082/0.094 vs 0.088/0.093/0.443); with
#: the default caps and refine layers the whole default texture takes 43–45× less time than
#: that baseline (README, Speed); full width scores better still (0.060/0.080/0.083)
#: (``--quality high``).
DEFAULT_NETS = {"gram": {"net": "vgg19", "width": 0.5}, "swd": {"net": "vgg19", "width": 0.5},
                "patch": {"net": "champandard"}}


def default_net(loss: str) -> NetSpec:
    """The default net of texture loss *loss* (``gram``, ``swd``, ``patch``, with ``+spectrum``)."""
    from ..nets.modify import NetOptions

    return NetOptions(**DEFAULT_NETS[parse_loss(loss)[0]]).apply()
INITS = ("noise", "mean")
#: Evaluation caps of the finest scales (``OptimConfig.scale_evaluations``) by default, for
#: outputs up to :data:`LARGE_OUTPUT` pixels and above it (where an evaluation costs ≥ 4× the
#: 256² one and the 512² scale has already laid out the texture).  Measured on ink at 1024²
#: (README, Speed): (60,) 100 s, score 0.058; (60, 40) 65 s, 0.065; (60, 30) 60 s, 0.074 — the
#: 256² default scores 0.076 and the VGG-19 baseline 0.088.
FAST_EVALUATIONS = (60,)
LARGE_EVALUATIONS = (60, 30)
LARGE_OUTPUT = 512 * 512


def fast_evaluations(size: tuple[int, int]) -> tuple[int, ...]:
    """The default evaluation caps of the finest scales for an output of *size* (H, W)."""
    return LARGE_EVALUATIONS if size[0] * size[1] > LARGE_OUTPUT else FAST_EVALUATIONS


@dataclass(frozen=True)
class TextureConfig:
    """Everything that determines a texture synthesis, as plain data.

    ``size`` is (height, width); ``None`` means the exemplar's size.  ``net=None`` means the
    default net of the loss (VGG-19 at half width for Gram and SWD, champandard for patches,
    see :data:`DEFAULT_NETS`); empty ``layers`` the net's
    default style layers.  ``normalize`` turns on He et al.'s automatic per-layer weights.
    ``loss`` is ``gram``, ``patch`` or ``swd``, optionally ``+spectrum`` (Liu et al. 2016's
    Fourier term, weighted by ``spectrum_weight``).  ``variety`` applies to the patch loss
    (neural-doodle's ``--variety``).  ``tile`` makes the output tileable (circular padding in
    every convolution, wrapping TV, patches and rescaling).  ``blend`` weighs several exemplars.

    ``refine_layers`` are the layers matched at every scale after the coarsest: the coarsest
    scale lays out the large structure with all ``layers``; the finer ones refine detail, and
    their deepest layers cost the most while changing little (measured in
    benchmarks/bench_texture.py).  ``None`` means: for the Gram and SWD losses with the net's
    default layers, all but the deepest; otherwise (and when empty) the same as ``layers``.  The default
    optimisation caps the finest scales' evaluations by output size (:func:`fast_evaluations`;
    ``optim.scale_evaluations=None``); ``()`` means no cap.
    """

    size: tuple[int, int] | None = None
    net: NetSpec | None = None
    layers: tuple[str, ...] = ()
    refine_layers: tuple[str, ...] | None = None
    loss: str = "gram"
    style_weight: float = 1.0
    smoothness: float = 0.0
    variety: float = 0.0
    spectrum_weight: float = 1.0
    tile: bool = False
    blend: tuple[float, ...] = ()
    normalize: bool = True
    init: str = "noise"
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(scale_evaluations=None, channels_last=True))
    seed: int = 0

    def resolved(self, exemplar_size: tuple[int, int], exemplars: int = 1) -> "TextureConfig":
        """Fill defaults from the exemplar and the net and check every setting; a
        :class:`UserError` names the first impossible one."""
        base, _ = parse_loss(self.loss)
        net = self.net or default_net(self.loss)
        if self.tile:
            net = net.replace(padding="circular")
        size = resolve_size(self.size, exemplar_size)
        layers = tuple(self.layers) or net.style_layers
        if not layers:
            raise UserError(f"net {net.name} has no default style layers: name some with --layers")
        check_net(net, layers)
        refine = self.refine_layers
        if refine is None:
            automatic = not self.layers and base != "patch" and len(layers) > 1
            refine = layers[:-1] if automatic else layers
        refine = tuple(refine) or layers
        check_net(net, refine)
        check_choice(self.init, INITS, "init")
        blend = blend_weights(tuple(self.blend), exemplars, loss=self.loss)  # before the sizes: clearer errors first
        optim = self.optim
        if optim.scale_evaluations is None:
            optim = dataclasses.replace(optim, scale_evaluations=fast_evaluations(size))
        cfg = dataclasses.replace(
            self, net=net, size=size, layers=layers, refine_layers=refine, optim=optim.resolved(),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"),
            variety=finite_nonneg(self.variety, "variety"),
            spectrum_weight=finite_nonneg(self.spectrum_weight, "spectrum weight"),
            blend=blend,
        )
        check_sizes(net, layers, cfg.size, cfg.optim.scales, {"exemplar": exemplar_size}, patch=base == "patch")
        return cfg


class TextureProblem(NetProblem):
    """Style targets of the exemplar(s) at every scale, plus optional spectrum and TV terms."""

    def __init__(self, exemplar, config: TextureConfig):
        super().__init__(config.net, config.seed)
        self.exemplars = [exemplar] if torch.is_tensor(exemplar) else list(exemplar)
        self.exemplar, self.config, self.tile = self.exemplars[0], config, config.tile
        self.coarsest = scale_sizes(config.size, config.optim.scales)[0]

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        base, spectrum = parse_loss(c.loss)
        exemplars = [scaled(e, factor) for e in self.exemplars]
        layers = c.layers if tuple(size) == self.coarsest else c.refine_layers
        with torch.no_grad():
            feats = [self.net(e, layers) for e in exemplars]
        terms = style_terms(feats, base, c.style_weight, c.variety, blend=c.blend, circular=c.tile)
        if spectrum:
            terms += spectrum_term(exemplars, size, c.spectrum_weight, c.blend)
        return Objective(self.net, terms + tv_term(c.smoothness, c.tile))

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        if self.config.init == "mean":
            mean = sum(w * e.mean(dim=(2, 3), keepdim=True) for e, w in zip(self.exemplars, self.config.blend))
            return mean + 0.1 * torch.randn((1, 3, *size), generator=generator)
        return noise(size, generator)


def texture_synthesis(
    exemplar,
    config: TextureConfig | None = None,
    callback: Callable[[Iterate], None] | None = None,
) -> tuple[Synthesis, dict]:
    """A ready-to-run :class:`Synthesis` for *exemplar* (one image, or a list whose statistics
    are blended) and the resolved config as a dict.

    Use this instead of :func:`texture` to keep hold of the synthesis (resume it, or save its
    best image when interrupted).
    """
    exemplars = [check_image(e, "exemplar") for e in ([exemplar] if torch.is_tensor(exemplar) else exemplar)]
    if not exemplars:
        raise UserError("give at least one exemplar")
    smallest = min((tuple(e.shape[-2:]) for e in exemplars), key=min)
    cfg = (config or TextureConfig()).resolved(tuple(exemplars[0].shape[-2:]), len(exemplars))
    if len(exemplars) > 1:
        cfg.resolved(smallest, len(exemplars))  # every exemplar must survive the coarsest scale
    check_memory(cfg.net, cfg.layers, cfg.size, cfg.optim.lbfgs_history,
                 tuple(exemplars[0].shape[-2:]) if cfg.loss.startswith("patch") else None)
    synthesis = Synthesis(TextureProblem(exemplars, cfg), cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    digests = [image_digest(e) for e in exemplars]
    inputs = {"exemplar": digests[0]} if len(digests) == 1 else {"exemplars": digests}
    return synthesis, {"task": "texture", **to_dict(cfg), "inputs": inputs}


def texture(
    exemplar,
    config: TextureConfig | None = None,
    *,
    callback: Callable[[Iterate], None] | None = None,
    **changes,
) -> Result:
    """Synthesise a texture that matches *exemplar*'s statistics in a random network.

    *exemplar* is a ``(1, 3, H, W)`` tensor in [0, 1] (see :func:`untrained.load_image`), or a
    list of them mixed by ``blend``.
    Settings come from *config* and/or keyword *changes* to it (``size=(256, 256)``, ``seed=7``,
    ``loss="patch"``, ``optim=OptimConfig(...)``).  Returns a :class:`Result` with the image, the
    loss history, the resolved config and run statistics.  He et al. 2016 §3; Du 2020 §3;
    Champandard 2016 for ``loss="patch"``.
    """
    cfg = dataclasses.replace(config or TextureConfig(), **changes)
    synthesis, resolved = texture_synthesis(exemplar, cfg, callback)
    image = synthesis.run()
    return Result(image, synthesis.history, resolved, synthesis.stats())
