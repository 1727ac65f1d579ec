"""A sweep's report: labelled contact sheets, loss curves (matplotlib) and ``report.md``.

Compute never plots; this module only reads the run folders a sweep wrote.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..io import atomic_write_bytes
from .table import write_table

CELL = 160


def _value(row: dict[str, Any], axis: str) -> str:
    v = row.get(axis, "")
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def _order(rows: list[dict], values: dict[str, list]) -> list[dict]:
    """*rows* sorted by the position of their axis values in the spec (unknown values last)."""
    ranks = {axis: {_value({axis: v}, axis): i for i, v in enumerate(vals)} for axis, vals in values.items()}
    return sorted(rows, key=lambda r: [ranks[a].get(_value(r, a), len(ranks[a])) for a in values])


def _short(values: list[str]) -> dict[str, str]:
    """Labels for axis values: lists (e.g. ``layers``) read as words; tables (e.g. ``net``
    options) lose the entries they all share."""
    parsed = {}
    for v in values:
        try:
            parsed[v] = json.loads(v)
        except ValueError:
            return {v: v for v in values}
    if all(isinstance(p, list) for p in parsed.values()):
        return {v: " ".join(map(str, p)) for v, p in parsed.items()}
    if not all(isinstance(p, dict) for p in parsed.values()):
        return {v: v for v in values}
    tables = parsed
    common = set.intersection(*(set(json.dumps(kv) for kv in t.items()) for t in tables.values())) if tables else set()
    out = {}
    for v, t in tables.items():
        kept = [f"{k}={x}" for k, x in t.items() if json.dumps([k, x]) not in common]
        out[v] = " ".join(kept) or "(base)"
    return out


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
    row_vals = list(dict.fromkeys(k[0] for k in cells))
    col_vals = list(dict.fromkeys(k[1] for k in cells))
    col_names, row_names = _short(col_vals), _short(row_vals)
    label_w, title_h = (170 if row_axis else 0), 14
    top = title_h + 30  # the title line, then two lines of column labels
    sheet = Image.new("RGB", (max(label_w + CELL * len(col_vals), 300), top + CELL * len(row_vals)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 1), f"columns: {col_axis or 'run'}" + (f"    rows: {row_axis}" if row_axis else ""), fill="black")
    for j, c in enumerate(col_vals):
        text = col_names[c]
        draw.text((label_w + j * CELL + 4, title_h + 2), "\n".join(textwrap.wrap(text, 26)[:2]), fill="black")
    for i, r in enumerate(row_vals):
        if row_axis:
            draw.text((4, top + i * CELL + CELL // 2), row_names[r][:27], fill="black")
    for (r, c), run in cells.items():
        with Image.open(directory / "runs" / run["key"] / "image.png") as img:
            thumb = img.convert("RGB")
        thumb.thumbnail((CELL - 4, CELL - 4))
        sheet.paste(thumb, (label_w + col_vals.index(c) * CELL + 2, top + row_vals.index(r) * CELL + 2))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    path = directory / "contact_sheet.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


def _groups(rows: list[dict], axes: list[str]) -> dict[str, list[dict]]:
    """Finished runs grouped by their values on *axes* (insertion order)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("status") == "ok":
            groups.setdefault(", ".join(f"{a}={_value(r, a)}" for a in axes) or r["key"], []).append(r)
    return groups


def loss_plot(directory: Path, rows: list[dict], label_axes: list[str]) -> Path | None:
    """Loss per evaluation of every finished run (log scale), one colour per value of
    *label_axes* (runs that differ only in other axes, e.g. seeds, share it) (matplotlib)."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure registry

    groups = _groups(rows, label_axes)
    if not groups:
        return None
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, runs) in enumerate(groups.items()):
        for j, r in enumerate(runs):
            history = json.loads((directory / "runs" / r["key"] / "history.json").read_text())
            ax.plot(range(1, len(history["loss"]) + 1), history["loss"], color=colours[i % len(colours)],
                    linestyle="-" if i < len(colours) else "--", linewidth=1, label=label if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss (per-scale normalised)")
    if len(groups) <= 20:
        ax.legend(fontsize=6)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    path = directory / "loss_curves.png"
    atomic_write_bytes(path, buf.getvalue())
    return path


METRICS = ("score", "swd", "spectrum", "color", "gram_random", "copy", "psnr", "ssim", "relative_feature_error",
           "content_ssim", "content_edges", "seconds")


def mean_sd(values: list[float], digits: int = 4) -> str:
    """``"mean ± sample sd"`` of *values* to *digits* significant digits (the mean alone for one
    value, blank for none)."""
    if not values:
        return ""
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{digits}g}"
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.{digits}g} ± {sd:.2g}"


def _fmt(runs: list[dict], metric: str) -> str:
    """Mean ± sample sd of *metric* over *runs* (blank when none has it)."""
    return mean_sd([r[metric] for r in runs if isinstance(r.get(metric), (int, float))])


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in body]


def build_report(directory: str | Path, axes: list[str] | None = None, labels: dict[str, str] | None = None) -> Path:
    """Rebuild ``results.csv``, ``contact_sheet.png``, ``loss_curves.png`` and ``report.md``.

    Axes, labels and notes come from the sweep's ``sweep.json`` unless given.  When runs differ
    in more axes than the sheet's rows and columns (seeds, say), report.md adds the mean ± sd of
    every metric over those other axes."""
    directory = Path(directory)
    info = {}
    if (directory / "sweep.json").is_file():
        try:
            info = json.loads((directory / "sweep.json").read_text())
        except ValueError:
            info = {}
    axes = axes if axes is not None else info.get("axes")
    labels = labels if labels is not None else info.get("labels", {})
    rows = write_table(directory, axes)
    axes = axes or sorted({k for r in rows for k in r} - {"key", "status", "error", "evaluations", "threads", *METRICS})
    rows = _order(rows, info.get("values") or {a: sorted({_value(r, a) for r in rows}) for a in axes})
    col_axis = labels.get("cols") or (axes[1] if len(axes) > 1 else (axes[0] if axes else None))
    row_axis = labels.get("rows") or next((a for a in axes if a != col_axis), None)
    shown = [a for a in (row_axis, col_axis) if a]
    sheet = contact_sheet(directory, rows, row_axis, col_axis)
    plot = loss_plot(directory, rows, shown)
    metric_cols = [c for c in METRICS if any(c in r for r in rows)]
    lines = ["# Sweep report", "", f"{len(rows)} runs; {sum(r.get('status') == 'ok' for r in rows)} finished, "
             f"{sum(r.get('status') == 'error' for r in rows)} failed. Table: `results.csv`.", ""]
    lines += [f"- {n}" for n in info.get("notes", [])] + ([""] if info.get("notes") else [])
    if sheet:
        lines += [f"![contact sheet]({sheet.name})", ""]
    if plot:
        lines += [f"![loss curves]({plot.name})", ""]
    others = [a for a in axes if a not in shown]
    if others:
        groups = _groups(rows, shown)
        lines += [f"Mean ± sd over {', '.join(others)}:", ""]
        lines += _table(["runs", *shown, *metric_cols],
                        [[str(len(g)), *[_value(g[0], a) for a in shown], *[_fmt(g, c) for c in metric_cols]]
                         for g in groups.values()]) + [""]
    lines += _table(["key", "status", *axes, *metric_cols],
                    [[r["key"], r.get("status", ""), *[_value(r, a) for a in axes],
                      *[f"{r[c]:.4g}" if isinstance(r.get(c), (int, float)) else str(r.get(c, "")) for c in metric_cols]]
                     for r in rows])
    errors = [r for r in rows if r.get("status") == "error"]
    if errors:
        lines += ["", "## Failed runs", ""] + [f"- `{r['key']}`: {r.get('error', '')}" for r in errors]
    path = directory / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path
