"""Defects found in review (issue 20): each test states the property that was broken."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

from untrained.cli import main
from untrained.config import from_dict
from untrained.errors import UserError
from untrained.io import save_image
from untrained.synth.loop import OVERSHOOT, OptimConfig, Synthesis
from untrained.synth.texture import TextureConfig

from conftest import make_texture

SRC = Path(__file__).resolve().parents[1] / "src" / "untrained"


# 1. `untrained sweep` without --quiet ---------------------------------------------------------


def test_sweep_without_quiet_reports_its_table(tmp_path, capsys):
    save_image(tmp_path / "ex.png", make_texture(32))
    spec = tmp_path / "s.toml"
    spec.write_text('task = "texture"\n[inputs]\nexemplar = "ex.png"\n[base]\nsize = [24, 24]\n'
                    'layers = ["conv1_1"]\noptim = { iterations = 1, scales = 1, lbfgs_max_iter = 2 }\n'
                    'net = { net = "vgg19", width = 0.25 }\n[grid]\nseed = [0]\n')
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out"), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert f"1 runs in {tmp_path / 'out' / 'results.csv'} (0 failed)" in err


# 2. strict config conversion ------------------------------------------------------------------


@pytest.mark.parametrize("data, field", [
    ({"size": [64, 64, 3]}, "size"),
    ({"size": 64}, "size"),
    ({"layers": "conv1_1"}, "layers"),
    ({"seed": "3"}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"tile": "yes"}, "tile"),
    ({"optim": {"iterations": [5]}}, "iterations"),
    ({"style_weight": "heavy"}, "style_weight"),
])
def test_config_conversion_is_strict_and_names_the_field(data, field):
    with pytest.raises(UserError, match=field) as info:
        from_dict(TextureConfig, data)
    assert "\n" not in str(info.value)


def test_config_conversion_keeps_good_values():
    cfg = from_dict(TextureConfig, {"size": [64, 48], "layers": ["conv1_1"], "style_weight": 2,
                                    "optim": {"scale_evaluations": None}})
    assert cfg.size == (64, 48) and cfg.layers == ("conv1_1",) and cfg.style_weight == 2.0
    assert isinstance(cfg.style_weight, float) and cfg.optim.scale_evaluations is None


# 3. --weights designed:… with a non-number ----------------------------------------------------


@pytest.mark.parametrize("weights", ["designed:x:1", "designed:1:y", "designed:1:1:zz"])
def test_designed_weights_with_a_non_number_is_a_clear_error(weights, capsys):
    assert main(["nets", "vgg19", "--weights", weights]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "designed" in err


# 4. the restart rule (Du §3) ------------------------------------------------------------------


class _Term:
    name = "t"


class _Objective:
    """loss = mean(x) · 1, or NaN from evaluation *nan_from* on (0-based, per attempt)."""

    def __init__(self, nan_from: int):
        self.nan_from, self.calls, self.terms = nan_from, 0, [_Term()]

    def resample(self, generator):
        pass

    def __call__(self, x):
        self.calls += 1
        loss = x.mean()
        if self.calls > self.nan_from:
            loss = loss * float("nan")
        return loss, {"t": loss}


class _Problem:
    def __init__(self, schedule):
        self.schedule, self.attempt = schedule, 0

    def objective(self, size, factor):
        return _Objective(self.schedule[min(self.attempt, len(self.schedule) - 1)])

    def initial(self, size, generator):
        return torch.full((1, 3, *size), 0.5)

    def reseed(self, attempt):
        self.attempt = attempt


def _restarts(schedule):
    s = Synthesis(_Problem(schedule), OptimConfig(optimizer="adam", iterations=4, scales=1),
                  (4, 4), 0, normalize=False)
    with pytest.raises(UserError, match="diverged"):
        s.run()
    return s.restarts


def test_a_restart_does_not_compare_with_the_previous_attempts_loss():
    """Attempt 0 has finite losses then diverges; attempt 1 diverges at once: nothing finite was
    seen in attempt 1, so it is not 'the same' as attempt 0 and is not perturbed."""
    restarts = _restarts([2, 0, 0, 0, 0])
    assert restarts[0]["last_finite_loss"] is not None
    assert restarts[1]["last_finite_loss"] is None
    assert restarts[1]["perturbed"] is False


def test_two_attempts_that_diverge_at_once_lead_to_a_perturbation():
    restarts = _restarts([0])
    assert restarts[0]["perturbed"] is False
    assert all(r["perturbed"] for r in restarts[1:])


class _SpikeObjective:
    """loss = Σ (x − 0.3)², multiplied by 10⁶ on evaluation *spike* (1-based): a step far uphill."""

    def __init__(self, spike: int):
        self.spike, self.calls, self.terms = spike, 0, [_Term()]

    def resample(self, generator):
        pass

    def __call__(self, x):
        self.calls += 1
        loss = ((x - 0.3) ** 2).sum() * (1e6 if self.calls == self.spike else 1.0)
        return loss, {"t": loss}


class _SpikeProblem(_Problem):
    def objective(self, size, factor):
        return _SpikeObjective(2)


@pytest.mark.parametrize("line_search", [False, True])
def test_an_overshoot_goes_back_to_the_best_image_and_on_with_a_line_search(line_search):
    """Without a line search, an evaluation at > OVERSHOOT × the best loss is recorded, and the
    next evaluation is at the best image (the same loss as the best) and the step is run again
    (one step here: an overshoot must not end the scale); with a line search, nothing is."""
    s = Synthesis(_SpikeProblem([0]), OptimConfig(iterations=1, scales=1, lbfgs_max_iter=6, line_search=line_search),
                  (4, 4), 0, normalize=False)
    s.run()
    losses = [h["loss"] for h in s.history]
    if line_search:
        assert s.overshoots == []
        return
    assert s.overshoots == [{"scale": 0, "evaluation": 2}] and s.stats()["overshoots"] == s.overshoots
    assert losses[1] > OVERSHOOT * losses[0]
    assert losses[2] == pytest.approx(losses[0], rel=1e-6)
    assert s.best_loss < 1e-3 * losses[0]  # and the scale went on descending


# 5. silent fallbacks --------------------------------------------------------------------------


def test_a_term_with_zero_gradient_at_the_probe_is_an_error():
    from untrained.losses import TVLoss
    from untrained.nets import build
    from untrained.nets.modify import make
    from untrained.objective import Objective, Term

    net = build(make("vgg19", width=0.125), 0)
    objective = Objective(net, [Term("tv", None, TVLoss())])
    with pytest.raises(UserError, match="tv"):
        objective.normalize(torch.full((1, 3, 16, 16), 0.5))


def test_doodle_content_init_without_content_is_an_error():
    from untrained.synth.doodle import DoodleConfig, doodle_synthesis

    img = make_texture(24)
    style_map = torch.zeros(1, 3, 24, 24)
    with pytest.raises(UserError, match="content"):
        doodle_synthesis(img, style_map, style_map, None, DoodleConfig(init="content"))


@pytest.mark.parametrize("pyramid", ["gaussian:abc", "laplacian:0", "gaussian:3:4"])
def test_a_bad_pyramid_level_count_is_an_error(pyramid):
    from untrained.nets.modify import make

    with pytest.raises(UserError, match="pyramid"):
        make("shallow", pyramid=pyramid)


def test_score_layer_without_invert_is_an_error(tmp_path, capsys):
    save_image(tmp_path / "a.png", make_texture(32))
    assert main(["score", str(tmp_path / "a.png"), str(tmp_path / "a.png"), "--layer", "conv1_1"]) == 2
    assert "--layer" in capsys.readouterr().err


def test_copy_fraction_refuses_images_smaller_than_its_patch():
    from untrained.metrics import copy_fraction

    with pytest.raises(ValueError, match="patch"):
        copy_fraction(make_texture(12), make_texture(12))


def test_swd_loss_uses_every_item_of_a_batch():
    from untrained.losses import SWDLoss

    g = torch.Generator().manual_seed(0)
    target = torch.rand(1, 4, 6, 6, generator=g)
    loss = SWDLoss([target])
    same, other = target.clone(), torch.rand(1, 4, 6, 6, generator=g) + 3
    both = loss(torch.cat([same, other]))
    assert both > 0.25 * loss(other) and torch.allclose(both, (loss(same) + loss(other)) / 2)


# 6. check_image --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, fragment", [
    (make_texture(16) * 255, "[0, 1]"),
    (make_texture(16).index_fill(3, torch.tensor([2]), float("nan")), "NaN"),
    (make_texture(16) - 0.5, "[0, 1]"),
])
def test_check_image_refuses_out_of_range_or_nan(bad, fragment):
    from untrained.synth.common import check_image

    with pytest.raises(UserError) as info:
        check_image(bad, "exemplar")
    assert fragment in str(info.value) and "exemplar" in str(info.value)


# 7. Iterate.image is a copy -------------------------------------------------------------------


def test_iterate_images_are_snapshots():
    from untrained.synth.texture import texture

    frames = []
    texture(make_texture(24), layers=("conv1_1",), net=None, size=(24, 24),
            optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=4),
            callback=lambda it: frames.append(it.image))
    assert len(frames) >= 3
    assert not all(torch.equal(frames[0], f) for f in frames[1:])


# 8. the library leaves process-wide state alone -----------------------------------------------


def _calls(tree) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            out.append(ast.unparse(node.func))
        if isinstance(node, ast.Assign):
            out += [f"{ast.unparse(t)} =" for t in node.targets]
    return out


@pytest.mark.parametrize("path", sorted(p for p in SRC.rglob("*.py") if "cli" not in p.parts),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_the_library_changes_no_process_wide_state(path):
    calls = _calls(ast.parse(path.read_text()))
    forbidden = ("retain_freed_memory", "matplotlib.use", "os.umask", "Image.MAX_IMAGE_PIXELS =",
                 "mallopt", "plt.")
    found = [c for c in calls if any(c.endswith(f) or c.startswith(f) for f in forbidden)]
    assert not found, f"{path.name}: {found}"


def test_written_files_follow_the_umask(tmp_path):
    import os

    from untrained.io import atomic_write_bytes

    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o640


# 9. --pyramid on other nets -------------------------------------------------------------------


@pytest.mark.parametrize("net", ["vgg19", "champandard", "vgg19-tutorial"])
def test_pyramid_on_a_deep_net_keeps_small_input_layers(net):
    from untrained.nets import min_input_size, preset
    from untrained.nets.modify import make

    spec = make(net, pyramid="gaussian:3")
    plain = max(min_input_size(preset(net), t) for t in preset(net).style_layers[:1])
    assert spec.style_layers and all(t.endswith(f"@{k + 1}") for k, t in enumerate(spec.style_layers))
    assert max(min_input_size(spec, t) for t in spec.style_layers) <= 4 * plain
    assert max(min_input_size(spec, t) for t in spec.style_layers) <= 64


# 11. comments that say what the code does ------------------------------------------------------


def test_texture_speed_comment_matches_the_readme():
    """Every speed ratio the texture module's comments quote ("N× faster", "N–M× less time")
    is one the README states too; the stale "13–18×" is gone."""
    import re

    text = (SRC / "synth" / "texture.py").read_text()
    readme = (SRC.parents[1] / "README.md").read_text()
    assert "13–18×" not in text
    for ratio in re.findall(r"(\d+(?:\.\d+)?(?:–\d+(?:\.\d+)?)?×) (?:faster|less time)", text):
        assert ratio in readme, ratio


def test_copy_fraction_threshold_is_the_stated_rms():
    """A patch whose detail RMS is just above the documented threshold counts as textured."""
    from untrained import metrics

    assert metrics.DETAIL_RMS > 0
    patch = 16
    rms = metrics.DETAIL_RMS * 1.2
    energy = rms * math.sqrt(3 * patch * patch)
    assert metrics._textured(torch.tensor([energy]), patch).all()
    assert not metrics._textured(torch.tensor([energy / 1.44]), patch).any()


def test_the_net_pyramid_is_kornias():
    import kornia

    from untrained.image import gaussian_pyramid

    x = make_texture(32)
    assert torch.equal(gaussian_pyramid(x, 2)[1], kornia.geometry.transform.pyrdown(x))
