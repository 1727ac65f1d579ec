"""Regenerate the README's "Editing images" pictures and print each command's time.

    .venv/bin/python docs/make_edit_figures.py [--only repair,tile,...]

Small copies of redistributable inputs go in docs/images/edit/ (bark: textures/3.jpg of
EmbarkStudios/texture-synthesis and its mask masks/3_inpaint.jpg; water, ink: examples/;
smoke: textures/2.jpg), then each command runs exactly as the README shows it, timed, and a
before | after picture is saved beside them.  Each command runs on one thread
(OMP_NUM_THREADS=1); the CPU seconds are the fair measure on a shared machine.  Needs ../shared/images for the bark and smoke.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from untrained.image import resize  # noqa: E402
from untrained.io import load_image, save_image  # noqa: E402

SHARED = ROOT.parent / "shared" / "images"
EDIT = Path("docs/images/edit")

#: name → (the command's arguments, the "before" images, the output)
COMMANDS = {
    "repair": (f"repair {EDIT}/bark.png --mask {EDIT}/bark_mask.png -o {EDIT}/bark_repaired.png",
               ["bark.png"], "bark_repaired.png"),
    "tile": (f"repair {EDIT}/water.png --tile -o {EDIT}/water_tile.png", ["water.png"], "water_tile.png"),
    "expand": (f"expand {EDIT}/water.png --size 192x96 -o {EDIT}/water_expanded.png", ["water.png"], "water_expanded.png"),
    "enhance": (f"enhance {EDIT}/water_small.png --zoom 4 --with {EDIT}/water_detail.png -o {EDIT}/water_enhanced.png",
                ["water_small.png", "water_detail.png"], "water_enhanced.png"),
    "remake": (f"remake {EDIT}/smoke.png --like {EDIT}/ink.png -o {EDIT}/smoke_remade.png", ["smoke.png", "ink.png"],
               "smoke_remade.png"),
    "mashup": (f"mashup {EDIT}/water.png {EDIT}/ink.png -o {EDIT}/mashup.png", ["water.png", "ink.png"], "mashup.png"),
}


def prepare() -> None:
    """The small inputs (PNG, so the repaired pixels' neighbours stay exact)."""
    (ROOT / EDIT).mkdir(parents=True, exist_ok=True)
    bark = load_image(SHARED / "textures" / "3.jpg")
    save_image(ROOT / EDIT / "bark.png", resize(bark, (128, 128)))
    mask = (resize(load_image(SHARED / "masks" / "3_inpaint.jpg"), (128, 128)) > 0.5).float()
    save_image(ROOT / EDIT / "bark_mask.png", mask)
    water = load_image(ROOT / "examples" / "water.jpg")  # 300²
    save_image(ROOT / EDIT / "water_small.png", resize(water, (48, 48)))
    save_image(ROOT / EDIT / "water_detail.png", water[..., 0:128, 0:128])  # full resolution: the detail to learn
    save_image(ROOT / EDIT / "water.png", resize(load_image(ROOT / "examples" / "water.jpg"), (96, 96)))
    save_image(ROOT / EDIT / "ink.png", resize(load_image(ROOT / "examples" / "ink.jpg"), (96, 96)))
    save_image(ROOT / EDIT / "smoke.png", resize(load_image(SHARED / "textures" / "2.jpg"), (96, 96)))


def side_by_side(images: list[torch.Tensor], gap: int = 6) -> torch.Tensor:
    h = max(i.shape[-2] for i in images)
    parts = []
    for i in images:
        pad = torch.ones(1, 3, h, i.shape[-1])
        pad[..., :i.shape[-2], :] = i
        parts += [pad, torch.ones(1, 3, h, gap)]
    return torch.cat(parts[:-1], dim=-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(COMMANDS))
    args = ap.parse_args()
    prepare()
    times = {}
    for name in args.only.split(","):
        command, before, after = COMMANDS[name]
        start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "untrained", *command.split(), "--quiet"], cwd=ROOT, check=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
        after_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        times[name] = {"wall": round(time.perf_counter() - start, 1),
                       "cpu": round(after_cpu.ru_utime + after_cpu.ru_stime - cpu.ru_utime - cpu.ru_stime, 1)}
        inputs = [load_image(ROOT / EDIT / b) for b in before]
        out = load_image(ROOT / EDIT / after)
        if name == "tile":  # 2 × 2 copies, before and after: the seams show or vanish
            inputs = [torch.cat([torch.cat([i, i], -1)] * 2, -2) for i in inputs]
            out = torch.cat([torch.cat([out, out], -1)] * 2, -2)
        save_image(ROOT / EDIT / f"{name}_before_after.png", side_by_side(inputs + [out]))
        print(f"{name}: untrained {command}  — {times[name]['wall']} s wall, {times[name]['cpu']} s CPU "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
