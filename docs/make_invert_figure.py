"""Regenerate docs/images/invert_layers.png and print the README's inversion table.

    .venv/bin/python docs/make_invert_figure.py [--image examples/ink.jpg] [--size 128]

The image, then its reconstructions from conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 and pool5
of the default random VGG-19 (He et al. 2016 §3), each from white noise with the default
inversion settings (10 L-BFGS steps of up to 20 evaluations, per-term normalisation).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

import untrained as U  # noqa: E402
from untrained.io import save_image  # noqa: E402
from untrained.image import resize  # noqa: E402

LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1", "pool5")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default=str(ROOT / "examples" / "ink.jpg"))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--output", default=str(ROOT / "docs" / "images" / "invert_layers.png"))
    args = ap.parse_args()
    image = U.load_image(args.image)
    size = (args.size, args.size)
    rows, tiles = [], []
    for layer in LAYERS:
        start = time.perf_counter()
        result = U.invert(image, layer=layer, size=size)
        seconds = time.perf_counter() - start
        rows.append((layer, result.stats["scores"], result.stats["evaluations"], seconds))
        tiles.append(result.image)
    save_image(args.output, torch.cat([resize(image, size)] + tiles, dim=-1))
    print("| layer | " + " | ".join(r[0] for r in rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    print("| PSNR (dB) | " + " | ".join(f"{r[1]['psnr']:.1f}" for r in rows) + " |")
    print("| SSIM | " + " | ".join(f"{r[1]['ssim']:.2f}" for r in rows) + " |")
    print("| evaluations / seconds | " + " | ".join(f"{r[2]} / {r[3]:.1f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
