"""The grid notch (image.degrid) and the loop's ``degrid`` option (issue 17)."""

import dataclasses
import json

import kornia
import pytest
import torch

from untrained import metrics
from untrained.cli import main
from untrained.errors import UserError
from untrained.image import degrid, resize
from untrained.io import load_image
from untrained.nets import preset
from untrained.synth import OptimConfig, TextureConfig
from untrained.synth.common import AUTO_DEGRID, fill_degrid
from untrained.synth.texture import texture

from conftest import ROOT


def smooth(h=64, w=64):
    """A smooth image: ramps and a slow wave, nothing near the grid frequencies."""
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return torch.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.5 + 0.2 * torch.sin(6 * x + 3 * y)])[None]


def stamp(image, period, amplitude=0.05, seed=0):
    """*image* plus a fixed random pattern repeated every *period* px (a grid)."""
    g = torch.Generator().manual_seed(seed)
    tile = torch.rand((1, 3, period, period), generator=g)
    tile = tile - tile.mean(dim=(2, 3), keepdim=True)  # zero mean: a grid, no change of brightness
    h, w = image.shape[-2:]
    return image + amplitude * tile.repeat(1, 1, h // period + 1, w // period + 1)[..., :h, :w]


@pytest.mark.parametrize("period", [2, 4])
def test_removes_a_grid_and_keeps_the_smooth_image(period):
    clean = smooth(128, 128)
    out = degrid(stamp(clean, period), 4)
    inner = (slice(None), slice(None), slice(32, -32), slice(32, -32))  # beyond the window's reach of the border
    assert (out - clean)[inner].abs().max() < 2e-3  # the grid is gone, the image is kept
    assert (stamp(clean, period) - clean)[inner].abs().max() > 1e-2
    assert (degrid(clean, 4) - clean)[inner].abs().max() < 2e-3


def test_period_two_leaves_a_four_px_grid():
    """A 2-px notch removes the frequencies of a 2-px grid only."""
    clean = smooth()
    assert metrics.grid(degrid(stamp(clean, 2), 2), clean, 2) < 2
    assert metrics.grid(degrid(stamp(clean, 4), 2), clean, 4) > 10


def test_keeps_a_photograph_nearly_unchanged():
    photo = resize(load_image(ROOT / "examples" / "gravel.jpg"), (64, 64))
    blurred = kornia.filters.gaussian_blur2d(photo, (3, 3), (0.7, 0.7), border_type="reflect")
    assert (degrid(photo, 4) - photo).abs().mean() < 0.3 * (blurred - photo).abs().mean()  # far less than a 1-px blur
    assert metrics.grid(degrid(stamp(photo, 2, 0.1), 4), photo, 2) < 1.5
    assert metrics.grid(stamp(photo, 2, 0.1), photo, 2) > 10


def test_circular_is_shift_equivariant_and_reflect_handles_tiny_images():
    x = torch.rand(1, 3, 24, 16, dtype=torch.float64)
    shifted = torch.roll(x, (3, 5), (2, 3))
    assert torch.allclose(degrid(shifted, 4, circular=True), torch.roll(degrid(x, 4, circular=True), (3, 5), (2, 3)),
                          atol=1e-6)
    tiny = torch.rand(1, 3, 3, 2)
    assert torch.isfinite(degrid(tiny, 4)).all()
    assert torch.allclose(degrid(torch.full((1, 3, 5, 7), 0.3), 4), torch.full((1, 3, 5, 7), 0.3), atol=1e-6)


def test_gradcheck():
    x = torch.rand(1, 2, 9, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: degrid(t, 2), (x,))


@pytest.mark.parametrize("args, message", [((torch.rand(3, 8, 8), 4), "(B, C, H, W)"),
                                           ((torch.rand(1, 3, 8, 8), 1), "period"),
                                           ((torch.rand(1, 3, 8, 8), 2.5), "period"),
                                           ((torch.rand(1, 3, 8, 8), 4, 0.0), "sigma")])
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        degrid(*args)


def test_unset_degrid_follows_the_net_and_a_given_value_wins():
    strided, plain = preset("champandard-asrun"), preset("vgg19")
    assert fill_degrid(OptimConfig(), strided).degrid == AUTO_DEGRID
    assert fill_degrid(OptimConfig(), plain).degrid == 0
    assert fill_degrid(OptimConfig(degrid=0), strided).degrid == 0
    assert fill_degrid(OptimConfig(degrid=2), plain).degrid == 2
    assert OptimConfig().resolved().degrid == 0
    for bad in (1, -4, 2.5):
        with pytest.raises(UserError, match="degrid"):
            OptimConfig(degrid=bad).resolved()


def lattice_power(image):
    """Spectral magnitude at the three frequencies of a 2-px grid, (π, 0), (0, π) and (π, π)."""
    f = torch.fft.fft2(image - image.mean())
    h, w = (n // 2 for n in image.shape[-2:])
    return float(f[..., h, 0].abs().mean() + f[..., 0, w].abs().mean() + f[..., h, w].abs().mean())


def test_the_output_of_a_degridded_synthesis_has_no_grid(texture32):
    """The exemplar carries a strong 2-px grid; without the notch the synthesis copies part of
    it (twice the clean exemplar's power at the grid's frequencies), with it much less is left."""
    gridded = stamp(texture32, 2, 0.15).clamp(0, 1)
    cfg = TextureConfig(size=(32, 32), optim=OptimConfig(iterations=2, lbfgs_max_iter=20, scales=1), seed=1)
    with_notch = texture(gridded, dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, degrid=2)), device="cpu")
    without = texture(gridded, cfg, device="cpu")
    assert without.config["optim"]["degrid"] == 0 and with_notch.config["optim"]["degrid"] == 2
    assert lattice_power(without.image) > 1.5 * lattice_power(texture32)
    assert lattice_power(with_notch.image) < 0.4 * lattice_power(without.image)


def test_progress_snapshots_show_the_pixels_through_the_notch(texture32):
    """The callback's images are what the objective sees: the output (the best evaluation, seen
    through the notch and clamped) is one of them, clamped."""
    snaps = []
    cfg = TextureConfig(size=(32, 32), optim=OptimConfig(iterations=1, lbfgs_max_iter=6, scales=1, degrid=2), seed=1)
    result = texture(stamp(texture32, 2, 0.15).clamp(0, 1), cfg, device="cpu", callback=lambda it: snaps.append(it.image))
    assert len(snaps) >= 2
    assert min(float((snap.clamp(0, 1) - result.image).abs().max()) for snap in snaps) < 1e-6


def test_cli_degrid_flag(exemplar_file, tmp_path):
    out = tmp_path / "t.png"
    assert main(["texture", str(exemplar_file), "--size", "32", "--iterations", "1", "--lbfgs-max-iter", "2",
                 "--net", "champandard-asrun", "--scales", "1", "-o", str(out), "--quiet"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["config"]["optim"]["degrid"] == AUTO_DEGRID
    assert main(["texture", str(exemplar_file), "--size", "32", "--iterations", "1", "--lbfgs-max-iter", "2",
                 "--net", "champandard-asrun", "--scales", "1", "--degrid", "0", "-o", str(out), "--quiet"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["config"]["optim"]["degrid"] == 0
    assert main(["texture", str(exemplar_file), "--size", "32", "--degrid", "1", "-o", str(out), "--quiet"]) == 2


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("circular", [False, True])
def test_fft_notch_equals_the_dense_matrices(period, circular):
    """The FFT path (images larger than the window) filters exactly as the per-axis matrices that
    define the notch (reflected or wrapped borders), also on a wrapped image smaller than the window."""
    from untrained.image import _notch_matrices

    for h, w in ((40, 52), (30, 20)):
        x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(h))
        ch, ph = _notch_matrices(h, period, 2.0, circular)
        cw, pw = _notch_matrices(w, period, 2.0, circular)
        dense = x - (ch @ x @ cw.T - ph @ x @ pw.T)
        assert torch.allclose(degrid(x, period, circular=circular), dense, atol=1e-5)
