"""Frozen dataclasses ⇄ plain JSON-able dictionaries.

Every configuration in ``untrained`` is a frozen dataclass of plain values (and nested
dataclasses / tuples of them).  :func:`to_dict` and :func:`from_dict` convert both ways so a run
can be written beside its output and reproduced from that file alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from typing import Any, TypeVar

from .errors import UserError

C = TypeVar("C")


def to_dict(obj: Any) -> Any:
    """Recursively turn dataclasses into dicts and tuples into lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj


def _convert(tp: Any, value: Any, name: str) -> Any:
    """*value* as type *tp*, strictly: a list of the wrong length, a string for a tuple, a number
    for a list, a float for an int or a string for a number is a :class:`UserError` naming the
    field *name*.  An int is accepted for a float."""
    def bad(expected: str) -> UserError:
        return UserError(f"{name}: expected {expected}, got {value!r}")

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        errors = []
        for arg in args:
            try:
                return _convert(arg, value, name)
            except UserError as exc:
                errors.append(exc)
        raise errors[0]
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, name)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise bad("a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, name) for v in value)
        if len(value) != len(args):
            raise bad(f"a list of {len(args)}")
        return tuple(_convert(a, v, name) for a, v in zip(args, value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    return value


def from_dict(cls: type[C], data: dict[str, Any], where: str = "") -> C:
    """Build dataclass *cls* from a dict made by :func:`to_dict`, strictly: unknown keys and
    values of the wrong type or shape are a :class:`UserError` naming the field."""
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def to_json(obj: Any) -> str:
    """Canonical JSON (sorted keys) for a config."""
    return json.dumps(to_dict(obj), sort_keys=True, indent=2)


def derive_seed(seed: int, tag: str) -> int:
    """An independent 63-bit seed for stream *tag* (``"net"``, ``"init"``…) of run seed *seed*.

    Keeping streams apart means changing, say, the initial image does not change the weights.
    """
    digest = hashlib.sha256(f"{int(seed)}:{tag}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)
