"""Reading and writing images.

:func:`load_image` turns anything Pillow reads (grey, palette, RGBA, 16-bit, CMYK,
EXIF-rotated) into a float RGB tensor of shape ``(1, 3, H, W)`` in ``[0, 1]``.
:func:`save_image` writes a PNG atomically (temporary file, then rename) with the run's
configuration as PNG text metadata, and the same configuration as JSON beside it.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from .errors import UserError

#: Largest image (in pixels) accepted on input; bigger headers are treated as decompression bombs.
MAX_PIXELS = 8192 * 8192
#: Key of the PNG text chunk holding the resolved configuration.
PNG_CONFIG_KEY = "untrained:config"


def _to_float_array(img: Image.Image) -> np.ndarray:
    """H×W×3 float32 array in [0, 1] from a Pillow image of any mode."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 or mode.startswith("I;16") else 255.0
        grey = np.clip(arr / peak, 0, 1)
        return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        peak = max(float(arr.max(initial=0)), 1.0)
        grey = np.clip(arr / peak, 0, 1)
        return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparency is dropped: the colour under the alpha is what the exemplar shows.
        img = img.convert("RGBA").convert("RGB")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.float32) / 255.0


def _header_size(path: Path) -> tuple[int, int] | None:
    """The (width, height) an image file's header claims, read by Pillow's format plugins
    without ``Image.open``'s bomb check (whose limit is process-wide, so left as it is)."""
    Image.init()
    with open(path, "rb") as fh:
        prefix = fh.read(16)
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            if accept is not None and not accept(prefix):
                continue
            fh.seek(0)
            try:
                return tuple(factory(fh, str(path)).size)
            except Exception:  # noqa: BLE001 - not this format
                continue
    return None


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """Load an image file as a ``(1, 3, H, W)`` float32 tensor in ``[0, 1]``.

    EXIF orientation is applied, transparency is dropped, grey and 16-bit images are expanded to
    RGB.  Any failure (missing, empty, truncated, not an image, too large) is a
    :class:`~untrained.errors.UserError` with one readable line.
    """
    p = Path(path)
    if not p.exists():
        raise UserError(f"cannot read {p}: no such file")
    if p.is_dir():
        raise UserError(f"cannot read {p}: it is a directory")
    if p.stat().st_size == 0:
        raise UserError(f"cannot read {p}: the file is empty")
    try:
        # Our limit (below Pillow's) is checked on the header's size, so the refusal names it;
        # Pillow's own bomb check stays as it is (it is process-wide: the library leaves it be).
        with Image.open(p) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise UserError(
                    f"cannot read {p}: the header claims {w}×{h} pixels, more than the {max_pixels:,} allowed "
                    "(a decompression bomb, or simply too large: downscale it first)"
                )
            img.load()
            img = ImageOps.exif_transpose(img)
            arr = _to_float_array(img)
    except UserError:
        raise
    except UnidentifiedImageError:
        raise UserError(f"cannot read {p}: not an image file Pillow recognises") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        size = _header_size(p)
        claim = f"the header claims {size[0]}×{size[1]} pixels" if size else str(exc)
        raise UserError(f"cannot read {p}: refused as a decompression bomb ({claim})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UserError(f"cannot read {p}: damaged or truncated image ({exc})") from None
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UserError(f"cannot read {p}: image has no pixels")
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_pil(image: torch.Tensor) -> Image.Image:
    """An 8-bit RGB Pillow image from a ``(1, 3, H, W)`` or ``(3, H, W)`` tensor in [0, 1]."""
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ValueError(f"expected a single image, got a batch of {image.shape[0]}")
        image = image[0]
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an RGB image tensor (3, H, W), got {tuple(image.shape)}")
    arr = (image.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).cpu().numpy(), mode="RGB")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write *data* to *path* through a temporary file in the same folder and a rename.

    A crash or kill leaves either the old file or the new one, never a torn one.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.parent / f".{p.name}.{secrets.token_hex(6)}.tmp"
    # created 0666 less the umask, by the kernel: outputs get the usual mode, and the process's
    # umask is never touched (reading it means setting it)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write *obj* as indented, key-sorted JSON atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON file that accompanies an output image: ``out.png`` → ``out.json``."""
    return Path(path).with_suffix(".json")


def save_image(
    path: str | os.PathLike,
    image: torch.Tensor,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save *image* as a PNG at *path*, atomically, and return the path.

    *config* (the resolved, deterministic configuration) goes into the PNG as a text chunk and,
    with *extra* (timings, final losses and other facts of this run), into ``path.json``.  The PNG
    bytes depend only on the pixels and *config*, so the same inputs and seed give the same file.
    """
    import io as _io

    p = Path(path)
    info = PngImagePlugin.PngInfo()
    if config is not None:
        info.add_text(PNG_CONFIG_KEY, json.dumps(config, sort_keys=True))
    buf = _io.BytesIO()
    to_pil(image).save(buf, format="PNG", pnginfo=info)
    atomic_write_bytes(p, buf.getvalue())
    if config is not None or extra is not None:
        atomic_write_json(sidecar_path(p), {"config": config or {}, **(dict(extra) if extra else {})})
    return p


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """The configuration stored in a PNG written by :func:`save_image`."""
    with Image.open(path) as img:
        text = img.text.get(PNG_CONFIG_KEY) if hasattr(img, "text") else None
    if text is None:
        raise UserError(f"{path} carries no untrained configuration")
    return json.loads(text)


def check_writable(path: str | os.PathLike) -> Path:
    """Create the parent folder of output *path* if needed and check it can be written.

    Called before any work so a bad ``-o`` fails in a second, not after the synthesis.
    """
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise UserError(f"output {p}: must end in .png")
    if p.is_dir():
        raise UserError(f"output {p}: is a directory")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"output {p}: cannot create folder {p.parent} ({exc.strerror})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".untrained-check.", dir=p.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UserError(f"output {p}: folder {p.parent} is not writable ({exc.strerror})") from None
    return p


def load_alpha(path: str | os.PathLike) -> torch.Tensor | None:
    """The alpha channel of an image file as ``(1, 1, H, W)`` in [0, 1], or ``None`` when it has
    no transparency (repair reads the hole of an RGBA target from it: transparent = repair)."""
    p = Path(path)
    load_image(p)  # the same checks and one-line errors as any input
    with Image.open(p) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode not in ("RGBA", "LA", "PA") and not (img.mode == "P" and "transparency" in img.info):
            return None
        alpha = np.asarray(img.convert("RGBA"), dtype=np.float32)[..., 3] / 255.0
    return torch.from_numpy(np.ascontiguousarray(alpha))[None, None]
