"""What the image-editing tasks share (repair, expand, enhance, remake, mashup; issue #19).

An editing task runs the same coarse-to-fine pixel optimisation as texture synthesis
(:mod:`.loop`), with two hooks: the objective sees ``compose(x)`` rather than the optimised
pixels ``x`` — the known pixels with ``x`` only in a hole (repair, expand), or ``x`` projected
onto the images that downscale to a target (enhance) — and the statistics it matches may come
from part of an image.  The finished image is composed once more at full size, so pixels that
must not change are the input's own, bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch

from ..config import to_dict
from ..errors import UserError
from ..nets import NetSpec
from ..objective import Objective, Term
from ..resources import check_memory
from .common import NetProblem, check_choice, check_net, check_sizes, finite_nonneg, image_digest, parse_loss, tv_term
from ..image import noise
from .loop import Iterate, OptimConfig, Result, Synthesis


@dataclass(frozen=True)
class EditConfig:
    """Settings every editing task shares, as plain data.

    ``net=None`` means texture synthesis's default net for ``loss`` (:data:`.texture.DEFAULT_NETS`:
    VGG-19 at half width for Gram and SWD, champandard for patches); empty ``layers`` the net's
    style layers, empty ``content_layers`` its content layers.  ``content_weight`` weighs
    remake's layout term (and mashup's region guide in patch matching), ``smoothness`` the TV
    term, ``seam_weight`` repair's TV across the hole's boundary.  ``normalize`` is He et al.
    2016 §3's automatic per-term weighting.  ``optim`` defaults to texture synthesis's fast
    schedule (5 L-BFGS steps per scale, the finest capped at 60 evaluations)."""

    net: NetSpec | None = None
    layers: tuple[str, ...] = ()
    content_layers: tuple[str, ...] = ()
    loss: str = "gram"
    style_weight: float = 1.0
    content_weight: float = 1.0
    smoothness: float = 0.0
    seam_weight: float = 0.0
    variety: float = 0.0
    normalize: bool = True
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(scale_evaluations=(60,), channels_last=True))
    seed: int = 0

    def resolved(self, size: tuple[int, int], images: dict[str, tuple[int, int]], losses: Iterable[str],
                 tile: bool = False, scales: int | None = None) -> "EditConfig":
        """Defaults filled in and every setting checked for an output of *size* (H, W) made from
        *images* (name → size); *losses* are the losses the task can use; *scales* overrides the
        optimiser's (enhance: one per doubling)."""
        from .texture import default_net

        base, spectrum = parse_loss(self.loss)
        check_choice(base, tuple(losses), "loss for this command")
        if spectrum:
            raise UserError("the editing commands take no +spectrum term")
        net = self.net or default_net(self.loss)
        if tile:
            net = net.replace(padding="circular")
        layers = tuple(self.layers) or net.style_layers
        if not layers:
            raise UserError(f"net {net.name} has no default style layers: name some with --layers")
        content_layers = tuple(self.content_layers) or net.content_layers or layers[-1:]
        check_net(net, layers, content_layers)
        optim = self.optim if scales is None else dataclasses.replace(self.optim, scales=scales)
        cfg = dataclasses.replace(
            self, net=net, layers=layers, content_layers=content_layers, optim=optim.resolved(),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            content_weight=finite_nonneg(self.content_weight, "content weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"),
            seam_weight=finite_nonneg(self.seam_weight, "seam weight"), variety=finite_nonneg(self.variety, "variety"),
        )
        check_sizes(net, layers, size, cfg.optim.scales, images, patch=base == "patch")
        return cfg


class ComposedObjective(Objective):
    """An :class:`Objective` of ``compose(x)``: gradients reach only the pixels *compose* lets
    through (the hole of a repair), so L-BFGS never moves the others."""

    def __init__(self, net, terms: list[Term], compose: Callable[[torch.Tensor], torch.Tensor] | None):
        super().__init__(net, terms)
        self.compose = compose

    def breakdown(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return super().breakdown(image if self.compose is None else self.compose(image))


#: ``terms(net, size, factor)``: the loss terms of one scale; ``compose(size)``: the composition
#: of that scale (or None); ``initial(size, generator)``: the first scale's starting image.
TermsFn = Callable[..., list[Term]]


class EditProblem(NetProblem):
    """A :class:`.loop.Problem` made of a task's three hooks, with a random net redrawn on restart."""

    def __init__(self, config: EditConfig, terms: TermsFn, compose=None, initial=None, tile: bool = False):
        super().__init__(config.net, config.seed)
        self.config, self.tile = config, tile
        self._terms, self._compose, self._initial = terms, compose, initial

    def composer(self, size: tuple[int, int]):
        return None if self._compose is None else self._compose(tuple(size))

    def view(self, image: torch.Tensor) -> torch.Tensor:
        """What the optimised pixels *image* stand for (the composed image), for live frames."""
        compose = self.composer(tuple(image.shape[-2:]))
        return (image if compose is None else compose(image)).clamp(0, 1)

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        terms = self._terms(self.net, size, factor) + tv_term(self.config.smoothness, self.tile)
        return ComposedObjective(self.net, terms, self.composer(size))

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        return noise(size, generator) if self._initial is None else self._initial(size, generator)


@dataclass
class Edit:
    """A ready-to-run editing task: the synthesis, the resolved config (plain data) and
    ``finish``, which turns the optimised pixels into the output (the exact composition)."""

    synthesis: Synthesis
    config: dict
    finish: Callable[[torch.Tensor], torch.Tensor]

    def run(self) -> Result:
        s = self.synthesis
        return Result(self.finish(s.run()), s.history, self.config, s.stats())


def make_edit(task: str, problem: EditProblem, size: tuple[int, int], finish, inputs: dict[str, torch.Tensor],
              callback: Callable[[Iterate], None] | None = None, **settings) -> Edit:
    """Check memory, build the :class:`Synthesis` and record the config: ``task``, the resolved
    :class:`EditConfig`, the task's own *settings* and the inputs' digests."""
    cfg = problem.config
    check_memory(cfg.net, cfg.layers, size, cfg.optim.lbfgs_history)
    synthesis = Synthesis(problem, cfg.optim, size, cfg.seed, cfg.normalize, callback)
    digests = {k: ([image_digest(i) for i in v] if isinstance(v, (list, tuple)) else image_digest(v))
               for k, v in inputs.items() if v is not None}
    config = {"task": task, **to_dict(cfg), **to_dict(settings), "size": list(size), "inputs": digests}
    return Edit(synthesis, config, finish)
