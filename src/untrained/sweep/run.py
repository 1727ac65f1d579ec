"""Running a sweep: one folder per run, resumable, a failing run recorded and skipped over;
at the end the report (table, contact sheet, loss curves, report.md) is rebuilt.

Each run writes ``runs/<key>/`` — ``image.png`` (with its resolved config), ``point.json`` (the
axis values), ``history.json`` (loss per evaluation) and, last, ``metrics.json``: a run whose
``metrics.json`` exists is finished and is skipped when the sweep is run again.  A run that
raises writes ``error.json`` instead and the others go on.  Every file is written atomically,
so a sweep killed at any moment leaves no torn file.  Runs go through a
``concurrent.futures`` executor (a local process pool by default).

Every run computes with the same number of threads (``threads``, 1 by default) wherever it
runs — in this process, a pool worker or a Dask worker — because the thread count changes how
convolution sums are split and so the last bits of the result: with it fixed, a run's bytes do
not depend on the executor or on ``workers``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from ..config import from_dict
from ..errors import UserError
from ..io import atomic_write_bytes, atomic_write_json, load_image, save_image
from .report import build_report
from .spec import SweepSpec, run_key
from .table import collect


def task_config(task: str, cfg: dict[str, Any]):
    """The task's config dataclass from a sweep run's plain configuration (``net`` given as
    network options, e.g. ``{"net": "vgg19", "width": 0.5}``)."""
    from ..nets.modify import NetOptions
    from ..synth.doodle import DoodleConfig
    from ..synth.invert import InvertConfig
    from ..synth.style import StyleConfig
    from ..synth.texture import TextureConfig

    cls = {"texture": TextureConfig, "invert": InvertConfig, "style": StyleConfig, "doodle": DoodleConfig}[task]
    cfg = dict(cfg)
    net = cfg.pop("net", None)
    config = from_dict(cls, cfg)
    if net is not None:
        try:
            options = NetOptions(**net) if isinstance(net, dict) else NetOptions(net=str(net))
        except TypeError as exc:
            raise UserError(f"sweep spec: bad network options {net!r} ({exc})") from None
        config = dataclasses.replace(config, net=options.apply(seed=cfg.get("seed", 0)))
    return config


def _run_task(task: str, inputs: dict[str, Any], config) -> tuple[Any, dict[str, float]]:
    import untrained as U
    from ..metrics import evaluate, texture_scores

    if task == "texture":
        paths = inputs["exemplar"] if isinstance(inputs["exemplar"], list) else [inputs["exemplar"]]
        exemplars = [load_image(p) for p in paths]
        result = U.texture(exemplars if len(exemplars) > 1 else exemplars[0], config)
        return result, texture_scores(result.image, exemplars[0])
    if task == "invert":
        result = U.invert(load_image(inputs["image"]), config)
        return result, dict(result.stats["scores"])
    if task == "style":
        content, style = load_image(inputs["content"]), load_image(inputs["style"])
        result = U.style(content, style, config)
        return result, evaluate(result.image, style, "style", content=content)
    style = load_image(inputs["style"])
    result = U.doodle(style, load_image(inputs["style_map"]), load_image(inputs["map"]),
                      load_image(inputs["content"]) if inputs.get("content") else None, config)
    return result, texture_scores(result.image, style)


def run_one(task: str, inputs: dict[str, Any], config: dict[str, Any], point: dict[str, Any], folder: str,
            threads: int = 1) -> dict[str, Any]:
    """Run one configuration into *folder* with *threads* torch threads; returns its row
    (metrics, or the error)."""
    import torch

    out = Path(folder)
    atomic_write_json(out / "point.json", {"point": point, "task": task, "inputs": inputs, "config": config})
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        result, scores = _run_task(task, inputs, task_config(task, config))
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        error = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        atomic_write_json(out / "error.json", error)
        return {"status": "error", "error": error["error"], **point}
    finally:
        torch.set_num_threads(before)
    seconds = time.perf_counter() - start
    save_image(out / "image.png", result.image, result.config)
    atomic_write_json(out / "history.json", {"loss": [h["loss"] for h in result.history],
                                             "scale": [h["scale"] for h in result.history]})
    metrics = {**{k: float(v) for k, v in scores.items()}, "seconds": round(seconds, 3),
               "evaluations": result.stats["evaluations"], "threads": threads}
    atomic_write_json(out / "metrics.json", metrics)  # last: marks the run finished
    try:
        (out / "error.json").unlink()
    except FileNotFoundError:
        pass
    return {"status": "ok", **point, **metrics}


class DaskExecutor:
    """Dask distributed behind the ``concurrent.futures`` interface (``client.get_executor``):
    ``scheduler="tcp://host:port"`` joins a cluster, ``local=N`` starts a LocalCluster of N
    single-threaded worker processes.  Lost workers are retried (``retries`` times); results
    are gathered by this client.  Use as a context manager."""

    def __init__(self, scheduler: str | None = None, local: int = 0, retries: int = 2):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("the Dask executor needs the 'distributed' package: pip install 'untrained[dask]'") from None
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise UserError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        else:
            self.cluster = LocalCluster(n_workers=max(1, local), threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.executor = self.client.get_executor(retries=retries, pure=False)

    def __enter__(self) -> cf.Executor:
        return self.executor

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _init_worker(setup: Callable[[], Any] | None = None) -> None:
    """Pool worker initialiser: on Linux the kernel kills this worker when the sweep's process
    dies (even by SIGKILL), so no orphaned run goes on writing into the sweep's folder; then the
    caller's *setup* runs."""
    if setup is not None:
        setup()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def default_workers(threads: int = 1) -> int:
    """As many parallel runs as the machine's cores hold at *threads* threads each."""
    return max(1, (os.cpu_count() or 1) // max(1, threads))


def run_sweep(spec: SweepSpec, directory: str | Path, workers: int | None = None, threads: int = 1,
              executor: cf.Executor | None = None, progress: Callable[[int, int], None] | None = None,
              notes: list[str] | None = None,
              worker_setup: Callable[[], Any] | None = None) -> list[dict]:
    """Run every unfinished point of *spec* into ``directory/runs/<key>/`` and write the results
    table.  Each run computes with *threads* threads.  *executor* may be any
    ``concurrent.futures.Executor`` (default: a process pool of *workers* processes, by default
    :func:`default_workers`; one process runs them in turn).  The spec's axes, labels and
    *notes* (e.g. points left out) go to ``sweep.json`` so ``untrained report`` rebuilds the same
    report.  *worker_setup* runs once in each pool worker process (the CLI's memory settings;
    the library itself changes no process-wide state)."""
    if threads < 1:
        raise UserError(f"threads per run must be ≥ 1, got {threads}")
    workers = default_workers(threads) if workers is None else workers
    if workers < 1:
        raise UserError(f"workers must be ≥ 1, got {workers}")
    directory = Path(directory)
    inputs = spec.input_paths()
    atomic_write_json(directory / "sweep.json", {"task": spec.task, "inputs": inputs, "axes": spec.axes,
                                                 "values": {**spec.grid, **spec.zip}, "labels": spec.labels, "notes": list(notes or []),
                                                 "threads_per_run": threads})
    jobs = []
    for point in spec.points():
        config = spec.config(point)
        task_config(spec.task, config)  # validate before any work
        key = run_key(spec.task, inputs, config)
        folder = directory / "runs" / key
        if (folder / "metrics.json").exists():
            continue
        jobs.append((spec.task, inputs, config, point, str(folder), threads))
    total, done = len(jobs), 0
    own = executor is None and workers > 1 and total > 1
    if own:
        # spawned, not forked: a child forked from a process whose OpenMP pool has run hangs in libgomp
        executor = cf.ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(worker_setup,),
                                          mp_context=multiprocessing.get_context("spawn"))
    try:
        if executor is None:
            for job in jobs:
                run_one(*job)
                done += 1
                if progress:
                    progress(done, total)
        else:
            futures = [executor.submit(run_one, *job) for job in jobs]
            for future in cf.as_completed(futures):
                future.result()
                done += 1
                if progress:
                    progress(done, total)
    finally:
        if own:
            executor.shutdown()
    build_report(directory)
    return collect(directory)
