"""``--variations N`` and output templates, for every synthesis command (issue #19).

``-o 'out/{source}_{variation}.png'`` names each output from the fields ``{command}``,
``{source}`` (the stem of the first input image), ``{seed}``, ``{size}`` (the output's
WIDTHxHEIGHT: ``--size`` if given, else the input's, times ``--zoom`` for enhance) and
``{variation}`` (1…N).  ``--variations N`` runs the command N times with seeds ``seed``,
``seed + 1``, …, one after another (an L-BFGS run over a batch would couple the variations'
steps, so each is its own run, the same bytes as a single run with that seed).
"""

from __future__ import annotations

import argparse
import copy
import string
from pathlib import Path

from ..errors import UserError

FIELDS = ("command", "source", "seed", "size", "variation")
#: Where each command keeps its first input image, in order of preference.
INPUTS = ("target", "exemplar", "content", "image", "sources", "map", "style")


def template_fields(template: str) -> set[str]:
    """The fields *template* names; a :class:`UserError` for an unknown field or a bad brace."""
    try:
        parsed = string.Formatter().parse(template)
        names = {name for _, name, _, _ in parsed if name is not None}
    except ValueError as exc:
        raise UserError(f"output template {template!r}: {exc}") from None
    for name in names:
        if name not in FIELDS:
            raise UserError(f"output template {template!r}: unknown field {{{name}}}; "
                            f"use {', '.join('{' + f + '}' for f in FIELDS)}")
    return names


def source_path(args: argparse.Namespace) -> str | None:
    for name in INPUTS:
        value = getattr(args, name, None)
        if value:
            return str(value[0] if isinstance(value, list) else value)
    return None


def output_size(args: argparse.Namespace, source: str | None) -> str:
    """``WIDTHxHEIGHT`` of the output as far as the flags tell before running."""
    if getattr(args, "size", None):
        h, w = args.size
    elif source:
        from PIL import Image

        try:
            with Image.open(source) as img:
                w, h = img.size
        except OSError:
            return "unknown"
    else:
        return "unknown"
    zoom = getattr(args, "zoom", None) if args.command == "enhance" else None
    return f"{w * (zoom or 1)}x{h * (zoom or 1)}"


def run(args: argparse.Namespace) -> int:
    """Run ``args.func`` once per variation with its seed and output name; the first non-zero
    exit status stops the rest."""
    if not hasattr(args, "variations"):  # not a synthesis command (score, sweep, serve…)
        return args.func(args)
    count, template = args.variations, args.output
    if count < 1:
        raise UserError(f"--variations must be ≥ 1, got {count}")
    if count == 1 and not (template and "{" in template):
        return args.func(args)
    source = source_path(args)
    if template is None:
        stem = Path(source).stem if source else args.command
        template = f"{stem}_{args.command}_{{variation}}.png"
    names = template_fields(template)
    if count > 1 and not names & {"variation", "seed"}:
        raise UserError(f"output template {template!r}: with --variations {count} it needs "
                        "{variation} or {seed}, or every variation would overwrite the last")
    base = args.seed if getattr(args, "seed", None) is not None else 0
    size = output_size(args, source) if "size" in names else ""
    for i in range(count):
        one = copy.copy(args)
        one.seed = base + i
        one.output = template.format(command=args.command, seed=one.seed, size=size,
                                     source=Path(source).stem if source else "", variation=i + 1)
        status = args.func(one)
        if status != 0:
            return status
    return 0
