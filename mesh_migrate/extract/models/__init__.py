"""Library knowledge, one small model per module: what a well-known callable returns when
the analyzed code calls it with abstract arguments.

A model is a function registered under the qualified names it stands for:

    @model("os.path.basename")
    def basename(call: Call) -> Any: ...

It gets the call's evaluated arguments and returns a value, or `call.unknown(reason)`.
Models never run the analyzed code and never reach outside the repository: paths are read
only when they stay inside it (see `paths.RepoFiles`). Each model module carries `VALID`
examples (source, the value of `result` it must compute), run as its tests.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..values import ExternalRef, Unknown, unknown_value

if TYPE_CHECKING:
    from ..base import InterpreterBase

Model = Callable[["Call"], Any]
_MODELS: dict[str, Model] = {}


def model(*qualnames: str) -> Callable[[Model], Model]:
    def register(function: Model) -> Model:
        for name in qualnames:
            _MODELS[name] = function
        return function

    return register


def find_model(qualname: str) -> Model | None:
    _load_all()
    return _MODELS.get(qualname)


@dataclass(frozen=True)
class Call:
    """One call of a modelled callable: its evaluated arguments and where it is."""

    interp: InterpreterBase
    qualname: str
    args: list[Any]
    kwargs: dict[str, Any]
    node: ast.Call
    arg_nodes: dict[str, ast.AST] = field(default_factory=dict)

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    def unknown(self, reason: str) -> Unknown:
        return unknown_value(self.node, reason)

    def first_unknown(self) -> Unknown | None:
        return next((a for a in [*self.args, *self.kwargs.values()] if isinstance(a, Unknown)), None)

    def call(self, function: Any, *args: Any) -> Any:
        """Call a value of the analyzed code (a lambda, a repository function, a builtin)."""
        return self.interp.call(function, list(args), {}, self.node)


# Module constants a DAG file may build paths or ids with (`os.path.join(here, os.pardir)`).
CONSTANTS: dict[str, Any] = {
    "os.pardir": "..", "os.curdir": ".", "os.sep": "/", "os.path.sep": "/", "os.extsep": ".",
    "os.linesep": "\n", "os.pathsep": ":", "string.ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
    "string.ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "string.digits": "0123456789",
}


def external(qualname: str) -> Any:
    """What a name from outside the repository stands for: a known constant's value, or
    the qualified name itself."""
    return CONSTANTS[qualname] if qualname in CONSTANTS else ExternalRef(qualname)


_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from . import (  # noqa: F401 - registering is importing
            airflow,
            containers,
            datafiles,
            environment,
            factories,
            functional,
            paths,
        )
