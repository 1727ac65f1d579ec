"""Validity of the metrics (issue #5): these tests define what the numbers mean."""

import json

import kornia
import pytest
import torch

import untrained.metrics as M
from untrained.cli import main
from untrained.io import save_image


def stationary_texture(size=288, seed=0):
    """A stationary random texture: two bands of filtered colour noise."""
    n = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    tex = 0.5 * kornia.filters.gaussian_blur2d(n, (9, 9), (1.5, 1.5)) + 0.5 * kornia.filters.gaussian_blur2d(n, (3, 3), (0.6, 0.6))
    return ((tex - tex.mean()) * 4 + 0.5).clamp(0, 1)


@pytest.fixture(scope="module")
def crops():
    tex = stationary_texture()
    return tex[..., :128, :128], tex[..., 150:278, 150:278]


def test_another_crop_scores_near_zero_and_beats_a_blur(crops):
    a, b = crops
    blurred = kornia.filters.gaussian_blur2d(a, (9, 9), (2.0, 2.0))
    crop, blur = M.score(b, a), M.score(blurred, a)
    assert crop < 0.3 and blur > 3 * crop
    assert M.spectrum(blurred, a) > 5 * M.spectrum(b, a)


def test_shuffled_pixels_near_one_and_noise_at_least_one(crops):
    a, _ = crops
    assert 0.85 < M.score(M.shuffled(a, offset=1), a) < 1.15
    from conftest import ROOT
    from untrained.io import load_image
    from untrained.image import resize

    photo = resize(load_image(ROOT / "examples" / "water.jpg"), (160, 160))  # a real, structured texture
    gauss = (photo.mean() + 0.25 * torch.randn(photo.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    assert M.score(gauss, photo) >= 1.0
    assert M.score(torch.rand(photo.shape, generator=torch.Generator().manual_seed(4)), photo) >= 1.0


def test_colour_shift_is_not_hidden(crops):
    a, b = crops
    shifted = (b + torch.tensor([0.15, 0.0, -0.15]).view(1, 3, 1, 1)).clamp(0, 1)
    assert M.swd(shifted, a) > 2 * M.swd(b, a)
    assert M.color(shifted, a) > 5 * M.color(b, a)


def test_copy_exposes_tiles_and_crops_but_not_synthesis(crops, texture32):
    a, b = crops
    tiled = a[..., :64, :64].repeat(1, 1, 2, 2)
    assert M.copy_fraction(tiled, a) > 0.5
    assert M.copy_fraction(a[..., 20:100, 10:110], a) > 0.9
    assert M.copy_fraction(b, a) < 0.05


def test_copy_low_for_a_real_synthesis(shared_images):
    import untrained as U
    from untrained.synth.loop import OptimConfig

    ex = U.load_image(shared_images / "textures" / "2.jpg")
    ex = U.synth.resize(ex, (96, 96))
    r = U.texture(ex, size=(96, 96), optim=OptimConfig(iterations=3, scales=2))
    assert M.copy_fraction(r.image, ex) < 0.2
    assert M.score(r.image, ex) < M.score(M.shuffled(ex), ex)


def test_identical_inputs_identical_numbers(crops):
    a, b = crops
    assert M.texture_scores(b, a) == M.texture_scores(b, a)


def test_different_sizes_work(crops):
    a, b = crops
    s = M.texture_scores(b[..., :80, :112], a)
    assert all(v == v for v in s.values()) and s["score"] < 0.5


def test_self_is_perfect(crops):
    a, _ = crops
    s = M.texture_scores(a, a)
    assert s["swd"] == 0 and s["spectrum"] == 0 and s["color"] == 0 and s["gram_random"] == 0 and s["copy"] == 1


def test_gram_random_ranks(crops):
    a, b = crops
    assert M.gram_random(b, a) < M.gram_random(torch.rand_like(a), a)


def test_reconstruction_metrics():
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert M.psnr(x, x) == M.MAX_PSNR and M.ssim(x, x) == pytest.approx(1.0)
    noisy = (x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert 20 < M.psnr(noisy, x) < 35 and M.ssim(noisy, x) < 0.99
    assert M.edge_correlation(x, x) == pytest.approx(1.0)


def test_diversity():
    a = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    b = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert M.diversity([a, a]) == 0
    assert 0.8 < M.diversity([a, b]) < 1.2
    with pytest.raises(ValueError):
        M.diversity([a])


def test_evaluate_tasks(crops):
    a, b = crops
    assert set(M.evaluate(b, a, "style", content=a)) >= {"score", "content_ssim", "content_edges"}
    assert set(M.evaluate(b, a, "invert")) == {"psnr", "ssim"}
    with pytest.raises(ValueError):
        M.evaluate(b, a, "nope")


def test_cli_score_json_and_table(tmp_path, crops, capsys):
    a, b = crops
    save_image(tmp_path / "a.png", a)
    save_image(tmp_path / "b.png", b)
    assert main(["score", str(tmp_path / "b.png"), str(tmp_path / "a.png")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"score", "swd", "spectrum", "color", "gram_random", "copy", "border", "frame", "rim", "grid2", "grid4", "blotches"}
    assert main(["score", str(tmp_path / "a.png"), str(tmp_path / "a.png"), "--task", "invert", "--layer", "conv2_1", "--table"]) == 0
    table = capsys.readouterr().out
    assert "relative_feature_error" in table and "psnr" in table


@pytest.mark.parametrize("args, fragment", [(["--task", "invrt"], "unknown task"), (["--content", "{a}"], "--content is for"),
                                            (["--task", "invert", "--layer", "conv9"], "did you mean")])
def test_cli_score_errors(tmp_path, crops, capsys, args, fragment):
    save_image(tmp_path / "a.png", crops[0])
    args = [x.format(a=tmp_path / "a.png") for x in args]
    assert main(["score", str(tmp_path / "a.png"), str(tmp_path / "a.png"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_cli_score_refuses_tiny_images(tmp_path, capsys):
    save_image(tmp_path / "t.png", torch.rand(1, 3, 8, 8))
    assert main(["score", str(tmp_path / "t.png"), str(tmp_path / "t.png")]) == 2
    assert "at least 16×16" in capsys.readouterr().err


# --- artefact measures (issue 15): each is tested with and without its artefact ---------------


def test_border_flags_a_frame_and_not_a_clean_texture(crops):
    a, _ = crops
    framed_bright, framed_flat, framed_noisy = a.clone(), a.clone(), a.clone()
    framed_bright[..., :, :3] = (framed_bright[..., :, :3] + 0.3).clamp(0, 1)  # left strip lighter
    framed_flat[..., :3, :] = 0.5  # top rows flat grey
    framed_flat[..., -3:, :] = 0.5
    noise = torch.rand(a[..., :3, :].shape, generator=torch.Generator().manual_seed(1))
    framed_noisy[..., -3:, :] = (noise > 0.5).float()  # bottom rows of salt-and-pepper noise
    clean = M.border(a)
    assert clean < 3
    for framed in (framed_bright, framed_flat, framed_noisy):
        assert M.border(framed) > 2 * clean


def test_grid_flags_period_2_and_4_artefacts_only_at_their_period(crops):
    a, b = crops
    yy, xx = torch.meshgrid(torch.arange(128), torch.arange(128), indexing="ij")
    checker = ((yy + xx) % 2).float() * 0.1 - 0.05  # a 2-px checkerboard
    stripes4 = ((xx // 2) % 2).float() * 0.1 - 0.05  # vertical stripes of period 4
    assert 0.3 < M.grid(b, a, 2) < 3 and 0.3 < M.grid(b, a, 4) < 3  # another crop: like the exemplar
    assert M.grid((b + checker).clamp(0, 1), a, 2) > 10
    assert M.grid((b + stripes4).clamp(0, 1), a, 4) > 10
    assert M.grid((b + stripes4).clamp(0, 1), a, 2) < 3  # the period-4 grid is not a period-2 one


def test_grid_averages_neighbouring_bins():
    """One bin's spike is diluted by its (2·reach + 1)² neighbourhood; reach=0 sees it whole."""
    g = torch.Generator().manual_seed(2)
    a = 0.5 + 0.1 * torch.randn(1, 3, 64, 64, generator=g)
    xx = torch.arange(64)[None, :].float()
    spike = a + 0.02 * torch.cos(torch.pi * xx)  # exactly the Nyquist bin along x
    assert M.grid(spike.clamp(0, 1), a.clamp(0, 1), 2, reach=0) > 3 * M.grid(spike.clamp(0, 1), a.clamp(0, 1), 2, reach=2)


def test_blotches_flag_large_scale_patches(crops):
    a, b = crops
    yy, xx = torch.meshgrid(torch.arange(128), torch.arange(128), indexing="ij")
    blobs = 0.25 * torch.sin(yy / 128 * 2 * torch.pi) * torch.sin(xx / 128 * 2 * torch.pi)
    assert M.blotches(b, a) < 2
    assert M.blotches((b + blobs).clamp(0, 1), a) > 3 * M.blotches(b, a)


def test_texture_scores_include_artefacts(crops):
    a, b = crops
    s = M.texture_scores(b, a)
    assert {"border", "grid2", "grid4", "blotches"} <= set(s)


def _stripes_and_noise(mask: torch.Tensor, seed: int) -> torch.Tensor:
    """Red vertical stripes (period 4) where *mask* is 0, green noise where it is 1."""
    h, w = mask.shape
    g = torch.Generator().manual_seed(seed)
    stripes = torch.zeros(1, 3, h, w)
    stripes[:, 0, :, (torch.arange(w) % 4) < 2] = 0.9
    noise = torch.zeros(1, 3, h, w)
    noise[:, 1] = torch.rand(h, w, generator=g)
    return torch.where(mask.bool(), noise, stripes)


def test_region_swd_compares_each_region_with_its_own_counterpart():
    """Style: stripes left, noise right.  Output: a noise disc on stripes (a non-rectangular
    region).  Each region is close to its counterpart; with the output's regions swapped (the
    disc compared with the stripes) both distances grow several-fold."""
    n = 96
    style_right = torch.zeros(n, n)
    style_right[:, n // 2:] = 1
    yy, xx = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    disc = (((yy - n / 2) ** 2 + (xx - n / 2) ** 2) < 30 ** 2).float()
    style = _stripes_and_noise(style_right, 0)
    output = _stripes_and_noise(disc, 1)
    style_masks = torch.stack([1 - style_right, style_right])
    out_masks = torch.stack([1 - disc, disc])
    right = M.region_swd(output, out_masks, style, style_masks)
    swapped = M.region_swd(output, out_masks.flip(0), style, style_masks)
    assert len(right) == 2 and all(d == d for d in right)
    assert all(s > 4 * r for r, s in zip(right, swapped))


def test_region_leak_counts_the_pixels_that_read_as_another_region():
    """Style: red sky over a blue sea.  A doodle painted region by region leaks nothing; the
    same doodle with a 16 × 16 red square in its sea leaks about that square's share of the sea
    (the 9-px window blurs its edge), and nothing in the sky."""
    g = torch.Generator().manual_seed(0)
    n = 64
    sky = torch.zeros(n, n)
    sky[: n // 2] = 1
    red, blue = torch.tensor([0.9, 0.1, 0.1]).view(3, 1, 1), torch.tensor([0.1, 0.2, 0.9]).view(3, 1, 1)
    style = (sky * red + (1 - sky) * blue + 0.05 * torch.rand(3, n, n, generator=g))[None].clamp(0, 1)
    masks = torch.stack([sky, 1 - sky])
    doodle = style.flip(-1).clone()  # the same regions, other pixels
    assert M.region_leak(doodle, masks, style, masks) == [0.0, 0.0]
    doodle[..., 40:56, 20:36] = red  # a red square in the sea: 256 of its 2048 pixels
    sky_leak, sea_leak = M.region_leak(doodle, masks, style, masks)
    assert sky_leak == 0.0 and 0.08 < sea_leak < 0.17
    with pytest.raises(ValueError):
        M.region_leak(doodle, masks[:1], style, masks)


def test_frame_flags_streaks_along_an_edge_a_few_pixels_inside(crops):
    """Issue 15's inner rectangle: rows 8–10 px inside the top and bottom edges that run along
    them (and the same along the left and right edges)."""
    a, b = crops
    streaked = b.clone()
    for light, dark in ((9, 8), (-10, -9)):  # a light row, then a dark one, near each edge
        streaked[..., light, :] = (streaked[..., light, :] + 0.2).clamp(0, 1)
        streaked[..., dark, :] = (streaked[..., dark, :] - 0.2).clamp(0, 1)
    sideways = streaked.transpose(-1, -2)  # the same streaks along the left and right edges
    assert M.frame(a) < 4 and M.frame(b) < 4
    assert M.frame(streaked) > 2 * M.frame(b)
    assert M.frame(sideways) > 2 * M.frame(b.transpose(-1, -2))
    assert M.border(streaked) < 1.5 * M.border(b)  # the outer 4-px strips do not see it


def test_rim_flags_a_band_of_other_texture_along_the_edges(crops):
    """Issue 15's ring: a band, here 16 px wide, whose texture differs from the interior's
    (softer, or sharper), which :func:`border` and :func:`frame` need not see."""
    a, b = crops
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
    blurred = kornia.filters.gaussian_blur2d(a, (7, 7), (1.5, 1.5))
    soft, sharp = blurred.clone(), (2 * a - blurred).clamp(0, 1)
    soft[inner], sharp[inner] = a[inner], a[inner]  # changed only in the outer 16 px
    assert M.rim(a) < 0.3 and M.rim(b) < 0.3
    assert M.rim(soft) > 3 * M.rim(a) and M.rim(sharp) > 3 * M.rim(a)
    assert M.border(sharp) < 1.5 * M.border(a) and M.frame(sharp) < 1.5 * M.frame(a)  # a band they miss
    assert M.rim(a, width=8) < 0.3 < M.rim(soft, width=8)
    with pytest.raises(ValueError, match="at least"):
        M.rim(a, width=40)
    with pytest.raises(ValueError, match="7-px patch"):  # no patch fits a narrower band: no value
        M.rim(a, width=6)


def test_texture_scores_give_rim_only_where_its_band_holds_a_patch(crops):
    """Below 28 px a side no 7-px patch fits the band, so the suite leaves ``rim`` out rather than
    report NaN (``untrained score``'s JSON); from 28 px it is a finite number."""
    a, _ = crops
    assert "rim" not in M.texture_scores(a[..., :27, :27], a)
    for side in (28, 32):
        value = M.texture_scores(a[..., :side, :side], a)["rim"]
        assert value == value and value >= 0


def test_frame_refuses_images_too_small_for_its_depth():
    with pytest.raises(ValueError, match="at least"):
        M.frame(torch.rand(1, 3, 40, 40), depth=12)
