"""Bounded memory and time of the metric suite on large images (issue #18): patches are
sampled by position, large exemplars searched at reduced resolution, large Gram statistics
estimated from tiles."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from untrained import metrics


def _texture(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.avg_pool2d(torch.rand(1, 3, n + 2, n + 2, generator=g), 3, 1).clamp(0, 1)


def test_patches_at_equals_the_rows_of_unfold():
    image = torch.rand(1, 3, 40, 37, generator=torch.Generator().manual_seed(0))
    index = torch.randperm(34 * 31, generator=torch.Generator().manual_seed(1))[:100]
    assert torch.equal(metrics.patches_at(image, 7, index), F.unfold(image, 7).squeeze(0).T[index])


def test_quantiles_equal_a_column_sort():
    values = torch.randn(1000, 5, generator=torch.Generator().manual_seed(2))
    s = values.sort(dim=0).values
    assert torch.equal(metrics._quantiles(values, 1000), s)


def test_copy_fraction_of_a_large_exemplar_runs_reduced_and_finds_an_aligned_copy(monkeypatch):
    monkeypatch.setattr(metrics, "COPY_CANDIDATES", 64 * 64)  # a 96² exemplar counts as large
    ex, out = _texture(96, 3), _texture(96, 4)
    assert metrics.copy_fraction(out, ex) < 0.05
    out[..., 8:72, 16:80] = ex[..., 24:88, 4:68]  # displacement (16, -12): even, k = 2
    assert metrics.copy_fraction(out, ex) > 0.2


def test_gram_random_of_large_images_uses_a_sample_of_tiles(monkeypatch):
    a, b = _texture(128, 5), _texture(128, 6)
    whole = metrics.gram_random(a, b)
    monkeypatch.setattr(metrics, "GRAM_PIXELS", 64 * 64)
    monkeypatch.setattr(metrics, "GRAM_TILE", 32)
    sampled = metrics.gram_random(a, b)
    assert sampled != whole and abs(sampled - whole) < 0.5 * whole + 0.05
    assert metrics.gram_random(a, a) == 0.0
