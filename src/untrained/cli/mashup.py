"""``untrained mashup``: one texture mixing the patches of several sources (issue #19)."""

from __future__ import annotations

import argparse

from ..io import load_image
from .args import parse_size
from .edit import add_edit_args, config_from_args, default_output, run_edit


def run(args: argparse.Namespace) -> int:
    from ..synth.mashup import mashup_edit

    sources = [load_image(p) for p in args.sources]
    paths = {"source_paths": list(args.sources)}
    return run_edit(args, lambda: mashup_edit(sources, config_from_args(args), args.size),
                    args.output or default_output(args.sources[0], "mashup"), paths)


def add_parser(sub) -> None:
    from ..synth.mashup import MASHUP_DEFAULTS

    p = sub.add_parser("mashup", allow_abbrev=False,
                       help="one texture made of the patches of several sources (unlike texture "
                            "--blend, "
                            "which averages their statistics)")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="two or more images")
    p.add_argument("--size", type=parse_size, default=None,
                   help="output WIDTHxHEIGHT (default: the first source's size)")
    add_edit_args(p, MASHUP_DEFAULTS, run, losses="patch")
