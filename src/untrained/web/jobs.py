"""Jobs of the web page: what each command needs, and a queue that runs them one at a time.

A job is a command (texture, style, doodle, repair, expand, enhance, remake, mashup), its input
images and a few options.  One worker thread runs the queue in order (the CPU has no room for
two syntheses at once); a running job records a frame every ``frame_every`` evaluations and
every loss, can be stopped (it then keeps the best image so far), and ends as a PNG that carries
its config, like the command line's outputs.
"""

from __future__ import annotations

import io
import itertools
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import UserError
from ..io import load_alpha, load_image, save_image, to_pil
from ..synth.loop import Iterate

#: Largest input image the page accepts, in pixels (the CPU takes minutes beyond this).
MAX_PIXELS = 1024 * 1024

#: The image fields of each command: (name, required, several allowed).
COMMANDS: dict[str, tuple[tuple[str, bool, bool], ...]] = {
    "texture": (("exemplar", True, True),),
    "style": (("content", True, False), ("style", True, False)),
    "doodle": (("style", True, False), ("style_map", True, False), ("map", True, False)),
    "repair": (("target", True, False), ("mask", False, False), ("source", False, True)),
    "expand": (("target", True, False), ("source", False, True)),
    "enhance": (("target", True, False), ("source", False, True)),
    "remake": (("target", True, False), ("source", True, True)),
    "mashup": (("source", True, True),),
}


class Stopped(Exception):
    """Raised from the progress callback when the user stops a job."""


@dataclass
class Job:
    """One request and everything the page may ask about it."""

    id: int
    command: str
    options: dict[str, Any]
    status: str = "queued"  # queued, running, done, stopped, failed
    error: str | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    frame: bytes | None = None
    frame_evaluation: int = 0
    total: int = 0
    result: Path | None = None
    seconds: float = 0.0
    stop: bool = False

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "command": self.command, "status": self.status, "error": self.error,
                "evaluations": self.losses[-1][0] if self.losses else 0, "total": self.total,
                "loss": self.losses[-1][1] if self.losses else None, "seconds": round(self.seconds, 1),
                "result": f"/api/jobs/{self.id}/result.png" if self.result else None}


def png_bytes(image: torch.Tensor) -> bytes:
    """A frame as PNG bytes (no config: frames are previews)."""
    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _size(options: dict[str, Any]) -> tuple[int, int] | None:
    """``"256"`` / ``"320x240"`` (width × height) → (H, W); empty → None."""
    text = str(options.get("size") or "").strip().lower().replace("×", "x")
    if not text:
        return None
    try:
        nums = [int(p) for p in text.split("x")]
    except ValueError:
        raise UserError(f"size: expected WIDTHxHEIGHT or one number, got {text!r}") from None
    nums = nums * 2 if len(nums) == 1 else nums
    if len(nums) != 2 or min(nums) < 8 or max(nums) > 1024:
        raise UserError(f"size: expected 8 to 1024 px a side, got {text!r}")
    return nums[1], nums[0]


def clean_options(options: dict[str, Any]) -> dict[str, Any]:
    """The page's options checked and typed: whole numbers, the size as (H, W) or None, tile."""
    if not isinstance(options, dict):
        raise UserError("options must be a JSON object")
    out: dict[str, Any] = {"size": _size(options), "tile": bool(options.get("tile"))}
    for key, least in (("seed", 0), ("iterations", 1), ("scales", 1), ("zoom", 1)):
        value = options.get(key)
        if value in (None, ""):
            continue
        try:
            out[key] = int(value)
        except (TypeError, ValueError):
            raise UserError(f"{key}: expected a whole number, got {value!r}") from None
        if out[key] < least:
            raise UserError(f"{key} must be ≥ {least}, got {out[key]}")
    return out


def build(command: str, images: dict[str, list[Path]], options: dict[str, Any]):
    """``(synthesis, config, finish, view)`` for a job: the library's ready-to-run task, its
    resolved config, the post-processing of the final image and of live frames."""
    from ..synth import edit, enhance, mashup, remake, repair

    def one(name):
        return load_image(images[name][0], MAX_PIXELS) if images.get(name) else None

    def many(name):
        return [load_image(p, MAX_PIXELS) for p in images.get(name, [])]

    size, seed = options.get("size"), options.get("seed", 0)
    given = {k: options[k] for k in ("iterations", "scales") if k in options}

    def tuned(cfg):
        return replace(cfg, optim=replace(cfg.optim, **given)) if given else cfg

    if command == "texture":
        from ..synth.texture import TextureConfig, texture_synthesis

        cfg = TextureConfig(size=size, seed=seed, tile=bool(options.get("tile")))
        cfg = tuned(cfg)
        synthesis, config = texture_synthesis(many("exemplar"), cfg)
        return synthesis, config, lambda x: x, lambda x: x
    if command == "style":
        from ..synth.style import StyleConfig, style_synthesis

        cfg = StyleConfig(size=size, seed=seed)
        cfg = tuned(cfg)
        synthesis, config = style_synthesis(one("content"), [one("style")], cfg)
        return synthesis, config, lambda x: x, lambda x: x
    if command == "doodle":
        from ..synth.doodle import DoodleConfig, doodle_synthesis

        cfg = DoodleConfig(size=size, seed=seed)
        cfg = tuned(cfg)
        synthesis, config = doodle_synthesis(one("style"), one("style_map"), one("map"), None, cfg)
        return synthesis, config, lambda x: x, lambda x: x
    defaults = {"repair": repair.FILL_DEFAULTS, "expand": repair.FILL_DEFAULTS, "remake": remake.REMAKE_DEFAULTS,
                "mashup": mashup.MASHUP_DEFAULTS}.get(command, edit.EditConfig())
    cfg = replace(defaults, seed=seed)
    cfg = tuned(cfg)
    if command == "repair":
        mask = one("mask")
        if mask is None:
            mask = load_alpha(images["target"][0])
        task = repair.repair_edit(one("target"), mask, many("source"), cfg, tile=bool(options.get("tile")))
    elif command == "expand":
        if size is None:
            raise UserError("expand: give the new size")
        task = repair.expand_edit(one("target"), size, None, many("source"), cfg)
    elif command == "enhance":
        task = enhance.enhance_edit(one("target"), options.get("zoom", 2), many("source"), cfg)
    elif command == "remake":
        task = remake.remake_edit(one("target"), many("source"), cfg, size)
    elif command == "mashup":
        task = mashup.mashup_edit(many("source"), cfg, size)
    else:
        raise UserError(f"unknown command {command!r}; choose from {', '.join(COMMANDS)}")
    return task.synthesis, task.config, task.finish, task.synthesis.problem.view


class JobQueue:
    """Jobs by id, run one at a time, in order, on one worker thread; files in *folder*."""

    def __init__(self, folder: Path, frame_every: int = 5):
        self.folder, self.frame_every = Path(folder), frame_every
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._queue: queue.Queue[tuple[Job, dict[str, list[Path]]]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="untrained-jobs", daemon=True)
        self._worker.start()

    def submit(self, command: str, images: dict[str, list[bytes]], options: dict[str, Any]) -> Job:
        """Check the request, store its images and queue it; a :class:`UserError` if it is bad."""
        if command not in COMMANDS:
            raise UserError(f"unknown command {command!r}; choose from {', '.join(COMMANDS)}")
        unknown = set(images) - {name for name, _, _ in COMMANDS[command]}
        if unknown:
            raise UserError(f"{command} takes no image {', '.join(sorted(unknown))}")
        with self._lock:
            job = Job(next(self._ids), command, clean_options(options))
        paths = self._store(job, images)
        self.jobs[job.id] = job  # only a valid request becomes a job the page lists
        self._queue.put((job, paths))
        return job

    def _store(self, job: Job, images: dict[str, list[bytes]]) -> dict[str, list[Path]]:
        """Write *job*'s images to its folder, checking each is readable; their paths by field."""
        paths: dict[str, list[Path]] = {}
        folder = self.folder / f"job{job.id}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, required, several in COMMANDS[job.command]:
            files = images.get(name) or []
            if required and not files:
                raise UserError(f"{job.command} needs the {name.replace('_', ' ')} image")
            if len(files) > 1 and not several:
                raise UserError(f"{job.command} takes one {name.replace('_', ' ')} image, got {len(files)}")
            paths[name] = []
            for i, data in enumerate(files):
                path = folder / f"{name}{i}"
                path.write_bytes(data)
                load_image(path, MAX_PIXELS)  # refuse unreadable images now, with their reason
                paths[name].append(path)
        return paths

    def stop(self, job: Job) -> None:
        """Ask *job* to stop: a queued job never starts, a running one keeps its best image."""
        job.stop = True
        if job.status == "queued":
            job.status = "stopped"

    def _work(self) -> None:
        while True:
            job, paths = self._queue.get()
            if job.status == "queued":
                self._run(job, paths)

    def _run(self, job: Job, paths: dict[str, list[Path]]) -> None:
        job.status, start = "running", time.perf_counter()
        status = "stopped"  # unless the run finishes or fails
        try:
            synthesis, config, finish, view = build(job.command, paths, job.options)
            job.total = synthesis.optim.max_evaluations()
            synthesis.callback = self._progress(job, view)
            try:
                image, extra, status = finish(synthesis.run()), {}, "done"
            except Stopped:
                best = synthesis.best_image if synthesis.best_image is not None else synthesis.image
                if best is None:
                    return
                image, extra = view(best), {"interrupted": True}
            extra["stats"] = synthesis.stats()
            job.result = save_image(self.folder / f"job{job.id}" / f"{job.command}.png", image, config, extra)
            job.frame = png_bytes(image)
        except UserError as exc:
            status, job.error = "failed", str(exc)
        except Exception as exc:  # a bug: the page shows it in one line
            status, job.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            # the status last: a client that sees the job end finds its result, error and time set
            job.seconds = time.perf_counter() - start
            job.status = status

    def _progress(self, job: Job, view: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[Iterate], None]:
        def callback(it: Iterate) -> None:
            job.losses.append((it.evaluation, it.loss))
            if it.evaluation == 1 or it.evaluation % self.frame_every == 0:
                job.frame, job.frame_evaluation = png_bytes(view(it.image)), it.evaluation
            if job.stop:
                raise Stopped

        return callback
