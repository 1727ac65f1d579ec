"""Image operations, the one home of each: resizing, noise, pyramids, colour conversions and the
grid notch (:func:`degrid`).

Every tensor is ``(B, C, H, W)`` in [0, 1].  This module sits below the networks (``nets``),
the metrics and the synthesis loop, and imports none of them.  Where kornia has the operation
it is used as it is (its antialiased resize, its ``pyrdown`` and colour conversions).
"""

from __future__ import annotations

import functools

import kornia
import torch
import torch.nn.functional as F


def grid_crops(image: torch.Tensor, size: tuple[int, int], per_side: int) -> list[torch.Tensor]:
    """Crops of *size* (H, W) from ``(B, C, H, W)`` *image* on a *per_side* × *per_side* grid
    of offsets spanning it (corners included; 1: the centre crop).  Along a side where the
    image is not larger than *size* the whole side is kept, so an image no larger than *size*
    gives ``[image]``."""
    if per_side < 1:
        raise ValueError(f"per_side must be ≥ 1, got {per_side}")
    offsets = []
    for full, want in zip(image.shape[-2:], size):
        if full <= want:
            offsets.append(([0], full))
        elif per_side == 1:
            offsets.append(([(full - want) // 2], want))
        else:
            offsets.append((sorted({round(i * (full - want) / (per_side - 1)) for i in range(per_side)}), want))
    (ys, h), (xs, w) = offsets
    return [image[..., y:y + h, x:x + w] for y in ys for x in xs]


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


def noise(size: tuple[int, int], generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """White noise ``U(0, 1)`` image of *size* (H, W) — He et al.'s starting point — drawn from
    the CPU *generator* and moved to *device*, so a seed gives the same image on every device."""
    return torch.rand((1, 3, *size), generator=generator).to(device)


def randn(shape, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal values drawn from the CPU *generator*, then moved to *device*."""
    return torch.randn(tuple(shape), generator=generator).to(device)


#: Width of :func:`degrid`'s notch: the σ of its Gaussian window, in grid periods.
DEGRID_SIGMA = 2.0


@functools.lru_cache(maxsize=8)
def _notch_kernels(period: int, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(comb, plain)`` 1-D windows of :func:`degrid`, each summing to 1: a Gaussian of σ =
    *sigma* periods sampled every *period* px, and sampled at every pixel."""
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius * period, radius * period + 1, dtype=torch.float64)
    plain = torch.exp(-(t / period) ** 2 / (2 * sigma ** 2))
    comb = torch.where(t.remainder(period) == 0, plain, torch.zeros_like(plain))
    return comb / comb.sum(), plain / plain.sum()


@functools.lru_cache(maxsize=32)
def _notch_spectra(n: int, period: int, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Discrete Fourier transforms ``(comb, plain)`` of :func:`_notch_kernels` as circular
    convolutions of length *n* (a window longer than *n* wraps onto itself)."""
    out = []
    for k in _notch_kernels(period, sigma):
        offsets = (torch.arange(len(k)) - len(k) // 2).remainder(n)
        out.append(torch.fft.fft(torch.zeros(n, dtype=torch.float64).index_add_(0, offsets, k)))
    return out[0], out[1]


@functools.lru_cache(maxsize=32)
def _notch_matrices(n: int, period: int, sigma: float, circular: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(comb, plain)`` ``(n, n)`` matrices of one axis: a Gaussian window of σ = *sigma* periods
    sampled every *period* px (so it averages the pixels of one phase), and the same window
    sampled at every pixel; borders reflect (or wrap when *circular*)."""
    comb, plain = _notch_kernels(period, sigma)
    t = torch.arange(len(comb)) - len(comb) // 2
    rows = torch.arange(n)[:, None].expand(n, len(t))
    cols = rows + t.to(torch.int64)[None]
    if circular:
        cols = cols.remainder(n)
    else:  # reflect about the edge pixels (as F.pad's "reflect"), any number of times
        span = max(2 * (n - 1), 1)
        cols = cols.remainder(span)
        cols = torch.where(cols >= n, span - cols, cols)
    out = []
    for k in (comb, plain):
        m = torch.zeros(n, n, dtype=torch.float64).index_put_((rows, cols), k.expand(n, -1), accumulate=True)
        out.append(m.float())
    return out[0], out[1]


def degrid(image: torch.Tensor, period: int = 4, sigma: float = DEGRID_SIGMA, circular: bool = False) -> torch.Tensor:
    """*image* without its content near the spatial frequencies of a *period*-px grid: a notch
    filter (issue 17).  A ``k``-px grid is a pattern that repeats on every ``k``-th pixel; its
    energy sits on the frequencies ``2π (i, j) / k``.  For each pixel, the Gaussian-weighted mean
    of the pixels of its own phase (same position modulo *period*, window σ = *sigma* periods)
    minus the Gaussian-weighted mean of all pixels is that pixel's share of a slowly varying grid;
    it is subtracted.  Smooth content and detail that is not locked to the pixel phases pass
    (a linear ramp exactly, away from the borders); a grid whose amplitude changes over more
    than about ``sigma × period`` px is removed.  ``period=4`` removes 4-px and 2-px grids.

    Linear, differentiable, ``(B, C, H, W)`` in and out (the pixels keep their range only
    approximately; clamp after).  The stride-2 convolutions of Champandard 2016's nets stamp such
    grids into synthesised pixels (docs/experiments.md); optimising the pixels seen through this
    filter leaves the optimiser no way to make one.

    Computed by FFT on the reflect-padded image: O(n² log n) time and O(n²) memory, where the
    dense per-axis matrices that define it (and that it used before) take O(n³) and two n × n
    matrices per axis; forward + backward on a 2048² RGB image 1.19 s against 2.95 s on this
    machine (benchmarks/bench_degrid.py).  An image no wider than the window (about 12 periods)
    uses the matrices, which reflect any number of times.
    """
    if image.ndim != 4:
        raise ValueError(f"degrid expects a (B, C, H, W) tensor, got shape {tuple(image.shape)}")
    if int(period) != period or period < 2:
        raise ValueError(f"degrid's period must be a whole number ≥ 2, got {period}")
    if not sigma > 0:
        raise ValueError(f"degrid's sigma must be positive, got {sigma}")
    h, w = image.shape[-2:]
    reach = len(_notch_kernels(int(period), float(sigma))[0]) // 2
    if circular or reach < min(h, w):  # by FFT: O(n² log n) time, O(n²) memory
        padded = image if circular else F.pad(image, (reach, reach, reach, reach), mode="reflect")
        ph_, pw_ = padded.shape[-2:]
        ch, ph = (k.to(image.device) for k in _notch_spectra(ph_, int(period), float(sigma)))
        cw, pw = (k[: pw_ // 2 + 1].to(image.device) for k in _notch_spectra(pw_, int(period), float(sigma)))
        double = image.dtype == torch.float64
        kernel = (ch[:, None] * cw[None] - ph[:, None] * pw[None]).to(torch.complex128 if double else torch.complex64)
        spectrum = torch.fft.rfft2(padded if double else padded.float())  # half precision: in float32
        smooth = torch.fft.irfft2(spectrum * kernel, s=(ph_, pw_)).to(image.dtype)
        return image - (smooth if circular else smooth[..., reach:reach + h, reach:reach + w])
    ch, ph = (m.to(image) for m in _notch_matrices(h, int(period), float(sigma), circular))
    cw, pw = (m.to(image) for m in _notch_matrices(w, int(period), float(sigma), circular))
    return image - (ch @ image @ cw.T - ph @ image @ pw.T)


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


def _color_moments(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.reshape(3, -1)
    mean = pixels.mean(dim=1, keepdim=True)
    centred = pixels - mean
    return mean, centred @ centred.T / pixels.shape[1]


def _sqrtm(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(cov.double())
    vals = vals.clamp_min(1e-8)
    return (vecs @ torch.diag(vals.rsqrt() if inverse else vals.sqrt()) @ vecs.T).float()


def match_palette(image: torch.Tensor, styles, weights=None) -> torch.Tensor:
    """*image* with the colour mean and covariance of the style image(s) (a weighted mixture):
    the linear map ``A (x − μ) + μ_s`` with ``A = Σ_s^½ Σ^−½`` (Gatys et al. 2017 §5 colour
    transfer, applied to the content before the synthesis, as their "colour histogram
    matching" does for the style), clamped to [0, 1]."""
    styles = [styles] if torch.is_tensor(styles) else list(styles)
    weights = [1.0 / len(styles)] * len(styles) if not weights else list(weights)
    moments = [_color_moments(s) for s in styles]
    mean_s = sum(w * m for w, (m, _) in zip(weights, moments))
    cov_s = sum(w * (c + m @ m.T) for w, (m, c) in zip(weights, moments)) - mean_s @ mean_s.T
    mean, cov = _color_moments(image)
    a = _sqrtm(cov_s) @ _sqrtm(cov, inverse=True)
    out = a @ (image.reshape(3, -1) - mean) + mean_s
    return out.reshape(image.shape).clamp(0, 1)
