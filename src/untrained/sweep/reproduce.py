"""The papers' experiments as bundled sweep specs (``untrained reproduce``).

Each recipe in ``recipes/`` is a sweep spec whose first comment line says which experiment of
which paper it is; inputs are the project's bundled example images (paths relative to the
repository root).  ``quick`` shrinks every run (48², one scale, three evaluations) so the whole
set runs in the test suite; the full runs use the papers' settings.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from ..errors import UserError
from ..registry import closest
from .spec import SweepSpec

RECIPES = Path(__file__).resolve().parent / "recipes"
#: The repository root, where the bundled examples/ live (src layout: src/untrained/sweep/…).
REPO_ROOT = Path(__file__).resolve().parents[3]
QUICK = {"size": [48, 48], "optim": {"iterations": 1, "lbfgs_max_iter": 3, "scales": 1}}


def recipes() -> dict[str, str]:
    """Recipe names and their one-line descriptions."""
    out = {}
    for path in sorted(RECIPES.glob("*.toml")):
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        out[path.stem] = first
    return out


def load_recipe(name: str, quick: bool = False) -> SweepSpec:
    """The sweep spec of recipe *name*; *quick* makes every run tiny."""
    names = list(recipes())
    if name not in names:
        raise UserError(f"unknown experiment {name!r}{closest(name, names)}; `untrained reproduce --list` lists them")
    data = tomllib.loads((RECIPES / f"{name}.toml").read_text())
    if quick:
        base = copy.deepcopy(data.get("base", {}))
        base["size"] = QUICK["size"]
        base["optim"] = {**base.get("optim", {}), **QUICK["optim"]}
        data["base"] = base
    spec = SweepSpec.from_dict(data, root=str(REPO_ROOT))
    for key, path in spec.input_paths().items():
        for p in path if isinstance(path, list) else [path]:
            if not Path(p).exists():
                raise UserError(f"experiment {name}: its {key} image {p} is missing (the bundled examples/ folder "
                                "is needed: run from a clone of the repository)")
    return spec
