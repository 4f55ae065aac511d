"""Higher-order builtins and functools over the analyzed code's own callables."""

from __future__ import annotations

from typing import Any

from ..values import Unknown, is_static
from . import Call, model


def _items(call: Call, value: Any) -> Any:
    return call.interp.iterate(value, call.node)


@model("builtins.map")
def builtin_map(call: Call) -> Any:
    if len(call.args) < 2:
        return call.unknown("map() without an iterable")
    columns = [_items(call, a) for a in call.args[1:]]
    unknown = next((c for c in columns if isinstance(c, Unknown)), None)
    if unknown:
        return unknown
    return [call.call(call.args[0], *row) for row in zip(*columns)]


@model("builtins.filter")
def builtin_filter(call: Call) -> Any:
    if len(call.args) != 2:
        return call.unknown("filter() needs a function and an iterable")
    items = _items(call, call.args[1])
    if isinstance(items, Unknown):
        return items
    kept = []
    for item in items:
        verdict = call.interp.truth(item if call.args[0] is None else call.call(call.args[0], item))
        if verdict is None:
            return call.unknown("filter() condition is not static")
        if verdict:
            kept.append(item)
    return kept


@model("functools.reduce")
def reduce(call: Call) -> Any:
    if len(call.args) < 2:
        return call.unknown("reduce() needs a function and an iterable")
    items = _items(call, call.args[1])
    if isinstance(items, Unknown):
        return items
    items = list(items)
    if len(call.args) > 2:
        accumulated = call.args[2]
    elif items:
        accumulated = items.pop(0)
    else:
        return call.unknown("reduce() of an empty sequence")
    for item in items:
        accumulated = call.call(call.args[0], accumulated, item)
    return accumulated


@model("builtins.sorted", "builtins.min", "builtins.max")
def ordered(call: Call) -> Any:
    """With a `key` of the analyzed code: the keys are computed, then Python orders them."""
    name = call.qualname.rpartition(".")[2]
    if len(call.args) != 1:
        return call.unknown(f"{name}() over several arguments") if name == "sorted" else _plain(call, name)
    items = _items(call, call.args[0])
    if isinstance(items, Unknown):
        return items
    key = call.kwargs.get("key")
    keys = [call.call(key, item) for item in items] if key is not None else list(items)
    if not all(is_static(k) for k in keys):
        return next((k for k in keys if isinstance(k, Unknown)), None) or call.unknown(f"{name}() keys are not static")
    try:
        order = sorted(range(len(items)), key=lambda i: keys[i], reverse=bool(call.kwargs.get("reverse")))
    except TypeError:
        return call.unknown(f"{name}() of values that do not compare")
    if name == "sorted":
        return [items[i] for i in order]
    if not order:
        return call.kwargs.get("default", call.unknown(f"{name}() of an empty sequence"))
    return items[order[0]] if name == "min" else items[order[-1]]


def _plain(call: Call, name: str) -> Any:
    if not all(is_static(a) for a in call.args):
        return call.first_unknown() or call.unknown(f"{name}() of values that are not static")
    return (min if name == "min" else max)(call.args)


@model("builtins.list", "builtins.tuple", "builtins.len")
def collection(call: Call) -> Any:
    """Over anything the analysis can iterate: records, Enum classes, generator results."""
    name = call.qualname.rpartition(".")[2]
    if not call.args:
        return [] if name == "list" else () if name == "tuple" else call.unknown("len() without an argument")
    items = _items(call, call.args[0])
    if isinstance(items, Unknown):
        return items
    return list(items) if name == "list" else tuple(items) if name == "tuple" else len(items)


_STR_FUNCTIONS = ("upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "casefold", "swapcase", "split", "replace", "startswith", "endswith", "format", "join")


@model(*(f"builtins.str.{name}" for name in _STR_FUNCTIONS))
def str_function(call: Call) -> Any:
    """`str.upper` and the like, passed as a function (`map(str.upper, names)`)."""
    if not call.args or not isinstance(call.args[0], str) or not all(is_static(a) for a in [*call.args, *call.kwargs.values()]):
        return call.first_unknown() or call.unknown(f"{call.qualname}() of values that are not static")
    try:
        return getattr(str, call.qualname.rpartition(".")[2])(*call.args, **call.kwargs)
    except (TypeError, ValueError):
        return call.unknown(f"{call.qualname}() fails on these values")


VALID = [
    ("result = list(map(str.lower, ['A', 'B']))", ["a", "b"]),
    ("result = [len('abc'), list('ab'), tuple([1]), len({'k': 1})]", [3, ["a", "b"], (1,), 1]),
    ("result = list(map(lambda d: d['id'], [{'id': 'a'}, {'id': 'b'}]))", ["a", "b"]),
    ("result = [x for x in filter(lambda s: s.startswith('x'), ['xa', 'b', 'xc'])]", ["xa", "xc"]),
    ("result = functools.reduce(lambda a, b: a + '_' + b, ['p', 'q', 'r'])", "p_q_r"),
    ("result = sorted(['bb', 'a', 'ccc'], key=len, reverse=True)", ["ccc", "bb", "a"]),
]
