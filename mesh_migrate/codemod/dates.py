"""The date a sensor waited for, as a Jinja expression: execution_delta and simple lambdas."""

from __future__ import annotations

import ast

UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
SHIFTING_CALLS = ("timedelta", "duration")  # datetime.timedelta, pendulum.duration
DATE_METHODS = ("replace", "subtract", "add", "start_of", "end_of")


class Untranslatable(Exception):
    """The date cannot be written as a template faithfully; the reason is the message."""


def static_seconds(node: ast.expr) -> float:
    """timedelta(hours=1) and friends, with literal arguments only."""
    if not (isinstance(node, ast.Call) and _callee(node.func).endswith(SHIFTING_CALLS)):
        raise Untranslatable(f"{ast.unparse(node)} is not a timedelta with literal values")
    positional = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
    values = {positional[i]: arg for i, arg in enumerate(node.args)}
    values.update({k.arg: k.value for k in node.keywords if k.arg})
    seconds = 0.0
    for unit, value in values.items():
        if unit not in UNITS or not isinstance(value, ast.Constant) or not isinstance(value.value, (int, float)):
            raise Untranslatable(f"{ast.unparse(node)} is not a timedelta with literal values")
        seconds += value.value * UNITS[unit]
    return seconds


def shifted_date(base: str, execution_delta: str | None, execution_date_fn: str | None) -> str:
    """The Jinja expression (without braces, parenthesized) of the date the sensor checks.

    A positive execution_delta means the past, as in the sensor: logical_date - delta.
    """
    if execution_delta is not None:
        seconds = static_seconds(_expression(execution_delta))
        return base if seconds == 0 else f"({base} - macros.timedelta(seconds={seconds:g}))"
    if execution_date_fn is not None:
        node = _expression(execution_date_fn)
        if not isinstance(node, ast.Lambda) or not (node.args.posonlyargs + node.args.args):
            raise Untranslatable(f"execution_date_fn={execution_date_fn} is not a lambda of the date")
        name = (node.args.posonlyargs + node.args.args)[0].arg
        return _translate(node.body, name, base)
    return base


def _expression(text: str) -> ast.expr:
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        raise Untranslatable(f"cannot read {text!r}") from None


def _translate(node: ast.expr, name: str, base: str) -> str:
    if isinstance(node, ast.Name) and node.id == name:
        return base
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        sign = "-" if isinstance(node.op, ast.Sub) else "+"
        return f"({_translate(node.left, name, base)} {sign} macros.timedelta(seconds={static_seconds(node.right):g}))"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATE_METHODS:
        literals = [(k.arg, k.value) for k in node.keywords if isinstance(k.value, ast.Constant)]
        if node.args or len(literals) != len(node.keywords):
            raise Untranslatable(f"{ast.unparse(node)} has arguments that are not literal keywords")
        arguments = ", ".join(f"{arg}={value.value!r}" for arg, value in literals)
        return f"{_translate(node.func.value, name, base)}.{node.func.attr}({arguments})"
    raise Untranslatable(f"{ast.unparse(node)} cannot be written as a template")


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_callee(node.value)}.{node.attr}"
    return ""
