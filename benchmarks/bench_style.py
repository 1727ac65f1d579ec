"""Speed of the default `untrained style` against the same run with every SWD direction, in one
process and one sitting (issue 16: the default draws half as many random directions per step
as a layer has channels, ``--swd-directions 0.5``; Heitz et al. draw one per channel).

    .venv/bin/python benchmarks/bench_style.py [--content docs/images/photos/chelsea.jpg]
                                               [--style ../shared/images/doodle/Gogh.jpg]
                                               [--sizes 256 512] [--seeds 0 1] [--threads 2]

For each size, seed and direction count: wall seconds, evaluations, `score` against the style and
content SSIM (metrics.style_scores); then, per size, the median time ratio full / default.  The
arms alternate, so a change of load hits both.  Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import untrained as U  # noqa: E402
from untrained.image import resize  # noqa: E402
from untrained.metrics import style_scores  # noqa: E402

ARMS = {"default (0.5)": 0.5, "every direction (1)": 1.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--content", default=str(ROOT / "docs" / "images" / "photos" / "chelsea.jpg"))
    ap.add_argument("--style", default=str(ROOT.parent / "shared" / "images" / "doodle" / "Gogh.jpg"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    content, style = U.load_image(args.content), U.load_image(args.style)
    print(f"{Path(args.content).name} + {Path(args.style).name}, {args.threads} thread(s)")
    print("| size | arm | seed | wall s | evaluations | score | content SSIM |\n|---|---|---|---|---|---|---|")
    for size in args.sizes:
        seconds: dict[str, list[float]] = {arm: [] for arm in ARMS}
        for seed in args.seeds:
            for arm, fraction in ARMS.items():
                start = time.perf_counter()
                result = U.style(content, style, size=(size, size), seed=seed, swd_directions=fraction, device="cpu")
                seconds[arm].append(time.perf_counter() - start)
                s = style_scores(result.image, resize(content, (size, size)), style)
                print(f"| {size}² | {arm} | {seed} | {seconds[arm][-1]:.1f} | {result.stats['evaluations']} | "
                      f"{s['score']:.3f} | {s['content_ssim']:.2f} |", flush=True)
        default, full = (statistics.median(v) for v in seconds.values())
        print(f"{size}²: every direction / default = {full / default:.2f}× the time (median over seeds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
