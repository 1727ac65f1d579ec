"""Inversion, style transfer, neural patches, Neural Doodle and the stability rules (issue #4)."""

import json

import pytest
import torch

import untrained as U
from untrained.cli import main
from untrained.errors import UserError
from untrained.io import read_config, save_image
from untrained.losses import PatchLoss, content_loss, extract_patches, match_keys, match_patches
from untrained.metrics import psnr, ssim
from untrained.nets import preset
from untrained.synth.doodle import DoodleConfig, check_maps, doodle, one_hot, palette
from untrained.synth.invert import InvertConfig, invert
from untrained.synth.loop import OptimConfig, Synthesis
from untrained.synth.style import StyleConfig, style, style_preset

from conftest import make_texture

# --- inversion (He et al. §3) -----------------------------------------------------------------


def test_inversion_from_conv1_1_is_near_perfect(texture32):
    r = invert(texture32, InvertConfig(layer="conv1_1", optim=OptimConfig(iterations=5, scales=1)))
    assert r.stats["scores"]["psnr"] > 25
    assert r.stats["scores"]["relative_feature_error"] < 1e-3
    assert r.config["task"] == "invert" and r.config["layer"] == "conv1_1"


def test_inversion_from_a_pooling_layer_runs_and_is_worse(texture32):
    deep = invert(texture32, layer="pool2", optim=OptimConfig(iterations=2, scales=1))
    shallow = invert(texture32, layer="conv1_1", optim=OptimConfig(iterations=2, scales=1))
    assert deep.stats["scores"]["psnr"] < shallow.stats["scores"]["psnr"]


def test_content_loss_zero_at_target_and_gradcheck():
    f = torch.randn(1, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    t = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    assert float(content_loss(t, t)) == 0
    assert torch.autograd.gradcheck(lambda x: content_loss(x, t), (f,))
    with pytest.raises(ValueError, match="does not match"):
        content_loss(torch.rand(1, 4, 5, 5), torch.rand(1, 4, 4, 4))


# --- style transfer (Gatys; He et al.; Du 2020) -----------------------------------------------


def _pair():
    content = make_texture(32, seed=3)
    style_image = torch.flip(make_texture(40, seed=7), dims=(1,))
    return content, style_image


def test_style_without_content_loss_changes_image_but_keeps_structure():
    """Du 2020 §4: with content weight 0 and the content as the start, the structure survives."""
    content, style_image = _pair()
    r = style(content, style_image, content_weight=0.0, init="content", optim=OptimConfig(iterations=3, scales=1, lbfgs_max_iter=10))
    s = ssim(r.image, content)
    assert 0.15 < s < 0.98, s
    assert (r.image - content).abs().mean() > 0.02
    assert not any(k.startswith("content") for k in r.history[-1])


def test_style_moves_colours_towards_the_style():
    content, style_image = _pair()
    r = style(content, style_image, optim=OptimConfig(iterations=3, scales=1, lbfgs_max_iter=10))
    before = (content.mean(dim=(2, 3)) - style_image.mean(dim=(2, 3))).abs().sum()
    after = (r.image.mean(dim=(2, 3)) - style_image.mean(dim=(2, 3))).abs().sum()
    assert after < before


def test_du2020_preset_is_the_papers_setup():
    cfg = style_preset("du2020")
    assert cfg.net.name == "vgg19-tutorial" and cfg.net.padding == "zeros" and cfg.net.bias == "0.5"
    assert cfg.style_weight / cfg.content_weight == 1e6 and not cfg.normalize
    assert cfg.optim.iterations == 20 and cfg.optim.lbfgs_max_iter == 20 and cfg.optim.lr == 1.0
    assert cfg.style_layers == ("conv_1", "conv_2", "conv_3", "conv_4", "conv_5") and cfg.content_layers == ("conv_1",)


def test_tutorial_gram_scale_divides_by_channels_squared():
    from untrained.synth.style import StyleProblem

    content, style_image = _pair()
    cfg = StyleConfig(content_weight=0, style_weight=1e6, gram_scale="tutorial", loss="gram").resolved((32, 32), (40, 40))
    terms = {t.name: t.weight for t in StyleProblem(content, style_image, cfg).objective((32, 32), 1.0).terms}
    assert terms["gram:conv_1"] == pytest.approx(1e6 / 64**2) and terms["gram:conv_5"] == pytest.approx(1e6 / 256**2)


@pytest.mark.parametrize("init", ["noise", "style"])
def test_style_inits_and_patch_loss(init):
    content, style_image = _pair()
    frames = []
    r = style(content, style_image, init=init, loss="patch", normalize=True, style_weight=1.0,
              style_layers=("conv_3",), optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=4),
              callback=lambda it: frames.append(it.image))
    assert r.image.shape == (1, 3, 32, 32) and "patch:conv_3" in r.history[0]
    start = frames[0]  # L-BFGS evaluates the starting image first
    if init == "style":  # the style image, resized to the output
        from untrained.image import resize

        assert torch.allclose(start, resize(style_image, (32, 32)).clamp(0, 1), atol=1e-6)
    else:  # white noise U(0, 1), unrelated to either image
        assert abs(float(start.mean()) - 0.5) < 0.05 and float(start.std()) > 0.25


def test_all_zero_weights_is_an_error():
    content, style_image = _pair()
    with pytest.raises(UserError, match="nothing to optimise"):
        style(content, style_image, content_weight=0.0, style_weight=0.0)


# --- neural patches ---------------------------------------------------------------------------


def test_patch_loss_zero_at_exemplar_and_positive_elsewhere():
    f = torch.randn(1, 6, 9, 11)
    loss = PatchLoss(f)
    assert float(loss(f)) == 0.0
    assert float(loss(torch.randn(1, 6, 9, 11))) > 0


def test_patch_matching_in_chunks_equals_one_shot():
    ex = match_keys(torch.nn.functional.normalize(torch.randn(300, 12), dim=1))
    q = torch.randn(500, 12)
    assert torch.equal(match_patches(q, ex, chunk=7), match_patches(q, ex, chunk=10_000))


def test_matching_finds_the_most_correlated_patch():
    g = torch.Generator().manual_seed(0)
    ex = torch.nn.functional.normalize(torch.randn(400, 64, generator=g), dim=1)
    idx = torch.randperm(400, generator=g)[:100]
    q = ex[idx] * 3.0 + 0.02 * torch.randn(100, 64, generator=g)  # scaled: NCC ignores the norm
    assert torch.equal(match_patches(q, match_keys(ex)), idx)


def test_variety_subtracts_variety_times_last_best_score():
    """neural-doodle's rule: a style patch's score drops by variety × its best score of the
    previous evaluation.  With one query, whose own scores are the history, patch 0 (score s0 >
    s1) keeps winning exactly while (1 − variety)(s0 − s1) > 0, i.e. for variety < 1."""
    keys = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]]), dim=1)
    q = torch.tensor([[1.0, 0.3, 0.0]])
    ex = match_keys(keys)
    best = torch.empty(2)
    assert int(match_patches(q, ex, key_best=best)[0]) == 0
    assert torch.allclose(best, (torch.nn.functional.normalize(q, dim=1) @ keys.T)[0], atol=1e-2)
    assert int(match_patches(q, ex, 0.97, history=best)[0]) == 0
    assert int(match_patches(q, ex, 1.03, history=best)[0]) == 1
    assert int(match_patches(q, ex, 1.03, history=torch.tensor([best[0], 0.0]))[0]) == 1  # only patch 0 penalised
    assert int(match_patches(q, ex, 1.03)[0]) == 0  # no history, no penalty


def test_patch_loss_variety_warms_up_with_its_own_scores():
    """PatchLoss keeps each exemplar patch's best score of the previous evaluation.  On the first
    evaluation a warm-up pass fills that history (neural-doodle's warm-up), so a query identical to
    exemplar patch 0 (score 1) already loses to patch 1 (score s1 < 1) at variety 1.5:
    1 − 1.5 < s1 − 1.5 s1.  Without variety it matches patch 0."""
    g = torch.Generator().manual_seed(0)
    ex = torch.randn(1, 4, 3, 4, generator=g)  # two 3×3 patches
    query = extract_patches(ex)[:1]
    assert int(PatchLoss(ex).match(query)[0]) == 0
    loss = PatchLoss(ex, variety=1.5)
    assert int(loss.match(query)[0]) == 1
    assert loss.history is not None and abs(float(loss.history[0]) - 1.0) < 1e-2
    loss.reset()
    assert loss.history is None


def test_extract_patches_shape():
    assert extract_patches(torch.rand(1, 4, 6, 7)).shape == (4 * 5, 4 * 9)
    with pytest.raises(ValueError, match="smaller than"):
        extract_patches(torch.rand(1, 4, 2, 7))


def test_texture_with_patch_loss_defaults_to_champandard(texture32):
    r = U.texture(make_texture(64), size=(64, 64), loss="patch", variety=0.1, optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=5))
    assert r.config["net"]["name"] == "champandard" and r.config["layers"] == ["conv3_1", "conv4_1"]
    assert r.history[-1]["loss"] < r.history[0]["loss"]


# --- Neural Doodle ---------------------------------------------------------------------------


def _halves(left, right, size=48):
    img = torch.zeros(1, 3, size, size)
    img[..., : size // 2] = torch.tensor(left).view(1, 3, 1, 1)
    img[..., size // 2:] = torch.tensor(right).view(1, 3, 1, 1)
    return img


def test_doodle_paints_each_region_from_its_matching_colour():
    g = torch.Generator().manual_seed(0)
    red, blue = (0.9, 0.1, 0.1), (0.1, 0.2, 0.9)
    style_image = (_halves(red, blue) + 0.05 * torch.randn(1, 3, 48, 48, generator=g)).clamp(0, 1)
    style_map = _halves((1.0, 1.0, 0.0), (0.0, 1.0, 1.0))
    target_map = _halves((0.0, 1.0, 1.0), (1.0, 1.0, 0.0))  # swapped
    r = doodle(style_image, style_map, target_map, net=preset("champandard"), semantic_weight=10.0,
               optim=OptimConfig(iterations=2, scales=1, lbfgs_max_iter=20))
    left, right = r.image[..., 4:-4, 4:20].mean(dim=(2, 3))[0], r.image[..., 4:-4, 28:-4].mean(dim=(2, 3))[0]
    assert left[2] > left[0] + 0.2, left  # left of the target is the style's blue region
    assert right[0] > right[2] + 0.2, right


def test_palette_ignores_antialiased_edges():
    m = _halves((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), 40)
    m[..., 20] = torch.tensor([0.5, 0.0, 0.5]).view(1, 3, 1)  # a blended column: 2.5 % of pixels
    assert len(palette(m, 0.05)) == 2
    masks = one_hot(m, palette(m, 0.05))
    assert torch.equal(masks.sum(dim=1), torch.ones(1, 40, 40))


def test_missing_map_colour_is_named():
    style_map = _halves((1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    target_map = _halves((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    with pytest.raises(UserError, match="#00ff00 .* not in the style map") as err:
        check_maps(style_map, target_map)
    assert "#ff0000" in str(err.value) and "#0000ff" in str(err.value)


def test_doodle_resizes_a_map_of_the_wrong_size_with_nearest():
    style_image = torch.rand(1, 3, 48, 48)
    style_map = _halves((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), 24)  # half the image's size
    r = doodle(style_image, style_map, _halves((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), 48),
               optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=2))
    assert r.image.shape == (1, 3, 48, 48) and sorted(r.config["inputs"]["colours"]) == ["#0000ff", "#ff0000"]


# --- stability rules (Du 2020 §3) -------------------------------------------------------------


class _Flaky:
    """A problem whose objective returns inf for the first *bad* evaluations of each net draw."""

    def __init__(self, texture, deterministic=False, fail_attempts=1):
        from untrained.synth.texture import TextureConfig, TextureProblem

        cfg = TextureConfig(layers=("conv1_1",), optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=4)).resolved((32, 32))
        self.inner, self.attempt, self.fail_attempts, self.deterministic = TextureProblem(texture, cfg), 0, fail_attempts, deterministic
        self.cfg = cfg

    def objective(self, size, factor):
        obj = self.inner.objective(size, factor)
        if self.attempt < self.fail_attempts:
            calls = {"n": 0}
            forward = obj.forward

            def poisoned(image):
                calls["n"] += 1
                total, terms = forward(image)
                return (total * float("inf") if calls["n"] >= 3 else total), terms

            obj.forward = poisoned
        return obj

    def initial(self, size, gen):
        return torch.full((1, 3, *size), 0.5) if self.deterministic else torch.rand((1, 3, *size), generator=gen)

    def reseed(self, attempt):
        self.attempt = attempt
        self.inner.reseed(attempt)


def test_inf_loss_reseeds_and_restarts(texture32):
    problem = _Flaky(texture32)
    synthesis = Synthesis(problem, problem.cfg.optim, (32, 32), 0)
    image = synthesis.run()
    assert torch.isfinite(image).all()
    assert len(synthesis.stats()["restarts"]) == 1 and synthesis.stats()["restarts"][0]["loss"] == "inf"


def test_repeated_divergence_triggers_perturbation_then_gives_up(texture32):
    problem = _Flaky(texture32, deterministic=True, fail_attempts=99)
    problem.reseed = lambda attempt: None  # a net with no randomness: reseeding changes nothing
    synthesis = Synthesis(problem, problem.cfg.optim, (32, 32), 0, normalize=False)  # no random probe either
    with pytest.raises(UserError, match="diverged"):
        synthesis.run()
    flags = [r["perturbed"] for r in synthesis.restarts]
    assert flags[0] is False and flags[1] is True


# --- command line ---------------------------------------------------------------------------

QUICK = ["--iterations", "1", "--scales", "1", "--lbfgs-max-iter", "3", "--quiet"]


def test_cli_invert_writes_scores(exemplar_file, tmp_path):
    out = tmp_path / "inv.png"
    assert main(["invert", str(exemplar_file), "--layer", "conv2_1", "-o", str(out), *QUICK]) == 0
    side = json.loads(out.with_suffix(".json").read_text())
    assert set(side["stats"]["scores"]) == {"psnr", "ssim", "relative_feature_error"}
    assert read_config(out)["layer"] == "conv2_1"


def test_cli_style_preset_and_overrides(tmp_path):
    content, style_image = _pair()
    save_image(tmp_path / "c.png", content)
    save_image(tmp_path / "s.png", style_image)
    out = tmp_path / "o.png"
    assert main(["style", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "--preset", "du2020", "--content-weight", "0",
                 "-o", str(out), *QUICK]) == 0
    cfg = read_config(out)
    assert cfg["net"]["padding"] == "zeros" and cfg["content_weight"] == 0 and cfg["style_weight"] == 1e6
    assert cfg["optim"]["iterations"] == 1


def test_cli_doodle_finds_the_map_beside_the_style(tmp_path):
    save_image(tmp_path / "art.png", _halves((0.9, 0.1, 0.1), (0.1, 0.1, 0.9)))
    save_image(tmp_path / "art_sem.png", _halves((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)))
    save_image(tmp_path / "target.png", _halves((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)))
    out = tmp_path / "d.png"
    assert main(["doodle", "--style", str(tmp_path / "art.png"), "--map", str(tmp_path / "target.png"), "-o", str(out), *QUICK]) == 0
    assert read_config(out)["inputs"]["style_map_path"].endswith("art_sem.png")


@pytest.mark.parametrize("args, fragment", [
    (["invert", "{img}", "--layer", "conv9_9"], "did you mean"),
    (["style", "{img}", "{missing}"], "no such file"),
    (["style", "{img}", "{img}", "--preset", "gatys"], "unknown style preset"),
    (["style", "{img}", "{img}", "--init", "zeros"], "unknown init"),
    (["doodle", "--style", "{img}", "--map", "{img}"], "no style map"),
    (["texture", "{img}", "--loss", "swd2"], "unknown loss"),
])
def test_cli_task_errors(exemplar_file, tmp_path, capsys, args, fragment):
    args = [a.format(img=exemplar_file, missing=tmp_path / "none.png") for a in args]
    assert main([*args, "-o", str(tmp_path / "o.png"), *QUICK]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
