"""``untrained serve``: the local web page (needs the ``[web]`` extra; issue #19)."""

from __future__ import annotations

import argparse

from .args import add_debug


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError

    try:
        from ..web import check_port, serve
    except ImportError:
        raise UserError("the web page needs the [web] extra: "
                        "pip install 'untrained[web]'") from None
    check_port(args.host, args.port)
    print(f"untrained: serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    serve(args.host, args.port, args.folder)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("serve", allow_abbrev=False,
                       help="a local web page: run commands, watch them live, download the PNGs")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--folder", default=None,
                   help="where jobs' inputs and outputs go (default: a new temporary folder)")
    add_debug(p)
    p.set_defaults(func=run)
