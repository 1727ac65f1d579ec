"""``untrained report``: rebuild a sweep folder's table, contact sheet, plot and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from .args import add_debug


def run(args: argparse.Namespace) -> int:
    from ..sweep import build_report

    directory = Path(args.directory)
    if not (directory / "runs").is_dir():
        raise UserError(f"{directory} holds no sweep (no runs/ folder)")
    print(f"report → {build_report(directory)}", file=sys.stderr)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("report", allow_abbrev=False,
                       help="rebuild a sweep folder's results table, contact sheet, loss plot and "
                            "report.md from its runs")
    p.add_argument("directory")
    add_debug(p)
    p.set_defaults(func=run)
