import dataclasses

import pytest
import torch

import untrained as U
from untrained.config import from_dict, to_dict
from untrained.errors import UserError
from untrained.synth import OptimConfig, Synthesis, TextureConfig, scale_sizes, texture_synthesis

FAST = dict(
    layers=("conv1_1", "conv2_1"),
    optim=OptimConfig(iterations=2, scales=1, lbfgs_max_iter=8),
)


def _cfg(**kw):
    return TextureConfig(**{**FAST, **kw})


def test_optimisation_lowers_the_loss(texture32):
    r = U.texture(texture32, _cfg(size=(32, 32)))
    losses = [h["loss"] for h in r.history]
    assert r.image.shape == (1, 3, 32, 32)
    assert losses[-1] < 0.1 * losses[0]
    assert 0 <= float(r.image.min()) and float(r.image.max()) <= 1
    assert r.stats["evaluations"] == len(r.history)


def test_result_matches_exemplar_statistics_better_than_noise(texture32):
    from untrained.losses import gram_loss, gram_matrix
    from untrained.synth.texture import TextureProblem

    cfg = _cfg(size=(32, 32)).resolved((32, 32))
    r = U.texture(texture32, cfg)
    net = TextureProblem(texture32, cfg).net
    target = net(texture32, ["conv2_1"])["conv2_1"]
    out = net(r.image, ["conv2_1"])["conv2_1"]
    noise = net(torch.rand(1, 3, 32, 32), ["conv2_1"])["conv2_1"]
    assert gram_loss(out, gram_matrix(target)) < 0.2 * gram_loss(noise, gram_matrix(target))


def test_same_seed_same_bytes_other_seed_differs(texture32, tmp_path):
    paths = []
    for i, seed in enumerate((3, 3, 4)):
        r = U.texture(texture32, _cfg(size=(24, 32), seed=seed))
        paths.append(U.save_image(tmp_path / f"{i}.png", r.image, r.config))
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b and a != c


def test_output_size_independent_of_exemplar_and_coarse_to_fine(texture32):
    seen = []
    cfg = _cfg(size=(48, 40), optim=OptimConfig(iterations=1, scales=2, lbfgs_max_iter=3))
    r = U.texture(texture32, cfg, callback=lambda it: seen.append((it.scale, it.size)))
    assert r.image.shape == (1, 3, 48, 40)
    assert {s for s in seen} == {(0, (24, 20)), (1, (48, 40))}
    assert r.config["size"] == [48, 40]


def test_default_size_is_exemplar_size(texture32):
    r = U.texture(texture32[..., :28], _cfg())
    assert r.image.shape[-2:] == (32, 28)


def test_adam_and_smoothness(texture32):
    cfg = _cfg(size=(32, 32), smoothness=1.0, optim=OptimConfig(optimizer="adam", iterations=30, scales=1))
    r = U.texture(texture32, cfg)
    assert r.config["optim"]["lr"] == 0.02
    assert "tv" in r.history[0]
    assert r.history[-1]["loss"] < r.history[0]["loss"]


def test_mean_init(texture32):
    """init="mean" starts from the exemplar's mean colour plus small noise, not from noise."""
    starts = {}
    for init in ("mean", "noise"):
        frames = []
        U.texture(texture32, _cfg(size=(32, 32), init=init), callback=lambda it: frames.append(it.image))
        starts[init] = frames[0]  # L-BFGS evaluates the starting image first
    mean = texture32.mean(dim=(2, 3))
    assert torch.allclose(starts["mean"].mean(dim=(2, 3)), mean, atol=0.03)
    assert 0.07 < float(starts["mean"].std(dim=(2, 3)).mean()) < 0.13  # the 0.1 noise
    assert float(starts["noise"].std(dim=(2, 3)).mean()) > 0.25  # U(0, 1): std 0.29


def test_config_roundtrip_reproduces(texture32):
    r1 = U.texture(texture32, _cfg(size=(32, 32), seed=9))
    cfg = dict(r1.config)
    cfg.pop("task"), cfg.pop("inputs")
    r2 = U.texture(texture32, from_dict(TextureConfig, cfg))
    assert torch.equal(r1.image, r2.image)


def test_resume_after_interrupt(texture32):
    cfg = _cfg(size=(32, 32), optim=OptimConfig(iterations=2, scales=2, lbfgs_max_iter=4))
    calls = {"n": 0}

    def stop_once(it):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt

    synthesis, _ = texture_synthesis(texture32, cfg, stop_once)
    with pytest.raises(KeyboardInterrupt):
        synthesis.run()
    assert synthesis.best_image is not None and not synthesis.done
    image = synthesis.run()
    assert synthesis.done and image.shape == (1, 3, 32, 32)


def test_scale_sizes():
    assert scale_sizes((256, 192), 3) == [(64, 48), (128, 96), (256, 192)]
    assert scale_sizes((10, 10), 1) == [(10, 10)]


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(size=(0, 10)), "size"),
        (dict(style_weight=float("nan")), "style weight"),
        (dict(smoothness=-1.0), "smoothness"),
        (dict(layers=("conv9_9",)), "no layer"),
        (dict(init="zeros"), "unknown init"),
        (dict(optim=OptimConfig(iterations=0)), "iterations"),
        (dict(optim=OptimConfig(optimizer="adma")), "did you mean"),
        (dict(optim=OptimConfig(lr=-1.0)), "learning rate"),
        (dict(optim=OptimConfig(scale_evaluations=(10, 0))), "evaluations per scale"),
        (dict(optim=OptimConfig(plateau=1.5)), "plateau"),
        (dict(optim=OptimConfig(optimizer="adam", line_search=True)), "line search"),
        (dict(refine_layers=("conv9_9",)), "no layer"),
        (dict(finest_layers=("conv9_9",)), "no layer"),
        (dict(crops=-1), "crops"),
        (dict(crops=1.5), "crops"),
        (dict(layers=("conv5_1",), size=(32, 32), optim=OptimConfig(scales=3)), "coarsest"),
    ],
)
def test_bad_settings_are_user_errors(texture32, changes, message):
    with pytest.raises(UserError, match=message):
        U.texture(texture32, dataclasses.replace(_cfg(), **changes))


def test_exemplar_too_small_for_the_coarsest_scale():
    with pytest.raises(UserError, match="exemplar"):
        U.texture(torch.rand(1, 3, 20, 20), _cfg(size=(64, 64), layers=("conv5_1",), optim=OptimConfig(scales=2)))


def test_nan_gradients_become_zero(texture32, monkeypatch):
    """Du 2020 §3: NaN gradients are replaced by zero so the optimiser keeps going."""
    from untrained.objective import Objective

    forward = Objective.forward

    def poisoned(self, image):
        total, terms = forward(self, image)
        bad = image.sum() * float("nan")
        return total + torch.where(torch.isnan(bad), torch.zeros_like(bad), bad), terms

    monkeypatch.setattr(Objective, "forward", poisoned)
    r = U.texture(texture32, _cfg(size=(32, 32), optim=OptimConfig(optimizer="adam", iterations=3, scales=1)))
    assert torch.isfinite(r.image).all()


# --- the fast schedule (issue #7) ----------------------------------------------------------------


def _per_scale(result) -> list[int]:
    return [sum(1 for h in result.history if h["scale"] == s) for s in range(len(result.stats["scale_sizes"]))]


def test_scale_evaluations_cap_the_finest_scales_counted_backwards(texture32):
    optim = OptimConfig(iterations=3, scales=3, lbfgs_max_iter=5, scale_evaluations=(7, 4))
    assert [optim.evaluation_cap(s, 3) for s in range(3)] == [15, 7, 4] and optim.max_evaluations() == 26
    assert [optim.evaluation_cap(s, 2) for s in range(2)] == [7, 4]
    r = U.texture(texture32, _cfg(size=(32, 32), optim=optim))
    counts = _per_scale(r)
    assert counts[1] <= 7 and counts[2] <= 4 and counts[0] > 7  # L-BFGS may stop early, never late


def test_an_explicit_entry_above_the_steps_runs_more_steps(texture32):
    """Issue 15, explicit counts win: an entry of ``scale_evaluations`` above ``iterations ×
    lbfgs_max_iter`` is run as given (more steps at that scale), not silently lowered to it;
    the scales without an entry keep ``iterations`` steps."""
    optim = OptimConfig(iterations=2, scales=2, lbfgs_max_iter=5, scale_evaluations=(13,))
    assert [optim.evaluation_cap(s, 2) for s in range(2)] == [10, 13] and optim.max_evaluations() == 23
    assert [optim.scale_steps(s, 2) for s in range(2)] == [2, 3]
    counts = _per_scale(U.texture(texture32, _cfg(size=(32, 32), optim=optim)))
    assert counts == [10, 13]


def test_default_caps_depend_on_the_output_size():
    """Above 2048² pixels the default caps all three scales (60, 30, 10); above 512² the two finest
    (60, 30); up to it the finest: 100 above 256² pixels, 60 up to 256², 100 up to 128²;
    caps given explicitly, or none (``()``), are kept as they are."""
    from untrained.synth.texture import fast_evaluations

    assert fast_evaluations((256, 256)) == fast_evaluations((129, 128)) == (60,)
    assert fast_evaluations((257, 256)) == fast_evaluations((512, 512)) == (100,)
    assert fast_evaluations((1024, 1024)) == fast_evaluations((513, 512)) == fast_evaluations((2048, 2048)) == (60, 30)
    assert fast_evaluations((2049, 2048)) == fast_evaluations((4096, 4096)) == (60, 30, 10)
    assert fast_evaluations((128, 128)) == fast_evaluations((64, 96)) == (100,) and fast_evaluations((129, 128)) == (60,)
    assert TextureConfig(size=(64, 64)).resolved((64, 64)).optim.scale_evaluations == (100,)
    assert TextureConfig(size=(1024, 768)).resolved((64, 64)).optim.scale_evaluations == (60, 30)
    none = TextureConfig(size=(1024, 1024), optim=OptimConfig(scale_evaluations=()))
    assert none.resolved((64, 64)).optim.scale_evaluations == ()
    assert OptimConfig(scale_evaluations=None).resolved().evaluation_cap(2, 3) == 100  # no task: no cap


def test_line_search_keeps_the_caps_and_descends(texture32):
    """A strong-Wolfe line search may want more evaluations than a step has left; the caps still
    hold exactly.  On He et al.'s small-σ VGG-19, where plain L-BFGS crawls after an overshoot,
    the same budget reaches a lower loss."""
    optim = OptimConfig(iterations=2, scales=2, lbfgs_max_iter=6, scale_evaluations=(5,), line_search=True)
    r = U.texture(texture32, _cfg(size=(32, 32), optim=optim))
    assert _per_scale(r)[1] <= 5 and _per_scale(r)[0] <= 12
    net = U.preset("vgg19").replace(weights="gaussian:0.015", bias="zero")
    plain = OptimConfig(iterations=3, scales=1, lbfgs_max_iter=20)
    a, b = (U.texture(texture32, _cfg(size=(32, 32), net=net, layers=("conv1_1", "conv2_1"),
                                      optim=dataclasses.replace(plain, line_search=ls))) for ls in (False, True))
    assert len(b.history) <= 60 and b.history[-1]["loss"] < a.history[-1]["loss"]


def test_plateau_ends_a_scale_early(texture32):
    optim = OptimConfig(iterations=6, scales=1, lbfgs_max_iter=4)
    full = U.texture(texture32, _cfg(size=(32, 32), optim=optim))
    early = U.texture(texture32, _cfg(size=(32, 32), optim=dataclasses.replace(optim, plateau=0.999)))
    assert len(early.history) == 8 < len(full.history)  # the second step's gain is under 99.9 %: stop


def test_refine_layers_default_and_use(texture32):
    """With the net's default layers the scales after the coarsest drop the deepest (Gram, SWD);
    named layers, the patch loss and an empty tuple keep every layer everywhere."""
    default = TextureConfig(size=(64, 64)).resolved((64, 64))
    assert default.refine_layers == default.layers[:-1] and len(default.layers) == 3
    assert TextureConfig(size=(64, 64), refine_layers=()).resolved((64, 64)).refine_layers == default.layers
    named = TextureConfig(size=(64, 64), layers=("conv1_1", "conv2_1")).resolved((64, 64))
    assert named.refine_layers == named.layers
    r = U.texture(texture32, _cfg(size=(32, 32), layers=("conv1_1", "conv2_1"), refine_layers=("conv1_1",),
                                  optim=OptimConfig(iterations=1, scales=2, lbfgs_max_iter=3)))
    terms = {s: {k for k in h if k.startswith("gram:")} for h in r.history for s in [h["scale"]]}
    assert len(terms[0]) == 2 and len(terms[1]) == 1


def test_finest_layers_default_and_use(texture32):
    """Unset (or empty), the finest scale matches the refine layers; given, it matches them and
    the coarser scales keep theirs."""
    default = TextureConfig(size=(64, 64)).resolved((64, 64))
    assert default.finest_layers == default.refine_layers == ("conv1_1", "conv2_1")
    assert TextureConfig(size=(64, 64), refine_layers=()).resolved((64, 64)).finest_layers == default.layers
    given = TextureConfig(size=(64, 64), finest_layers=("conv1_1", "conv1_2")).resolved((64, 64))
    assert given.finest_layers == ("conv1_1", "conv1_2") and given.refine_layers == default.refine_layers
    r = U.texture(texture32, _cfg(size=(32, 32), layers=("conv1_1", "conv2_1"), refine_layers=("conv1_1", "conv2_1"),
                                  finest_layers=("conv1_2",), optim=OptimConfig(iterations=1, scales=3, lbfgs_max_iter=2)))
    terms = {h["scale"]: {k for k in h if k.startswith("gram:")} for h in r.history}
    assert terms == {0: {"gram:conv1_1", "gram:conv2_1"}, 1: {"gram:conv1_1", "gram:conv2_1"}, 2: {"gram:conv1_2"}}


def test_grid_crops_span_the_image():
    from untrained.image import grid_crops

    image = torch.arange(10 * 12, dtype=torch.float32).view(1, 1, 10, 12)
    crops = grid_crops(image, (4, 6), 3)
    assert len(crops) == 9 and all(c.shape[-2:] == (4, 6) for c in crops)
    assert crops[0][0, 0, 0, 0] == 0 and crops[-1][0, 0, -1, -1] == image[0, 0, -1, -1]  # both corners
    assert crops[4][0, 0, 0, 0] == image[0, 0, 3, 3]  # the middle offset
    assert torch.equal(grid_crops(image, (4, 6), 1)[0], image[..., 3:7, 3:9])  # the centre
    assert torch.equal(grid_crops(image, (10, 12), 3)[0], image) and len(grid_crops(image, (20, 20), 3)) == 1
    assert [c.shape[-2:] for c in grid_crops(image, (4, 20), 2)] == [(4, 12), (4, 12)]  # one side larger
    with pytest.raises(ValueError, match="per_side"):
        grid_crops(image, (4, 6), 0)


def test_a_larger_exemplar_gives_the_mean_gram_of_canvas_sized_crops(texture32):
    """With ``crops`` the Gram target at a scale is the mean of the crops' Gram matrices (the
    canvas's share of border rows); ``crops=0`` is the whole exemplar's (the papers' setup)."""
    from untrained.image import grid_crops
    from untrained.losses import gram_matrix
    from untrained.synth.texture import TextureProblem

    exemplar = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    targets = {}
    for crops in (2, 0):
        cfg = _cfg(size=(24, 24), crops=crops).resolved((40, 48))
        problem = TextureProblem(exemplar, cfg)
        term = problem.objective((24, 24), 1.0).terms[0]
        targets[crops] = term.loss.target
        feats = lambda x: problem.net(x, [term.layer])[term.layer]  # noqa: E731
    whole = gram_matrix(feats(exemplar))
    mean = sum(gram_matrix(feats(c)) for c in grid_crops(exemplar, (24, 24), 2)) / 4
    assert torch.allclose(targets[0], whole, rtol=1e-5, atol=1e-7)
    assert torch.allclose(targets[2], mean, rtol=1e-5, atol=1e-7)
    assert not torch.allclose(mean, whole, rtol=1e-3)  # the border share differs with the size
    tiled = TextureProblem(exemplar, _cfg(size=(24, 24), crops=2, tile=True).resolved((40, 48)))
    circular = tiled.net(exemplar, [term.layer])[term.layer]
    assert torch.allclose(tiled.objective((24, 24), 1.0).terms[0].loss.target, gram_matrix(circular), rtol=1e-5)


def test_a_smaller_exemplar_weighs_its_border_by_the_canvas_share(texture32):
    """An exemplar smaller than the canvas has a larger share of border positions than the canvas
    can have; with ``crops`` its target weighs them by the canvas's share (issue 15: 512² from
    256²–400² exemplars); ``crops=0`` keeps the whole exemplar's Gram matrix."""
    from untrained.losses import border_gram, gram_matrix
    from untrained.nets import border_masks
    from untrained.synth.texture import TextureProblem

    exemplar = torch.rand(1, 3, 16, 20, generator=torch.Generator().manual_seed(1))
    targets = {}
    for crops in (2, 0):
        problem = TextureProblem(exemplar, _cfg(size=(24, 24), crops=crops).resolved((16, 20)))
        term = problem.objective((24, 24), 1.0).terms[-1]
        targets[crops] = term.loss.target
    layer = term.layer
    feats = problem.net(exemplar, [layer])[layer]
    share = border_masks(problem.net, (24, 24), [layer])[layer].float().mean().item()  # the canvas's, probed
    expected = border_gram(feats, border_masks(problem.net, (16, 20), [layer])[layer], share)
    assert torch.allclose(targets[2], expected, rtol=1e-5, atol=1e-7)
    assert torch.allclose(targets[0], gram_matrix(feats), rtol=1e-5, atol=1e-7)
    assert not torch.allclose(targets[2], targets[0], rtol=1e-3)


def test_crops_cover_a_much_larger_exemplar():
    from untrained.synth.texture import crops_per_side

    assert crops_per_side((384, 384), (256, 256), 3) == 3 and crops_per_side((40, 48), (24, 24), 2) == 2
    assert crops_per_side((400, 400), (256, 256), 2) == 2  # the default: the fewest that cover it
    assert crops_per_side((1000, 500), (64, 64), 3) == 16  # ⌈1000/64⌉: offsets at most a canvas apart
    assert crops_per_side((64, 64), (256, 256), 3) == 3 and crops_per_side((64, 64), (256, 256), 1) == 1


def test_channels_last_changes_speed_not_the_result(texture32):
    optim = OptimConfig(iterations=1, scales=1, lbfgs_max_iter=5)
    a = U.texture(texture32, _cfg(size=(32, 32), optim=optim))
    b = U.texture(texture32, _cfg(size=(32, 32), optim=dataclasses.replace(optim, channels_last=True)))
    # equal up to float rounding, which five L-BFGS evaluations amplify (1.1e-3 px on one x86 CPU)
    assert torch.allclose(a.image, b.image, atol=5e-3)
    assert [h["loss"] for h in a.history] == pytest.approx([h["loss"] for h in b.history], rel=1e-4)


def test_cli_schedule_flags(exemplar_file, tmp_path, capsys):
    from untrained.cli import main
    import json

    out = tmp_path / "t.png"
    assert main(["texture", str(exemplar_file), "--size", "32", "-o", str(out), "--quiet", "--scales", "2",
                 "--scale-evaluations", "6,3", "--refine-layers", "conv1_1", "--finest-layers", "conv1_2",
                 "--plateau", "0.5", "--line-search"]) == 0
    cfg = json.loads(out.with_suffix(".json").read_text())["config"]
    assert cfg["optim"]["scale_evaluations"] == [6, 3] and cfg["refine_layers"] == ["conv1_1"]
    assert cfg["finest_layers"] == ["conv1_2"] and cfg["crops"] == 2
    assert main(["texture", str(exemplar_file), "--crops", "-2", "-o", str(out), "--quiet"]) == 2
    assert "crops" in capsys.readouterr().err
    assert cfg["optim"]["plateau"] == 0.5 and cfg["optim"]["line_search"] is True
    assert main(["texture", str(exemplar_file), "--scale-evaluations", "x", "-o", str(out)]) == 2
    assert "--scale-evaluations" in capsys.readouterr().err
    assert main(["texture", str(exemplar_file), "--optimizer", "adam", "--line-search", "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "line search needs the lbfgs optimizer" in err and "Traceback" not in err and err.count("\n") == 1


# --- issue 15: explicit settings win; defaults adapt to small inputs ---------------------------


def test_explicit_counts_are_honoured_and_lift_the_default_cap():
    """``iterations=5000, scales=1`` runs 5000 steps of 20 evaluations: the default cap (60) is
    a default, not a limit on what the user asked for.  Unset counts still get the cap."""
    unset = TextureConfig().optim
    assert unset.iterations is None and unset.scales is None and unset.lbfgs_max_iter is None
    default = TextureConfig(size=(256, 256)).resolved((256, 256)).optim
    assert (default.iterations, default.scales, default.lbfgs_max_iter) == (5, 3, 20)
    assert default.scale_evaluations == (60,) and default.evaluation_cap(2, 3) == 60
    for given in (dict(iterations=5000, scales=1), dict(lbfgs_max_iter=30)):
        optim = TextureConfig(size=(256, 256), optim=dataclasses.replace(unset, **given)).resolved((256, 256)).optim
        assert optim.scale_evaluations == ()
        assert optim.evaluation_cap(optim.scales - 1, optim.scales) == optim.iterations * optim.lbfgs_max_iter
        assert all(getattr(optim, k) == v for k, v in given.items())
    capped = dataclasses.replace(unset, iterations=50, scale_evaluations=(7,))  # caps given too: kept
    assert TextureConfig(size=(256, 256), optim=capped).resolved((256, 256)).optim.evaluation_cap(2, 3) == 7


def test_default_gram_net_is_full_width_up_to_128_px_and_a_given_net_wins():
    """Issue 15: up to 128² pixels the Gram default is the full-width net (cheap there, better
    on seven of eight exemplars); above, half width; SWD keeps half width; a net the user gave is
    used as given at any size."""
    from untrained.synth.texture import default_net

    def first(cfg, exemplar=(300, 300)):
        return cfg.resolved(exemplar).net.layers[0].channels

    assert first(TextureConfig(size=(128, 128))) == 64
    assert first(TextureConfig(size=(64, 256))) == 64  # pixels, not the side, decide
    assert first(TextureConfig(size=(129, 128))) == 32 and first(TextureConfig(size=(256, 256))) == 32
    assert first(TextureConfig(), exemplar=(100, 120)) == 64  # the size defaults to the exemplar's
    assert first(TextureConfig(size=(128, 128), loss="swd")) == 32
    assert first(TextureConfig(size=(128, 128), net=default_net("gram"))) == 32
    assert first(TextureConfig(size=(512, 512), net=default_net("gram", (128, 128)))) == 64


def test_default_scales_adapt_to_a_small_exemplar_but_explicit_ones_are_checked():
    """A 64² exemplar with defaults works (fewer scales where the loss's layers need it: the
    patch loss); the same with ``scales=3`` given is refused."""
    small = TextureConfig(size=(64, 64), loss="patch").resolved((64, 64))
    big = TextureConfig(size=(256, 256), loss="patch").resolved((256, 256))
    assert big.optim.scales == 3 and 1 <= small.optim.scales < 3
    assert TextureConfig(size=(64, 64)).resolved((64, 64)).optim.scales == 3  # the Gram default fits 3 scales
    with pytest.raises(UserError, match="coarsest of 3 scales"):
        TextureConfig(size=(64, 64), loss="patch", optim=OptimConfig(scales=3, scale_evaluations=None)).resolved((64, 64))
    blended = TextureConfig(size=(256, 256)).resolved((256, 256), 2, ((8, 8),))  # the smaller exemplar decides
    assert blended.optim.scales < 3 and TextureConfig(size=(256, 256)).resolved((8, 8)).optim.scales < 3


def test_default_patch_texture_of_a_64px_exemplar_runs_and_reports_what_ran():
    exemplar = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    r = U.texture(exemplar, seed=1, loss="patch", optim=OptimConfig(iterations=1, lbfgs_max_iter=3, scale_evaluations=None))
    assert tuple(r.image.shape) == (1, 3, 64, 64)
    assert r.stats["scale_sizes"][-1] == [64, 64] and len(r.stats["scale_sizes"]) == r.config["optim"]["scales"]
    assert sum(r.stats["scale_evaluations_run"]) == r.stats["evaluations"]
    assert all(1 <= n <= 3 for n in r.stats["scale_evaluations_run"])


def test_doodle_scales_adapt_to_a_small_map():
    from untrained.synth.doodle import DoodleConfig

    cfg = DoodleConfig(size=(64, 64)).resolved((64, 64), (64, 64))
    assert 1 <= cfg.optim.scales < 3
    assert DoodleConfig(size=(256, 256)).resolved((256, 256), (256, 256)).optim.scales == 3


def test_blog_schedule_and_projected_bounds():
    from untrained.synth.loop import blog_schedule, project, upsample

    cfg = blog_schedule(OptimConfig(channels_last=True)).resolved()
    assert (cfg.scales, cfg.iterations, cfg.lbfgs_max_iter, cfg.lbfgs_history, cfg.bounds, cfg.upsample) == \
        (4, 1, 9, 5, "project", "bicubic") and cfg.channels_last
    assert cfg.max_evaluations() == 36  # maxfun: 9 evaluations per phase
    x = torch.tensor([-0.5, 0.5, 1.5, 1.5], requires_grad=True)
    y = project(x)
    assert torch.equal(y.detach(), torch.tensor([0.0, 0.5, 1.0, 1.0]))
    y.backward(torch.tensor([1.0, 1.0, -1.0, 1.0]))
    # below 0 a positive gradient would push further out (descent goes −g): blocked; above 1 likewise for −1
    assert torch.equal(x.grad, torch.tensor([0.0, 1.0, 0.0, 1.0]))
    img = torch.rand(1, 3, 8, 8)
    assert upsample(img, (16, 16), "bicubic").shape == (1, 3, 16, 16)
    with pytest.raises(UserError, match="bounds"):
        OptimConfig(bounds="box").resolved()


def test_blog_schedule_caps_each_phase_at_its_evaluations(texture32):
    from untrained.synth.loop import blog_schedule

    r = U.texture(texture32, size=(32, 32), loss="patch", layers=("conv2_1",), net=U.nets.preset("champandard-asrun"),
                  variety=0.1, tv="doodle", smoothness=0.1, optim=blog_schedule(evaluations=4, phases=2))
    per_scale = [sum(1 for h in r.history if h["scale"] == s) for s in range(2)]
    assert max(per_scale) <= 4 and min(per_scale) >= 2
    assert float(r.image.min()) >= 0 and float(r.image.max()) <= 1


def test_style_terms_take_ready_gram_targets_for_the_gram_loss_only():
    """Target Gram matrices (the crops' mean) give the same term as the features they come from,
    blended with the same weights; another loss cannot take them."""
    from untrained.losses import gram_matrix
    from untrained.synth.common import style_terms

    a, b = (torch.rand(1, 4, 5, 5, generator=torch.Generator().manual_seed(s)) for s in (0, 1))
    from_feats = style_terms([{"conv1_1": a}, {"conv1_1": b}], "gram", 1.0, blend=(0.7, 0.3))
    from_grams = style_terms([{"conv1_1": gram_matrix(a)}, {"conv1_1": gram_matrix(b)}], "gram", 1.0,
                             blend=(0.7, 0.3), grams=True)
    assert [t.name for t in from_grams] == [t.name for t in from_feats] == ["gram:conv1_1"]
    assert torch.allclose(from_grams[0].loss.target, from_feats[0].loss.target)
    with pytest.raises(ValueError, match="gram"):
        style_terms([{"conv1_1": gram_matrix(a)}], "swd", 1.0, grams=True)


def test_net_per_scale_draws_a_fresh_net_after_the_coarsest_scale_only_when_on():
    """Issue 15: with ``net_per_scale`` (the Gram default up to 256²) every scale after the
    coarsest matches its statistics in a fresh draw of the same spec, built only as deep as its
    layers; the coarsest keeps the seed's net, and a restart redraws the fresh ones.  Off (given,
    above 256², or any other loss's default), one net serves every scale."""
    from untrained.synth.texture import TextureProblem

    exemplar = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(3))
    optim = OptimConfig(iterations=1, scales=3, lbfgs_max_iter=2)
    assert TextureConfig().resolved((64, 64)).net_per_scale is True
    assert TextureConfig(size=(256, 256)).resolved((64, 64)).net_per_scale is True
    assert TextureConfig(size=(257, 256)).resolved((64, 64)).net_per_scale is False
    assert TextureConfig(size=(512, 512), net_per_scale=True).resolved((64, 64)).net_per_scale is True
    assert TextureConfig(loss="swd").resolved((64, 64)).net_per_scale is False
    assert TextureConfig(net_per_scale=False).resolved((64, 64)).net_per_scale is False
    with pytest.raises(UserError, match="net_per_scale"):
        TextureConfig(net_per_scale="yes").resolved((64, 64))

    cfg = TextureConfig(size=(64, 64), optim=optim).resolved((48, 48))
    problem = TextureProblem(exemplar, cfg)
    (coarse, mid, fine), layers = problem.sizes, cfg.refine_layers
    assert problem.scale_net(coarse, cfg.layers) is problem.net
    nets = [problem.scale_net(mid, layers), problem.scale_net(fine, layers)]
    first = [n.convs["conv1_1"].weight for n in nets]
    assert not torch.equal(first[0], problem.net.convs["conv1_1"].weight) and not torch.equal(*first)
    assert first[0].shape == problem.net.convs["conv1_1"].weight.shape
    assert list(nets[0].convs) == ["conv1_1", "conv1_2", "conv2_1"]  # no deeper than conv2_1
    assert problem.scale_net(mid, layers) is nets[0]  # drawn once per scale
    problem.reseed(1)
    assert not torch.equal(problem.scale_net(mid, layers).convs["conv1_1"].weight, first[0])

    same = TextureProblem(exemplar, dataclasses.replace(cfg, net_per_scale=False))
    assert same.scale_net(fine, layers) is same.net
    a, b = (U.texture(exemplar, TextureConfig(size=(64, 64), optim=optim, seed=5, net_per_scale=v)).image
            for v in (True, False))
    assert not torch.equal(a, b)
    assert torch.equal(a, U.texture(exemplar, TextureConfig(size=(64, 64), optim=optim, seed=5)).image)


def test_coarse_nets_match_the_exemplar_under_several_draws_at_the_coarsest_scale(texture32):
    """Issue 15's "several nets at once": with ``coarse_nets=2`` the coarsest scale's objective
    holds every style layer twice, the second set read from a second draw of the same spec;
    the finer scales are unchanged; the run is reproducible and differs from one draw."""
    from untrained.synth.texture import TextureProblem

    cfg = _cfg(size=(32, 32), optim=OptimConfig(iterations=1, scales=2, lbfgs_max_iter=4), coarse_nets=2)
    resolved = cfg.resolved((32, 32))
    problem = TextureProblem([texture32], resolved)
    coarse, fine = problem.objective((16, 16), 0.5), problem.objective((32, 32), 1.0)
    assert [t.layer for t in coarse.terms] == ["conv1_1", "conv2_1", "conv1_1#2", "conv2_1#2"]
    assert coarse.layers == ["conv1_1", "conv1_1#2", "conv2_1", "conv2_1#2"]
    assert [t.layer for t in fine.terms] == ["conv1_1", "conv2_1"]
    second = problem.coarse_draws()[1]
    assert not torch.equal(second.convs["conv1_1"].weight, problem.net.convs["conv1_1"].weight)
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert torch.equal(coarse.net(image, ["conv2_1#2"])["conv2_1#2"], second(image, ["conv2_1"])["conv2_1"])
    one, two, again = (U.texture(texture32, c) for c in (dataclasses.replace(cfg, coarse_nets=1), cfg, cfg))
    assert torch.equal(two.image, again.image) and not torch.equal(one.image, two.image)
    for bad in (0, 1.5, True):
        with pytest.raises(UserError, match="coarse_nets"):
            dataclasses.replace(cfg, coarse_nets=bad).resolved((32, 32))


def test_default_coarse_nets_depend_on_the_size_and_a_given_count_wins():
    """Two draws at the coarsest scale by default for Gram outputs above 128² up to 256² pixels
    (the half-width net, where they were measured better), one elsewhere; a count the user gave
    is used as given, and the resolved config records what ran."""
    from untrained.synth.texture import default_coarse_nets

    assert default_coarse_nets("gram", (256, 256)) == default_coarse_nets("gram", (129, 128)) == 2
    assert default_coarse_nets("gram", (128, 128)) == default_coarse_nets("gram", (257, 256)) == 1
    assert default_coarse_nets("patch", (256, 256)) == default_coarse_nets("swd", (256, 256)) == 1
    assert TextureConfig(size=(256, 256)).resolved((300, 300)).coarse_nets == 2
    assert TextureConfig(size=(512, 512)).resolved((300, 300)).coarse_nets == 1
    assert TextureConfig(size=(256, 256), coarse_nets=1).resolved((300, 300)).coarse_nets == 1
    assert TextureConfig(size=(512, 512), coarse_nets=3).resolved((300, 300)).coarse_nets == 3
