"""Editing existing images (issue #19): repair, tiles, expand, enhance, remake, mashup."""

import pytest
import torch

from untrained.errors import UserError
from untrained.synth.edit import EditConfig
from untrained.synth.enhance import downscale, enhance, project
from untrained.synth.loop import OptimConfig
from untrained.synth.mashup import mashup
from untrained.synth.remake import remake
from untrained.synth.repair import border_mask, check_mask, expand, repair

from conftest import make_texture

QUICK = dict(optim=OptimConfig(iterations=1, scales=2, lbfgs_max_iter=4, channels_last=True))


def eight_bit(image: torch.Tensor) -> torch.Tensor:
    """*image* as it comes back from a PNG (what load_image gives): multiples of 1/255."""
    return (image * 255).round() / 255


@pytest.fixture
def target():
    return eight_bit(make_texture(48))


@pytest.fixture
def mask():
    m = torch.ones(1, 3, 48, 48)
    m[..., 16:32, 12:36] = 0  # black = repair
    return m


def test_repair_changes_only_the_masked_pixels(target, mask):
    out = repair(target, mask, **QUICK).image
    hole = mask[:, :1] < 0.5
    assert torch.equal(torch.where(hole, 0, out), torch.where(hole, 0, target))  # bit for bit
    assert (out - target).abs()[hole.expand_as(out)].mean() > 0.02  # and the hole did change
    as_png = (out * 255).round()
    assert torch.equal(as_png[~hole.expand_as(out)], (target * 255).round()[~hole.expand_as(out)])


def test_repair_fill_has_the_surroundings_colours_not_the_holes(target, mask):
    painted = target.clone()
    painted[..., 16:32, 12:36] = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # a red scribble
    out = repair(painted, mask, **QUICK).image
    fill = out[..., 16:32, 12:36].mean(dim=(2, 3))
    around = target.mean(dim=(2, 3))
    assert (fill - around).abs().max() < 0.2, (fill, around)


def test_repair_with_a_source_takes_the_sources_statistics(target, mask):
    blue = torch.zeros(1, 3, 48, 48)
    blue[:, 2] = 0.9
    blue += 0.05 * torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    out = repair(target, mask, [blue], **QUICK).image
    fill = out[..., 18:30, 14:34].mean(dim=(2, 3))[0]
    assert fill[2] > fill[0] + 0.3 and fill[2] > fill[1] + 0.3, fill


def test_tile_repair_makes_the_wrap_seam_as_smooth_as_the_inside(target):
    photo = eight_bit(torch.linspace(0, 1, 48).view(1, 1, 1, 48).expand(1, 3, 48, 48).clone())  # a ramp: a hard wrap seam
    photo = (photo + 0.1 * make_texture(48)).clamp(0, 1)
    out = repair(photo, tile=True, band=6, **QUICK).image
    def seam(x):
        return (x[..., :, 0] - x[..., :, -1]).abs().mean()
    assert seam(out) < 0.5 * seam(photo)
    assert torch.equal(out[..., 6:42, 6:42], photo[..., 6:42, 6:42])  # the inside is kept


def test_expand_keeps_the_target_where_it_is_put(target):
    out = expand(target, (48, 96), **QUICK).image
    assert out.shape[-2:] == (48, 96)
    assert torch.equal(out[..., :, 24:72], target)
    out = expand(target, (64, 80), at=(0, 16), **QUICK).image
    assert torch.equal(out[..., 16:64, 0:48], target)
    assert out[..., :16, :].std() > 0.02  # the new part is not blank


def test_enhance_downscales_back_to_the_target(target):
    small = eight_bit(make_texture(24, seed=3))
    for zoom in (2, 4):
        out = enhance(small, zoom, **QUICK).image
        assert out.shape[-2:] == (24 * zoom, 24 * zoom)
        # Tolerance: 1/255 on average and 4/255 at worst, after 8-bit rounding of the output
        # (≤ 0.5/255 per block) and the clamp to [0, 1] where the target's block is near 0 or 1.
        diff = (downscale(eight_bit(out), zoom) - small).abs()
        assert diff.mean() < 1 / 255 and diff.max() < 4 / 255, (zoom, diff.mean(), diff.max())
        assert (out - torch.nn.functional.interpolate(small, scale_factor=zoom)).abs().mean() > 0.01  # detail added


def test_projection_is_exact_before_clamping():
    x, t = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 8, 8)
    assert torch.allclose(downscale(project(x, t), 2), t, atol=1e-6)


def test_remake_keeps_the_layout_and_takes_the_look():
    g = torch.Generator().manual_seed(0)
    layout = torch.zeros(1, 3, 48, 48)
    layout[..., :, 24:] = 1.0  # dark left half, bright right half
    look = 0.5 + 0.3 * torch.sin(torch.arange(48.0) * 1.2).view(1, 1, 1, 48).expand(1, 3, 48, 48) + 0.05 * torch.rand(1, 3, 48, 48, generator=g)
    # 2 steps of 8 evaluations: 1 × 4 leaves the flat half almost flat with the binary-weight default net
    out = remake(layout, look, optim=OptimConfig(iterations=2, scales=2, lbfgs_max_iter=8, channels_last=True)).image
    assert out[..., :, 30:].mean() > out[..., :, :18].mean() + 0.1  # layout kept
    assert out[..., :, 30:].std() > 0.03  # the flat half took the look's texture


def test_mashup_takes_patches_of_every_source():
    red, blue = torch.zeros(1, 3, 48, 48), torch.zeros(1, 3, 48, 48)
    red[:, 0], blue[:, 2] = 0.9, 0.9
    red, blue = red + 0.1 * make_texture(48, 1), blue + 0.1 * make_texture(48, 2)
    out = mashup([red, blue], **QUICK).image
    redness = out[:, 0] - out[:, 2]
    assert (redness > 0.3).float().mean() > 0.15 and (redness < -0.3).float().mean() > 0.15


@pytest.mark.parametrize("bad, message", [
    (torch.ones(1, 3, 40, 48), "the mask is 48×40 px but the target is 48×48 px"),
    (torch.ones(1, 3, 48, 48), "the mask is empty"),
    (torch.zeros(1, 3, 48, 48), "marks every pixel"),
])
def test_bad_masks_are_one_clear_error(target, bad, message):
    with pytest.raises(UserError, match=message):
        repair(target, bad, **QUICK)


def test_bad_zoom_and_placement_are_errors(target):
    with pytest.raises(UserError, match="zoom must be 2 or 4, got 3"):
        enhance(target, 3)
    with pytest.raises(UserError, match="outside"):
        expand(target, (64, 64), at=(20, 0))
    with pytest.raises(UserError, match="larger than"):
        expand(target, (32, 96))
    with pytest.raises(UserError, match="loss for this command"):
        repair(target, torch.zeros(1, 3, 48, 48).index_fill_(3, torch.arange(24), 1.0), loss="patch")


def test_same_seed_same_bytes_other_seed_other_image(target, mask):
    a, b = repair(target, mask, seed=1, **QUICK), repair(target, mask, seed=1, **QUICK)
    c = repair(target, mask, seed=2, **QUICK)
    assert torch.equal(a.image, b.image) and not torch.equal(a.image, c.image)
    assert a.config["task"] == "repair" and a.config["seed"] == 1 and "target" in a.config["inputs"]


def test_check_mask_reads_alpha_like_masks():
    m = torch.ones(1, 3, 4, 4)
    m[..., 0, 0] = 0.2
    assert check_mask(m, (4, 4)).sum() == 1
    assert border_mask((10, 10), 2).sum() == 100 - 36
