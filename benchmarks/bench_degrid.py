"""Speed of the grid notch (``untrained.image.degrid``, issue 17): its FFT path against the dense
per-axis matrices that define it (and that it used before), in one process, forward + backward
on an RGB image, as the synthesis loop runs it every evaluation.

    .venv/bin/python benchmarks/bench_degrid.py [--sizes 384x512 1024 2048] [--repeats 3]

Prints the seconds per forward + backward of each and their ratio, and the largest difference
between the two outputs.  Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from untrained.image import _notch_matrices, degrid  # noqa: E402


def dense(x: torch.Tensor, period: int = 4, sigma: float = 2.0) -> torch.Tensor:
    h, w = x.shape[-2:]
    ch, ph = _notch_matrices(h, period, sigma, False)
    cw, pw = _notch_matrices(w, period, sigma, False)
    return x - (ch @ x @ cw.T - ph @ x @ pw.T)


def seconds(f, x: torch.Tensor, repeats: int) -> float:
    f(x).sum().backward()  # warm-up (and the cached windows)
    start = time.perf_counter()
    for _ in range(repeats):
        f(x).sum().backward()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["384x512", "1024", "2048"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| size | FFT s | dense s | dense / FFT | max difference |\n|---|---|---|---|---|")
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x")) if "x" in size else (int(size), int(size))
        x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0), requires_grad=True)
        a, b = seconds(degrid, x, args.repeats), seconds(dense, x, args.repeats)
        with torch.no_grad():
            diff = float((degrid(x) - dense(x)).abs().max())
        print(f"| {h}×{w} | {a:.3f} | {b:.3f} | {b / a:.1f}× | {diff:.1e} |")


if __name__ == "__main__":
    main()
