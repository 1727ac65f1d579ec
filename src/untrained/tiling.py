"""Losses of very large images evaluated over overlapping tiles (issue #18).

A convolutional net's activation at one position depends only on the pixels in its receptive
field.  So the image is cut into *cores* (a partition of the image, on a grid aligned with the
net's total stride), each widened by a *halo* at least as wide as the receptive field; the
activations of a widened tile, cropped to its core, are exactly the whole image's activations
there (tiles on the image's border see the same padding the whole image sees; a periodic image
is wrapped first).  Statistics that are sums over positions then add up across tiles:

* Gram matrices (Gatys et al. 2015; He et al. 2016 §3): ``Σ_tiles F Fᵀ / N``;
* sliced Wasserstein (Heitz et al. 2021): the projections of every position, sorted together.

:class:`TiledObjective` evaluates an :class:`~untrained.objective.Objective` this way in two
passes — statistics without a graph, then per tile the gradient of a surrogate whose gradient
equals the whole-image loss's — so memory holds one tile's activations, not the image's, and the
loss and gradient equal the whole-image ones (up to the order of float sums).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F

from .losses import GramLoss, SWDLoss, sort_order
from .nets import NetSpec
from .nets.build import layer_table
from .objective import Objective


@dataclass(frozen=True)
class Tile:
    """One tile: its *core* (rows y0:y1, columns x0:x1 of the image, a partition) and the
    *window* read to compute it (the core plus halo, clipped to the image or its wrap)."""

    core: tuple[int, int, int, int]
    window: tuple[int, int, int, int]


def geometry(spec: NetSpec, layers) -> tuple[int, int]:
    """``(stride, halo)`` of *spec* up to the deepest of *layers*: the total stride (the grid
    tiles are aligned to) and a halo ≥ the receptive field, a multiple of the stride."""
    deepest = max(spec.index(n) for n in layers)
    rows = layer_table(spec, (64, 64))[: deepest + 1]
    stride = 1
    for layer in spec.layers[: deepest + 1]:
        if layer.op in ("conv", "pool"):
            stride *= layer.stride
    rf = rows[-1]["rf"]
    return stride, -(-rf // stride) * stride


def supported(objective: Objective, size: tuple[int, int]) -> bool:
    """Whether *objective* can be tiled at *size*: a plain (non-pyramid) net and only Gram or SWD
    terms on features (terms on the pixels are evaluated whole); a periodic (circular) net also
    needs *size* to be a multiple of its total stride."""
    spec = objective.net.spec
    if spec.pyramid != "none" or hasattr(objective.net, "layer_key"):  # pyramids and net stacks run whole
        return False
    layers = [t.layer for t in objective.terms if t.layer is not None]
    if layers and spec.padding == "circular" and any(s % geometry(spec, layers)[0] for s in size):
        return False
    return all(t.layer is None or isinstance(t.loss, (GramLoss, SWDLoss)) for t in objective.terms)


def make_tiles(size: tuple[int, int], tile: int, halo: int, stride: int, circular: bool = False) -> list[Tile]:
    """Cores of about *tile* px (rounded to the *stride*) covering *size*, widened by *halo*.
    With *circular*, windows are in the coordinates of the image wrapped by *halo* on each side."""
    step = max(stride, tile // stride * stride)
    tiles = []
    for y0 in range(0, size[0], step):
        for x0 in range(0, size[1], step):
            y1, x1 = min(y0 + step, size[0]), min(x0 + step, size[1])
            if circular:
                window = (y0, y1 + 2 * halo, x0, x1 + 2 * halo)
            else:
                window = (max(0, y0 - halo), min(size[0], y1 + halo), max(0, x0 - halo), min(size[1], x1 + halo))
            tiles.append(Tile((y0, y1, x0, x1), window))
    return tiles


def _crop(feature: torch.Tensor, tile: Tile, scale: int, size: tuple[int, int], offset: int) -> torch.Tensor:
    """The core's part of a window's *feature* map (*scale* input px per position); *offset*
    is the wrap margin of circular windows (0 otherwise)."""
    cy0, cy1, cx0, cx1 = tile.core
    wy0, _, wx0, _ = tile.window
    top, left = (cy0 + offset - wy0) // scale, (cx0 + offset - wx0) // scale
    bottom = None if cy1 == size[0] and not offset else (cy1 + offset - wy0) // scale
    right = None if cx1 == size[1] and not offset else (cx1 + offset - wx0) // scale
    return feature[..., top:bottom, left:right]


def _scales(spec: NetSpec, layers) -> dict[str, int]:
    """Input pixels per position of each of *layers*."""
    out, s = {}, 1
    for layer in spec.layers:
        if layer.op in ("conv", "pool"):
            s *= layer.stride
        out[layer.name] = s
    return {n: out[n] for n in layers}


class _Tiler:
    """Cuts an image into tiles for a net and returns each tile's core activations."""

    def __init__(self, net, layers, size: tuple[int, int], tile: int):
        self.net, self.layers, self.size = net, list(layers), tuple(size)
        self.circular = net.spec.padding == "circular"
        stride, self.halo = geometry(net.spec, self.layers)
        self.scales = _scales(net.spec, self.layers)
        self.tiles = make_tiles(self.size, tile, self.halo, stride, self.circular)

    def source(self, image: torch.Tensor) -> torch.Tensor:
        """What windows are read from: the image, wrapped by the halo when periodic."""
        if not self.circular:
            return image
        h = self.halo
        return F.pad(image, (h, h, h, h), mode="circular")

    def features(self, source: torch.Tensor, tile: Tile) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        y0, y1, x0, x1 = tile.window
        window = source[..., y0:y1, x0:x1]
        feats = self.net(window, self.layers)
        offset = self.halo if self.circular else 0
        return window, {n: _crop(f, tile, self.scales[n], self.size, offset) for n, f in feats.items()}


def tiled_gram(net, image: torch.Tensor, layers, tile: int, tiles: list[int] | None = None) -> dict[str, torch.Tensor]:
    """Gram matrices ``F Fᵀ / N`` of *image* at *layers*, accumulated over tiles of about *tile*
    px; equal to :func:`untrained.losses.gram_matrix` of the whole image's activations.  With
    *tiles* (indices), only those tiles: an estimate from part of the image."""
    tiler = _Tiler(net, layers, tuple(image.shape[-2:]), tile)
    chosen = [tiler.tiles[i] for i in tiles] if tiles is not None else tiler.tiles
    sums: dict[str, torch.Tensor] = {}
    counts = dict.fromkeys(tiler.layers, 0)
    with torch.no_grad():
        source = tiler.source(image)
        for t in chosen:
            _, feats = tiler.features(source, t)
            for n, f in feats.items():
                flat = f.flatten(2)
                g = torch.bmm(flat, flat.transpose(1, 2))
                sums[n] = g if n not in sums else sums[n] + g
                counts[n] += flat.shape[-1]
    return {n: sums[n] / counts[n] for n in tiler.layers}


def count_tiles(spec: NetSpec, layers, size: tuple[int, int], tile: int) -> int:
    """How many tiles of about *tile* px cover *size* for *spec*."""
    stride, halo = geometry(spec, layers)
    return len(make_tiles(size, tile, halo, stride, spec.padding == "circular"))


class _Injected(torch.autograd.Function):
    """A loss value whose gradient with respect to *image* is the precomputed *grad*."""

    @staticmethod
    def forward(ctx, image, value, grad):
        ctx.save_for_backward(grad)
        return value.clone()

    @staticmethod
    def backward(ctx, grad_out):
        (grad,) = ctx.saved_tensors
        return grad * grad_out, None, None


class TiledObjective:
    """An :class:`Objective` evaluated over tiles of about *tile* px (see the module's notes):
    the same interface the loop uses (call, :meth:`normalize`, :meth:`resample`), equal values
    and gradients, one tile's activations in memory."""

    def __init__(self, objective: Objective, tile: int):
        if objective.net.spec.pyramid != "none" or not supported(objective, (0, 0)):
            raise ValueError("only Gram and SWD terms on a non-pyramid net can be tiled")
        self.objective, self.tile = objective, tile
        self.terms, self.net = objective.terms, objective.net

    def resample(self, generator: torch.Generator) -> None:
        self.objective.resample(generator)

    def _evaluate(self, image: torch.Tensor, weights: dict[str, float]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Unweighted values of every term and the gradient of ``Σ weights[name] · term``."""
        image = image.detach()
        feature_terms = [t for t in self.terms if t.layer is not None]
        layers = sorted({t.layer for t in feature_terms}, key=self.net.spec.index)
        tiler = _Tiler(self.net, layers, tuple(image.shape[-2:]), self.tile)
        values: dict[str, torch.Tensor] = {}
        grad = torch.zeros_like(image)
        # pixel terms: whole image, ordinary autograd
        for t in self.terms:
            if t.layer is None:
                x = image.clone().requires_grad_(True)
                v = t.loss(x)
                if weights.get(t.name, 0.0):
                    (g,) = torch.autograd.grad(v * weights[t.name], x)
                    grad += g
                values[t.name] = v.detach()
        if not feature_terms:
            return values, grad
        # pass 1: statistics of the whole image, tile by tile, without a graph
        sums: dict[str, torch.Tensor] = {}
        projections: dict[str, list[torch.Tensor]] = {t.name: [] for t in feature_terms if isinstance(t.loss, SWDLoss)}
        count = dict.fromkeys(layers, 0)
        with torch.no_grad():
            source = tiler.source(image)
            for tile in tiler.tiles:
                _, feats = tiler.features(source, tile)
                for n, f in feats.items():
                    count[n] += f.shape[-2] * f.shape[-1]
                for t in feature_terms:
                    flat = feats[t.layer].flatten(2)
                    if isinstance(t.loss, GramLoss) and t.layer not in sums:
                        sums[t.layer] = flat.new_zeros(flat.shape[0], flat.shape[1], flat.shape[1])
                    if isinstance(t.loss, GramLoss):
                        sums[t.layer] += torch.bmm(flat, flat.transpose(1, 2))
                    else:
                        projections[t.name].append(t.loss.directions.T @ flat[0])
        # the loss of each term and d(loss)/d(statistic) as a constant for the surrogate
        coef: dict[str, torch.Tensor] = {}
        for t in feature_terms:
            w = weights.get(t.name, 0.0)
            if isinstance(t.loss, GramLoss):
                n = count[t.layer]
                diff = sums[t.layer] / n - t.loss.target.to(sums[t.layer].dtype)
                values[t.name] = diff.pow(2).mean()
                coef[t.name] = diff * (2.0 * w / (diff.numel() * n))  # ∂L/∂(F Fᵀ)
            else:
                proj = torch.cat(projections.pop(t.name), dim=1)  # (K, N) in tile order
                index = sort_order(proj)  # (K, N): sorted along positions
                ordered = proj.gather(1, index)
                diff = ordered - t.loss._target_sorted(proj.shape[1]).to(ordered.dtype)
                values[t.name] = diff.pow(2).mean()
                g = torch.empty_like(proj)
                g.scatter_(1, index, diff * (2.0 * w / diff.numel()))
                coef[t.name] = g  # ∂L/∂projections, position by position
                del proj, ordered, index
        active = [t for t in feature_terms if weights.get(t.name, 0.0)]
        if not active:
            return values, grad
        # pass 2: per tile, the gradient of a surrogate with the same gradient
        source = tiler.source(image)
        source_grad = torch.zeros_like(source)
        offsets = {t.name: 0 for t in active}
        for tile in tiler.tiles:
            y0, y1, x0, x1 = tile.window
            window = source[..., y0:y1, x0:x1].detach().requires_grad_(True)
            with torch.enable_grad():
                raw = self.net(window, layers)
                off = tiler.halo if tiler.circular else 0
                surrogate = window.new_zeros(())
                for t in active:
                    f = _crop(raw[t.layer], tile, tiler.scales[t.layer], tiler.size, off).flatten(2)
                    if isinstance(t.loss, GramLoss):
                        surrogate = surrogate + (coef[t.name] * torch.bmm(f, f.transpose(1, 2))).sum()
                    else:
                        k = f.shape[-1]
                        part = coef[t.name][:, offsets[t.name]:offsets[t.name] + k]
                        offsets[t.name] += k
                        surrogate = surrogate + (part * (t.loss.directions.T @ f[0])).sum()
                (g,) = torch.autograd.grad(surrogate, window)
            source_grad[..., y0:y1, x0:x1] += g
        if tiler.circular:
            x = image.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(tiler.source(x), x, source_grad)
            grad += g
        else:
            grad += source_grad
        return values, grad

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total, {name: weighted term})`` like :meth:`Objective.forward`; ``total.backward()``
        puts the whole-image gradient into ``image.grad``."""
        weights = {t.name: t.weight * t.scale for t in self.terms}
        values, grad = self._evaluate(image, weights)
        weighted = {t.name: values[t.name] * weights[t.name] for t in self.terms}
        total = sum(weighted.values())
        return _Injected.apply(image, torch.as_tensor(total, device=image.device), grad), weighted

    def normalize(self, probe: torch.Tensor) -> dict[str, float]:
        """He et al. 2016 §3's automatic weights (as :meth:`Objective.normalize`), tile by tile."""
        scales: dict[str, float] = {}
        for t in self.terms:
            _, grad = self._evaluate(probe, {t.name: 1.0})
            g = float(grad.abs().mean())
            t.scale = 1.0 / g if g > 0 and g == g else 0.0
            scales[t.name] = t.scale
        return scales


def tiled(objective: Objective, tile: int, size: tuple[int, int]):
    """*objective* evaluated over tiles when *size* is larger than *tile* px and it can be
    (:func:`supported`); otherwise *objective* itself."""
    if tile <= 0 or max(size) <= tile or not supported(objective, size):
        return objective
    return TiledObjective(objective, tile)
