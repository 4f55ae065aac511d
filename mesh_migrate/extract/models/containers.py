"""collections and copy: the containers configuration code builds its tables with."""

from __future__ import annotations

import copy as _copy
from typing import Any

from ..values import MISSING, ClassValue, ExternalRef, is_static
from . import Call, model

# Factories a defaultdict can call without running the analyzed code.
_FACTORIES = {"builtins.list": list, "builtins.dict": dict, "builtins.set": set, "builtins.int": int, "builtins.str": str, "builtins.float": float}


class StaticDefaultDict(dict):
    """collections.defaultdict over a builtin factory."""

    def __init__(self, factory: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.factory = factory

    def __missing__(self, key: Any) -> Any:
        self[key] = value = self.factory()
        return value

    def copy(self) -> StaticDefaultDict:
        return StaticDefaultDict(self.factory, self)


@model("collections.defaultdict")
def defaultdict(call: Call) -> Any:
    factory = call.args[0] if call.args else None
    initial = call.args[1:] if call.args else []
    if factory is not None and not (isinstance(factory, ExternalRef) and factory.qualname in _FACTORIES):
        return call.unknown("defaultdict with a factory of the analyzed code")
    if not all(isinstance(i, dict) for i in initial):
        return call.first_unknown() or call.unknown("defaultdict from values that are not static")
    build = _FACTORIES[factory.qualname] if factory is not None else (lambda: None)
    return StaticDefaultDict(build, *initial, **call.kwargs)


@model("collections.OrderedDict")
def ordered_dict(call: Call) -> Any:
    if call.args and not isinstance(call.args[0], (dict, list, tuple)):
        return call.first_unknown() or call.unknown("OrderedDict from a value that is not static")
    return dict(*call.args, **call.kwargs)


@model("copy.copy", "copy.deepcopy")
def copy(call: Call) -> Any:
    value = call.arg(0, "x")
    if isinstance(value, (dict, list, tuple, set)) and is_static(value):
        return _copy.deepcopy(value) if call.qualname.endswith("deepcopy") else _copy.copy(value)
    return value  # abstract values are never mutated through a copy here


@model("collections.namedtuple", "typing.NamedTuple")
def namedtuple(call: Call) -> Any:
    """A record class whose fields are set by position or name, like a dataclass."""
    name, fields = call.arg(0, "typename"), call.arg(1, "field_names", MISSING)
    if isinstance(fields, str):
        fields = fields.replace(",", " ").split()
    if fields is MISSING or not isinstance(name, str) or not isinstance(fields, (list, tuple)):
        return call.first_unknown() or call.unknown("namedtuple whose fields are not static")
    names = [f[0] if isinstance(f, (list, tuple)) else f for f in fields]
    if not all(isinstance(n, str) for n in names):
        return call.unknown("namedtuple whose fields are not static")
    defaults = list(call.kwargs.get("defaults") or [])
    padded = [MISSING] * (len(names) - len(defaults)) + defaults
    return ClassValue(name, [], {}, dataclass_fields=list(zip(names, padded)), qualname=name, record=True)


VALID = [
    ("d = collections.defaultdict(list)\nfor k, v in [('a', 1), ('a', 2), ('b', 3)]:\n    d[k].append(v)\nresult = dict(d)", {"a": [1, 2], "b": [3]}),
    ("P = collections.namedtuple('P', 'team dag')\np = P('t', dag='d')\nresult = [p.team, p.dag, list(p)]", ["t", "d", ["t", "d"]]),
    ("base = {'x': {'y': 1}}\nother = copy.deepcopy(base)\nother['x']['y'] = 2\nresult = base['x']['y']", 1),
]

