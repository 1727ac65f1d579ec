"""The editing commands, --variations, output templates and serve on the command line (issue #19)."""

import socket

import pytest
import torch

from untrained.cli import main
from untrained.io import load_image, read_config, save_image

from conftest import make_texture

FAST = ["--iterations", "1", "--scales", "1", "--lbfgs-max-iter", "3", "--quiet"]


@pytest.fixture
def files(tmp_path):
    target, mask = tmp_path / "target.png", tmp_path / "mask.png"
    save_image(target, make_texture(40))
    m = torch.ones(1, 3, 40, 40)
    m[..., 12:28, 10:30] = 0
    save_image(mask, m)
    return target, mask


def one_error_line(capsys, text):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("untrained: error:") and text in err[0], err


def test_repair_writes_the_unmasked_pixels_unchanged(files, tmp_path):
    target, mask = files
    out = tmp_path / "out" / "fixed.png"
    assert main(["repair", str(target), "--mask", str(mask), "-o", str(out), *FAST]) == 0
    a, b = load_image(out), load_image(target)
    keep = (load_image(mask)[:, :1] > 0.5).expand_as(a)
    assert torch.equal(a[keep], b[keep]) and not torch.equal(a[~keep], b[~keep])
    config = read_config(out)
    assert config["task"] == "repair" and config["inputs"]["mask_path"] == str(mask)


def test_expand_keeps_the_target(files, tmp_path):
    target, _ = files
    out = tmp_path / "big.png"
    assert main(["expand", str(target), "--size", "72x40", "--at", "0,0", "-o", str(out), *FAST]) == 0
    assert torch.equal(load_image(out)[..., :, :40], load_image(target))


def test_enhance_doubles_the_size(files, tmp_path):
    target, _ = files
    out = tmp_path / "big.png"
    assert main(["enhance", str(target), "--zoom", "2", "-o", str(out), *FAST]) == 0
    big = load_image(out)
    assert big.shape[-2:] == (80, 80)
    assert (torch.nn.functional.avg_pool2d(big, 2) - load_image(target)).abs().mean() < 1 / 255


def test_variations_differ_and_follow_the_template(files, tmp_path):
    target, mask = files
    template = str(tmp_path / "out" / "{source}_{command}_{seed}_{size}_{variation}.png")
    assert main(["repair", str(target), "--mask", str(mask), "--variations", "2", "--seed", "5", "-o", template, *FAST]) == 0
    a, b = tmp_path / "out" / "target_repair_5_40x40_1.png", tmp_path / "out" / "target_repair_6_40x40_2.png"
    assert read_config(a)["seed"] == 5 and read_config(b)["seed"] == 6
    assert not torch.equal(load_image(a), load_image(b))


def test_variations_work_for_texture_too(files, tmp_path):
    target, _ = files
    template = str(tmp_path / "{variation}.png")
    assert main(["texture", str(target), "--size", "32", "--variations", "2", "-o", template, *FAST]) == 0
    assert not torch.equal(load_image(tmp_path / "1.png"), load_image(tmp_path / "2.png"))


@pytest.mark.parametrize("argv, text", [
    (["repair", "{target}", "--mask", "{small}"], "the mask is 20×20 px but the target is 40×40 px"),
    (["repair", "{target}", "--mask", "{white}"], "the mask is empty"),
    (["repair", "{target}"], "give a mask"),
    (["enhance", "{target}", "--zoom", "3"], "zoom must be 2 or 4, got 3"),
    (["expand", "{target}"], "expand needs the new size"),
    (["repair", "{target}", "--mask", "{mask}", "-o", "out/{name}.png"], "unknown field {name}"),
    (["repair", "{target}", "--mask", "{mask}", "--variations", "2", "-o", "out/x.png"], "needs {variation} or {seed}"),
    (["mashup", "{target}"], "at least two sources"),
])
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, capsys, argv, text):
    target, mask = files
    small, white = tmp_path / "small.png", tmp_path / "white.png"
    save_image(small, torch.zeros(1, 3, 20, 20))
    save_image(white, torch.ones(1, 3, 40, 40))
    names = dict(target=target, mask=mask, small=small, white=white)
    argv = [a.format(**names) if a.startswith("{") else a for a in argv]
    assert main(argv + FAST) == 2
    one_error_line(capsys, text)
    assert not (tmp_path / "out").exists()  # refused before any work


def test_serve_on_a_port_in_use_is_one_line(capsys):
    pytest.importorskip("uvicorn")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    one_error_line(capsys, "the port is in use")
