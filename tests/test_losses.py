import pytest
import torch

from untrained.losses import (GramLoss, RegionGramLoss, TVLoss, border_gram, gram_loss, gram_matrix, region_grams,
                              sort_last, tv_loss)
from untrained.nets import build, preset


def test_gram_matrix_values():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    g = gram_matrix(f)
    assert torch.allclose(g, torch.tensor([[[2.5, 5.5], [5.5, 12.5]]]))


def test_gram_loss_zero_at_target_and_positive_elsewhere():
    f = torch.randn(1, 8, 6, 5)
    loss = GramLoss(f)
    assert float(loss(f)) == 0.0
    assert float(loss(f + 0.1 * torch.randn_like(f))) > 0


@pytest.mark.parametrize("channels_last", [False, True])
def test_gram_loss_gradient(channels_last):
    """The fused backward agrees with finite differences (gradcheck, float64) and with autograd
    through the plain formula, in both memory layouts, for a batch and a mixed target."""
    g = torch.Generator().manual_seed(0)
    f = torch.randn(2, 5, 4, 3, generator=g, dtype=torch.float64)
    target = 0.5 * (gram_matrix(torch.randn(1, 5, 6, 6, generator=g, dtype=torch.float64))
                    + gram_matrix(torch.randn(1, 5, 6, 6, generator=g, dtype=torch.float64)))
    if channels_last:
        f = f.contiguous(memory_format=torch.channels_last)
    f.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: gram_loss(x, target), (f,))
    (fused,) = torch.autograd.grad(gram_loss(f, target), f)
    (plain,) = torch.autograd.grad((gram_matrix(f) - target).pow(2).mean(), f)
    assert torch.allclose(fused, plain, rtol=1e-10, atol=1e-12)
    assert fused.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def test_gram_loss_checks_channels():
    with pytest.raises(ValueError, match="does not match"):
        gram_loss(torch.randn(1, 4, 5, 5), torch.zeros(1, 3, 3))


def test_gram_invariant_to_spatial_permutation():
    f = torch.randn(1, 6, 7, 9)
    rolled = f.roll((3, -4), dims=(2, 3))
    perm = f.flatten(2)[..., torch.randperm(63)].reshape(1, 6, 7, 9)
    assert torch.allclose(gram_matrix(f), gram_matrix(rolled), atol=1e-5)
    assert torch.allclose(gram_matrix(f), gram_matrix(perm), atol=1e-5)


def test_gram_of_circular_net_invariant_to_circular_shift_of_image():
    """With circular padding the net commutes with shifts by its total stride (pool1 → 2 px)."""
    net = build(preset("vgg19").replace(padding="circular"), 0).double()
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    shifted = x.roll((4, -6), dims=(2, 3))
    a = net(x, ["conv1_1", "conv2_1"])
    b = net(shifted, ["conv1_1", "conv2_1"])
    for layer in a:
        assert torch.allclose(gram_matrix(a[layer]), gram_matrix(b[layer]), rtol=1e-9, atol=1e-9)


def test_gram_size_independent_for_periodic_features():
    tile = torch.randn(1, 4, 5, 5)
    big = tile.repeat(1, 1, 3, 2)
    assert torch.allclose(gram_matrix(tile), gram_matrix(big), atol=1e-5)


def test_gram_loss_gradcheck():
    f = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    target = gram_matrix(torch.randn(1, 3, 4, 4, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda t: gram_loss(t, target), (f,))


def test_tv_gradcheck_and_zero_on_constant():
    x = torch.rand(1, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(tv_loss, (x,))
    assert float(TVLoss()(torch.full((1, 3, 8, 8), 0.3))) == 0.0
    assert float(tv_loss(torch.rand(1, 3, 8, 8))) > 0


@pytest.mark.parametrize("bad", [torch.rand(3, 4, 4), torch.rand(1, 3, 4)])
def test_shape_checks(bad):
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        gram_matrix(bad)
    with pytest.raises(ValueError):
        tv_loss(bad)


def test_gram_loss_channel_mismatch():
    with pytest.raises(ValueError, match="channels"):
        gram_loss(torch.rand(1, 4, 3, 3), torch.rand(1, 5, 5))


def test_doodle_tv_is_mean_of_gradient_norm_to_the_2_5_on_the_signed_image():
    """neural-doodle's smoothness: mean over pixels with a right and a lower neighbour of
    (dx² + dy²)^1.25 on the image in [-1, 1] (pixel steps double)."""
    x = torch.zeros(1, 1, 3, 3)
    x[..., 0, 0] = 0.5  # dx = dy = −1 on the [-1, 1] image at (0, 0) only
    assert float(tv_loss(x, form="doodle")) == pytest.approx(2 ** 1.25 / 4)
    with pytest.raises(ValueError, match="total-variation form"):
        tv_loss(x, form="abs")


def test_region_gram_loss_sees_which_region_holds_which_statistics():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(1, 4, 8, 8, generator=g)
    b = torch.randn(1, 4, 8, 8, generator=g) * 3 + 1
    left = torch.zeros(1, 2, 8, 16)
    left[:, 0, :, :8], left[:, 1, :, 8:] = 1, 1
    style = torch.cat([a, b], dim=-1)
    loss = RegionGramLoss(style, left, left)
    assert float(loss(style)) == pytest.approx(0, abs=1e-9)
    assert float(loss(torch.cat([b, a], dim=-1))) > 1.0  # the regions' statistics swapped


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sort_last_gives_sorts_values_for_every_sign_and_magnitude(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 257, generator=g, dtype=dtype) * torch.logspace(-30, 30, 257, dtype=dtype)
    x[0, 0, :4] = torch.tensor([0.0, -0.0, -1e-38, 1e-38], dtype=dtype)  # zeros and tiny numbers of both signs
    assert torch.equal(sort_last(x), x.sort(dim=-1).values)


def test_sort_last_has_sorts_gradient():
    x = torch.randn(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    weights = torch.arange(9, dtype=torch.float64)
    (g,) = torch.autograd.grad((sort_last(x) * weights).sum(), x)
    (h,) = torch.autograd.grad((x.sort(dim=-1).values * weights).sum(), x)
    assert torch.equal(g, h)
    assert torch.autograd.gradcheck(lambda t: sort_last(t).pow(2).cumsum(-1), (x,))


def test_sort_last_leaves_nans_where_sort_puts_them():
    x = torch.tensor([[3.0, float("nan"), -1.0, 2.0]])
    assert torch.equal(sort_last(x)[:, :3], torch.tensor([[-1.0, 2.0, 3.0]])) and sort_last(x)[0, 3].isnan()


def test_gram_loss_takes_a_ready_target_gram():
    """A given target Gram matrix is used as is (the texture task's mean over crops), and exactly
    one of features and Gram matrix must be given."""
    feats = torch.rand(1, 4, 6, 6, generator=torch.Generator().manual_seed(0))
    other = torch.rand(1, 4, 6, 6, generator=torch.Generator().manual_seed(1))
    target = (gram_matrix(feats) + gram_matrix(other)) / 2
    loss = GramLoss(target_gram=target)
    assert torch.equal(loss.target, target)
    assert torch.allclose(loss(feats), GramLoss([feats, other])(feats))
    with pytest.raises(ValueError):
        GramLoss(feats, target_gram=target)
    with pytest.raises(ValueError):
        GramLoss()


def test_border_gram_reweights_the_border_positions():
    features = torch.randn(1, 5, 8, 9, generator=torch.Generator().manual_seed(0))
    border = torch.ones(8, 9, dtype=torch.bool)
    border[2:-2, 2:-2] = False
    own = border.float().mean().item()
    # with the map's own share it is the plain Gram matrix: nothing re-weighted
    assert torch.allclose(border_gram(features, border, own), gram_matrix(features), atol=1e-6)
    inner, outer = region_grams(features, torch.stack([~border, border]).float().unsqueeze(0))
    assert torch.allclose(border_gram(features, border, 0.1), 0.9 * inner + 0.1 * outer, atol=1e-6)
    assert torch.allclose(border_gram(features, border, 0.0), inner.unsqueeze(0), atol=1e-6)
    # all border (no interior) or no border: the plain Gram matrix
    assert torch.equal(border_gram(features, torch.ones_like(border), 0.2), gram_matrix(features))
    assert torch.equal(border_gram(features, torch.zeros_like(border), 0.2), gram_matrix(features))
    with pytest.raises(ValueError, match="mask"):
        border_gram(features, border[1:], 0.1)
