"""Neural Doodle brushwork, measured (issue 17): per-region distance to the painting, as a ratio
to what a plain texture of that region reaches.

    .venv/bin/python benchmarks/bench_doodle.py [--seeds 0 1 2] [--size 512x384]
        [--set variety=0.5 semantic_weight=30 ...] [--results benchmarks/results/doodle.json]
        [--images DIR] [--style PAINTING --style-map MAP --map TARGET_MAP]

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

Other inputs: ``--style``, ``--style-map`` and ``--map`` replace the painting, its map and the
target map (each defaults to the figure's).  Regions are then named by their map colour, the style
map is resized (nearest) to the painting and the target map to ``--size`` (default: the target
map's own size), and the results file records the inputs given: a file holding another input's
cells is refused, so give each input its own ``--results``.
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
    ap.add_argument("--size", default=None, help="output width×height (default: --map's size, else 512x384)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="DoodleConfig changes (numbers)")
    ap.add_argument("--doodle", type=Path, default=ROOT.parent / "shared" / "images" / "doodle")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "doodle.json")
    ap.add_argument("--images", type=Path, default=None, help="also save each doodle here, to look at")
    ap.add_argument("--style", type=Path, default=None, help="the painting (default: --doodle's Monet.jpg)")
    ap.add_argument("--style-map", type=Path, default=None, help="its semantic map (default: the figure's, drawn)")
    ap.add_argument("--map", type=Path, default=None, help="the target semantic map (default: the figure's, drawn)")
    args = ap.parse_args()
    inputs = {name: str(path.resolve()) for name, path in (("style", args.style), ("style_map", args.style_map),
                                                            ("map", args.map)) if path is not None}
    painting_path = args.style or args.doodle / "Monet.jpg"
    for path in (painting_path, args.style_map, args.map):
        if path is not None and not path.exists():
            raise SystemExit(f"{path} is missing (the shared doodle paintings)")
    import make_doodle_figure as figure
    from PIL import Image

    args.size = args.size or ("x".join(map(str, Image.open(args.map).size)) if args.map else "512x384")
    width, height = (int(v) for v in args.size.split("x"))
    painting = Image.open(painting_path).convert("RGB")
    work = args.results.parent / "doodle_maps"
    if args.style_map is None or args.map is None:
        work.mkdir(parents=True, exist_ok=True)
    if args.style_map is None:
        args.style_map = work / "style_map.png"
        figure.style_map(painting.size).save(args.style_map)
    if args.map is None:
        args.map = work / "target_map.png"
        figure.target_map((width, height)).save(args.map)
    style, smap, tmap = load_image(painting_path), load_image(args.style_map), load_image(args.map)
    smap = torch.nn.functional.interpolate(smap, size=style.shape[-2:], mode="nearest")  # maps are flat colours
    tmap = torch.nn.functional.interpolate(tmap, size=(height, width), mode="nearest")
    colours = doodle_module.check_maps(smap, tmap)
    names = [doodle_module.hex_colour(c) for c in colours] if "style_map" in inputs else REGIONS
    style_masks, target_masks = doodle_module.one_hot(smap, colours)[0], doodle_module.one_hot(tmap, colours)[0]
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if results and results.get("inputs", {}) != inputs:
        raise SystemExit(f"{args.results} holds cells of other inputs ({results.get('inputs', 'the figure')}); "
                         "give another --results")
    if inputs:
        results["inputs"] = inputs
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    for k, region in enumerate(names):  # references: plain textures of each region's rectangle
        top, left, h, w = largest_rectangle(style_masks[k].bool())
        crop = style[..., top:top + h, left:left + w]
        for seed in range(3):
            key = f"reference|{region}|{seed}"
            if key not in results:
                out = U.texture(crop, seed=seed).image
                results[key] = metrics.region_swd(out, torch.ones(1, *out.shape[-2:]), style, style_masks[k:k + 1])[0]
                save(args.results, results)
    references = [statistics.median(results[f"reference|{r}|{s}"] for s in range(3)) for r in names]

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
        print(f"{key}: " + ", ".join(f"{r} {d:.3f}" for r, d in zip(names, dist)) + f"; {seconds:.1f} s", flush=True)

    own = metrics.region_leak(style, style_masks, style, style_masks)
    print("\nreferences (median of 3 plain textures): " + ", ".join(f"{r} {d:.3f}" for r, d in zip(names, references)))
    print("the painting's own region leak: " + ", ".join(f"{r} {d:.3f}" for r, d in zip(names, own)))
    print("| setting | size | seed | " + " | ".join(names) + " | leak " + " / ".join(names) + " | s |\n|---|---|---|"
          + "---|" * (len(names) + 2))
    for key in sorted(k for k in results if k.startswith("doodle|")):
        _, setting, size, seed = key.split("|")
        cell = results[key]
        ratios = [d / r for d, r in zip(cell["regions"], references)]
        leak = " / ".join(f"{x:.3f}" for x in cell["leak"]) if "leak" in cell else "—"
        print(f"| {setting} | {size} | {seed} | " + " | ".join(f"{x:.2f}" + ("" if x <= 1.5 else " ✗") for x in ratios)
              + f" | {leak} | {cell['seconds']} |")


if __name__ == "__main__":
    main()
