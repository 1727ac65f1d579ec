"""Texture quality as a distribution (issue 15): seeds × exemplars × sizes × methods, resumable.

    .venv/bin/python benchmarks/bench_quality.py [--methods default high baseline] [--sizes 128 256 512]
        [--seeds 1 2 3 4 5] [--exemplars ink water gravel ...] [--results benchmarks/results/quality.json]
        [--merge OTHER.json ...] [--report-only] [--readme] [--threads 1]

Methods:

* ``default`` — ``untrained texture`` with its defaults;
* ``high`` — ``untrained texture --quality high`` (full width, every layer at every scale, twice
  the steps, no evaluation caps; the same changes as the CLI makes);
* ``baseline`` — the strong VGG-19 Gatys baseline of issue 15: full width, Kaiming-normal weights
  (std √(2/fan_in)), zero bias, average pooling, Gram matrices of conv1_1 … conv5_1 each
  normalised (He et al.'s automatic weights), one scale, 20 L-BFGS steps of 20 evaluations with
  torch's strong-Wolfe line search, the whole exemplar's Gram matrices (``crops=0``).

Each exemplar is resized to the output size first, so synthesis and ``score`` see the same image;
``--native`` gives it at its own size instead (a 384² photo for a 256² output, as users run it;
``score`` then compares with the photo at its own scale), recorded as ``METHOD@native``.  Every finished cell
(method, exemplar, size, seed) is written to the results JSON at once; cells already there are
skipped, so a long matrix can be split across invocations and machines (``--merge`` folds other
results files in; each cell records the host and thread count its time was measured with —
compare times only within one host).  The report prints, per exemplar × size × method, the median
and worst score over seeds, the worst / median ratio, the median time, the artefact measures'
medians, and the issue's targets: default median ≤ baseline median, worst ≤ 1.25 × median,
baseline time / default time at 256² (target ≥ 50), high median < default median.
Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import untrained as U  # noqa: E402
from untrained import metrics  # noqa: E402
from untrained.nets.modify import NetOptions  # noqa: E402
from untrained.image import resize  # noqa: E402
from untrained.synth.loop import OptimConfig  # noqa: E402
from untrained.synth.texture import DEFAULT_NETS, TextureConfig  # noqa: E402

SHARED = ROOT.parent / "shared" / "images" / "textures"
#: Name → path.  textures/1.jpg and 4.jpg are the same photos as water.jpg and ink.jpg: left out.
EXEMPLARS = {"ink": ROOT / "examples" / "ink.jpg", "water": ROOT / "examples" / "water.jpg",
             "gravel": ROOT / "examples" / "gravel.jpg", "grass": ROOT / "examples" / "grass.jpg",
             "brick": ROOT / "examples" / "brick.jpg", "smoke": SHARED / "2.jpg", "t3": SHARED / "3.jpg",
             "tom": SHARED / "tom.jpg"}
BASELINE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")


def method_config(method: str, size: int, seed: int) -> TextureConfig:
    """The :class:`TextureConfig` of *method* for a *size*² output."""
    if method == "default":
        return TextureConfig(size=(size, size), seed=seed)
    if method == "high":  # what `untrained texture --quality high` sets (cli.cmd_texture)
        net = NetOptions(**{k: v for k, v in DEFAULT_NETS["gram"].items() if k != "width"}).apply()
        return TextureConfig(size=(size, size), seed=seed, net=net, refine_layers=(), coarse_nets=1,
                             optim=OptimConfig(iterations=10, scale_evaluations=(), channels_last=True))
    if method == "baseline":
        net = NetOptions(weights="kaiming", bias="zero").apply()
        return TextureConfig(size=(size, size), seed=seed, net=net, layers=BASELINE_LAYERS, refine_layers=(), crops=0,
                             optim=OptimConfig(iterations=20, scales=1, lbfgs_max_iter=20, line_search=True,
                                               scale_evaluations=()))
    raise SystemExit(f"unknown method {method!r}; choose from default, high, baseline")


def key(method: str, exemplar: str, size: int, seed: int) -> str:
    return f"{method}|{exemplar}|{size}|{seed}"


def run_cell(method: str, exemplar: torch.Tensor, size: int, seed: int, native: bool = False) -> dict:
    target = exemplar if native else resize(exemplar, (size, size)).clamp(0, 1)
    start, cpu = time.perf_counter(), time.process_time()
    result = U.texture(target, method_config(method, size, seed))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    image = result.image
    return {"score": metrics.score(image, target), "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
            "evaluations": result.stats["evaluations"], "border": metrics.border(image), "frame": metrics.frame(image),
            "rim": metrics.rim(image), "grid2": metrics.grid(image, target, 2), "grid4": metrics.grid(image, target, 4),
            "blotches": metrics.blotches(image, target),
            "host": platform.node(), "threads": torch.get_num_threads()}


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def save(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True))
    os.replace(tmp, path)


def report(results: dict, sizes: list[int] | None = None) -> None:
    cells: dict[tuple[str, int, str], list[dict]] = {}
    for k, v in results.items():
        method, exemplar, size, _ = k.split("|")
        if sizes and int(size) not in sizes:
            continue
        cells.setdefault((exemplar, int(size), method), []).append(v)
    print("| exemplar | size | method | seeds | median | worst | worst/median | median s | median CPU s | border | frame "
          "| rim | grid2 | grid4 | blotches |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    def med(rs: list[dict], field: str) -> float:  # cells imported from older runs may lack a measure
        values = [r[field] for r in rs if field in r]
        return statistics.median(values) if values else float("nan")

    for (exemplar, size, method), rs in sorted(cells.items()):
        scores = [r["score"] for r in rs]
        m = statistics.median(scores)
        print(f"| {exemplar} | {size} | {method} | {len(rs)} | {m:.3f} | {max(scores):.3f} | {max(scores) / m:.2f} | "
              f"{med(rs, 'seconds'):.1f} | {med(rs, 'cpu_seconds'):.1f} | {med(rs, 'border'):.2f} | {med(rs, 'frame'):.2f} | {med(rs, 'rim'):.2f} | {med(rs, 'grid2'):.2f} | {med(rs, 'grid4'):.2f} | "
              f"{med(rs, 'blotches'):.2f} |")
    print("\nTargets (issue 15), per exemplar × size:")
    for (exemplar, size, method), rs in sorted(cells.items()):
        base_name, at, protocol = method.partition("@")  # a protocol's cells are compared with its own
        if base_name != "default":
            continue
        scores = [r["score"] for r in rs]
        m, notes = statistics.median(scores), []
        notes.append(f"worst/median {max(scores) / m:.2f} {'ok' if max(scores) <= 1.25 * m else 'MISSED'}")
        base = cells.get((exemplar, size, "baseline" + at + protocol))
        if base:
            b = statistics.median(r["score"] for r in base)
            notes.append(f"median {m:.3f} vs baseline {b:.3f} {'ok' if m <= b else 'MISSED'}")
            mine = [r for r in rs if r["host"] == base[0]["host"] and r["threads"] == base[0]["threads"]]
            same = [r for r in base if r["host"] == base[0]["host"] and r["threads"] == base[0]["threads"]]
            if mine and size == 256:  # CPU seconds where both have them: wall time suffers from a busy machine
                field = "cpu_seconds" if all("cpu_seconds" in r for r in mine + same) else "seconds"
                ratio = med(same, field) / med(mine, field)
                notes.append(f"time ratio {ratio:.0f}× ({field}) {'ok' if ratio >= 50 else 'MISSED'}")
        high = cells.get((exemplar, size, "high" + at + protocol))
        if high:
            h = statistics.median(r["score"] for r in high)
            notes.append(f"high {h:.3f} {'ok' if h < m else 'MISSED'}")
        print(f"- {exemplar} {size}²{' (' + protocol + ')' if protocol else ''}: " + "; ".join(notes))


def readme_table(results: dict) -> None:
    """The README's table: one row per exemplar, one column per size × method present, each cell
    the median / worst score over seeds, and a last row of median times (CPU seconds over the
    cells that have them, else wall seconds)."""
    cells: dict[tuple[int, str], dict[str, list[dict]]] = {}
    for k, v in results.items():
        method, exemplar, size, _ = k.split("|")
        cells.setdefault((int(size), method), {}).setdefault(exemplar, []).append(v)
    columns = sorted(cells, key=lambda c: (c[0], ["default", "high", "baseline"].index(c[1])
                                           if c[1] in ("default", "high", "baseline") else 9, c[1]))
    exemplars = sorted({e for c in cells.values() for e in c})
    print("| exemplar | " + " | ".join(f"{size}² {method}" for size, method in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for e in exemplars:
        row = []
        for c in columns:
            rs = cells[c].get(e)
            scores = [r["score"] for r in rs] if rs else []
            row.append(f"{statistics.median(scores):.3f} / {max(scores):.3f} ({len(scores)})" if scores else "—")
        print(f"| {e} | " + " | ".join(row) + " |")
    times = []
    for c in columns:
        rs = [r for group in cells[c].values() for r in group]
        cpu = [r["cpu_seconds"] for r in rs if "cpu_seconds" in r]  # older cells have wall time only
        times.append(f"{statistics.median(cpu):.1f} s CPU" if cpu else f"{statistics.median(r['seconds'] for r in rs):.1f} s")
    print("| median time | " + " | ".join(times) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["default", "high", "baseline"])
    ap.add_argument("--exemplars", nargs="+", default=list(EXEMPLARS))
    ap.add_argument("--sizes", nargs="+", type=int, default=[128, 256, 512])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "quality.json")
    ap.add_argument("--merge", nargs="*", type=Path, default=[], help="other results files to fold in first")
    ap.add_argument("--report-only", action="store_true", help="print the table of what the results hold; run nothing")
    ap.add_argument("--native", action="store_true",
                    help="give each exemplar at its own size (the usual workflow: a photo larger than the "
                         "output), scored against it; cells are recorded as METHOD@native")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--readme", action="store_true",
                    help="also print the README's table (median / worst score and seed count per exemplar × size × method)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = load(args.results)
    for other in args.merge:
        for k, v in load(other).items():
            results.setdefault(k, v)
    if args.merge:
        save(args.results, results)
    if not args.report_only:
        missing = [n for n in args.exemplars if n not in EXEMPLARS]
        if missing:
            raise SystemExit(f"unknown exemplar(s) {missing}; choose from {', '.join(EXEMPLARS)}")
        names = [n for n in args.exemplars if EXEMPLARS[n].exists()]
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, host {platform.node()}; "
              f"exemplars {', '.join(names)}", file=sys.stderr)
        U.texture(resize(U.load_image(EXEMPLARS[names[0]]), (64, 64)).clamp(0, 1), size=(64, 64))  # warm-up
        for size in args.sizes:
            for method in args.methods:
                for name in names:
                    exemplar = U.load_image(EXEMPLARS[name])
                    for seed in args.seeds:
                        k = key(method + ("@native" if args.native else ""), name, size, seed)
                        if k in results:
                            continue
                        results[k] = run_cell(method, exemplar, size, seed, args.native)
                        save(args.results, results)
                        print(f"{k}: score {results[k]['score']:.3f}, {results[k]['seconds']:.1f} s", file=sys.stderr)
    report(results, args.sizes if not args.report_only else None)
    if args.readme:
        print()
        readme_table(results)


if __name__ == "__main__":
    main()
