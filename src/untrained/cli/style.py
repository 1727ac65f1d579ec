"""``untrained style``: style transfer with a random network (Gatys; He et al.; Du 2020)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..io import check_writable, load_image
from .args import (add_task_common, finite, given, net_flags_given, net_from_args, optim_changes,
                   parse_layers, parse_size, parse_weights)
from .progress import run_synthesis


def run(args: argparse.Namespace) -> int:
    from ..synth.style import StyleConfig, preserve_color, style_preset, style_synthesis

    output = Path(args.output or f"{Path(args.content).stem}_{Path(args.style[0]).stem}.png")
    check_writable(output)
    content, styles = load_image(args.content), [load_image(p) for p in args.style]
    base = style_preset(args.preset) if args.preset else StyleConfig()
    changes = given(args, "size", "content_layers", "style_layers", "content_weight",
                    "style_weight", "smoothness", "loss", "variety", "init", "seed",
                    "preserve_color", "style_blend", "spectrum_weight", "normalize",
                    "normalize_terms", "palette", "swd_directions")
    if args.style_scale is not None:
        changes["style_scale"] = None if args.style_scale == "native" else args.style_scale
    if net_flags_given(args):
        changes["net"] = net_from_args(args, base.net.name, base.net)
    cfg = replace(base, optim=optim_changes(args, base.optim), **changes)
    synthesis, config = style_synthesis(content, styles, cfg, device=args.device)
    config["inputs"].update(content_path=str(args.content),
                            style_paths=[str(p) for p in args.style])
    total = synthesis.optim.max_evaluations()
    mode = synthesis.problem.config.preserve_color
    return run_synthesis(args, synthesis, config, output, total,
                         finish=lambda image: preserve_color(image, content, mode))


def style_scale(text: str) -> float | str:
    """``--style-scale``: a positive number, or ``native`` (the style image's own pixels)."""
    if text == "native":
        return text
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number or native, got {text!r}")
    return value


def add_parser(sub) -> None:
    from ..synth.style import CAP_EVALUATIONS, CAP_PIXELS, DEFAULT_ITERATIONS, StyleConfig

    p = sub.add_parser("style", allow_abbrev=False,
                       help="style transfer: CONTENT repainted in the style of STYLE (Gatys; "
                            "He et al.; Du 2020)")
    p.add_argument("content", help="content image")
    p.add_argument("style", nargs="+", help="style image(s); several are blended")
    p.add_argument("--style-blend", type=parse_weights, default=None,
                   help="weights of several style images (default equal)")
    p.add_argument("--preserve-color", nargs="?", const="luminance", default=None,
                   help="keep the content's colours: luminance (default when given) or match")
    p.add_argument("--spectrum-weight", type=finite, default=None,
                   help="weight of a +spectrum term (default 1)")
    p.add_argument("--swd-directions", type=finite, default=None, metavar="F",
                   help="random directions of the SWD loss per step, as a fraction of a layer's "
                        "channels (default 0.5; Heitz et al. use 1)")
    p.add_argument("--preset",
                   help="a paper's setup: du2020 (vgg19-tutorial, β/α = 1e6, 20 L-BFGS steps, "
                        "content conv_1) or he2016 (σ = 0.015 VGG-19, content conv4_2, style "
                        "conv1_1…conv5_1, automatic weights)")
    p.add_argument("--size", type=parse_size, default=None,
                   help="output WIDTHxHEIGHT (default: the content's size)")
    p.add_argument("--content-layers", type=parse_layers, default=None,
                   help="default: the net's (conv_4 on vgg19-tutorial)")
    p.add_argument("--style-layers", type=parse_layers, default=None,
                   help="default: the net's (conv_1…conv_5 on vgg19-tutorial)")
    p.add_argument("--content-weight", type=finite, default=None,
                   help="α, relative to the style weight after He et al.'s automatic weights "
                        "(default 0.05; 0 = Du §4's no content loss)")
    p.add_argument("--style-weight", type=finite, default=None,
                   help="β (default 1, relative with --normalize; du2020: 1e6 raw, as in the tutorial)")
    p.add_argument("--smoothness", type=finite, default=None,
                   help="total-variation weight (default 0)")
    p.add_argument("--loss", default=None,
                   help="swd (default), gram or patch, optionally +spectrum")
    p.add_argument("--variety", type=finite, default=None, help="patch loss variety")
    p.add_argument("--init", default=None, help="content (default), noise or style")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None,
                   help="He et al.'s automatic per-term weights (default on)")
    p.add_argument("--normalize-terms", default=None,
                   help="which terms --normalize rescales: all (default), style or content")
    p.add_argument("--style-scale", type=style_scale, default=None,
                   help="size of the style's strokes: the style image is resized to SCALE² × the "
                        "output's area (default 1), or 'native' to use its own pixels")
    p.add_argument("--palette", default=None,
                   help="match (default): give the content the style's colours before painting; "
                        "none: start from the content's own colours")
    add_task_common(p, StyleConfig().optim, run, seed_default=None, unset_text={
        "iterations": str(DEFAULT_ITERATIONS),
        "scale_evaluations": f"at most {CAP_EVALUATIONS} a scale and {CAP_PIXELS // (512 * 512)}·512² "
                             "pixel-evaluations, e.g. 96,24,6 for 512²; none when --iterations or "
                             "--lbfgs-max-iter is given"})
