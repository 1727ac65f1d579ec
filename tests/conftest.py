"""Shared fixtures: tiny deterministic images, few threads, and the optional ../shared folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)

ROOT = Path(__file__).resolve().parents[1]
SHARED_IMAGES = ROOT.parent / "shared" / "images"


def make_texture(size: int = 32, seed: int = 0) -> torch.Tensor:
    """A small structured RGB texture (stripes + blobs + noise) in [0, 1], shape (1, 3, S, S)."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    stripes = 0.5 + 0.4 * torch.sin(x.float() * 0.9 + 0.3 * y.float())
    blobs = torch.nn.functional.avg_pool2d(torch.rand(1, 1, size, size, generator=g), 5, 1, 2)[0, 0]
    img = torch.stack([stripes, blobs * 1.5, 1 - stripes * 0.5]) + 0.05 * torch.randn(3, size, size, generator=g)
    return img.clamp(0, 1).unsqueeze(0)


@pytest.fixture
def texture32() -> torch.Tensor:
    return make_texture(32)


@pytest.fixture
def exemplar_file(tmp_path) -> Path:
    from untrained.io import save_image

    path = tmp_path / "exemplar.png"
    save_image(path, make_texture(40))
    return path


@pytest.fixture
def shared_images() -> Path:
    if not SHARED_IMAGES.is_dir():
        pytest.skip("../shared/images is not present (only on the developers' machines)")
    return SHARED_IMAGES
