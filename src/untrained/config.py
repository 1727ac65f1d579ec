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


def _convert(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _convert(arg, value)
            except (TypeError, ValueError):
                continue
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value))
    if origin is dict:
        return dict(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build dataclass *cls* from a dict made by :func:`to_dict` (unknown keys are an error)."""
    if not isinstance(data, dict):
        raise UserError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise UserError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(unknown))}")
    kwargs = {k: _convert(hints[k], v) for k, v in data.items()}
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
