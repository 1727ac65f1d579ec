"""Compare the texture losses (gram, swd, gram+spectrum, patch) with the metric suite.

Run: .venv/bin/python benchmarks/compare_losses.py [--size 128] [--images a.jpg b.jpg ...]
Uses the bundled examples and, when present, ../shared/images/textures.  Prints a Markdown
table: per image and loss, the metric suite's numbers and the wall time, all from this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import untrained as U  # noqa: E402
from untrained.metrics import texture_scores  # noqa: E402
from untrained.image import resize  # noqa: E402
from untrained.synth.loop import OptimConfig  # noqa: E402

LOSSES = ["gram", "swd", "gram+spectrum", "patch"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--images", nargs="*")
    ap.add_argument("--iterations", type=int, default=10)
    args = ap.parse_args()
    images = [Path(p) for p in args.images] if args.images else sorted((ROOT / "examples").glob("*.jpg"))
    shared = ROOT.parent / "shared" / "images" / "textures"
    if not args.images and shared.is_dir():
        images += [shared / n for n in ("2.jpg", "3.jpg", "tom.jpg")]  # 1.jpg and 4.jpg are the bundled water and ink
    torch.set_num_threads(2)
    print("| image | loss | score | swd | spectrum | color | gram_random | copy | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in images:
        exemplar = U.load_image(path)
        # the exemplar at twice the output's size keeps the texture's scale comparable across images
        exemplar = resize(exemplar, (2 * args.size, 2 * args.size)) if min(exemplar.shape[-2:]) > 2 * args.size else exemplar
        for loss in LOSSES:
            start = time.perf_counter()
            r = U.texture(exemplar, size=(args.size, args.size), loss=loss,
                          optim=OptimConfig(iterations=args.iterations, scales=2))
            seconds = time.perf_counter() - start
            s = texture_scores(r.image, exemplar)
            print(f"| {path.name} | {loss} | {s['score']:.3f} | {s['swd']:.3f} | {s['spectrum']:.3f} | "
                  f"{s['color']:.3f} | {s['gram_random']:.4f} | {s['copy']:.2f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
