"""Style transfer with a random network: Gatys et al.'s objective α·content + β·style (+ TV), as
He et al. 2016 §3 and Du 2020 §3 run it with untrained weights; ``loss="patch"`` swaps the Gram
style term for neural patches (Champandard 2016).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import to_dict
from ..errors import UserError
from ..losses import ContentLoss
from ..nets import NetSpec, preset
from ..objective import Objective, Term
from ..resources import check_memory
from .common import (NetProblem, blend_weights, check_choice, resolve_size, check_image, check_net, check_sizes, finite_nonneg,
                     image_digest, parse_loss, scaled, spectrum_term, style_terms, tv_term)
from ..image import noise, resize, rgb_to_ycbcr, ycbcr_to_rgb
from .loop import Iterate, OptimConfig, Result, Synthesis

INITS = ("content", "noise", "style")
#: Colour preservation (Gatys et al. 2017, "Controlling perceptual factors"): keep the result's
#: luminance with the content's chrominance, or match the result's colour statistics to the content's.
PRESERVE_COLOR = ("none", "luminance", "match")
#: How Gram terms are scaled: "positions" (this project: Gram / H·W, with He's automatic weights)
#: or "tutorial" (the PyTorch tutorial Du uses: Gram / C·H·W, so a layer's term is 1/C² of ours).
GRAM_SCALES = ("positions", "tutorial")


@dataclass(frozen=True)
class StyleConfig:
    """Settings of a style transfer.  ``size`` defaults to the content's size; empty layer tuples
    mean the net's defaults.

    The defaults are the PyTorch tutorial's setup that Du 2020 §3 found "engineered well enough":
    the ``vgg19-tutorial`` net with Du's weights, raw weights β/α = 10⁶ on Gram / C·H·W, starting
    from the content, one scale.  With ``normalize`` (He et al. §3) every term is first scaled to
    the same gradient impact at a noise probe, and the weights become relative; on the
    dancing/picasso pair at 128² that left the content dominating (style barely visible), so it
    is off by default.
    """

    size: tuple[int, int] | None = None
    net: NetSpec = field(default_factory=lambda: preset("vgg19-tutorial"))
    content_layers: tuple[str, ...] = ()
    style_layers: tuple[str, ...] = ()
    content_weight: float = 1.0
    style_weight: float = 1e6
    smoothness: float = 0.0
    loss: str = "gram"
    variety: float = 0.0
    init: str = "content"
    normalize: bool = False
    gram_scale: str = "tutorial"
    preserve_color: str = "none"
    style_blend: tuple[float, ...] = ()
    spectrum_weight: float = 1.0
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(iterations=10, scales=1))
    seed: int = 0

    def resolved(self, content_size: tuple[int, int], style_size: tuple[int, int], styles: int = 1) -> "StyleConfig":
        """Fill defaults and check every setting."""
        base, _ = parse_loss(self.loss)
        check_choice(self.preserve_color, PRESERVE_COLOR, "colour preservation")
        check_choice(self.init, INITS, "init")
        check_choice(self.gram_scale, GRAM_SCALES, "gram scale")
        size = resolve_size(self.size, content_size)
        content_layers = tuple(self.content_layers) or self.net.content_layers
        style_layers = tuple(self.style_layers) or self.net.style_layers
        check_net(self.net, content_layers, style_layers)
        cfg = dataclasses.replace(
            self, size=size, content_layers=content_layers, style_layers=style_layers,
            optim=self.optim.resolved(), content_weight=finite_nonneg(self.content_weight, "content weight"),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"), variety=finite_nonneg(self.variety, "variety"),
            spectrum_weight=finite_nonneg(self.spectrum_weight, "spectrum weight"),
            style_blend=blend_weights(tuple(self.style_blend), styles, "--style-blend", self.loss),
        )
        check_sizes(self.net, content_layers + style_layers, cfg.size, cfg.optim.scales, {"style image": style_size},
                    patch=base == "patch")
        return cfg


#: Named setups of the papers.
STYLE_PRESETS: dict[str, dict] = {
    # Du 2020 §3: the PyTorch tutorial's net and weights, beta/alpha = 1e6, lr 1, 20 L-BFGS steps,
    # content conv_1, style conv_1..conv_5, no automatic weights, zero padding, one scale.
    "du2020": dict(
        net_name="vgg19-tutorial", net_changes=dict(padding="zeros"),
        config=dict(content_layers=("conv_1",), style_layers=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5"),
                    content_weight=1.0, style_weight=1e6, normalize=False, gram_scale="tutorial", init="content",
                    optim=OptimConfig(optimizer="lbfgs", iterations=20, scales=1, lr=1.0, lbfgs_max_iter=20)),
    ),
}


def style_preset(name: str) -> StyleConfig:
    """The :class:`StyleConfig` of a named paper setup (``du2020``)."""
    if name not in STYLE_PRESETS:
        raise UserError(f"unknown style preset {name!r}; choose from {', '.join(STYLE_PRESETS)}")
    p = STYLE_PRESETS[name]
    return StyleConfig(net=preset(p["net_name"]).replace(**p["net_changes"]), **p["config"])


class StyleProblem(NetProblem):
    """Content targets from the content image, style targets from the style image(s), per scale."""

    def __init__(self, content: torch.Tensor, style, config: StyleConfig):
        super().__init__(config.net, config.seed)
        self.styles = [style] if torch.is_tensor(style) else list(style)
        self.content, self.style, self.config = content, self.styles[0], config

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        base, spectrum = parse_loss(c.loss)
        styles = [scaled(s, factor) for s in self.styles]
        with torch.no_grad():
            content = self.net(resize(self.content, size), c.content_layers) if c.content_weight > 0 else {}
            feats = [self.net(s, c.style_layers) for s in styles] if c.style_weight > 0 else []
        terms = [Term(f"content:{n}", n, ContentLoss(f), c.content_weight) for n, f in content.items()]
        if feats:
            layer_weights = {n: 1.0 / f.shape[1] ** 2 for n, f in feats[0].items()} if c.gram_scale == "tutorial" else None
            terms += style_terms(feats, base, c.style_weight, c.variety, layer_weights=layer_weights, blend=c.style_blend)
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
        return noise(size, generator)


def style_synthesis(content: torch.Tensor, style, config: StyleConfig | None = None,
                    callback: Callable[[Iterate], None] | None = None) -> tuple[Synthesis, dict]:
    """A ready-to-run style transfer and its resolved config; *style* may be a list of images
    whose statistics are mixed by ``style_blend``."""
    content = check_image(content, "content image")
    styles = [check_image(s, "style image") for s in ([style] if torch.is_tensor(style) else style)]
    if not styles:
        raise UserError("give at least one style image")
    smallest = min((tuple(s.shape[-2:]) for s in styles), key=min)
    cfg = (config or StyleConfig()).resolved(tuple(content.shape[-2:]), smallest, len(styles))
    check_memory(cfg.net, cfg.content_layers + cfg.style_layers, cfg.size, cfg.optim.lbfgs_history,
                 tuple(styles[0].shape[-2:]) if cfg.loss.startswith("patch") else None)
    synthesis = Synthesis(StyleProblem(content, styles, cfg), cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
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
          callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """Repaint *content* in the style of *style_image* (or a blend of several) with a random
    network (Gatys et al.'s objective; He et al. 2016 §3; Du 2020 §3–4).  ``content_weight=0,
    init="content"`` is Du §4's variant without content loss; ``preserve_color`` keeps the
    content's colours."""
    cfg = dataclasses.replace(config or StyleConfig(), **changes)
    synthesis, resolved = style_synthesis(content, style_image, cfg, callback)
    out = preserve_color(synthesis.run(), check_image(content, "content image"), synthesis.problem.config.preserve_color)
    return Result(out, synthesis.history, resolved, synthesis.stats())
