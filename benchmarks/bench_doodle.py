"""Neural Doodle brushwork, measured (issue 17): per-region distance to the painting, as a ratio
to what a plain texture of that region reaches.

    .venv/bin/python benchmarks/bench_doodle.py [--seeds 0 1 2] [--size 512x384]
        [--set variety=0.5 semantic_weight=30 ...] [--results benchmarks/results/doodle.json]
        [--images DIR]

The README figure's protocol: Monet's cliffs at Étretat (public domain, ../shared/images/doodle)
with the style map and the target doodle drawn by docs/make_doodle_figure.py.  For each seed,
``untrained doodle`` with its defaults (changed by ``--set FIELD=VALUE`` on
:class:`untrained.synth.doodle.DoodleConfig`) paints the target; each region's distance is
:func:`untrained.metrics.region_swd` between the output's region and the painting's.  The
reference of a region is the median, over three seeds, of the same distance for a plain
``untrained texture`` (defaults) made from the largest axis-aligned rectangle inside the
painting's region, at that rectangle's size.  Issue 17's target: every ratio ≤ 1.5.  Each
region's faithfulness to the map is :func:`untrained.metrics.region_leak` (the share of its
pixels whose local colour reads as another region of the painting), printed beside the
painting's own.  Results go
to a JSON file cell by cell (resumable).  Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "docs"))

import untrained as U  # noqa: E402
from untrained import metrics  # noqa: E402
from untrained.io import load_image  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_quality import save  # noqa: E402  (one atomic results writer)

doodle_module = importlib.import_module("untrained.synth.doodle")
REGIONS = ("sky", "cliffs", "sea", "beach")


def largest_rectangle(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """``(top, left, height, width)`` of the largest-area rectangle of true pixels in ``(H, W)``
    *mask* (row by row, the largest rectangle under a histogram of column heights)."""
    h, w = mask.shape
    rows = mask.tolist()
    heights = [0] * (w + 1)
    best = (0, 0, 0, 0)
    for row in range(h):
        for col in range(w):
            heights[col] = heights[col] + 1 if rows[row][col] else 0
        stack: list[int] = []
        for col in range(w + 1):
            while stack and heights[stack[-1]] >= heights[col]:
                top = heights[stack.pop()]
                left = stack[-1] + 1 if stack else 0
                if top * (col - left) > best[2] * best[3]:
                    best = (row - top + 1, left, top, col - left)
            stack.append(col)
    return best


def parse_set(items: list[str]) -> dict:
    changes = {}
    for item in items:
        name, _, value = item.partition("=")
        changes[name] = float(value)
    return changes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--size", default="512x384", help="output width×height")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="DoodleConfig changes (numbers)")
    ap.add_argument("--doodle", type=Path, default=ROOT.parent / "shared" / "images" / "doodle")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "doodle.json")
    ap.add_argument("--images", type=Path, default=None, help="also save each doodle here, to look at")
    args = ap.parse_args()
    painting_path = args.doodle / "Monet.jpg"
    if not painting_path.exists():
        raise SystemExit(f"{painting_path} is missing (the shared doodle paintings)")
    import make_doodle_figure as figure
    from PIL import Image

    width, height = (int(v) for v in args.size.split("x"))
    painting = Image.open(painting_path).convert("RGB")
    work = args.results.parent / "doodle_maps"
    work.mkdir(parents=True, exist_ok=True)
    figure.style_map(painting.size).save(work / "style_map.png")
    figure.target_map((width, height)).save(work / "target_map.png")
    style, smap, tmap = load_image(painting_path), load_image(work / "style_map.png"), load_image(work / "target_map.png")
    colours = doodle_module.check_maps(smap, tmap)
    style_masks, target_masks = doodle_module.one_hot(smap, colours)[0], doodle_module.one_hot(tmap, colours)[0]
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    for k, region in enumerate(REGIONS):  # references: plain textures of each region's rectangle
        top, left, h, w = largest_rectangle(style_masks[k].bool())
        crop = style[..., top:top + h, left:left + w]
        for seed in range(3):
            key = f"reference|{region}|{seed}"
            if key not in results:
                out = U.texture(crop, seed=seed).image
                results[key] = metrics.region_swd(out, torch.ones(1, *out.shape[-2:]), style, style_masks[k:k + 1])[0]
                save(args.results, results)
    references = [statistics.median(results[f"reference|{r}|{s}"] for s in range(3)) for r in REGIONS]

    changes = parse_set(args.set)
    label = ",".join(f"{n}={v:g}" for n, v in sorted(changes.items())) or "defaults"
    for seed in args.seeds:
        key = f"doodle|{label}|{args.size}|{seed}"
        if key in results:
            continue
        start = time.perf_counter()
        image = doodle_module.doodle(style, smap, tmap, seed=seed, **changes).image
        seconds = time.perf_counter() - start
        dist = metrics.region_swd(image, target_masks, style, style_masks)
        if args.images:
            args.images.mkdir(parents=True, exist_ok=True)
            U.save_image(args.images / f"{label}_{seed}.png", image)
        leak = metrics.region_leak(image, target_masks, style, style_masks)
        results[key] = {"regions": dist, "leak": leak, "seconds": round(seconds, 1)}
        save(args.results, results)
        print(f"{key}: " + ", ".join(f"{r} {d:.3f}" for r, d in zip(REGIONS, dist)) + f"; {seconds:.1f} s", flush=True)

    own = metrics.region_leak(style, style_masks, style, style_masks)
    print("\nreferences (median of 3 plain textures): " + ", ".join(f"{r} {d:.3f}" for r, d in zip(REGIONS, references)))
    print("the painting's own region leak: " + ", ".join(f"{r} {d:.3f}" for r, d in zip(REGIONS, own)))
    print("| setting | size | seed | " + " | ".join(REGIONS) + " | leak " + " / ".join(REGIONS) + " | s |\n|---|---|---|"
          + "---|" * (len(REGIONS) + 2))
    for key in sorted(k for k in results if k.startswith("doodle|")):
        _, setting, size, seed = key.split("|")
        cell = results[key]
        ratios = [d / r for d, r in zip(cell["regions"], references)]
        leak = " / ".join(f"{x:.3f}" for x in cell["leak"]) if "leak" in cell else "—"
        print(f"| {setting} | {size} | {seed} | " + " | ".join(f"{x:.2f}" + ("" if x <= 1.5 else " ✗") for x in ratios)
              + f" | {leak} | {cell['seconds']} |")


if __name__ == "__main__":
    main()
