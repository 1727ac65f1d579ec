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
* :func:`diversity` — how different outputs of several seeds are from each other;
* :func:`border`, :func:`frame`, :func:`grid`, :func:`blotches` — artefacts (issue 15): a frame of
  border pixels unlike the interior, streaks along the edges a few pixels inside, excess power at
  periods 2 and 4 px, large-scale blotches.
* :func:`region_swd` — the patch-statistics distance of each region of a Neural Doodle against
  the same region of the style image.

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
    s = values.T.contiguous().sort(dim=1).values.T  # rows sort 4× faster than strided columns
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


def patches_at(image: torch.Tensor, size: int, index: torch.Tensor) -> torch.Tensor:
    """The ``size``×``size`` patches of ``(1, C, H, W)`` *image* at flat positions *index* (in
    ``F.unfold``'s order, stride 1) → ``(len(index), C·size²)``, equal to those rows of
    ``F.unfold(image, size)`` without unfolding every patch (memory: the chosen ones only)."""
    c, w = image.shape[1], image.shape[-1]
    cols = w - size + 1
    dy, dx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    ys = (index // cols)[:, None] + dy.flatten()[None, :]  # (N, size²)
    xs = (index % cols)[:, None] + dx.flatten()[None, :]
    return image[0][:, ys, xs].permute(1, 0, 2).reshape(len(index), c * size * size)


def _patches(image: torch.Tensor, size: int, count: int, g: torch.Generator) -> torch.Tensor:
    """Up to *count* random patches (all of them when there are fewer), sampled by position."""
    h, w = image.shape[-2:]
    n = (h - size + 1) * (w - size + 1)
    index = torch.randperm(n, generator=g)[:count] if n > count else torch.arange(n)
    return patches_at(image, size, index)


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


# --- artefacts (issue 15): border frame, 2- and 4-px grids, blotches ---------------------------


def _grey(image: torch.Tensor) -> torch.Tensor:
    return grey(_image(image))[0, 0]


def border(image: torch.Tensor, width: int = 4) -> float:
    """How much the outer *width* rows and columns differ from the rest, relative to how much
    any strip of the image does: each strip of *width* rows (columns) gets a deviation from the
    whole image — its mean luminance's difference in standard deviations, plus the absolute log
    ratios of its standard deviation and of its mean gradient magnitude — and the worst of the
    four border strips is divided by the interior strips' mean deviation.  Without a frame this
    is the spread of a maximum of four strips (the bundled exemplars at 256²: 0.7–2.8, smoke 3.9);
    the old default's frame of different pixels (issue 15): 6.1; a 3-px frame made up in the
    tests: 8–14."""
    g = _grey(image)
    h, w = g.shape
    if min(h, w) < 6 * width:
        raise ValueError(f"border: the image ({w}×{h}) must be at least 6× the strip width {width}")
    gy = torch.zeros_like(g)
    gy[:, :-1] += (g[:, 1:] - g[:, :-1]).abs()
    gy[:-1, :] += (g[1:, :] - g[:-1, :]).abs()
    gy[-1, :], gy[:, -1] = gy[-2, :], gy[:, -2]  # the last row/column has one difference: copy its neighbour's
    eps = 1e-4
    mu, sd, gm = g.mean(), g.std() + eps, gy.mean() + eps

    def deviation(values, grads):
        return (float((values.mean() - mu).abs() / sd) + abs(math.log(float(values.std() + eps) / float(sd)))
                + abs(math.log(float(grads.mean() + eps) / float(gm))))

    rows = [deviation(g[k:k + width], gy[k:k + width]) for k in range(0, h - width + 1, width)]
    cols = [deviation(g[:, k:k + width], gy[:, k:k + width]) for k in range(0, w - width + 1, width)]
    edge = max(rows[0], rows[-1], cols[0], cols[-1])
    inner = rows[1:-1] + cols[1:-1]
    return edge / max(sum(inner) / len(inner), 1e-6)


def frame(image: torch.Tensor, depth: int = 12) -> float:
    """Structure aligned with the border within *depth* px of it (issue 15's inner rectangle):
    streaks parallel to an edge, a few pixels inside it, that :func:`border`'s outer strips miss.

    For each pair of rows at the same distance from the top and bottom edges, the log ratio of
    the mean vertical to the mean horizontal grey-level difference says how much the pair's
    structure runs along the rows; columns likewise.  Each near-edge pair's value becomes a
    z-score against the pairs deeper inside, and the result is the largest |z|.  On photos and
    clean outputs it is the spread of a maximum of 2·*depth* z-scores (the bundled and shared
    exemplars at 256²: 1.1–4.8 — photos have some aligned structure of their own); the README's
    seed-0 ink texture of issue 15's first round, with streaks along its bottom and left edges:
    8.5.  Faint streaks on one edge can stay below the photos' spread."""
    g = _grey(image)
    h, w = g.shape
    if min(h, w) < 4 * depth + 4:
        raise ValueError(f"frame: the image ({w}×{h}) must be at least {4 * depth + 4} px a side for depth {depth}")
    dy = (g[1:, :-1] - g[:-1, :-1]).abs()  # (h-1, w-1): vertical and horizontal differences
    dx = (g[:-1, 1:] - g[:-1, :-1]).abs()
    eps = 1e-4
    worst = 0.0
    for along, across in ((dy, dx), (dx.T, dy.T)):  # row pairs, then column pairs
        n = along.shape[0]
        pair = torch.stack([along[:n // 2], along.flip(0)[:n // 2]]).mean(0).mean(1)
        other = torch.stack([across[:n // 2], across.flip(0)[:n // 2]]).mean(0).mean(1)
        ratio = ((pair + eps) / (other + eps)).log()
        inner = ratio[depth:]
        z = (ratio[:depth] - inner.mean()) / (inner.std() + 1e-6)
        worst = max(worst, float(z.abs().max()))
    return worst


def rim(image: torch.Tensor, width: int = 16) -> float:
    """How much the texture of the outer *width*-px band differs from the interior's (issue 15's
    "border rows that differ from the interior", at the depth of the coarsest scale's ring that
    a 512² output from a smaller exemplar shows 16–24 px in, where :func:`border`'s 4-px strips
    and :func:`frame`'s streak test see little): :func:`region_swd` between the patches lying
    wholly inside the band and those of the interior, divided by ``swd(shuffled(image), image)``
    as :func:`score` is.  0 when band and interior are alike; the bundled and shared exemplar
    photos at their own sizes: 0.06–0.13; the ringed water texture of issue 15 (512², seed 4):
    0.48, and 0.07 for the same synthesis on a canvas 48 px larger a side, cut back.  The band
    must hold a whole 7-px patch; :func:`texture_scores` leaves it out below 28 px a side."""
    img = _image(image)
    h, w = img.shape[-2:]
    if min(h, w) < 4 * width or width < 7:
        raise ValueError(f"rim: the image ({w}×{h}) must be at least 4× the band width {width}, "
                         "and the band at least a 7-px patch wide")
    inner = torch.zeros(h, w, dtype=torch.bool)
    inner[width:h - width, width:w - width] = True
    distance = region_swd(img, (~inner)[None].float(), img, inner[None].float())[0]
    return distance / max(swd(shuffled(img), img), 1e-12)


def _period_power(g: torch.Tensor, period: int, reach: int) -> torch.Tensor:
    """Power (Hann-windowed) at spatial period *period* px along rows, columns and both
    diagonals (4 values), each averaged over the ±*reach* neighbouring frequency bins."""
    h, w = g.shape
    window = torch.hann_window(h, periodic=False)[:, None] * torch.hann_window(w, periodic=False)[None, :]
    power = torch.fft.fft2((g - g.mean()) * window).abs().pow(2) / (h * w)
    fy, fx = round(h / period), round(w / period)
    offsets = torch.arange(-reach, reach + 1)
    total = []
    for cy, cx in ((fy, 0), (0, fx), (fy, fx), (fy, -fx)):
        rows, cols = (cy + offsets) % h, (cx + offsets) % w
        total.append(power[rows][:, cols].mean())
    return torch.stack(total)


def grid(output: torch.Tensor, reference: torch.Tensor, period: int = 2, reach: int = 2) -> float:
    """Power of *output* at period *period* px (2: a checkerboard / 2-px grid; 4: the grid of
    two 2× poolings) relative to the exemplar's (resized alike), in the worst of four directions
    (rows, columns, both diagonals: stripes have one), each averaged over ±*reach* neighbouring
    frequency bins so one noisy bin cannot decide; 1 = as in the exemplar."""
    a, b = _pair(output, reference)
    eps = 1e-9
    ratio = (_period_power(_grey(a), period, reach) + eps) / (_period_power(_grey(b), period, reach) + eps)
    return float(ratio.max())


def blotches(output: torch.Tensor, reference: torch.Tensor, scale: float = 0.125) -> float:
    """Large-scale variation of *output* relative to the exemplar's: the standard deviation of
    the luminance blurred by a Gaussian of σ = *scale* × the shorter side, over the same for the
    exemplar (resized alike).  Blotches (patches much brighter or darker than the texture's
    mean) give well above 1; a stationary texture like its exemplar, about 1 or less."""
    a, b = _pair(output, reference)
    sigma = max(1.0, scale * min(a.shape[-2:]))
    k = 2 * int(3 * sigma) + 1

    def spread(x):
        g = _grey(x)[None, None]
        k_eff = min(k, 2 * (min(g.shape[-2:]) // 2) - 1)
        blurred = kornia.filters.gaussian_blur2d(g, (k_eff, k_eff), (sigma, sigma), border_type="reflect")
        return float(blurred.std())

    return spread(a) / max(spread(b), 1e-4)


def color(output: torch.Tensor, reference: torch.Tensor) -> float:
    """Colour-distribution distance: mean of the per-channel 1-D Wasserstein distances and a
    sliced Wasserstein distance on RGB triples (all in [0, 1] units)."""
    po = _image(output).flatten(2)[0].T
    pr = _image(reference, "reference").flatten(2)[0].T
    per_channel = float((_quantiles(po, 512) - _quantiles(pr, 512)).abs().mean())
    return 0.5 * (per_channel + sliced_wasserstein(_sample(po, 8), _sample(pr, 9), 64, 512, _gen(7)))


#: Most pixels the sliced colour distance sorts (a fixed random sample above it; 64 sorted
#: projections of a 2048² image took 6 minutes).
COLOR_PIXELS = 1 << 18


def _sample(rows: torch.Tensor, offset: int) -> torch.Tensor:
    """At most :data:`COLOR_PIXELS` of *rows*, a fixed random choice (all of them if fewer)."""
    if rows.shape[0] <= COLOR_PIXELS:
        return rows
    return rows[torch.randperm(rows.shape[0], generator=_gen(offset))[:COLOR_PIXELS]]


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

#: Images of more pixels than this have their held-out Gram matrices estimated from a fixed
#: random sample of :data:`GRAM_TILE`-px tiles covering about this many pixels (exact features
#: in each, see :mod:`untrained.tiling`), which bounds the time and memory of :func:`gram_random`.
GRAM_PIXELS = 1 << 20
GRAM_TILE = 256


def _grams(net, layers, image: torch.Tensor, offset: int) -> dict[str, torch.Tensor]:
    from .losses import gram_matrix
    from .tiling import count_tiles, tiled_gram

    h, w = image.shape[-2:]
    if h * w <= GRAM_PIXELS:
        feats = net(image, layers)
        return {n: gram_matrix(feats[n]) for n in layers}
    n = count_tiles(net.spec, layers, (h, w), GRAM_TILE)
    pick = torch.randperm(n, generator=_gen(2000 + offset))[: max(1, GRAM_PIXELS // GRAM_TILE**2)]
    return tiled_gram(net, image, layers, GRAM_TILE, sorted(pick.tolist()))


def gram_random(output: torch.Tensor, reference: torch.Tensor, device: torch.device | str = "cpu") -> float:
    """Relative Gram distance ‖G(out) − G(ref)‖² / ‖G(ref)‖², averaged over the layers of two
    held-out random networks (see :func:`_held_out_nets`), run on *device*; above
    :data:`GRAM_PIXELS`, from a fixed sample of tiles."""
    if not _NETS_CACHE:
        _NETS_CACHE.extend(_held_out_nets())
    out, ref = _image(output).to(device), _image(reference, "reference").to(device)
    values = []
    with torch.no_grad():
        for i, (net, layers) in enumerate(_NETS_CACHE):
            net = net.to(device) if torch.device(device).type != "cpu" else net
            fo, fr = _grams(net, layers, out, i), _grams(net, layers, ref, i)  # same tiles when same size
            for name in layers:
                go, gr = fo[name], fr[name]
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


#: Most exemplar offsets :func:`copy_fraction` compares every output patch with: above it,
#: both images are first shrunk by the smallest integer factor that brings the exemplar within it.
COPY_CANDIDATES = 1 << 18


def _descriptors(image: torch.Tensor, block: int, stride: int = 1) -> torch.Tensor:
    """48-d block-mean descriptors (4×4 blocks of ``block`` px) of every patch → ``(N, 48)``."""
    return F.unfold(F.avg_pool2d(image, block, stride=1), 4, dilation=block, stride=stride).squeeze(0).T


def copy_fraction(output: torch.Tensor, exemplar: torch.Tensor, patch: int = 16, stride: int = 8,
                  threshold: float = 0.9) -> float:
    """Fraction of the output's area covered by ``patch``-px patches that are verbatim copies
    of some exemplar patch.

    Candidates come from 48-dimensional descriptors (4×4 block means, at every exemplar offset;
    an exemplar of more than :data:`COPY_CANDIDATES` offsets, ~512², is compared with both
    images shrunk by an integer factor k, so copies are then found in ``k·patch``-px patches:
    time and memory stay bounded, a 2048² pair in seconds and well under 1 GiB);
    a candidate is a copy when the zero-mean normalised cross-correlation of the patches' fine
    *detail* (image minus a σ = 1 blur) is ≥ *threshold*: smooth regions that merely look alike
    (water, sky) have unrelated detail, a verbatim copy has the same.  Patches without detail are
    left out of both the copied and the total area.  Copying the exemplar is not synthesis; this
    number exposes it."""
    out, ex = _image(output), _image(exemplar, "exemplar")
    if min(*out.shape[-2:], *ex.shape[-2:]) < patch:
        raise ValueError(f"copy fraction: the images are smaller than its {patch}×{patch} patch")
    positions = (ex.shape[-2] - patch + 1) * (ex.shape[-1] - patch + 1)
    k = min(math.ceil(math.sqrt(positions / COPY_CANDIDATES)), min(*out.shape[-2:], *ex.shape[-2:]) // patch)
    if k > 1:
        return copy_fraction(F.avg_pool2d(out, k), F.avg_pool2d(ex, k), patch, stride, threshold)
    block = patch // 4
    ex_n, _ = _zero_mean_unit(_descriptors(ex, block))
    out_n, _ = _zero_mean_unit(_descriptors(out, block, stride))
    best = torch.empty(out_n.shape[0], dtype=torch.long)
    for start in range(0, out_n.shape[0], 512):
        best[start:start + 512] = (out_n[start:start + 512] @ ex_n.T).argmax(dim=1)
    out_detail, out_energy = _zero_mean_unit(F.unfold(_detail(out), patch, stride=stride).squeeze(0).T)
    ex_detail, _ = _zero_mean_unit(patches_at(_detail(ex), patch, best))
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


# --- per-region statistics (Neural Doodle) ----------------------------------------------------


def _inside(mask: torch.Tensor, size: tuple[int, int], patch: int) -> torch.Tensor:
    """``(H−patch+1)·(W−patch+1)`` flags of the patch positions of a *size* band that lie wholly
    inside region *mask* ``(H0, W0)`` (area-downsampled; a pixel counts when ≥ 99 % inside)."""
    m = F.interpolate(mask[None, None].float(), size=size, mode="area")
    inside = (m >= 0.99).float()
    return (-F.max_pool2d(-inside, patch, stride=1)).flatten() > 0.5


def _region_patches(band: torch.Tensor, mask: torch.Tensor, patch: int, count: int, g: torch.Generator) -> torch.Tensor:
    p = F.unfold(band, patch).squeeze(0).T
    p = p[_inside(mask, tuple(band.shape[-2:]), patch)]
    if p.shape[0] > count:
        p = p[torch.randperm(p.shape[0], generator=g)[:count]]
    return p


def _check_regions(out: torch.Tensor, output_masks: torch.Tensor, ref: torch.Tensor,
                   reference_masks: torch.Tensor) -> None:
    if output_masks.shape[-2:] != out.shape[-2:] or reference_masks.shape[-2:] != ref.shape[-2:]:
        raise ValueError("each image needs masks (K, H, W) of its own size")
    if output_masks.shape[0] != reference_masks.shape[0]:
        raise ValueError(f"{output_masks.shape[0]} output regions but {reference_masks.shape[0]} reference regions")


def region_swd(output: torch.Tensor, output_masks: torch.Tensor, reference: torch.Tensor,
               reference_masks: torch.Tensor, patch: int = 7, levels: int = 4, count: int = 2048,
               directions: int = 128, min_patches: int = 64) -> list[float]:
    """:func:`swd` per region: for each region *k* (``output_masks[k]`` ``(K, H, W)`` on the
    output, ``reference_masks[k]`` on the reference, e.g. a Neural Doodle's target and style
    maps as one-hot masks), the multi-scale patch sliced Wasserstein distance between the
    output's patches in region *k* and the reference's patches in region *k*.

    Regions need not be rectangles: only patches lying wholly inside a region's mask (at each
    band's resolution) are sampled, so neighbouring regions never mix.  Bands where either side
    has fewer than *min_patches* such patches are skipped; a region with no usable band gives
    ``nan``.  Lower is better; 0 for statistically identical regions."""
    out, ref = _image(output), _image(reference, "reference")
    _check_regions(out, output_masks, ref, reference_masks)
    out_bands, ref_bands = _bands(out, levels, patch), _bands(ref, levels, patch)
    used = min(len(out_bands), len(ref_bands))
    out_bands = out_bands[:used - 1] + [_bands(out, used, patch)[-1]]
    ref_bands = ref_bands[:used - 1] + [_bands(ref, used, patch)[-1]]
    result = []
    for k in range(output_masks.shape[0]):
        total, n = 0.0, 0
        for level, (ob, rb) in enumerate(zip(out_bands, ref_bands)):
            po = _region_patches(ob, output_masks[k], patch, count, _gen(level))
            pr = _region_patches(rb, reference_masks[k], patch, count, _gen(level))
            if min(po.shape[0], pr.shape[0]) < min_patches:
                continue
            mean, std = pr.mean(dim=0), pr.std(dim=0).clamp_min(1e-3)
            total += sliced_wasserstein((po - mean) / std, (pr - mean) / std, directions, generator=_gen(100 + level))
            n += 1
        result.append(total / n if n else math.nan)
    return result


def region_leak(output: torch.Tensor, output_masks: torch.Tensor, reference: torch.Tensor,
                reference_masks: torch.Tensor, window: int = 9, samples: int = 20000, neighbours: int = 15,
                chunk: int = 8192) -> list[float]:
    """How faithful to the map each region is: for each region *k*, the fraction of the output's
    pixels in ``output_masks[k]`` whose local colour (mean over a *window* px square) reads as
    another region of *reference* — a vote among its *neighbours* nearest of *samples* reference
    pixels' local colours, labelled by ``reference_masks`` (``(K, H, W)`` each, one-hot; issue 17:
    a piece of cliff painted into a Neural Doodle's sky).  0: every pixel reads as its own
    region; regions whose colours overlap in the reference (Monet's sea and sky) score above 0
    on the reference itself, so compare with ``region_leak(reference, reference_masks, …)``."""
    out, ref = _image(output), _image(reference, "reference")
    _check_regions(out, output_masks, ref, reference_masks)
    k = output_masks.shape[0]
    local = lambda x: F.avg_pool2d(x, window, 1, window // 2, count_include_pad=False)[0].reshape(3, -1).T  # noqa: E731
    pool, labels = local(ref), reference_masks.reshape(k, -1).argmax(0)
    pick = torch.randperm(len(pool), generator=_gen(7))[:samples]
    pool, labels = pool[pick], labels[pick]
    colours, regions = local(out), output_masks.reshape(k, -1).argmax(0)
    votes = []
    for start in range(0, len(colours), chunk):  # bounded memory: chunk × samples distances
        near = torch.cdist(colours[start:start + chunk], pool).topk(min(neighbours, len(pool)), largest=False).indices
        votes.append(F.one_hot(labels[near], k).sum(1).argmax(1))
    read = torch.cat(votes)
    return [float((read[regions == i] != i).float().mean()) if (regions == i).any() else float("nan") for i in range(k)]


def texture_scores(output: torch.Tensor, reference: torch.Tensor, device: torch.device | str = "cpu") -> dict[str, float]:
    """The texture metric suite of *output* against exemplar *reference* (held-out nets on *device*)."""
    distance, side = swd(output, reference), min(output.shape[-2:])
    return {
        "score": score(output, reference, distance),
        "swd": distance,
        "spectrum": spectrum(output, reference),
        "color": color(output, reference),
        "gram_random": gram_random(output, reference, device),
        "copy": copy_fraction(output, reference),
        "border": border(output, max(1, min(4, min(output.shape[-2:]) // 6))),
        "frame": frame(output, max(1, min(12, (min(output.shape[-2:]) - 4) // 4))),
        **({"rim": rim(output, min(16, side // 4))} if side >= 28 else {}),  # a band holding a 7-px patch
        "grid2": grid(output, reference, 2),
        "grid4": grid(output, reference, 4),
        "blotches": blotches(output, reference),
    }


def _small_grey(image: torch.Tensor, side: int) -> torch.Tensor:
    """*image* resized to *side* px on its shorter side, as three equal luminance channels."""
    h, w = image.shape[-2:]
    f = side / min(h, w)
    small = resize(image, (max(1, round(h * f)), max(1, round(w * f))))
    return grey(small).expand(-1, 3, -1, -1)


def content_ssim(output: torch.Tensor, content: torch.Tensor) -> float:
    """How much of the content's layout a style transfer keeps: :func:`ssim` of 64-px grey
    versions (the layout, not the colours or the fine texture the style repaints)."""
    out, content = _image(output), _image(content, "content")
    return ssim(_small_grey(out, 64), _small_grey(resize(content, tuple(out.shape[-2:])), 64))


def style_scores(output: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> dict[str, float]:
    """How much style and how much content a style transfer's *output* has (issue 16).

    ``score``: :func:`score` against the *style* image resized (aspect kept) to the output's
    area — its strokes at the share of the picture they have in the painting; ``content_ssim``:
    :func:`ssim` of 64-px grey versions of output and *content* (the layout, not the colours or
    fine texture); ``content_edges``: :func:`edge_correlation` with the content."""
    out, content, style = _image(output), _image(content, "content"), _image(style, "style")
    h, w = out.shape[-2:]
    sh, sw = style.shape[-2:]
    f = math.sqrt(h * w / (sh * sw))
    reference = resize(style, (max(1, round(sh * f)), max(1, round(sw * f))))
    content = resize(content, (h, w))
    return {
        "score": score(out, reference),
        "content_ssim": content_ssim(out, content),
        "content_edges": edge_correlation(out, content),
    }


def evaluate(output: torch.Tensor, reference: torch.Tensor, task: str = "texture",
             content: torch.Tensor | None = None, net=None, layer: str | None = None,
             device: torch.device | str = "cpu") -> dict[str, float]:
    """All metrics for *task*: ``texture`` (against the exemplar), ``invert`` (PSNR, SSIM and,
    with *net* and *layer*, the relative feature error) or ``style`` (texture metrics against the
    style, plus SSIM and edge correlation against *content*).  Networks (the held-out ones, and
    *net*) run on *device*; the image statistics on the CPU (bounded in memory and time: a 2048²
    pair well under 2 GiB)."""
    if task == "texture":
        return texture_scores(output, reference, device)
    if task == "invert":
        out = {"psnr": psnr(output, reference), "ssim": ssim(output, reference)}
        if net is not None and layer is not None:
            net = net.to(device)
            out["relative_feature_error"] = relative_feature_error(
                net, layer, _image(output).to(device), resize(_image(reference), tuple(output.shape[-2:])).to(device))
        return out
    if task == "style":
        out = texture_scores(output, reference, device)
        if content is not None:
            out["content_ssim"] = content_ssim(output, content)
            out["content_edges"] = edge_correlation(output, content)
        return out
    raise ValueError(f"unknown task {task!r}; choose from texture, invert, style")
