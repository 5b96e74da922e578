"""What the generated layer (``_generated.py``) builds on: argument checking and conversion,
the call into the Rust core, and decoding results into the generated models."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import os
import typing
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Concatenate, Dict, Mapping, Optional, ParamSpec, Tuple, TypeVar, Union

from . import _native
from .errors import from_native

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class _FieldSpec:
    """How one argument is checked: the Python types accepted and how errors name them;
    ``local`` arguments are paths (``os.PathLike`` accepted, sent as text)."""

    types: Tuple[type, ...]
    expected: str
    local: bool


@dataclass(frozen=True)
class _OpSpec:
    result: Any
    fields: Dict[str, _FieldSpec]


def _check(op: str, name: str, value: Any, spec: _FieldSpec) -> None:
    # bool is an int in Python; an int argument must not silently take True.
    if isinstance(value, bool) and bool not in spec.types and object not in spec.types:
        raise TypeError(f"{op}() argument '{name}' must be {spec.expected}, not bool")
    if not isinstance(value, spec.types):
        raise TypeError(f"{op}() argument '{name}' must be {spec.expected}, not {type(value).__name__}")


def _to_json(value: Any) -> Any:
    """Arguments as JSON values: paths as text, tuples as lists, models as their documents."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, _Model):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


_hints_cache: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    hints = _hints_cache.get(cls)
    if hints is None:
        import sys

        module = sys.modules[cls.__module__]
        hints = typing.get_type_hints(cls, vars(module))
        _hints_cache[cls] = hints
    return hints


def _decode(tp: Any, value: Any) -> Any:
    """A JSON value as the annotated type: models built recursively, the rest as it is."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is Union:
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _decode(arg, value)
        return value
    if origin in (list, typing.List) and isinstance(value, list):
        (item,) = typing.get_args(tp) or (Any,)
        return [_decode(item, v) for v in value]
    if origin in (dict, typing.Dict) and isinstance(value, dict):
        args = typing.get_args(tp)
        item = args[1] if len(args) == 2 else Any
        return {k: _decode(item, v) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, _Model) and isinstance(value, dict):
        return tp.from_json(value)
    return value


class _Model:
    """Base of the generated models: built from the core's JSON, which ``to_dict()`` returns
    exactly (keys the model does not know included)."""

    @classmethod
    def from_json(cls, document: Dict[str, Any]) -> Any:
        hints = _hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        known = {k: _decode(hints.get(k, Any), v) for k, v in document.items() if k in names}
        instance = cls(**known)
        object.__setattr__(instance, "_document", document)
        return instance

    def to_dict(self) -> Dict[str, Any]:
        """The document as the core returned it (what the CLI's ``--format json`` prints)."""
        document: Optional[Dict[str, Any]] = getattr(self, "_document", None)
        if document is None:
            document = dataclasses.asdict(self)  # type: ignore[call-overload]
        return copy.deepcopy(document)

    def to_json(self, indent: Optional[int] = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)


class _TestRunExtras:
    """Behaviour of a run beyond its fields."""

    status: str

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "approved")

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this run: 0 passed/approved, 1 failed/rejected, 2 waiting for
        a decision (pending approval or escalated), 3 error."""
        from ._generated import EXIT_CODES  # generated after this module, from the core

        return EXIT_CODES.get(self.status, 3)


class _Client:
    """Owns the native consultant; every generated method ends in :meth:`_op`."""

    _native: Any

    def _op(self, op: str, arguments: Dict[str, Any]) -> Any:
        from ._generated import _OPERATIONS

        spec = _OPERATIONS[op]
        request: Dict[str, Any] = {}
        for name, value in arguments.items():
            if name == "self" or value is None:
                continue
            _check(op, name, value, spec.fields[name])
            request[name] = _to_json(value)
        try:
            document = json.loads(self._native.call(op, json.dumps(request)))
        except _native.NativeError as error:
            raise from_native(error) from None
        return _decode(spec.result, document)


P = ParamSpec("P")
R = TypeVar("R")


def _awaitable(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """The async twin of a method, with the same signature for type checkers: it runs the
    blocking call in the default executor (the GIL is released while Rust works), so the
    event loop keeps serving."""

    async def call(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(method, self._sync, *args, **kwargs))

    return typing.cast(Callable[Concatenate[Any, P], Awaitable[R]], functools.wraps(method)(call))
