"""``untrained expand``: outpainting — TARGET kept as it is, the canvas around it synthesised."""

from __future__ import annotations

import argparse

from ..errors import UserError
from ..io import load_image
from .args import parse_size
from .edit import add_edit_args, config_from_args, default_output, run_edit


def parse_at(text: str) -> tuple[int, int]:
    """``"X,Y"`` → (x, y) in pixels."""
    try:
        x, y = (int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in pixels, got {text!r}") from None
    return x, y


def run(args: argparse.Namespace) -> int:
    from ..synth.repair import expand_edit

    if args.size is None:
        raise UserError("expand needs the new size: --size WIDTHxHEIGHT")
    target = load_image(args.target)
    sources = [load_image(p) for p in args.sources]
    paths = {"target_path": args.target, "source_paths": list(args.sources)}
    output = args.output or default_output(args.target, "expand")
    return run_edit(args, lambda: expand_edit(target, args.size, args.at, sources,
                                              config_from_args(args)), output, paths)


def add_parser(sub) -> None:
    from ..synth.repair import FILL_DEFAULTS

    p = sub.add_parser("expand", allow_abbrev=False,
                       help="outpaint: TARGET kept unchanged on a larger canvas whose rest "
                            "continues it")
    p.add_argument("target", help="the image to expand")
    p.add_argument("--size", type=parse_size, default=None, help="the new WIDTHxHEIGHT (required)")
    p.add_argument("--at", type=parse_at, default=None, metavar="X,Y",
                   help="TARGET's top-left corner on the canvas (default centred)")
    p.add_argument("--with", dest="sources", nargs="+", default=[], metavar="SOURCE",
                   help="continue with these images' statistics instead of TARGET's")
    add_edit_args(p, FILL_DEFAULTS, run)
