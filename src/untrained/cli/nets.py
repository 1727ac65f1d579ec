"""``untrained nets``: list network presets, or show one's layers and JSON spec."""

from __future__ import annotations

import argparse
import json

from ..config import to_dict
from ..nets import PRESETS
from .args import add_debug, add_net_args, net_from_args


def run(args: argparse.Namespace) -> int:
    if not args.net:
        for name in PRESETS.names():
            print(f"{name:16s} {PRESETS.help(name)}")
        return 0
    from ..nets.build import layer_table
    from ..nets.init import validate

    spec = net_from_args(args, args.net)
    validate(spec.weights, spec.bias)
    print(f"{'layer':12s} {'op':5s} {'channels':>8s} {'kernel':>6s} {'stride':>6s} {'fn':12s} "
          f"{'RF':>5s} {'params':>9s} {'at 224²':>9s}  init")
    rows = layer_table(spec, (224, 224))
    for row in rows:
        h, w = row["size"]
        print(f"{row['name']:12s} {row['op']:5s} {row['channels']:8d} {row['kernel']:6d} "
              f"{row['stride']:6d} {row['fn']:12s} {row['rf']:5d} {row['params']:9d} "
              f"{f'{w}×{h}':>9s}  {row['init']}")
    levels = (f"; run on {spec.levels} {spec.pyramid} pyramid levels"
              if spec.pyramid != "none" else "")
    print(f"total parameters: {sum(r['params'] for r in rows):,}{levels}")
    print(json.dumps(to_dict(spec), indent=2))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("nets", allow_abbrev=False,
                       help="list network presets, or show one's layers and JSON spec")
    p.add_argument("net", nargs="?", help="a preset name, followed by any network modifiers")
    p.add_argument("--seed", type=int, default=0, help="seed for --greedy")
    add_net_args(p, with_net=False)
    add_debug(p)
    p.set_defaults(func=run)
