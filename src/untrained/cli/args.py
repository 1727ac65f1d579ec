"""Flag parsers and the flag groups every command shares.

The network flags are derived from :class:`untrained.nets.modify.NetOptions` (each field's
``help`` metadata) and the optimisation flags are read back by :class:`OptimConfig`'s field
names, so a new option is declared once, in its config dataclass.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from dataclasses import replace

from ..errors import UserError
from ..nets import PRESETS
from ..nets.modify import NetOptions
from ..synth.loop import OPTIMIZERS, OptimConfig, blog_schedule


class Parser(argparse.ArgumentParser):
    """argparse, but errors become a :class:`UserError` (one line, exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UserError(message)


def parse_size(text: str) -> tuple[int, int]:
    """``"512x384"`` (width × height) or ``"256"`` → (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT or one number, got {text!r}") from None
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or min(nums) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive WIDTHxHEIGHT or one positive number, got {text!r}")
    width, height = nums
    return height, width


def parse_weights(text: str) -> tuple[float, ...]:
    """``"0.7,0.3"`` → ``(0.7, 0.3)`` (blend weights)."""
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}") from None
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
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers or 'none', got {text!r}") from None
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


# --- network flags, derived from NetOptions -------------------------------------------------


def _flag_type(tp) -> type | None:
    """The plain type of a field annotation (``float | None`` → ``float``)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def add_net_args(p: argparse.ArgumentParser, with_net: bool = True) -> None:
    """Flags that choose and modify the random network, one per field of :class:`NetOptions`
    (shared by every task; issue #3's zoo)."""
    g = p.add_argument_group("network (see `untrained nets`)")
    hints = typing.get_type_hints(NetOptions)
    for f in dataclasses.fields(NetOptions):
        if f.name == "net" and not with_net:
            continue
        flag, tp = "--" + f.name.replace("_", "-"), _flag_type(hints[f.name])
        extra = {k: v for k, v in f.metadata.items() if k != "help"}
        text = f.metadata["help"]
        if f.name == "net":
            text = text.format(presets=", ".join(PRESETS.names()))
            g.add_argument(flag, default=None, help=text)
        elif tp is bool:
            g.add_argument(flag, action="store_true", help=text)
        elif f.default is None:
            g.add_argument(flag, help=text, **({"type": finite} if tp is float else
                                                {"type": int} if tp is int else {}), **extra)
        else:
            g.add_argument(flag, type=tp, default=f.default, help=text, **extra)


def net_flags_given(args: argparse.Namespace) -> dict:
    """The network flags the user gave (those whose value differs from NetOptions' default)."""
    given = {}
    for f in dataclasses.fields(NetOptions):
        value = getattr(args, f.name, None)
        if value is not None and value != f.default:
            given[f.name] = value
    if getattr(args, "net", None):
        given["net"] = args.net
    return given


def net_from_args(args: argparse.Namespace, default, base=None):
    """The NetSpec the network flags describe: ``--net`` (else *base*, else *default* — a preset
    name or a dict of network options such as ``{"net": "vgg19", "width": 0.5}``) with the
    modifiers given on the command line applied on top."""
    given = net_flags_given(args)
    given.pop("net", None)
    net = getattr(args, "net", None)
    defaults = {} if net or base is not None else (
        {"net": default} if isinstance(default, str) else dict(default))
    options = NetOptions(**{**defaults, **({"net": net} if net else {}), **given})
    return options.apply(None if net else base, seed=getattr(args, "seed", None) or 0)


# --- optimisation, output and executor flags ------------------------------------------------


def _caps_default(caps: tuple[int, ...] | None, text: dict[str, str] | None = None) -> str:
    if caps is None and text and "scale_evaluations" in text:
        return text["scale_evaluations"]
    if caps is None:
        from ..synth.texture import (FAST_EVALUATIONS, FAST_OUTPUT, HUGE_EVALUATIONS, HUGE_OUTPUT, LARGE_EVALUATIONS,
                                     LARGE_OUTPUT, MEDIUM_EVALUATIONS, SMALL_EVALUATIONS, SMALL_OUTPUT)

        def counts(caps):
            return ",".join(map(str, caps))

        return (f"{counts(FAST_EVALUATIONS)}; {counts(SMALL_EVALUATIONS)} up to "
                f"{int(SMALL_OUTPUT ** 0.5)}², {counts(MEDIUM_EVALUATIONS)} above "
                f"{int(FAST_OUTPUT ** 0.5)}², {counts(LARGE_EVALUATIONS)} above "
                f"{int(LARGE_OUTPUT ** 0.5)}², {counts(HUGE_EVALUATIONS)} above "
                f"{int(HUGE_OUTPUT ** 0.5)}² pixels; none when --iterations or "
                "--lbfgs-max-iter is given")
    return ",".join(map(str, caps)) or "none"


def _unset(defaults: OptimConfig, name: str, text: dict[str, str] | None = None) -> str:
    """The help text's default of count *name*: the task's, its own words for an adaptive
    default (*text*), or what fills it when unset."""
    from ..synth.loop import UNSET_DEFAULTS

    value = getattr(defaults, name)
    if value is not None:
        return str(value)
    if text and name in text:
        return text[name]
    if name == "scales":
        return f"{UNSET_DEFAULTS[name]}, fewer for small inputs"
    return str(UNSET_DEFAULTS[name])


def add_optim_args(p: argparse.ArgumentParser, defaults: OptimConfig,
                   seed_default: int | None = 0, unset_text: dict[str, str] | None = None) -> None:
    """Flags of the optimisation loop (shared by every task); unset flags keep *defaults*.
    Each flag's destination is the :class:`OptimConfig` field it sets; *unset_text* words the
    help's default of a count the task fills adaptively."""
    g = p.add_argument_group("optimisation")
    g.add_argument("--iterations", type=int, default=None,
                   help=f"optimiser steps per scale (default {_unset(defaults, 'iterations', unset_text)}); "
                        "an L-BFGS step is up to --lbfgs-max-iter evaluations")
    g.add_argument("--scales", "--phases", dest="scales", type=int, default=None,
                   help="coarse-to-fine scales, each half the next "
                        f"(default {_unset(defaults, 'scales')})")
    g.add_argument("--optimizer", default=None,
                   help=f"{', '.join(OPTIMIZERS.names())} (default {defaults.optimizer})")
    g.add_argument("--lr", type=finite, default=None,
                   help="learning rate (default 1 for L-BFGS, 0.02 for Adam)")
    g.add_argument("--lbfgs-max-iter", type=int, default=None,
                   help="evaluations per L-BFGS step "
                        f"(default {_unset(defaults, 'lbfgs_max_iter')})")
    g.add_argument("--scale-evaluations", type=parse_counts, default=None, metavar="N[,N…]",
                   help="evaluations of the finest scales, finest last, e.g. 100,60 (more steps than "
                        "--iterations where one needs them); 'none' for no cap "
                        f"(default {_caps_default(defaults.scale_evaluations, unset_text)})")
    g.add_argument("--plateau", type=finite, default=None, metavar="F",
                   help="end a scale when an L-BFGS step lowers the loss by less than this "
                        "fraction (default off)")
    g.add_argument("--line-search", action="store_const", const=True, default=None,
                   help="L-BFGS with a strong-Wolfe line search: more work per step, no slow "
                        "start after an overshoot "
                        f"(default {'on' if defaults.line_search else 'off'})")
    g.add_argument("--tile-size", type=int, default=None, metavar="PX",
                   help="at scales larger than PX a side, evaluate Gram/SWD losses over "
                        "overlapping tiles (equal result, one tile's memory); 0 never "
                        f"(default {defaults.tile_size})")
    g.add_argument("--lbfgs-history", type=int, default=None,
                   help="L-BFGS history size m (default: 100, fewer where memory needs)")
    g.add_argument("--bounds", default=None,
                   help="none or project: keep pixels in [0, 1] during L-BFGS, as L-BFGS-B's box "
                        f"bounds (default {defaults.bounds})")
    g.add_argument("--upsample", default=None,
                   help="bilinear or bicubic: how a scale's result is enlarged for the next "
                        f"(default {defaults.upsample})")
    g.add_argument("--degrid", type=int, default=None, metavar="PX",
                   help="optimise the pixels seen through a notch filter at the frequencies of a "
                        "grid of this period (4 removes 4- and 2-px grids); 0 off (default: 4 on "
                        "nets with strided convolutions, which stamp such grids, else 0)")
    g.add_argument("--blog-schedule", action="store_true",
                   help="Champandard 2016's schedule as neural-doodle ran it: 4 phases of at most "
                        "9 "
                        "evaluations (maxfun), L-BFGS m=5 with a line search, bounded pixels, "
                        "bicubic upsampling; other optimisation flags given win")
    g.add_argument("--seed", type=int, default=seed_default,
                   help="random seed of weights and starting image (default 0)")
    p.set_defaults(optim_defaults=defaults)


def optim_changes(args: argparse.Namespace, base: OptimConfig) -> OptimConfig:
    """*base* with the optimisation flags the user actually gave."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(OptimConfig)
             if getattr(args, f.name, None) is not None}
    if getattr(args, "blog_schedule", False):
        base = blog_schedule(base)
    return replace(base, **given)


def optim_from_args(args: argparse.Namespace) -> OptimConfig:
    """The task's default optimisation settings with the flags given on the command line."""
    return optim_changes(args, args.optim_defaults)


def add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output",
                   help="output PNG (default: <input>_<task>.png); the config goes beside it "
                        "as .json; a template may name {command} {source} {seed} {size} "
                        "{variation}")
    g.add_argument("--variations", type=int, default=1, metavar="N",
                   help="N outputs with seeds SEED, SEED+1, … (default 1); name them with -o "
                        "'out/{source}_{variation}.png' (default <input>_<task>_{variation}.png)")
    g.add_argument("--save-every", type=int, default=0, metavar="N",
                   help="also save a frame every N evaluations into <output>_frames/")
    g.add_argument("--quiet", action="store_true", help="no progress bar")


def add_device(p: argparse.ArgumentParser) -> None:
    """``--device``: where the work runs (see :mod:`untrained.devices`)."""
    p.add_argument("--device", default="auto",
                   help="auto (default: CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps; "
                        "the same seed gives the same weights and start on every device")


def add_debug(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def add_task_common(p: argparse.ArgumentParser, optim: OptimConfig, func,
                    seed_default: int | None = 0, unset_text: dict[str, str] | None = None) -> None:
    """The flags every synthesis task shares (network, optimisation, output) and its handler."""
    add_net_args(p)
    add_optim_args(p, optim, seed_default, unset_text)
    add_output_args(p)
    add_device(p)
    add_debug(p)
    p.set_defaults(func=func)


def add_executor_args(p: argparse.ArgumentParser) -> None:
    """The flags of ``sweep`` and ``reproduce`` that choose where and how runs execute."""
    p.add_argument("--workers", type=int, default=None,
                   help="parallel processes (default: the cores divided by --threads-per-run)")
    p.add_argument("--threads-per-run", type=int, default=1, metavar="T",
                   help="torch threads of every run (default 1); a run's bytes depend on it, "
                        "not on the executor")
    p.add_argument("--scheduler", help="run on a Dask cluster: tcp://HOST:PORT")
    p.add_argument("--dask-local", type=int, default=0, metavar="N",
                   help="start a Dask LocalCluster of N workers")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--device", default="cpu",
                   help="cpu (default), cuda (each local worker process gets its own GPU, "
                        "round-robin; on Dask, workers started with --resources GPU=1 take one "
                        "run at a time), cuda:N or auto")
    add_debug(p)


def given(args: argparse.Namespace, *names: str) -> dict:
    """The flags among *names* the user gave (not ``None``), by destination name."""
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}
