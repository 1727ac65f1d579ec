"""Shared fixtures: tiny deterministic images, few threads, and the optional ../shared folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from untrained.nets import preset
from untrained.nets.init import load_trained

torch.set_num_threads(2)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Greedy selections (He et al.) are cached in a temporary folder, not the user's home."""
    import os

    old = os.environ.get("UNTRAINED_CACHE")
    os.environ["UNTRAINED_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("UNTRAINED_CACHE", None)
    else:
        os.environ["UNTRAINED_CACHE"] = old

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


VGG19_CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def fake_vgg19_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A torchvision-format VGG-19 `features` state dict with random values."""
    g = torch.Generator().manual_seed(seed)
    state, cin = {}, 3
    convs = [l for l in preset("vgg19").layers if l.op == "conv"]
    for idx, layer in zip(VGG19_CONV_INDICES, convs):
        state[f"features.{idx}.weight"] = torch.randn(layer.channels, cin, 3, 3, generator=g) * 0.05
        state[f"features.{idx}.bias"] = torch.randn(layer.channels, generator=g)
        cin = layer.channels
    state["classifier.0.weight"] = torch.randn(10, 10, generator=g)  # ignored: not 4-D
    return state


@pytest.fixture
def vgg_file(tmp_path) -> str:
    """A fake trained VGG-19 state dict on disk."""
    path = tmp_path / "vgg19.pth"
    torch.save(fake_vgg19_state(), path)
    load_trained.cache_clear()
    return str(path)
