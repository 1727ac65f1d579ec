"""Speed of `untrained texture` against the VGG-19 Gatys baseline, in one process and one run.

    .venv/bin/python benchmarks/bench_texture.py [--exemplar examples/ink.jpg ...] [--sizes 512 1024 2048]
                                                 [--baseline strong|uniform] [--seeds 1 2 3]
                                                 [--baseline-steps 20] [--skip-baseline]
                                                 [--device cuda --baseline-sizes 256 1024 4096
                                                  --sizes 1024 4096 --peak-tflops 67]

(a) the baseline users would otherwise run: Gram synthesis with the VGG-19 layout (random
    weights), style layers conv1_1, conv2_1, conv3_1, conv4_1, conv5_1, one scale, 20 L-BFGS steps
    of up to 20 evaluations, at 256².  ``--baseline strong`` (the default) is issue 15's strong
    baseline as benchmarks/bench_quality.py runs it (full width, Kaiming-normal weights, zero
    bias, each Gram term normalised, strong-Wolfe line search); ``--baseline uniform`` is the
    older, weaker one (Du's uniform weights, bias 0.5, no line search);
(b) `untrained texture` with its defaults at 256² (and at --sizes), once per ``--seeds`` seed;
    the ratio divides (a)'s time by (b)'s median.

benchmarks/bench_quality.py measures quality as a distribution (seeds × exemplars × sizes).

For each: wall time, evaluations, ms per evaluation, achieved GFLOP/s (forward + input-gradient
convolutions, counted from the net's layer table; tiled scales, above 2048 px, run one more
forward that is not counted), its fraction of ``--peak-tflops`` when given, peak memory (resident
memory sampled on the CPU; ``torch.cuda.max_memory_allocated`` on CUDA), and the metric suite's
`score` against the exemplar; then the ratio (a)/(b) at each size both ran.  ``--device`` picks
where (auto, cpu, cuda, cuda:N, mps).  Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import untrained as U  # noqa: E402
from untrained.metrics import score  # noqa: E402
from untrained.nets.build import layer_table  # noqa: E402
from untrained.synth.loop import OptimConfig  # noqa: E402
from untrained.synth.texture import TextureConfig  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_quality import method_config  # noqa: E402  (one definition of the strong baseline)


class PeakRSS:
    """Samples this process's resident memory every 20 ms while active."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        page = 4096
        while not self._stop.is_set():
            with open("/proc/self/statm") as fh:
                self.peak = max(self.peak, int(fh.read().split()[1]) * page)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def forward_flops(cfg: TextureConfig, size: tuple[int, int], layers: tuple[str, ...]) -> float:
    """Multiply-adds ×2 of the convolutions up to the deepest of *layers*, for one image."""
    deepest = max(cfg.net.index(n) for n in layers)
    rows = layer_table(cfg.net, size)[: deepest + 1]
    return sum(2.0 * r["params"] * r["size"][0] * r["size"][1] for r in rows if r["op"] == "conv")


def run(name: str, exemplar: torch.Tensor, cfg: TextureConfig, device: torch.device) -> dict:
    cfg = cfg.resolved(tuple(exemplar.shape[-2:]))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    with PeakRSS() as mem:
        start = time.perf_counter()
        result = U.texture(exemplar, cfg, device=device)  # returns on the CPU: the GPU's work is done
        seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else mem.peak
    evals = result.stats["evaluations"]
    # evaluations per scale → flops: forward + the input-gradient backward ≈ 2 × forward
    # (the coarsest scale matches cfg.layers, the others cfg.refine_layers)
    flops = sum(2 * forward_flops(cfg, tuple(size), cfg.layers if s == 0 else cfg.refine_layers)
                * sum(1 for h in result.history if h["scale"] == s)
                for s, size in enumerate(result.stats["scale_sizes"]))
    return dict(name=name, seconds=seconds, evals=evals, ms=1000 * seconds / max(evals, 1),
                gflops=flops / seconds / 1e9, peak_gib=peak / 2**30,
                score=score(result.image, exemplar))


PEAK_TFLOPS = 0.0


def row(r: dict) -> str:
    share = f" ({100 * r['gflops'] / 1000 / PEAK_TFLOPS:.1f} %)" if PEAK_TFLOPS else ""
    return (f"| {r['name']} | {r['seconds']:.1f} | {r['evals']} | {r['ms']:.0f} | {r['gflops']:.0f}{share} | "
            f"{r['peak_gib']:.2f} | {r['score']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exemplar", nargs="*", default=[str(ROOT / "examples" / "ink.jpg")])
    ap.add_argument("--sizes", nargs="*", type=int, default=[])
    ap.add_argument("--baseline", choices=("strong", "uniform"), default="strong")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0], help="seeds of the default runs (b)")
    ap.add_argument("--baseline-steps", type=int, default=20, help="L-BFGS steps of the uniform baseline")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--baseline-sizes", nargs="*", type=int, default=[256],
                    help="sizes at which both the baseline and the default run (default 256)")
    ap.add_argument("--device", default="cpu", help="auto, cpu (default), cuda, cuda:N or mps")
    ap.add_argument("--peak-tflops", type=float, default=0.0,
                    help="the device's peak float32 TFLOP/s, to report the share reached")
    args = ap.parse_args()
    global PEAK_TFLOPS
    PEAK_TFLOPS = args.peak_tflops
    import os

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (as the CLI)
    from untrained.devices import describe, resolve

    device = resolve(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {describe(device)}")
    U.texture(U.load_image(args.exemplar[0]), size=(64, 64), device=device)  # warm-up: one-time set-up is not timed
    print("| run | seconds | evaluations | ms/eval | GFLOP/s | peak GiB | score |")
    print("|---|---|---|---|---|---|---|")
    def baseline_cfg(n: int) -> TextureConfig:
        if args.baseline == "strong":
            return method_config("baseline", n, args.seeds[0])
        return TextureConfig(
            size=(n, n), net=U.preset("vgg19"), layers=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
            refine_layers=(), crops=0, optim=OptimConfig(iterations=args.baseline_steps, scales=1, lbfgs_max_iter=20))

    for path in args.exemplar:
        exemplar = U.load_image(path)
        name = Path(path).name
        for n in args.baseline_sizes:
            a = None if args.skip_baseline else run(f"{name} (a) VGG-19 Gatys baseline {n}²", exemplar, baseline_cfg(n), device)
            if a:
                print(row(a), flush=True)
            bs = []
            for seed in args.seeds:
                bs.append(run(f"{name} (b) untrained texture {n}² seed {seed}", exemplar,
                              TextureConfig(size=(n, n), seed=seed), device))
                print(row(bs[-1]), flush=True)
            if a:
                seconds = statistics.median(b["seconds"] for b in bs)
                scores = statistics.median(b["score"] for b in bs)
                print(f"| {name} ratio (a)/(b median) {n}² | {a['seconds'] / seconds:.1f}× | | | | | "
                      f"{scores - a['score']:+.3f} (b − a) |", flush=True)
        for size in args.sizes:
            print(row(run(f"{name} (b) untrained texture {size}²", exemplar, TextureConfig(size=(size, size)), device)), flush=True)


if __name__ == "__main__":
    main()
