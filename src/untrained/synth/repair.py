"""Repair (inpainting), seamless tiles of a photo, and expand (outpainting) — issue #19.

The hole's pixels are optimised through a composition (:mod:`.edit`): the network sees the
known pixels with the optimised ones only inside the hole, and the hole's features — with a
one-position band around it, where the fill meets the known part — are pulled towards the
Gram (or sliced Wasserstein) statistics of the known part of the image (features of positions
whose receptive cell holds no hole pixel), or of SOURCE images when given.  This is He et al.
2016 §3's random-net texture synthesis restricted to a region; the statistics of "the texture
around it" are those of Gatys et al.'s Gram matrices over the known positions.

``tile=True`` makes an existing photo seamless: every convolution pads circularly, and a band
along the borders is repaired, so the fill continues the opposite border too.  Expand pastes
TARGET on a larger canvas and repairs everything around it.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from ..errors import UserError
from ..nets.build import feature_sizes
from ..losses import GramLoss, RegionLoss, SeamLoss, SWDLoss, region_features
from ..objective import Term
from .common import check_image, parse_loss, scaled
from .edit import Edit, EditConfig, EditProblem, make_edit
from ..image import resize
from .loop import Iterate, Result

#: Repair's and expand's default settings: the sliced Wasserstein loss (Heitz et al. 2021).  On
#: the bark of textures/3.jpg at 160² the Gram loss left saturated green and purple speckles in
#: the hole that SWD, which matches whole feature distributions, does not (2.7× the time).
FILL_DEFAULTS = EditConfig(loss="swd", seam_weight=0.1)
#: Half-width in px of the band where the seam term smooths the fill into the known pixels.
SEAM_WIDTH = 2


def check_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A ``(1, 1, H, W)`` float mask, 1 where pixels are to be repaired, from a mask image
    (any channels; white = keep, black = repair, as Embark's texture-synthesis and an alpha
    channel have it).  A :class:`UserError` if its size is not *size* or it marks no pixel."""
    if mask.dim() == 3:
        mask = mask.unsqueeze(0)
    if mask.dim() != 4 or mask.shape[0] != 1:
        raise UserError(f"the mask must be one image, got shape {tuple(mask.shape)}")
    if tuple(mask.shape[-2:]) != tuple(size):
        raise UserError(f"the mask is {mask.shape[-1]}×{mask.shape[-2]} px but the target is {size[1]}×{size[0]} px")
    hole = (mask.float().mean(dim=1, keepdim=True) < 0.5).float()
    if not hole.any():
        raise UserError("the mask is empty: it marks no pixel to repair (black marks the pixels to repair)")
    if hole.all():
        raise UserError("the mask marks every pixel: nothing is left to repair from (use `untrained texture`)")
    return hole


def border_mask(size: tuple[int, int], band: int) -> torch.Tensor:
    """1 on a *band* px frame along the borders of an image of *size*: the seams of a tile."""
    h, w = size
    if not (0 < band and 2 * band < min(h, w)):
        raise UserError(f"the seam band must be between 1 and {(min(h, w) - 1) // 2} px for a {w}×{h} image, got {band}")
    m = torch.ones(1, 1, h, w)
    m[..., band:h - band, band:w - band] = 0
    return m


def _pool(mask: torch.Tensor, size: tuple[int, int], grow: int, circular: bool) -> torch.Tensor:
    """``(H, W)`` bool at feature *size*: cells that hold any masked pixel, grown by *grow* cells."""
    m = F.adaptive_max_pool2d(mask, size)
    for _ in range(grow):
        m = F.max_pool2d(F.pad(m, (1, 1, 1, 1), mode="circular" if circular else "replicate"), 3, 1)
    return m[0, 0] > 0


def _known_cells(hole: torch.Tensor, size: tuple[int, int], circular: bool, least: int = 4) -> torch.Tensor:
    """The feature cells whose statistics stand for the known part: those one cell away from any
    hole pixel; else (a deep layer where few are) those with no hole pixel; else all cells."""
    for grow in (1, 0):
        known = ~_pool(hole, size, grow, circular)
        if int(known.sum()) >= least:
            return known
    return torch.ones(size, dtype=torch.bool)


def _region_terms(net, layers, loss: str, weight: float, references, known_image, hole: torch.Tensor,
                  circular: bool) -> list[Term]:
    """One term per layer: the statistics of the hole (grown by one position) against those of
    *references*, or, without them, of *known_image*'s positions away from the hole."""
    images = references if references else [known_image]
    with torch.no_grad():
        feats = [net(i, layers) for i in images]
    out_sizes = feature_sizes(net.spec, tuple(hole.shape[-2:]))
    terms = []
    for name in layers:
        size = tuple(out_sizes[name])
        targets = [f[name] for f in feats]
        if not references:  # the known image has the output's size
            targets = [region_features(targets[0], _known_cells(hole, size, circular))]
        module = GramLoss(targets) if loss == "gram" else SWDLoss(targets)
        terms.append(Term(f"{loss}:{name}", name, RegionLoss(module, _pool(hole, size, 1, circular)), weight))
    return terms


def fill_edit(task: str, known: torch.Tensor, hole: torch.Tensor, references: Sequence[torch.Tensor] | None,
              config: EditConfig, inputs: dict, tile: bool = False, callback: Callable[[Iterate], None] | None = None,
              **settings) -> Edit:
    """Repair the pixels of *known* where *hole* is 1, matching *references*' statistics (or
    those of *known* away from the hole); *inputs* are recorded in the config.  Shared by
    :func:`repair` and :func:`expand`."""
    size = tuple(known.shape[-2:])
    images = {f"source {i + 1}": tuple(r.shape[-2:]) for i, r in enumerate(references or [])}
    cfg = config.resolved(size, images, ("gram", "swd"), tile=tile)
    keep = hole == 0
    mean = (known * (1 - hole)).sum(dim=(2, 3), keepdim=True) / (1 - hole).sum()
    reference_known = torch.where(keep, known, mean)  # the hole's contents never leak into the statistics

    def at(size_: tuple[int, int]):
        k, m = resize(reference_known, size_, tile), (resize(hole, size_, tile) > 0.01).float()
        return k, m

    def terms(net, size_, factor):
        k, m = at(size_)
        refs = [scaled(r, factor) for r in references] if references else None
        out = _region_terms(net, cfg.layers, parse_loss(cfg.loss)[0], cfg.style_weight, refs, k, m, tile)
        return out + seam_term(m, cfg.seam_weight, tile)

    def compose(size_):
        if tuple(size_) == size:
            return lambda x: torch.where(keep, known, x)
        k, m = at(size_)
        return lambda x: k * (1 - m) + x * m

    def initial(size_, generator):
        k, m = at(size_)
        return k * (1 - m) + torch.rand((1, 3, *size_), generator=generator) * m

    problem = EditProblem(cfg, terms, compose, initial, tile)
    finish = lambda x: torch.where(keep, known, x.clamp(0, 1))  # noqa: E731 - exact composition
    return make_edit(task, problem, size, finish, inputs, callback, tile=tile, **settings)


def seam_term(hole: torch.Tensor, weight: float, circular: bool, width: int = SEAM_WIDTH) -> list[Term]:
    """The :class:`SeamLoss` of the band *width* px either side of the hole's boundary."""
    if weight <= 0:
        return []
    pad = (width, width, width, width)
    mode = "circular" if circular else "replicate"
    grow = lambda m: F.max_pool2d(F.pad(m, pad, mode=mode), 2 * width + 1, 1)  # noqa: E731
    band = grow(hole) * grow(1 - hole)
    return [Term("seam", None, SeamLoss(band), weight)]


def repair_edit(target: torch.Tensor, mask: torch.Tensor | None = None, sources: Sequence[torch.Tensor] = (),
                config: EditConfig | None = None, tile: bool = False, band: int | None = None,
                callback: Callable[[Iterate], None] | None = None) -> Edit:
    """A ready-to-run repair of *target* ``(1, 3, H, W)`` where *mask* is black (see
    :func:`check_mask`), from the statistics of the rest of *target* or of *sources*.

    ``tile=True`` turns *target* into a seamless tile: the net pads circularly, and a frame of
    *band* px (default: 1/8 of the shorter side) along the borders is repaired besides the mask."""
    target = check_image(target, "target")
    size = tuple(target.shape[-2:])
    hole = check_mask(mask, size) if mask is not None else torch.zeros(1, 1, *size)
    if tile:
        band = max(1, min(size) // 8) if band is None else int(band)
        hole = torch.maximum(hole, border_mask(size, band))
    elif mask is None:
        raise UserError("give a mask (--mask, or an RGBA target whose transparent pixels are repaired) or --tile")
    if hole.all():
        raise UserError("the mask marks every pixel: nothing is left to repair from (use `untrained texture`)")
    sources = [check_image(s, "source") for s in sources]
    return fill_edit("repair", target, hole, sources, config or FILL_DEFAULTS, {"target": target, "sources": sources or None},
                     tile, callback,
                     band=band if tile else None, repaired_pixels=int(hole.sum()))


def repair(target: torch.Tensor, mask: torch.Tensor | None = None, sources: Sequence[torch.Tensor] = (),
           config: EditConfig | None = None, *, tile: bool = False, band: int | None = None,
           callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """Inpaint *target* where *mask* is black; every other pixel is returned unchanged.  See
    :func:`repair_edit`; keyword *changes* modify *config* (``seed=3``, ``loss="swd"``)."""
    cfg = dataclasses.replace(config or FILL_DEFAULTS, **changes)
    return repair_edit(target, mask, sources, cfg, tile, band, callback).run()


def place(target_size: tuple[int, int], size: tuple[int, int], at: tuple[int, int] | None) -> tuple[int, int]:
    """Top-left corner (y, x) of a *target_size* image on a *size* canvas: *at* (x, y), or centred.
    A :class:`UserError` unless the target fits."""
    (th, tw), (h, w) = target_size, size
    if th > h or tw > w:
        raise UserError(f"the target ({tw}×{th} px) is larger than the expanded size {w}×{h} px")
    if (th, tw) == (h, w):
        raise UserError(f"the expanded size {w}×{h} px is the target's own: nothing to expand")
    if at is None:
        return (h - th) // 2, (w - tw) // 2
    x, y = at
    if not (0 <= x <= w - tw and 0 <= y <= h - th):
        raise UserError(f"--at {x},{y} puts the {tw}×{th} px target outside the {w}×{h} px canvas "
                        f"(x from 0 to {w - tw}, y from 0 to {h - th})")
    return y, x


def expand_edit(target: torch.Tensor, size: tuple[int, int], at: tuple[int, int] | None = None,
                sources: Sequence[torch.Tensor] = (), config: EditConfig | None = None,
                callback: Callable[[Iterate], None] | None = None) -> Edit:
    """A ready-to-run expansion of *target* to *size* (H, W), kept unchanged at *at* (x, y of
    its top-left corner; default centred); the rest continues *target*'s texture (or *sources*')."""
    target = check_image(target, "target")
    th, tw = target.shape[-2:]
    size = (int(size[0]), int(size[1]))
    y, x = place((th, tw), size, at)
    canvas, hole = torch.zeros(1, 3, *size), torch.ones(1, 1, *size)
    canvas[..., y:y + th, x:x + tw] = target
    hole[..., y:y + th, x:x + tw] = 0
    given = [check_image(s, "source") for s in sources]
    return fill_edit("expand", canvas, hole, given or [target], config or FILL_DEFAULTS,
                     {"target": target, "sources": given or None}, False, callback, at=[x, y])


def expand(target: torch.Tensor, size: tuple[int, int], at: tuple[int, int] | None = None,
           sources: Sequence[torch.Tensor] = (), config: EditConfig | None = None, *,
           callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """Outpaint *target* to *size* (H, W); see :func:`expand_edit`."""
    cfg = dataclasses.replace(config or FILL_DEFAULTS, **changes)
    return expand_edit(target, size, at, sources, cfg, callback).run()
