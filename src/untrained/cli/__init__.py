"""The ``untrained`` command: a thin layer over the library, one module per command.

It parses flags into configs, owns the progress bar and ``--quiet``, turns bad input into one
line on stderr with a non-zero exit (a traceback only with ``--debug``), and on Ctrl-C writes
the best image so far and exits 130.  Only the command line changes process-wide state.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .. import __version__
from ..errors import UserError
from . import (doodle, enhance, expand, invert, mashup, nets, remake, repair, report, reproduce,
               score, serve, style, sweep, texture, variations)
from .memory import retain_freed_memory
from .args import Parser, finite, parse_counts, parse_layers, parse_size, parse_weights
from .progress import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USER

COMMANDS = (texture, invert, style, doodle, repair, expand, enhance, remake, mashup, score, sweep,
            reproduce, report, nets, serve)

__all__ = ["EXIT_BUG", "EXIT_INTERRUPTED", "EXIT_USER", "build_parser", "finite", "main",
           "parse_counts", "parse_layers", "parse_size", "parse_weights"]


def build_parser() -> argparse.ArgumentParser:
    """The ``untrained`` parser: every command module adds its subcommand."""
    parser = Parser(prog="untrained", allow_abbrev=False,
                    description="Image synthesis with random, untrained convolutional networks.")
    parser.add_argument("--version", action="version", version=f"untrained {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
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
        # deterministic cuBLAS (issue #18): read when CUDA starts, so set before any work
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        return variations.run(args)
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
        print("untrained: error: out of memory: try a smaller --size or a lighter --net",
              file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # a bug: say so in one line, trace on request
        if debug:
            raise
        print(f"untrained: internal error: {type(exc).__name__}: {exc} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_BUG
