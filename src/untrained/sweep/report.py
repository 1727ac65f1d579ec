"""A sweep's report: labelled contact sheets, loss curves (matplotlib) and ``report.md``.

Compute never plots; this module only reads the run folders a sweep wrote.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..io import atomic_write_bytes
from .run import write_table

CELL = 160


def _value(row: dict[str, Any], axis: str) -> str:
    v = row.get(axis, "")
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def contact_sheet(directory: Path, rows: list[dict], row_axis: str | None, col_axis: str | None) -> Path | None:
    """A PNG grid of the finished runs' images, rows × columns by the two axes (the first run of
    each cell when other axes vary too; one column per run without a column axis), labelled."""
    done = [r for r in rows if r.get("status") == "ok"]
    if not done:
        return None
    cells: dict[tuple[str, str], dict] = {}
    for r in done:
        key = (_value(r, row_axis) if row_axis else "", _value(r, col_axis) if col_axis else r["key"])
        cells.setdefault(key, r)
    row_vals = sorted({k[0] for k in cells})
    col_vals = sorted({k[1] for k in cells})
    label_w, label_h = (170 if row_axis else 0), 18
    sheet = Image.new("RGB", (label_w + CELL * len(col_vals), label_h + CELL * len(row_vals)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, c in enumerate(col_vals):
        draw.text((label_w + j * CELL + 4, 2), f"{col_axis or 'run'}={c}"[:26], fill="black")
    for i, r in enumerate(row_vals):
        if row_axis:
            draw.text((4, label_h + i * CELL + CELL // 2), f"{row_axis}={r}"[:27], fill="black")
    for (r, c), run in cells.items():
        with Image.open(directory / "runs" / run["key"] / "image.png") as img:
            thumb = img.convert("RGB")
        thumb.thumbnail((CELL - 4, CELL - 4))
        sheet.paste(thumb, (label_w + col_vals.index(c) * CELL + 2, label_h + row_vals.index(r) * CELL + 2))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    path = directory / "contact_sheet.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


def loss_plot(directory: Path, rows: list[dict], label_axes: list[str]) -> Path | None:
    """Loss per evaluation of every finished run (log scale), one line each (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.get("status") == "ok"]
    if not done:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in done:
        history = json.loads((directory / "runs" / r["key"] / "history.json").read_text())
        label = ", ".join(f"{a}={_value(r, a)}" for a in label_axes) or r["key"]
        ax.plot(range(1, len(history["loss"]) + 1), history["loss"], label=label, linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss (per-scale normalised)")
    if len(done) <= 12:
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    path = directory / "loss_curves.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


def build_report(directory: str | Path, axes: list[str] | None = None, labels: dict[str, str] | None = None) -> Path:
    """Rebuild ``results.csv``, ``contact_sheet.png``, ``loss_curves.png`` and ``report.md``."""
    directory = Path(directory)
    rows = write_table(directory, axes)
    axes = axes or sorted({k for r in rows for k in r} - {"key", "status", "error", "seconds", "evaluations", "score",
                                                          "swd", "spectrum", "color", "gram_random", "copy", "psnr",
                                                          "ssim", "relative_feature_error", "content_ssim", "content_edges"})
    labels = labels or {}
    col_axis = labels.get("cols") or (axes[1] if len(axes) > 1 else (axes[0] if axes else None))
    row_axis = labels.get("rows") or next((a for a in axes if a != col_axis), None)
    sheet = contact_sheet(directory, rows, row_axis, col_axis)
    plot = loss_plot(directory, rows, axes)
    metric_cols = [c for c in ("score", "swd", "spectrum", "color", "gram_random", "copy", "psnr", "ssim",
                               "relative_feature_error", "seconds") if any(c in r for r in rows)]
    lines = ["# Sweep report", "", f"{len(rows)} runs; {sum(r.get('status') == 'ok' for r in rows)} finished, "
             f"{sum(r.get('status') == 'error' for r in rows)} failed. Table: `results.csv`.", ""]
    if sheet:
        lines += [f"![contact sheet]({sheet.name})", ""]
    if plot:
        lines += [f"![loss curves]({plot.name})", ""]
    header = ["key", "status", *axes, *metric_cols]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["key"], r.get("status", "")] + [_value(r, a) for a in axes]
        cells += [f"{r[c]:.4g}" if isinstance(r.get(c), (int, float)) else str(r.get(c, "")) for c in metric_cols]
        lines.append("| " + " | ".join(cells) + " |")
    errors = [r for r in rows if r.get("status") == "error"]
    if errors:
        lines += ["", "## Failed runs", ""] + [f"- `{r['key']}`: {r.get('error', '')}" for r in errors]
    path = directory / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path
