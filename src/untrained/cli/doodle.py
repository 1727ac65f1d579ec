"""``untrained doodle``: Neural Doodle (Champandard 2016)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..errors import UserError
from ..io import check_writable, load_image
from .args import (add_task_common, finite, given, net_flags_given, net_from_args, optim_changes,
                   parse_layers, parse_size)
from .progress import run_synthesis


def style_map_beside(style: str) -> Path:
    """Neural Doodle's convention: the map of ``Monet.jpg`` is ``Monet_sem.png`` beside it."""
    p = Path(style)
    return p.with_name(p.stem + "_sem.png")


def run(args: argparse.Namespace) -> int:
    from ..synth.doodle import DoodleConfig, doodle_synthesis

    style_map_path = Path(args.style_map) if args.style_map else style_map_beside(args.style)
    if not args.style_map and not style_map_path.exists():
        raise UserError(f"no style map: {style_map_path} does not exist "
                        "(give one with --style-map)")
    output = Path(args.output or f"{Path(args.map).stem}_{Path(args.style).stem}.png")
    check_writable(output)
    style_image, style_map = load_image(args.style), load_image(style_map_path)
    target_map = load_image(args.map)
    content = load_image(args.content) if args.content else None
    changes = given(args, "size", "style_layers", "content_layers", "style_weight",
                    "content_weight", "semantic_weight", "smoothness", "variety", "tv", "init",
                    "seed",
                    "gram_layers", "gram_weight", "refine_layers")
    if changes.get("gram_layers") == ("none",):
        changes["gram_layers"] = ()
    base = DoodleConfig()
    if net_flags_given(args):
        changes["net"] = net_from_args(args, "champandard-asrun")
    cfg = replace(base, optim=optim_changes(args, base.optim), **changes)
    synthesis, config = doodle_synthesis(style_image, style_map, target_map, content, cfg, device=args.device)
    config["inputs"].update(style_path=str(args.style), style_map_path=str(style_map_path),
                            map_path=str(args.map),
                            content_path=str(args.content) if args.content else None)
    return run_synthesis(args, synthesis, config, output, synthesis.optim.max_evaluations())


def add_parser(sub) -> None:
    from ..synth.doodle import DoodleConfig

    p = sub.add_parser("doodle", allow_abbrev=False,
                       help="Neural Doodle: paint a semantic map from a style image and its map "
                            "(Champandard 2016)")
    p.add_argument("--style", required=True,
                   help="style image; its map is STYLE_sem.png beside it unless --style-map")
    p.add_argument("--map", required=True, help="target semantic map, in the style map's colours")
    p.add_argument("--style-map", help="the style image's semantic map")
    p.add_argument("--content", help="optional content image")
    p.add_argument("--output-size", "--size", dest="size", type=parse_size, default=None,
                   help="WIDTHxHEIGHT (default: the map's size)")
    p.add_argument("--style-layers", type=parse_layers, default=None,
                   help="patch layers (default conv3_1,conv4_1)")
    p.add_argument("--content-layers", type=parse_layers, default=None, help="default conv4_1")
    p.add_argument("--style-weight", type=finite, default=None, help="default 1 (relative)")
    p.add_argument("--content-weight", type=finite, default=None,
                   help="default 1 (relative; only with --content)")
    p.add_argument("--semantic-weight", type=finite, default=None,
                   help="weight of the map channels in matching (default 30)")
    p.add_argument("--smoothness", type=finite, default=None,
                   help="total-variation weight (default 0)")
    p.add_argument("--variety", type=finite, default=None,
                   help="lower each style patch's score by VARIETY × its best score of the "
                        "previous evaluation (neural-doodle's; default 0.75)")
    p.add_argument("--tv", default=None,
                   help="total-variation form: squared (default) or doodle (neural-doodle's)")
    p.add_argument("--gram-layers", type=parse_layers, default=None,
                   help="layers with a Gram term per region, for the regions' fine texture "
                        "(default conv1_1,conv2_1; 'none' for none)")
    p.add_argument("--gram-weight", type=finite, default=None,
                   help="weight of the per-region Gram terms (default 3, relative)")
    p.add_argument("--refine-layers", type=parse_layers, default=None,
                   help="patch layers of the scales after the coarsest (default conv4_1)")
    p.add_argument("--init", default=None, help="noise (default), content or mean")
    add_task_common(p, DoodleConfig().optim, run, seed_default=None)
