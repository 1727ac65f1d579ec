"""``untrained texture``: a texture from one or more exemplars (He et al. 2016; Du 2020)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..errors import UserError
from ..io import check_writable, load_image
from .args import (add_task_common, finite, net_from_args, optim_from_args, parse_layers,
                   parse_size, parse_weights)
from .progress import run_synthesis


def run(args: argparse.Namespace) -> int:
    from ..synth.common import resolve_size
    from ..synth.texture import TextureConfig, default_net_options, texture_synthesis
    from ..synth.loop import UNSET_DEFAULTS

    output = Path(args.output or f"{Path(args.exemplar[0]).stem}_texture.png")
    check_writable(output)
    exemplars = [load_image(p) for p in args.exemplar]
    defaults = default_net_options(args.loss, resolve_size(args.size, tuple(exemplars[0].shape[-2:])))
    refine, coarse = None, args.coarse_nets
    if args.quality == "high":  # full width, every layer at every scale, twice the steps, no caps, one draw
        defaults.pop("width", None)
        coarse = 1 if coarse is None else coarse
        steps = args.optim_defaults.iterations or UNSET_DEFAULTS["iterations"]
        args.optim_defaults = replace(args.optim_defaults, iterations=2 * steps,
                                      scale_evaluations=())
        refine = ()
    elif args.quality != "fast":
        raise UserError(f"unknown quality {args.quality!r}; choose from fast, high")
    cfg = TextureConfig(
        size=args.size, net=net_from_args(args, defaults), layers=args.layers or (),
        refine_layers=args.refine_layers if args.refine_layers is not None else refine,
        finest_layers=args.finest_layers, crops=TextureConfig.crops if args.crops is None else args.crops,
        loss=args.loss, variety=args.variety, tv=args.tv,
        spectrum_weight=args.spectrum_weight, tile=args.tile, net_per_scale=args.net_per_scale,
        coarse_nets=coarse,
        blend=args.blend or (),
        style_weight=args.style_weight, smoothness=args.smoothness, normalize=not args.no_normalize,
        init=args.init, optim=optim_from_args(args), seed=args.seed,
    )
    synthesis, config = texture_synthesis(exemplars, cfg, device=args.device)
    one = len(exemplars) == 1
    config["inputs"]["exemplar_path" if one else "exemplar_paths"] = (
        str(args.exemplar[0]) if one else [str(p) for p in args.exemplar])
    return run_synthesis(args, synthesis, config, output, synthesis.optim.max_evaluations())


def add_parser(sub) -> None:
    from ..synth.texture import TextureConfig

    p = sub.add_parser("texture", allow_abbrev=False,
                       help="synthesise a texture from an exemplar (Gram matrices, He et al. 2016)")
    p.add_argument("exemplar", nargs="+",
                   help="exemplar image(s) (any format Pillow reads); several are blended")
    p.add_argument("--blend", type=parse_weights, default=None,
                   help="weights of several exemplars, e.g. 0.7,0.3 (default equal)")
    p.add_argument("--tile", action="store_true",
                   help="make the output tileable (seamless when repeated)")
    p.add_argument("--quality", default="fast",
                   help="fast (default: VGG-19 at half width, binary weights; full width for "
                        "outputs up to 128²) or high (full width, every layer at every scale, "
                        "twice the steps, no caps: ~8× the time)")
    p.add_argument("--spectrum-weight", type=finite, default=1.0,
                   help="weight of the +spectrum term (default 1)")
    p.add_argument("--size", type=parse_size, default=None,
                   help="output WIDTHxHEIGHT or one number (default: the exemplar's size)")
    p.add_argument("--layers", type=parse_layers, default=None,
                   help="comma-separated layers (default: the net's style layers)")
    p.add_argument("--refine-layers", type=parse_layers, default=None,
                   help="layers matched at the scales after the coarsest (default with the net's "
                        "layers: all but the deepest)")
    p.add_argument("--finest-layers", type=parse_layers, default=None,
                   help="layers matched at the finest scale (default: the refine layers; "
                        "conv1_1,conv1_2 is ~12%% faster at 256², worse on fine textures)")
    p.add_argument("--crops", type=int, default=None,
                   help="match the mean Gram matrix of N×N output-sized crops of an exemplar larger "
                        "than the output, at every scale (default 2: the fewest "
                        "that cover it; more when it is over N times the output; 0: the whole exemplar, as the "
                        "papers do — with zero padding a larger exemplar's border share then "
                        "cannot be matched; an exemplar smaller than the output has its border "
                        "positions weighed by the output's share unless N is 0)")
    p.add_argument("--net-per-scale", action=argparse.BooleanOptionalAction, default=None,
                   help="draw a fresh net (same architecture and weight scheme) for every scale "
                        "after the coarsest (default: on for Gram outputs up to 256², off otherwise; "
                        "--no-net-per-scale: one net throughout, as the papers do)")
    p.add_argument("--coarse-nets", type=int, default=None, metavar="N",
                   help="match the exemplar under N draws of the net at once at the coarsest scale "
                        "(default: 2 for Gram outputs above 128² up to 256², 1 otherwise)")
    p.add_argument("--style-weight", type=finite, default=1.0,
                   help="weight of the Gram terms (default 1)")
    p.add_argument("--smoothness", type=finite, default=0.0,
                   help="total-variation weight (default 0)")
    p.add_argument("--no-normalize", action="store_true",
                   help="turn off He et al.'s automatic per-layer weights")
    p.add_argument("--init", default="noise", help="starting image: noise or mean (default noise)")
    p.add_argument("--loss", default="gram",
                   help="gram (He et al.; default, net vgg19), patch (Champandard's neural "
                        "patches; net champandard) or swd (Heitz et al.'s sliced Wasserstein); "
                        "+spectrum adds Liu et al.'s Fourier term, e.g. gram+spectrum")
    p.add_argument("--variety", type=finite, default=0.0,
                   help="patch loss: lower each exemplar patch's score by VARIETY × its best "
                        "score of "
                        "the previous evaluation (neural-doodle's --variety)")
    p.add_argument("--tv", default="squared",
                   help="total-variation form: squared (default) or doodle (neural-doodle's "
                        "mean((dx²+dy²)^1.25) on [-1, 1])")
    add_task_common(p, TextureConfig().optim, run)
