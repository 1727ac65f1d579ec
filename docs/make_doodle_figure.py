"""The README's Neural Doodle figure, from maps drawn here (the shared doodle maps' rights are
unclear, so none of them is used): a style map for Monet's public-domain painting of the cliffs
at Étretat drawn as flat polygons, and a target doodle of simple flat-colour shapes in the same
colours.

    .venv/bin/python docs/make_doodle_figure.py [--images docs/images] [--doodle ../shared/images/doodle]

Writes doodle_maps.png (painting, its map, the target map) and doodle_brushwork.png (the
doodle), prints the command line, the wall and CPU time and the per-region distances.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from untrained import metrics  # noqa: E402
from untrained.io import load_image  # noqa: E402
from untrained.synth.doodle import check_maps, one_hot  # noqa: E402

#: Flat colours of the four regions: sky, cliffs, sea, beach.
COLOURS = [(255, 255, 255), (230, 60, 40), (20, 40, 220), (40, 220, 40)]


def style_map(size: tuple[int, int]) -> Image.Image:
    """The painting's regions drawn by hand as polygons (coordinates read off the 512×384
    painting, scaled to *size*): sky, sea below the horizon, the needle and the arched cliff,
    the beach."""
    w, h = size
    sx, sy = w / 512, h / 384

    def pts(points):
        return [(x * sx, y * sy) for x, y in points]

    img = Image.new("RGB", size, COLOURS[0])
    d = ImageDraw.Draw(img)
    d.rectangle([0, 262 * sy, w, h], fill=COLOURS[2])
    d.polygon(pts([(80, 282), (110, 160), (128, 100), (150, 88), (170, 100), (180, 160), (190, 282)]), fill=COLOURS[1])
    d.polygon(pts([(265, 252), (272, 200), (300, 150), (330, 120), (350, 40), (380, 28), (470, 35), (512, 0),
                   (512, 305), (400, 300), (380, 265), (345, 272)]), fill=COLOURS[1])
    d.polygon(pts([(290, 255), (305, 185), (335, 150), (342, 268)]), fill=COLOURS[0])  # the arch
    d.rectangle([290 * sx, 262 * sy, 343 * sx, 272 * sy], fill=COLOURS[2])
    d.polygon(pts([(130, 384), (300, 322), (512, 305), (512, 384)]), fill=COLOURS[3])
    return img


def target_map(size: tuple[int, int]) -> Image.Image:
    """A doodle of flat shapes: sky, a sea band, two cliffs and a beach."""
    w, h = size
    img = Image.new("RGB", size, COLOURS[0])
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(0.55 * h), w, h], fill=COLOURS[2])
    d.polygon([(0, int(0.9 * h)), (int(0.45 * w), h), (0, h)], fill=COLOURS[3])
    d.polygon([(int(0.55 * w), h), (int(0.75 * w), int(0.82 * h)), (w, int(0.78 * h)), (w, h)], fill=COLOURS[3])
    d.polygon([(int(0.08 * w), int(0.62 * h)), (int(0.14 * w), int(0.25 * h)), (int(0.2 * w), int(0.2 * h)),
               (int(0.26 * w), int(0.62 * h))], fill=COLOURS[1])
    d.polygon([(int(0.6 * w), int(0.7 * h)), (int(0.66 * w), int(0.3 * h)), (int(0.8 * w), int(0.12 * h)),
               (w, int(0.1 * h)), (w, int(0.72 * h))], fill=COLOURS[1])
    return img


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=str(ROOT / "docs" / "images"))
    ap.add_argument("--doodle", default=str(ROOT.parent / "shared" / "images" / "doodle"))
    ap.add_argument("--work", default=str(ROOT / "out" / "doodle_figure"))
    ap.add_argument("--size", default="512x384")
    ap.add_argument("extra", nargs="*", help="more flags for `untrained doodle`")
    args = ap.parse_args()
    work, images = Path(args.work), Path(args.images)
    work.mkdir(parents=True, exist_ok=True)
    painting = Image.open(Path(args.doodle) / "Monet.jpg").convert("RGB")
    smap, tmap = style_map(painting.size), target_map(tuple(int(v) for v in args.size.split("x")))
    smap.save(work / "monet_map.png")
    tmap.save(work / "target_map.png")
    out = work / "doodle.png"
    cmd = [sys.executable, "-m", "untrained", "doodle", "--style", str(Path(args.doodle) / "Monet.jpg"),
           "--style-map", str(work / "monet_map.png"), "--map", str(work / "target_map.png"), "-o", str(out),
           "--quiet", *args.extra]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result, style, target = load_image(out), load_image(Path(args.doodle) / "Monet.jpg"), load_image(work / "target_map.png")
    smap_t = load_image(work / "monet_map.png")
    colours = check_maps(smap_t, target)
    dist = metrics.region_swd(result, one_hot(target, colours)[0], style, one_hot(smap_t, colours)[0])
    strip = Image.new("RGB", (3 * painting.width // 2 + 20, painting.height // 2), "white")
    for i, im in enumerate((painting, smap, tmap)):
        strip.paste(im.resize((painting.width // 2, painting.height // 2)), (i * (painting.width // 2 + 10), 0))
    images.mkdir(parents=True, exist_ok=True)
    strip.save(images / "doodle_maps.png")
    Image.open(out).save(images / "doodle_brushwork.png")
    print(json.dumps({"command": " ".join(["untrained", *cmd[3:]]), "seconds": round(seconds, 1),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                      "region_swd": [round(d, 3) for d in dist]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
