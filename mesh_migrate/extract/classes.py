"""What a repository class statement makes: plain classes, dataclasses and records, Enums,
and the descriptors (property, classmethod, staticmethod) its methods are wrapped in."""

from __future__ import annotations

import ast
from typing import Any

from .values import (
    MISSING,
    ClassMethod,
    ClassValue,
    EnumMember,
    ExternalRef,
    Function,
    Property,
    StaticMethod,
)

_ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"}
_MIXIN_BASES = {"enum.IntEnum", "enum.StrEnum", "enum.IntFlag", "builtins.str", "builtins.int"}
_RECORD_BASES = {"typing.NamedTuple"}
DESCRIPTORS = {"builtins.property": Property, "builtins.classmethod": ClassMethod, "builtins.staticmethod": StaticMethod}


def finish_class(cls: ClassValue, stmt: ast.ClassDef, decorators: list[Any]) -> None:
    """Fields, records and Enum members, once the class body has run."""
    bases = {b.qualname for b in cls.bases if isinstance(b, ExternalRef)}
    if "dataclasses.dataclass" in {d.qualname for d in decorators if isinstance(d, ExternalRef)} or bases & _RECORD_BASES:
        cls.dataclass_fields = [
            (item.target.id, cls.namespace.get(item.target.id, MISSING))
            for item in stmt.body
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
        ]
        cls.record = bool(bases & _RECORD_BASES)
    inherited = [b for b in cls.bases if isinstance(b, ClassValue) and b.enum_members is not None]
    if bases & _ENUM_BASES or inherited:
        _make_enum(cls, stmt, mixin=bool(bases & _MIXIN_BASES) or any(_is_mixin(b) for b in inherited), auto_lower="enum.StrEnum" in bases)


def _is_mixin(cls: ClassValue) -> bool:
    return any(isinstance(m, EnumMember) and m.mixin for m in (cls.enum_members or {}).values())


def _make_enum(cls: ClassValue, stmt: ast.ClassDef, mixin: bool, auto_lower: bool) -> None:
    members: dict[str, EnumMember] = {}
    counter = 0
    for item in stmt.body:
        if not isinstance(item, ast.Assign) or len(item.targets) != 1 or not isinstance(item.targets[0], ast.Name):
            continue
        name = item.targets[0].id
        value = cls.namespace.get(name, MISSING)
        if name.startswith("_") or isinstance(value, (Function, Property, ClassMethod, StaticMethod)) or value is MISSING:
            continue
        if isinstance(value, AutoValue):
            counter += 1
            value = name.lower() if auto_lower else counter
        elif isinstance(value, int) and not isinstance(value, bool):
            counter = value
        alias = next((m for m in members.values() if m.value == value), None)  # Python: an alias
        members[name] = alias or EnumMember(cls.name, name, value, mixin)
    cls.enum_members = members
    cls.namespace.update(members)


class AutoValue:
    """enum.auto(): the value is given when the class is made."""


def enum_call(cls: ClassValue, value: Any) -> Any:
    """`Color("red")`: the member with that value."""
    for member in (cls.enum_members or {}).values():
        if member.value == value or member is value:
            return member
    return MISSING


def bind_member(member: Any, owner: Any, cls: ClassValue | None) -> Any:
    """A class attribute seen through an instance (`owner`) or the class itself."""
    if isinstance(member, Function):
        return member.bind(owner) if owner is not None else member
    if isinstance(member, ClassMethod) and isinstance(member.function, Function):
        return member.function.bind(cls)
    if isinstance(member, StaticMethod):
        return member.function
    return member


def rebind_methods(cls: ClassValue, scope: Any) -> None:
    """Class bodies do not form a closure: methods see the enclosing scope, not the class."""

    def rebound(function: Any, key: str) -> Any:
        if isinstance(function, Function):
            return Function(function.node, scope, function.name, None, cls, f"{cls.qualname}.{key}")
        return function

    for key, member in list(cls.namespace.items()):
        if isinstance(member, Function):
            cls.namespace[key] = rebound(member, key)
        elif isinstance(member, Property):
            cls.namespace[key] = Property(rebound(member.fget, key), rebound(member.fset, key))
        elif isinstance(member, (ClassMethod, StaticMethod)):
            cls.namespace[key] = type(member)(rebound(member.function, key))
