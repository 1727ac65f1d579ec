"""Collect full `untrained reproduce` runs into docs/: contact sheets, loss curves and tables.

    .venv/bin/untrained reproduce NAME -o EXPERIMENTS/NAME        # for each experiment
    .venv/bin/python docs/make_experiments.py EXPERIMENTS [--images docs/images/experiments]

For every experiment folder under EXPERIMENTS: copies its contact sheet (and loss curves) into
--images as NAME.png (NAME_loss.png) and prints, as markdown, one table of the key metrics per
label cell (mean ± sd when several runs, e.g. seeds, share a cell), in the recipe's order, with
the summed run time.  docs/experiments.md pastes these tables beside the papers' claims.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from untrained.sweep import collect  # noqa: E402
from untrained.sweep.report import _order, _value, mean_sd  # noqa: E402

#: Metrics shown per task, in order (lower is better except psnr, ssim, content_*).
SHOWN = {"texture": ("score", "spectrum", "color", "gram_random", "copy"),
         "style": ("score", "spectrum", "color", "content_ssim", "content_edges"),
         "invert": ("psnr", "ssim", "relative_feature_error")}


def table(folder: Path, info: dict, runs: list[dict]) -> list[str]:
    """Markdown lines: the experiment's cells (label axes) with their metrics, in recipe order."""
    labels = info.get("labels", {})
    shown_axes = [a for a in (labels.get("rows"), labels.get("cols")) if a] or info["axes"]
    rows = _order([r for r in runs if r.get("status") == "ok"], {a: info["values"].get(a, []) for a in shown_axes})
    cells: dict[tuple[str, ...], list[dict]] = {}
    for r in rows:
        cells.setdefault(tuple(_value(r, a) for a in shown_axes), []).append(r)
    metrics = SHOWN[info["task"]]
    lines = ["| " + " | ".join([*shown_axes, "runs", *metrics, "seconds"]) + " |",
             "|" + "---|" * (len(shown_axes) + len(metrics) + 2)]
    for k, group in cells.items():
        stats = [mean_sd([float(r[m]) for r in group if isinstance(r.get(m), (int, float))], 3) for m in metrics]
        lines.append("| " + " | ".join([*(v.replace("|", "/") for v in k), str(len(group)), *stats,
                                        mean_sd([float(r["seconds"]) for r in group], 3)]) + " |")
    total = sum(float(r["seconds"]) for r in rows)
    failed = sum(1 for r in runs if r.get("status") == "error")
    lines += ["", f"{len(rows)} runs, {total / 60:.1f} min of run time (1 thread each)"
              + (f", {failed} failed" if failed else "") + "."]
    lines += [f"{n}" for n in info.get("notes", [])]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiments", help="folder holding one `untrained reproduce` folder per experiment")
    ap.add_argument("--images", default=str(ROOT / "docs" / "images" / "experiments"))
    args = ap.parse_args()
    images = Path(args.images)
    images.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in Path(args.experiments).iterdir() if (p / "sweep.json").is_file()):
        info = json.loads((folder / "sweep.json").read_text())
        print(f"## {folder.name}\n")
        if (folder / "contact_sheet.png").is_file():
            shutil.copyfile(folder / "contact_sheet.png", images / f"{folder.name}.png")
        if info["task"] == "invert" and (folder / "loss_curves.png").is_file():
            shutil.copyfile(folder / "loss_curves.png", images / f"{folder.name}_loss.png")
        print("\n".join(table(folder, info, collect(folder))) + "\n")


if __name__ == "__main__":
    main()
