"""``untrained enhance``: example-based super-resolution with a random net (issue #19)."""

from __future__ import annotations

import argparse

from ..io import load_image
from .edit import add_edit_args, config_from_args, default_output, run_edit


def run(args: argparse.Namespace) -> int:
    from ..synth.enhance import check_zoom, enhance_edit

    zoom = check_zoom(args.zoom)
    target = load_image(args.target)
    sources = [load_image(p) for p in args.sources]
    paths = {"target_path": args.target, "source_paths": list(args.sources)}
    return run_edit(args, lambda: enhance_edit(target, zoom, sources, config_from_args(args)),
                    args.output or default_output(args.target, "enhance"), paths)


def add_parser(sub) -> None:
    from ..synth.edit import EditConfig

    p = sub.add_parser("enhance", allow_abbrev=False,
                       help="super-resolution: zoom × TARGET's size, downscaling back to TARGET, "
                            "with SOURCE's fine detail")
    p.add_argument("target", help="the image to enlarge")
    p.add_argument("--zoom", type=int, default=2,
                   help="2 or 4 (default 2); the scales run one per doubling")
    p.add_argument("--with", dest="sources", nargs="+", default=[], metavar="SOURCE",
                   help="take the fine detail's statistics from these images (default: TARGET's "
                        "own)")
    add_edit_args(p, EditConfig(), run)
