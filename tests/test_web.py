"""The web page's API (issue #19), through Starlette's TestClient: no browser, no network."""

import base64
import io
import json
import socket

import pytest
import torch

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402

from untrained.errors import UserError  # noqa: E402
from untrained.io import read_config, save_image  # noqa: E402
from untrained.web import check_port, create_app  # noqa: E402

from conftest import make_texture  # noqa: E402

TINY = {"size": "32", "iterations": 1, "scales": 1, "seed": 3}


def data_url(image: torch.Tensor, tmp_path, name="x.png") -> str:
    path = tmp_path / name
    save_image(path, image)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "jobs", frame_every=2)) as c:
        yield c


def events(client, job_id):
    """The (event, data) pairs of a job's stream, until its end."""
    out, kind = [], None
    with client.stream("GET", f"/api/jobs/{job_id}/events") as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    return out


def test_page_and_commands_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "EventSource" in page.text
    commands = client.get("/api/commands").json()
    assert {"texture", "style", "doodle", "repair", "expand", "enhance", "remake", "mashup"} <= set(commands)


def test_a_job_streams_frames_and_losses_and_its_png_carries_the_config(client, tmp_path):
    reply = client.post("/api/jobs", json={"command": "texture", "images": {"exemplar": [data_url(make_texture(40), tmp_path)]},
                                           "options": TINY})
    assert reply.status_code == 201, reply.text
    job = reply.json()
    stream = events(client, job["id"])
    progress = [d for k, d in stream if k == "progress"]
    assert any("frame" in d for d in progress)
    losses = [l for d in progress for _, l in d["losses"]]
    assert len(losses) >= 2 and losses[-1] < losses[0]
    assert stream[-1][0] == "end" and stream[-1][1]["status"] == "done"
    png = client.get(f"/api/jobs/{job['id']}/result.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    (tmp_path / "got.png").write_bytes(png.content)
    config = read_config(tmp_path / "got.png")
    assert config["task"] == "texture" and config["seed"] == 3 and config["size"] == [32, 32]


def test_repair_job_from_an_rgba_target_keeps_the_opaque_pixels(client, tmp_path):
    from PIL import Image

    rgb = (make_texture(48) * 255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    alpha = torch.full((48, 48), 255, dtype=torch.uint8)
    alpha[16:32, 16:32] = 0
    buf = io.BytesIO()
    Image.fromarray(__import__("numpy").dstack([rgb, alpha.numpy()]), "RGBA").save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    job = client.post("/api/jobs", json={"command": "repair", "images": {"target": [url]},
                                         "options": {"iterations": 1, "scales": 1}}).json()
    assert events(client, job["id"])[-1][1]["status"] == "done"
    out = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/result.png").content)).convert("RGB")
    import numpy as np

    out = np.asarray(out)
    keep = alpha.numpy() == 255
    assert (out[keep] == rgb[keep]).all() and (out[~keep] != rgb[~keep]).any()


def test_jobs_queue_and_a_stopped_job_keeps_its_best_image(client, tmp_path):
    url = data_url(make_texture(40), tmp_path)
    slow = {"size": "48", "iterations": 50, "scales": 1}
    first = client.post("/api/jobs", json={"command": "texture", "images": {"exemplar": [url]}, "options": slow}).json()
    second = client.post("/api/jobs", json={"command": "texture", "images": {"exemplar": [url]}, "options": TINY}).json()
    assert client.get(f"/api/jobs/{second['id']}").json()["status"] == "queued"
    with client.stream("GET", f"/api/jobs/{first['id']}/events") as reply:
        for line in reply.iter_lines():
            if '"losses": [[' in line:
                break  # it is running
    assert client.post(f"/api/jobs/{first['id']}/stop").status_code == 200
    assert events(client, first["id"])[-1][1]["status"] == "stopped"
    assert client.get(f"/api/jobs/{first['id']}/result.png").status_code == 200
    assert events(client, second["id"])[-1][1]["status"] == "done"
    assert [j["id"] for j in client.get("/api/jobs").json()] == [first["id"], second["id"]]


@pytest.mark.parametrize("body, message", [
    ({"command": "paint", "images": {}}, "unknown command 'paint'"),
    ({"command": "texture", "images": {}}, "needs the exemplar image"),
    ({"command": "texture", "images": {"exemplar": ["data:image/png;base64,AAAA"]}}, "cannot read"),
    ({"command": "texture", "images": {"exemplar": ["%%%"]}}, "not valid base64"),
    ({"command": "texture", "images": {}, "options": {"seed": "x"}}, "seed: expected a whole number"),
    ({"command": "texture", "images": {}, "options": {"size": "2x"}}, "size: expected"),
])
def test_bad_requests_get_one_clear_error(client, body, message):
    reply = client.post("/api/jobs", json=body)
    assert reply.status_code == 400 and message in reply.json()["error"]
    assert client.get("/api/jobs").json() == []  # a refused request is no job


def test_a_failing_job_reports_its_error(client, tmp_path):
    url = data_url(make_texture(40), tmp_path)
    job = client.post("/api/jobs", json={"command": "enhance", "images": {"target": [url]}, "options": {"zoom": 3}}).json()
    end = events(client, job["id"])[-1][1]
    assert end["status"] == "failed" and "zoom must be 2 or 4" in end["error"]
    assert client.get(f"/api/jobs/{job['id']}/result.png").status_code == 404
    assert client.get("/api/jobs/999").status_code == 404


def test_a_port_in_use_is_one_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{port}: the port is in use"):
            check_port("127.0.0.1", port)


def test_a_job_reads_as_ended_only_once_its_result_is_written(client, tmp_path, monkeypatch):
    """The event stream ends when the status is done or stopped, and the page then fetches the
    result: the status must change after the PNG is saved and the time is set, or that fetch can
    race the worker and get a 404."""
    from untrained.web import jobs

    seen = []

    def save(path, image, *args, **kwargs):
        seen.append(next(iter(queue.jobs.values())).status)
        return save_image(path, image, *args, **kwargs)

    queue = client.app.state.jobs
    monkeypatch.setattr(jobs, "save_image", save)
    url = data_url(make_texture(32), tmp_path)
    job = client.post("/api/jobs", json={"command": "texture", "images": {"exemplar": [url]}, "options": TINY}).json()
    end = events(client, job["id"])[-1][1]
    assert end["status"] == "done" and end["result"]
    assert seen == ["running"]
