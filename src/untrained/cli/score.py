"""``untrained score``: objective metrics of an output against its reference."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError
from ..io import load_image
from .args import add_debug, add_net_args, net_from_args


def run(args: argparse.Namespace) -> int:
    from .. import metrics

    output, reference = load_image(args.output), load_image(args.reference)
    content = load_image(args.content) if args.content else None
    if args.task not in ("texture", "invert", "style"):
        raise UserError(f"unknown task {args.task!r}; choose from texture, invert, style")
    if args.content and args.task != "style":
        raise UserError("--content is for --task style")
    if args.layer and args.task != "invert":
        raise UserError("--layer is for --task invert (the relative feature error of an inversion)")
    net = None
    if args.task == "invert" and args.layer:
        from ..nets import build

        spec = net_from_args(args, "vgg19")
        spec.index(args.layer)
        net = build(spec, args.net_seed)
    for image, what in ((output, "output"), (reference, "reference")):
        if min(image.shape[-2:]) < 16:
            raise UserError(f"the {what} is {image.shape[-1]}×{image.shape[-2]} px; "
                            "scoring needs at least 16×16")
    scores = metrics.evaluate(output, reference, args.task, content, net, args.layer)
    scores = {k: round(v, 6) for k, v in scores.items()}
    if args.table:
        width = max(len(k) for k in scores)
        for k, v in scores.items():
            print(f"{k:{width}s}  {v:10.4f}")
    else:
        print(json.dumps(scores, indent=2))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("score", allow_abbrev=False,
                       help="objective metrics of an output against its reference (no pretrained "
                            "nets)")
    p.add_argument("output", help="the synthesised image")
    p.add_argument("reference",
                   help="the exemplar (texture), the original (invert) or the style image (style)")
    p.add_argument("--task", default="texture", help="texture (default), invert or style")
    p.add_argument("--content", help="content image, for --task style")
    p.add_argument("--layer",
                   help="for --task invert: also the relative feature error at this layer of the "
                        "net flags' net")
    p.add_argument("--net-seed", type=int, default=0,
                   help="for --layer: the network's weight seed (a run's net seed)")
    p.add_argument("--table", action="store_true", help="a readable table instead of JSON")
    add_net_args(p)
    add_debug(p)
    p.set_defaults(func=run)
