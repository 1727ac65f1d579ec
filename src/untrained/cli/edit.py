"""Flags and running shared by the image-editing commands (repair, expand, enhance, remake,
mashup): they all build an :class:`~untrained.synth.edit.EditConfig` and run an ``Edit``."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..io import check_writable
from .args import (add_task_common, finite, given, net_flags_given, net_from_args, optim_changes,
                   parse_layers)
from .progress import run_synthesis


def add_edit_args(p: argparse.ArgumentParser, defaults, func, losses: str = "gram or swd") -> None:
    """The editing commands' statistics flags, then the network, optimisation and output flags."""
    g = p.add_argument_group("statistics")
    g.add_argument("--loss", default=None, help=f"{losses} (default {defaults.loss})")
    g.add_argument("--layers", type=parse_layers, default=None,
                   help="comma-separated layers (default: the net's style layers)")
    g.add_argument("--style-weight", type=finite, default=None,
                   help=f"weight of the statistics terms (default {defaults.style_weight:g})")
    g.add_argument("--smoothness", type=finite, default=None,
                   help=f"total-variation weight (default {defaults.smoothness:g})")
    add_task_common(p, defaults.optim, func)
    p.set_defaults(edit_defaults=defaults)


def config_from_args(args: argparse.Namespace, **extra):
    """The command's default :class:`EditConfig` with the flags the user gave (and *extra*)."""
    from ..synth.texture import DEFAULT_NETS
    from ..synth.common import parse_loss

    base = args.edit_defaults
    changes = given(args, "loss", "layers", "style_weight", "smoothness", "seed")
    changes.update({k: v for k, v in extra.items() if v is not None})
    if net_flags_given(args):
        loss = parse_loss(changes.get("loss", base.loss))[0]
        changes["net"] = net_from_args(args, DEFAULT_NETS[loss])
    return replace(base, optim=optim_changes(args, base.optim), **changes)


def run_edit(args: argparse.Namespace, make, output: Path, paths: dict) -> int:
    """Check the output, build the task with ``make()``, record the input *paths*, run it."""
    check_writable(output)
    task = make()
    task.config["inputs"].update(paths)
    total = task.synthesis.optim.max_evaluations()
    return run_synthesis(args, task.synthesis, task.config, output, total, finish=task.finish)


def default_output(path: str, command: str) -> Path:
    return Path(f"{Path(path).stem}_{command}.png")
