"""Python's operators over static values, and the limits that keep them cheap: `9 ** 9 ** 9`
or `"a".zfill(10**9)` in a DAG file must never stall the analysis or exhaust its memory."""

from __future__ import annotations

import ast
import operator
import re
from typing import Any, Callable

# The largest value computed statically: characters or items of a string or collection,
# bits of an integer, digits of a field width. `9 ** 9 ** 9` or `"a".zfill(10**9)` in a
# DAG file would otherwise stall the analysis or exhaust its memory.
MAX_VALUE_SIZE = 1_000_000
WIDE_FIELD = re.compile(r"\d{7,}")  # in a format spec
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\d{7,}")  # in a str.format field
_NESTED_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\{")  # a str.format width given as an argument
_WIDE_PERCENT = re.compile(r"%[^a-zA-Z%]*\d{7,}")  # in a %-format conversion

BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _large_int(values: Any) -> bool:
    items = values if isinstance(values, (list, tuple)) else (values,)
    return any(isinstance(v, int) and v > MAX_VALUE_SIZE for v in items)


def too_large(op: type, left: Any, right: Any) -> bool:
    """Whether `left op right` would build a value larger than MAX_VALUE_SIZE."""
    if op is ast.Mult:
        if isinstance(left, int) and not isinstance(right, int):
            left, right = right, left
        if isinstance(right, int) and not isinstance(left, (int, float)):
            return right > 10_000 or _size(left) * right > MAX_VALUE_SIZE
        if isinstance(left, int) and isinstance(right, int):
            return left.bit_length() + right.bit_length() > MAX_VALUE_SIZE
    if op is ast.Add:
        return _size(left) + _size(right) > MAX_VALUE_SIZE
    if op is ast.Pow and isinstance(left, int) and isinstance(right, int):
        return abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_VALUE_SIZE
    if op is ast.Mod and isinstance(left, str):  # "%0999999999d" % 1, "%*d" % (10**9, 1)
        return bool(_WIDE_PERCENT.search(left)) or ("*" in left and _large_int(right))
    return False


def too_large_call(target: Any, name: str, args: list[Any]) -> bool:
    """Whether a str method would build a value larger than MAX_VALUE_SIZE."""
    if not isinstance(target, str):
        return False
    if name == "zfill":
        return _large_int(args)
    if name == "format":  # "{:>999999999}".format(1), "{:{}}".format(1, 10**9)
        return bool(_WIDE_FORMAT.search(target)) or (bool(_NESTED_FORMAT.search(target)) and _large_int(args))
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        return len(target) + (target.count(old) if old else len(target) + 1) * len(new) > MAX_VALUE_SIZE
    if name == "join" and args and isinstance(args[0], (str, list, tuple)):
        items = args[0]
        joined = len(items) if isinstance(items, str) else sum(_size(v) for v in items)
        return len(target) * len(items) + joined > MAX_VALUE_SIZE
    return False
