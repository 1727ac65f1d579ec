"""Tileable output, sliced-Wasserstein and spectrum losses, colour preservation, blended
exemplars, any output size (issue #8)."""

import kornia
import pytest
import torch

import untrained as U
from untrained.cli import main
from untrained.errors import UserError
from untrained.io import load_image, read_config, save_image
from untrained.losses import GramLoss, SpectrumLoss, SWDLoss, extract_patches, gram_matrix, tv_loss
from untrained.image import resize
from untrained.synth.loop import OptimConfig
from untrained.synth.style import preserve_color, style

from conftest import make_texture


def smooth_texture(size=64, seed=0):
    n = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    t = kornia.filters.gaussian_blur2d(n, (9, 9), (2.0, 2.0), border_type="circular")
    return ((t - t.mean()) * 6 + 0.5).clamp(0, 1)


def _seam_vs_interior(x):
    """(seam difference, interior column differences) over both axes."""
    cols = (x[..., :, 1:] - x[..., :, :-1]).abs().mean(dim=(0, 1, 2))
    rows = (x[..., 1:, :] - x[..., :-1, :]).abs().mean(dim=(0, 1, 3))
    seam_c = float((x[..., :, 0] - x[..., :, -1]).abs().mean())
    seam_r = float((x[..., 0, :] - x[..., -1, :]).abs().mean())
    return (seam_c, cols), (seam_r, rows)


def test_tile_seam_is_like_the_interior():
    ex = smooth_texture(64)
    optim = OptimConfig(iterations=4, scales=2, lbfgs_max_iter=15)
    tiled = U.texture(ex, size=(48, 48), tile=True, layers=("conv1_1", "conv2_1"), optim=optim)
    plain = U.texture(ex, size=(48, 48), tile=False, layers=("conv1_1", "conv2_1"), optim=optim)
    assert tiled.config["net"]["padding"] == "circular" and tiled.config["tile"]
    for seam, interior in _seam_vs_interior(tiled.image):
        mean, sd = float(interior.mean()), float(interior.std())
        assert abs(seam - mean) < 3 * sd + 1e-3, (seam, mean, sd)
    plain_gaps = [seam / float(interior.mean()) for seam, interior in _seam_vs_interior(plain.image)]
    tiled_gaps = [seam / float(interior.mean()) for seam, interior in _seam_vs_interior(tiled.image)]
    assert max(tiled_gaps) < max(plain_gaps)


def test_circular_tv_and_patches_wrap():
    w = 7
    ramp = (torch.arange(w, dtype=torch.float64) / (w - 1)).expand(1, 3, 6, w)  # 0 → 1, no wrap
    assert float(tv_loss(ramp)) == pytest.approx(1 / (w - 1) ** 2)
    # circular also compares the last column with the first: a jump of 1 in one of w columns
    assert float(tv_loss(ramp, circular=True)) == pytest.approx(((w - 1) / (w - 1) ** 2 + 1) / w)
    assert extract_patches(torch.rand(1, 2, 5, 6), circular=True).shape == (30, 18)


def test_swd_loss_zero_at_target_decreases_and_resamples():
    f = torch.randn(1, 8, 10, 12)
    loss = SWDLoss(f)
    assert float(loss(f)) == 0.0
    assert float(loss(f.roll(3, dims=-1))) == pytest.approx(0.0, abs=1e-10)  # spatial arrangement is free
    assert float(loss(torch.randn(1, 8, 7, 9))) > 0  # other size: quantile-matched
    before = loss.directions.clone()
    loss.resample(torch.Generator().manual_seed(5))
    assert not torch.equal(before, loss.directions)
    x = torch.randn(1, 8, 10, 12, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05)
    first = float(loss(x).detach())
    for _ in range(50):
        opt.zero_grad()
        loss(x).backward()
        opt.step()
    assert float(loss(x).detach()) < 0.5 * first


def test_swd_blend_is_a_quantile_average():
    a, b = torch.zeros(1, 2, 4, 4), torch.ones(1, 2, 4, 4) * 2
    loss = SWDLoss([a, b], [0.5, 0.5])
    assert float(loss(torch.ones(1, 2, 4, 4))) == pytest.approx(0.0, abs=1e-10)


def test_texture_with_swd_and_spectrum(texture32):
    for loss in ("swd", "gram+spectrum", "swd+spectrum"):
        r = U.texture(texture32, size=(32, 32), loss=loss, layers=("conv1_1", "conv2_1"),
                      optim=OptimConfig(iterations=2, scales=1, lbfgs_max_iter=6))
        assert r.history[-1]["loss"] < r.history[0]["loss"], loss
        assert ("spectrum" in r.history[0]) == loss.endswith("spectrum")


def test_spectrum_loss_zero_at_exemplar():
    x = torch.rand(1, 3, 16, 20)
    assert float(SpectrumLoss(x, (16, 20))(x)) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(ValueError):
        SpectrumLoss(x, (16, 20))(torch.rand(1, 3, 8, 8))


def test_gram_blend_is_the_weighted_mean():
    a, b = torch.randn(1, 4, 5, 5), torch.randn(1, 4, 6, 6)
    loss = GramLoss([a, b], [0.7, 0.3])
    assert torch.allclose(loss.target, 0.7 * gram_matrix(a) + 0.3 * gram_matrix(b))


def test_texture_blends_two_exemplars():
    red = torch.zeros(1, 3, 32, 32)
    red[:, 0] = 0.9
    blue = torch.zeros(1, 3, 32, 32)
    blue[:, 2] = 0.9
    red, blue = (t + 0.05 * torch.rand(t.shape, generator=torch.Generator().manual_seed(1)) for t in (red, blue))
    r = U.texture([red, blue], size=(32, 32), blend=(3.0, 1.0), layers=("conv1_1",), normalize=False,
                  optim=OptimConfig(iterations=3, scales=1))
    assert r.config["blend"] == [0.75, 0.25] and len(r.config["inputs"]["exemplars"]) == 2
    m = r.image.mean(dim=(2, 3))[0]
    assert m[0] > m[2] > 0.05  # more red than blue, some of both


@pytest.mark.parametrize("kw, message", [(dict(blend=(1.0,)), "1 weights for 2"), (dict(blend=(0.0, 0.0)), "not all 0"),
                                         (dict(loss="patch"), "patches cannot be averaged")])
def test_blend_errors(texture32, kw, message):
    with pytest.raises(UserError, match=message):
        U.texture([texture32, texture32], size=(32, 32), **{"layers": ("conv3_1",), "optim": OptimConfig(scales=1), **kw})


def test_preserve_color_modes():
    g = torch.Generator().manual_seed(0)
    # mid-range colours, so recombining luminance and chrominance stays inside the RGB cube
    content = 0.35 + 0.3 * torch.rand(1, 3, 24, 24, generator=g)
    result = 0.35 + 0.3 * torch.rand(1, 3, 24, 24, generator=g)
    y = kornia.color.rgb_to_ycbcr
    lum = preserve_color(result, content, "luminance")
    assert torch.allclose(y(lum)[:, 0], y(result)[:, 0], atol=1e-4)
    assert torch.allclose(y(lum)[:, 1:], y(content)[:, 1:], atol=1e-4)
    matched = preserve_color(result, content, "match")
    assert torch.allclose(y(matched).mean(dim=(2, 3)), y(content).mean(dim=(2, 3)), atol=1e-3)
    assert torch.allclose(y(matched).std(dim=(2, 3)), y(content).std(dim=(2, 3)), atol=1e-3)
    assert torch.equal(preserve_color(result, content, "none"), result)
    with pytest.raises(UserError):
        preserve_color(result, content, "sepia")


def test_style_preserve_color_and_blend():
    content = make_texture(32, seed=1)
    s1, s2 = make_texture(32, seed=2), torch.flip(make_texture(32, seed=3), dims=(1,))
    r = style(content, [s1, s2], style_blend=(0.5, 0.5), preserve_color="luminance",
              optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=4))
    assert r.config["style_blend"] == [0.5, 0.5] and r.config["preserve_color"] == "luminance"
    cb = kornia.color.rgb_to_ycbcr(r.image)[:, 1:]
    assert float((cb - kornia.color.rgb_to_ycbcr(content)[:, 1:]).abs().mean()) < 0.05


def test_any_output_size_larger_than_the_exemplar(texture32):
    r = U.texture(texture32, size=(48, 80), layers=("conv1_1", "conv2_1"), optim=OptimConfig(iterations=1, scales=2, lbfgs_max_iter=3))
    assert r.image.shape == (1, 3, 48, 80)
    content, s = make_texture(32, seed=1), make_texture(40, seed=2)
    assert style(content, s, size=(40, 56), optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=2)).image.shape == (1, 3, 40, 56)


def test_tile_resize_wraps():
    x = torch.zeros(1, 3, 16, 16)
    x[..., :, 0] = 1.0  # a line on the left border
    up = resize(x, (32, 32), circular=True)
    assert float(up[..., :, -1].mean()) > 0.05  # it bleeds across the seam to the right border
    assert float(resize(x, (32, 32))[..., :, -1].mean()) < 0.01


def test_cli_blend_tile_preserve(tmp_path, exemplar_file):
    save_image(tmp_path / "b.png", make_texture(40, seed=9))
    out = tmp_path / "t.png"
    quick = ["--iterations", "1", "--scales", "1", "--lbfgs-max-iter", "2", "--quiet", "--size", "32"]
    assert main(["texture", str(exemplar_file), str(tmp_path / "b.png"), "--blend", "0.7,0.3", "--tile",
                 "--loss", "swd+spectrum", "-o", str(out), *quick]) == 0
    cfg = read_config(out)
    assert cfg["tile"] and cfg["blend"] == [0.7, 0.3] and cfg["loss"] == "swd+spectrum"
    assert main(["style", str(exemplar_file), str(exemplar_file), str(tmp_path / "b.png"), "--style-blend", "1,1",
                 "--preserve-color", "-o", str(tmp_path / "s.png"), *quick]) == 0
    assert read_config(tmp_path / "s.png")["preserve_color"] == "luminance"
    assert load_image(tmp_path / "s.png").shape == (1, 3, 32, 32)


@pytest.mark.parametrize("args, fragment", [(["--blend", "1,-1"], "--blend"), (["--blend", "0.5"], "1 weights for 2"),
                                            (["--loss", "gram+fft"], "unknown loss")])
def test_cli_beyond_errors(tmp_path, exemplar_file, capsys, args, fragment):
    assert main(["texture", str(exemplar_file), str(exemplar_file), *args, "-o", str(tmp_path / "o.png"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
