"""NetSpec → :class:`FeatureNet`, a frozen random network that returns the activations of the
requested layers in one forward pass and stops at the deepest one.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError
from ..image import image_pyramid
from ..registry import Registry, parse_choice, parse_float
from .init import InitContext, draw
from .spec import LayerSpec, NetSpec

ACTIVATIONS: Registry[Callable[[list[str]], Callable[[torch.Tensor], torch.Tensor]]] = Registry("activation")
POOLS: Registry[Callable[..., torch.Tensor]] = Registry("pooling")
PADDINGS = {"zeros": "constant", "reflect": "reflect", "circular": "circular"}
#: Input normalisations: (mean, std) applied to [0, 1] RGB before the first layer.
INPUT_NORMS = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "center": ((0.5, 0.5, 0.5), (1.0, 1.0, 1.0)),
    "none": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "signed": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # [0, 1] → [-1, 1] (neural-doodle: x / 127.5 − 1)
}


@ACTIVATIONS.register("relu", "max(x, 0) — VGG's rectifier")
def _relu(args):
    return F.relu


@ACTIVATIONS.register("lrelu", "leaky rectifier lrelu:SLOPE (the blog's very leaky one is 1/3)")
def _lrelu(args):
    slope = parse_float(args[0], "lrelu:SLOPE") if args else 1.0 / 3.0
    return lambda x: F.leaky_relu(x, slope)


@ACTIVATIONS.register("elu", "exponential linear unit (Champandard 2016)")
def _elu(args):
    return F.elu


@ACTIVATIONS.register("none", "identity: no non-linearity (Du 2020 Fig. 6f)")
def _none(args):
    return lambda x: x


POOLS.register("avg", "average pooling (He et al.; Gatys et al.)")(F.avg_pool2d)
POOLS.register("max", "max pooling (VGG; the PyTorch tutorial)")(F.max_pool2d)


def activation(fn: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation function named *fn* (``relu``, ``lrelu:SLOPE``, ``elu``, ``none``)."""
    name, args = parse_choice(fn)
    return ACTIVATIONS.get(name)(args)


def _same_padding(kernel: int, stride: int) -> tuple[int, int]:
    total = max(kernel - stride, 0)
    return total // 2, total - total // 2


def output_size(layer: LayerSpec, size: tuple[int, int]) -> tuple[int, int]:
    """Spatial size after *layer* for an input of *size* (H, W)."""
    if layer.op == "act":
        return size
    if layer.op == "conv":
        lo, hi = _same_padding(layer.kernel, layer.stride)
        return tuple((s + lo + hi - layer.kernel) // layer.stride + 1 for s in size)  # type: ignore[return-value]
    return tuple((s - layer.kernel) // layer.stride + 1 for s in size)  # type: ignore[return-value]


def layer_table(spec: NetSpec, size: tuple[int, int]) -> list[dict]:
    """One row per layer: name, op, output channels, kernel, stride, fn, receptive field (px),
    parameter count, output size for an input of *size* (level 1 on pyramid nets) and the conv's
    weight initialiser."""
    sizes = feature_sizes(spec, size)
    rows, rf, jump, channels = [], 1, 1, 3
    for layer in spec.layers:
        params = 0
        if layer.op in ("conv", "pool"):
            rf += (layer.kernel - 1) * jump
            jump *= layer.stride
        if layer.op == "conv":
            params = channels * layer.channels * layer.kernel**2 + layer.channels
            channels = layer.channels
        key = layer.name if spec.pyramid == "none" else f"{layer.name}@1"
        rows.append(dict(name=layer.name, op=layer.op, channels=channels, kernel=layer.kernel, stride=layer.stride,
                         fn=layer.fn, rf=rf, params=params, size=sizes[key],
                         init=(layer.weights or spec.weights) if layer.op == "conv" else ""))
    return rows


def level_size(size: tuple[int, int], level: int) -> tuple[int, int]:
    """Size of pyramid level *level* (1 = the image) of an image of *size*: halved, floored."""
    h, w = size
    for _ in range(level - 1):
        h, w = h // 2, w // 2
    return h, w


def feature_sizes(spec: NetSpec, size: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """The (H, W) of every tap's output for an input of *size*; a 0 marks impossible ones."""
    out: dict[str, tuple[int, int]] = {}
    levels = range(1, spec.levels + 1) if spec.pyramid != "none" else [1]
    for level in levels:
        s = level_size(size, level)
        for layer in spec.layers:
            s = output_size(layer, s) if min(s) > 0 else s
            out[layer.name if spec.pyramid == "none" else f"{layer.name}@{level}"] = (max(s[0], 0), max(s[1], 0))
    return out


def min_input_size(spec: NetSpec, layer: str) -> int:
    """Smallest square input (pixels per side) for which tap *layer* has at least one position."""
    spec.index(layer)
    n = 1
    while n < 1 << 16:
        if min(feature_sizes(spec, (n, n))[layer]) >= 1:
            return n
        n += 1
    raise UserError(f"layer {layer} of net {spec.name} has no valid input size")


def check_input_size(spec: NetSpec, layers: Iterable[str], size: tuple[int, int], what: str = "image") -> None:
    """A :class:`UserError` if an image of *size* (H, W) is too small for the deepest of *layers*."""
    sizes = feature_sizes(spec, size)
    for name in layers:
        spec.index(name)
        if min(sizes[name]) < 1:
            need = min_input_size(spec, name)
            raise UserError(
                f"{what} of {size[1]}×{size[0]} px is too small for layer {name} of net {spec.name}: "
                f"it needs at least {need}×{need} px"
            )


class FeatureNet(nn.Module):
    """A random network built from a :class:`NetSpec`, with frozen parameters.

    ``net(image, layers)`` maps a ``(B, 3, H, W)`` image in [0, 1] to ``{layer: activation}`` for
    the requested layers, computing nothing past the deepest of them.
    """

    def __init__(self, spec: NetSpec, generator: torch.Generator):
        super().__init__()
        self.spec = spec
        if spec.padding not in PADDINGS:
            raise UserError(f"unknown padding {spec.padding!r}; choose from {', '.join(PADDINGS)}")
        if spec.input_norm not in INPUT_NORMS:
            raise UserError(f"unknown input normalisation {spec.input_norm!r}; choose from {', '.join(INPUT_NORMS)}")
        mean, std = INPUT_NORMS[spec.input_norm]
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.convs = nn.ModuleDict()
        self._steps: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = []
        channels, conv_index = 3, 0
        for layer in spec.layers:
            if layer.op == "conv":
                conv = nn.Conv2d(channels, layer.channels, layer.kernel, layer.stride, padding=0)
                ctx = InitContext(layer.name, conv_index)
                gen = generator if layer.seed is None else torch.Generator().manual_seed(layer.seed)
                with torch.no_grad():
                    conv.weight.copy_(draw("weights", layer.weights or spec.weights, tuple(conv.weight.shape), gen, ctx))
                    conv.bias.copy_(draw("bias", spec.bias, tuple(conv.bias.shape), gen, ctx))
                self.convs[layer.name] = conv
                self._steps.append((layer.name, self._conv_step(conv, layer, activation(layer.fn))))
                channels, conv_index = layer.channels, conv_index + 1
            elif layer.op == "act":
                self._steps.append((layer.name, activation(layer.fn)))
            else:
                pool = POOLS.get(parse_choice(layer.fn)[0])
                self._steps.append((layer.name, lambda x, p=pool, k=layer.kernel, s=layer.stride: p(x, k, s)))
        self.requires_grad_(False)

    def _conv_step(self, conv: nn.Conv2d, layer: LayerSpec, act) -> Callable[[torch.Tensor], torch.Tensor]:
        lo, hi = _same_padding(layer.kernel, layer.stride)
        mode = PADDINGS[self.spec.padding]
        if lo == hi and mode == "constant":
            conv.padding = (lo, lo)  # the conv's own zero padding avoids a copy

            def step(x):
                return act(conv(x))
        else:

            def step(x):
                # reflect needs the map to be larger than the pad: tiny maps replicate instead
                m = mode if mode != "reflect" or min(x.shape[-2:]) > max(lo, hi) else "replicate"
                return act(conv(F.pad(x, (lo, hi, lo, hi), mode=m)))

        return step

    def forward(self, image: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Activations ``{name: (B, C, h, w)}`` of *layers* for *image* ``(B, 3, H, W)``.

        On a pyramid net (Du 2020 §6.3) names are ``layer@level`` and the layers run on each
        needed level of the Gaussian or Laplacian pyramid of the normalised image."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"expected an image batch (B, 3, H, W), got {tuple(image.shape)}")
        wanted = set(layers)
        if not wanted:
            return {}
        check_input_size(self.spec, wanted, tuple(image.shape[-2:]))
        x = (image - self.mean) / self.std
        if self.spec.pyramid == "none":
            return self._run(x, wanted, lambda name: name)
        by_level: dict[int, set[str]] = {}
        for name in wanted:
            layer, level = self.spec.split_tap(name)
            by_level.setdefault(level, set()).add(layer)
        pyramid = image_pyramid(x, max(by_level), self.spec.pyramid)
        out: dict[str, torch.Tensor] = {}
        for level, names in by_level.items():
            out.update(self._run(pyramid[level - 1], names, lambda n, k=level: f"{n}@{k}"))
        return out

    def _run(self, x: torch.Tensor, names: set[str], tap: Callable[[str], str]) -> dict[str, torch.Tensor]:
        wanted = {tap(n) if "@" not in n else n for n in names}
        last = max(self.spec.index(n) for n in wanted)
        out: dict[str, torch.Tensor] = {}
        for name, step in self._steps[: last + 1]:
            x = step(x)
            if tap(name) in wanted:
                out[tap(name)] = x
        return out


class NetStack(nn.Module):
    """Several draws of one net spec read as one net: layer ``name`` of the first draw and
    ``name#k`` of draw *k* (2, 3, …), so one objective can match an exemplar's statistics under
    all of them at once (issue 15's "several nets at once"; :attr:`untrained.synth.texture.
    TextureConfig.coarse_nets`).  ``spec`` is the shared spec; :meth:`layer_key` orders the
    names by depth, then draw."""

    def __init__(self, nets: list[FeatureNet]):
        super().__init__()
        if not nets or any(n.spec != nets[0].spec for n in nets):
            raise ValueError("a net stack needs one or more draws of the same spec")
        self.nets, self.spec = nn.ModuleList(nets), nets[0].spec

    @staticmethod
    def name(layer: str, draw: int) -> str:
        """The stacked name of *layer* of draw *draw* (counting from 1): the inverse of :meth:`split`."""
        return layer if draw == 1 else f"{layer}#{draw}"

    @staticmethod
    def split(name: str) -> tuple[str, int]:
        """``(layer, draw)`` of a stacked layer name (draws count from 1)."""
        layer, _, k = name.partition("#")
        return layer, int(k) if k else 1

    def layer_key(self, name: str) -> tuple[int, int]:
        layer, k = self.split(name)
        return self.spec.index(layer), k

    def forward(self, image: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        by_draw: dict[int, list[str]] = {}
        for name in layers:
            layer, k = self.split(name)
            if not 1 <= k <= len(self.nets):
                raise ValueError(f"{name!r}: this stack has draws 1–{len(self.nets)}")
            by_draw.setdefault(k, []).append(layer)
        out: dict[str, torch.Tensor] = {}
        for k, names in sorted(by_draw.items()):
            out.update({self.name(n, k): f for n, f in self.nets[k - 1](image, names).items()})
        return out


@torch.no_grad()
def border_masks(net: FeatureNet, size: tuple[int, int], layers: Iterable[str],
                 margin: int = 128) -> dict[str, torch.Tensor]:
    """``{layer: (h, w) bool}``: the positions of each layer's map, for an input of *size*
    (H, W), whose value depends on the net's padding.  Found by running a random image alone
    and again inside a *margin*-px frame of other pixels: the positions that differ (beyond a
    relative 1e-4, the rounding of different convolution algorithms).  With zero padding these
    border rows differ from the interior, and their share of a Gram matrix depends on the size
    (issue 15).  A map that cannot be aligned with its framed copy (a pyramid net's levels)
    comes out all True, which callers read as "no interior"."""
    h, w = size
    framed = torch.rand(1, 3, h + 2 * margin, w + 2 * margin, generator=torch.Generator().manual_seed(0))
    framed = framed.to(net.mean)  # its device and dtype
    alone, inside = net(framed[..., margin:margin + h, margin:margin + w], layers), net(framed, layers)
    masks = {}
    for k, a in alone.items():
        b = inside[k]
        y, x = (b.shape[-2] - a.shape[-2]) // 2, (b.shape[-1] - a.shape[-1]) // 2
        diff = (a - b[..., y:y + a.shape[-2], x:x + a.shape[-1]]).abs().amax(dim=1)[0]
        masks[k] = diff > 1e-4 * a.abs().amax().clamp_min(1e-12)
    return masks


def _ring_share(border: torch.Tensor, size: tuple[int, int]) -> float:
    """The share of border positions in a map of *size* (h, w) with the ring widths of *border*
    (an ``(h', w')`` mask of the same layer for an input with the same remainders at each
    pooling); 1 when *border* has no interior."""
    rows, cols = (~border).any(dim=1).nonzero(), (~border).any(dim=0).nonzero()
    if not len(rows) or min(size) <= 0:
        return 1.0
    top, bottom = int(rows[0]), border.shape[0] - 1 - int(rows[-1])
    left, right = int(cols[0]), border.shape[1] - 1 - int(cols[-1])
    h, w = size
    return 1 - max(h - top - bottom, 0) * max(w - left - right, 0) / (h * w)


def border_shares(net: FeatureNet, size: tuple[int, int], layers: Iterable[str]) -> dict[str, float]:
    """``{layer: share}``: the share of each layer's map, for an input of *size* (H, W), that
    :func:`border_masks` marks.  A side over 512 px is probed at 256 px plus its remainder mod 256
    (the bottom and right rings depend on the remainders at each pooling, up to stride 256) and
    its rings extrapolated, so a 4096² canvas needs no forward pass at its size."""
    probe, sizes = tuple(s if s <= 512 else 256 + s % 256 for s in size), feature_sizes(net.spec, size)
    return {k: _ring_share(m, sizes[k]) for k, m in border_masks(net, probe, layers).items()}


def build(spec: NetSpec, seed: int | torch.Generator) -> FeatureNet:
    """Build the random network *spec* with weights drawn from *seed* (an int or a Generator)."""
    gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    return FeatureNet(spec, gen)
