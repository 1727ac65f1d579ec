"""Modifiers that turn a preset into any point of the papers' ablation space.

:class:`NetOptions` holds the CLI's network flags as plain data; :meth:`NetOptions.apply` maps a
preset :class:`NetSpec` to the modified spec, which is what lands in every output's config.
Each modifier is the experiment of a paper:

* ``activation`` — Champandard 2016 (ReLU / very leaky ReLU / ELU); Du 2020 Fig. 6 (no ReLU).
* ``downsample`` — Champandard 2016 (average / max / strided); Du 2020 §6.1 (no pooling).
* ``no_doubling``, ``width`` — Du 2020 §6.1 (NPND; 4, 16, 71, 512 filters); the blog's half and
  quarter units.
* ``depth`` — the blog's double and triple layers.
* ``kernel``, ``kernels`` — Du 2020 §6.2 (random 2×2 vs 3×3; designed 2×2 first-layer kernels).
* ``weights``, ``bias``, ``padding``, ``pyramid`` — Du 2020 §5 and §6.3; He et al. 2016.
* ``greedy`` — He et al. 2016's stacked random weights (best of K per layer).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from ..errors import UserError
from ..registry import parse_choice
from .build import ACTIVATIONS, PADDINGS
from .init import designed_count
from .spec import LayerSpec, NetSpec, preset

DOWNSAMPLES = ("avg", "max", "stride", "none")


@dataclass(frozen=True)
class NetOptions:
    """Network flags; ``None`` / defaults leave the preset as it is.

    Each field's ``help`` metadata is its command-line help: the CLI derives the flags from
    these fields, so a new option is added here once."""

    net: str = field(default="vgg19", metadata={"help": "preset: {presets}"})
    weights: str | None = field(default=None, metadata={"help": (
        "uniform:A | gaussian:SIGMA | binary:A | ternary:A[:P_ZERO] | levels:A:N | shuffled:FILE"
        " | binarized:FILE[:A] | trained:FILE")})
    bias: str | None = field(default=None, metadata={
        "help": "zero | VALUE | gaussian:SIGMA | shuffled:FILE | trained:FILE"})
    activation: str | None = field(default=None, metadata={"help": "relu | lrelu:SLOPE | elu | none"})
    downsample: str | None = field(default=None, metadata={"help": "avg | max | stride | none"})
    no_doubling: bool = field(default=False, metadata={
        "help": "keep channel counts constant (Du's NPND with --downsample none)"})
    width: float | None = field(default=None, metadata={
        "help": "channel multiplier (<4, e.g. 0.5) or the first layer's channel count (≥4)"})
    depth: int = field(default=1, metadata={
        "help": "repeat each plain conv N times (the blog's double/triple layers)"})
    kernel: int | None = field(default=None, metadata={
        "help": "kernel size of the plain convs (2 or 3)"})
    kernels: str | None = field(default=None, metadata={
        "help": "Du §6.2's designed 2×2 first-layer kernels SET:STRATEGY[:A]"})
    padding: str | None = field(default=None, metadata={
        "help": "zeros | reflect | circular (default reflect)"})
    pyramid: str | None = field(default=None, metadata={
        "help": "gaussian | laplacian[:LEVELS]: run the net on each pyramid level (Du §6.3)"})
    greedy: int = field(default=0, metadata={
        "metavar": "K",
        "help": "He et al.'s stacked weights: best of K candidates per layer (cached)"})

    def apply(self, spec: NetSpec | None = None, seed: int = 0) -> NetSpec:
        """The preset (or *spec*) with every modifier applied, in a fixed order; *seed* feeds
        the greedy selection (``greedy`` candidates per layer, He et al. 2016) when asked for."""
        spec = spec or preset(self.net)
        if self.weights is not None or self.bias is not None:
            spec = spec.replace(weights=self.weights or spec.weights, bias=self.bias or spec.bias)
        if self.padding is not None:
            if self.padding not in PADDINGS:
                raise UserError(f"unknown padding {self.padding!r}; choose from {', '.join(PADDINGS)}")
            spec = spec.replace(padding=self.padding)
        if self.pyramid is not None:
            spec = set_pyramid(spec, self.pyramid)
        if self.activation is not None:
            spec = set_activation(spec, self.activation)
        if self.downsample is not None:
            spec = set_downsample(spec, self.downsample)
        if self.no_doubling:
            spec = no_doubling(spec)
        if self.width is not None:
            spec = set_width(spec, self.width)
        if self.kernel is not None:
            spec = set_kernel(spec, self.kernel)
        if self.depth != 1:
            spec = set_depth(spec, self.depth)
        if self.kernels is not None:
            spec = designed_first_layer(spec, self.kernels)
        if self.greedy:
            from .greedy import greedy_select

            spec = greedy_select(spec, self.greedy, seed)
        return spec


def _with_layers(spec: NetSpec, layers: list[LayerSpec]) -> NetSpec:
    """*spec* with new layers; default taps that no longer exist are dropped or remapped."""
    names = {layer.name for layer in layers}
    probe = spec.replace(layers=tuple(layers), style_layers=(), content_layers=())

    def keep(taps):
        return tuple(t for t in taps if t.partition("@")[0] in names)

    if spec.pyramid != "none":  # Du §6.3: the loss reads the shallow net's output at each level
        last = layers[-1].name
        taps = tuple(f"{last}@{k}" for k in range(1, probe.levels + 1))
        return probe.replace(style_layers=taps, content_layers=taps[:1])
    return probe.replace(style_layers=keep(spec.style_layers), content_layers=keep(spec.content_layers))


def set_pyramid(spec: NetSpec, kind: str) -> NetSpec:
    """Run the net on each level of a Gaussian or Laplacian pyramid (Du 2020 §6.3)."""
    name, args = parse_choice(kind)
    if name not in ("gaussian", "laplacian", "none"):
        raise UserError(f"unknown pyramid {kind!r}; choose from gaussian, laplacian, none (optionally :LEVELS)")
    if len(args) > 1 or (args and not (args[0].isdigit() and int(args[0]) >= 1)):
        raise UserError(f"pyramid {kind!r}: LEVELS must be one whole number ≥ 1")
    levels = int(args[0]) if args else spec.levels
    if spec.pyramid == "none" and name != "none":
        # A net made for whole images (VGG…): read its first default style layer on every level,
        # not its deepest layer, which would need an input of hundreds of pixels per level.
        first = (spec.style_layers or (spec.layers[0].name,))[0].partition("@")[0]
        taps = tuple(f"{first}@{k}" for k in range(1, levels + 1))
        return spec.replace(pyramid=name, levels=levels, style_layers=taps, content_layers=taps[:1])
    return _with_layers(spec.replace(pyramid=name, levels=levels), list(spec.layers))


def set_activation(spec: NetSpec, fn: str) -> NetSpec:
    """Replace every non-linearity (fused into convs or standalone) by *fn*."""
    name, _ = parse_choice(fn)
    ACTIVATIONS.get(name)
    layers = [
        dataclasses.replace(l, fn=fn) if l.op == "act" or (l.op == "conv" and l.fn != "none") else l
        for l in spec.layers
    ]
    return spec.replace(layers=tuple(layers))


def _block_of(name: str) -> int | None:
    m = re.match(r"conv(\d+)_\d+$", name)
    return int(m.group(1)) if m else None


def set_downsample(spec: NetSpec, how: str) -> NetSpec:
    """Make every downsampling site (pooling layer or strided conv) average / max pooling, a
    stride-2 convolution, or nothing (Champandard 2016; Du 2020 §6.1).

    A pool turned into a stride moves its stride to the next conv; a strided 2×2 conv turned into
    pooling becomes a pool followed by a plain 3×3 conv.  A net with no downsampling at all (the
    shallow one) gets a 2×2 pool appended (Du §6.3's optional pooling)."""
    if how not in DOWNSAMPLES:
        raise UserError(f"unknown downsampling {how!r}; choose from {', '.join(DOWNSAMPLES)}")
    layers = list(spec.layers)
    sites = [i for i, l in enumerate(layers) if l.op == "pool" or (l.op == "conv" and l.stride > 1)]
    if not sites:
        if how in ("avg", "max"):
            layers.append(LayerSpec("pool1", "pool", kernel=2, stride=2, fn=how))
        return _with_layers(spec, layers)
    out: list[LayerSpec] = []
    carry_stride = False
    for i, l in enumerate(layers):
        if l.op == "pool":
            if how in ("avg", "max"):
                out.append(dataclasses.replace(l, fn=how))
            elif how == "stride":
                carry_stride = True
            continue
        if l.op == "conv" and carry_stride:
            out.append(dataclasses.replace(l, stride=2))
            carry_stride = False
            continue
        if l.op == "conv" and l.stride > 1 and how != "stride":
            plain = dataclasses.replace(l, stride=1, kernel=3 if l.kernel == l.stride else l.kernel)
            if how in ("avg", "max"):
                block = _block_of(l.name)
                pool_name = f"pool{block - 1}" if block else f"pool_{l.name}"
                out.append(LayerSpec(pool_name, "pool", kernel=2, stride=2, fn=how))
            out.append(plain)
            continue
        out.append(l)
    return _with_layers(spec, out)


def _convs(spec: NetSpec) -> list[LayerSpec]:
    return [l for l in spec.layers if l.op == "conv"]


def no_doubling(spec: NetSpec) -> NetSpec:
    """Every conv gets the first conv's channel count (Du 2020 §6.1's "no doubling")."""
    first = _convs(spec)[0].channels
    return spec.replace(layers=tuple(dataclasses.replace(l, channels=first) if l.op == "conv" else l for l in spec.layers))


def set_width(spec: NetSpec, width: float) -> NetSpec:
    """Scale channel counts: ``width < 4`` is a multiplier (the blog's 0.5, 0.25 units), ``≥ 4`` an
    absolute count for the first conv with the others in proportion (Du Fig. 6: 4, 16, 71, 512)."""
    if not width > 0:
        raise UserError(f"--width must be positive, got {width}")
    first = _convs(spec)[0].channels
    factor = width if width < 4 else width / first
    if width >= 4 and width != int(width):
        raise UserError(f"--width ≥ 4 is a channel count and must be a whole number, got {width}")
    layers = [dataclasses.replace(l, channels=max(1, round(l.channels * factor))) if l.op == "conv" else l for l in spec.layers]
    return spec.replace(layers=tuple(layers))


def set_kernel(spec: NetSpec, kernel: int) -> NetSpec:
    """Kernel size of the plain (stride-1) convolutions (Du 2020 §6.2: 2×2 vs 3×3)."""
    if kernel not in (1, 2, 3, 4, 5, 7):
        raise UserError(f"--kernel must be one of 1, 2, 3, 4, 5, 7, got {kernel}")
    return spec.replace(layers=tuple(dataclasses.replace(l, kernel=kernel) if l.op == "conv" and l.stride == 1 else l for l in spec.layers))


def set_depth(spec: NetSpec, depth: int) -> NetSpec:
    """Repeat every plain (stride-1) convolution *depth* times (the blog's double and triple
    layers); the repeats follow the original and are named ``NAME_r2``, ``NAME_r3``…"""
    if not 1 <= depth <= 8:
        raise UserError(f"--depth must be 1…8, got {depth}")
    out: list[LayerSpec] = []
    for l in spec.layers:
        out.append(l)
        if l.op == "conv" and l.stride == 1:
            out.extend(dataclasses.replace(l, name=f"{l.name}_r{k}", weights="", seed=None) for k in range(2, depth + 1))
    return spec.replace(layers=tuple(out))


def designed_first_layer(spec: NetSpec, kernels: str) -> NetSpec:
    """Replace the first conv by Du 2020 §6.2's designed 2×2 kernels ``SET:STRATEGY[:A]``."""
    parts = kernels.split(":")
    if len(parts) not in (2, 3):
        raise UserError(f"--kernels: expected SET:STRATEGY[:A], got {kernels!r}")
    count = designed_count(*parts[:2])
    layers = list(spec.layers)
    i = next(i for i, l in enumerate(layers) if l.op == "conv")
    layers[i] = dataclasses.replace(layers[i], kernel=2, stride=1, channels=count, weights=f"designed:{kernels}")
    return spec.replace(layers=tuple(layers))


def make(net: str = "vgg19", **options) -> NetSpec:
    """A preset with modifiers, e.g. ``make("champandard", width=0.5, depth=2)``."""
    return NetOptions(net=net, **options).apply()
