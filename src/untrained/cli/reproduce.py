"""``untrained reproduce``: run one of the papers' experiments (bundled sweep specs)."""

from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from .args import add_executor_args
from .progress import EXIT_USER
from .sweep import run_sweep_with_flags, sweep_folder


def run(args: argparse.Namespace) -> int:
    from ..sweep.reproduce import load_recipe, recipes

    if args.list or not args.name:
        for name, about in recipes().items():
            print(f"{name:32s} {about}")
        return 0 if args.list else EXIT_USER
    if not args.output:
        raise UserError("reproduce: give an output folder with -o")
    inputs = {}
    for item in args.input:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise UserError(f"--input takes KEY=PATH (e.g. style=picasso.jpg), got {item!r}")
        inputs[key] = path
    spec, notes = load_recipe(args.name, args.quick, inputs, args.weights_file)
    directory = sweep_folder(args)
    for note in notes:
        print(f"{args.name}: {note}", file=sys.stderr)
    rows = run_sweep_with_flags(args, spec, directory, notes)
    failed = [r for r in rows if r.get("status") == "error"]
    print(f"{args.name}: {len(rows)} runs, report in {directory / 'report.md'} "
          f"({len(failed)} failed)", file=sys.stderr)
    return 1 if failed else 0


def add_parser(sub) -> None:
    p = sub.add_parser("reproduce", allow_abbrev=False,
                       help="run one of the papers' experiments (bundled sweep specs)")
    p.add_argument("name", nargs="?", help="experiment name (see --list)")
    p.add_argument("-o", "--output", help="the experiment's folder")
    p.add_argument("--list", action="store_true", help="list the experiments")
    p.add_argument("--quick", action="store_true",
                   help="tiny runs (48², 3 evaluations) to check the pipeline")
    add_executor_args(p)
    p.add_argument("--input", action="append", default=[], metavar="KEY=PATH",
                   help="use your image for one of the experiment's inputs (content, style, "
                        "exemplar, image); repeatable")
    p.add_argument("--weights-file", metavar="PATH",
                   help="a trained VGG-19 state dict (torchvision layout) for the points that "
                        "compare against trained weights (Du 2020 Figs. 3-5); without it they are "
                        "left out")
    p.set_defaults(func=run)
