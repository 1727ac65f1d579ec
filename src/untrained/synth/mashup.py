"""Mashup: one texture made of the patches of several sources (issue #19; texturize's ``mashup``).

Every 3×3 feature patch of the output is pulled towards its nearest patch among *all* sources'
patches (Champandard 2016's neural patches over the union of the exemplars), so regions of the
output take one source's look and others another's.  ``untrained texture a b --blend`` differs:
it averages the sources' Gram statistics, so every region shows the same average.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import torch

from ..config import derive_seed
from ..errors import UserError
from ..nets.build import feature_sizes
from ..losses import PatchLoss, _normalized, extract_patches, match_keys
from ..objective import Term
from .common import check_image, scaled
from .edit import Edit, EditConfig, EditProblem, make_edit
from ..image import resize
from .loop import Iterate, Result

#: Mashup's default: neural patches (on texture synthesis's patch net, champandard); the weight
#: of the region guide in matching is ``content_weight`` (1: a guide as strong as the features).
MASHUP_DEFAULTS = EditConfig(loss="patch", content_weight=1.0)


class UnionPatchLoss(PatchLoss):
    """:class:`PatchLoss` whose exemplar patches are those of several feature maps together,
    each tagged for matching with its own one-hot guide channel (Neural Doodle's semantic
    channels, Champandard 2016), so a region of the output whose *guide* names source *i*
    takes source *i*'s patches.  The guide's scale is *semantic* × the RMS norm of a position's features."""

    def __init__(self, exemplars: Sequence[torch.Tensor], guide: torch.Tensor, semantic: float = 1.0,
                 variety: float = 0.0, size: int = 3):
        super().__init__(exemplars[0], variety, size)
        flat = torch.cat([e.flatten(2) for e in exemplars], 2)
        scale = semantic * float(flat.pow(2).sum(dim=1).mean().sqrt())  # the RMS norm of a position's features
        tagged = []
        for i, e in enumerate(exemplars):
            tag = torch.zeros(1, len(exemplars), *e.shape[-2:])
            tag[:, i] = scale
            tagged.append(torch.cat([e.detach(), tag], dim=1))
        self.exemplar = torch.cat([extract_patches(e.detach(), size) for e in exemplars])
        self.keys = match_keys(_normalized(torch.cat([extract_patches(t, size) for t in tagged])))
        self.guide = guide.detach() * scale


def region_map(count: int, size: tuple[int, int], seed: int, cells: int = 3) -> torch.Tensor:
    """``(1, count, H, W)`` soft one-hot map of which source each region takes: a *cells* ×
    *cells* grid shared out evenly among the sources at random, its edges blurred by resizing.
    Without it the patch loss picked one source's patches everywhere (water and ink at 96²:
    all water, from noise or from a patchwork start, with variety 0 and 1)."""
    generator = torch.Generator().manual_seed(derive_seed(seed, "mashup:regions"))
    labels = (torch.randperm(cells * cells, generator=generator) % count).reshape(cells, cells)
    return resize(torch.stack([(labels == i).float() for i in range(count)])[None], size)


def mashup_edit(sources: Sequence[torch.Tensor], config: EditConfig | None = None,
                size: tuple[int, int] | None = None, callback: Callable[[Iterate], None] | None = None) -> Edit:
    """A ready-to-run mashup of *sources* (at least two)."""
    sources = [check_image(s, "source") for s in sources]
    if len(sources) < 2:
        raise UserError(f"a mashup mixes at least two sources, got {len(sources)}")
    size = tuple(size) if size is not None else tuple(sources[0].shape[-2:])
    images = {f"source {i + 1}": tuple(s.shape[-2:]) for i, s in enumerate(sources)}
    cfg = (config or MASHUP_DEFAULTS).resolved(size, images, ("patch",))

    regions = region_map(len(sources), size, cfg.seed)

    def terms(net, size_, factor):
        with torch.no_grad():
            feats = [net(scaled(s, factor), cfg.layers) for s in sources]
        sizes = feature_sizes(net.spec, size_)
        return [Term(f"patch:{name}", name, UnionPatchLoss([f[name] for f in feats], resize(regions, sizes[name]),
                                                           cfg.content_weight, cfg.variety), cfg.style_weight)
                for name in cfg.layers]

    def initial(size_, generator):
        means = sum(resize(regions, size_)[:, i:i + 1] * s.mean(dim=(2, 3), keepdim=True) for i, s in enumerate(sources))
        return (means + 0.2 * torch.randn((1, 3, *size_), generator=generator)).clamp(0, 1)

    problem = EditProblem(cfg, terms, None, initial)
    return make_edit("mashup", problem, size, lambda x: x.clamp(0, 1), {"sources": sources}, callback)


def mashup(sources: Sequence[torch.Tensor], config: EditConfig | None = None, *, size=None,
           callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """One texture mixing the patches of *sources*; see :func:`mashup_edit`."""
    cfg = dataclasses.replace(config or MASHUP_DEFAULTS, **changes)
    return mashup_edit(sources, cfg, size, callback).run()
