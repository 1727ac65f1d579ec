"""benchmarks/bench_quality.py's target report (issue 15): each protocol's default cells are
checked against that protocol's own baseline and ``--quality high`` cells."""

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quality", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cell(score: float, cpu: float) -> dict:
    return {"score": score, "seconds": cpu, "cpu_seconds": cpu, "border": 1.0, "frame": 2.0, "grid2": 1.0,
            "grid4": 1.0, "blotches": 1.0, "host": "h", "threads": 1}


def targets(bench, results: dict, capsys) -> list[str]:
    bench.report(results)
    out = capsys.readouterr().out
    return [line for line in out.split("Targets")[1].splitlines() if line.startswith("- ")]


def test_native_cells_are_checked_against_the_native_baseline(bench, capsys):
    k = bench.key
    results = {k("default@native", "gravel", 256, s): cell(v, 10.0) for s, v in ((1, 0.050), (2, 0.052), (3, 0.070))}
    results[k("baseline@native", "gravel", 256, 1)] = cell(0.060, 600.0)
    results[k("high@native", "gravel", 256, 1)] = cell(0.049, 100.0)
    results[k("baseline", "gravel", 256, 1)] = cell(0.040, 100.0)  # the resized protocol's: must not be used
    lines = targets(bench, results, capsys)
    assert lines == ["- gravel 256² (native): worst/median 1.35 MISSED; median 0.052 vs baseline 0.060 ok; "
                     "time ratio 60× (cpu_seconds) ok; high 0.049 ok"]


def test_resized_cells_keep_their_own_baseline(bench, capsys):
    k = bench.key
    results = {k("default", "ink", 128, 1): cell(0.10, 4.0), k("baseline", "ink", 128, 1): cell(0.09, 100.0),
               k("baseline@native", "ink", 128, 1): cell(0.50, 100.0)}
    assert targets(bench, results, capsys) == ["- ink 128²: worst/median 1.00 ok; median 0.100 vs baseline 0.090 MISSED"]
