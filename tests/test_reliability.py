"""Bad input, odd-but-valid input, resource limits and fuzzing (issue #9)."""

import string

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from untrained.cli import main, parse_size
from untrained.errors import UserError
from untrained.io import load_image, save_image
from untrained.nets import preset
from untrained.resources import check_memory, estimate_bytes

from conftest import make_texture

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _one_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("untrained: error:") and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("size", [1, 3])
def test_tiny_exemplars_are_refused_clearly(tmp_path, capsys, size):
    save_image(tmp_path / "tiny.png", torch.rand(1, 3, size, size))
    assert main(["texture", str(tmp_path / "tiny.png"), "--size", "64", "-o", str(tmp_path / "o.png"), "--quiet"]) == 2
    line = _one_line(capsys)
    assert "exemplar" in line and "px" in line


def test_a_3px_output_with_a_shallow_layer_works(tmp_path):
    save_image(tmp_path / "e.png", torch.rand(1, 3, 16, 16))
    assert main(["texture", str(tmp_path / "e.png"), "--size", "3", "--scales", "1", "--layers", "conv1_1",
                 "--iterations", "1", "--lbfgs-max-iter", "2", "-o", str(tmp_path / "o.png"), "--quiet"]) == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 3, 3)


def test_huge_size_is_refused_with_an_estimate(exemplar_file, tmp_path, capsys):
    assert main(["texture", str(exemplar_file), "--size", "99999", "-o", str(tmp_path / "o.png"), "--quiet"]) == 2
    line = _one_line(capsys)
    assert "GiB" in line and "available" in line


def test_memory_estimate_grows_with_pixels():
    net, layers = preset("vgg19"), ["conv1_1", "conv2_1", "conv3_1"]
    small, large = estimate_bytes(net, layers, (256, 256)), estimate_bytes(net, layers, (512, 512))
    assert 3.5 < (large - (300 << 20)) / (small - (300 << 20)) < 4.5
    assert check_memory(net, layers, (64, 64)) > 0
    with pytest.raises(UserError, match="GiB"):
        check_memory(net, layers, (60000, 60000))


def test_a_header_claiming_30000_squared_is_refused(tmp_path, capsys):
    """A real decompression-bomb header: a tiny PNG whose IHDR claims 30000×30000 pixels."""
    import io
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", 30000, 30000)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    with pytest.raises(UserError, match="30000×30000"):
        load_image(tmp_path / "bomb.png")
    assert main(["texture", str(tmp_path / "bomb.png"), "-o", str(tmp_path / "o.png")]) == 2
    assert "decompression bomb" in _one_line(capsys)


def test_unknown_loss_suggests(exemplar_file, tmp_path, capsys):
    assert main(["texture", str(exemplar_file), "--loss", "swd+spectrun", "-o", str(tmp_path / "o.png")]) == 2
    assert "did you mean 'swd+spectrum'" in _one_line(capsys)


def test_directory_as_input(tmp_path, capsys):
    assert main(["texture", str(tmp_path), "-o", str(tmp_path / "o.png")]) == 2
    assert "directory" in _one_line(capsys)


# --- fuzzing -----------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=2048))
def test_fuzz_loader_random_bytes(tmp_path, data):
    path = tmp_path / "f.png"
    path.write_bytes(data)
    try:
        img = load_image(path)
    except UserError:
        return
    assert img.dim() == 4 and img.shape[1] == 3 and 0 <= float(img.min()) and float(img.max()) <= 1


@FUZZ
@given(mode=st.sampled_from(["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I", "F", "I;16"]),
       w=st.integers(1, 40), h=st.integers(1, 40), fmt=st.sampled_from(["PNG", "TIFF", "BMP", "JPEG", "GIF", "WEBP"]),
       seed=st.integers(0, 2**16))
def test_fuzz_loader_every_mode_and_format(tmp_path, mode, w, h, fmt, seed):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode)
    path = tmp_path / f"x.{fmt.lower()}"
    try:
        img.save(path, format=fmt)
    except (OSError, ValueError, KeyError):
        return  # this format cannot store this mode: nothing to read
    t = load_image(path)
    assert t.shape[1] == 3 and tuple(t.shape[-2:]) in {(h, w), (w, h)}
    assert torch.isfinite(t).all() and 0 <= float(t.min()) and float(t.max()) <= 1
    if mode in ("RGB", "L", "P", "RGBA", "LA") and fmt in ("PNG", "BMP", "TIFF", "GIF"):
        # lossless 8-bit: the very pixels Pillow decodes, as RGB, divided by 255
        with Image.open(path) as back:
            want = np.asarray(back.convert("RGBA").convert("RGB"), dtype=np.float32) / 255
        got = t[0].permute(1, 2, 0).numpy()
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-6


@FUZZ
@given(text=st.text(alphabet=string.printable + "×", max_size=12))
def test_fuzz_parse_size(text):
    import argparse

    try:
        h, w = parse_size(text)
    except argparse.ArgumentTypeError:
        return
    assert h >= 1 and w >= 1


FLAG_VALUES = st.sampled_from(["0", "-1", "nan", "inf", "1e9", "abc", "", "3", "0.5", "x:y", "uniform:", "relu", "vgg19",
                               "conv1_1", ",", "64x", "lrelu:nan", "binary:-0.1", "levels:0.1:1.5", "designed:1"])
FLAGS = st.sampled_from(["--size", "--seed", "--iterations", "--scales", "--layers", "--style-weight", "--smoothness",
                         "--optimizer", "--lr", "--net", "--weights", "--bias", "--activation", "--downsample", "--width",
                         "--depth", "--kernel", "--kernels", "--padding", "--pyramid", "--init", "--loss", "--variety",
                         "--save-every", "--lbfgs-max-iter", "--greedy"])


@FUZZ
@given(pairs=st.lists(st.tuples(FLAGS, FLAG_VALUES), max_size=4))
def test_fuzz_texture_flags_never_trace(tmp_path, capsys, monkeypatch, pairs):
    """Any flag soup ends in exit 0 or one error line.  The exemplar exists, so every flag is
    read, the config resolved and the net built; only the optimisation itself is skipped."""
    exemplar = tmp_path / "ex.png"
    if not exemplar.exists():
        save_image(exemplar, make_texture(24))
    ran = []
    monkeypatch.setattr("untrained.cli.texture.run_synthesis",
                        lambda args, synthesis, *rest, **kw: ran.append(synthesis) or 0)
    argv = ["texture", str(exemplar), "-o", str(tmp_path / "o.png"), "--quiet"]
    for flag, value in pairs:
        argv += [flag, value]
    code = main(argv)
    assert code in (0, 2)
    if code == 0:
        assert len(ran) == 1 and capsys.readouterr().err == ""
    else:
        assert not ran
        _one_line(capsys)


@FUZZ
@given(pairs=st.lists(st.tuples(FLAGS.filter(lambda f: f not in ("--size", "--seed", "--iterations", "--scales", "--layers",
                                                                 "--style-weight", "--smoothness", "--optimizer", "--lr",
                                                                 "--init", "--loss", "--variety", "--save-every",
                                                                 "--lbfgs-max-iter", "--greedy")), FLAG_VALUES), max_size=3))
def test_fuzz_net_flags_never_trace(capsys, pairs):
    argv = ["nets", "vgg19-tutorial"]
    for flag, value in pairs:
        argv += [flag, value]
    code = main(argv)
    capsys.readouterr() if code == 0 else _one_line(capsys)
    assert code in (0, 2)
