"""Enhance: example-based super-resolution with a random net (issue #19; the use Champandard's
2016 post suggests for random networks).

The output is ``zoom`` × TARGET's size and downscales back to TARGET exactly: the optimised
pixels are projected, at every evaluation, onto the images whose box downscale (the mean of
each zoom × zoom block) is TARGET — ``y = x − up(down(x) − TARGET)`` with nearest-neighbour
``up`` — so the loss can only shape the detail *within* each block.  That detail is pulled
towards the Gram (or SWD) statistics of SOURCE, or of TARGET itself at its own scale (the
self-similarity across scales of example-based super-resolution), in the random net of He et
al. 2016 §3.  Scales run one per doubling: 2× then 4×.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from ..errors import UserError
from .common import check_image, scaled, style_terms
from .edit import Edit, EditConfig, EditProblem, make_edit
from ..image import resize
from .loop import Iterate, Result

ZOOMS = (2, 4)
#: Projections and clamps alternated when finishing, so the clamped output still downscales to
#: TARGET wherever TARGET's block means allow it.
FINISH_ROUNDS = 10
#: Bilinear correction rounds before the exact projection (:func:`project_smooth`).
SMOOTH_ROUNDS = 4


def downscale(image: torch.Tensor, zoom: int) -> torch.Tensor:
    """Box downscale by *zoom*: each output pixel is the mean of a zoom × zoom block."""
    return F.avg_pool2d(image, zoom)


def project(image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The image nearest to *image* (least squares) whose :func:`downscale` is *target*."""
    zoom = image.shape[-1] // target.shape[-1]
    return image - F.interpolate(downscale(image, zoom) - target, scale_factor=zoom, mode="nearest")


def project_smooth(image: torch.Tensor, target: torch.Tensor, rounds: int = SMOOTH_ROUNDS) -> torch.Tensor:
    """:func:`project` with bilinear instead of nearest-neighbour corrections, *rounds* times:
    the same fixed point (each round shrinks the downscale's error) without the zoom × zoom
    blocks that a piecewise-constant correction stamps on the detail."""
    zoom = image.shape[-1] // target.shape[-1]
    for _ in range(rounds):
        error = downscale(image, zoom) - target
        image = image - F.interpolate(error, scale_factor=zoom, mode="bilinear", align_corners=False)
    return project(image, target)


def check_zoom(zoom) -> int:
    """*zoom* if it is 2 or 4, else a :class:`UserError`."""
    if zoom not in ZOOMS:
        raise UserError(f"zoom must be 2 or 4, got {zoom}")
    return int(zoom)


def enhance_edit(target: torch.Tensor, zoom: int = 2, sources: Sequence[torch.Tensor] = (),
                 config: EditConfig | None = None, callback: Callable[[Iterate], None] | None = None) -> Edit:
    """A ready-to-run enhancement of *target* to ``zoom`` × its size (see the module)."""
    zoom = check_zoom(zoom)
    target = check_image(target, "target")
    th, tw = target.shape[-2:]
    size = (zoom * th, zoom * tw)
    references = [check_image(s, "source") for s in sources] or [target]
    images = {f"source {i + 1}": tuple(r.shape[-2:]) for i, r in enumerate(references)}
    cfg = (config or EditConfig()).resolved(size, images, ("gram", "swd"), scales=int(math.log2(zoom)))

    def terms(net, size_, factor):
        refs = [scaled(r, factor) for r in references]
        with torch.no_grad():
            feats = [net(r, cfg.layers) for r in refs]
        return style_terms(feats if len(feats) > 1 else feats[0], cfg.loss, cfg.style_weight)

    def compose(size_):
        return lambda x: project_smooth(x, target)

    def initial(size_, generator):
        return resize(target, size_) + 0.1 * torch.randn((1, 3, *size_), generator=generator)

    def finish(x):
        x = project_smooth(x, target)
        for _ in range(FINISH_ROUNDS):
            x = project(x.clamp(0, 1), target)
        return x.clamp(0, 1)

    problem = EditProblem(cfg, terms, compose, initial)
    return make_edit("enhance", problem, size, finish, {"target": target, "sources": list(sources) or None},
                     callback, zoom=zoom)


def enhance(target: torch.Tensor, zoom: int = 2, sources: Sequence[torch.Tensor] = (),
            config: EditConfig | None = None, *, callback: Callable[[Iterate], None] | None = None,
            **changes) -> Result:
    """Super-resolve *target* by *zoom* (2 or 4) with *sources*' fine detail (or its own)."""
    cfg = dataclasses.replace(config or EditConfig(), **changes)
    return enhance_edit(target, zoom, sources, cfg, callback).run()
