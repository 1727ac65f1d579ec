"""Regenerate docs/images/style_methods.jpg and print the README's style-transfer table.

    PYTHONPATH=src .venv/bin/python docs/make_style_figure.py [--size 256] [--seeds 0]
        [--jobs default,he2016,du2020,yardstick] [--all-seeds default,yardstick]
        [--pairs chelsea+Gogh,astronaut+Monet,coffee+Renoir] [--paper-iterations N]

The README's figure: ``--size 256 --seeds 0,1 --paper-iterations 3``.

Three photo + public-domain painting pairs (the photos, CC0 / public domain from scikit-image's
data folder, are in docs/images/photos/; the paintings are read from
../shared/images/doodle/Gogh.jpg, Monet.jpg, Renoir.jpg), each run through the command line as
the README shows it: the default, ``--preset he2016`` and ``--preset du2020``; plus the
yardstick, a texture from the style alone with the default net (``--content-weight 0 --init
noise``; it does not depend on the photo, so it is run once per painting and seed).  Each
output is scored with :func:`untrained.metrics.style_scores`; the table gives the wall seconds
of the synthesis (the JSON's ``stats.seconds``), the CPU seconds of the process
(``time.process_time``: the machine may be shared), the score's ratio to the yardstick's
(median over the seeds), and the rows go to ``--table`` as JSON too.  One torch thread unless
``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from untrained.cli import main as cli  # noqa: E402
from untrained.image import resize  # noqa: E402
from untrained.io import load_image, save_image  # noqa: E402
from untrained.metrics import style_scores  # noqa: E402

SHARED = ROOT.parent / "shared" / "images"
PHOTOS = ROOT / "docs" / "images" / "photos"
PAIRS = {
    "chelsea+Gogh": (PHOTOS / "chelsea.jpg", SHARED / "doodle" / "Gogh.jpg"),
    "astronaut+Monet": (PHOTOS / "astronaut.jpg", SHARED / "doodle" / "Monet.jpg"),
    "coffee+Renoir": (PHOTOS / "coffee.jpg", SHARED / "doodle" / "Renoir.jpg"),
    "tom+Gogh": (SHARED / "textures" / "tom.jpg", SHARED / "doodle" / "Gogh.jpg"),  # measured, not in the figure
}
FIGURE_PAIRS = ("chelsea+Gogh", "astronaut+Monet", "coffee+Renoir")
JOBS = {
    "default": [],
    "he2016": ["--preset", "he2016"],
    "du2020": ["--preset", "du2020"],
    "yardstick": ["--content-weight", "0", "--init", "noise"],
}


def synthesise(content: Path, style: Path, flags: list[str], size: int, seed: int, out: Path) -> float:
    """Run one job through the CLI unless *out* exists; the CPU seconds it took (NaN if reused)."""
    if out.exists():
        side = json.loads(out.with_suffix(".json").read_text())
        return side.get("cpu_seconds", float("nan"))
    argv = ["style", str(content), str(style), "--size", f"{size}x{size}", "--seed", str(seed), *flags,
            "-o", str(out), "--quiet"]
    start = time.process_time()
    if cli(argv) != 0:
        raise SystemExit(f"failed: untrained {' '.join(argv)}")
    cpu = time.process_time() - start
    side = json.loads(out.with_suffix(".json").read_text())
    out.with_suffix(".json").write_text(json.dumps({**side, "cpu_seconds": cpu}, indent=1))
    return cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seeds", default="0", help="comma-separated seeds; the figure shows the first")
    ap.add_argument("--all-seeds", default="default,yardstick",
                    help="the jobs run with every seed; the others with the first only")
    ap.add_argument("--jobs", default=",".join(JOBS))
    ap.add_argument("--pairs", default=",".join(FIGURE_PAIRS), help=f"from {', '.join(PAIRS)}")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--paper-iterations", type=int, default=None, metavar="N",
                    help="run the he2016 and du2020 presets with --iterations N (L-BFGS steps of 20 "
                         "evaluations; the presets' own is 20) where the machine cannot afford theirs")
    ap.add_argument("--work", default=str(ROOT / "out" / "style_figure"))
    ap.add_argument("--output", default=str(ROOT / "docs" / "images" / "style_methods.jpg"),
                    help="the figure: a JPEG (quality 90) for .jpg, else a PNG")
    ap.add_argument("--table", default=str(ROOT / "docs" / "images" / "style_methods.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    jobs, seeds, size = args.jobs.split(","), [int(s) for s in args.seeds.split(",")], args.size
    rows, tiles = [], []
    for pair in args.pairs.split(","):
        content_path, style_path = PAIRS[pair]
        if not (style_path.exists() and content_path.exists()):
            raise SystemExit(f"missing {style_path} or {content_path} (the shared sample images)")
        content, style_image = load_image(content_path), load_image(style_path)
        small = resize(content, (size, size))
        row = [small, resize(style_image, (size, size))]
        for job in jobs:
            for seed in seeds if job in args.all_seeds.split(",") else seeds[:1]:
                name = f"{style_path.stem}_{job}" if job == "yardstick" else f"{pair}_{job}"
                out = work / f"{name}_{size}_s{seed}.png"
                flags = list(JOBS[job])
                if job in ("he2016", "du2020") and args.paper_iterations:
                    flags += ["--iterations", str(args.paper_iterations)]
                    out = out.with_name(out.stem + f"_it{args.paper_iterations}.png")
                cpu = synthesise(content_path, style_path, flags, size, seed, out)
                image = load_image(out)
                side = json.loads(out.with_suffix(".json").read_text())
                rows.append({"pair": pair, "method": job, "flags": " ".join(flags), "seed": seed, "seconds": side["stats"]["seconds"],
                             "cpu_seconds": cpu, "evaluations": side["stats"]["evaluations"],
                             **style_scores(image, small, style_image)})
                if job != "yardstick" and seed == seeds[0]:
                    row.append(image)
        if pair in FIGURE_PAIRS:
            tiles.append(torch.cat(row, dim=-1))
    if tiles:
        figure = torch.cat(tiles, dim=-2)
        if args.output.lower().endswith((".jpg", ".jpeg")):
            from PIL import Image

            pixels = (figure[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()
            Image.fromarray(pixels).save(args.output, quality=90)
        else:
            save_image(args.output, figure)
    for r in rows:
        yard = [y["score"] for y in rows if y["pair"] == r["pair"] and y["method"] == "yardstick"]
        r["ratio"] = r["score"] / statistics.median(yard) if yard else None
    Path(args.table).write_text(json.dumps({"size": size, "seeds": seeds, "threads": args.threads, "rows": rows},
                                           indent=1) + "\n")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.threads} torch thread(s)")
    print("| pair | method | seed | wall s | CPU s | evaluations | score | × yardstick | content SSIM | content edges |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"| {r['pair']} | {r['method']} | {r['seed']} | {r['seconds']:.0f} | {r['cpu_seconds']:.0f} | "
              f"{r['evaluations']} | {r['score']:.3f} | {ratio} | {r['content_ssim']:.2f} | {r['content_edges']:.2f} |")


if __name__ == "__main__":
    main()
