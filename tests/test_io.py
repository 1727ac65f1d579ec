import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from untrained.errors import UserError
from untrained.io import check_writable, load_image, read_config, save_image, sidecar_path


def _rgb_array(h=12, w=20):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_rgb_roundtrip(tmp_path):
    arr = _rgb_array()
    Image.fromarray(arr).save(tmp_path / "a.png")
    t = load_image(tmp_path / "a.png")
    assert t.shape == (1, 3, 12, 20) and t.dtype == torch.float32
    assert torch.equal((t[0].permute(1, 2, 0) * 255).round().byte(), torch.from_numpy(arr))


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "1"])
def test_modes_become_rgb_in_unit_range(tmp_path, mode):
    base = Image.fromarray(_rgb_array())
    if mode == "I;16":
        img = Image.fromarray((np.arange(240, dtype=np.uint16).reshape(12, 20) * 273))
        ext = "png"
    else:
        img = base.convert(mode)
        ext = "jpg" if mode == "CMYK" else "png"
    path = tmp_path / f"x.{ext}"
    img.save(path)
    t = load_image(path)
    assert t.shape == (1, 3, 12, 20)
    assert 0 <= float(t.min()) and float(t.max()) <= 1


def test_sixteen_bit_uses_full_range(tmp_path):
    arr = np.full((4, 4), 65535, dtype=np.uint16)
    arr[0, 0] = 0
    Image.fromarray(arr).save(tmp_path / "w.png")
    t = load_image(tmp_path / "w.png")
    assert float(t.max()) == pytest.approx(1.0) and float(t.min()) == 0.0


def test_palette_with_transparency(tmp_path):
    img = Image.fromarray(_rgb_array()).convert("P")
    img.info["transparency"] = 0
    img.save(tmp_path / "p.png", transparency=0)
    assert load_image(tmp_path / "p.png").shape == (1, 3, 12, 20)


def test_exif_rotation_is_applied(tmp_path):
    img = Image.fromarray(_rgb_array(10, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif.tobytes())
    assert load_image(tmp_path / "r.jpg").shape == (1, 3, 30, 10)


@pytest.mark.parametrize(
    "content, message",
    [(None, "no such file"), (b"", "empty"), (b"hello, I am text", "not an image")],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(tmp_path, fmt):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, format=fmt)
    path = tmp_path / f"t.{fmt.lower()}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(UserError, match="damaged or truncated"):
        load_image(path)


def test_decompression_bomb_refused(tmp_path):
    Image.new("L", (300, 300)).save(tmp_path / "big.png")
    with pytest.raises(UserError, match="decompression bomb"):
        load_image(tmp_path / "big.png", max_pixels=1000)


def test_save_writes_png_metadata_and_json(tmp_path):
    img = torch.rand(1, 3, 8, 9)
    config = {"task": "texture", "seed": 3, "net": {"name": "vgg19"}}
    out = save_image(tmp_path / "sub" / "o.png", img, config, {"stats": {"seconds": 1.5}})
    assert out.exists() and sidecar_path(out).exists()
    assert read_config(out) == config
    side = json.loads(sidecar_path(out).read_text())
    assert side["config"] == config and side["stats"]["seconds"] == 1.5
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    back = load_image(out)
    assert (back - img).abs().max() <= 0.5 / 255 + 1e-6


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    out = save_image(tmp_path / "m.png", torch.rand(1, 3, 4, 4), {"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    for p in (out, sidecar_path(out)):
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


def test_save_is_deterministic(tmp_path):
    img = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    save_image(tmp_path / "a.png", img, {"a": 1}, {"seconds": 1})
    save_image(tmp_path / "b.png", img, {"a": 1}, {"seconds": 2})
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_read_config_of_foreign_png(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "f.png", pnginfo=PngImagePlugin.PngInfo())
    with pytest.raises(UserError, match="no untrained configuration"):
        read_config(tmp_path / "f.png")


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "new" / "dir" / "x.png").parent.is_dir()
    with pytest.raises(UserError, match=r"\.png"):
        check_writable(tmp_path / "x.jpg")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(UserError, match="is a directory"):
        check_writable(tmp_path / "d.png")
