"""Loss terms, each a plain function plus a thin :class:`torch.nn.Module` that holds its target.

* Gram / texture loss — Gatys et al. 2015, as used with random weights by He et al. 2016 §3
  ("texture synthesis") and Du 2020 §3.
* Total variation — He et al. 2016 eq. for style transfer: squared differences of adjacent pixels.
* Content — squared error of activations (He et al. §3 feature inversion; Gatys' content term).
* Neural patches — nearest-neighbour 3×3 feature patches by normalised cross-correlation
  (Champandard 2016), optionally guided by semantic maps (Neural Doodle).

Targets are computed once when the module is made (per scale), never per evaluation.
"""

from __future__ import annotations

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


def gram_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between the Gram matrix of *features* and *target_gram* ``(·, C, C)``."""
    gram = gram_matrix(features)
    if target_gram.shape[-2:] != gram.shape[-2:]:
        raise ValueError(f"target Gram {tuple(target_gram.shape)} does not match features with {gram.shape[-1]} channels")
    return (gram - target_gram).pow(2).mean()


class GramLoss(nn.Module):
    """:func:`gram_loss` against the Gram matrix of fixed target features (computed once)."""

    def __init__(self, target_features: torch.Tensor):
        super().__init__()
        self.register_buffer("target", gram_matrix(target_features.detach()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return gram_loss(features, self.target)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean of squared differences of vertically and horizontally adjacent pixels."""
    _check_features(image, "image")
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


class TVLoss(nn.Module):
    """Module form of :func:`tv_loss` (acts on the image, not on features)."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return tv_loss(image)


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


def extract_patches(features: torch.Tensor, size: int = 3) -> torch.Tensor:
    """All ``size``×``size`` patches (stride 1, no padding) of ``(1, C, H, W)`` → ``(N, C·size²)``."""
    _check_features(features)
    if features.shape[0] != 1:
        raise ValueError("patch extraction works on one image at a time")
    if min(features.shape[-2:]) < size:
        raise ValueError(f"features {tuple(features.shape[-2:])} are smaller than a {size}×{size} patch")
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
) -> torch.Tensor:
    """Index of the best exemplar patch for every patch, by normalised cross-correlation.

    *keys* are the unit-norm exemplar patches as made by :func:`match_keys`.  Scores are
    computed in chunks of *chunk* patches so memory stays at ``chunk × M`` values whatever the
    image size.

    ``variety > 0`` (neural-doodle's ``--variety``) penalises reuse: patches are matched in
    raster order in small chunks, and each exemplar patch's score is lowered by
    ``variety × (its uses so far / the uses an even spread would give so far)``, so a patch
    used at the average rate costs ``variety`` of correlation.
    """
    queries = _normalized(patches).to(keys.dtype)
    n, m = queries.shape[0], keys.shape[1]
    out = torch.empty(n, dtype=torch.long)
    step = chunk if variety <= 0 else min(chunk, 16)
    uses = torch.zeros(m)
    for start in range(0, n, step):
        scores = (queries[start:start + step] @ keys).float()
        if variety > 0 and start > 0:
            scores -= variety * uses / (start / m)
        best = scores.argmax(dim=1)
        out[start:start + step] = best
        if variety > 0:
            uses += torch.bincount(best, minlength=m).to(uses.dtype)
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
    ):
        super().__init__()
        self.size, self.variety, self.chunk = size, float(variety), chunk
        ex = exemplar_features.detach()
        self.channels = ex.shape[1]
        self.register_buffer("exemplar", extract_patches(ex, size))
        match = ex if exemplar_guide is None else torch.cat([ex, exemplar_guide.detach()], dim=1)
        self.register_buffer("keys", match_keys(_normalized(extract_patches(match, size))))
        self.register_buffer("guide", None if guide is None else guide.detach())
        if (guide is None) != (exemplar_guide is None):
            raise ValueError("give both guides or neither")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.channels:
            raise ValueError(f"features have {features.shape[1]} channels, the exemplar {self.channels}")
        patches = extract_patches(features, self.size)
        query = patches if self.guide is None else extract_patches(torch.cat([features.detach(), self.guide], dim=1), self.size)
        idx = match_patches(query.detach(), self.keys, self.variety, self.chunk)
        return (patches - self.exemplar[idx]).pow(2).mean()
