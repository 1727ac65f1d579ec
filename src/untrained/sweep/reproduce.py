"""The papers' experiments as bundled sweep specs (``untrained reproduce``).

Each recipe in ``recipes/`` is a sweep spec whose first comment line says which experiment of
which paper it is; inputs are the package's bundled example images (``examples/…`` relative to
the installed package, so they work from any folder after ``pip install``) unless the user names others (``inputs={"style": PATH}``).  ``quick`` shrinks
every run (48², one scale, three evaluations, one seed) so the whole set runs in the test suite; the full
runs use the papers' settings.

Points that need trained weights (Du 2020 Figs. 3, 4 and 5 compare against a pretrained VGG-19)
write ``{weights_file}`` in their configuration.  With ``weights_file`` given it is filled in;
without it those points are left out and a note says so — a recipe whose every run needs the
file is refused with one line.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..registry import closest
from .spec import SweepSpec

RECIPES = Path(__file__).resolve().parent / "recipes"
#: The installed package, where the bundled examples/ live (package data, so recipes work after
#: ``pip install`` from any folder); recipes name them ``examples/NAME``.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
QUICK = {"size": [48, 48], "optim": {"iterations": 1, "lbfgs_max_iter": 3, "scales": 1}}
#: Placeholder for the user's trained VGG-19 state dict in a recipe.
WEIGHTS_FILE = "{weights_file}"


def recipes() -> dict[str, str]:
    """Recipe names and their one-line descriptions."""
    out = {}
    for path in sorted(RECIPES.glob("*.toml")):
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        out[path.stem] = first
    return out


def _mentions(value: Any) -> bool:
    """True if *value* (plain data) contains the weights-file placeholder anywhere."""
    if isinstance(value, str):
        return WEIGHTS_FILE in value
    if isinstance(value, dict):
        return any(_mentions(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v) for v in value)
    return False


def _fill(value: Any, path: str) -> Any:
    """*value* with the placeholder replaced by *path* everywhere."""
    if isinstance(value, str):
        return value.replace(WEIGHTS_FILE, path)
    if isinstance(value, dict):
        return {k: _fill(v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, path) for v in value]
    return value


def _drop_trained(name: str, data: dict[str, Any]) -> list[str]:
    """Remove, in place, the grid values and zip positions that need the weights file; the notes."""
    if _mentions(data.get("base", {})) or _mentions(data.get("inputs", {})):
        raise UserError(f"experiment {name} compares trained VGG-19 weights: give the state dict with "
                        "--weights-file PATH (torchvision layout, loaded with weights_only=True)")
    notes = []
    for axis, values in data.get("grid", {}).items():
        dropped = [v for v in values if _mentions(v)]
        if dropped:
            data["grid"][axis] = [v for v in values if not _mentions(v)]
            notes += [f"{axis}={v}" for v in dropped]
    zipped = data.get("zip", {})
    if zipped:
        n = len(next(iter(zipped.values())))
        keep = [i for i in range(n) if not any(_mentions(values[i]) for values in zipped.values())]
        for i in sorted(set(range(n)) - set(keep)):
            notes.append(", ".join(f"{axis}={values[i]}" for axis, values in zipped.items()))
        for axis in zipped:
            zipped[axis] = [zipped[axis][i] for i in keep]
    return [f"left out (needs --weights-file): {n.replace(WEIGHTS_FILE, 'FILE')}" for n in notes]


def _shrink(data: dict[str, Any]) -> None:
    """Make every run of *data* tiny, in place: 48², three evaluations, one seed, and at most two
    greedy candidates per layer (the full greedy search costs ~30 s per seed)."""
    base = copy.deepcopy(data.get("base", {}))
    base["size"] = QUICK["size"]
    base["optim"] = {**base.get("optim", {}), **QUICK["optim"]}
    data["base"] = base
    grid = data.get("grid", {})
    if "seed" in grid:
        grid["seed"] = grid["seed"][:1]
    if "net.greedy" in grid:
        grid["net.greedy"] = list(dict.fromkeys(min(int(k), 2) for k in grid["net.greedy"]))
    for values in [*grid.values(), *data.get("zip", {}).values()]:
        for v in values:
            if isinstance(v, dict) and "greedy" in v:
                v["greedy"] = min(int(v["greedy"]), 2)


def load_recipe(name: str, quick: bool = False, inputs: dict[str, str] | None = None,
                weights_file: str | None = None) -> tuple[SweepSpec, list[str]]:
    """The sweep spec of recipe *name* and notes on what was left out.  *quick* makes every run
    tiny; *inputs* replaces bundled images by key (``content``, ``style``, ``exemplar``, …);
    *weights_file* is a trained VGG-19 state dict for the points that compare against one."""
    names = list(recipes())
    if name not in names:
        raise UserError(f"unknown experiment {name!r}{closest(name, names)}; `untrained reproduce --list` lists them")
    data = tomllib.loads((RECIPES / f"{name}.toml").read_text())
    for key, path in (inputs or {}).items():
        if key not in data["inputs"]:
            raise UserError(f"experiment {name} has no input {key!r}; its inputs are {', '.join(data['inputs'])}")
        data["inputs"][key] = str(Path(path).expanduser().resolve())
    if weights_file:
        if not Path(weights_file).is_file():
            raise UserError(f"weights file {weights_file}: no such file")
        data = _fill(data, str(Path(weights_file).resolve()))
        notes = []
    else:
        notes = _drop_trained(name, data)
    if quick:
        _shrink(data)
    spec = SweepSpec.from_dict(data, root=str(PACKAGE_ROOT))
    for key, path in spec.input_paths().items():
        for p in path if isinstance(path, list) else [path]:
            if not Path(p).exists():
                raise UserError(f"experiment {name}: its {key} image {p} is missing "
                                "(give another with --input)")
    return spec, notes
