"""The network zoo: presets × modifiers × initialisers (issue #3)."""

import pytest
import torch
import torch.nn.functional as F

from untrained.cli import main
from untrained.errors import UserError
from untrained.nets import build, preset
from untrained.image import collapse, image_pyramid
from untrained.nets.build import layer_table
from untrained.nets.greedy import greedy_select, reconstruction_error
from untrained.nets.init import InitContext, basic_filters, designed_count, designed_kernels, draw, expand_rgb, load_trained
from untrained.nets.modify import NetOptions, make

from conftest import fake_vgg19_state



# --- presets ---------------------------------------------------------------------------------


def test_npnd_has_no_pooling_and_constant_width():
    spec = preset("npnd")
    assert not [l for l in spec.layers if l.op == "pool"]
    assert {l.channels for l in spec.layers if l.op == "conv"} == {64}
    out = build(spec, 0)(torch.rand(1, 3, 32, 32), spec.style_layers)
    assert all(v.shape == (1, 64, 32, 32) for v in out.values())


def test_npnd_equals_tutorial_without_pooling_and_doubling():
    a = make("vgg19-tutorial", downsample="none", no_doubling=True, weights="binary:0.1")
    b = preset("npnd")
    assert a.layers == b.layers and a.weights == b.weights and a.bias == b.bias


@pytest.mark.parametrize("kind", ["gaussian", "laplacian"])
def test_shallow_runs_one_conv_on_each_pyramid_level(kind):
    spec = make("shallow", pyramid=kind)
    out = build(spec, 0)(torch.rand(1, 3, 64, 64), spec.style_layers)
    assert [tuple(out[f"conv1@{k}"].shape[-2:]) for k in range(1, 6)] == [(64, 64), (32, 32), (16, 16), (8, 8), (4, 4)]


def test_shallow_optional_pooling():
    spec = make("shallow", downsample="max")
    assert spec.style_layers[0] == "pool1@1"
    assert build(spec, 0)(torch.rand(1, 3, 64, 64), ["pool1@2"])["pool1@2"].shape == (1, 64, 16, 16)


def test_laplacian_levels_are_band_pass():
    x = torch.rand(1, 3, 64, 64)
    lap = image_pyramid(x, 4, "laplacian")
    gauss = image_pyramid(x, 4, "gaussian")
    assert torch.equal(lap[-1], gauss[-1])
    assert [tuple(l.shape[-2:]) for l in lap] == [(64, 64), (32, 32), (16, 16), (8, 8)]
    for level in lap[:-1]:
        assert float(level.mean().abs()) < 0.02  # band-pass: no DC
        assert float(level.abs().mean()) > 0.01  # …but holding the detail of noise
    assert torch.allclose(collapse(lap), x, atol=1e-5)  # and together they are the image


def test_pyramid_tap_names_checked():
    with pytest.raises(UserError, match="did you mean"):
        preset("shallow").index("conv1@9")


# --- modifiers -------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["relu", "lrelu:0.333", "elu", "none"])
def test_activation_modifier(fn):
    spec = make("champandard", activation=fn)
    assert {l.fn for l in spec.layers} == {fn}
    x = torch.rand(1, 3, 32, 32)
    out = build(spec, 0)(x, ["conv1_1"])["conv1_1"]
    pre = build(make("champandard", activation="none"), 0)(x, ["conv1_1"])["conv1_1"]
    expected = {"relu": torch.relu(pre), "lrelu:0.333": F.leaky_relu(pre, 0.333),
                "elu": F.elu(pre), "none": pre}[fn]
    assert float(pre.min()) < 0 and torch.allclose(out, expected, atol=1e-6)


def test_downsample_variants_keep_sizes():
    x = torch.rand(1, 3, 64, 64)
    for how in ("avg", "max", "stride"):
        spec = make("champandard", downsample=how)
        out = build(spec, 0)(x, ["conv3_1", "conv4_1"])
        assert out["conv3_1"].shape[-1] == 16 and out["conv4_1"].shape[-1] == 8, how
    spec = make("champandard", downsample="none")
    assert build(spec, 0)(x, ["conv4_1"])["conv4_1"].shape[-1] == 64


def test_vgg_pool_to_stride_moves_the_stride():
    spec = make("vgg19", downsample="stride")
    convs = {l.name: l for l in spec.layers}
    assert "pool1" not in convs and convs["conv2_1"].stride == 2 and convs["conv1_2"].stride == 1


def test_champandard_avg_inserts_pools():
    names = [l.name for l in make("champandard", downsample="avg").layers]
    assert names.index("pool2") == names.index("conv3_1") - 1


def test_width_multiplier_and_absolute():
    half = [l.channels for l in make("champandard", width=0.5).layers]
    assert half[:5] == [24, 24, 40, 40, 56]
    prime = make("npnd", width=71)
    assert {l.channels for l in prime.layers if l.op == "conv"} == {71}
    doubled = {l.name: l.channels for l in make("vgg19", width=16).layers}
    assert [doubled[f"conv{b}_1"] for b in range(1, 6)] == [16, 32, 64, 128, 128]


def test_depth_repeats_plain_convs():
    spec = make("champandard", depth=3)
    names = [l.name for l in spec.layers]
    assert names[:3] == ["conv1_1", "conv1_1_r2", "conv1_1_r3"]
    assert "conv2_1_r2" not in names  # strided convs are not repeated
    assert "conv2_2_r3" in names


def test_kernel_modifier_and_2x2_same_size():
    spec = make("npnd", kernel=2)
    assert {l.kernel for l in spec.layers if l.op == "conv"} == {2}
    out = build(spec, 0)(torch.rand(1, 3, 17, 20), ["conv_5"])["conv_5"]
    assert out.shape[-2:] == (17, 20)


def test_padding_modifier_and_options_are_plain_data():
    opts = NetOptions(net="vgg19", padding="circular", width=0.5)
    assert opts.apply().padding == "circular"
    with pytest.raises(UserError, match="padding"):
        NetOptions(padding="mirror").apply()


@pytest.mark.parametrize("bad", [dict(downsample="mean"), dict(width=0), dict(width=70.5), dict(depth=0), dict(kernel=6),
                                 dict(kernels="1"), dict(kernels="4:1"), dict(kernels="1:5"), dict(pyramid="wavelet")])
def test_bad_modifiers(bad):
    with pytest.raises(UserError):
        make("vgg19", **bad)


# --- Du 2020 §6.2 designed kernels ------------------------------------------------------------


def test_basic_sets_are_the_papers_matrices():
    a = 0.5  # exact in binary floating point
    s3 = [f.tolist() for f in basic_filters(3, a)]
    assert s3[:4] == [[[-a, -a], [a, a]], [[a, a], [-a, -a]], [[a, -a], [a, -a]], [[-a, a], [-a, a]]]
    assert s3[4:6] == [[[a, a], [a, a]], [[-a, -a], [-a, -a]]]
    assert s3[6:] == [[[0, -a], [a, 0]], [[0, a], [-a, 0]]]
    assert [len(basic_filters(i, a)) for i in (1, 2, 3)] == [4, 6, 8]


@pytest.mark.parametrize("set_id, strategy, count", [(1, 1, 12), (1, 4, 32), (2, 1, 18), (2, 2, 42), (3, 3, 64), (3, 4, 64), (2, 3, 48)])
def test_designed_counts(set_id, strategy, count):
    assert designed_count(set_id, strategy) == count
    assert designed_kernels(set_id, strategy).shape == (count, 3, 2, 2)


def test_expansion_strategies():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    zero = torch.zeros(2, 2)
    s1 = expand_rgb(f, 1)
    assert len(s1) == 3 and all(torch.equal(k[c], f if c == i else zero) for i, k in enumerate(s1) for c in range(3))
    s2 = expand_rgb(f, 2)
    assert len(s2) == 7 and not any(torch.equal(k, torch.zeros(3, 2, 2)) for k in s2)
    s4 = expand_rgb(f, 4)
    assert len(s4) == 8 and sum(torch.equal(k, torch.zeros(3, 2, 2)) for k in s4) == 1
    s3 = expand_rgb(f, 3)
    assert len(s3) == 8 and all(torch.equal(k[c], f) or torch.equal(k[c], -f) for k in s3 for c in range(3))
    assert len({tuple(k.flatten().tolist()) for k in s3}) == 8


def test_designed_first_layer_in_a_net():
    spec = make("npnd", kernels="2:1:0.2")
    net = build(spec, 0)
    assert torch.equal(net.convs["conv_1"].weight, designed_kernels(2, 1, 0.2))
    assert net.convs["conv_2"].weight.shape == (64, 18, 3, 3)


# --- bring-your-own trained weights -----------------------------------------------------------


def test_trained_weights_and_bias_loaded_exactly(vgg_file):
    state = fake_vgg19_state()
    net = build(make("vgg19", weights=f"trained:{vgg_file}", bias=f"trained:{vgg_file}"), 0)
    assert torch.equal(net.convs["conv1_1"].weight, state["features.0.weight"])
    assert torch.equal(net.convs["conv3_2"].bias, state["features.12.bias"])
    assert torch.equal(net.convs["conv5_4"].weight, state["features.34.weight"])


def test_shuffled_is_a_per_layer_permutation(vgg_file):
    state = fake_vgg19_state()
    net = build(make("vgg19", weights=f"shuffled:{vgg_file}", bias=f"shuffled:{vgg_file}"), 0)
    for name, idx in (("conv1_1", 0), ("conv4_2", 21)):
        w, orig = net.convs[name].weight, state[f"features.{idx}.weight"]
        assert not torch.equal(w, orig)
        assert torch.equal(w.flatten().sort().values, orig.flatten().sort().values)
        assert torch.equal(net.convs[name].bias.sort().values, state[f"features.{idx}.bias"].sort().values)


def test_binarized(vgg_file):
    orig = fake_vgg19_state()["features.2.weight"]
    w = build(make("vgg19", weights=f"binarized:{vgg_file}"), 0).convs["conv1_2"].weight
    a = float(orig.abs().mean())
    assert w.unique().tolist() == pytest.approx([-a, a], rel=1e-6)
    assert torch.equal(w > 0, orig > orig.mean())
    w2 = build(make("vgg19", weights=f"binarized:{vgg_file}:0.1"), 0).convs["conv1_2"].weight
    assert w2.abs().unique().tolist() == pytest.approx([0.1])


def test_trained_file_errors(tmp_path, vgg_file):
    ctx = InitContext("conv1_1", 0)
    gen = torch.Generator()
    with pytest.raises(UserError, match="no such file"):
        draw("weights", f"trained:{tmp_path / 'none.pth'}", (64, 3, 3, 3), gen, ctx)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(UserError, match="cannot be loaded safely"):
        draw("weights", f"trained:{bad}", (64, 3, 3, 3), gen, ctx)
    with pytest.raises(UserError, match="needs"):  # wrong width for this file
        build(make("vgg19", width=0.5, weights=f"trained:{vgg_file}"), 0)
    empty = tmp_path / "empty.pth"
    torch.save({"x": torch.zeros(3)}, empty)
    with pytest.raises(UserError, match="no convolution weights"):
        draw("weights", f"trained:{empty}", (64, 3, 3, 3), gen, ctx)


def test_malicious_pickle_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"features.0.weight": Evil()}))
    with pytest.raises(UserError, match="cannot be loaded safely"):
        load_trained(str(path))


# --- He et al.'s greedy stacking --------------------------------------------------------------


def test_greedy_keeps_the_best_of_k(tmp_path, monkeypatch):
    monkeypatch.setenv("UNTRAINED_CACHE", str(tmp_path))
    spec = make("npnd", width=8).replace(layers=make("npnd", width=8).layers[:4])  # conv_1, relu_1, conv_2, relu_2
    ref = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    chosen = greedy_select(spec, 3, seed=1, reference=ref, iterations=3)
    seeds = {l.name: l.seed for l in chosen.layers if l.op == "conv"}
    assert all(s is not None for s in seeds.values())
    # the first layer's choice really is the minimum over its 3 candidates
    from untrained.config import derive_seed
    import dataclasses

    errors = {}
    for c in range(3):
        s = derive_seed(1, f"greedy:conv_1:{c}")
        trial = spec.replace(layers=(dataclasses.replace(spec.layers[0], seed=s),) + spec.layers[1:])
        errors[s] = reconstruction_error(trial, "conv_1", ref, 3, 1)
    assert seeds["conv_1"] == min(errors, key=errors.get)
    # cached: the file holds the chosen seeds, and a second call reads it without computing
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 1 and str(seeds["conv_1"]) in files[0].read_text()

    def no_compute(*args, **kwargs):
        raise AssertionError("the cached selection was computed again")

    monkeypatch.setattr("untrained.nets.greedy.reconstruction_error", no_compute)
    assert greedy_select(spec, 3, seed=1, reference=ref, iterations=3) == chosen


def test_layer_seed_overrides_generator():
    spec = preset("npnd")
    import dataclasses

    pinned = spec.replace(layers=(dataclasses.replace(spec.layers[0], seed=42),) + spec.layers[1:])
    a, b = build(pinned, 1), build(pinned, 2)
    assert torch.equal(a.convs["conv_1"].weight, b.convs["conv_1"].weight)
    assert not torch.equal(a.convs["conv_2"].weight, b.convs["conv_2"].weight)


# --- listing ---------------------------------------------------------------------------------


def test_layer_table_receptive_field_and_params():
    rows = {r["name"]: r for r in layer_table(preset("vgg19"), (224, 224))}
    assert rows["conv1_1"]["rf"] == 3 and rows["conv1_2"]["rf"] == 5 and rows["pool1"]["rf"] == 6
    assert rows["conv1_1"]["params"] == 3 * 64 * 9 + 64
    assert rows["pool5"]["size"] == (7, 7)
    assert sum(r["params"] for r in rows.values()) == 20024384  # VGG-19's conv parameters


def test_cli_nets_with_modifiers(capsys):
    assert main(["nets", "champandard", "--width", "0.25", "--activation", "lrelu:0.333"]) == 0
    out = capsys.readouterr().out
    assert "lrelu:0.333" in out and '"channels": 12' in out


@pytest.mark.parametrize("args, fragment", [(["nets", "vgg91"], "did you mean 'vgg19'"),
                                            (["nets", "vgg19", "--activation", "elo"], "did you mean 'elu'"),
                                            (["nets", "vgg19", "--weights", "trained:/no/such.pth"], "no such file")])
def test_cli_nets_errors(capsys, args, fragment):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_texture_cli_accepts_zoo_flags(exemplar_file, tmp_path):
    out = tmp_path / "z.png"
    args = ["texture", str(exemplar_file), "-o", str(out), "--size", "32", "--net", "champandard", "--width", "0.25",
            "--downsample", "avg", "--layers", "conv1_1,conv2_1", "--iterations", "1", "--scales", "1",
            "--lbfgs-max-iter", "3", "--quiet"]
    assert main(args) == 0
    from untrained.io import read_config

    net = read_config(out)["net"]
    assert net["layers"][0]["channels"] == 12 and any(l["name"] == "pool1" for l in net["layers"])
