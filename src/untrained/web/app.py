"""The web page's server: a Starlette app over a :class:`~.jobs.JobQueue`.

Routes: ``GET /`` the page; ``POST /api/jobs`` a job as JSON ``{"command", "images": {name:
[data URL…]}, "options"}``; ``GET /api/jobs`` and ``GET /api/jobs/{id}`` their state;
``GET /api/jobs/{id}/events`` server-sent events (a ``progress`` event with the new losses and,
when there is one, the newest frame as a PNG data URL; an ``end`` event when the job ends);
``POST /api/jobs/{id}/stop``; ``GET /api/jobs/{id}/result.png`` the PNG, which carries its config.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import tempfile
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import UserError
from .jobs import COMMANDS, JobQueue

STATIC = Path(__file__).parent / "static"
#: Largest request body (JSON with base64 images) accepted.
MAX_BODY = 32 << 20
#: Seconds between two looks at a running job for its event stream.
POLL = 0.2


def _decode(url: str) -> bytes:
    """The bytes of a ``data:…;base64,`` URL (or of plain base64)."""
    payload = url.split(",", 1)[1] if url.startswith("data:") else url
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("an image is not valid base64 data") from None


def create_app(folder: str | Path | None = None, frame_every: int = 5) -> Starlette:
    """The app; jobs' inputs and outputs go in *folder* (default: a new temporary folder)."""
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="untrained-serve-"))
    jobs = JobQueue(folder, frame_every)

    def find(request: Request):
        job = jobs.jobs.get(int(request.path_params["id"]))
        if job is None:
            return None, JSONResponse({"error": "no such job"}, status_code=404)
        return job, None

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def commands(request: Request) -> Response:
        return JSONResponse({name: [{"name": n, "required": r, "several": s} for n, r, s in fields]
                             for name, fields in COMMANDS.items()})

    async def submit(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"request larger than {MAX_BODY >> 20} MiB"}, status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise UserError("expected a JSON object")
            images = {k: [_decode(u) for u in (v if isinstance(v, list) else [v])]
                      for k, v in (data.get("images") or {}).items()}
            job = await asyncio.to_thread(jobs.submit, str(data.get("command", "")), images, data.get("options") or {})
        except json.JSONDecodeError:
            return JSONResponse({"error": "the request is not JSON"}, status_code=400)
        except UserError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(job.summary(), status_code=201)

    async def listing(request: Request) -> Response:
        return JSONResponse([j.summary() for j in jobs.jobs.values()])

    async def status(request: Request) -> Response:
        job, missing = find(request)
        return missing or JSONResponse(job.summary())

    async def stop(request: Request) -> Response:
        job, missing = find(request)
        if missing:
            return missing
        jobs.stop(job)
        return JSONResponse(job.summary())

    async def result(request: Request) -> Response:
        job, missing = find(request)
        if missing:
            return missing
        if job.result is None:
            return JSONResponse({"error": f"job {job.id} has no result yet ({job.status})"}, status_code=404)
        return FileResponse(job.result, media_type="image/png", filename=f"untrained_{job.command}_{job.id}.png")

    async def events(request: Request) -> Response:
        job, missing = find(request)
        if missing:
            return missing

        async def stream():
            sent, frame = 0, None
            while True:
                ended = job.status in ("done", "stopped", "failed")
                losses = job.losses[sent:]
                sent += len(losses)
                update = {**job.summary(), "losses": losses}
                if job.frame is not None and job.frame is not frame:
                    frame = job.frame
                    update["frame"] = "data:image/png;base64," + base64.b64encode(frame).decode()
                if losses or "frame" in update or ended:
                    yield f"event: progress\ndata: {json.dumps(update)}\n\n"
                if ended:
                    yield f"event: end\ndata: {json.dumps(job.summary())}\n\n"
                    return
                await asyncio.sleep(POLL)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    routes = [
        Route("/", index), Route("/api/commands", commands), Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs", listing), Route("/api/jobs/{id:int}", status),
        Route("/api/jobs/{id:int}/events", events), Route("/api/jobs/{id:int}/stop", stop, methods=["POST"]),
        Route("/api/jobs/{id:int}/result.png", result),
    ]
    app = Starlette(routes=routes)
    app.state.jobs = jobs
    return app


def check_port(host: str, port: int) -> None:
    """A :class:`UserError` unless *host*:*port* can be bound now (a port in use, a bad host)."""
    import socket

    if not 0 < port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"cannot serve on {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(address)
        except OSError as exc:
            reason = "the port is in use" if exc.errno in (98, 48, 10048) else exc.strerror
            raise UserError(f"cannot serve on {host}:{port}: {reason} (choose another with --port)") from None


def serve(host: str = "127.0.0.1", port: int = 8000, folder: str | Path | None = None) -> None:
    """Run the page's server until interrupted (the ``untrained serve`` command)."""
    try:
        import uvicorn
    except ImportError:
        raise UserError("the web page needs the [web] extra: pip install 'untrained[web]'") from None
    check_port(host, port)
    uvicorn.run(create_app(folder), host=host, port=port, log_level="warning")
