"""Sweep specifications: a task, its inputs, a base configuration and axes over any field.

A spec is TOML (or the same data as a dict)::

    task = "texture"
    [inputs]
    exemplar = "examples/ink.jpg"
    [base]
    size = [64, 64]
    optim = { iterations = 2, scales = 1 }
    net = { net = "vgg19", width = 0.5 }        # network options (untrained.nets.modify.NetOptions)
    [grid]                                       # every combination
    "net.activation" = ["relu", "elu"]
    seed = [0, 1]
    [zip]                                        # lists advanced together (all the same length)
    "optim.iterations" = [1, 2]
    "optim.lbfgs_max_iter" = [5, 10]
    [labels]
    rows = "net.activation"
    cols = "seed"

Axis names are dotted paths into the run configuration.  Each run is the base with one point of
the axes applied, resolved to plain data and keyed by a hash of it, so equal runs share a key.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError

TASKS = ("texture", "invert", "style", "doodle")


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: see the module documentation for the format."""

    task: str
    inputs: dict[str, Any]
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    zip: dict[str, list] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    root: str = "."

    @staticmethod
    def load(path: str | Path) -> "SweepSpec":
        """Read a TOML spec; relative input paths are taken relative to the spec's folder."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise UserError(f"sweep spec {p}: no such file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"sweep spec {p}: not valid TOML ({exc})") from None
        return SweepSpec.from_dict(data, root=str(p.resolve().parent))

    @staticmethod
    def from_dict(data: dict[str, Any], root: str = ".") -> "SweepSpec":
        """Validate plain data into a spec; every problem is one :class:`UserError`."""
        unknown = set(data) - {"task", "inputs", "base", "grid", "zip", "labels"}
        if unknown:
            raise UserError(f"sweep spec: unknown section(s) {', '.join(sorted(unknown))}")
        task = data.get("task")
        if task not in TASKS:
            raise UserError(f"sweep spec: task must be one of {', '.join(TASKS)}, got {task!r}")
        if not isinstance(data.get("inputs"), dict) or not data["inputs"]:
            raise UserError("sweep spec: an [inputs] table with the task's images is required")
        for section in ("grid", "zip"):
            for axis, values in data.get(section, {}).items():
                if not isinstance(values, list) or not values:
                    raise UserError(f"sweep spec: {section} axis {axis!r} needs a non-empty list of values")
        lengths = {len(v) for v in data.get("zip", {}).values()}
        if len(lengths) > 1:
            raise UserError(f"sweep spec: zip axes must have equal lengths, got {sorted(lengths)}")
        return SweepSpec(task, dict(data["inputs"]), dict(data.get("base", {})), dict(data.get("grid", {})),
                         dict(data.get("zip", {})), dict(data.get("labels", {})), root)

    @property
    def axes(self) -> list[str]:
        """All axis names, grid first."""
        return list(self.grid) + list(self.zip)

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep: ``{axis: value}`` for the grid product × the zipped lists."""
        grid = [dict(zip(self.grid, values)) for values in itertools.product(*self.grid.values())] or [{}]
        n = len(next(iter(self.zip.values()))) if self.zip else 1
        zipped = [{axis: values[i] for axis, values in self.zip.items()} for i in range(n)] if self.zip else [{}]
        return [{**g, **z} for g in grid for z in zipped]

    def config(self, point: dict[str, Any]) -> dict[str, Any]:
        """The base configuration with *point*'s values set at their dotted paths."""
        cfg = copy.deepcopy(self.base)
        for path, value in point.items():
            node = cfg
            *parents, leaf = path.split(".")
            for key in parents:
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    raise UserError(f"sweep spec: axis {path!r} goes through {key!r}, which is not a table")
            node[leaf] = value
        return cfg

    def input_paths(self) -> dict[str, Any]:
        """Inputs with relative paths made absolute against the spec's folder."""
        def absolute(v):
            return [absolute(x) for x in v] if isinstance(v, list) else str((Path(self.root) / v).resolve())
        return {k: absolute(v) for k, v in self.inputs.items()}


def run_key(task: str, inputs: dict[str, Any], config: dict[str, Any]) -> str:
    """A short stable hash of everything that determines a run."""
    blob = json.dumps({"task": task, "inputs": inputs, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
