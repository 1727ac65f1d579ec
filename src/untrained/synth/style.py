"""Style transfer with a random network: Gatys et al.'s objective α·content + β·style (+ TV), as
He et al. 2016 §3 and Du 2020 §3 run it with untrained weights; ``loss="patch"`` swaps the Gram
style term for neural patches (Champandard 2016).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import to_dict
from ..devices import resolve as resolve_device
from ..errors import UserError
from ..losses import ContentLoss
from ..nets import NetSpec, preset
from ..objective import Objective, Term
from ..resources import check_memory
from .common import (NetProblem, blend_weights, check_choice, resolve_size, check_image, check_net, check_sizes, fill_degrid, finite_nonneg, positive,
                     image_digest, parse_loss, scaled, spectrum_term, style_terms, tv_term)
from ..image import match_palette, noise, resize, rgb_to_ycbcr, ycbcr_to_rgb
from .loop import UNSET_DEFAULTS, Iterate, OptimConfig, Result, Synthesis, scale_sizes

INITS = ("content", "noise", "style")
#: Colour preservation (Gatys et al. 2017, "Controlling perceptual factors"): keep the result's
#: luminance with the content's chrominance, or match the result's colour statistics to the content's.
PRESERVE_COLOR = ("none", "luminance", "match")
#: How Gram terms are scaled: "positions" (this project: Gram / H·W, with He's automatic weights)
#: or "tutorial" (the PyTorch tutorial Du uses: Gram / C·H·W, so a layer's term is 1/C² of ours).
GRAM_SCALES = ("positions", "tutorial")
#: Which terms He et al.'s automatic weights rescale when ``normalize`` is on: every term, only
#: the style terms (the content term keeps its raw scale) or only the content term.
NORMALIZE_TERMS = ("all", "style", "content")
#: The style's palette: ``match`` gives the content the style's colour mean and covariance before
#: optimising (start image and content target), ``none`` leaves it.
PALETTES = ("none", "match")


#: Default evaluation caps per scale: at most :data:`CAP_EVALUATIONS`, and at most
#: :data:`CAP_PIXELS` / the scale's pixel count, so a large scale costs about as much time as the
#: one before (a 512² evaluation costs 16× a 128² one) and the coarse scales, where the style's
#: large structure forms, get the most evaluations: 96 / 24 / 6 for a 512² output, 150 / 96 / 24
#: for 256².  (Issue 16's first round had 12·512²: a 512² default took 564 s wall, 551 CPU s on
#: 2 threads at load 5, about twice the 60 s target even on a quiet machine.)
CAP_EVALUATIONS, CAP_PIXELS = 150, 6 * 512 * 512
#: L-BFGS steps per scale when the user gives no count (the caps above bound them).
DEFAULT_ITERATIONS = 8


def default_caps(size: tuple[int, int], scales: int) -> tuple[int, ...]:
    """Evaluation caps of every scale (coarsest first) for an output of *size* (H, W)."""
    return tuple(max(4, min(CAP_EVALUATIONS, round(CAP_PIXELS / (h * w)))) for h, w in scale_sizes(size, scales))


@dataclass(frozen=True)
class StyleConfig:
    """Settings of a style transfer.  ``size`` defaults to the content's size; empty layer tuples
    mean the net's defaults.

    The defaults were chosen by measurement (issue 16, docs/experiments.md "Style transfer
    defaults"): the ``vgg19-tutorial`` net (Du 2020 §3, reflect padding); the content first given
    the style's colours (``palette="match"``) and used as the start; the sliced Wasserstein style
    loss (Heitz et al. 2021) on ``conv_1``…``conv_5``; He et al.'s automatic per-term weights with
    style weight 1 and content weight 0.05 (relative; issue 16's second round: 0.3 kept more
    layout than the target asks and left the style's texture short of it); the style image
    resized to the output's area (``style_scale=1``) and three coarse-to-fine scales, so its
    strokes keep their share of the picture whatever the two images' pixel sizes; evaluations
    capped by scale size (:func:`default_caps`, ``optim.scale_evaluations=None``) unless the user
    sets ``iterations`` or ``lbfgs_max_iter``: an explicit count is run as given;
    ``swd_directions`` = 0.5: the SWD draws half as many random directions per step as a layer
    has channels (31 % less time at 256², the same scores on three pairs).  The papers'
    setups are presets (:data:`STYLE_PRESETS`).
    """

    size: tuple[int, int] | None = None
    net: NetSpec = field(default_factory=lambda: preset("vgg19-tutorial"))
    content_layers: tuple[str, ...] = ()
    style_layers: tuple[str, ...] = ()
    content_weight: float = 0.05
    style_weight: float = 1.0
    smoothness: float = 0.0
    loss: str = "swd"
    variety: float = 0.0
    init: str = "content"
    normalize: bool = True
    normalize_terms: str = "all"
    style_scale: float | str | None = 1.0
    palette: str = "match"
    gram_scale: str = "positions"
    preserve_color: str = "none"
    style_blend: tuple[float, ...] = ()
    spectrum_weight: float = 1.0
    swd_directions: float = 0.5
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(iterations=None, scales=3, scale_evaluations=None,
                                                                   channels_last=True))
    seed: int = 0

    def resolved(self, content_size: tuple[int, int], style_size: tuple[int, int], styles: int = 1) -> "StyleConfig":
        """Fill defaults and check every setting."""
        base, _ = parse_loss(self.loss)
        check_choice(self.preserve_color, PRESERVE_COLOR, "colour preservation")
        check_choice(self.init, INITS, "init")
        check_choice(self.gram_scale, GRAM_SCALES, "gram scale")
        check_choice(self.normalize_terms, NORMALIZE_TERMS, "terms to normalise")
        check_choice(self.palette, PALETTES, "palette")
        native = self.style_scale is None or self.style_scale == "native"
        if not native and not (isinstance(self.style_scale, (int, float)) and not isinstance(self.style_scale, bool)
                               and math.isfinite(self.style_scale) and self.style_scale > 0):
            raise UserError(f"style scale must be a positive number or \"native\", got {self.style_scale!r}")
        size = resolve_size(self.size, content_size)
        content_layers = tuple(self.content_layers) or self.net.content_layers
        style_layers = tuple(self.style_layers) or self.net.style_layers
        check_net(self.net, content_layers, style_layers)
        optim = self.optim
        if optim.scale_evaluations is None:  # cap by scale size only when the user set no evaluation count
            counted = optim.iterations is not None or optim.lbfgs_max_iter is not None
            optim = dataclasses.replace(optim, scale_evaluations=() if counted else
                                        default_caps(size, optim.scales or UNSET_DEFAULTS["scales"]))
        if optim.iterations is None:
            optim = dataclasses.replace(optim, iterations=DEFAULT_ITERATIONS)
        cfg = dataclasses.replace(
            self, size=size, content_layers=content_layers, style_layers=style_layers,
            optim=fill_degrid(optim, self.net).resolved(size), content_weight=finite_nonneg(self.content_weight, "content weight"),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"), variety=finite_nonneg(self.variety, "variety"),
            spectrum_weight=finite_nonneg(self.spectrum_weight, "spectrum weight"),
            swd_directions=positive(self.swd_directions, "SWD directions"),
            style_scale=None if native else float(self.style_scale),
            style_blend=blend_weights(tuple(self.style_blend), styles, "--style-blend", self.loss),
        )
        check_sizes(self.net, content_layers + style_layers, cfg.size, cfg.optim.scales,
                    {"style image": style_target_size(style_size, cfg.size, cfg.style_scale)},
                    patch=base == "patch")
        return cfg


#: He et al.'s balance, found by the search of issue 16 (docs/experiments.md, he2016-style).
HE2016_CONTENT_WEIGHT, HE2016_INIT = 1.0, "content"

#: Named setups of the papers.
STYLE_PRESETS: dict[str, dict] = {
    # Du 2020 §3: the PyTorch tutorial's net, Gram loss and weights, beta/alpha = 1e6, lr 1, 20 L-BFGS steps,
    # content conv_1, style conv_1..conv_5, no automatic weights, one scale.  Zero padding because
    # the tutorial's VGG-19 pads with zeros (it is what paints the dark frame; the default's
    # reflect padding has none), and the style image at the content's size, as the tutorial
    # loads both.
    "du2020": dict(
        net_name="vgg19-tutorial", net_changes=dict(padding="zeros"),
        config=dict(content_layers=("conv_1",), style_layers=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5"),
                    loss="gram", content_weight=1.0, style_weight=1e6, normalize=False, gram_scale="tutorial", init="content",
                    style_scale=1.0, palette="none",
                    optim=OptimConfig(optimizer="lbfgs", iterations=20, scales=1, lr=1.0, lbfgs_max_iter=20)),
    ),
    # He, Wang & Hopcroft 2016 §3-4: VGG-19 with Gaussian weights (sigma 0.015, zero bias), average
    # pooling, content conv4_2, Gram style loss on conv1_1..conv5_1, every term scaled by the automatic weights,
    # a little total variation, L-BFGS; the content weight is what the search of issue 16 found
    # (docs/experiments.md, he2016-style).
    "he2016": dict(
        net_name="vgg19", net_changes=dict(weights="gaussian:0.015", bias="zero"),
        config=dict(content_layers=("conv4_2",), style_layers=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
                    loss="gram", content_weight=HE2016_CONTENT_WEIGHT, style_weight=1.0, smoothness=0.001, normalize=True,
                    normalize_terms="all", gram_scale="positions", init=HE2016_INIT, style_scale=1.0, palette="none",
                    optim=OptimConfig(optimizer="lbfgs", iterations=20, scales=1, lbfgs_max_iter=20)),
    ),
}


def style_preset(name: str) -> StyleConfig:
    """The :class:`StyleConfig` of a named paper setup (``du2020``, ``he2016``)."""
    if name not in STYLE_PRESETS:
        raise UserError(f"unknown style preset {name!r}; choose from {', '.join(STYLE_PRESETS)}")
    p = STYLE_PRESETS[name]
    return StyleConfig(net=preset(p["net_name"]).replace(**p["net_changes"]), **p["config"])


def style_target_size(style_size: tuple[int, int], size: tuple[int, int], style_scale: float | None) -> tuple[int, int]:
    """The size (H, W) the style image is used at for an output of *size*: its own pixels when
    *style_scale* is ``None`` (``"native"`` in a config), else resized (aspect kept) to ``style_scale²`` times the output's
    area, so its strokes take the same share of the picture whatever the two images' sizes."""
    if style_scale is None:
        return tuple(style_size)
    f = style_scale * math.sqrt(size[0] * size[1] / (style_size[0] * style_size[1]))
    return max(1, round(style_size[0] * f)), max(1, round(style_size[1] * f))


class StyleProblem(NetProblem):
    """Content targets from the content image, style targets from the style image(s), per scale.

    The style images are first brought to :func:`style_target_size`; with ``palette="match"``
    the content is given their colours (:func:`match_palette`) for its target and start."""

    def __init__(self, content: torch.Tensor, style, config: StyleConfig, device: torch.device | str = "cpu"):
        super().__init__(config.net, config.seed, device)
        content = self.put(content)
        styles = [self.put(s) for s in ([style] if torch.is_tensor(style) else style)]
        self.styles = [resize(s, style_target_size(tuple(s.shape[-2:]), config.size, config.style_scale)) for s in styles]
        if config.palette == "match":
            content = match_palette(content, styles, config.style_blend)
        self.content, self.style, self.config = content, self.styles[0], config

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        base, spectrum = parse_loss(c.loss)
        styles = [scaled(s, factor) for s in self.styles]
        with torch.no_grad():
            content = self.net(resize(self.content, size), c.content_layers) if c.content_weight > 0 else {}
            feats = [self.net(s, c.style_layers) for s in styles] if c.style_weight > 0 else []
        terms = [Term(f"content:{n}", n, ContentLoss(f), c.content_weight, auto=c.normalize_terms != "style")
                 for n, f in content.items()]
        if feats:
            layer_weights = {n: 1.0 / f.shape[1] ** 2 for n, f in feats[0].items()} if c.gram_scale == "tutorial" else None
            style = style_terms(feats, base, c.style_weight, c.variety, layer_weights=layer_weights, blend=c.style_blend,
                                swd_directions=c.swd_directions)
            for t in style:
                t.auto = c.normalize_terms != "content"
            terms += style
            if spectrum:
                terms += spectrum_term(styles, size, c.spectrum_weight, c.style_blend)
        terms += tv_term(c.smoothness)
        if not terms:
            raise UserError("every weight is zero: nothing to optimise")
        return Objective(self.net, terms)

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        if self.config.init == "content":
            return resize(self.content, size)
        if self.config.init == "style":
            return resize(self.style, size)
        return noise(size, generator, self.device)


def style_synthesis(content: torch.Tensor, style, config: StyleConfig | None = None,
                    callback: Callable[[Iterate], None] | None = None,
                    device: torch.device | str | None = "auto") -> tuple[Synthesis, dict]:
    """A ready-to-run style transfer on *device* and its resolved config; *style* may be a list
    of images whose statistics are mixed by ``style_blend``."""
    content = check_image(content, "content image")
    styles = [check_image(s, "style image") for s in ([style] if torch.is_tensor(style) else style)]
    if not styles:
        raise UserError("give at least one style image")
    smallest = min((tuple(s.shape[-2:]) for s in styles), key=min)
    cfg = (config or StyleConfig()).resolved(tuple(content.shape[-2:]), smallest, len(styles))
    device = resolve_device(device)
    check_memory(cfg.net, cfg.content_layers + cfg.style_layers, cfg.size, cfg.optim.lbfgs_history,
                 style_target_size(tuple(styles[0].shape[-2:]), cfg.size, cfg.style_scale) if cfg.loss.startswith("patch") else None,
                 device=device)
    synthesis = Synthesis(StyleProblem(content, styles, cfg, device), cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    digests = [image_digest(s) for s in styles]
    inputs = {"content": image_digest(content), **({"style": digests[0]} if len(digests) == 1 else {"styles": digests})}
    return synthesis, {"task": "style", **to_dict(cfg), "inputs": inputs}


def preserve_color(result: torch.Tensor, content: torch.Tensor, mode: str) -> torch.Tensor:
    """Give *result* the content's colours (Gatys et al. 2017 §5): ``luminance`` keeps the
    result's luminance (Y of YCbCr) with the content's chrominance; ``match`` shifts and scales
    each of the result's YCbCr channels to the content's mean and std."""
    if mode == "none":
        return result
    content = resize(content, tuple(result.shape[-2:]))
    r, c = rgb_to_ycbcr(result), rgb_to_ycbcr(content)
    if mode == "luminance":
        out = torch.cat([r[:, :1], c[:, 1:]], dim=1)
    elif mode == "match":
        rm, rs = r.mean(dim=(2, 3), keepdim=True), r.std(dim=(2, 3), keepdim=True).clamp_min(1e-6)
        out = (r - rm) / rs * c.std(dim=(2, 3), keepdim=True) + c.mean(dim=(2, 3), keepdim=True)
    else:
        raise UserError(f"unknown colour preservation {mode!r}; choose from {', '.join(PRESERVE_COLOR)}")
    return ycbcr_to_rgb(out).clamp(0, 1)


def style(content: torch.Tensor, style_image, config: StyleConfig | None = None, *,
          callback: Callable[[Iterate], None] | None = None, device: torch.device | str | None = "auto",
          **changes) -> Result:
    """Repaint *content* in the style of *style_image* (or a blend of several) with a random
    network (Gatys et al.'s objective; He et al. 2016 §3; Du 2020 §3–4).  ``content_weight=0,
    init="content"`` is Du §4's variant without content loss; ``preserve_color`` keeps the
    content's colours."""
    cfg = dataclasses.replace(config or StyleConfig(), **changes)
    synthesis, resolved = style_synthesis(content, style_image, cfg, callback, device)
    out = preserve_color(synthesis.run(), check_image(content, "content image"), synthesis.problem.config.preserve_color)
    return Result(out, synthesis.history, resolved, synthesis.stats())
