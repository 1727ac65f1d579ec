"""Regenerate docs/images/style_methods.png and print the README's style-transfer table.

    .venv/bin/python docs/make_style_figure.py [--size 128] [--jobs default,he2016,du2020,yardstick]

Three photo + public-domain painting pairs (the photos: ../shared/images/textures/tom.jpg and
3.jpg, Unsplash; examples/water.jpg; the paintings: ../shared/images/doodle/Gogh.jpg, Monet.jpg,
Renoir.jpg), each run through the command line as the README shows it: the default,
``--preset he2016`` and ``--preset du2020``; plus the yardstick, a texture from the style alone
with the default net (``--content-weight 0 --init noise``).  Each output is scored with
:func:`untrained.metrics.style_scores`; the table gives the seconds the synthesis took (the
JSON's ``stats.seconds``; the machine's load is printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from untrained.cli import main as cli  # noqa: E402
from untrained.image import resize  # noqa: E402
from untrained.io import load_image, save_image  # noqa: E402
from untrained.metrics import style_scores  # noqa: E402

SHARED = ROOT.parent / "shared" / "images"
PAIRS = {
    "tom+Gogh": (SHARED / "textures" / "tom.jpg", SHARED / "doodle" / "Gogh.jpg"),
    "bark+Monet": (SHARED / "textures" / "3.jpg", SHARED / "doodle" / "Monet.jpg"),
    "water+Renoir": (ROOT / "examples" / "water.jpg", SHARED / "doodle" / "Renoir.jpg"),
}
JOBS = {
    "default": [],
    "he2016": ["--preset", "he2016"],
    "du2020": ["--preset", "du2020"],
    "yardstick": ["--content-weight", "0", "--init", "noise"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--jobs", default=",".join(JOBS))
    ap.add_argument("--pairs", default=",".join(PAIRS), help="run only these pairs (outputs are reused when present)")
    ap.add_argument("--work", default=str(ROOT / "out" / "style_figure"))
    ap.add_argument("--output", default=str(ROOT / "docs" / "images" / "style_methods.png"))
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    jobs = args.jobs.split(",")
    rows, tiles = [], []
    size = (args.size, args.size)
    for pair in args.pairs.split(","):
        content_path, style_path = PAIRS[pair]
        content, style_image = load_image(content_path), load_image(style_path)
        row = [resize(content, size), resize(style_image, size)]
        for job in jobs:
            out = work / f"{pair}_{job}.png"
            if not out.exists():
                argv = ["style", str(content_path), str(style_path), "--size", f"{args.size}x{args.size}",
                        *JOBS[job], "-o", str(out), "--quiet"]
                if cli(argv) != 0:
                    raise SystemExit(f"failed: {' '.join(argv)}")
            image = load_image(out)
            side = json.loads(out.with_suffix(".json").read_text())
            scores = style_scores(image, resize(content, size), style_image)
            rows.append({"pair": pair, "method": job, "seconds": side["stats"]["seconds"],
                         "evaluations": side["stats"]["evaluations"], **scores})
            if job != "yardstick":
                row.append(image)
        tiles.append(torch.cat(row, dim=-1))
    save_image(args.output, torch.cat(tiles, dim=-2))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| pair | method | seconds | evaluations | score | content SSIM | content edges |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['pair']} | {r['method']} | {r['seconds']:.0f} | {r['evaluations']} | {r['score']:.3f} | "
              f"{r['content_ssim']:.2f} | {r['content_edges']:.2f} |")


if __name__ == "__main__":
    main()
