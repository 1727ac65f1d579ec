"""``untrained invert``: reconstruct an image from one layer's activations (He et al. 2016)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..io import check_writable, load_image
from .args import add_task_common, finite, net_from_args, optim_from_args, parse_size
from .progress import run_synthesis


def run(args: argparse.Namespace) -> int:
    from ..synth.invert import InvertConfig, invert_scores, invert_synthesis

    output = Path(args.output or f"{Path(args.image).stem}_{args.layer}.png")
    check_writable(output)
    image = load_image(args.image)
    cfg = InvertConfig(layer=args.layer, size=args.size, net=net_from_args(args, "vgg19"),
                       smoothness=args.smoothness, optim=optim_from_args(args), seed=args.seed)
    synthesis, config, problem = invert_synthesis(image, cfg)
    config["inputs"]["image_path"] = str(args.image)
    total = synthesis.optim.max_evaluations()
    return run_synthesis(args, synthesis, config, output, total,
                         scores=lambda out: invert_scores(problem, out))


def add_parser(sub) -> None:
    from ..synth.invert import InvertConfig

    p = sub.add_parser("invert", allow_abbrev=False,
                       help="reconstruct an image from one layer's activations (He et al. 2016)")
    p.add_argument("image", help="the image to invert")
    p.add_argument("--layer", default="conv3_1",
                   help="any layer of the net, pooling layers included (default conv3_1)")
    p.add_argument("--size", type=parse_size, default=None,
                   help="resize the image to WIDTHxHEIGHT first")
    p.add_argument("--smoothness", type=finite, default=0.0,
                   help="total-variation weight (default 0)")
    add_task_common(p, InvertConfig().optim, run)
