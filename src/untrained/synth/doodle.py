"""Neural Doodle: semantic style transfer with neural patches (Champandard 2016, "Semantic Style
Transfer and Turning Two-Bit Doodles into Fine Artwork"; the random-net version of the blog).

The style image comes with a semantic map of flat colours; the target is another map in the same
colours.  Each colour becomes a one-hot channel, downsampled to every layer, scaled by
``semantic_weight`` (times the layer's feature RMS, so the weight means the same on every net)
and concatenated to the features used for patch matching, so each region of the target map is
painted from the same-coloured region of the style.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from ..config import to_dict
from ..devices import resolve as resolve_device
from ..errors import UserError
from ..losses import TV_FORMS, ContentLoss, RegionGramLoss
from ..nets import NetSpec, preset
from ..nets.build import feature_sizes
from ..objective import Objective, Term
from ..resources import check_memory
from .common import (NetProblem, check_choice, check_image, check_net, check_sizes, fill_degrid, finite_nonneg, fit_scales, image_digest,
                     resolve_size, scaled, style_terms, tv_term)
from ..image import noise, randn, resize
from .loop import UNSET_DEFAULTS, Iterate, OptimConfig, Result, Synthesis, scale_sizes

#: A colour counts as a region when it covers at least this fraction of a map.
MIN_REGION = 0.005
#: Largest RGB distance (in [0, 1] units) at which a target colour matches a style-map colour.
MATCH_DISTANCE = 0.15
INITS = ("noise", "content", "mean")


def palette(semantic_map: torch.Tensor, min_fraction: float = MIN_REGION) -> torch.Tensor:
    """The region colours ``(K, 3)`` of a map: 8-bit colours covering ≥ *min_fraction* of it,
    most common first (antialiased edge colours fall below the threshold)."""
    q = (semantic_map[0].clamp(0, 1) * 255).round().to(torch.int64)
    codes = (q[0] * 65536 + q[1] * 256 + q[2]).flatten()
    values, counts = codes.unique(return_counts=True)
    keep = counts >= max(1, min_fraction * codes.numel())
    values, counts = values[keep], counts[keep]
    values = values[counts.argsort(descending=True, stable=True)]
    return torch.stack([(values // 65536) % 256, (values // 256) % 256, values % 256], dim=1).float() / 255


def hex_colour(rgb: torch.Tensor) -> str:
    """``#rrggbb`` of an RGB triple in [0, 1]."""
    r, g, b = (int(round(float(v) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def one_hot(semantic_map: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """``(1, K, H, W)`` masks: each pixel assigned to its nearest palette colour."""
    pixels = semantic_map[0].permute(1, 2, 0).reshape(-1, 3)
    nearest = torch.cdist(pixels, colours).argmin(dim=1)
    h, w = semantic_map.shape[-2:]
    return F.one_hot(nearest, len(colours)).T.reshape(1, len(colours), h, w).float()


def check_maps(style_map: torch.Tensor, target_map: torch.Tensor) -> torch.Tensor:
    """The style map's palette, after checking every region colour of the target exists in it."""
    colours = palette(style_map)
    if len(colours) == 0:
        raise UserError("the style map has no region colour covering 0.5 % of it")
    target = palette(target_map)
    counts = one_hot(target_map, target).mean(dim=(0, 2, 3))
    for colour, share in zip(target, counts):
        if float(torch.cdist(colour[None], colours).min()) > MATCH_DISTANCE:
            raise UserError(
                f"the target map's colour {hex_colour(colour)} ({100 * float(share):.0f} % of it) is not in the style map, "
                f"whose colours are {', '.join(hex_colour(c) for c in colours)}"
            )
    return colours


@dataclass(frozen=True)
class DoodleConfig:
    """Settings of a Neural Doodle.  ``size`` defaults to the target map's size.  The default net
    is the blog's as it ran (``champandard-asrun``).  Weights are
    relative (He et al.'s automatic weighting is on); ``content_weight`` matters only with a
    content image.  ``gram_layers`` add a Gram term per region on those layers (weight
    ``gram_weight``): the patch layers are deep and coarse, so without it the regions' fine
    texture (brushwork) is unconstrained and comes out flat; weight 3 beat 1 in 14 of 15 regions ×
    seeds of a 256×192 Monet doodle and on the README figure's cliffs on 2 of 3 seeds
    (docs/experiments.md, issue 17).  ``refine_layers`` are the patch layers of every scale
    after the coarsest (``None``: ``style_layers``): patch matching on
    ``conv3_1`` at full size costs most of a 512×384 doodle's time.

    ``variety`` 0.75 and ``semantic_weight`` 30 by default (issue 17;
    benchmarks/bench_doodle.py, the README figure, seeds 0–2): with neural-doodle's variety rule
    each style patch's score drops by its best score of the previous evaluation, so matching
    spreads over the region's patches instead of reusing the few nearest — the cliffs' strata,
    lichen and boulder come back (cliffs 1.68–2.71 × a plain texture's distance with variety 0
    and semantic weight 10, 0.82–1.25 now; every region ≤ 1.25).  The heavier map channels keep
    the spread inside each region (:func:`untrained.metrics.region_leak` of the sky 0.053–0.083,
    against 0.048–0.095 before; variety 0.5 with weight 10 painted a cliff into the sky, variety
    1 with weight 30 leaked 0.080–0.088)."""

    size: tuple[int, int] | None = None
    net: NetSpec = field(default_factory=lambda: preset("champandard-asrun"))
    style_layers: tuple[str, ...] = ()
    content_layers: tuple[str, ...] = ()
    gram_layers: tuple[str, ...] = ("conv1_1", "conv2_1")
    gram_weight: float = 3.0
    refine_layers: tuple[str, ...] | None = ("conv4_1",)
    style_weight: float = 1.0
    content_weight: float = 1.0
    semantic_weight: float = 30.0
    smoothness: float = 0.0
    tv: str = "squared"
    variety: float = 0.75
    init: str = "noise"
    normalize: bool = True
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(iterations=2, scales=None))
    seed: int = 0

    def resolved(self, map_size: tuple[int, int], style_size: tuple[int, int]) -> "DoodleConfig":
        """Fill defaults and check every setting."""
        check_choice(self.init, INITS, "init")
        check_choice(self.tv, TV_FORMS, "total-variation form")
        size = resolve_size(self.size, map_size)
        style_layers = tuple(self.style_layers) or self.net.style_layers
        content_layers = tuple(self.content_layers) or self.net.content_layers
        refine = style_layers if self.refine_layers is None else tuple(self.refine_layers)
        check_net(self.net, style_layers, content_layers, self.gram_layers, refine)
        optim = self.optim
        if optim.scales is None:  # unset: as many scales (up to 3) as the map and style image allow
            optim = dataclasses.replace(optim, scales=fit_scales(self.net, style_layers, size, UNSET_DEFAULTS["scales"],
                                                                 {"style image": style_size}, patch=True))
        cfg = dataclasses.replace(
            self, size=size, style_layers=style_layers, content_layers=content_layers, gram_layers=tuple(self.gram_layers),
            refine_layers=refine,
            optim=fill_degrid(optim, self.net).resolved(size), **{k: finite_nonneg(getattr(self, k), k.replace("_", " ")) for k in
                                            ("style_weight", "content_weight", "semantic_weight", "smoothness", "variety", "gram_weight")},
        )
        check_sizes(self.net, style_layers, cfg.size, cfg.optim.scales, {"style image": style_size}, patch=True)
        return cfg


class DoodleProblem(NetProblem):
    """Guided patch targets from the style image and its map; the target map guides the output."""

    def __init__(self, style: torch.Tensor, style_map: torch.Tensor, target_map: torch.Tensor,
                 content: torch.Tensor | None, config: DoodleConfig, device: torch.device | str = "cpu"):
        super().__init__(config.net, config.seed, device)
        self.config, self.style, self.content = config, self.put(style), self.put(content)
        self.colours = check_maps(style_map, target_map)
        self.style_masks = self.put(one_hot(style_map, self.colours))
        self.target_masks = self.put(one_hot(target_map, self.colours))
        self.coarsest = scale_sizes(config.size, config.optim.scales)[0][0] / config.size[0]

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        style = scaled(self.style, factor)
        out_sizes = feature_sizes(self.net.spec, size)
        patch_layers = c.style_layers if factor <= self.coarsest else c.refine_layers
        with torch.no_grad():
            feats = self.net(style, tuple(dict.fromkeys(patch_layers + c.gram_layers)))
        grams = [Term(f"region_gram:{n}", n, RegionGramLoss(
            feats[n], F.interpolate(self.style_masks, size=feats[n].shape[-2:], mode="area"),
            F.interpolate(self.target_masks, size=out_sizes[n], mode="area")), c.gram_weight) for n in c.gram_layers]
        feats = {n: feats[n] for n in patch_layers}
        guides = {}
        for name, f in feats.items():
            gain = c.semantic_weight * float(f.pow(2).mean().sqrt())
            guides[name] = (F.interpolate(self.target_masks, size=out_sizes[name], mode="area") * gain,
                            F.interpolate(self.style_masks, size=f.shape[-2:], mode="area") * gain)
        terms = style_terms(feats, "patch", c.style_weight, c.variety, guides=guides) + grams
        if self.content is not None and c.content_weight > 0:
            with torch.no_grad():
                target = self.net(resize(self.content, size), c.content_layers)
            terms += [Term(f"content:{n}", n, ContentLoss(f), c.content_weight) for n, f in target.items()]
        return Objective(self.net, terms + tv_term(c.smoothness, form=c.tv))

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        if self.config.init == "content" and self.content is not None:
            return resize(self.content, size)
        if self.config.init == "mean":
            return self.style.mean(dim=(2, 3), keepdim=True) + 0.1 * randn((1, 3, *size), generator, self.device)
        return noise(size, generator, self.device)


def doodle_synthesis(style: torch.Tensor, style_map: torch.Tensor, target_map: torch.Tensor,
                     content: torch.Tensor | None = None, config: DoodleConfig | None = None,
                     callback: Callable[[Iterate], None] | None = None,
                     device: torch.device | str | None = "auto") -> tuple[Synthesis, dict]:
    """A ready-to-run Neural Doodle on *device* and its resolved config."""
    style, style_map, target_map = (check_image(t, w) for t, w in ((style, "style image"), (style_map, "style map"),
                                                                 (target_map, "target map")))
    if style_map.shape[-2:] != style.shape[-2:]:  # maps are flat colours: resize without blending
        style_map = F.interpolate(style_map, size=style.shape[-2:], mode="nearest")
    if content is not None:
        content = check_image(content, "content image")
    elif (config or DoodleConfig()).init == "content":
        raise UserError("init 'content' needs a content image (--content)")
    cfg = (config or DoodleConfig()).resolved(tuple(target_map.shape[-2:]), tuple(style.shape[-2:]))
    device = resolve_device(device)
    check_memory(cfg.net, cfg.style_layers + cfg.content_layers + cfg.gram_layers, cfg.size, cfg.optim.lbfgs_history, tuple(style.shape[-2:]),
                 device=device)
    if target_map.shape[-2:] != cfg.size:
        target_map = F.interpolate(target_map, size=cfg.size, mode="nearest")
    problem = DoodleProblem(style, style_map, target_map, content, cfg, device)
    synthesis = Synthesis(problem, cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    inputs = {"style": image_digest(style), "style_map": image_digest(style_map), "target_map": image_digest(target_map),
              "content": image_digest(content) if content is not None else None,
              "colours": [hex_colour(c) for c in problem.colours]}
    return synthesis, {"task": "doodle", **to_dict(cfg), "inputs": inputs}


def doodle(style: torch.Tensor, style_map: torch.Tensor, target_map: torch.Tensor, content: torch.Tensor | None = None,
           config: DoodleConfig | None = None, *, callback: Callable[[Iterate], None] | None = None,
           device: torch.device | str | None = "auto", **changes) -> Result:
    """Paint *target_map* with the regions of *style* that *style_map* gives the same colours
    (Neural Doodle, Champandard 2016), with a random network."""
    cfg = dataclasses.replace(config or DoodleConfig(), **changes)
    synthesis, resolved = doodle_synthesis(style, style_map, target_map, content, cfg, callback, device)
    out = synthesis.run()
    return Result(out, synthesis.history, resolved, synthesis.stats())
