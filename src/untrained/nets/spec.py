"""Declarative network architectures.

A :class:`NetSpec` is plain data: an ordered tuple of :class:`LayerSpec` (conv, activation or
pooling), the weight and bias initialisers by name, the padding mode and the input
normalisation.  :mod:`untrained.nets.build` turns it into a module.  Presets are entries of
:data:`PRESETS`; each is a function returning a spec, so the zoo grows by registration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from ..errors import UserError
from ..registry import Registry, closest

#: Layer operations understood by the builder.
OPS = ("conv", "act", "pool")


@dataclass(frozen=True)
class LayerSpec:
    """One named layer.

    * ``op="conv"``: ``channels`` outputs, ``kernel``×``kernel``, ``stride``; ``fn`` is the
      activation applied right after (``"relu"``, ``"elu"``, ``"lrelu:0.333"``, ``"none"``), so the
      layer's output is the *rectified* response, as the papers' ``conv3_1`` means.
    * ``op="act"``: the activation ``fn`` alone (the PyTorch tutorial names these ``relu_N``).
    * ``op="pool"``: ``fn`` is ``"avg"`` or ``"max"``, window ``kernel``, ``stride``.

    A conv layer may override the net's initialiser (``weights``, e.g. Du §6.2's designed
    first-layer kernels) and draw from its own ``seed`` (He et al.'s greedy stacking picks it).
    """

    name: str
    op: str
    channels: int = 0
    kernel: int = 3
    stride: int = 1
    fn: str = "none"
    weights: str = ""
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise UserError(f"layer {self.name}: unknown op {self.op!r}; choose from {', '.join(OPS)}")
        if self.kernel < 1 or self.stride < 1:
            raise UserError(f"layer {self.name}: kernel and stride must be ≥ 1")
        if self.op == "conv" and self.channels < 1:
            raise UserError(f"layer {self.name}: a conv layer needs ≥ 1 channel")


@dataclass(frozen=True)
class NetSpec:
    """A whole random network: architecture plus how its parameters are drawn.

    ``weights`` and ``bias`` name initialisers of :mod:`untrained.nets.init`
    (e.g. ``"uniform:0.1"`` and ``"0.5"`` for Du 2020 §5; ``"gaussian:0.015"`` and ``"zero"`` for
    He et al. 2016).  ``style_layers`` / ``content_layers`` are the preset's defaults for the tasks.
    ``padding`` defaults to ``"reflect"``: with zero padding the borders of every feature map
    differ from the interior and the synthesis paints frames and corner blobs (seen at 128 px);
    ``"zeros"`` is what VGG and the papers used, ``"circular"`` makes outputs tile.
    """

    name: str
    layers: tuple[LayerSpec, ...]
    weights: str = "uniform:0.1"
    bias: str = "0.5"
    padding: str = "reflect"
    input_norm: str = "imagenet"
    style_layers: tuple[str, ...] = ()
    content_layers: tuple[str, ...] = ()
    pyramid: str = "none"
    levels: int = 5

    def __post_init__(self) -> None:
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise UserError(f"net {self.name}: duplicate layer names")
        if not self.layers:
            raise UserError(f"net {self.name}: no layers")
        if self.pyramid not in ("none", "gaussian", "laplacian"):
            raise UserError(f"unknown pyramid {self.pyramid!r}; choose from none, gaussian, laplacian")
        if self.pyramid != "none" and not 1 <= self.levels <= 12:
            raise UserError(f"pyramid levels must be 1…12, got {self.levels}")

    @property
    def layer_names(self) -> list[str]:
        """Names of all layers, in forward order."""
        return [layer.name for layer in self.layers]

    @property
    def tap_names(self) -> list[str]:
        """Every name a loss can read: the layers, or ``layer@level`` on a pyramid net (Du §6.3)."""
        if self.pyramid == "none":
            return self.layer_names
        return [f"{n}@{k}" for k in range(1, self.levels + 1) for n in self.layer_names]

    def split_tap(self, name: str) -> tuple[str, int]:
        """``"conv1@3"`` → ``("conv1", 3)``; plain names give level 1.  Unknown names are errors."""
        layer, _, level = name.partition("@")
        ok = layer in self.layer_names and (
            (self.pyramid == "none" and not level)
            or (self.pyramid != "none" and level.isdigit() and 1 <= int(level) <= self.levels)
        )
        if not ok:
            names = self.tap_names
            raise UserError(
                f"net {self.name} has no layer {name!r}{closest(name, names)}; "
                f"its layers are {', '.join(names)}"
            )
        return layer, int(level) if level else 1

    def index(self, name: str) -> int:
        """Position in :attr:`layers` of tap *name*; unknown names are a :class:`UserError` with a suggestion."""
        layer, _ = self.split_tap(name)
        return self.layer_names.index(layer)

    def replace(self, **changes) -> "NetSpec":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


PRESETS: Registry[Callable[[], NetSpec]] = Registry("net")

VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def vgg_layers(blocks=VGG19_BLOCKS, pool: str = "avg", fn: str = "relu") -> tuple[LayerSpec, ...]:
    """VGG-style layers named ``conv{b}_{i}`` and ``pool{b}`` (Simonyan & Zisserman; the papers' names)."""
    layers: list[LayerSpec] = []
    for b, (channels, count) in enumerate(blocks, start=1):
        for i in range(1, count + 1):
            layers.append(LayerSpec(f"conv{b}_{i}", "conv", channels, 3, 1, fn))
        layers.append(LayerSpec(f"pool{b}", "pool", kernel=2, stride=2, fn=pool))
    return tuple(layers)


@PRESETS.register("vgg19", "VGG-19 conv/pool layout, average pooling, Du's U(±0.1) weights and bias 0.5 (He et al. 2016; Du 2020)")
def vgg19() -> NetSpec:
    """The 16 conv and 5 pooling layers of VGG-19 with random weights.

    Average pooling as Gatys et al. and He et al. §3 use; Du 2020's best simple distribution
    (uniform ±0.1, bias 0.5) by default.  Default style layers conv1_1, conv2_1, conv3_1: He et
    al. (Fig. 5) go on to conv4_1 and conv5_1, but with random weights those deep layers leave a
    2-px grid of high-frequency noise at a few hundred evaluations (seen on ink.jpg and water.jpg
    at 128–256 px, with Du's and He's initialisations alike); pass ``--layers`` to use them.
    """
    return NetSpec(
        name="vgg19",
        layers=vgg_layers(),
        style_layers=("conv1_1", "conv2_1", "conv3_1"),
        content_layers=("conv4_2",),
    )


@PRESETS.register("vgg19-tutorial", "first five VGG-19 convs as the PyTorch neural-style tutorial names them (Du 2020 §3)")
def vgg19_tutorial() -> NetSpec:
    """conv_1…conv_5 (= conv1_1, conv1_2, conv2_1, conv2_2, conv3_1) with separate ``relu_N`` and
    max ``pool_N`` layers, as in the PyTorch tutorial Du 2020 uses; the ``conv_N`` taps are
    *before* the ReLU, as there.  Du's defaults: uniform ±0.1 weights, bias 0.5."""
    layers: list[LayerSpec] = []
    plan = [(64, False), (64, True), (128, False), (128, True), (256, False)]
    for i, (channels, pool_after) in enumerate(plan, start=1):
        layers.append(LayerSpec(f"conv_{i}", "conv", channels, 3, 1, "none"))
        layers.append(LayerSpec(f"relu_{i}", "act", fn="relu"))
        if pool_after:
            layers.append(LayerSpec(f"pool_{i // 2}", "pool", kernel=2, stride=2, fn="max"))
    return NetSpec(
        name="vgg19-tutorial",
        layers=tuple(layers),
        style_layers=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5"),
        content_layers=("conv_4",),
    )


#: The blog's ten layers as the post lists them: (name, units, kernel, stride).
LISTED_PLAN = (
    ("conv1_1", 48, 3, 1), ("conv1_2", 48, 3, 1),
    ("conv2_1", 80, 2, 2), ("conv2_2", 80, 3, 1),
    ("conv3_1", 112, 2, 2), ("conv3_2", 112, 3, 1), ("conv3_3", 112, 3, 1),
    ("conv4_1", 176, 2, 2), ("conv4_2", 176, 3, 1), ("conv4_3", 176, 3, 1),
)
#: The path the blog's code actually ran (neural-doodle's ``random`` branch, commit c17e91c):
#: ``conv2_1`` reads ``conv1_1`` and ``conv4_1`` reads ``conv3_2``, so ``conv1_2``, ``conv2_2``
#: and ``conv3_3`` are defined there but lie off the path to the style layers.
ASRUN_PLAN = (
    ("conv1_1", 48, 3, 1), ("conv2_1", 80, 2, 2), ("conv3_1", 112, 2, 2),
    ("conv3_2", 112, 3, 1), ("conv4_1", 176, 2, 2),
)


def _champandard_listed(name: str) -> NetSpec:
    return NetSpec(
        name=name,
        layers=tuple(LayerSpec(n, "conv", c, k, s, "elu") for n, c, k, s in LISTED_PLAN),
        style_layers=("conv3_1", "conv4_1"),
        content_layers=("conv4_1",),
    )


@PRESETS.register("champandard-listed", "the blog's net AS THE POST LISTS IT: ten ELU convs, 2×2 stride-2 downsampling, "
                  "48/80/112/176 units, this project's U(±0.1)/0.5 init (not what ran: see champandard-asrun)")
def champandard_listed() -> NetSpec:
    """Champandard 2016's random net as the blog post lists it: ten conv layers in sequence, ELU,
    downsampling by 2×2 stride-2 convolutions (conv2_1, conv3_1, conv4_1); patches on conv3_1 and
    conv4_1.  Weights and input normalisation are this project's defaults, not the blog's."""
    return _champandard_listed("champandard-listed")


@PRESETS.register("champandard", "alias of champandard-listed (kept for old configs and recipes)")
def champandard() -> NetSpec:
    """The same net as :func:`champandard_listed`, under its old name."""
    return _champandard_listed("champandard")


@PRESETS.register("champandard-asrun", "the blog's net AS IT RAN (neural-doodle c17e91c): 5-conv path conv1_1→conv2_1→conv3_1→"
                  "conv3_2→conv4_1, ELU, Glorot-uniform weights, zero bias, input in [-1, 1], zero padding")
def champandard_asrun() -> NetSpec:
    """Champandard 2016's random net as the code behind the blog ran it (neural-doodle's
    ``random`` branch, commit c17e91c, ``Model.setup_model``): ``conv2_1`` reads ``conv1_1`` and
    ``conv4_1`` reads ``conv3_2``, so the style layers sit on a five-layer path
    conv1_1 (48, 3×3) → conv2_1 (80, 2×2/2) → conv3_1 (112, 2×2/2) → conv3_2 (112, 3×3) →
    conv4_1 (176, 2×2/2), ELU after each.  Lasagne's default parameters: Glorot-uniform weights,
    gain 1, zero biases; the input is scaled to [-1, 1] without mean subtraction; 3×3 convs pad 1
    with zeros, the 2×2 stride-2 ones do not pad."""
    return NetSpec(
        name="champandard-asrun",
        layers=tuple(LayerSpec(n, "conv", c, k, s, "elu") for n, c, k, s in ASRUN_PLAN),
        weights="glorot:1", bias="zero", padding="zeros", input_norm="signed",
        style_layers=("conv3_1", "conv4_1"),
        content_layers=("conv4_1",),
    )


@PRESETS.register("npnd", "Du 2020 §6.1: no pooling, no doubling — five 3×3 convs of 64 channels, binary ±0.1 weights, bias 0.5")
def npnd() -> NetSpec:
    """Du 2020 §6.1's NPND net: the tutorial's five conv layers with no pooling and no doubling of
    channels (64 throughout, ``--width`` changes it), binary ±0.1 weights, bias 0.5; the style
    loss reads ``conv_1``…``conv_5`` before their ReLUs, as in the tutorial."""
    layers: list[LayerSpec] = []
    for i in range(1, 6):
        layers.append(LayerSpec(f"conv_{i}", "conv", 64, 3, 1, "none"))
        layers.append(LayerSpec(f"relu_{i}", "act", fn="relu"))
    return NetSpec(
        name="npnd", layers=tuple(layers), weights="binary:0.1",
        style_layers=tuple(f"conv_{i}" for i in range(1, 6)), content_layers=("conv_4",),
    )


@PRESETS.register("shallow", "Du 2020 §6.3: one 3×3 conv + ReLU on each of 5 Gaussian-pyramid levels (no depth)")
def shallow() -> NetSpec:
    """Du 2020 §6.3: a single conv layer (64 channels, binary ±0.1 weights, bias 0.5) and ReLU
    applied to each level of a 5-level Gaussian pyramid (``--pyramid laplacian`` for a Laplacian
    one; ``--downsample avg|max`` adds the optional pooling layer).  The loss sums over levels:
    taps are ``conv1@1`` … ``conv1@5``."""
    return NetSpec(
        name="shallow", layers=(LayerSpec("conv1", "conv", 64, 3, 1, "relu"),), weights="binary:0.1",
        pyramid="gaussian", levels=5,
        style_layers=tuple(f"conv1@{k}" for k in range(1, 6)), content_layers=("conv1@1",),
    )


def preset(name: str) -> NetSpec:
    """The :class:`NetSpec` of preset *name* (see ``untrained nets``)."""
    return PRESETS.get(name)()
