"""``untrained repair``: inpainting, and seamless tiles of a photo with ``--tile`` (issue #19)."""

from __future__ import annotations

import argparse

from ..io import load_alpha, load_image
from .edit import add_edit_args, config_from_args, default_output, run_edit


def run(args: argparse.Namespace) -> int:
    from ..synth.repair import repair_edit

    target = load_image(args.target)
    mask = load_image(args.mask) if args.mask else load_alpha(args.target)
    sources = [load_image(p) for p in args.sources]
    paths = {"target_path": args.target, "mask_path": args.mask, "source_paths": list(args.sources)}
    return run_edit(args, lambda: repair_edit(target, mask, sources, config_from_args(args),
                                              args.tile, args.band),
                    args.output or default_output(args.target, "repair"), paths)


def add_parser(sub) -> None:
    from ..synth.repair import FILL_DEFAULTS

    p = sub.add_parser("repair", allow_abbrev=False,
                       help="inpaint: repaint the masked pixels of TARGET to match the texture "
                            "around them (or SOURCE's)")
    p.add_argument("target",
                   help="the image to repair; an RGBA image's transparent pixels are repaired "
                        "unless --mask")
    p.add_argument("--mask",
                   help="black marks the pixels to repair, white those to keep (same size as "
                        "TARGET)")
    p.add_argument("--with", dest="sources", nargs="+", default=[], metavar="SOURCE",
                   help="take the fill's statistics from these images instead of TARGET's known "
                        "part")
    p.add_argument("--tile", action="store_true",
                   help="make TARGET a seamless tile: repaint a band along its borders")
    p.add_argument("--band", type=int, default=None,
                   help="--tile: the band's width in px (default 1/8 of the shorter side)")
    add_edit_args(p, FILL_DEFAULTS, run)
