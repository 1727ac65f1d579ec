"""``--device`` on the command line (issue #18): every task, score and sweep take it; a missing
device is refused in one line before any work; the JSON beside the output records the device,
the config (the run's identity) does not."""

from __future__ import annotations

import json

import pytest
import torch

from untrained.cli import main
from untrained.io import read_config

FAST = ["--size", "32x24", "--layers", "conv1_1,conv2_1", "--iterations", "1", "--scales", "1",
        "--lbfgs-max-iter", "3", "--quiet"]
CUDA = torch.cuda.is_available()


def _error_line(capsys, code):
    err = capsys.readouterr().err
    lines = [l for l in err.strip().splitlines() if l]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("untrained: error:"), err
    return lines[0]


def test_texture_on_cpu_records_the_device_beside_the_output(exemplar_file, tmp_path):
    out = tmp_path / "t.png"
    assert main(["texture", str(exemplar_file), "-o", str(out), "--device", "cpu", *FAST]) == 0
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["stats"]["device"] == "cpu"
    assert "device" not in json.dumps(read_config(out))


@pytest.mark.skipif(CUDA, reason="CUDA is present")
@pytest.mark.parametrize("command", ["texture", "invert", "style", "score"])
def test_missing_cuda_is_one_line_for_every_command(command, exemplar_file, tmp_path, capsys):
    args = {"texture": [str(exemplar_file)], "invert": [str(exemplar_file), "--layer", "conv1_1"],
            "style": [str(exemplar_file), str(exemplar_file)],
            "score": [str(exemplar_file), str(exemplar_file)]}[command]
    extra = ["--iterations", "1", "--scales", "1", "--quiet"] if command != "score" else []
    if command != "score":
        args += ["-o", str(tmp_path / "o.png")]
    line = _error_line(capsys, main([command, *args, "--device", "cuda", *extra]))
    assert "cuda" in line and "--device cpu" in line
    assert not (tmp_path / "o.png").exists()


def test_unknown_device_is_one_line(exemplar_file, tmp_path, capsys):
    line = _error_line(capsys, main(["texture", str(exemplar_file), "-o", str(tmp_path / "o.png"),
                                     "--device", "tpu", *FAST]))
    assert "unknown device 'tpu'" in line


def test_score_takes_a_device(exemplar_file, capsys):
    assert main(["score", str(exemplar_file), str(exemplar_file), "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["gram_random"] == 0.0


@pytest.mark.skipif(CUDA, reason="CUDA is present")
def test_sweep_refuses_a_missing_device_before_any_run(tmp_path, exemplar_file, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(f'task = "texture"\n[inputs]\nexemplar = "{exemplar_file}"\n'
                    '[base]\nsize = [32, 32]\n[grid]\nseed = [0, 1]\n')
    line = _error_line(capsys, main(["sweep", str(spec), "-o", str(tmp_path / "sw"), "--device", "cuda", "--quiet"]))
    assert "cuda" in line
    assert not (tmp_path / "sw" / "runs").exists()
