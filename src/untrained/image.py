"""Image operations, the one home of each: resizing, noise, pyramids and colour conversions.

Every tensor is ``(B, C, H, W)`` in [0, 1].  This module sits below the networks (``nets``),
the metrics and the synthesis loop, and imports none of them.  Where kornia has the operation
it is used as it is (its antialiased resize, its ``pyrdown`` and colour conversions).
"""

from __future__ import annotations

import kornia
import torch
import torch.nn.functional as F


def resize(image: torch.Tensor, size: tuple[int, int], circular: bool = False) -> torch.Tensor:
    """Antialiased bilinear resize of ``(B, C, H, W)`` to *size* (H, W) (kornia); *circular*
    treats the image as periodic (tileable output), so its borders blend with the opposite ones.
    Always a new tensor, even when the size is unchanged."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image.clone()
    resize_ = kornia.geometry.transform.resize
    if not circular:
        return resize_(image, size, interpolation="bilinear", antialias=True, align_corners=False)
    h, w = image.shape[-2:]
    ph, pw = min(4, h), min(4, w)
    padded = F.pad(image, (pw, pw, ph, ph), mode="circular")
    sy, sx = size[0] / h, size[1] / w
    big = (round((h + 2 * ph) * sy), round((w + 2 * pw) * sx))
    out = resize_(padded, big, interpolation="bilinear", antialias=True, align_corners=False)
    top, left = round(ph * sy), round(pw * sx)
    return out[..., top:top + size[0], left:left + size[1]].contiguous()


def noise(size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """White noise ``U(0, 1)`` image of *size* (H, W) — He et al.'s starting point."""
    return torch.rand((1, 3, *size), generator=generator)


def pyrdown(image: torch.Tensor) -> torch.Tensor:
    """One Gaussian-pyramid step (kornia ``pyrdown``): a 5×5 binomial blur with reflected
    borders, then half the size (floored)."""
    return kornia.geometry.transform.pyrdown(image, border_type="reflect", align_corners=False)


def upsample_to(image: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """*image* bilinearly upsampled to the size of *like* (a pyramid's expand step)."""
    return F.interpolate(image, size=like.shape[-2:], mode="bilinear", align_corners=False)


def gaussian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """*levels* Gaussian-pyramid levels of *image*, finest (the image) first."""
    out = [image]
    for _ in range(levels - 1):
        out.append(pyrdown(out[-1]))
    return out


def laplacian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """*levels* Laplacian-pyramid levels, finest first: each Gaussian level minus the next one
    upsampled to its size, and last the coarsest Gaussian level (the low-pass residual), so
    :func:`collapse` gives the image back exactly (Burt & Adelson; Du 2020 §6.3)."""
    gauss = gaussian_pyramid(image, levels)
    return [f - upsample_to(g, f) for f, g in zip(gauss, gauss[1:])] + [gauss[-1]]


def collapse(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """The image a :func:`laplacian_pyramid` was made from."""
    out = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        out = band + upsample_to(out, band)
    return out


def image_pyramid(image: torch.Tensor, levels: int, kind: str) -> list[torch.Tensor]:
    """The Gaussian or Laplacian pyramid of *image* (*kind*), finest level first."""
    if kind == "gaussian":
        return gaussian_pyramid(image, levels)
    if kind == "laplacian":
        return laplacian_pyramid(image, levels)
    raise ValueError(f"unknown pyramid {kind!r}; choose from gaussian, laplacian")


def grey(image: torch.Tensor) -> torch.Tensor:
    """Luminance ``(B, 1, H, W)`` of an RGB image (kornia, ITU-R BT.601 weights)."""
    return kornia.color.rgb_to_grayscale(image)


def rgb_to_ycbcr(image: torch.Tensor) -> torch.Tensor:
    """RGB → YCbCr (kornia)."""
    return kornia.color.rgb_to_ycbcr(image)


def ycbcr_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """YCbCr → RGB (kornia)."""
    return kornia.color.ycbcr_to_rgb(image)
