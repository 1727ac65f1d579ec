"""The ``untrained`` command: a thin layer over the library.

It parses flags into configs, owns the progress bar and ``--quiet``, turns bad input into one
line on stderr with a non-zero exit (a traceback only with ``--debug``), and on Ctrl-C writes
the best image so far and exits 130.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .config import to_dict
from .errors import UserError
from .io import check_writable, load_image, save_image
from .nets import PRESETS
from .synth.loop import OPTIMIZERS, Iterate, OptimConfig, Synthesis

EXIT_USER, EXIT_BUG, EXIT_INTERRUPTED = 2, 1, 130


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become a :class:`UserError` (one line, exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UserError(message)


def parse_size(text: str) -> tuple[int, int]:
    """``"512x384"`` (width × height) or ``"256"`` → (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT or one number, got {text!r}") from None
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or min(nums) < 1:
        raise argparse.ArgumentTypeError(f"expected positive WIDTHxHEIGHT or one positive number, got {text!r}")
    width, height = nums
    return height, width


def parse_layers(text: str) -> tuple[str, ...]:
    """``"conv1_1,conv2_1"`` → ``("conv1_1", "conv2_1")``."""
    layers = tuple(t.strip() for t in text.split(",") if t.strip())
    if not layers:
        raise argparse.ArgumentTypeError("name at least one layer")
    return layers


def finite(text: str) -> float:
    """A finite float (argparse ``type``), so ``nan`` and ``inf`` are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_net_args(p: argparse.ArgumentParser, with_net: bool = True) -> None:
    """Flags that choose and modify the random network (shared by every task; issue #3's zoo)."""
    g = p.add_argument_group("network (see `untrained nets`)")
    if with_net:
        g.add_argument("--net", default=None, help=f"preset: {', '.join(PRESETS.names())}")
    g.add_argument("--weights", help="uniform:A | gaussian:SIGMA | binary:A | ternary:A[:P_ZERO] | levels:A:N | shuffled:FILE | binarized:FILE[:A] | trained:FILE")
    g.add_argument("--bias", help="zero | VALUE | gaussian:SIGMA | shuffled:FILE | trained:FILE")
    g.add_argument("--activation", help="relu | lrelu:SLOPE | elu | none")
    g.add_argument("--downsample", help="avg | max | stride | none")
    g.add_argument("--no-doubling", action="store_true", help="keep channel counts constant (Du's NPND with --downsample none)")
    g.add_argument("--width", type=finite, help="channel multiplier (<4, e.g. 0.5) or the first layer's channel count (≥4)")
    g.add_argument("--depth", type=int, default=1, help="repeat each plain conv N times (the blog's double/triple layers)")
    g.add_argument("--kernel", type=int, help="kernel size of the plain convs (2 or 3)")
    g.add_argument("--kernels", help="Du §6.2's designed 2×2 first-layer kernels SET:STRATEGY[:A]")
    g.add_argument("--padding", help="zeros | reflect | circular (default reflect)")
    g.add_argument("--pyramid", help="gaussian | laplacian[:LEVELS]: run the net on each pyramid level (Du §6.3)")
    g.add_argument("--greedy", type=int, default=0, metavar="K", help="He et al.'s stacked weights: best of K candidates per layer (cached)")


def net_from_args(args: argparse.Namespace, default: str):
    """The NetSpec the network flags describe (preset + modifiers)."""
    from .nets.modify import NetOptions

    options = NetOptions(
        net=args.net or default, weights=args.weights, bias=args.bias, activation=args.activation,
        downsample=args.downsample, no_doubling=args.no_doubling, width=args.width, depth=args.depth,
        kernel=args.kernel, kernels=args.kernels, padding=args.padding, pyramid=args.pyramid, greedy=args.greedy,
    )
    return options.apply(seed=getattr(args, "seed", 0))


def add_optim_args(p: argparse.ArgumentParser, iterations: int, scales: int) -> None:
    """Flags of the optimisation loop (shared by every task)."""
    g = p.add_argument_group("optimisation")
    g.add_argument("--iterations", type=int, default=iterations, help=f"optimiser steps per scale (default {iterations}); an L-BFGS step is up to --lbfgs-max-iter evaluations")
    g.add_argument("--scales", "--phases", dest="scales", type=int, default=scales, help=f"coarse-to-fine scales, each half the next (default {scales})")
    g.add_argument("--optimizer", default="lbfgs", help=f"{', '.join(OPTIMIZERS.names())} (default lbfgs)")
    g.add_argument("--lr", type=finite, default=None, help="learning rate (default 1 for L-BFGS, 0.02 for Adam)")
    g.add_argument("--lbfgs-max-iter", type=int, default=20, help="evaluations per L-BFGS step (default 20)")
    g.add_argument("--seed", type=int, default=0, help="random seed of weights and starting image (default 0)")


def optim_from_args(args: argparse.Namespace) -> OptimConfig:
    return OptimConfig(optimizer=args.optimizer, iterations=args.iterations, scales=args.scales,
                       lr=args.lr, lbfgs_max_iter=args.lbfgs_max_iter)


def add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output", help="output PNG (default: <input>_<task>.png); the config goes beside it as .json")
    g.add_argument("--save-every", type=int, default=0, metavar="N", help="also save a frame every N evaluations into <output>_frames/")
    g.add_argument("--quiet", action="store_true", help="no progress bar")


class Progress:
    """The CLI's view of a running synthesis: a tqdm bar on stderr and optional frames."""

    def __init__(self, total: int, quiet: bool, frames: Path | None, every: int):
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="eval", file=sys.stderr, dynamic_ncols=True, leave=True, mininterval=0.5)
        self.frames, self.every = frames, every

    def __call__(self, it: Iterate) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"scale {it.scale + 1}/{it.scales} {it.size[1]}×{it.size[0]} step {it.step + 1} loss {it.loss:.4g}", refresh=False)
        if self.frames is not None and self.every > 0 and it.evaluation % self.every == 0:
            save_image(self.frames / f"{it.evaluation:06d}.png", it.image)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_synthesis(args, synthesis: Synthesis, config: dict, output: Path, total: int) -> int:
    """Run *synthesis* with a progress bar; write the result (or the best so far on Ctrl-C)."""
    frames = output.with_name(output.stem + "_frames") if args.save_every > 0 else None
    progress = Progress(total, args.quiet, frames, args.save_every)
    synthesis.callback = progress
    start = time.perf_counter()
    try:
        image = synthesis.run()
    except KeyboardInterrupt:
        progress.close()
        best = synthesis.best_image if synthesis.best_image is not None else synthesis.image
        if best is None:
            print("untrained: interrupted before any image was made; nothing written", file=sys.stderr)
            return EXIT_INTERRUPTED
        save_image(output, best.clamp(0, 1), config, {"interrupted": True, "stats": synthesis.stats()})
        print(f"untrained: interrupted; best image so far written to {output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    stats = synthesis.stats()
    stats["wall_seconds"] = round(time.perf_counter() - start, 3)
    save_image(output, image, config, {"stats": stats, "loss_history": [round(h["loss"], 6) for h in synthesis.history]})
    if not args.quiet:
        print(f"wrote {output} ({stats['evaluations']} evaluations, {stats['wall_seconds']:.1f} s)", file=sys.stderr)
    return 0


def cmd_texture(args: argparse.Namespace) -> int:
    from .synth.texture import DEFAULT_NET, TextureConfig, texture_synthesis

    output = Path(args.output or f"{Path(args.exemplar).stem}_texture.png")
    check_writable(output)
    exemplar = load_image(args.exemplar)
    cfg = TextureConfig(
        size=args.size, net=net_from_args(args, DEFAULT_NET), layers=args.layers or (),
        style_weight=args.style_weight, smoothness=args.smoothness, normalize=not args.no_normalize,
        init=args.init, optim=optim_from_args(args), seed=args.seed,
    )
    synthesis, config = texture_synthesis(exemplar, cfg)
    config["inputs"]["exemplar_path"] = str(args.exemplar)
    total = synthesis.optim.scales * synthesis.optim.iterations * synthesis.optim.evaluations_per_step()
    return run_synthesis(args, synthesis, config, output, total)


def cmd_nets(args: argparse.Namespace) -> int:
    from .nets.build import feature_sizes

    if not args.net:
        for name in PRESETS.names():
            print(f"{name:16s} {PRESETS.help(name)}")
        return 0
    from .nets.build import layer_table

    spec = net_from_args(args, args.net)
    from .nets.init import validate

    validate(spec.weights, spec.bias)
    print(f"{'layer':12s} {'op':5s} {'channels':>8s} {'kernel':>6s} {'stride':>6s} {'fn':12s} {'RF':>5s} {'params':>9s} {'at 224²':>9s}  init")
    for row in layer_table(spec, (224, 224)):
        h, w = row["size"]
        print(f"{row['name']:12s} {row['op']:5s} {row['channels']:8d} {row['kernel']:6d} {row['stride']:6d} "
              f"{row['fn']:12s} {row['rf']:5d} {row['params']:9d} {f'{w}×{h}':>9s}  {row['init']}")
    print(f"total parameters: {sum(r['params'] for r in layer_table(spec, (224, 224))):,}"
          + (f"; run on {spec.levels} {spec.pyramid} pyramid levels" if spec.pyramid != "none" else ""))
    print(json.dumps(to_dict(spec), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="untrained", allow_abbrev=False, description="Image synthesis with random, untrained convolutional networks.")
    parser.add_argument("--version", action="version", version=f"untrained {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("texture", allow_abbrev=False, help="synthesise a texture from an exemplar (Gram matrices, He et al. 2016)")
    p.add_argument("exemplar", help="exemplar image (any format Pillow reads)")
    p.add_argument("--size", type=parse_size, default=None, help="output WIDTHxHEIGHT or one number (default: the exemplar's size)")
    p.add_argument("--layers", type=parse_layers, default=None, help="comma-separated layers (default: the net's style layers)")
    p.add_argument("--style-weight", type=finite, default=1.0, help="weight of the Gram terms (default 1)")
    p.add_argument("--smoothness", type=finite, default=0.0, help="total-variation weight (default 0)")
    p.add_argument("--no-normalize", action="store_true", help="turn off He et al.'s automatic per-layer weights")
    p.add_argument("--init", default="noise", help="starting image: noise or mean (default noise)")
    add_net_args(p)
    add_optim_args(p, iterations=10, scales=3)
    add_output_args(p)
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_texture)

    p = sub.add_parser("nets", allow_abbrev=False, help="list network presets, or show one's layers and JSON spec")
    p.add_argument("net", nargs="?", help="a preset name, followed by any network modifiers")
    p.add_argument("--seed", type=int, default=0, help="seed for --greedy")
    add_net_args(p, with_net=False)
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_nets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``untrained`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USER
        return args.func(args)
    except UserError as exc:
        if debug:
            raise
        print(f"untrained: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("untrained: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `untrained nets vgg19 | head`
        sys.stderr.close()
        return 0
    except MemoryError:
        if debug:
            raise
        print("untrained: error: out of memory: try a smaller --size or a lighter --net", file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # a bug: say so in one line, trace on request
        if debug:
            raise
        print(f"untrained: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_BUG
