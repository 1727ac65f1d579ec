"""Named choices: every pluggable piece (preset, initialiser, activation, optimiser…) is an
entry in a :class:`Registry`, so a configuration is plain data (strings and numbers) that
serialises to JSON and resolves back to code by name.

A choice may carry arguments after colons, e.g. ``"uniform:0.1"`` or ``"ternary:0.1:0.5"``;
:func:`parse_choice` splits them.
"""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from .errors import UserError

T = TypeVar("T")


def closest(name: str, names: list[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint for a misspelt *name*, or ``""``."""
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def parse_choice(text: str) -> tuple[str, list[str]]:
    """Split ``"name:a:b"`` into ``("name", ["a", "b"])``."""
    name, *args = str(text).strip().split(":")
    return name.strip().lower(), [a.strip() for a in args]


def parse_float(text: str, what: str) -> float:
    """A float from user text, or a :class:`UserError` naming *what* it was for."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UserError(f"{what}: expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UserError(f"{what}: expected a finite number, got {text!r}")
    return value


class Registry(Generic[T]):
    """A mapping from names to objects with helpful errors for unknown names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        """Decorator: ``@REG.register("name")`` adds the decorated object under *name*."""

        def add(obj: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} registered twice")
            self._items[name] = obj
            self._help[name] = help or (getattr(obj, "__doc__", "") or "").strip().split("\n")[0]
            return obj

        return add

    def get(self, name: str) -> T:
        """The entry called *name*; an unknown name is a :class:`UserError` with a suggestion."""
        try:
            return self._items[name]
        except KeyError:
            raise UserError(
                f"unknown {self.kind} {name!r}{closest(name, list(self._items))}; "
                f"choose from {', '.join(self._items)}"
            ) from None

    def help(self, name: str) -> str:
        """One line describing entry *name*."""
        return self._help.get(name, "")

    def names(self) -> list[str]:
        """All registered names, in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
