"""The package as a user installs it: a wheel in a fresh venv, used from another folder.

Slow (about a minute: a wheel build and two installs from the local package indexes), so it is
marked ``slow``; it still runs in ``make test``.  It skips cleanly where a wheel cannot be built
or its dependencies cannot be installed (e.g. offline without local wheels).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"  # pinned, as in the Makefile: never an unpinned (CUDA) torch

pytestmark = pytest.mark.slow


def _run(cmd, env=None, **kw) -> subprocess.CompletedProcess:
    """*cmd* without this checkout on the path (PYTHONPATH would make pip think the package is
    installed and the venv import the sources)."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with torch and the package's wheel (not editable) installed; its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "-q", "-w", str(tmp / "dist"), str(source)])
    wheels = list((tmp / "dist").glob("untrained-*.whl"))
    if built.returncode != 0 or not wheels:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip()[-300:]}")
    venv.EnvBuilder(with_pip=True).create(tmp / "venv")
    pip = [str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    for args in ([TORCH], [str(wheels[0])]):
        done = _run(pip + args)
        if done.returncode != 0:
            pytest.skip(f"cannot install {args[0]} here: {done.stderr.strip()[-300:]}")
    return tmp / "venv" / "bin"


def test_the_wheel_ships_the_examples_and_recipes(installed):
    code = ("import untrained, pathlib; p = pathlib.Path(untrained.__file__).parent; "
            "print(sorted(x.name for x in (p / 'examples').glob('*.jpg')), "
            "len(list((p / 'sweep' / 'recipes').glob('*.toml'))), "
            "'site-packages' in str(p))")
    out = _run([str(installed / "python"), "-c", code], cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['brick.jpg',", "'grass.jpg',", "'gravel.jpg',", "'ink.jpg',", "'water.jpg']", "14", "True"]


def test_a_quick_recipe_runs_from_another_folder(installed, tmp_path):
    env = dict(os.environ)
    env["UNTRAINED_CACHE"] = str(tmp_path / "cache")
    done = _run([str(installed / "untrained"), "reproduce", "du2020-fig2", "--quick", "-o", "out",
                 "--quiet", "--workers", "1"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    rows = [json.loads((f / "metrics.json").read_text())
            for f in (tmp_path / "out" / "runs").iterdir()]
    assert rows and all(r["evaluations"] > 0 for r in rows)
    assert (tmp_path / "out" / "report.md").is_file()
