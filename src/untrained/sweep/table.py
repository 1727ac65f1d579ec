"""A sweep folder's results: one row per run folder, and ``results.csv``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes


def collect(directory: str | Path) -> list[dict[str, Any]]:
    """One row per run folder: its key, axis values, metrics or error."""
    rows = []
    for folder in sorted((Path(directory) / "runs").glob("*/")):
        try:
            info = json.loads((folder / "point.json").read_text())
        except (OSError, ValueError):
            continue
        row = {"key": folder.name, **info["point"]}
        if (folder / "metrics.json").exists():
            row.update(status="ok", **json.loads((folder / "metrics.json").read_text()))
        elif (folder / "error.json").exists():
            error = json.loads((folder / "error.json").read_text())["error"]
            row.update(status="error", error=error)
        else:
            row.update(status="unfinished")
        rows.append(row)
    return rows


def write_table(directory: str | Path, axes: list[str] | None = None) -> list[dict[str, Any]]:
    """Write ``results.csv`` (one row per run, every axis and metric) atomically; return the
    rows."""
    rows = collect(directory)
    columns: list[str] = ["key", "status"] + list(axes or [])
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                         for k, v in row.items()})
    atomic_write_bytes(Path(directory) / "results.csv", buf.getvalue().encode())
    return rows
