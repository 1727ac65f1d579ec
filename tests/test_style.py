"""Style transfer levers of issue 16: palette matching, style scale, which terms are normalised,
and the style metrics."""

import pytest
import torch

import untrained.metrics as M
from untrained.errors import UserError
from untrained.synth.loop import OptimConfig
from untrained.image import match_palette
from untrained.synth.style import StyleConfig, StyleProblem, style, style_target_size

from conftest import make_texture

QUICK = OptimConfig(iterations=1, scales=1, lbfgs_max_iter=3)


def _pair():
    content = make_texture(32, seed=3)
    style_image = torch.flip(make_texture(40, seed=7), dims=(1,)) * torch.tensor([1.0, 0.5, 0.2]).view(1, 3, 1, 1)
    return content, style_image


def test_match_palette_gives_the_style_colour_moments():
    content, style_image = _pair()
    out = match_palette(content, style_image)
    mean = lambda x: x.reshape(3, -1).mean(dim=1)
    cov = lambda x: torch.cov(x.reshape(3, -1))
    assert torch.allclose(mean(out), mean(style_image), atol=0.02)
    assert torch.allclose(cov(out), cov(style_image), atol=0.01)
    assert not torch.allclose(mean(content), mean(style_image), atol=0.05)  # the test means something
    # the layout is kept: the result is an affine function of the content's pixels
    assert M.edge_correlation(out, content) > 0.8


def test_style_target_size_keeps_aspect_and_matches_area():
    assert style_target_size((40, 80), (32, 32), None) == (40, 80)
    h, w = style_target_size((40, 80), (64, 64), 1.0)
    assert abs(w - 2 * h) <= 1 and abs(h * w - 64 * 64) < 100
    assert style_target_size((40, 80), (64, 64), 0.5) == (23, 45)


@pytest.mark.parametrize("field,value,message", [
    ("style_scale", 0.0, "style scale must be a positive number"),
    ("style_scale", "big", "style scale must be a positive number"),
    ("style_scale", float("nan"), "style scale must be a positive number"),
    ("palette", "warm", "unknown palette 'warm'"),
    ("normalize_terms", "both", "unknown terms to normalise 'both'"),
])
def test_bad_style_settings_are_one_line_errors(field, value, message):
    content, style_image = _pair()
    with pytest.raises(UserError, match=message) as info:
        style(content, style_image, optim=QUICK, **{field: value})
    assert "\n" not in str(info.value)


def test_style_scale_resizes_the_style_targets():
    content, style_image = _pair()
    cfg = StyleConfig(style_scale=0.5).resolved((32, 32), (40, 40))
    problem = StyleProblem(content, style_image, cfg)
    assert tuple(problem.style.shape[-2:]) == (16, 16)
    assert tuple(StyleProblem(content, style_image, StyleConfig().resolved((32, 32), (40, 40))).style.shape[-2:]) == (32, 32)
    native = StyleProblem(content, style_image, StyleConfig(style_scale=None).resolved((32, 32), (40, 40)))
    assert tuple(native.style.shape[-2:]) == (40, 40)


def test_palette_match_changes_the_start_and_the_content_target():
    content, style_image = _pair()
    assert torch.equal(StyleProblem(content, style_image, StyleConfig(palette="none").resolved((32, 32), (40, 40))).content, content)
    cfg = StyleConfig(palette="match").resolved((32, 32), (40, 40))
    problem = StyleProblem(content, style_image, cfg)
    assert torch.allclose(problem.content, match_palette(content, style_image))
    assert torch.allclose(problem.initial((32, 32), torch.Generator()), problem.content)


@pytest.mark.parametrize("terms,content_scaled,style_scaled", [("all", True, True), ("style", False, True), ("content", True, False)])
def test_normalize_terms_picks_the_terms_he_et_al_weights_rescale(terms, content_scaled, style_scaled):
    content, style_image = _pair()
    cfg = StyleConfig(normalize=True, normalize_terms=terms).resolved((32, 32), (40, 40))
    objective = StyleProblem(content, style_image, cfg).objective((32, 32), 1.0)
    scales = objective.normalize(torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    for name, scale in scales.items():
        scaled = content_scaled if name.startswith("content") else style_scaled
        assert (scale != 1.0) == scaled, (name, scale)


def test_style_scores_rank_a_stylised_image_between_content_and_style():
    content, style_image = _pair()
    own = M.style_scores(content, content, style_image)
    assert own["content_ssim"] > 0.99 and own["content_edges"] > 0.99
    shuffled = M.style_scores(M.shuffled(content), content, style_image)
    assert shuffled["content_ssim"] < 0.5
    # the style image itself is closest to the style by score and unrelated to the content
    itself = M.style_scores(style_image, content, style_image)
    assert itself["score"] < own["score"] and itself["score"] < 0.2
    assert set(own) == {"score", "content_ssim", "content_edges"}


def test_evaluate_style_and_style_scores_share_one_content_ssim():
    """One definition (64-px grey): a blur the full-resolution SSIM would punish hardly moves it."""
    import torch.nn.functional as F

    content, style_image = _pair()
    big = F.interpolate(content, size=(128, 128), mode="bilinear", align_corners=False)
    grainy = (big + 0.3 * (torch.rand(big.shape, generator=torch.Generator().manual_seed(1)) - 0.5)).clamp(0, 1)
    via_evaluate = M.evaluate(grainy, style_image, "style", content=big)["content_ssim"]
    assert via_evaluate == pytest.approx(M.style_scores(grainy, big, style_image)["content_ssim"], abs=1e-6)
    assert via_evaluate > M.ssim(grainy, big) + 0.1  # not the full-resolution SSIM


# --- command line -------------------------------------------------------------------------------

CLI_QUICK = ["--iterations", "1", "--scales", "1", "--lbfgs-max-iter", "3", "--quiet"]


@pytest.fixture
def pair_files(tmp_path):
    from untrained.io import save_image

    content, style_image = _pair()
    save_image(tmp_path / "c.png", content)
    save_image(tmp_path / "s.png", style_image)
    return str(tmp_path / "c.png"), str(tmp_path / "s.png")


def test_cli_style_default_records_the_new_levers(pair_files, tmp_path):
    from untrained.cli import main
    from untrained.io import read_config

    out = tmp_path / "o.png"
    assert main(["style", *pair_files, "-o", str(out), *CLI_QUICK]) == 0
    cfg = read_config(out)
    assert cfg["palette"] == "match" and cfg["style_scale"] == 1.0 and cfg["normalize"] is True
    assert main(["style", *pair_files, "-o", str(out), "--style-scale", "native", "--palette", "none",
                 "--normalize-terms", "style", "--preserve-color", *CLI_QUICK]) == 0
    cfg = read_config(out)
    assert cfg["style_scale"] is None and cfg["palette"] == "none" and cfg["normalize_terms"] == "style"
    assert cfg["preserve_color"] == "luminance"


def test_cli_he2016_preset(pair_files, tmp_path):
    from untrained.cli import main
    from untrained.io import read_config

    out = tmp_path / "he.png"
    assert main(["style", *pair_files, "--preset", "he2016", "--size", "32x32", "-o", str(out), *CLI_QUICK]) == 0
    cfg = read_config(out)
    assert cfg["net"]["weights"] == "gaussian:0.015" and cfg["net"]["bias"] == "zero"
    assert cfg["content_layers"] == ["conv4_2"] and cfg["style_layers"][-1] == "conv5_1"


@pytest.mark.parametrize("name", ["du2020", "he2016"])
def test_the_paper_presets_use_the_papers_gram_loss_not_the_default_swd(name):
    from untrained.synth.style import StyleConfig, style_preset

    assert StyleConfig().loss == "swd" and style_preset(name).loss == "gram"


def test_cli_swd_directions_are_recorded_and_used(pair_files, tmp_path):
    """The default draws half as many SWD directions as channels; the flag's value is used as given."""
    from untrained.cli import main
    from untrained.io import read_config
    from untrained.losses import SWDLoss

    out = tmp_path / "o.png"
    assert main(["style", *pair_files, "-o", str(out), *CLI_QUICK]) == 0
    assert read_config(out)["swd_directions"] == 0.5
    assert main(["style", *pair_files, "-o", str(out), "--swd-directions", "1", *CLI_QUICK]) == 0
    assert read_config(out)["swd_directions"] == 1.0
    features = torch.randn(1, 64, 5, 5, generator=torch.Generator().manual_seed(0))
    assert [SWDLoss(features, directions=f).directions.shape for f in (1.0, 0.5, 1e-6)] == [(64, 64), (64, 32), (64, 1)]
    with pytest.raises(ValueError, match="positive fraction"):
        SWDLoss(features, directions=0.0)


@pytest.mark.parametrize("flags,fragment", [
    (["--style-scale", "0"], "positive number or native"),
    (["--style-scale", "big"], "expected a number"),
    (["--palette", "warm"], "unknown palette 'warm'"),
    (["--normalize-terms", "both"], "unknown terms to normalise 'both'"),
    (["--preset", "he2017"], "unknown style preset 'he2017'"),
    (["--preserve-color", "hue"], "unknown colour preservation 'hue'"),
    (["--swd-directions", "0"], "SWD directions must be a finite number > 0"),
    (["--swd-directions", "-1"], "SWD directions must be a finite number > 0"),
])
def test_cli_style_bad_values_are_one_line_errors(pair_files, tmp_path, capsys, flags, fragment):
    from untrained.cli import main

    code = main(["style", *pair_files, "-o", str(tmp_path / "o.png"), *flags, *CLI_QUICK])
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("untrained: error:") and fragment in lines[0], lines[0]


def test_explicit_counts_win_over_the_style_caps():
    """The default caps apply only when no count was given (the flag rule, as texture's)."""
    from dataclasses import replace

    from untrained.synth.style import DEFAULT_ITERATIONS, default_caps

    default = StyleConfig().resolved((512, 512), (400, 400)).optim
    assert default.iterations == DEFAULT_ITERATIONS and default.scale_evaluations == default_caps((512, 512), 3)
    assert default.max_evaluations() < DEFAULT_ITERATIONS * 20 * 3  # the caps bite
    for given in (dict(iterations=30), dict(lbfgs_max_iter=50)):
        optim = replace(StyleConfig().optim, **given)
        resolved = StyleConfig(optim=optim).resolved((512, 512), (400, 400)).optim
        assert resolved.scale_evaluations == ()
        assert resolved.max_evaluations() == resolved.iterations * resolved.lbfgs_max_iter * 3
    capped = StyleConfig(optim=replace(StyleConfig().optim, iterations=30, scale_evaluations=(7,)))
    assert capped.resolved((64, 64), (64, 64)).optim.evaluation_cap(2, 3) == 7  # explicit caps too
