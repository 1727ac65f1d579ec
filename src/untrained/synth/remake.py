"""Remake: TARGET's layout with SOURCE's look (issue #19; texturize's ``remake``).

The output starts from TARGET and is optimised, coarse to fine, towards SOURCE's Gram (or SWD)
statistics in a random net (He et al. 2016 §3) while a content term at the net's content layer
keeps TARGET's layout (Gatys et al.'s objective; Du 2020 §4 starts from the content as here).
Unlike ``untrained style``'s tutorial setup it uses texture synthesis's net, automatic
weights and scales, so SOURCE's texture, not just its colours, replaces TARGET's.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import torch

from ..errors import UserError
from ..losses import ContentLoss
from ..objective import Term
from .common import check_image, scaled, style_terms
from .edit import Edit, EditConfig, EditProblem, make_edit
from ..image import resize
from .loop import Iterate, Result
from .style import preserve_color

#: Remake's default: content at conv3_1 with the weight of one style layer (automatic weights).
#: Measured on textures/2.jpg remade like examples/ink.jpg at 96²: the net's conv4_2 lost the
#: layout to high-frequency noise (a random net's deep layers invert poorly, He et al. §3).
REMAKE_DEFAULTS = EditConfig(content_layers=("conv3_1",))


def recolor(target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """*target* with *source*'s colour statistics (each YCbCr channel's mean and std; Gatys et
    al. 2017 §5's colour matching, the other way round): the layout the content term keeps,
    in colours that do not fight SOURCE's statistics."""
    return preserve_color(target, source, "match")


def remake_edit(target: torch.Tensor, sources: Sequence[torch.Tensor], config: EditConfig | None = None,
                size: tuple[int, int] | None = None, callback: Callable[[Iterate], None] | None = None) -> Edit:
    """A ready-to-run remake of *target* with the look of *sources* (blended equally)."""
    target = check_image(target, "target")
    sources = [check_image(s, "source") for s in sources]
    if not sources:
        raise UserError("remake needs a SOURCE whose look to take (--like)")
    size = tuple(size) if size is not None else tuple(target.shape[-2:])
    images = {"target": tuple(target.shape[-2:]), **{f"source {i + 1}": tuple(s.shape[-2:]) for i, s in enumerate(sources)}}
    cfg = (config or REMAKE_DEFAULTS).resolved(size, images, ("gram", "swd"))
    content_layer = cfg.content_layers[0]
    layout = recolor(target, sources[0])

    def terms(net, size_, factor):
        with torch.no_grad():
            feats = [net(scaled(s, factor), cfg.layers) for s in sources]
            content = net(resize(layout, size_), (content_layer,))[content_layer]
        out = style_terms(feats if len(feats) > 1 else feats[0], cfg.loss, cfg.style_weight)
        return out + [Term(f"content:{content_layer}", content_layer, ContentLoss(content), cfg.content_weight)]

    def initial(size_, generator):
        return resize(layout, size_)

    problem = EditProblem(cfg, terms, None, initial)
    return make_edit("remake", problem, size, lambda x: x.clamp(0, 1), {"target": target, "sources": sources},
                     callback, content_layer=content_layer)


def remake(target: torch.Tensor, sources, config: EditConfig | None = None, *, size=None,
           callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """TARGET's layout with SOURCE's look; *sources* is one image or a list."""
    sources = [sources] if torch.is_tensor(sources) else list(sources)
    cfg = dataclasses.replace(config or REMAKE_DEFAULTS, **changes)
    return remake_edit(target, sources, cfg, size, callback).run()
