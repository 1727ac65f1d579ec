import pytest
import torch

from untrained.config import from_dict, to_dict
from untrained.errors import UserError
from untrained.nets import PRESETS, NetSpec, build, min_input_size, preset
from untrained.nets.init import InitContext, draw


@pytest.mark.parametrize("name", PRESETS.names())
def test_every_preset_builds_and_gives_its_layers(name):
    spec = preset(name)
    net = build(spec, 0)
    x = torch.rand(1, 3, 64, 64)
    layers = [tap for tap in spec.tap_names if min_input_size(spec, tap) <= 64]
    out = net(x, layers)
    assert set(out) == set(layers) and set(spec.style_layers) <= set(out)
    for tap in out:
        layer = spec.layers[spec.index(tap)]
        if layer.op == "conv":
            assert out[tap].shape[1] == layer.channels


def test_vgg19_shapes_and_names():
    spec = preset("vgg19")
    assert [l.name for l in spec.layers if l.op == "conv"][-1] == "conv5_4"
    assert sum(l.op == "conv" for l in spec.layers) == 16 and sum(l.op == "pool" for l in spec.layers) == 5
    out = build(spec, 0)(torch.rand(1, 3, 64, 48), ["conv1_1", "pool1", "conv3_1", "pool5"])
    assert out["conv1_1"].shape == (1, 64, 64, 48)
    assert out["pool1"].shape == (1, 64, 32, 24)
    assert out["conv3_1"].shape == (1, 256, 16, 12)
    assert out["pool5"].shape == (1, 512, 2, 1)


def test_forward_stops_at_deepest_requested_layer():
    net = build(preset("vgg19"), 0)
    called = []
    for name, conv in net.convs.items():
        conv.register_forward_hook(lambda m, i, o, n=name: called.append(n))
    net(torch.rand(1, 3, 32, 32), ["conv2_1"])
    assert called == ["conv1_1", "conv1_2", "conv2_1"]


def test_parameters_are_frozen():
    assert not any(p.requires_grad for p in build(preset("champandard"), 0).parameters())


def test_same_seed_same_weights_other_seed_other():
    a, b, c = (build(preset("vgg19-tutorial"), s) for s in (1, 1, 2))
    wa, wb, wc = (n.convs["conv_3"].weight for n in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_generator_object_accepted():
    g1 = torch.Generator().manual_seed(5)
    g2 = torch.Generator().manual_seed(5)
    assert torch.equal(build(preset("vgg19"), g1).convs["conv1_1"].weight, build(preset("vgg19"), g2).convs["conv1_1"].weight)


def test_too_small_input_is_a_clear_error():
    net = build(preset("vgg19"), 0)
    with pytest.raises(UserError, match="too small for layer conv5_1.*16×16"):
        net(torch.rand(1, 3, 8, 8), ["conv5_1"])


def test_unknown_layer_suggests():
    with pytest.raises(UserError, match="did you mean 'conv4_1'"):
        preset("vgg19").index("conv41")


def test_spec_json_roundtrip():
    spec = preset("champandard").replace(weights="binary:0.2", padding="circular")
    assert from_dict(NetSpec, to_dict(spec)) == spec


def test_champandard_layout():
    spec = preset("champandard")
    convs = {l.name: (l.channels, l.kernel, l.stride, l.fn) for l in spec.layers}
    assert convs["conv2_1"] == (80, 2, 2, "elu") and convs["conv4_3"] == (176, 3, 1, "elu")
    out = build(spec, 0)(torch.rand(1, 3, 64, 64), ["conv3_1", "conv4_1"])
    assert out["conv3_1"].shape == (1, 112, 16, 16) and out["conv4_1"].shape == (1, 176, 8, 8)


def test_champandard_asrun_path():
    """The net as neural-doodle c17e91c ran it: five convs on the path to conv4_1, ELU, 2×2
    stride-2 downsampling, Glorot-uniform weights, zero bias, input in [-1, 1]."""
    spec = preset("champandard-asrun")
    convs = [(l.name, l.channels, l.kernel, l.stride, l.fn) for l in spec.layers]
    assert convs == [("conv1_1", 48, 3, 1, "elu"), ("conv2_1", 80, 2, 2, "elu"), ("conv3_1", 112, 2, 2, "elu"),
                     ("conv3_2", 112, 3, 1, "elu"), ("conv4_1", 176, 2, 2, "elu")]
    assert (spec.weights, spec.bias, spec.input_norm, spec.padding) == ("glorot:1", "zero", "signed", "zeros")
    assert spec.style_layers == ("conv3_1", "conv4_1")
    net = build(spec, 0)
    assert net.convs["conv2_1"].in_channels == 48 and net.convs["conv4_1"].in_channels == 112  # reads conv3_2
    w = net.convs["conv3_2"].weight
    bound = (6 / ((112 + 112) * 9)) ** 0.5
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.95 * bound
    assert all(float(c.bias.abs().max()) == 0 for c in net.convs.values())
    out = net(torch.rand(1, 3, 64, 64), ["conv3_1", "conv4_1"])
    assert out["conv3_1"].shape == (1, 112, 16, 16) and out["conv4_1"].shape == (1, 176, 8, 8)
    grey = net(torch.full((1, 3, 8, 8), 0.5), ["conv1_1"])["conv1_1"]
    assert float(grey[..., 1:-1, 1:-1].abs().max()) == 0  # mid-grey is 0 after [-1, 1] scaling, zero bias


def test_champandard_alias_is_the_listed_net():
    assert preset("champandard").layers == preset("champandard-listed").layers
    assert len(preset("champandard-listed").layers) == 10


def test_tutorial_taps_are_before_relu():
    out = build(preset("vgg19-tutorial"), 0)(torch.rand(1, 3, 32, 32), ["conv_1", "relu_1"])
    assert float(out["conv_1"].min()) < 0 and float(out["relu_1"].min()) >= 0
    assert torch.equal(out["relu_1"], out["conv_1"].clamp(min=0))


# --- initialisers --------------------------------------------------------------------------

CTX = InitContext("conv", 0)
SHAPE = (64, 64, 3, 3)


def _draw(spec, kind="weights", seed=0):
    return draw(kind, spec, SHAPE if kind == "weights" else (4096,), torch.Generator().manual_seed(seed), CTX)


def test_uniform_range_and_spread():
    w = _draw("uniform:0.2")
    assert float(w.abs().max()) <= 0.2 and float(w.std()) == pytest.approx(0.2 / 3**0.5, rel=0.05)


def test_gaussian_sigma():
    assert float(_draw("gaussian:0.05").std()) == pytest.approx(0.05, rel=0.05)


def test_binary_values_exactly_plus_minus_a():
    w = _draw("binary:0.1")
    assert w.unique().tolist() == pytest.approx([-0.1, 0.1])
    assert abs(float((w > 0).float().mean()) - 0.5) < 0.03


def test_ternary_zero_fraction():
    w = _draw("ternary:0.1:0.6")
    assert abs(float((w == 0).float().mean()) - 0.6) < 0.03
    assert w[w != 0].abs().unique().tolist() == pytest.approx([0.1])


def test_levels_count():
    w = _draw("levels:0.3:5")
    assert len(w.unique()) == 5 and float(w.max()) == pytest.approx(0.3) and float(w.min()) == pytest.approx(-0.3)


@pytest.mark.parametrize("spec, value", [("0.5", 0.5), ("-1.25", -1.25), ("zero", 0.0), ("constant:2", 2.0)])
def test_constant_biases(spec, value):
    b = _draw(spec, "bias")
    assert torch.all(b == value)


@pytest.mark.parametrize("spec", ["unifrom:0.1", "binary:-1", "ternary:0.1:2", "levels:0.1:1", "gaussian:abc"])
def test_bad_initialisers(spec):
    with pytest.raises(UserError):
        _draw(spec)


def test_unknown_initialiser_suggests():
    with pytest.raises(UserError, match="did you mean 'uniform'"):
        _draw("unifrom:0.1")


def test_kaiming_std_is_sqrt_two_over_fan_in():
    w = draw("weights", "kaiming", (256, 64, 3, 3), torch.Generator().manual_seed(0), CTX)
    assert float(w.std()) == pytest.approx((2 / (64 * 9)) ** 0.5, rel=0.03)
    half = draw("weights", "kaiming:0.5", (256, 64, 3, 3), torch.Generator().manual_seed(0), CTX)
    assert torch.allclose(half, 0.5 * w)


@pytest.mark.parametrize("shape", [(16, 3, 3, 3), (64, 3, 3, 3)])
def test_orthogonal_filters_are_orthogonal_with_kaimings_norm(shape):
    """Up to fan_in filters are mutually orthogonal; beyond it, each block of fan_in is."""
    w = draw("weights", "orthogonal", shape, torch.Generator().manual_seed(0), CTX).flatten(1)
    assert torch.allclose(w.norm(dim=1), torch.full((shape[0],), 2 ** 0.5), atol=1e-5)
    block = w[:27] if shape[0] > 27 else w
    gram = block @ block.T
    assert torch.allclose(gram, 2 * torch.eye(len(block)), atol=1e-5)


def test_border_masks_are_the_rings_the_padding_reaches():
    """Each 3×3 zero-padded conv widens the ring by one position at its resolution; pooling halves
    it (conv1_1: 1; conv1_2: 2 → pool: 1 → conv2_1: 2)."""
    from untrained.nets import border_masks

    net = build(preset("vgg19").replace(padding="zeros"), 0)
    masks = border_masks(net, (24, 20), ["conv1_1", "conv2_1"])
    assert masks["conv1_1"].shape == (24, 20) and masks["conv2_1"].shape == (12, 10)
    for layer, ring in (("conv1_1", 1), ("conv2_1", 2)):
        m = masks[layer]
        expected = torch.ones_like(m)
        expected[ring:-ring, ring:-ring] = False
        assert torch.equal(m, expected), layer
    # a side over 512 px is probed smaller and its rings extrapolated: the same share as a probe
    # at the real size (603: odd remainders, so deeper bottom rings differ from the top ones); a
    # map with no interior (conv2_1 of a 6² input) is all border
    from untrained.nets import border_shares

    layers = ["conv1_1", "conv2_1", "conv3_1"]
    for size in ((603, 40), (6, 6)):
        direct, shares = border_masks(net, size, layers), border_shares(net, size, layers)
        assert shares == pytest.approx({k: m.float().mean().item() for k, m in direct.items()}), size
    assert border_shares(net, (6, 6), ["conv2_1"])["conv2_1"] == 1.0


def test_net_stack_reads_each_draw_under_its_own_names():
    """``name`` is the first draw's layer, ``name#k`` draw k's; an unknown draw or mixed specs
    are refused, and names sort by depth, then draw."""
    from untrained.nets import NetStack

    spec = preset("vgg19")
    a, b = build(spec, 1), build(spec, 2)
    stack = NetStack([a, b])
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    out = stack(x, ["conv2_1#2", "conv1_1"])
    assert set(out) == {"conv1_1", "conv2_1#2"}
    assert torch.equal(out["conv1_1"], a(x, ["conv1_1"])["conv1_1"])
    assert torch.equal(out["conv2_1#2"], b(x, ["conv2_1"])["conv2_1"])
    assert sorted(["conv2_1", "conv1_1#2", "conv1_1"], key=stack.layer_key) == ["conv1_1", "conv1_1#2", "conv2_1"]
    with pytest.raises(ValueError, match="draws 1–2"):
        stack(x, ["conv1_1#3"])
    with pytest.raises(ValueError, match="same spec"):
        NetStack([a, build(spec.replace(padding="circular"), 1)])
