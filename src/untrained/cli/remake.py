"""``untrained remake``: TARGET's layout with SOURCE's look (issue #19)."""

from __future__ import annotations

import argparse

from ..io import load_image
from .args import finite, parse_size
from .edit import add_edit_args, config_from_args, default_output, run_edit


def run(args: argparse.Namespace) -> int:
    from ..synth.remake import remake_edit

    target = load_image(args.target)
    sources = [load_image(p) for p in args.like]
    paths = {"target_path": args.target, "source_paths": list(args.like)}
    cfg = lambda: config_from_args(args, content_weight=args.content_weight)  # noqa: E731
    return run_edit(args, lambda: remake_edit(target, sources, cfg(), args.size),
                    args.output or default_output(args.target, "remake"), paths)


def add_parser(sub) -> None:
    from ..synth.remake import REMAKE_DEFAULTS

    p = sub.add_parser("remake", allow_abbrev=False,
                       help="TARGET's layout with the look of the --like image(s)")
    p.add_argument("target", help="the image whose layout is kept")
    p.add_argument("--like", nargs="+", required=True, metavar="SOURCE",
                   help="the image(s) whose look to take")
    p.add_argument("--size", type=parse_size, default=None,
                   help="output WIDTHxHEIGHT (default: TARGET's size)")
    p.add_argument("--content-weight", type=finite, default=None,
                   help="weight of the layout (content) term (default "
                        f"{REMAKE_DEFAULTS.content_weight:g})")
    add_edit_args(p, REMAKE_DEFAULTS, run)
