"""``untrained sweep``: run a sweep spec into a folder of runs and a results table; the
folder and executor handling that ``reproduce`` shares."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from .args import add_executor_args


def sweep_folder(args: argparse.Namespace) -> Path:
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


def run_sweep_with_flags(args: argparse.Namespace, spec, directory: Path,
                         notes: list[str] | None = None) -> list[dict]:
    """Run *spec* on the executor the flags choose (a process pool, or Dask), with a progress
    bar unless ``--quiet``; the rows of the results table."""
    from ..sweep import run_sweep

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(unit="run", file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    from .memory import retain_freed_memory

    common = dict(threads=args.threads_per_run, progress=progress, notes=notes,
                  worker_setup=retain_freed_memory)
    try:
        if args.scheduler or args.dask_local:
            from ..sweep.run import DaskExecutor

            with DaskExecutor(args.scheduler, args.dask_local) as executor:
                return run_sweep(spec, directory, executor=executor, **common)
        return run_sweep(spec, directory, args.workers, **common)
    finally:
        if bar is not None:
            bar.close()


def run(args: argparse.Namespace) -> int:
    from ..sweep import SweepSpec

    spec = SweepSpec.load(args.spec)
    directory = sweep_folder(args)
    rows = run_sweep_with_flags(args, spec, directory)
    failed = [r for r in rows if r.get("status") == "error"]
    if not args.quiet:
        print(f"{len(rows)} runs in {directory / 'results.csv'} ({len(failed)} failed)",
              file=sys.stderr)
    return 1 if failed else 0


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", allow_abbrev=False,
                       help="run a sweep spec (TOML) into a folder of runs and a results table")
    p.add_argument("spec", help="sweep spec, TOML (see untrained.sweep.spec)")
    p.add_argument("-o", "--output", required=True,
                   help="the sweep's folder (rerunning skips finished runs)")
    add_executor_args(p)
    p.set_defaults(func=run)
