"""Tiled evaluation of large outputs (issue #18): the loss and gradient over overlapping tiles
equal the whole-image ones (checked in float64, where only the order of sums differs)."""

from __future__ import annotations

import pytest
import torch

from untrained.errors import UserError
from untrained.losses import GramLoss, PatchLoss, SWDLoss, TVLoss, gram_matrix
from untrained.nets import build
from untrained.nets.modify import NetOptions
from untrained.objective import Objective, Term
from untrained.resources import estimate_bytes
from untrained.resources import default_history
from untrained.synth.loop import OptimConfig
from untrained.tiling import TiledObjective, count_tiles, geometry, tiled, tiled_gram

LAYERS = ("conv1_1", "conv2_1", "conv3_1")
SMALL = ("conv1_1", "conv2_1")  # halo 10 px, stride 2: many small tiles, quick in float64


def _objective(padding: str, pyramid: str = "none", layers=LAYERS):
    spec = NetOptions(net="vgg19", width=0.125).apply().replace(padding=padding)
    if pyramid != "none":
        spec = spec.replace(pyramid=pyramid, levels=2)
    net = build(spec, 1).double()
    g = torch.Generator().manual_seed(0)
    ex = torch.rand(1, 3, 48, 48, generator=g, dtype=torch.float64)
    with torch.no_grad():
        fe = net(ex, layers)
    terms = [Term(f"gram:{n}", n, GramLoss(fe[n]), 1.0 + i) for i, n in enumerate(layers)]
    terms += [Term(f"swd:{layers[-1]}", layers[-1], SWDLoss(fe[layers[-1]]), 0.7), Term("tv", None, TVLoss(), 0.3)]
    return Objective(net, terms)


def _loss_and_grad(objective, image):
    x = image.clone().requires_grad_(True)
    total, parts = objective(x)
    total.backward()
    return float(total.detach()), {k: float(v) for k, v in parts.items()}, x.grad


@pytest.mark.parametrize("padding,size", [("zeros", (60, 50)), ("reflect", (45, 61)), ("circular", (56, 48))])
def test_tiled_loss_and_gradient_equal_the_whole_image(padding, size):
    objective = _objective(padding, layers=SMALL)
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    whole, whole_parts, whole_grad = _loss_and_grad(objective, image)
    wrapped = TiledObjective(objective, 16)
    assert count_tiles(objective.net.spec, SMALL, size, 16) >= 9  # really tiled, with interior tiles
    tiled_total, tiled_parts, tiled_grad = _loss_and_grad(wrapped, image)
    assert tiled_total == pytest.approx(whole, rel=1e-12)
    assert tiled_parts == pytest.approx(whole_parts, rel=1e-12)
    assert (tiled_grad - whole_grad).abs().max() <= 1e-12 * whole_grad.abs().max()
    # He et al.'s automatic weights are the same too
    assert wrapped.normalize(image) == pytest.approx(objective.normalize(image), rel=1e-10)


def test_a_halo_too_small_would_break_equality():
    """The halo is what makes tiles exact: without it interior tiles see padding."""
    objective = _objective("zeros", layers=SMALL)
    image = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    whole = _loss_and_grad(objective, image)[0]
    wrapped = TiledObjective(objective, 16)
    import untrained.tiling as tiling

    real = tiling.geometry
    try:
        tiling.geometry = lambda spec, layers: (real(spec, layers)[0], 0)
        broken = _loss_and_grad(wrapped, image)[0]
    finally:
        tiling.geometry = real
    assert broken != pytest.approx(whole, rel=1e-6)


def test_tiled_gram_equals_the_whole_gram():
    net = _objective("reflect").net
    image = torch.rand(1, 3, 90, 70, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        feats = net(image, LAYERS)
    grams = tiled_gram(net, image, LAYERS, 32)
    for n in LAYERS:
        assert torch.allclose(grams[n], gram_matrix(feats[n]), rtol=1e-12, atol=1e-14)


def test_geometry_halo_covers_the_receptive_field():
    spec = _objective("zeros").net.spec
    stride, halo = geometry(spec, LAYERS)
    assert stride == 4 and halo >= 24 and halo % stride == 0


def test_only_tileable_objectives_are_tiled():
    objective = _objective("zeros")
    assert isinstance(tiled(objective, 32, (100, 100)), TiledObjective)
    assert tiled(objective, 128, (100, 100)) is objective  # small enough: whole image
    assert tiled(objective, 0, (100, 100)) is objective  # 0: never
    assert tiled(objective, 32, (98, 100)) is not objective
    assert tiled(_objective("circular"), 32, (98, 100)).__class__ is Objective  # not a multiple of the stride
    patch = Objective(objective.net, [Term("patch", "conv1_1", PatchLoss(torch.rand(1, 16, 8, 8, dtype=torch.float64)))])
    assert tiled(patch, 32, (100, 100)) is patch


def test_history_adapts_to_size_but_an_explicit_value_wins():
    assert default_history((1024, 1024)) == 100
    assert default_history((2048, 2048)) == 64
    assert default_history((4096, 4096)) == 16
    assert default_history((8192, 8192)) == 10
    assert OptimConfig().history((4096, 4096)) == 16 and OptimConfig().history((1024, 1024)) == 100
    assert OptimConfig(lbfgs_history=50).history((4096, 4096)) == 50
    with pytest.raises(UserError, match="tile size"):
        OptimConfig(tile_size=10).resolved()


def test_tiling_lowers_the_memory_estimate_of_large_outputs():
    spec = NetOptions(net="vgg19", width=0.5).apply()
    whole = estimate_bytes(spec, LAYERS, (4096, 4096), 10)
    tiles = estimate_bytes(spec, LAYERS, (4096, 4096), 10, tile=1024)
    assert tiles < whole / 2
    assert estimate_bytes(spec, LAYERS, (512, 512), 10, tile=1024) == estimate_bytes(spec, LAYERS, (512, 512), 10)


def test_a_tiled_texture_synthesis_follows_the_untiled_one():
    """End to end through the loop (float32): the same losses, evaluation by evaluation."""
    from conftest import make_texture
    from untrained.synth.texture import default_net, texture

    ex = make_texture(64)
    # the half-width net (the default above 128²): full width's larger sums amplify the float32
    # round-off through L-BFGS's updates beyond this test's tolerance within five evaluations
    common = dict(size=(96, 96), layers=("conv1_1", "conv2_1"), device="cpu", net=default_net("gram"))
    runs = [texture(ex, optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=5, tile_size=t), **common)
            for t in (0, 64)]
    whole, tiles = ([h["loss"] for h in r.history] for r in runs)
    assert len(whole) == len(tiles) == 5
    assert tiles == pytest.approx(whole, rel=1e-3)
    # float32 round-off in the tiled sums grows through L-BFGS's updates: close, not equal
    assert (runs[0].image - runs[1].image).abs().max() < 1e-2
