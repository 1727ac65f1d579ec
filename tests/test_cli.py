import json
import subprocess
import sys

import pytest

from untrained.cli import main
from untrained.errors import UserError
from untrained.io import read_config

FAST_OPTS = {"--size": "32x24", "--layers": "conv1_1,conv2_1", "--iterations": "1", "--scales": "2", "--lbfgs-max-iter": "4"}
FAST = [x for kv in FAST_OPTS.items() for x in kv] + ["--quiet"]


def fast(*overrides: str) -> list[str]:
    """FAST with the flags in *overrides* (flag, value pairs) replacing its own."""
    opts = dict(FAST_OPTS)
    pairs = list(overrides)
    while pairs:
        flag, value = pairs.pop(0), pairs.pop(0)
        opts[flag] = value
    return [x for kv in opts.items() for x in kv] + ["--quiet"]


def _one_error_line(capsys, code, expected_code=2):
    out = capsys.readouterr()
    assert code == expected_code
    lines = [l for l in out.err.strip().splitlines() if l]
    assert len(lines) == 1, out.err
    assert lines[0].startswith("untrained: error:")
    assert "Traceback" not in out.err
    return lines[0]


def test_texture_end_to_end(exemplar_file, tmp_path, capsys):
    out = tmp_path / "res" / "t.png"
    assert main(["texture", str(exemplar_file), "-o", str(out), "--seed", "5", *FAST]) == 0
    cfg = read_config(out)
    assert cfg["task"] == "texture" and cfg["seed"] == 5 and cfg["size"] == [24, 32]
    assert cfg["layers"] == ["conv1_1", "conv2_1"] and cfg["net"]["name"] == "vgg19"
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["config"] == cfg and side["stats"]["evaluations"] > 0 and side["loss_history"]
    assert capsys.readouterr().err == ""  # --quiet


def test_texture_progress_and_frames(exemplar_file, tmp_path, capsys):
    out = tmp_path / "t.png"
    args = [a for a in FAST if a != "--quiet"]
    assert main(["texture", str(exemplar_file), "-o", str(out), "--save-every", "2", *args]) == 0
    err = capsys.readouterr().err
    assert "eval" in err and "wrote" in err
    assert len(list((tmp_path / "t_frames").glob("*.png"))) >= 2


def test_cli_is_deterministic(exemplar_file, tmp_path):
    for name in ("a", "b"):
        assert main(["texture", str(exemplar_file), "-o", str(tmp_path / f"{name}.png"), *FAST]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.parametrize(
    "setup, args, fragment",
    [
        (None, [], "no such file"),
        (b"", [], "empty"),
        (b"not an image at all", [], "not an image"),
        ("ok", ["--size", "0"], "--size"),
        ("ok", ["--size", "12xab"], "--size"),
        ("ok", ["--style-weight", "nan"], "finite"),
        ("ok", ["--smoothness", "-2"], "smoothness"),
        ("ok", ["--net", "vgg91"], "did you mean 'vgg19'"),
        ("ok", ["--layers", "conv1_1,cnv2_1"], "did you mean"),
        ("ok", ["--weights", "unifrom:0.1"], "did you mean 'uniform'"),
        ("ok", ["--optimizer", "adma"], "did you mean 'adam'"),
        ("ok", ["--iterations", "0"], "iterations"),
        ("ok", ["--scales", "9"], "coarsest"),
        ("ok", ["--siz", "3"], "unrecognized"),
        ("ok", ["-o", "out.jpg"], ".png"),
    ],
)
def test_bad_input_one_line(tmp_path, exemplar_file, capsys, setup, args, fragment):
    if setup is None:
        path = tmp_path / "missing.png"
    elif setup == "ok":
        path = exemplar_file
    else:
        path = tmp_path / "bad.png"
        path.write_bytes(setup)
    args = args if "-o" in args else ["-o", str(tmp_path / "o.png"), *args]
    line = _one_error_line(capsys, main(["texture", str(path), *fast(*args)]))
    assert fragment in line


def test_unwritable_output_fails_before_work(exemplar_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = _one_error_line(capsys, main(["texture", str(exemplar_file), "-o", str(blocker / "o.png"), *FAST]))
    assert "cannot create folder" in line


def test_debug_shows_traceback(tmp_path):
    with pytest.raises(UserError, match="missing.png: no such file"):
        main(["texture", str(tmp_path / "missing.png"), "--debug"])


def test_ctrl_c_saves_best_image(exemplar_file, tmp_path, monkeypatch, capsys):
    from untrained.objective import Objective

    forward, calls = Objective.forward, {"n": 0}

    def interrupt_later(self, image):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return forward(self, image)

    monkeypatch.setattr(Objective, "forward", interrupt_later)
    out = tmp_path / "i.png"
    assert main(["texture", str(exemplar_file), "-o", str(out), *FAST]) == 130
    assert out.exists() and json.loads(out.with_suffix(".json").read_text())["interrupted"] is True
    assert "interrupted" in capsys.readouterr().err


def test_nets_listing(capsys):
    assert main(["nets"]) == 0
    listing = capsys.readouterr().out
    assert "vgg19" in listing
    lines = {line.split()[0]: line for line in listing.splitlines()}
    assert "AS IT RAN" in lines["champandard-asrun"] and "AS THE POST LISTS IT" in lines["champandard-listed"]
    assert main(["nets", "champandard"]) == 0
    out = capsys.readouterr().out
    assert "conv4_3" in out and '"name": "champandard"' in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "texture" in capsys.readouterr().err


def test_python_dash_m():
    res = subprocess.run([sys.executable, "-m", "untrained", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "untrained" in res.stdout


def test_default_texture_net_is_half_width_vgg19_above_128_full_up_to_it_and_quality_high_is_full(exemplar_file, tmp_path):
    """Issue 15: full width up to 128² (cheap there, better on seven of eight exemplars), half
    above; an explicit --width wins at any size."""
    out = tmp_path / "q.png"
    one_eval = ("--layers", "conv1_1", "--scales", "1", "--iterations", "1", "--lbfgs-max-iter", "1")
    assert main(["texture", str(exemplar_file), "-o", str(out), *fast("--size", "129x128", *one_eval)]) == 0
    cfg = read_config(out)
    assert cfg["net"]["layers"][0]["channels"] == 32 and cfg["net"]["weights"] == "binary:0.1"
    assert main(["texture", str(exemplar_file), "-o", str(out), *fast("--size", "128", *one_eval)]) == 0
    assert read_config(out)["net"]["layers"][0]["channels"] == 64
    assert main(["texture", str(exemplar_file), "-o", str(out), *fast(*one_eval), "--width", "0.5"]) == 0
    assert read_config(out)["net"]["layers"][0]["channels"] == 32
    assert main(["texture", str(exemplar_file), "-o", str(out), "--quality", "high", "--size", "24", "--scales", "1",
                 "--layers", "conv1_1", "--lbfgs-max-iter", "1", "--quiet"]) == 0
    cfg = read_config(out)
    assert cfg["net"]["layers"][0]["channels"] == 64 and cfg["optim"]["iterations"] == 10


def test_texture_net_per_scale_flag_wins_and_is_recorded(exemplar_file, tmp_path):
    """Issue 15: the Gram texture draws a fresh net per scale unless --no-net-per-scale says
    otherwise; patch textures do not unless --net-per-scale says so; the JSON records what ran."""
    out = tmp_path / "n.png"
    small = ("--size", "24", "--layers", "conv1_1", "--scales", "2", "--iterations", "1", "--lbfgs-max-iter", "1")
    patch = ("--loss", "patch", "--net", "vgg19")
    runs = [((), (), True), ((), ("--no-net-per-scale",), False), (patch, (), False), (patch, ("--net-per-scale",), True)]
    for pairs, flags, expected in runs:
        assert main(["texture", str(exemplar_file), "-o", str(out), *fast(*small, *pairs), *flags]) == 0
        assert read_config(out)["net_per_scale"] is expected, (pairs, flags)


def test_texture_coarse_nets_default_by_size_flag_wins_and_quality_high_uses_one(exemplar_file, tmp_path, capsys):
    """Issue 15: two net draws at the coarsest scale for Gram outputs above 128² up to 256²,
    one otherwise and with --quality high (as measured); --coarse-nets wins; the JSON records it."""
    out = tmp_path / "c.png"
    one_eval = ("--layers", "conv1_1", "--scales", "1", "--iterations", "1", "--lbfgs-max-iter", "1")
    runs = [(("--size", "129x128"), 2), (("--size", "128"), 1), (("--size", "129x128", "--coarse-nets", "3"), 3),
            (("--size", "129x128", "--quality", "high"), 1),
            (("--size", "129x128", "--quality", "high", "--coarse-nets", "2"), 2)]
    for flags, expected in runs:
        assert main(["texture", str(exemplar_file), "-o", str(out), *fast(*one_eval), *flags]) == 0
        assert read_config(out)["coarse_nets"] == expected, flags
    assert main(["texture", str(exemplar_file), "-o", str(out), *fast(*one_eval), "--coarse-nets", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "coarse_nets must be a whole number" in err[0]


def test_unknown_quality(exemplar_file, tmp_path, capsys):
    assert main(["texture", str(exemplar_file), "-o", str(tmp_path / "o.png"), "--quality", "ultra", "--quiet"]) == 2
    assert "unknown quality" in capsys.readouterr().err


def test_texture_explicit_counts_win_and_the_json_says_what_ran(exemplar_file, tmp_path):
    """Issue 15: ``--iterations N --scales 1`` runs N steps (no default cap), and the JSON beside
    the output gives the evaluations each scale actually ran and its size."""
    out = tmp_path / "e.png"
    assert main(["texture", str(exemplar_file), "-o", str(out), "--size", "24", "--layers", "conv1_1",
                 "--iterations", "4", "--scales", "1", "--quiet"]) == 0
    side = json.loads(out.with_suffix(".json").read_text())
    optim = side["config"]["optim"]
    assert optim["iterations"] == 4 and optim["scales"] == 1 and optim["lbfgs_max_iter"] == 20
    assert optim["scale_evaluations"] == []  # the default cap (60) would have stopped it at 60 of 80
    assert side["stats"]["scale_sizes"] == [[24, 24]]
    assert side["stats"]["scale_evaluations_run"] == [side["stats"]["evaluations"]]
    assert main(["texture", str(exemplar_file), "-o", str(out), "--size", "24", "--layers", "conv1_1", "--quiet",
                 "--iterations", "1", "--lbfgs-max-iter", "2"]) == 0
    cfg = read_config(out)
    assert cfg["optim"]["scales"] == 3 and cfg["net"]["padding"] == "zeros" and cfg["net"]["weights"] == "binary:0.1"
