"""The package's structure: its modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that *path* imports, anywhere in the file (a function-level import
    ties modules together as much as a top-level one)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            # `from .x import y`: y may be a module (x.y) or a name in x; keep the longest module
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = SRC / "untrained") -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    modules = {_module_name(f) for f in files}
    return {_module_name(f): _imports(f, modules) for f in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of *graph* as a list of modules, or None; a package's ``__init__`` re-exporting
    its submodules is not a cycle with them (the submodules import siblings, not the package)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The check itself: two modules importing each other (one inside a function) are found."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub.b import f\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import g\n")
    (pkg / "c.py").write_text("from . import a\n")
    global SRC
    old, SRC = SRC, tmp_path
    try:
        cycle = find_cycle(import_graph(pkg))
    finally:
        SRC = old
    assert cycle is not None and {"pkg.a", "pkg.sub.b"} <= set(cycle)


@pytest.mark.parametrize("low", ["untrained.image", "untrained.config", "untrained.errors"])
def test_low_modules_import_nothing_above_them(low):
    """Image operations, configs and errors sit below the nets, metrics and synthesis."""
    graph = import_graph()
    above = {"untrained.nets", "untrained.metrics", "untrained.synth", "untrained.sweep",
             "untrained.cli", "untrained.losses"}
    assert not {m for m in graph[low] if any(m == a or m.startswith(a + ".") for a in above)}
