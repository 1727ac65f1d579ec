"""Sweeps: spec parsing, keys, resumable runs, failures recorded, results table (issue #6)."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from untrained.cli import main
from untrained.errors import UserError
from untrained.io import save_image
from untrained.sweep import SweepSpec, collect, run_key, run_one, run_sweep, task_config
from untrained.sweep.report import _short
from untrained.sweep.reproduce import load_recipe

from conftest import make_texture

SPEC = """
task = "texture"
[inputs]
exemplar = "ex.png"
[base]
size = [32, 32]
layers = ["conv1_1"]
optim = {{ iterations = 1, scales = 1, lbfgs_max_iter = 3 }}
net = {{ net = "vgg19", width = 0.25 }}
[labels]
rows = "net.activation"
cols = "seed"
[grid]
"net.activation" = ["relu", "elu"]
seed = [0, 1]
{extra}
"""


@pytest.fixture
def spec_file(tmp_path):
    save_image(tmp_path / "ex.png", make_texture(40))
    path = tmp_path / "sweep.toml"
    path.write_text(SPEC.format(extra=""))
    return path


def test_points_grid_and_zip():
    spec = SweepSpec.from_dict({"task": "texture", "inputs": {"exemplar": "x"}, "grid": {"a": [1, 2], "b.c": [3, 4, 5]},
                                "zip": {"d": [6, 7], "e": [8, 9]}})
    points = spec.points()
    assert len(points) == 2 * 3 * 2 and {"a": 1, "b.c": 3, "d": 6, "e": 8} in points and {"a": 2, "b.c": 5, "d": 7, "e": 9} in points
    assert spec.config({"b.c": 3, "a": 1}) == {"b": {"c": 3}, "a": 1}


@pytest.mark.parametrize("data, message", [
    ({"task": "paint", "inputs": {"a": "b"}}, "task must be"),
    ({"task": "texture"}, "inputs"),
    ({"task": "texture", "inputs": {"exemplar": "x"}, "grid": {"seed": []}}, "non-empty list"),
    ({"task": "texture", "inputs": {"exemplar": "x"}, "zip": {"a": [1], "b": [1, 2]}}, "equal lengths"),
    ({"task": "texture", "inputs": {"exemplar": "x"}, "axes": {}}, "unknown section"),
])
def test_bad_specs(data, message):
    with pytest.raises(UserError, match=message):
        SweepSpec.from_dict(data)


def test_keys_are_stable_and_distinct():
    a = run_key("texture", {"e": "x"}, {"seed": 0, "size": [8, 8]})
    assert a == run_key("texture", {"e": "x"}, {"size": [8, 8], "seed": 0})
    assert a != run_key("texture", {"e": "x"}, {"seed": 1, "size": [8, 8]})


def test_task_config_builds_nets_from_options():
    cfg = task_config("texture", {"net": {"net": "champandard", "width": 0.5}, "size": [16, 16], "optim": {"iterations": 2}})
    assert cfg.net.layers[0].channels == 24 and cfg.size == (16, 16) and cfg.optim.iterations == 2
    with pytest.raises(UserError):
        task_config("texture", {"net": {"netz": "vgg19"}})


def test_contact_sheet_labels():
    """Labels read as words: a list axis (He et al.'s growing layer sets) without JSON brackets, a
    table axis (net options) without the entries every value shares, anything else as it is."""
    layers = [json.dumps(["conv1_1"]), json.dumps(["conv1_1", "conv2_1"])]
    assert list(_short(layers).values()) == ["conv1_1", "conv1_1 conv2_1"]
    nets = [json.dumps({"net": "vgg19", "width": w}) for w in (0.5, 1.0)]
    assert list(_short(nets).values()) == ["width=0.5", "width=1.0"]
    assert _short(["relu", "1.5"]) == {"relu": "relu", "1.5": "1.5"}


def test_sweep_runs_resumes_and_reports(spec_file, tmp_path):
    out = tmp_path / "out"
    rows = run_sweep(SweepSpec.load(spec_file), out)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    table = list(csv.DictReader((out / "results.csv").open()))
    assert {r["net.activation"] for r in table} == {"relu", "elu"} and all(float(r["score"]) > 0 for r in table)
    assert {p.name for p in out.iterdir()} >= {"results.csv", "contact_sheet.png", "loss_curves.png", "report.md"}
    report = (out / "report.md").read_text()
    assert "contact_sheet.png" in report and report.count("| ok |") == 4
    with Image.open(out / "contact_sheet.png") as sheet:  # 2 rows (activation) × 2 columns (seed)
        assert sheet.size == (170 + 2 * 160, 14 + 30 + 2 * 160)  # title line, column labels, 2 × 2 cells
    run = next((out / "runs").iterdir())
    assert {p.name for p in run.iterdir()} >= {"image.png", "image.json", "point.json", "history.json", "metrics.json"}
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("metrics.json")}
    run_sweep(SweepSpec.load(spec_file), out)  # again: everything finished is skipped
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.json")} == stamps


def test_a_failing_run_is_recorded_and_the_others_finish(spec_file, tmp_path):
    spec_file.write_text(SPEC.format(extra='"layers" = [["conv1_1"], ["conv9_9"]]'))
    rows = run_sweep(SweepSpec.load(spec_file), tmp_path / "out")
    assert sum(r["status"] == "error" for r in rows) == 4 and sum(r["status"] == "ok" for r in rows) == 4
    assert any("conv9_9" in r["error"] for r in rows if r["status"] == "error")


def test_process_pool_gives_the_same_images(spec_file, tmp_path):
    """Every run computes with the sweep's threads per run (1), in this process (which the suite
    runs with 2 threads) as in a pool worker, so the bytes match."""
    run_sweep(SweepSpec.load(spec_file), tmp_path / "serial", workers=1)
    run_sweep(SweepSpec.load(spec_file), tmp_path / "pool", workers=2)
    for png in (tmp_path / "serial" / "runs").rglob("image.png"):
        twin = tmp_path / "pool" / "runs" / png.parent.name / "image.png"
        assert png.read_bytes() == twin.read_bytes()
    assert all(json.loads(m.read_text())["threads"] == 1 for m in (tmp_path / "pool").rglob("metrics.json"))


def test_run_one_restores_the_callers_threads(spec_file, tmp_path):
    import torch

    spec = SweepSpec.load(spec_file)
    point = spec.points()[0]
    before = torch.get_num_threads()
    row = run_one(spec.task, spec.input_paths(), spec.config(point), point, str(tmp_path / "r"), threads=1)
    assert row["status"] == "ok" and row["threads"] == 1 and torch.get_num_threads() == before


def test_sigkill_loses_no_finished_run(spec_file, tmp_path):
    spec_file.write_text(SPEC.format(extra='"optim.iterations" = [1, 2, 3]'))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "untrained", "sweep", str(spec_file), "-o", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.rglob("metrics.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name for p in out.rglob("metrics.json")}
    assert len(finished) >= 2
    for p in out.rglob("*.json"):
        json.loads(p.read_text())  # no torn file
    for p in out.rglob("*.png"):
        Image.open(p).verify()
    # a kill in the middle of a write may leave only a hidden temporary file, never a torn output
    assert all(p.name.startswith(".") for p in out.rglob("*.tmp"))
    rows = run_sweep(SweepSpec.load(spec_file), out)
    assert len(rows) == 12 and all(r["status"] == "ok" for r in rows)
    assert finished <= {r["key"] for r in rows}


def test_cli_sweep_and_report(spec_file, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["sweep", str(spec_file), "-o", str(out), "--quiet"]) == 0
    for name in ("results.csv", "report.md", "contact_sheet.png", "loss_curves.png"):
        (out / name).unlink()
    assert main(["report", str(out)]) == 0
    assert len(list(csv.DictReader((out / "results.csv").open()))) == 4
    assert (out / "report.md").exists() and (out / "contact_sheet.png").exists() and (out / "loss_curves.png").exists()


@pytest.mark.parametrize("args, fragment", [(["sweep", "{missing}", "-o", "{out}"], "no such file"),
                                            (["sweep", "{bad}", "-o", "{out}"], "not valid TOML"),
                                            (["report", "{out}"], "no sweep")])
def test_cli_sweep_errors(tmp_path, capsys, args, fragment):
    (tmp_path / "bad.toml").write_text("task = [")
    (tmp_path / "o").mkdir()
    args = [a.format(missing=tmp_path / "none.toml", bad=tmp_path / "bad.toml", out=tmp_path / "o") for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[-1]


def test_two_sweeps_on_one_folder_do_not_corrupt_it(spec_file, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "untrained", "sweep", str(spec_file), "-o", str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    table = list(csv.DictReader((out / "results.csv").open()))
    assert len(table) == 4 and all(r["status"] == "ok" for r in table)
    for p in out.rglob("*.json"):
        json.loads(p.read_text())


def test_dask_local_cluster_gives_the_same_runs(spec_file, tmp_path):
    """The Dask path, with a LocalCluster: same keys and bytes as the serial run."""
    pytest.importorskip("distributed")
    from untrained.sweep.run import DaskExecutor

    run_sweep(SweepSpec.load(spec_file), tmp_path / "serial", workers=1)
    with DaskExecutor(local=2) as executor:
        rows = run_sweep(SweepSpec.load(spec_file), tmp_path / "dask", executor=executor)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    for png in (tmp_path / "serial" / "runs").rglob("image.png"):
        assert png.read_bytes() == (tmp_path / "dask" / "runs" / png.parent.name / "image.png").read_bytes()


def test_cli_dask_local(spec_file, tmp_path):
    pytest.importorskip("distributed")
    assert main(["sweep", str(spec_file), "-o", str(tmp_path / "d"), "--dask-local", "2", "--quiet"]) == 0
    assert len(list((tmp_path / "d" / "runs").glob("*/metrics.json"))) == 4


def test_unreachable_scheduler_is_one_line(spec_file, tmp_path, capsys):
    pytest.importorskip("distributed")
    assert main(["sweep", str(spec_file), "-o", str(tmp_path / "d"), "--scheduler", "tcp://127.0.0.1:9", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]


def test_reproduce_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("champandard2016-activation", "champandard2016-downsampling", "champandard2016-units",
                 "champandard2016-depth", "he2016-texture", "du2020-fig2", "du2020-fig8"):
        assert name in out


@pytest.mark.parametrize("name, runs", [("champandard2016-activation", 6), ("champandard2016-downsampling", 3),
                                        ("champandard2016-units", 6), ("champandard2016-depth", 2), ("he2016-texture", 5),
                                        ("du2020-fig2", 3), ("du2020-fig4", 6), ("du2020-fig5", 7), ("du2020-fig6", 8),
                                        ("du2020-fig7", 5), ("du2020-fig8", 4)])
def test_reproduce_quick(tmp_path, name, runs):
    assert main(["reproduce", name, "-o", str(tmp_path / name), "--quick", "--workers", "1", "--quiet"]) == 0
    table = list(csv.DictReader((tmp_path / name / "results.csv").open()))
    assert len(table) == runs and all(r["status"] == "ok" for r in table)
    assert (tmp_path / name / "contact_sheet.png").exists()


def test_reproduce_unknown_name(tmp_path, capsys):
    assert main(["reproduce", "champandard2016-activaton", "-o", str(tmp_path / "x")]) == 2
    assert "did you mean 'champandard2016-activation'" in capsys.readouterr().err


def test_reproduce_new_recipes_quick(tmp_path):
    """He et al.'s inversion (random vs greedy, seeds) and style recipes run end to end; the
    inversion report averages over seeds."""
    assert main(["reproduce", "he2016-inversion", "-o", str(tmp_path / "inv"), "--quick", "--workers", "1", "--quiet"]) == 0
    table = list(csv.DictReader((tmp_path / "inv" / "results.csv").open()))
    assert len(table) == 12 and sum('"greedy": 2' in r["net"] for r in table) == 6
    errors = [float(r["relative_feature_error"]) for r in table]
    assert all(r["status"] == "ok" for r in table)
    # a real relative error of a partial reconstruction: positive, finite, and not one constant
    assert all(0 < e < 10 for e in errors) and len(set(errors)) == len(errors)
    assert main(["reproduce", "he2016-style", "-o", str(tmp_path / "st"), "--quick", "--workers", "1", "--quiet"]) == 0
    assert len(list(csv.DictReader((tmp_path / "st" / "results.csv").open()))) == 6  # 2 starts × 3 content weights


def test_reproduce_points_needing_trained_weights(tmp_path, vgg_file, capsys):
    """Without --weights-file Du's trained points are left out with a note (Fig. 3 entirely
    refused); with a file they run with it."""
    assert main(["reproduce", "du2020-fig3", "-o", str(tmp_path / "f3"), "--quick"]) == 2
    assert "--weights-file" in capsys.readouterr().err
    assert main(["reproduce", "du2020-fig3", "-o", str(tmp_path / "f3"), "--quick", "--weights-file", vgg_file, "--workers", "1", "--quiet"]) == 0
    table = list(csv.DictReader((tmp_path / "f3" / "results.csv").open()))
    assert len(table) == 4 and all(r["status"] == "ok" for r in table)
    config = json.loads(next((tmp_path / "f3" / "runs").glob("*/point.json")).read_text())["config"]
    assert config["net"]["weights"] == f"trained:{Path(vgg_file).resolve()}"
    spec, notes = load_recipe("du2020-fig5", quick=True)
    assert notes == ["left out (needs --weights-file): net.weights=binarized:FILE:0.1"]
    assert len(spec.points()) == 7
    spec, notes = load_recipe("du2020-fig5", quick=True, weights_file=vgg_file)
    assert notes == [] and len(spec.points()) == 8
    spec, notes = load_recipe("he2016-inversion", quick=True)  # random and greedy; trained with a file
    assert len(notes) == 1 and "trained:FILE" in notes[0] and len(spec.points()) == 12
    spec, _ = load_recipe("he2016-inversion", quick=True, weights_file=vgg_file)
    assert len(spec.points()) == 18
    assert main(["reproduce", "du2020-fig3", "-o", str(tmp_path / "x"), "--weights-file", str(tmp_path / "no.pth")]) == 2


def test_reproduce_input_override(tmp_path, exemplar_file, capsys):
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "f2"), "--quick", "--input", f"style={exemplar_file}", "--workers", "1", "--quiet"]) == 0
    info = json.loads((tmp_path / "f2" / "sweep.json").read_text())
    assert info["inputs"]["style"] == str(Path(exemplar_file).resolve())
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "f2"), "--input", "exemplar=x.png"]) == 2
    assert "has no input 'exemplar'" in capsys.readouterr().err
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "f2"), "--input", "style"]) == 2
    assert "KEY=PATH" in capsys.readouterr().err


def test_report_notes_survive_a_rebuild(tmp_path, spec_file):
    spec = SweepSpec.load(spec_file)
    run_sweep(spec, tmp_path / "s", notes=["left out: something"])
    assert main(["report", str(tmp_path / "s")]) == 0
    assert "- left out: something" in (tmp_path / "s" / "report.md").read_text()


def test_report_rebuild_keeps_labels_and_spec_order(tmp_path, spec_file):
    assert main(["sweep", str(spec_file), "-o", str(tmp_path / "s"), "--quiet"]) == 0
    before = (tmp_path / "s" / "report.md").read_text()
    runs = [line.split(" | ")[2:4] for line in before.splitlines() if "| ok |" in line]
    assert runs == [["relu", "0"], ["relu", "1"], ["elu", "0"], ["elu", "1"]]  # the spec's order
    assert main(["report", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "report.md").read_text() == before


def test_reproduce_bad_workers_and_output(tmp_path, capsys):
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "x"), "--workers", "0"]) == 2
    assert "--workers must be ≥ 1" in capsys.readouterr().err
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "x"), "--threads-per-run", "0"]) == 2
    assert "--threads-per-run must be ≥ 1" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["reproduce", "du2020-fig2", "-o", str(tmp_path / "file" / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create it" in err[0]
