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
from typing import Sequence

from . import __version__
from .config import to_dict
from .errors import UserError
from .io import check_writable, load_image, save_image
from .nets import PRESETS
from .resources import retain_freed_memory
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


def parse_weights(text: str) -> tuple[float, ...]:
    """``"0.7,0.3"`` → ``(0.7, 0.3)`` (blend weights)."""
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not (math.isfinite(v) and v >= 0) for v in values) or not sum(values) > 0:
        raise argparse.ArgumentTypeError(f"expected finite weights ≥ 0, not all 0, got {text!r}")
    return values


def parse_counts(text: str) -> tuple[int, ...]:
    """``"100,60"`` → ``(100, 60)`` (evaluation caps); ``"none"`` or ``""`` → ``()``."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        values = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers or 'none', got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected counts ≥ 1, got {text!r}")
    return values


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


def add_executor_args(p: argparse.ArgumentParser) -> None:
    """The flags of ``sweep`` and ``reproduce`` that choose where and how runs execute."""
    p.add_argument("--workers", type=int, default=None,
                   help="parallel processes (default: the cores divided by --threads-per-run)")
    p.add_argument("--threads-per-run", type=int, default=1, metavar="T",
                   help="torch threads of every run (default 1); a run's bytes depend on it, not on the executor")
    p.add_argument("--scheduler", help="run on a Dask cluster: tcp://HOST:PORT")
    p.add_argument("--dask-local", type=int, default=0, metavar="N", help="start a Dask LocalCluster of N workers")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def add_net_args(p: argparse.ArgumentParser, with_net: bool = True) -> None:
    """Flags that choose and modify the random network (shared by every task; issue #3's zoo)."""
    g = p.add_argument_group("network (see `untrained nets`)")
    if with_net:
        g.add_argument("--net", default=None, help=f"preset: {', '.join(PRESETS.names())}")
    g.add_argument("--weights", help="uniform:A | gaussian:SIGMA | glorot:GAIN | binary:A | ternary:A[:P_ZERO] | levels:A:N | shuffled:FILE | binarized:FILE[:A] | trained:FILE")
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


def net_from_args(args: argparse.Namespace, default, base=None):
    """The NetSpec the network flags describe: ``--net`` (else *base*, else *default* — a preset
    name or a dict of network options such as ``{"net": "vgg19", "width": 0.5}``) with the
    modifiers given on the command line applied on top."""
    from .nets.modify import NetOptions

    given = dict(
        weights=args.weights, bias=args.bias, activation=args.activation, downsample=args.downsample,
        width=args.width, kernel=args.kernel, kernels=args.kernels, padding=args.padding, pyramid=args.pyramid,
    )
    given = {k: v for k, v in given.items() if v is not None}
    given.update({k: getattr(args, k) for k, unset in (("no_doubling", False), ("depth", 1), ("greedy", 0))
                  if getattr(args, k) != unset})
    defaults = {} if args.net or base is not None else ({"net": default} if isinstance(default, str) else dict(default))
    options = NetOptions(**{**defaults, **({"net": args.net} if args.net else {}), **given})
    return options.apply(None if args.net else base, seed=getattr(args, "seed", None) or 0)


def _caps_default(caps: tuple[int, ...] | None) -> str:
    if caps is None:
        from .synth.texture import FAST_EVALUATIONS, LARGE_EVALUATIONS, LARGE_OUTPUT

        return (f"{','.join(map(str, FAST_EVALUATIONS))}, or {','.join(map(str, LARGE_EVALUATIONS))} "
                f"above {int(LARGE_OUTPUT ** 0.5)}² pixels")
    return ",".join(map(str, caps)) or "none"


def add_optim_args(p: argparse.ArgumentParser, defaults: OptimConfig, seed_default: int | None = 0) -> None:
    """Flags of the optimisation loop (shared by every task); unset flags keep *defaults*."""
    g = p.add_argument_group("optimisation")
    g.add_argument("--iterations", type=int, default=None, help=f"optimiser steps per scale (default {defaults.iterations}); an L-BFGS step is up to --lbfgs-max-iter evaluations")
    g.add_argument("--scales", "--phases", dest="scales", type=int, default=None, help=f"coarse-to-fine scales, each half the next (default {defaults.scales})")
    g.add_argument("--optimizer", default=None, help=f"{', '.join(OPTIMIZERS.names())} (default {defaults.optimizer})")
    g.add_argument("--lr", type=finite, default=None, help="learning rate (default 1 for L-BFGS, 0.02 for Adam)")
    g.add_argument("--lbfgs-max-iter", type=int, default=None, help=f"evaluations per L-BFGS step (default {defaults.lbfgs_max_iter})")
    g.add_argument("--scale-evaluations", type=parse_counts, default=None, metavar="N[,N…]",
                   help="cap the evaluations of the finest scales, finest last, e.g. 100,60; 'none' for no cap "
                        f"(default {_caps_default(defaults.scale_evaluations)})")
    g.add_argument("--plateau", type=finite, default=None, metavar="F",
                   help="end a scale when an L-BFGS step lowers the loss by less than this fraction (default off)")
    g.add_argument("--line-search", action="store_const", const=True, default=None,
                   help="L-BFGS with a strong-Wolfe line search: more work per step, no slow start after an overshoot "
                        f"(default {'on' if defaults.line_search else 'off'})")
    g.add_argument("--lbfgs-history", type=int, default=None, help=f"L-BFGS history size m (default {defaults.lbfgs_history})")
    g.add_argument("--bounds", default=None, help=f"none or project: keep pixels in [0, 1] during L-BFGS, as L-BFGS-B's box bounds (default {defaults.bounds})")
    g.add_argument("--upsample", default=None, help=f"bilinear or bicubic: how a scale's result is enlarged for the next (default {defaults.upsample})")
    g.add_argument("--blog-schedule", action="store_true",
                   help="Champandard 2016's schedule as neural-doodle ran it: 4 phases of at most 9 evaluations (maxfun), "
                        "L-BFGS m=5 with a line search, bounded pixels, bicubic upsampling; other flags given win")
    g.add_argument("--seed", type=int, default=seed_default, help="random seed of weights and starting image (default 0)")
    p.set_defaults(optim_defaults=defaults)


def optim_from_args(args: argparse.Namespace) -> OptimConfig:
    """The task's default optimisation settings with the flags given on the command line."""
    return _optim_changes(args, args.optim_defaults)


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


def run_synthesis(args, synthesis: Synthesis, config: dict, output: Path, total: int, scores=None, finish=None) -> int:
    """Run *synthesis* with a progress bar; write the result (or the best so far on Ctrl-C).
    *finish* post-processes the image (colour preservation); *scores* adds metrics to the JSON."""
    finish = finish or (lambda image: image)
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
        save_image(output, finish(best.clamp(0, 1)), config, {"interrupted": True, "stats": synthesis.stats()})
        print(f"untrained: interrupted; best image so far written to {output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    image = finish(image)
    stats = synthesis.stats()
    stats["wall_seconds"] = round(time.perf_counter() - start, 3)
    if scores is not None:
        stats["scores"] = scores(image)
    save_image(output, image, config, {"stats": stats, "loss_history": [round(h["loss"], 6) for h in synthesis.history]})
    if not args.quiet:
        print(f"wrote {output} ({stats['evaluations']} evaluations, {stats['wall_seconds']:.1f} s)", file=sys.stderr)
    return 0


def cmd_texture(args: argparse.Namespace) -> int:
    from .synth.texture import DEFAULT_NETS, TextureConfig, texture_synthesis

    from .synth.common import parse_loss

    output = Path(args.output or f"{Path(args.exemplar[0]).stem}_texture.png")
    check_writable(output)
    exemplars = [load_image(p) for p in args.exemplar]
    base, _ = parse_loss(args.loss)
    defaults = dict(DEFAULT_NETS[base])
    refine = None
    if args.quality == "high":  # full width, every layer at every scale, twice the steps, no caps
        defaults.pop("width", None)
        args.optim_defaults = replace(args.optim_defaults, iterations=2 * args.optim_defaults.iterations,
                                      scale_evaluations=())
        refine = ()
    elif args.quality != "fast":
        raise UserError(f"unknown quality {args.quality!r}; choose from fast, high")
    cfg = TextureConfig(
        size=args.size, net=net_from_args(args, defaults), layers=args.layers or (),
        refine_layers=args.refine_layers if args.refine_layers is not None else refine,
        loss=args.loss, variety=args.variety, reuse=args.reuse, tv=args.tv, spectrum_weight=args.spectrum_weight, tile=args.tile,
        blend=args.blend or (),
        style_weight=args.style_weight, smoothness=args.smoothness, normalize=not args.no_normalize,
        init=args.init, optim=optim_from_args(args), seed=args.seed,
    )
    synthesis, config = texture_synthesis(exemplars, cfg)
    config["inputs"]["exemplar_path" if len(exemplars) == 1 else "exemplar_paths"] = (
        str(args.exemplar[0]) if len(exemplars) == 1 else [str(p) for p in args.exemplar])
    total = synthesis.optim.max_evaluations()
    return run_synthesis(args, synthesis, config, output, total)


def cmd_invert(args: argparse.Namespace) -> int:
    from .synth.invert import InvertConfig, invert_scores, invert_synthesis

    output = Path(args.output or f"{Path(args.image).stem}_{args.layer}.png")
    check_writable(output)
    image = load_image(args.image)
    cfg = InvertConfig(layer=args.layer, size=args.size, net=net_from_args(args, "vgg19"), smoothness=args.smoothness,
                       optim=optim_from_args(args), seed=args.seed)
    synthesis, config, problem = invert_synthesis(image, cfg)
    config["inputs"]["image_path"] = str(args.image)
    total = synthesis.optim.max_evaluations()
    return run_synthesis(args, synthesis, config, output, total, scores=lambda out: invert_scores(problem, out))


def cmd_style(args: argparse.Namespace) -> int:
    from .synth.style import StyleConfig, preserve_color, style_preset, style_synthesis

    output = Path(args.output or f"{Path(args.content).stem}_{Path(args.style[0]).stem}.png")
    check_writable(output)
    content, styles = load_image(args.content), [load_image(p) for p in args.style]
    base = style_preset(args.preset) if args.preset else StyleConfig()
    changes = {k: v for k, v in dict(
        size=args.size, content_layers=args.content_layers, style_layers=args.style_layers,
        content_weight=args.content_weight, style_weight=args.style_weight, smoothness=args.smoothness,
        loss=args.loss, variety=args.variety, init=args.init, seed=args.seed, preserve_color=args.preserve_color,
        style_blend=args.style_blend, spectrum_weight=args.spectrum_weight,
    ).items() if v is not None}
    if args.normalize is not None:
        changes["normalize"] = args.normalize
    if _net_flags_given(args):
        changes["net"] = net_from_args(args, base.net.name, base.net)
    optim = _optim_changes(args, base.optim)
    cfg = replace(base, optim=optim, **changes)
    synthesis, config = style_synthesis(content, styles, cfg)
    config["inputs"].update(content_path=str(args.content), style_paths=[str(p) for p in args.style])
    total = synthesis.optim.max_evaluations()
    mode = synthesis.problem.config.preserve_color
    return run_synthesis(args, synthesis, config, output, total, finish=lambda image: preserve_color(image, content, mode))


def style_map_beside(style: str) -> Path:
    """Neural Doodle's convention: the map of ``Monet.jpg`` is ``Monet_sem.png`` beside it."""
    p = Path(style)
    return p.with_name(p.stem + "_sem.png")


def cmd_doodle(args: argparse.Namespace) -> int:
    from .synth.doodle import DoodleConfig, doodle_synthesis

    style_map_path = Path(args.style_map) if args.style_map else style_map_beside(args.style)
    if not args.style_map and not style_map_path.exists():
        raise UserError(f"no style map: {style_map_path} does not exist (give one with --style-map)")
    output = Path(args.output or f"{Path(args.map).stem}_{Path(args.style).stem}.png")
    check_writable(output)
    style_image, style_map, target_map = load_image(args.style), load_image(style_map_path), load_image(args.map)
    content = load_image(args.content) if args.content else None
    changes = {k: v for k, v in dict(
        size=args.size, style_layers=args.style_layers, content_layers=args.content_layers,
        style_weight=args.style_weight, content_weight=args.content_weight, semantic_weight=args.semantic_weight,
        smoothness=args.smoothness, variety=args.variety, tv=args.tv, init=args.init, seed=args.seed,
        gram_layers=() if args.gram_layers == ("none",) else args.gram_layers, gram_weight=args.gram_weight,
        refine_layers=args.refine_layers,
    ).items() if v is not None}
    base = DoodleConfig()
    if _net_flags_given(args):
        changes["net"] = net_from_args(args, "champandard-asrun")
    cfg = replace(base, optim=_optim_changes(args, base.optim), **changes)
    synthesis, config = doodle_synthesis(style_image, style_map, target_map, content, cfg)
    config["inputs"].update(style_path=str(args.style), style_map_path=str(style_map_path), map_path=str(args.map),
                            content_path=str(args.content) if args.content else None)
    total = synthesis.optim.max_evaluations()
    return run_synthesis(args, synthesis, config, output, total)


NET_FLAGS = ("net", "weights", "bias", "activation", "downsample", "width", "kernel", "kernels", "padding", "pyramid")


def _net_flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, k) is not None for k in NET_FLAGS) or args.no_doubling or args.depth != 1 or args.greedy


def _optim_changes(args: argparse.Namespace, base: OptimConfig) -> OptimConfig:
    """*base* with the optimisation flags the user actually gave."""
    given = {k: getattr(args, k) for k in ("optimizer", "iterations", "scales", "lr", "lbfgs_max_iter",
                                                 "scale_evaluations", "plateau", "line_search", "lbfgs_history",
                                                 "bounds", "upsample") if getattr(args, k) is not None}
    if getattr(args, "blog_schedule", False):
        from .synth.loop import blog_schedule

        base = blog_schedule(base)
    return replace(base, **given)


def cmd_score(args: argparse.Namespace) -> int:
    from . import metrics

    output, reference = load_image(args.output), load_image(args.reference)
    content = load_image(args.content) if args.content else None
    if args.task not in ("texture", "invert", "style"):
        raise UserError(f"unknown task {args.task!r}; choose from texture, invert, style")
    if args.content and args.task != "style":
        raise UserError("--content is for --task style")
    net = None
    if args.task == "invert" and args.layer:
        from .nets import build

        spec = net_from_args(args, "vgg19")
        spec.index(args.layer)
        net = build(spec, args.net_seed)
    for image, what in ((output, "output"), (reference, "reference")):
        if min(image.shape[-2:]) < 16:
            raise UserError(f"the {what} is {image.shape[-1]}×{image.shape[-2]} px; scoring needs at least 16×16")
    scores = metrics.evaluate(output, reference, args.task, content, net, args.layer)
    scores = {k: round(v, 6) for k, v in scores.items()}
    if args.table:
        width = max(len(k) for k in scores)
        for k, v in scores.items():
            print(f"{k:{width}s}  {v:10.4f}")
    else:
        print(json.dumps(scores, indent=2))
    return 0


def _sweep_folder(args: argparse.Namespace) -> Path:
    """The sweep's output folder, created; a :class:`UserError` if it cannot be or the executor
    flags are impossible."""
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be ≥ 1, got {args.workers}")
    if args.threads_per_run < 1:
        raise UserError(f"--threads-per-run must be ≥ 1, got {args.threads_per_run}")
    if args.dask_local < 0:
        raise UserError(f"--dask-local must be ≥ 1, got {args.dask_local}")
    directory = Path(args.output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"output {directory}: cannot create it ({exc.strerror})") from None
    return directory


def _run_sweep(args: argparse.Namespace, spec, directory: Path, notes: list[str] | None = None) -> list[dict]:
    """Run *spec* on the executor the flags choose (a process pool, or Dask), with a progress bar
    unless ``--quiet``; the rows of the results table."""
    from .sweep import run_sweep

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(unit="run", file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    common = dict(threads=args.threads_per_run, progress=progress, notes=notes)
    try:
        if args.scheduler or args.dask_local:
            from .sweep.run import DaskExecutor

            with DaskExecutor(args.scheduler, args.dask_local) as executor:
                return run_sweep(spec, directory, executor=executor, **common)
        return run_sweep(spec, directory, args.workers, **common)
    finally:
        if bar is not None:
            bar.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepSpec

    spec = SweepSpec.load(args.spec)
    rows = _run_sweep(args, spec, _sweep_folder(args))
    failed = [r for r in rows if r.get("status") == "error"]
    if not args.quiet:
        print(f"{len(rows)} runs in {directory / 'results.csv'} ({len(failed)} failed)", file=sys.stderr)
    return 1 if failed else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .sweep.reproduce import load_recipe, recipes

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
    directory = _sweep_folder(args)
    for note in notes:
        print(f"{args.name}: {note}", file=sys.stderr)
    rows = _run_sweep(args, spec, directory, notes)
    failed = [r for r in rows if r.get("status") == "error"]
    print(f"{args.name}: {len(rows)} runs, report in {directory / 'report.md'} ({len(failed)} failed)", file=sys.stderr)
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from .sweep import build_report

    directory = Path(args.directory)
    if not (directory / "runs").is_dir():
        raise UserError(f"{directory} holds no sweep (no runs/ folder)")
    print(f"report → {build_report(directory)}", file=sys.stderr)
    return 0


def cmd_nets(args: argparse.Namespace) -> int:
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


def add_task_common(p: argparse.ArgumentParser, optim: OptimConfig, func, seed_default: int | None = 0) -> None:
    """The flags every synthesis task shares (network, optimisation, output) and its handler."""
    add_net_args(p)
    add_optim_args(p, optim, seed_default)
    add_output_args(p)
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=func)


def build_parser() -> argparse.ArgumentParser:
    from .synth.doodle import DoodleConfig
    from .synth.invert import InvertConfig
    from .synth.style import StyleConfig
    from .synth.texture import TextureConfig

    parser = _Parser(prog="untrained", allow_abbrev=False, description="Image synthesis with random, untrained convolutional networks.")
    parser.add_argument("--version", action="version", version=f"untrained {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("texture", allow_abbrev=False, help="synthesise a texture from an exemplar (Gram matrices, He et al. 2016)")
    p.add_argument("exemplar", nargs="+", help="exemplar image(s) (any format Pillow reads); several are blended")
    p.add_argument("--blend", type=parse_weights, default=None, help="weights of several exemplars, e.g. 0.7,0.3 (default equal)")
    p.add_argument("--tile", action="store_true", help="make the output tileable (seamless when repeated)")
    p.add_argument("--quality", default="fast", help="fast (default: VGG-19 at half width) or high (full width, twice the steps, ~5× the time)")
    p.add_argument("--spectrum-weight", type=finite, default=1.0, help="weight of the +spectrum term (default 1)")
    p.add_argument("--size", type=parse_size, default=None, help="output WIDTHxHEIGHT or one number (default: the exemplar's size)")
    p.add_argument("--layers", type=parse_layers, default=None, help="comma-separated layers (default: the net's style layers)")
    p.add_argument("--refine-layers", type=parse_layers, default=None,
                   help="layers matched at the scales after the coarsest (default with the net's layers: all but the deepest)")
    p.add_argument("--style-weight", type=finite, default=1.0, help="weight of the Gram terms (default 1)")
    p.add_argument("--smoothness", type=finite, default=0.0, help="total-variation weight (default 0)")
    p.add_argument("--no-normalize", action="store_true", help="turn off He et al.'s automatic per-layer weights")
    p.add_argument("--init", default="noise", help="starting image: noise or mean (default noise)")
    p.add_argument("--loss", default="gram", help="gram (He et al.; default, net vgg19), patch (Champandard's neural patches; net champandard) or swd (Heitz et al.'s sliced Wasserstein); +spectrum adds Liu et al.'s Fourier term, e.g. gram+spectrum")
    p.add_argument("--variety", type=finite, default=0.0, help="patch loss: lower each exemplar patch's score by VARIETY × its best score of the previous evaluation (neural-doodle's --variety)")
    p.add_argument("--reuse", type=finite, default=0.0, help="patch loss: raster-order penalty on exemplar patches used more than an even share (default 0)")
    p.add_argument("--tv", default="squared", help="total-variation form: squared (default) or doodle (neural-doodle's mean((dx²+dy²)^1.25) on [-1, 1])")
    add_task_common(p, TextureConfig().optim, cmd_texture)

    p = sub.add_parser("invert", allow_abbrev=False, help="reconstruct an image from one layer's activations (He et al. 2016)")
    p.add_argument("image", help="the image to invert")
    p.add_argument("--layer", default="conv3_1", help="any layer of the net, pooling layers included (default conv3_1)")
    p.add_argument("--size", type=parse_size, default=None, help="resize the image to WIDTHxHEIGHT first")
    p.add_argument("--smoothness", type=finite, default=0.0, help="total-variation weight (default 0)")
    add_task_common(p, InvertConfig().optim, cmd_invert)

    p = sub.add_parser("style", allow_abbrev=False, help="style transfer: CONTENT repainted in the style of STYLE (Gatys; He et al.; Du 2020)")
    p.add_argument("content", help="content image")
    p.add_argument("style", nargs="+", help="style image(s); several are blended")
    p.add_argument("--style-blend", type=parse_weights, default=None, help="weights of several style images (default equal)")
    p.add_argument("--preserve-color", nargs="?", const="luminance", default=None,
                   help="keep the content's colours: luminance (default when given) or match")
    p.add_argument("--spectrum-weight", type=finite, default=None, help="weight of a +spectrum term (default 1)")
    p.add_argument("--preset", help="a paper's setup: du2020 (vgg19-tutorial, β/α = 1e6, 20 L-BFGS steps, content conv_1)")
    p.add_argument("--size", type=parse_size, default=None, help="output WIDTHxHEIGHT (default: the content's size)")
    p.add_argument("--content-layers", type=parse_layers, default=None, help="default: the net's (conv_4 on vgg19-tutorial)")
    p.add_argument("--style-layers", type=parse_layers, default=None, help="default: the net's (conv_1…conv_5 on vgg19-tutorial)")
    p.add_argument("--content-weight", type=finite, default=None, help="α (default 1; 0 = Du §4's no content loss)")
    p.add_argument("--style-weight", type=finite, default=None, help="β (default 1e6, raw as in the tutorial; relative with --normalize)")
    p.add_argument("--smoothness", type=finite, default=None, help="total-variation weight (default 0)")
    p.add_argument("--loss", default=None, help="gram (default), patch or swd, optionally +spectrum")
    p.add_argument("--variety", type=finite, default=None, help="patch loss variety")
    p.add_argument("--init", default=None, help="content (default), noise or style")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None, help="He et al.'s automatic per-term weights (default off)")
    add_task_common(p, StyleConfig().optim, cmd_style, seed_default=None)

    p = sub.add_parser("doodle", allow_abbrev=False, help="Neural Doodle: paint a semantic map from a style image and its map (Champandard 2016)")
    p.add_argument("--style", required=True, help="style image; its map is STYLE_sem.png beside it unless --style-map")
    p.add_argument("--map", required=True, help="target semantic map, in the style map's colours")
    p.add_argument("--style-map", help="the style image's semantic map")
    p.add_argument("--content", help="optional content image")
    p.add_argument("--output-size", "--size", dest="size", type=parse_size, default=None, help="WIDTHxHEIGHT (default: the map's size)")
    p.add_argument("--style-layers", type=parse_layers, default=None, help="patch layers (default conv3_1,conv4_1)")
    p.add_argument("--content-layers", type=parse_layers, default=None, help="default conv4_1")
    p.add_argument("--style-weight", type=finite, default=None, help="default 1 (relative)")
    p.add_argument("--content-weight", type=finite, default=None, help="default 1 (relative; only with --content)")
    p.add_argument("--semantic-weight", type=finite, default=None, help="weight of the map channels in matching (default 10)")
    p.add_argument("--smoothness", type=finite, default=None, help="total-variation weight (default 0)")
    p.add_argument("--variety", type=finite, default=None, help="lower each style patch's score by VARIETY × its best score of the previous evaluation (neural-doodle's; default 0)")
    p.add_argument("--tv", default=None, help="total-variation form: squared (default) or doodle (neural-doodle's)")
    p.add_argument("--gram-layers", type=parse_layers, default=None, help="layers with a Gram term per region, for the regions' fine texture (default conv1_1,conv2_1; 'none' for none)")
    p.add_argument("--refine-layers", type=parse_layers, default=None, help="patch layers of the scales after the coarsest (default conv4_1)")
    p.add_argument("--gram-weight", type=finite, default=None, help="weight of the per-region Gram terms (default 1, relative)")
    p.add_argument("--init", default=None, help="noise (default), content or mean")
    add_task_common(p, DoodleConfig().optim, cmd_doodle, seed_default=None)

    p = sub.add_parser("score", allow_abbrev=False, help="objective metrics of an output against its reference (no pretrained nets)")
    p.add_argument("output", help="the synthesised image")
    p.add_argument("reference", help="the exemplar (texture), the original (invert) or the style image (style)")
    p.add_argument("--task", default="texture", help="texture (default), invert or style")
    p.add_argument("--content", help="content image, for --task style")
    p.add_argument("--layer", help="for --task invert: also the relative feature error at this layer of the net flags' net")
    p.add_argument("--net-seed", type=int, default=0, help="for --layer: the network's weight seed (a run's net seed)")
    p.add_argument("--table", action="store_true", help="a readable table instead of JSON")
    add_net_args(p)
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("sweep", allow_abbrev=False, help="run a sweep spec (TOML) into a folder of runs and a results table")
    p.add_argument("spec", help="sweep spec, TOML (see untrained.sweep.spec)")
    p.add_argument("-o", "--output", required=True, help="the sweep's folder (rerunning skips finished runs)")
    add_executor_args(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("reproduce", allow_abbrev=False, help="run one of the papers' experiments (bundled sweep specs)")
    p.add_argument("name", nargs="?", help="experiment name (see --list)")
    p.add_argument("-o", "--output", help="the experiment's folder")
    p.add_argument("--list", action="store_true", help="list the experiments")
    p.add_argument("--quick", action="store_true", help="tiny runs (48², 3 evaluations) to check the pipeline")
    add_executor_args(p)
    p.add_argument("--input", action="append", default=[], metavar="KEY=PATH",
                   help="use your image for one of the experiment's inputs (content, style, exemplar, image); repeatable")
    p.add_argument("--weights-file", metavar="PATH",
                   help="a trained VGG-19 state dict (torchvision layout) for the points that compare against "
                        "trained weights (Du 2020 Figs. 3-5); without it they are left out")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("report", allow_abbrev=False, help="rebuild a sweep folder's results table, contact sheet, loss plot and report.md from its runs")
    p.add_argument("directory")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_report)

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
        retain_freed_memory()
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
