"""Objective quality numbers that need no pretrained network (issue #5).

Every metric works from the images alone or from held-out random networks:

* :func:`swd` — multi-scale patch sliced Wasserstein distance (texture statistics);
* :func:`score` — ``swd`` divided by the same distance for the reference's own pixels shuffled,
  so ≈ 1 means "right colours, no structure" and lower is better;
* :func:`spectrum` — distance of radially averaged log power spectra (blur, checkerboards);
* :func:`color` — colour-distribution distance (per-channel 1-D Wasserstein + sliced RGB);
* :func:`gram_random` — Gram distance in held-out random networks;
* :func:`copy_fraction` — share of the output that is a verbatim copy of an exemplar region;
* :func:`psnr`, :func:`ssim` (kornia), :func:`relative_feature_error` for inversions;
* :func:`diversity` — how different outputs of several seeds are from each other.

Randomness (projections, pixel shuffles, held-out nets) uses fixed seeds, so identical inputs
give identical numbers.  The README documents each metric and its weaknesses.
"""

from __future__ import annotations

import math
from typing import Sequence

import kornia
import torch
import torch.nn.functional as F

from .image import grey, laplacian_pyramid, resize

#: Fixed seed of every random choice a metric makes.
METRIC_SEED = 20160905


def _gen(offset: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(METRIC_SEED + offset)


def _image(x: torch.Tensor, what: str = "image") -> torch.Tensor:
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or tuple(x.shape[:2]) != (1, 3):
        raise ValueError(f"{what}: expected one RGB image (1, 3, H, W), got {tuple(x.shape)}")
    return x.detach().float().clamp(0, 1)


def _pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _image(a), _image(b, "reference")
    if a.shape != b.shape:
        b = resize(b, tuple(a.shape[-2:]))
    return a, b


# --- sliced Wasserstein ------------------------------------------------------------------------


def _quantiles(values: torch.Tensor, n: int) -> torch.Tensor:
    """*n* evenly spaced quantiles of each column of sorted-able ``values`` (N, K) → (n, K)."""
    s = values.sort(dim=0).values
    pos = torch.linspace(0, s.shape[0] - 1, n)
    lo, hi = pos.floor().long(), pos.ceil().long()
    w = (pos - lo.float()).unsqueeze(1)
    return s[lo] * (1 - w) + s[hi] * w


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int = 128, quantiles: int = 256,
                       generator: torch.Generator | None = None) -> float:
    """Sliced 1-Wasserstein distance between point sets ``(N, D)`` and ``(M, D)`` (sizes may
    differ: projections are compared by quantiles)."""
    g = generator or _gen()
    proj = torch.randn(a.shape[1], directions, generator=g)
    proj = proj / proj.norm(dim=0, keepdim=True)
    return float((_quantiles(a @ proj, quantiles) - _quantiles(b @ proj, quantiles)).abs().mean())


def _patches(image: torch.Tensor, size: int, count: int, g: torch.Generator) -> torch.Tensor:
    p = F.unfold(image, size).squeeze(0).T  # (N, 3·size²)
    if p.shape[0] > count:
        p = p[torch.randperm(p.shape[0], generator=g)[:count]]
    return p


def _bands(image: torch.Tensor, levels: int, patch: int) -> list[torch.Tensor]:
    """Laplacian-pyramid bands of *image* (finest first) and the low-pass residual, stopping
    while the residual still holds enough patches (≥ 4 × *patch* px a side) for stable quantiles."""
    n, side = 1, min(image.shape[-2:])
    while n < levels and side // 2 >= 4 * patch:
        n, side = n + 1, side // 2
    return laplacian_pyramid(image, n)


def swd(output: torch.Tensor, reference: torch.Tensor, patch: int = 7, levels: int = 4,
        count: int = 4096, directions: int = 128) -> float:
    """Multi-scale patch sliced Wasserstein distance (a texture-statistics distance).

    Both images are split into Laplacian-pyramid bands plus a low-pass residual (kornia
    ``pyrdown``); in each, up to *count* random ``patch``×``patch`` colour patches are normalised
    by the *reference's* per-dimension mean and std (so colour shifts and missing detail are not
    hidden — a blurred copy has almost nothing in the fine bands), projected on *directions*
    fixed random directions and compared by quantiles.  The mean over bands is returned; sizes
    may differ.  0 for statistically identical images."""
    out, ref = _image(output), _image(reference, "reference")
    if min(*out.shape[-2:], *ref.shape[-2:]) < patch:
        raise ValueError(f"images are smaller than a {patch}×{patch} patch")
    out_bands, ref_bands = _bands(out, levels, patch), _bands(ref, levels, patch)
    used = min(len(out_bands), len(ref_bands))
    total = 0.0
    for level in range(used):
        # the last band of the shorter pyramid is a low-pass residual: compare like with like
        ob = out_bands[level] if level < used - 1 else _bands(out, used, patch)[-1]
        rb = ref_bands[level] if level < used - 1 else _bands(ref, used, patch)[-1]
        po, pr = _patches(ob, patch, count, _gen(level)), _patches(rb, patch, count, _gen(level))
        mean, std = pr.mean(dim=0), pr.std(dim=0).clamp_min(1e-3)
        total += sliced_wasserstein((po - mean) / std, (pr - mean) / std, directions, generator=_gen(100 + level))
    return total / used


def shuffled(image: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """*image* with its pixels randomly permuted (fixed seed): its colours, none of its structure."""
    image = _image(image)
    flat = image.flatten(2)
    perm = torch.randperm(flat.shape[-1], generator=_gen(1000 + offset))
    return flat[..., perm].reshape(image.shape)


def score(output: torch.Tensor, reference: torch.Tensor, distance: float | None = None) -> float:
    """``swd(output, reference) / swd(shuffled reference, reference)``: ≈ 1 for shuffled
    pixels, ≥ 1 for noise, near 0 for another sample of the same texture.  Lower is better.
    Pass *distance* if ``swd(output, reference)`` is already known."""
    baseline = swd(shuffled(reference), reference)
    return (swd(output, reference) if distance is None else distance) / max(baseline, 1e-12)


# --- spectrum and colour -----------------------------------------------------------------------


def radial_power(image: torch.Tensor, bins: int = 32) -> torch.Tensor:
    """Log radially averaged power spectrum of the luminance (Hann-windowed), in *bins*
    frequency bins from 0 to Nyquist, so images of different sizes compare."""
    lum = grey(_image(image))[0, 0]
    h, w = lum.shape
    window = torch.hann_window(h, periodic=False)[:, None] * torch.hann_window(w, periodic=False)[None, :]
    power = torch.fft.fftshift(torch.fft.fft2((lum - lum.mean()) * window)).abs().pow(2) / (h * w)
    fy = torch.fft.fftshift(torch.fft.fftfreq(h))[:, None]
    fx = torch.fft.fftshift(torch.fft.fftfreq(w))[None, :]
    radius = (fy.pow(2) + fx.pow(2)).sqrt() / 0.5  # 1 = Nyquist
    idx = (radius * bins).long().clamp(max=bins)
    sums = torch.zeros(bins + 1).index_add_(0, idx.flatten(), power.flatten())
    counts = torch.zeros(bins + 1).index_add_(0, idx.flatten(), torch.ones(h * w))
    return torch.log10(sums[1:bins] / counts[1:bins].clamp_min(1) + 1e-10)  # drop DC and corners


def spectrum(output: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean absolute difference (in decades) of the radial log power spectra: catches blur
    (missing high frequencies), checkerboards and periodic artefacts (excess ones)."""
    return float((radial_power(output) - radial_power(reference)).abs().mean())


def color(output: torch.Tensor, reference: torch.Tensor) -> float:
    """Colour-distribution distance: mean of the per-channel 1-D Wasserstein distances and a
    sliced Wasserstein distance on RGB triples (all in [0, 1] units)."""
    po = _image(output).flatten(2)[0].T
    pr = _image(reference, "reference").flatten(2)[0].T
    per_channel = float((_quantiles(po, 512) - _quantiles(pr, 512)).abs().mean())
    return 0.5 * (per_channel + sliced_wasserstein(po, pr, 64, 512, _gen(7)))


# --- held-out random networks -------------------------------------------------------------------


def _held_out_nets():
    """Random nets used only for scoring: other architectures and seeds than the synthesis
    defaults (a leaky-ReLU strided net with Gaussian weights; NPND with ternary weights)."""
    from .nets import build
    from .nets.modify import make

    specs = [
        (make("champandard", activation="lrelu:0.2", weights="gaussian:0.05", bias="zero", padding="reflect"), ("conv2_1", "conv3_1")),
        (make("npnd", width=48, weights="ternary:0.1:0.3", bias="0.2", padding="reflect"), ("conv_2", "conv_4")),
    ]
    return [(build(spec, 90001 + i), layers) for i, (spec, layers) in enumerate(specs)]


_NETS_CACHE: list = []


def gram_random(output: torch.Tensor, reference: torch.Tensor) -> float:
    """Relative Gram distance ‖G(out) − G(ref)‖² / ‖G(ref)‖², averaged over the layers of two
    held-out random networks (see :func:`_held_out_nets`)."""
    from .losses import gram_matrix

    if not _NETS_CACHE:
        _NETS_CACHE.extend(_held_out_nets())
    out, ref = _image(output), _image(reference, "reference")
    values = []
    with torch.no_grad():
        for net, layers in _NETS_CACHE:
            fo, fr = net(out, layers), net(ref, layers)
            for name in layers:
                go, gr = gram_matrix(fo[name]), gram_matrix(fr[name])
                values.append(float((go - gr).pow(2).sum() / gr.pow(2).sum().clamp_min(1e-30)))
    return sum(values) / len(values)


# --- verbatim copies -----------------------------------------------------------------------------


def _zero_mean_unit(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = p - p.mean(dim=1, keepdim=True)
    norm = p.norm(dim=1, keepdim=True)
    return p / norm.clamp_min(1e-8), norm.squeeze(1)


#: Detail (image minus a σ = 1 blur) RMS above which a patch counts as textured in
#: :func:`copy_fraction` (per pixel and channel, in [0, 1] units).
DETAIL_RMS = 0.005 / math.sqrt(3)


def _textured(energy: torch.Tensor, patch: int) -> torch.Tensor:
    """Which patches, of detail norms *energy* over ``3 × patch²`` values, have a detail RMS
    above :data:`DETAIL_RMS`."""
    return energy > DETAIL_RMS * math.sqrt(3 * patch * patch)


def _detail(image: torch.Tensor) -> torch.Tensor:
    return image - kornia.filters.gaussian_blur2d(image, (5, 5), (1.0, 1.0), border_type="reflect")


def copy_fraction(output: torch.Tensor, exemplar: torch.Tensor, patch: int = 16, stride: int = 8,
                  threshold: float = 0.9) -> float:
    """Fraction of the output's area covered by ``patch``-px patches that are verbatim copies
    of some exemplar patch.

    Candidates come from 48-dimensional descriptors (4×4 block means, at every exemplar offset);
    a candidate is a copy when the zero-mean normalised cross-correlation of the patches' fine
    *detail* (image minus a σ = 1 blur) is ≥ *threshold*: smooth regions that merely look alike
    (water, sky) have unrelated detail, a verbatim copy has the same.  Patches without detail are
    left out of both the copied and the total area.  Copying the exemplar is not synthesis; this
    number exposes it."""
    out, ex = _image(output), _image(exemplar, "exemplar")
    if min(*out.shape[-2:], *ex.shape[-2:]) < patch:
        raise ValueError(f"copy fraction: the images are smaller than its {patch}×{patch} patch")
    block = patch // 4
    ex_desc = F.unfold(F.avg_pool2d(ex, block, stride=1), 4, dilation=block).squeeze(0).T
    out_desc = F.unfold(F.avg_pool2d(out, block, stride=1), 4, dilation=block, stride=stride).squeeze(0).T
    ex_n, _ = _zero_mean_unit(ex_desc)
    out_n, _ = _zero_mean_unit(out_desc)
    best = torch.empty(out_n.shape[0], dtype=torch.long)
    for start in range(0, out_n.shape[0], 512):
        best[start:start + 512] = (out_n[start:start + 512] @ ex_n.T).argmax(dim=1)
    out_detail, out_energy = _zero_mean_unit(F.unfold(_detail(out), patch, stride=stride).squeeze(0).T)
    ex_detail, _ = _zero_mean_unit(F.unfold(_detail(ex), patch).squeeze(0).T[best])
    textured = _textured(out_energy, patch)
    copied = ((out_detail * ex_detail).sum(dim=1) >= threshold) & textured
    h, w = out.shape[-2:]
    cols = (w - patch) // stride + 1
    covered = torch.zeros(h, w, dtype=torch.bool)
    evaluated = torch.zeros(h, w, dtype=torch.bool)
    for k in torch.nonzero(textured).flatten().tolist():
        y, x = (k // cols) * stride, (k % cols) * stride
        evaluated[y:y + patch, x:x + patch] = True
        if copied[k]:
            covered[y:y + patch, x:x + patch] = True
    total = int(evaluated.sum())
    return float(covered.sum()) / total if total else 0.0


# --- reconstructions ---------------------------------------------------------------------------


#: PSNR of identical images (finite, so results stay valid JSON).
MAX_PSNR = 100.0


def psnr(image: torch.Tensor, reference: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB (kornia), capped at :data:`MAX_PSNR` for identical
    images; the reference is resized to the image if needed."""
    a, b = _pair(image, reference)
    if torch.equal(a, b):
        return MAX_PSNR
    return min(float(kornia.metrics.psnr(a, b, 1.0)), MAX_PSNR)


def ssim(image: torch.Tensor, reference: torch.Tensor, window: int = 11) -> float:
    """Mean structural similarity (kornia, Gaussian window), in [−1, 1]."""
    a, b = _pair(image, reference)
    window = min(window, (min(a.shape[-2:]) - 1) // 2 * 2 + 1)
    return float(kornia.metrics.ssim(a, b, max(window, 3)).mean())


def edge_correlation(image: torch.Tensor, reference: torch.Tensor) -> float:
    """Pearson correlation of Sobel edge magnitudes (kornia) of the luminances: does the
    output keep the content's structure?"""
    a, b = _pair(image, reference)
    ea = kornia.filters.sobel(grey(a)).flatten()
    eb = kornia.filters.sobel(grey(b)).flatten()
    ea, eb = ea - ea.mean(), eb - eb.mean()
    return float((ea * eb).sum() / (ea.norm() * eb.norm()).clamp_min(1e-12))


def relative_feature_error(net, layer: str, image: torch.Tensor, reference: torch.Tensor) -> float:
    """‖φ(image) − φ(reference)‖² / ‖φ(reference)‖² at *layer* of *net* (He et al. 2016 §3)."""
    with torch.no_grad():
        a = net(image, [layer])[layer]
        b = net(reference, [layer])[layer]
    return float((a - b).pow(2).sum() / b.pow(2).sum().clamp_min(1e-30))


# --- sets and suites -----------------------------------------------------------------------------


def diversity(outputs: Sequence[torch.Tensor]) -> float:
    """Mean pairwise RMS pixel difference of *outputs* (e.g. one per seed) divided by
    √2 × their pixel standard deviation: ≈ 1 for independent samples, 0 for identical ones."""
    imgs = [_image(o) for o in outputs]
    if len(imgs) < 2:
        raise ValueError("diversity needs at least two outputs")
    imgs = [resize(i, tuple(imgs[0].shape[-2:])) for i in imgs]
    spread = math.sqrt(2) * float(torch.cat(imgs).std()) or 1.0
    pairs = [(i, j) for i in range(len(imgs)) for j in range(i + 1, len(imgs))]
    return sum(float((imgs[i] - imgs[j]).pow(2).mean().sqrt()) for i, j in pairs) / len(pairs) / spread


def texture_scores(output: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """The texture metric suite of *output* against exemplar *reference*."""
    distance = swd(output, reference)
    return {
        "score": score(output, reference, distance),
        "swd": distance,
        "spectrum": spectrum(output, reference),
        "color": color(output, reference),
        "gram_random": gram_random(output, reference),
        "copy": copy_fraction(output, reference),
    }


def evaluate(output: torch.Tensor, reference: torch.Tensor, task: str = "texture",
             content: torch.Tensor | None = None, net=None, layer: str | None = None) -> dict[str, float]:
    """All metrics for *task*: ``texture`` (against the exemplar), ``invert`` (PSNR, SSIM and,
    with *net* and *layer*, the relative feature error) or ``style`` (texture metrics against the
    style, plus SSIM and edge correlation against *content*)."""
    if task == "texture":
        return texture_scores(output, reference)
    if task == "invert":
        out = {"psnr": psnr(output, reference), "ssim": ssim(output, reference)}
        if net is not None and layer is not None:
            out["relative_feature_error"] = relative_feature_error(net, layer, _image(output), resize(_image(reference), tuple(output.shape[-2:])))
        return out
    if task == "style":
        out = texture_scores(output, reference)
        if content is not None:
            out["content_ssim"] = ssim(output, content)
            out["content_edges"] = edge_correlation(output, content)
        return out
    raise ValueError(f"unknown task {task!r}; choose from texture, invert, style")
