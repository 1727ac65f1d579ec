"""Loss terms, each a plain function plus a thin :class:`torch.nn.Module` that holds its target.

* Gram / texture loss — Gatys et al. 2015, as used with random weights by He et al. 2016 §3
  ("texture synthesis") and Du 2020 §3.
* Total variation — He et al. 2016 eq. for style transfer: squared differences of adjacent pixels.

Targets are computed once when the module is made (per scale), never per evaluation.
"""

from __future__ import annotations

import torch
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
