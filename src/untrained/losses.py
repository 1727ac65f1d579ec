"""Loss terms, each a plain function plus a thin :class:`torch.nn.Module` that holds its target.

* Gram / texture loss — Gatys et al. 2015, as used with random weights by He et al. 2016 §3
  ("texture synthesis") and Du 2020 §3.
* Total variation — He et al. 2016 eq. for style transfer: squared differences of adjacent pixels.
* Content — squared error of activations (He et al. §3 feature inversion; Gatys' content term).
* Neural patches — nearest-neighbour 3×3 feature patches by normalised cross-correlation
  (Champandard 2016), optionally guided by semantic maps (Neural Doodle).
* Sliced Wasserstein — sorted random projections of features (Heitz et al. 2021).
* Spectrum — distance to the projection on the exemplar's Fourier magnitudes (Liu et al. 2016).

Targets are computed once when the module is made (per scale), never per evaluation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _check_features(features: torch.Tensor, what: str = "features") -> None:
    if features.dim() != 4:
        raise ValueError(f"{what}: expected (B, C, H, W), got shape {tuple(features.shape)}")


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``F Fᵀ / (H·W)`` of ``(B, C, H, W)`` features → ``(B, C, C)``.

    Dividing by the number of positions makes it a mean over space, so images of different sizes
    have comparable statistics; it is invariant to any permutation of positions (Du 2020 §3).
    """
    _check_features(features)
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (h * w)


def _positions_last(features: torch.Tensor) -> torch.Tensor:
    """``(B, C, H·W)`` view of *features* (a view for NCHW and channels-last memory alike)."""
    b, c, h, w = features.shape
    return features.reshape(b, c, h * w)


class _FusedGramLoss(torch.autograd.Function):
    """``mean((F Fᵀ/N − T)²)`` with a one-product backward.

    Autograd through ``bmm(F, Fᵀ)`` costs two products (one per operand) and a sum of two
    feature-sized gradients; since ``G − T`` is symmetric the gradient is one product,
    ``∂L/∂F = 4 (G − T) F / (N · numel(G))``, written in the features' own memory layout
    (channels-last stays channels-last).  Measured in benchmarks/bench_texture.py."""

    @staticmethod
    def forward(ctx, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        flat = _positions_last(features)
        n = flat.shape[-1]
        diff = torch.bmm(flat, flat.transpose(1, 2)) / n - target
        ctx.save_for_backward(features, diff)
        return diff.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        features, diff = ctx.saved_tensors
        b, c, h, w = features.shape
        coef = grad_out * 4.0 / (h * w * diff.numel())
        flat = _positions_last(features)
        if features.dim() == 4 and not features.is_contiguous() and \
                features.is_contiguous(memory_format=torch.channels_last):
            grad = torch.bmm(flat.transpose(1, 2), diff).mul_(coef)  # (B, H·W, C): NHWC memory
            grad = grad.view(b, h, w, c).permute(0, 3, 1, 2)
        else:
            grad = torch.bmm(diff, flat).mul_(coef).view(b, c, h, w)
        return grad, None


def gram_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between the Gram matrix of *features* and *target_gram* ``(·, C, C)``
    (Gatys et al. 2015's texture loss; He et al. 2016 §3; Du 2020 §3).  The target must be
    symmetric (a Gram matrix or a mixture of them); the backward pass takes one matrix product."""
    _check_features(features)
    c = features.shape[1]
    if target_gram.shape[-2:] != (c, c):
        raise ValueError(f"target Gram {tuple(target_gram.shape)} does not match features with {c} channels")
    return _FusedGramLoss.apply(features, target_gram.to(features.dtype))


def _weighted(targets, weights) -> tuple[list[torch.Tensor], list[float]]:
    targets = [targets] if torch.is_tensor(targets) else list(targets)
    weights = [1.0] * len(targets) if weights is None else [float(w) for w in weights]
    if len(weights) != len(targets) or not targets:
        raise ValueError(f"{len(targets)} targets but {len(weights)} weights")
    total = sum(weights)
    if not total > 0:
        raise ValueError("blend weights must sum to a positive number")
    return [t.detach() for t in targets], [w / total for w in weights]


class GramLoss(nn.Module):
    """:func:`gram_loss` against the Gram matrix of fixed target features (computed once).

    Several targets with *weights* blend their statistics: the target is the weighted mean of
    their Gram matrices (``untrained texture a.jpg b.jpg --blend 0.7,0.3``).  Or give the
    ``(1, C, C)`` Gram matrices themselves as *target_gram* (one, or several blended the same
    way), computed another way: the mean over crops of a larger exemplar, one crop at a time."""

    def __init__(self, target_features=None, weights=None, *, target_gram=None):
        super().__init__()
        if (target_features is None) == (target_gram is None):
            raise ValueError("give target features or a target Gram matrix, not both or neither")
        grams, weights = _weighted(target_gram if target_features is None else target_features, weights)
        if target_features is not None:
            grams = [gram_matrix(t) for t in grams]
        self.register_buffer("target", sum(w * g for g, w in zip(grams, weights)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return gram_loss(features, self.target)


#: Total-variation forms: ``squared`` (He et al. 2016) and ``doodle`` (neural-doodle's
#: ``mean((dx² + dy²)^1.25)`` on the image scaled to [-1, 1], Champandard 2016).
TV_FORMS = ("squared", "doodle")


def region_grams(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Gram matrix of *features* ``(1, C, H, W)`` in each region: ``(K, C, C)`` with
    ``G_k = Σ_p m_k(p) f(p) f(p)ᵀ / Σ_p m_k(p)`` for soft masks ``(1, K, H, W)`` at the features'
    resolution (the spatially guided Gram matrices of Gatys et al. 2017, §3 "spatial control")."""
    _check_features(features)
    flat = features.reshape(features.shape[1], -1)  # (C, N)
    m = masks.reshape(masks.shape[1], -1)  # (K, N)
    weighted = flat.unsqueeze(0) * (m / m.sum(dim=1, keepdim=True).clamp_min(1e-8)).unsqueeze(1)  # (K, C, N)
    return weighted @ flat.T


def border_gram(features: torch.Tensor, border: torch.Tensor, share: float) -> torch.Tensor:
    """Gram matrix ``(1, C, C)`` of *features* ``(1, C, H, W)`` with the *border* positions
    ``(H, W)`` (bool; :func:`untrained.nets.border_masks`) weighing *share* of the mean and the
    interior the rest: ``(1 − s)·G_interior + s·G_border``.  An exemplar smaller than the canvas
    has more border than the canvas can have; re-weighted to the canvas's share, its target is
    one the canvas can reach (issue 15).  Without an interior or a border it is :func:`gram_matrix`."""
    _check_features(features)
    if features.shape[0] != 1 or border.shape != features.shape[-2:]:
        raise ValueError(f"expected (1, C, H, W) features and an (H, W) mask, got {tuple(features.shape)} "
                         f"and {tuple(border.shape)}")
    if border.all() or not border.any():
        return gram_matrix(features)
    masks = torch.stack([~border, border]).to(features.dtype).unsqueeze(0)
    inner, outer = region_grams(features, masks)
    return ((1 - share) * inner + share * outer).unsqueeze(0)


class RegionGramLoss(nn.Module):
    """Gram loss per semantic region (Neural Doodle's regions, Gatys et al. 2017's guided Gram
    matrices): the output's Gram matrix in region *k* of the target map is pulled towards the
    style's Gram matrix in region *k* of the style map; regions weigh by their share of the
    output.  Masks are ``(1, K, h, w)`` at the layer's resolution (area-downsampled one-hot maps).
    Regions absent from either map are left out."""

    def __init__(self, exemplar_features: torch.Tensor, exemplar_masks: torch.Tensor, masks: torch.Tensor):
        super().__init__()
        present = (exemplar_masks.sum(dim=(0, 2, 3)) > 0) & (masks.sum(dim=(0, 2, 3)) > 0)
        self.register_buffer("target", region_grams(exemplar_features.detach(), exemplar_masks[:, present]))
        self.register_buffer("masks", masks[:, present].detach())
        share = masks[:, present].sum(dim=(0, 2, 3))
        self.register_buffer("share", share / share.sum().clamp_min(1e-8))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        diff = region_grams(features, self.masks) - self.target
        return (diff.pow(2).mean(dim=(1, 2)) * self.share).sum()


def tv_loss(image: torch.Tensor, circular: bool = False, form: str = "squared") -> torch.Tensor:
    """Total variation of ``(B, C, H, W)`` *image* in [0, 1].

    ``form="squared"``: mean of squared differences of vertically and horizontally adjacent
    pixels (He et al. 2016).  ``form="doodle"``: neural-doodle's smoothness term,
    ``mean((dx² + dy²)^1.25)`` over the pixels that have both a right and a lower neighbour, on
    the image scaled to [-1, 1] as its net sees it (Champandard 2016; commit c17e91c).
    *circular* also compares the last row/column with the first (tileable output)."""
    _check_features(image, "image")
    if form not in TV_FORMS:
        raise ValueError(f"unknown total-variation form {form!r}; choose from {', '.join(TV_FORMS)}")
    if circular:
        dy = image - image.roll(1, dims=-2)
        dx = image - image.roll(1, dims=-1)
    else:
        dy = image[..., 1:, :] - image[..., :-1, :]
        dx = image[..., :, 1:] - image[..., :, :-1]
    if form == "doodle":
        if not circular:
            dy, dx = dy[..., :, :-1], dx[..., :-1, :]
        return ((2 * dx).pow(2) + (2 * dy).pow(2)).pow(1.25).mean()
    return dy.pow(2).mean() + dx.pow(2).mean()


class TVLoss(nn.Module):
    """Module form of :func:`tv_loss` (acts on the image, not on features)."""

    def __init__(self, circular: bool = False, form: str = "squared"):
        super().__init__()
        self.circular, self.form = circular, form

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return tv_loss(image, self.circular, self.form)


# --- content (feature inversion) --------------------------------------------------------------


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between activations (He et al. 2016 §3 "inverting deep
    representations"; the content term of Gatys et al. and Du 2020 §3)."""
    _check_features(features)
    if features.shape != target.shape:
        raise ValueError(f"content target {tuple(target.shape)} does not match features {tuple(features.shape)}")
    return (features - target).pow(2).mean()


class ContentLoss(nn.Module):
    """:func:`content_loss` against fixed target activations."""

    def __init__(self, target_features: torch.Tensor):
        super().__init__()
        self.register_buffer("target", target_features.detach())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return content_loss(features, self.target)


# --- neural patches (Champandard 2016; Li & Wand 2016) ----------------------------------------


def extract_patches(features: torch.Tensor, size: int = 3, circular: bool = False) -> torch.Tensor:
    """All ``size``×``size`` patches (stride 1) of ``(1, C, H, W)`` → ``(N, C·size²)``; without
    padding, or wrapping around the borders when *circular* (one patch per position)."""
    _check_features(features)
    if features.shape[0] != 1:
        raise ValueError("patch extraction works on one image at a time")
    if min(features.shape[-2:]) < size:
        raise ValueError(f"features {tuple(features.shape[-2:])} are smaller than a {size}×{size} patch")
    if circular:
        features = F.pad(features, (0, size - 1, 0, size - 1), mode="circular")
    return F.unfold(features, size).squeeze(0).transpose(0, 1)


def _normalized(patches: torch.Tensor) -> torch.Tensor:
    return patches / patches.norm(dim=1, keepdim=True).clamp_min(1e-8)


#: dtype of the patch-matching scores: bfloat16 matmuls run ~2.5× faster than float32 on this
#: project's CPU (220 vs 86 GFLOP/s at 1024 × 1053 × 12000); only the argmax uses them, the
#: loss and its gradient stay float32.
MATCH_DTYPE = torch.bfloat16


def match_keys(exemplar_normed: torch.Tensor) -> torch.Tensor:
    """Unit-norm exemplar patches ``(M, D)`` laid out for :func:`match_patches`: ``(D, M)``."""
    return exemplar_normed.T.contiguous().to(MATCH_DTYPE)


@torch.no_grad()
def match_patches(
    patches: torch.Tensor,
    keys: torch.Tensor,
    variety: float = 0.0,
    chunk: int = 1024,
    history: torch.Tensor | None = None,
    key_best: torch.Tensor | None = None,
) -> torch.Tensor:
    """Index of the best exemplar patch for every patch, by normalised cross-correlation.

    *keys* are the unit-norm exemplar patches as made by :func:`match_keys`.  Scores are
    computed in chunks of *chunk* patches so memory stays at ``chunk × M`` values whatever the
    image size.

    ``variety`` with ``history`` is neural-doodle's ``--variety`` (Champandard 2016, commit
    c17e91c, ``do_match_patches``): each exemplar patch's score is lowered by ``variety ×
    history[j]``, where ``history[j]`` is exemplar patch *j*'s best score over the image in the
    previous evaluation.  *key_best*, an ``(M,)`` tensor, is filled with this evaluation's best
    raw (unpenalised) score of every exemplar patch: the next evaluation's history.

    This project's former ``--variety`` (a raster-order penalty on exemplar patches used more
    than an even share) was dropped: on the blog's setup it did no better than this rule (ink,
    256², score 0.207 vs 0.187; none: 0.345).
    """
    queries = _normalized(patches).to(keys.dtype)
    n = queries.shape[0]
    out = torch.empty(n, dtype=torch.long, device=keys.device)
    offset = variety * history.float() if variety > 0 and history is not None else None
    if key_best is not None:
        key_best.fill_(-float("inf"))
    for start in range(0, n, chunk):
        scores = (queries[start:start + chunk] @ keys).float()
        if key_best is not None:
            torch.maximum(key_best, scores.amax(dim=0), out=key_best)
        if offset is not None:
            scores -= offset
        best = scores.argmax(dim=1)
        out[start:start + chunk] = best
    return out


class PatchLoss(nn.Module):
    """Neural patches: every 3×3 patch of the features is pulled towards its nearest exemplar
    patch by normalised cross-correlation (Champandard 2016's method for textures, style and
    Neural Doodle).

    ``guide`` / ``exemplar_guide`` are optional semantic channels (already at the features'
    resolution and scaled by the semantic weight) appended to the patches for *matching only*
    (Neural Doodle); the loss is on the feature part.
    """

    def __init__(
        self,
        exemplar_features: torch.Tensor,
        variety: float = 0.0,
        size: int = 3,
        guide: torch.Tensor | None = None,
        exemplar_guide: torch.Tensor | None = None,
        chunk: int = 1024,
        circular: bool = False,
    ):
        super().__init__()
        self.size, self.variety, self.chunk, self.circular = size, float(variety), chunk, circular
        ex = exemplar_features.detach()
        self.channels = ex.shape[1]
        self.register_buffer("exemplar", extract_patches(ex, size))
        match = ex if exemplar_guide is None else torch.cat([ex, exemplar_guide.detach()], dim=1)
        self.register_buffer("keys", match_keys(_normalized(extract_patches(match, size))))
        self.register_buffer("guide", None if guide is None else guide.detach())
        self.history: torch.Tensor | None = None
        if (guide is None) != (exemplar_guide is None):
            raise ValueError("give both guides or neither")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.channels:
            raise ValueError(f"features have {features.shape[1]} channels, the exemplar {self.channels}")
        patches = extract_patches(features, self.size, self.circular)
        query = patches if self.guide is None else extract_patches(torch.cat([features.detach(), self.guide], dim=1), self.size, self.circular)
        idx = self.match(query.detach())
        return (patches - self.exemplar[idx]).pow(2).mean()

    def match(self, query: torch.Tensor) -> torch.Tensor:
        """Best exemplar patch of every query patch, updating the variety history."""
        if self.variety <= 0:
            return match_patches(query, self.keys, chunk=self.chunk)
        best = torch.empty(self.keys.shape[1])
        if self.history is None:  # neural-doodle's warm-up: a first pass only to fill the history
            match_patches(query, self.keys, chunk=self.chunk, key_best=best)
            self.history = best.clone()
        idx = match_patches(query, self.keys, self.variety, self.chunk, self.history, best)
        self.history = best
        return idx

    def reset(self) -> None:
        """Forget the variety history (the loop calls this after its probe evaluation)."""
        self.history = None


# --- sliced Wasserstein (Heitz et al. 2021) ----------------------------------------------------


_ORDER_KEYS = {torch.float32: (torch.int32, 0x7FFFFFFF), torch.float64: (torch.int64, 0x7FFFFFFFFFFFFFFF)}


def sort_order(values: torch.Tensor) -> torch.Tensor:
    """The indices that sort *values* along the last dimension, as ``values.sort(dim=-1)``'s.

    The sliced Wasserstein loss spends half of a style transfer's time sorting (issue 16's
    profile).  Floats are sorted here as integer keys with the same order — the bit pattern, its
    magnitude bits flipped for negative numbers — which torch sorts 20–30 % faster on the CPU.
    Other dtypes (and NaNs' place) are as ``sort`` does them: the keys are only used for finite
    float32/float64."""
    if values.dtype not in _ORDER_KEYS or not torch.isfinite(values).all():
        return values.sort(dim=-1).indices
    itype, magnitude = _ORDER_KEYS[values.dtype]
    bits = values.detach().view(itype)
    keys = bits ^ ((bits >> (bits.element_size() * 8 - 1)) & magnitude)
    return keys.sort(dim=-1).indices


def sort_last(values: torch.Tensor) -> torch.Tensor:
    """``values.sort(dim=-1).values``, differentiable, with the same values in the same order:
    gathered by :func:`sort_order`, so the gradient flows as through ``sort``."""
    return values.gather(-1, sort_order(values))


def _sorted_to(values: torch.Tensor, n: int) -> torch.Tensor:
    """Sorted rows of ``(K, M)`` resampled to *n* quantiles → ``(K, n)`` (sizes may differ)."""
    s = sort_last(values)
    if s.shape[1] == n:
        return s
    return F.interpolate(s.unsqueeze(0), size=n, mode="linear", align_corners=True).squeeze(0)


class SWDLoss(nn.Module):
    """Sliced Wasserstein feature loss (Heitz, Vanhoey, Chambon & Belcour, CVPR 2021): the
    features at every position are projected on random unit directions, sorted over space and
    compared with the exemplar's sorted projections (quantile-matched when sizes differ).

    Directions (*directions* × the channels, at least one; Heitz et al. use as many as channels)
    are redrawn by :meth:`resample`, which the loop calls at the start of every optimiser step,
    so fewer per step still cover every direction over a run: the sorts are half the time of a
    512² style transfer, and half the directions scored the same on three pairs (issue 16,
    docs/experiments.md).  Several weighted exemplars blend as a 1-D Wasserstein barycentre
    (their sorted projections averaged)."""

    def __init__(self, target_features, weights=None, generator: torch.Generator | None = None,
                 directions: float = 1.0):
        super().__init__()
        if not (math.isfinite(directions) and directions > 0):
            raise ValueError(f"directions must be a positive fraction of the channels, got {directions}")
        targets, self.weights = _weighted(target_features, weights)
        self.targets = [t.flatten(2)[0] for t in targets]  # (C, M_i)
        self.channels = self.targets[0].shape[0]
        self.count = max(1, round(directions * self.channels))
        self.resample(generator or torch.Generator().manual_seed(0))

    def resample(self, generator: torch.Generator) -> None:
        # drawn on the CPU generator, then moved: the same directions on every device
        d = torch.randn(self.channels, self.count, generator=generator).to(self.targets[0])
        self.directions = d / d.norm(dim=0, keepdim=True)  # (C, K)
        self._target_proj = [self.directions.T @ t for t in self.targets]  # (K, M_i)
        self._cache: dict[int, torch.Tensor] = {}

    def _target_sorted(self, n: int) -> torch.Tensor:
        if n not in self._cache:
            self._cache[n] = sum(w * _sorted_to(p, n) for p, w in zip(self._target_proj, self.weights))
        return self._cache[n]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        _check_features(features)
        if features.shape[1] != self.channels:
            raise ValueError(f"features have {features.shape[1]} channels, the exemplar {self.channels}")
        proj = self.directions.T @ features.flatten(2)  # (B, K, N): every item of the batch
        return (sort_last(proj) - self._target_sorted(proj.shape[2])).pow(2).mean()


# --- Fourier magnitude (Liu, Gousseau & Xia 2016) -----------------------------------------------


def fit_to(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """*image* brought to *size* without rescaling: centre-cropped, or reflect-tiled if smaller."""
    h, w = image.shape[-2:]
    while h < size[0] or w < size[1]:
        image = torch.cat([image, image.flip(-1)], dim=-1) if w < size[1] else image
        image = torch.cat([image, image.flip(-2)], dim=-2) if h < size[0] else image
        h, w = image.shape[-2:]
    top, left = (h - size[0]) // 2, (w - size[1]) // 2
    return image[..., top:top + size[0], left:left + size[1]]


class SpectrumLoss(nn.Module):
    """Liu et al. 2016's spectrum constraint on the pixels: the image is projected onto the set
    of images with the exemplar's Fourier magnitudes (keeping its own phases) and the loss is the
    squared distance to that projection, which is held constant for the gradient."""

    def __init__(self, exemplar: torch.Tensor, size: tuple[int, int], weights=None):
        super().__init__()
        targets, weights = _weighted(exemplar, weights)
        mags = [torch.fft.rfft2(fit_to(t, size) - t.mean(dim=(-2, -1), keepdim=True)).abs() for t in targets]
        self.register_buffer("magnitude", sum(w * m for m, w in zip(mags, weights)))
        self.register_buffer("mean", sum(w * t.mean(dim=(-2, -1), keepdim=True) for t, w in zip(targets, weights)))
        self.size = tuple(size)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        _check_features(image, "image")
        if tuple(image.shape[-2:]) != self.size:
            raise ValueError(f"the image is {tuple(image.shape[-2:])}, the spectrum target {self.size}")
        with torch.no_grad():
            centred = image - image.mean(dim=(-2, -1), keepdim=True)
            spec = torch.fft.rfft2(centred)
            projected = torch.fft.irfft2(self.magnitude * torch.exp(1j * spec.angle()), s=image.shape[-2:]) + self.mean
        return (image - projected).pow(2).mean()


# --- restricting a loss to a region (repair, expand) -------------------------------------------


def region_features(features: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """The features at the positions where *region* ``(H, W)`` (bool) is true, as a
    ``(B, C, N, 1)`` column: Gram, SWD and content losses then see only those positions."""
    _check_features(features)
    if tuple(region.shape) != tuple(features.shape[-2:]):
        raise ValueError(f"region {tuple(region.shape)} does not match features {tuple(features.shape[-2:])}")
    index = region.flatten().nonzero().squeeze(1)
    return features.flatten(2)[:, :, index].unsqueeze(-1)


class RegionLoss(nn.Module):
    """*loss* (any module over ``(B, C, H, W)`` features that ignores the layout of positions:
    Gram, SWD) applied only to the positions where *region* is true — repair's hole and the band
    around it, whose statistics are pulled towards those of the known part."""

    def __init__(self, loss: nn.Module, region: torch.Tensor):
        super().__init__()
        self.loss = loss
        self.register_buffer("region", region.bool())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.loss(region_features(features, self.region))


class SeamLoss(nn.Module):
    """Squared differences of adjacent pixels inside a band ``(1, 1, H, W)`` (1 on the band):
    the total variation of where a repaired hole meets the known pixels, so the fill continues
    them instead of starting afresh at the boundary."""

    def __init__(self, band: torch.Tensor):
        super().__init__()
        self.register_buffer("dy", (band[..., 1:, :] * band[..., :-1, :]).float())
        self.register_buffer("dx", (band[..., :, 1:] * band[..., :, :-1]).float())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        dy = (image[..., 1:, :] - image[..., :-1, :]).pow(2) * self.dy
        dx = (image[..., :, 1:] - image[..., :, :-1]).pow(2) * self.dx
        return (dy.sum() + dx.sum()) / (self.dy.sum() + self.dx.sum()).clamp_min(1)
