"""Image-quality numbers that need no pretrained network.

So far: PSNR and SSIM (kornia) and the relative feature error of an inversion (He et al. 2016
§3).  The texture metrics of issue #5 will join them here.
"""

from __future__ import annotations

import kornia
import torch

from .synth.loop import resize


def _pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.dim() != 4 or b.dim() != 4 or a.shape[:2] != b.shape[:2]:
        raise ValueError(f"expected two (B, C, H, W) images, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        b = resize(b, tuple(a.shape[-2:]))
    return a.detach().float().clamp(0, 1), b.detach().float().clamp(0, 1)


def psnr(image: torch.Tensor, reference: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB (kornia); the reference is resized to the image if needed."""
    a, b = _pair(image, reference)
    if torch.equal(a, b):
        return float("inf")
    return float(kornia.metrics.psnr(a, b, 1.0))


def ssim(image: torch.Tensor, reference: torch.Tensor, window: int = 11) -> float:
    """Mean structural similarity (kornia, Gaussian window *window*), in [−1, 1]."""
    a, b = _pair(image, reference)
    window = min(window, *a.shape[-2:]) // 2 * 2 + 1 if min(a.shape[-2:]) < window else window
    return float(kornia.metrics.ssim(a, b, window).mean())


def relative_feature_error(net, layer: str, image: torch.Tensor, reference: torch.Tensor) -> float:
    """‖φ(image) − φ(reference)‖² / ‖φ(reference)‖² at *layer* of *net* (He et al. 2016 §3)."""
    with torch.no_grad():
        a = net(image, [layer])[layer]
        b = net(reference, [layer])[layer]
    return float((a - b).pow(2).sum() / b.pow(2).sum().clamp_min(1e-30))
