"""Texture synthesis from an exemplar with a random network: Gram matrices (Gatys et al. 2015
with random weights: He et al. 2016 §3 "texture synthesis"; Du 2020 §3) or neural patches
(Champandard 2016).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import derive_seed, to_dict
from ..devices import resolve as resolve_device
from ..errors import UserError
from ..losses import TV_FORMS, border_gram, gram_matrix
from ..nets import NetSpec, NetStack, border_masks, border_shares, build
from ..objective import Objective
from ..resources import check_memory
from .common import (NetProblem, blend_weights, check_choice, resolve_size, check_image, check_net, check_sizes, fill_degrid, finite_nonneg, fit_scales,
                     image_digest, parse_loss, scaled, spectrum_term, style_terms, tv_term)
from ..image import grid_crops, noise, randn
from .loop import UNSET_DEFAULTS, Iterate, OptimConfig, Result, Synthesis, scale_sizes

#: The net ``untrained texture`` uses unless told otherwise, by loss, as network options.  Gram
#: and SWD use VGG-19 at half width with Du 2020 §5.3's binary weights ±0.1 (bias 0.5) and zero
#: padding.  Measured over seeds 1–5 and 8 exemplars (benchmarks/bench_quality.py; issue 15): Du's
#: U(±0.1) draw with reflect padding, the old default, gave blotches, stripes and a frame of
#: different border pixels on many seeds (median score 0.106 at 128², 0.099 at 256²); binary
#: weights give every filter the same norm and 3× the uniform draw's variance against the 0.5
#: bias, and zero padding removes the outer frame of different border pixels (``metrics.border``
#: on gravel 6.1 → 1.3–1.9): median 0.091 at 128², 0.067 at 256², worst seed ≤ 1.27× its
#: exemplar's median.  The faint rectangle 8–10 px inside the edge that ink and water then showed
#: at 256² mostly went with the crops (``TextureConfig.crops``); from exemplars smaller than a
#: 512² output the coarsest scale's ring still shows (README, "Missed").  Kaiming-normal or
#: orthogonal weights with zero bias scored worse with this schedule (0.140, 0.127 at 128²).
#: ``--quality high`` uses full width, and so does the Gram default up to 128²
#: (:func:`default_net_options`).
DEFAULT_NETS = {"gram": {"net": "vgg19", "width": 0.5, "weights": "binary:0.1", "padding": "zeros"},
                "swd": {"net": "vgg19", "width": 0.5, "weights": "binary:0.1", "padding": "zeros"},
                "patch": {"net": "champandard"}}


def default_net_options(loss: str, size: tuple[int, int] | None = None) -> dict:
    """The network options of texture loss *loss*'s default net for an output of *size* (H, W):
    :data:`DEFAULT_NETS`, at full width for a Gram texture of at most :data:`SMALL_OUTPUT`
    pixels.  There an evaluation is cheap, and full width made seven of the eight native
    exemplars' medians better over seeds 1–5 at 128² (smoke 0.120 → 0.087; tom 0.037 → 0.038)
    and every worst seed better or equal (t3's 1.32 → 1.07 × its median), for 2.2× the
    half-width time, 15× less than the strong baseline's (issue 15, docs/texture-quality.md,
    eighth round).  ``None``: the half-width default."""
    base = parse_loss(loss)[0]
    options = dict(DEFAULT_NETS[base])
    if base == "gram" and size is not None and size[0] * size[1] <= SMALL_OUTPUT:
        options.pop("width")
    return options


def default_net(loss: str, size: tuple[int, int] | None = None) -> NetSpec:
    """The default net of texture loss *loss* (``gram``, ``swd``, ``patch``, with ``+spectrum``)
    for an output of *size* (:func:`default_net_options`)."""
    from ..nets.modify import NetOptions

    return NetOptions(**default_net_options(loss, size)).apply()


INITS = ("noise", "mean")
#: Evaluation caps of the finest scales (``OptimConfig.scale_evaluations``) by default, for
#: outputs up to :data:`SMALL_OUTPUT` pixels, up to :data:`FAST_OUTPUT`, up to :data:`LARGE_OUTPUT`
#: and above it (where an
#: evaluation costs ≥ 4× the 256² one and the 512² scale has already laid out the texture).
#: Measured on ink at 1024² with the previous default net (README, Speed): (60,) 100 s, score 0.058; (60, 40) 65 s, 0.065;
#: (60, 30) 60 s, 0.074.  At 128² evaluations are cheap and 100 instead of 60 lowered the median
#: over seeds 1–5 × 8 exemplars from 0.091 to 0.088 (gravel 0.112 → 0.106, below the strong
#: baseline's 0.109) for 1.4× the time (issue 15).
#: Above :data:`HUGE_OUTPUT` (2048²) all three scales are capped, the finest at 10: one 4096²
#: evaluation (tiled) costs ~100 CPU-seconds here, and (60, 30, 10) made a 4096² ink texture in
#: 18 CPU-minutes at a peak of 17.6 GiB with the default net of its day (18.6 CPU-minutes and
#: 17.9 GiB with today's; README, GPU and large outputs) where (60, 30) would have run
#: 100 + 60 + 30 evaluations, about three times as long.
#: Between 256² and 512² (:data:`FAST_OUTPUT`, :data:`LARGE_OUTPUT`) the finest scale runs 100,
#: as many as every coarser scale (5 steps of 20): over seeds 1–5 × 8 native exemplars at 512²,
#: 60 → 100 lowered seven of the eight medians (smoke 0.143 → 0.117, brick 0.075 → 0.070, water
#: 0.065 → 0.060; tom 0.037 → 0.038) and every worst seed, for about 1.3× the CPU time (issue 15,
#: docs/texture-quality.md, tenth round).  These caps are at most ``iterations ×
#: lbfgs_max_iter`` (100 by default); an explicit entry above it runs more steps
#: (:meth:`OptimConfig.scale_steps`).
SMALL_EVALUATIONS = (100,)
FAST_EVALUATIONS = (60,)
MEDIUM_EVALUATIONS = (100,)
LARGE_EVALUATIONS = (60, 30)
HUGE_EVALUATIONS = (60, 30, 10)
SMALL_OUTPUT = 128 * 128
FAST_OUTPUT = 256 * 256
#: The largest output (pixels) that draws a fresh net per scale by default
#: (:func:`default_net_per_scale`): better at 256², about even at 128², mixed at 512² (issue 15).
NET_PER_SCALE_OUTPUT = 256 * 256
LARGE_OUTPUT = 512 * 512
HUGE_OUTPUT = 2048 * 2048


def default_net_per_scale(loss: str, size: tuple[int, int]) -> bool:
    """Whether a texture with loss *loss* and an output of *size* (H, W) draws a fresh net per
    scale by default (:attr:`TextureConfig.net_per_scale`): for the Gram loss, up to
    :data:`NET_PER_SCALE_OUTPUT` pixels."""
    return parse_loss(loss)[0] == "gram" and size[0] * size[1] <= NET_PER_SCALE_OUTPUT


def default_coarse_nets(loss: str, size: tuple[int, int]) -> int:
    """How many net draws the coarsest scale matches at once by default
    (:attr:`TextureConfig.coarse_nets`): 2 for Gram outputs of *size* (H, W) above
    :data:`SMALL_OUTPUT` up to :data:`NET_PER_SCALE_OUTPUT` pixels, else 1."""
    pixels = size[0] * size[1]
    return 2 if parse_loss(loss)[0] == "gram" and SMALL_OUTPUT < pixels <= NET_PER_SCALE_OUTPUT else 1


def crops_per_side(exemplar: tuple[int, int], canvas: tuple[int, int], least: int) -> int:
    """Crops per side for an *exemplar* (H, W) on a *canvas* (H, W): *least*, or more where the
    exemplar is over *least* times the canvas, so that the crops cover all of it (``⌈E/S⌉``:
    neighbouring offsets are then at most a canvas apart)."""
    return max(least, *(math.ceil(e / c) for e, c in zip(exemplar, canvas)))


@torch.no_grad()
def crop_grams(net, exemplar: torch.Tensor, size: tuple[int, int], least: int,
               layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Mean Gram matrices ``{layer: (1, C, C)}`` over canvas-sized crops of *exemplar* for a canvas
    of *size* (H, W) (:func:`crops_per_side` per side, at least *least*; an exemplar no larger
    than the canvas is one crop), computed one crop at a time so that only one crop's features
    are ever in memory (``TextureConfig.crops``).  Crops smaller than the canvas (a side of the
    exemplar shorter than the canvas's) have the larger share of border positions; each layer's
    Gram matrix then weighs them by the canvas's share (:func:`untrained.losses.border_gram`)."""
    crops = grid_crops(exemplar, size, crops_per_side(exemplar.shape[-2:], size, least))
    smaller = tuple(crops[0].shape[-2:]) != tuple(size)
    if smaller:
        share, borders = border_shares(net, size, layers), border_masks(net, tuple(crops[0].shape[-2:]), layers)
    means: dict[str, torch.Tensor] = {}
    for crop in crops:
        for k, f in net(crop, layers).items():
            g = border_gram(f, borders[k], share[k]) if smaller else gram_matrix(f)
            means[k] = means.get(k, 0) + g / len(crops)
    return means


def _crops(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"crops must be a whole number ≥ 0 (0: the whole exemplar), got {value!r}")
    return value


def fast_evaluations(size: tuple[int, int]) -> tuple[int, ...]:
    """The default evaluation caps of the finest scales for an output of *size* (H, W)."""
    pixels = size[0] * size[1]
    if pixels <= SMALL_OUTPUT:
        return SMALL_EVALUATIONS
    if pixels <= FAST_OUTPUT:
        return FAST_EVALUATIONS
    if pixels <= LARGE_OUTPUT:
        return MEDIUM_EVALUATIONS
    return LARGE_EVALUATIONS if pixels <= HUGE_OUTPUT else HUGE_EVALUATIONS


@dataclass(frozen=True)
class TextureConfig:
    """Everything that determines a texture synthesis, as plain data.

    ``size`` is (height, width); ``None`` means the exemplar's size.  ``net=None`` means the
    default net of the loss (VGG-19 at half width for Gram and SWD, full width for a Gram
    texture of at most 128² px, champandard for patches; see :func:`default_net_options`);
    empty ``layers`` the net's
    default style layers.  ``normalize`` turns on He et al.'s automatic per-layer weights.
    ``loss`` is ``gram``, ``patch`` or ``swd``, optionally ``+spectrum`` (Liu et al. 2016's
    Fourier term, weighted by ``spectrum_weight``).  ``variety`` applies to the patch loss
    (neural-doodle's ``--variety``: each exemplar patch's score drops by variety × its best score
    of the previous evaluation).  ``tv`` is the total-variation form (``squared``, or
    neural-doodle's ``doodle``, see :func:`untrained.losses.tv_loss`).  ``tile`` makes the output tileable (circular padding in
    every convolution, wrapping TV, patches and rescaling).  ``blend`` weighs several exemplars.

    ``refine_layers`` are the layers matched at every scale after the coarsest: the coarsest
    scale lays out the large structure with all ``layers``; the finer ones refine detail, and
    their deepest layers cost the most while changing little (measured in
    benchmarks/bench_texture.py).  ``None`` means: for the Gram and SWD losses with the net's
    default layers, all but the deepest; otherwise (and when empty) the same as ``layers``.
    ``crops``: with the Gram loss, at every scale where the (scaled) exemplar is larger than the
    canvas, its target is the mean Gram matrix of at least ``crops`` × ``crops`` canvas-sized
    crops spanning it (:func:`untrained.image.grid_crops`; more when the exemplar is over
    ``crops`` times the canvas, to cover it: :func:`crops_per_side`) instead of the whole
    exemplar's; 0 takes the whole exemplar (the papers' setup), and so does a tileable output
    (no border to match).  With zero padding a feature map's border rows differ from its
    interior, and their share of the Gram matrix depends on the map's size: a 384² exemplar's
    share cannot be matched on a 256² canvas, and L-BFGS stalls (issue 15: gravel 384² → 256²,
    seeds 1–3, 0.077–0.141 with the whole exemplar, 0.058–0.061 with crops).  The default, 2,
    is the fewest crops that cover the exemplar (⌈E/S⌉ per side): more overlap in the middle,
    which then weighs more than the edges — 3 per side scored 0.109 against 0.070 on
    textures/3.jpg at 256² (a red Z in the middle of bark) and 2–10 % worse on six of the other
    seven exemplars; only smoke was better with 3 (0.127 against 0.141).  An exemplar smaller
    than the canvas has the opposite problem, a larger border share than the canvas can have, and
    the canvas paints border-like rows inside to match it; with ``crops`` its border positions
    (:func:`untrained.nets.border_masks`) are weighed by the canvas's share instead
    (:func:`untrained.losses.border_gram`; 512² from the 256²–400² exemplars, seeds 1–3: every
    median fell, water 0.105 → 0.062, smoke 0.342 → 0.156, gravel 0.098 → 0.052).  Re-weighting a
    larger exemplar's whole Gram matrix the same way instead of crops was worse at 256² (smoke
    0.17–0.21, ink 0.067–0.071 against 0.141 and 0.064).  docs/texture-quality.md.
    ``finest_layers`` replace them at the finest scale (when there are several scales); ``None``
    or empty: the refine layers.  ``conv1_1, conv1_2`` there (no pooled layer at the costliest
    scale) takes 12 % less time at 256² and lowers ``frame``, but scores 4–9 % worse on fine
    stochastic textures (gravel, grass; 6–19 % at 128²), so it is not the default (issue 15,
    docs/texture-quality.md).

    ``net_per_scale``: every scale after the coarsest matches its statistics in a fresh draw of
    the same net spec (seeded from ``seed`` and the scale), instead of the one net throughout
    that the papers use; ``None`` means on for Gram outputs up to 256² (:func:`default_net_per_scale`),
    off otherwise.  Most of the seed-to-seed spread is the net's draw, not the starting noise
    (water and t3 at 256², 5 nets × 5 starting images: a net's mean ranged over 0.070–0.089, a
    start's over 0.073–0.082), and which draws are bad differs by exemplar (rank correlations
    −0.2–0.4 between exemplars over 24 draws), so no criterion that sees no user image picks the
    good ones.  A fresh net per scale makes the output match the exemplar under three draws
    rather than one: over seeds 1–5 at 256² the medians of six of the eight native exemplars
    fell (smoke 0.158 → 0.128, brick 0.086 → 0.080, water 0.079 → 0.076; ink and tom rose by
    0.001–0.002) and seven of eight worst seeds (water 0.088 → 0.081), at no extra time.  At
    128² (full width, whose draws vary less) it was about even; at 512², from exemplars smaller
    than the output, it was mixed (ink, brick, smoke, t3 better; tom 0.037 → 0.050, water 0.065
    → 0.070), and with the 100 finest evaluations of today's 512² default still worse on tom
    (seeds 1–3: 0.043–0.048 against one net's 0.038–0.041), so it is off there (issue 15,
    docs/texture-quality.md, ninth and tenth rounds).

    ``coarse_nets``: the coarsest scale matches the exemplar's statistics in this many draws of
    the net at once (the problem's net and fresh draws of its spec; each draw's layers are
    weighted by He et al.'s rule like any term; :class:`untrained.nets.NetStack`), issue 15's
    "several nets at once".  ``None``: 2 for Gram outputs above 128² up to 256² pixels (the
    half-width net), 1 otherwise (:func:`default_coarse_nets`).  At 256² (seeds 1–5, 8 native
    exemplars) 2 lowered seven of the eight medians (ink 0.068 → 0.062, brick 0.080 → 0.075,
    smoke 0.128 → 0.122) and all eight worst seeds (t3's 0.088 → 0.076: 1.26× → 1.13× its
    median; water's by 0.0004), but raised water's median (0.076 → 0.078), for about 10 % more
    time.  At 128² (the full-width net) it was mixed (gravel 0.065 → 0.062, brick 0.067 →
    0.063; t3 0.075 → 0.076, smoke's worst seed 1.13× → 1.31× its median), and at 512² every
    median fell a little but smoke's worst seed went from 1.23× to 1.37× its median, so it is
    off there (docs/texture-quality.md, tenth and eleventh rounds).

    Explicit settings win (issue 15): ``None`` in ``optim`` is unset and filled here.  Unset
    ``scales`` become as many (up to 3) as the smallest input allows, so a 64² exemplar works
    with defaults; unset ``scale_evaluations`` cap the finest scales by output size
    (:func:`fast_evaluations`) only when neither ``iterations`` nor ``lbfgs_max_iter`` was set —
    ``iterations=5000, scales=1`` runs 5000 steps.  ``()`` means no cap.
    """

    size: tuple[int, int] | None = None
    net: NetSpec | None = None
    layers: tuple[str, ...] = ()
    refine_layers: tuple[str, ...] | None = None
    finest_layers: tuple[str, ...] | None = None
    crops: int = 2
    loss: str = "gram"
    style_weight: float = 1.0
    smoothness: float = 0.0
    tv: str = "squared"
    variety: float = 0.0
    spectrum_weight: float = 1.0
    net_per_scale: bool | None = None
    coarse_nets: int | None = None
    tile: bool = False
    blend: tuple[float, ...] = ()
    normalize: bool = True
    init: str = "noise"
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(scale_evaluations=None, channels_last=True))
    seed: int = 0

    def resolved(self, exemplar_size: tuple[int, int], exemplars: int = 1,
                 other_sizes: tuple[tuple[int, int], ...] = ()) -> "TextureConfig":
        """Fill defaults from the exemplar (and *other_sizes*, the other blended exemplars) and the
        net and check every setting; a :class:`UserError` names the first impossible one."""
        base, _ = parse_loss(self.loss)
        size = resolve_size(self.size, exemplar_size)
        net = self.net or default_net(self.loss, size)
        if self.tile:
            net = net.replace(padding="circular")
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
        finest = tuple(self.finest_layers or ()) or refine
        check_net(net, finest)
        check_choice(self.init, INITS, "init")
        check_choice(self.tv, TV_FORMS, "total-variation form")
        blend = blend_weights(tuple(self.blend), exemplars, loss=self.loss)  # before the sizes: clearer errors first
        optim = self.optim
        if optim.scale_evaluations is None:  # cap only when the user set no evaluation count
            counted = optim.iterations is not None or optim.lbfgs_max_iter is not None
            optim = dataclasses.replace(optim, scale_evaluations=() if counted else fast_evaluations(size))
        images = {"exemplar": exemplar_size, **{f"exemplar {i + 2}": s for i, s in enumerate(other_sizes)}}
        if optim.scales is None:  # unset: as many scales (up to 3) as the smallest input allows
            optim = dataclasses.replace(optim, scales=fit_scales(net, layers, size, UNSET_DEFAULTS["scales"], images,
                                                                 patch=base == "patch"))
        coarse_nets = default_coarse_nets(self.loss, size) if self.coarse_nets is None else self.coarse_nets
        if isinstance(coarse_nets, bool) or not isinstance(coarse_nets, int) or coarse_nets < 1:
            raise UserError(f"coarse_nets must be a whole number ≥ 1, got {coarse_nets!r}")
        if self.net_per_scale is not None and not isinstance(self.net_per_scale, bool):
            raise UserError(f"net_per_scale must be true, false or unset, got {self.net_per_scale!r}")
        cfg = dataclasses.replace(
            self, net=net, size=size, layers=layers, refine_layers=refine, finest_layers=finest,
            net_per_scale=default_net_per_scale(self.loss, size) if self.net_per_scale is None else self.net_per_scale,
            coarse_nets=coarse_nets,
            optim=fill_degrid(optim, net).resolved(size),
            style_weight=finite_nonneg(self.style_weight, "style weight"),
            smoothness=finite_nonneg(self.smoothness, "smoothness"),
            variety=finite_nonneg(self.variety, "variety"),
            spectrum_weight=finite_nonneg(self.spectrum_weight, "spectrum weight"),
            crops=_crops(self.crops),
            blend=blend,
        )
        check_sizes(net, layers, cfg.size, cfg.optim.scales, images, patch=base == "patch")
        return cfg


class TextureProblem(NetProblem):
    """Style targets of the exemplar(s) at every scale, plus optional spectrum and TV terms."""

    def __init__(self, exemplar, config: TextureConfig, device: torch.device | str = "cpu"):
        super().__init__(config.net, config.seed, device)
        self.exemplars = [self.put(e) for e in ([exemplar] if torch.is_tensor(exemplar) else exemplar)]
        self.exemplar, self.config, self.tile = self.exemplars[0], config, config.tile
        self.sizes = [tuple(s) for s in scale_sizes(config.size, config.optim.scales)]
        self.coarsest = self.sizes[0]
        self.scale_nets: dict[int, torch.nn.Module] = {}
        self.attempt = 0

    def reseed(self, attempt: int) -> None:
        super().reseed(attempt)
        self.scale_nets, self.attempt = {}, attempt

    def scale_net(self, size: tuple[int, int], layers: tuple[str, ...]):
        """The net of the scale of *size*: the problem's net at the coarsest scale (and at every
        scale without ``net_per_scale``), else a fresh draw of the same spec for that scale, built
        only up to the deepest of *layers* (:attr:`TextureConfig.net_per_scale`)."""
        index = self.sizes.index(tuple(size))
        if index == 0 or not self.config.net_per_scale:
            return self.net
        if index not in self.scale_nets:
            deepest = max(self.spec.index(layer) for layer in layers)
            spec = self.spec.replace(layers=self.spec.layers[: deepest + 1], style_layers=(), content_layers=())
            self.scale_nets[index] = self._fresh(spec, f"scale{index}")
        return self.scale_nets[index]

    def _fresh(self, spec: NetSpec, tag: str) -> torch.nn.Module:
        """A fresh draw of *spec* from the seed's ``net:<tag>`` stream (this restart's)."""
        restart = f":restart{self.attempt}" if self.attempt else ""
        return build(spec, derive_seed(self.seed, f"net:{tag}{restart}")).to(self.device)

    def coarse_draws(self) -> list[torch.nn.Module]:
        """The nets of the coarsest scale: the problem's net, and ``coarse_nets − 1`` fresh draws
        of its spec (:attr:`TextureConfig.coarse_nets`)."""
        return [self.net] + [self._fresh(self.spec, f"coarse{k}") for k in range(2, self.config.coarse_nets + 1)]

    def _style(self, net, exemplars, size, layers, draw: int = 1) -> list:
        c = self.config
        base = parse_loss(c.loss)[0]
        cropped = bool(c.crops) and base == "gram" and not c.tile  # canvas-sized crops: the canvas's border share
        with torch.no_grad():
            targets = [crop_grams(net, e, size, c.crops, layers) if cropped else net(e, layers)
                       for e in exemplars]
        if draw > 1:  # the names a NetStack gives this draw's layers
            targets = [{NetStack.name(k, draw): v for k, v in t.items()} for t in targets]
        return style_terms(targets, base, c.style_weight, c.variety, blend=c.blend, circular=c.tile, grams=cropped)

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        c = self.config
        spectrum = parse_loss(c.loss)[1]
        exemplars = [scaled(e, factor) for e in self.exemplars]
        if tuple(size) == self.coarsest:
            layers = c.layers
        else:
            layers = c.finest_layers if tuple(size) == tuple(c.size) else c.refine_layers
        if tuple(size) == self.coarsest and c.coarse_nets > 1:
            draws = self.coarse_draws()
            net = NetStack(draws)
            terms = [t for k, d in enumerate(draws, 1) for t in self._style(d, exemplars, size, layers, k)]
        else:
            net = self.scale_net(size, layers)
            terms = self._style(net, exemplars, size, layers)
        if spectrum:
            terms += spectrum_term(exemplars, size, c.spectrum_weight, c.blend)
        return Objective(net, terms + tv_term(c.smoothness, c.tile, c.tv))

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        if self.config.init == "mean":
            mean = sum(w * e.mean(dim=(2, 3), keepdim=True) for e, w in zip(self.exemplars, self.config.blend))
            return mean + 0.1 * randn((1, 3, *size), generator, self.device)
        return noise(size, generator, self.device)


def texture_synthesis(
    exemplar,
    config: TextureConfig | None = None,
    callback: Callable[[Iterate], None] | None = None,
    device: torch.device | str | None = "auto",
) -> tuple[Synthesis, dict]:
    """A ready-to-run :class:`Synthesis` for *exemplar* (one image, or a list whose statistics
    are blended) on *device* (see :func:`untrained.devices.resolve`), and the resolved config
    as a dict (which does not name the device: the run's stats do).

    Use this instead of :func:`texture` to keep hold of the synthesis (resume it, or save its
    best image when interrupted).
    """
    exemplars = [check_image(e, "exemplar") for e in ([exemplar] if torch.is_tensor(exemplar) else exemplar)]
    if not exemplars:
        raise UserError("give at least one exemplar")
    sizes = [tuple(e.shape[-2:]) for e in exemplars]
    cfg = (config or TextureConfig()).resolved(sizes[0], len(exemplars), tuple(sizes[1:]))
    device = resolve_device(device)
    check_memory(cfg.net, cfg.layers, cfg.size, cfg.optim.lbfgs_history,
                 tuple(exemplars[0].shape[-2:]) if cfg.loss.startswith("patch") else None, device=device,
                 tile=cfg.optim.tile_size)
    synthesis = Synthesis(TextureProblem(exemplars, cfg, device), cfg.optim, cfg.size, cfg.seed, cfg.normalize, callback)
    digests = [image_digest(e) for e in exemplars]
    inputs = {"exemplar": digests[0]} if len(digests) == 1 else {"exemplars": digests}
    return synthesis, {"task": "texture", **to_dict(cfg), "inputs": inputs}


def texture(
    exemplar,
    config: TextureConfig | None = None,
    *,
    callback: Callable[[Iterate], None] | None = None,
    device: torch.device | str | None = "auto",
    **changes,
) -> Result:
    """Synthesise a texture that matches *exemplar*'s statistics in a random network.

    *exemplar* is a ``(1, 3, H, W)`` tensor in [0, 1] (see :func:`untrained.load_image`), or a
    list of them mixed by ``blend``.
    Settings come from *config* and/or keyword *changes* to it (``size=(256, 256)``, ``seed=7``,
    ``loss="patch"``, ``optim=OptimConfig(...)``); *device* is ``auto`` (CUDA, then MPS, then the
    CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.  Returns a :class:`Result` with the image, the
    loss history, the resolved config and run statistics.  He et al. 2016 §3; Du 2020 §3;
    Champandard 2016 for ``loss="patch"``.
    """
    cfg = dataclasses.replace(config or TextureConfig(), **changes)
    synthesis, resolved = texture_synthesis(exemplar, cfg, callback, device)
    image = synthesis.run()
    return Result(image, synthesis.history, resolved, synthesis.stats())
