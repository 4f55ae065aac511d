"""Evaluating expressions over abstract values: the expression half of the static interpreter.

Literals, names, f-strings, collections, operators, comprehensions and the methods of
static strings, lists and dicts are computed; anything that needs run-time input becomes
`Unknown` with the reason. Values are bounded (MAX_VALUE_SIZE, MAX_LOOP_ITEMS) and so is the
work (MAX_STEPS), so no DAG file can stall the analysis. `Interpreter` adds statements,
modules and calls on top of this class.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from .base import InterpreterBase
from .classes import bind_member
from .models import external
from .models.paths import PathValue
from .operators import (
    BINOPS,
    COMPARE,
    WIDE_FIELD,
    too_large,
    too_large_call,
)
from .values import (
    MISSING,
    BoundBuiltin,
    ClassValue,
    DagObj,
    DatasetCondition,
    DatasetObj,
    EnumMember,
    ExternalRef,
    Function,
    Instance,
    MappedPartial,
    Maybe,
    ModelValue,
    ModuleRef,
    Opaque,
    Property,
    Scope,
    SuperProxy,
    TaskObj,
    Timedelta,
    Unknown,
    is_static,
    unknown_value,
    unparse,
)

MAX_CALL_DEPTH = 25
MAX_LOOP_ITEMS = 1000
MAX_STEPS = 400_000


class BudgetExceeded(Exception):
    pass


_STR_METHODS = {
    "format", "upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "replace",
    "split", "rsplit", "join", "startswith", "endswith", "removeprefix", "removesuffix", "zfill",
    "isdigit", "isalpha", "isalnum", "isupper", "islower", "isspace", "isidentifier", "isnumeric", "isdecimal",
    "find", "rfind", "count", "partition", "rpartition", "splitlines", "casefold", "center", "ljust", "rjust", "swapcase",
}
_DICT_METHODS = {"get", "items", "keys", "values", "copy", "pop"}
_LIST_METHODS = {"index", "count", "copy"}
_MUTATING = {"append", "extend", "update", "insert", "setdefault"}
_DICT_ATTRIBUTES = _DICT_METHODS | _MUTATING
_LIST_ATTRIBUTES = _LIST_METHODS | _MUTATING
_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "milliseconds": 0.001}
_PURE_BUILTINS: dict[str, Callable[..., Any]] = {
    "str": str, "int": int, "float": float, "bool": bool, "len": len, "list": list, "tuple": tuple,
    "dict": dict, "set": set, "sorted": sorted, "reversed": lambda x: list(reversed(x)),
    "range": lambda *a: list(range(*a)), "enumerate": lambda x, start=0: list(enumerate(x, start)),
    "zip": lambda *a: list(zip(*a)), "min": min, "max": max, "sum": sum, "any": any, "all": all,
    "abs": abs, "round": round, "repr": repr, "chr": chr, "ord": ord,
}


_REPR, _STR, _ASCII = ord("r"), ord("s"), ord("a")  # an f-string field's conversion (!r, !s, !a)

_OTHER_BUILTINS = {"open", "print", "isinstance", "getattr", "globals", "locals", "map", "filter", "property", "classmethod", "staticmethod", "hasattr"}


class Evaluator(InterpreterBase):
    """Expressions; `Interpreter` provides the rest (see InterpreterBase)."""

    # ---- expressions ---------------------------------------------------------------
    def eval(self, node: ast.expr | None, scope: Scope) -> Any:
        if node is None:
            return None
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded()
        kind = type(node)
        try:
            handler = self._eval_handlers[kind]
        except KeyError:
            handler = self._find_handler(self._eval_handlers, "_eval_", kind)
        if handler is None:
            return unknown_value(node, f"{kind.__name__} expressions are not evaluated statically")
        return handler(self, node, scope)

    def _eval_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        if isinstance(node.value, str) and "{{" in node.value and self.in_top_module():
            self.rec.template(self, node.value, node)
        return node.value

    def _eval_Name(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            pass
        if node.id in _PURE_BUILTINS or node.id in _OTHER_BUILTINS:
            return ExternalRef(f"builtins.{node.id}")
        return unknown_value(node, f"name {node.id!r} is not defined statically")

    _lookup = _eval_Name  # the commonest expression: evaluated without a call more

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> Any:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            inner = self.eval(value.value, scope)
            if isinstance(inner, Unknown):
                return inner
            if not is_static(inner):
                return unknown_value(value.value, f"{unparse(value.value)} is not a static value")
            if value.conversion == _REPR:
                inner = repr(inner)
            elif value.conversion == _STR or value.conversion == _ASCII:
                inner = str(inner)
            spec = ""
            if value.format_spec is not None:  # most fields have none: nothing to compute or check
                spec = self.eval(value.format_spec, scope)
                if isinstance(spec, str) and WIDE_FIELD.search(spec):
                    return unknown_value(node, "value too large to compute statically")
            try:
                parts.append(format(inner, spec if isinstance(spec, str) else ""))
            except (TypeError, ValueError):
                return unknown_value(node, "cannot format statically")
        return "".join(parts)

    def _eval_List(self, node: ast.List, scope: Scope) -> Any:
        return self._elements(node.elts, scope)

    def _eval_Tuple(self, node: ast.Tuple, scope: Scope) -> Any:
        items = self._elements(node.elts, scope)
        return tuple(items) if isinstance(items, list) else items

    def _eval_Set(self, node: ast.Set, scope: Scope) -> Any:
        items = self._elements(node.elts, scope)
        if isinstance(items, list) and all(is_static(i) for i in items):
            try:
                return set(items)
            except TypeError:
                pass
        return items

    def _elements(self, elts: list[ast.expr], scope: Scope) -> Any:
        out: list[Any] = []
        for element in elts:
            if isinstance(element, ast.Starred):
                items = self.iterate(self.eval(element.value, scope), element.value)
                if isinstance(items, Unknown):
                    return items
                out.extend(items)
            else:
                out.append(self.eval(element, scope))
        return out

    def _eval_Dict(self, node: ast.Dict, scope: Scope) -> Any:
        out: dict[Any, Any] = {}
        for key_node, value_node in zip(node.keys, node.values):
            value = self.eval(value_node, scope)
            if key_node is None:
                if isinstance(value, dict):
                    out.update(value)
                elif isinstance(value, Instance) and value.cls is None:
                    out.update(value.attrs)
                else:
                    return value if isinstance(value, Unknown) else unknown_value(value_node, "cannot expand statically")
                continue
            key = self.eval(key_node, scope)
            if not is_static(key):
                return key if isinstance(key, Unknown) else unknown_value(key_node, "dict key is not static")
            out[key] = value
        return out

    def _eval_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        owner = self.eval(node.value, scope)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner: Any, name: str, node: ast.AST) -> Any:
        # The commonest owners are tested first: no value is an instance of two of these classes.
        if isinstance(owner, Instance):
            return self._instance_attribute(owner, name, node)
        if isinstance(owner, Unknown):
            if owner.container is not None and name in _MUTATING:
                self.taint(owner.container, node, f"changed under a key that is not static: {owner.expression}")
            return owner
        if isinstance(owner, ExternalRef):
            return external(f"{owner.qualname}.{name}")
        if isinstance(owner, ModelValue):
            value = owner.get_attribute(name)
            return value if value is not MISSING else unknown_value(node, f"attribute {name!r} of {unparse(getattr(node, 'value', node))} is not modelled")
        if isinstance(owner, ModuleRef):
            return self.module_attribute(owner, name, node)
        if isinstance(owner, ClassValue):
            member = owner.member(name)
            if member is not MISSING:
                return bind_member(member, None, owner)
            if name == "partial" and any(isinstance(c, ExternalRef) for c in owner.mro()):
                return BoundBuiltin(owner, name)  # an operator subclass, mapped
            return unknown_value(node, f"{owner.name}.{name} is not defined statically")
        if isinstance(owner, EnumMember) and name in ("name", "value"):
            return getattr(owner, name)
        if isinstance(owner, Property) and name == "setter":
            return BoundBuiltin(owner, name)
        if isinstance(owner, SuperProxy):
            return self._super_attribute(owner, name, node)
        if isinstance(owner, DagObj) and name == "dag_id":
            return owner.dag_id
        if isinstance(owner, TaskObj) and name == "task_id":
            return owner.task_id
        if isinstance(owner, TaskObj) and name == "dag":
            return owner.dag if owner.dag is not None else unknown_value(node, "the task has no DAG yet")
        if isinstance(owner, TaskObj) and name in ("set_downstream", "set_upstream"):
            return BoundBuiltin(owner, name)
        if isinstance(owner, str) and name in _STR_METHODS:
            return BoundBuiltin(owner, name)
        if isinstance(owner, dict) and name in _DICT_ATTRIBUTES:
            return BoundBuiltin(owner, name)
        if isinstance(owner, list) and name in _LIST_ATTRIBUTES:
            return BoundBuiltin(owner, name)
        if isinstance(owner, MappedPartial) and name in ("expand", "expand_kwargs"):
            return BoundBuiltin(owner, name)
        return unknown_value(node, lambda: f"attribute {name!r} of {unparse(getattr(node, 'value', node))} is not static")

    def _instance_attribute(self, owner: Instance, name: str, node: ast.AST) -> Any:
        if name in owner.attrs:
            return owner.attrs[name]
        if owner.task is not None and name == "task_id":
            return owner.task.task_id
        member = owner.cls.member(name) if owner.cls is not None else MISSING
        if member is MISSING:
            return unknown_value(node, f"attribute {name!r} is not set statically")
        if isinstance(member, Property):
            # A repository function: call() reads a Call node only for library callables.
            return self.call(member.fget.bind(owner), [], {}, node) if isinstance(member.fget, Function) else unknown_value(node, f"property {name!r} is not static")  # type: ignore[arg-type]
        return bind_member(member, owner, owner.cls)

    def _operator_method(self, value: Any, name: str) -> Any:
        """A repository class's own `__rshift__` and the like, bound to the instance."""
        if isinstance(value, Instance) and value.cls is not None and value.task is None:
            try:
                method = value.cls.lookup(name)
            except KeyError:
                return None
            return method.bind(value) if isinstance(method, Function) else None
        return None

    def _super_attribute(self, proxy: SuperProxy, name: str, node: ast.AST) -> Any:
        mro = proxy.instance.cls.mro() if proxy.instance.cls else ()
        after = mro[mro.index(proxy.after) + 1 :] if proxy.after in mro else mro[1:]
        for cls in after:
            if isinstance(cls, ClassValue) and name == "__init__" and self.rules.dependency_rule(cls.qualname):
                return BoundBuiltin(proxy.instance, f"external_init:{cls.qualname}")
            if isinstance(cls, ClassValue):
                if name in cls.namespace:
                    member = cls.namespace[name]
                    return member.bind(proxy.instance) if isinstance(member, Function) else member
            elif isinstance(cls, ExternalRef) and name == "__init__":
                return BoundBuiltin(proxy.instance, f"external_init:{cls.qualname}")
        return unknown_value(node, f"super().{name} is outside the repository")

    def _eval_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        owner = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        if isinstance(owner, Unknown):
            return owner
        if isinstance(key, Unknown):
            return Unknown(key._source, key.reason, owner) if isinstance(owner, (dict, list)) else key
        if isinstance(owner, ExternalRef):
            if owner.qualname == "os.environ":
                from .models import Call
                from .models.environment import environment_variable

                # environment_variable() uses the node only to place what it cannot know.
                return environment_variable(Call(self, "os.environ", [key], {}, node), key)  # type: ignore[arg-type]
            return Opaque(node)
        try:
            if isinstance(node.slice, ast.Slice) and isinstance(owner, (list, tuple, str)):
                return owner[key]
            if isinstance(owner, (dict, list, tuple, str)):
                return owner[key]
        except (KeyError, IndexError, TypeError):
            return self.taint_of(owner) or unknown_value(node, f"{unparse(node.slice)} is not a key of {unparse(node.value)}")
        if isinstance(owner, Instance) and owner.cls is not None and owner.cls.record and isinstance(key, int):
            items = self.iterate(owner, node)
            return items[key] if isinstance(items, list) and -len(items) <= key < len(items) else unknown_value(node, "index out of range")
        if isinstance(owner, ClassValue) and owner.enum_members is not None and isinstance(key, str):
            return owner.enum_members.get(key, unknown_value(node, f"{key!r} is not a member of {owner.name}"))
        if isinstance(owner, Instance) and owner.cls is None and isinstance(key, str):
            return owner.attrs.get(key, unknown_value(node, "key not set statically"))
        return unknown_value(node, f"{unparse(node.value)} is not a static collection")

    def _eval_Slice(self, node: ast.Slice, scope: Scope) -> Any:
        parts = [self.eval(p, scope) if p is not None else None for p in (node.lower, node.upper, node.step)]
        if any(isinstance(p, Unknown) for p in parts):
            return next(p for p in parts if isinstance(p, Unknown))
        return slice(*parts)

    def _eval_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binop(type(node.op), left, right, node)

    def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any:
        if op in (ast.RShift, ast.LShift):
            method = self._operator_method(left, "__rshift__" if op is ast.RShift else "__lshift__")
            if method is not None:  # a repository method: call() reads a Call node only for library callables
                return self.call(method, [right], {}, node)  # type: ignore[arg-type]
            attach_together([left, right])  # `a >> b` puts b in a's DAG, and the reverse
            return right
        if op in (ast.BitAnd, ast.BitOr) and _is_dataset_like(left) and _is_dataset_like(right):
            return DatasetCondition(datasets_of(left) + datasets_of(right))
        if op is ast.BitOr and isinstance(left, dict) and isinstance(right, dict):
            return {**left, **right}  # dict union, values kept abstract
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        if isinstance(left, PathValue) and op is ast.Div:
            return left.join(right)
        if isinstance(left, Timedelta) and isinstance(right, Timedelta) and op in (ast.Add, ast.Sub):
            return Timedelta(BINOPS[op](left.seconds, right.seconds))
        if isinstance(left, Timedelta) and isinstance(right, (int, float)) and op is ast.Mult:
            return Timedelta(left.seconds * right)
        if op in BINOPS and is_static(left) and is_static(right):
            if too_large(op, left, right):
                return unknown_value(node, "value too large to compute statically")
            try:
                return BINOPS[op](left, right)
            except Exception:  # noqa: BLE001 - any failure of a pure operator means "not static"
                return unknown_value(node, "cannot compute statically")
        return unknown_value(node, f"{unparse(node)} is not static")

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        value = self.eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            truth = self.truth(value)
            return (not truth) if truth is not None else unknown_value(node, f"{unparse(node)} is not static")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(value, Timedelta) and isinstance(node.op, ast.USub):
            return Timedelta(-value.seconds)
        return value if isinstance(value, Unknown) else unknown_value(node, "not static")

    def _eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Any:
        result: Any = None
        for value_node in node.values:
            result = self.eval(value_node, scope)
            truth = self.truth(result)
            if truth is None:
                return unknown_value(node, lambda: f"depends on a condition that is not static: {unparse(node)}")
            if isinstance(node.op, ast.And) and not truth:
                return result
            if isinstance(node.op, ast.Or) and truth:
                return result
        return result

    def _eval_Compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            if not (is_static(left) and is_static(right)):
                return left if isinstance(left, Unknown) else right if isinstance(right, Unknown) else unknown_value(node, "not static")
            try:
                if not COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return unknown_value(node, "cannot compare statically")
            left = right
        return True

    def _eval_IfExp(self, node: ast.IfExp, scope: Scope) -> Any:
        truth = self.truth(self.eval(node.test, scope))
        if truth is True:
            return self.eval(node.body, scope)
        if truth is False:
            return self.eval(node.orelse, scope)
        body, orelse = self.eval(node.body, scope), self.eval(node.orelse, scope)
        if is_static(body) and body == orelse:
            return body
        return unknown_value(node, lambda: f"depends on a condition that is not static: {unparse(node.test)}")

    def _eval_NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def _eval_Lambda(self, node: ast.Lambda, scope: Scope) -> Any:
        return Function(node, scope, "<lambda>")

    def _eval_ListComp(self, node: ast.ListComp, scope: Scope) -> Any:
        return self._comprehension(node, scope, lambda s: self.eval(node.elt, s))

    def _eval_SetComp(self, node: ast.SetComp, scope: Scope) -> Any:
        return self._comprehension(node, scope, lambda s: self.eval(node.elt, s))

    _eval_GeneratorExp = _eval_ListComp

    def _eval_DictComp(self, node: ast.DictComp, scope: Scope) -> Any:
        pairs = self._comprehension(node, scope, lambda s: (self.eval(node.key, s), self.eval(node.value, s)))
        if isinstance(pairs, Unknown):
            return pairs
        unsure = next((pair for pair in pairs if isinstance(pair, Maybe)), None)
        if unsure is not None:  # a key present or not, as a filter decides at run time
            return unknown_value(node, f"which keys it holds is {unsure.reason}")
        if not all(is_static(k) for k, _ in pairs):
            return unknown_value(node, "dict keys are not static")
        return dict(pairs)

    def _comprehension(self, node: Any, scope: Scope, element: Callable[[Scope], Any]) -> Any:
        results: list[Any] = []
        inner = Scope({}, scope, scope.module)
        unknown: list[Unknown] = []

        def walk(index: int, unsure: str | None = None) -> None:
            if index == len(node.generators):
                value = element(inner)
                results.append(Maybe(value, unsure) if unsure else value)
                return
            generator = node.generators[index]
            items = self.iterate(self.eval(generator.iter, inner), generator.iter)
            if isinstance(items, Unknown):
                unknown.append(items)
                self.assign(generator.target, items, inner)
                element(inner)  # still record what one item would create, with unknown values
                return
            for item in items:
                self.assign(generator.target, item, inner)
                values = [self.eval(cond, inner) for cond in generator.ifs]
                conditions = [self.truth(v) for v in values]
                if all(c is True for c in conditions):
                    walk(index + 1, unsure)
                elif False not in conditions:
                    undecided = next(v for v, c in zip(values, conditions) if c is None)
                    why = f" ({undecided.reason})" if isinstance(undecided, Unknown) else ""
                    walk(index + 1, unsure or f"kept by a filter that is not static{why}")

        walk(0)
        return unknown[0] if unknown else results

    def _eval_Starred(self, node: ast.Starred, scope: Scope) -> Any:
        return self.eval(node.value, scope)

    def _eval_Await(self, node: ast.Await, scope: Scope) -> Any:
        return unknown_value(node, "awaited at run time")

    def truth(self, value: Any) -> bool | None:
        if is_static(value):
            return bool(value)
        if isinstance(value, (Function, ClassValue, DagObj, TaskObj, Instance, ExternalRef, ModuleRef)):
            return True
        return None

    # ---- containers changed where the analysis cannot follow ---------------------------
    def taint(self, container: Any, node: ast.AST, reason: str) -> None:
        """A dict or list changed with an unknown key, or in a branch or loop that is not
        static: its contents are unknown from now on, never silently short."""
        if isinstance(container, (dict, list)) and id(container) not in self.tainted:
            self.tainted[id(container)] = (container, unknown_value(node, reason))

    def taint_of(self, container: Any) -> Unknown | None:
        entry = self.tainted.get(id(container)) if isinstance(container, (dict, list)) else None
        return entry[1] if entry is not None and entry[0] is container else None

    def note_mutation(self, container: Any, node: ast.AST) -> None:
        if self.uncertain:
            self.taint(container, node, "changed in a branch or loop that is not static")

    def iterate(self, value: Any, node: ast.AST) -> list[Any] | Unknown:
        if isinstance(value, Unknown):
            return value
        tainted = self.taint_of(value)
        if tainted is not None:
            return tainted
        if isinstance(value, dict):
            items = list(value)
        elif isinstance(value, (list, tuple, str)):
            items = list(value)
        elif isinstance(value, (set, frozenset)):
            items = sorted(value, key=repr)
        elif isinstance(value, ClassValue) and value.enum_members is not None:
            items = list(dict.fromkeys(value.enum_members.values()))
        elif isinstance(value, Instance) and value.cls is not None and value.cls.record:
            items = [value.attrs.get(name) for name, _ in value.cls.dataclass_fields or ()]
        else:
            return unknown_value(node, f"loop over {unparse(node)}, which is not a static collection")
        if len(items) > MAX_LOOP_ITEMS:
            return unknown_value(node, f"loop over more than {MAX_LOOP_ITEMS} items")
        return items

    def call_builtin_method(self, func: BoundBuiltin, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        if isinstance(func.target, ModelValue):
            from .models import Call

            value = func.target.call_method(func.name, Call(self, func.name, args, kwargs, node, arg_nodes))
            return value if value is not MISSING else unknown_value(node, f"{unparse(node.func)}() is not modelled")
        if isinstance(func.target, TaskObj):  # set_downstream / set_upstream
            attach_together([func.target, *args])
            return None
        if isinstance(func.target, ClassValue) and func.name == "partial":
            return MappedPartial(func.target, kwargs, dict(arg_nodes))
        if isinstance(func.target, MappedPartial):
            return self.expand(func.target, func.name, args, kwargs, node, arg_nodes)
        if func.name.startswith("external_init:"):
            qualname = func.name.split(":", 1)[1]
            result = self.call_external(qualname, args, kwargs, node, arg_nodes, direct=False)
            if isinstance(result, TaskObj) and isinstance(func.target, Instance):
                func.target.task = result
            return None
        target, name = func.target, func.name
        if name in _MUTATING or name == "pop":
            self.note_mutation(target, node)
        if name in _MUTATING:
            if name in ("update", "extend") and args and not isinstance(args[0], (dict, list, tuple)):
                self.taint(target, node, f"{name}() with values that are not static")
            if name == "append" and isinstance(target, list) and len(args) == 1:
                target.append(args[0])
            elif name == "extend" and isinstance(target, list) and args and isinstance(args[0], (list, tuple)):
                target.extend(args[0])
            elif name == "update" and isinstance(target, dict):
                if args and isinstance(args[0], dict):
                    target.update(args[0])
                target.update(kwargs)
            elif name == "setdefault" and isinstance(target, dict) and args and is_static(args[0]):
                return target.setdefault(args[0], args[1] if len(args) > 1 else None)
            return None
        if self.taint_of(target) is not None and name in ("items", "keys", "values", "get", "pop", "index", "count"):
            return self.taint_of(target)
        if name == "items" and isinstance(target, dict):
            return [(k, v) for k, v in target.items()]
        if name in ("keys", "values") and isinstance(target, dict):
            return list(getattr(target, name)())
        if name == "pop" and isinstance(target, dict):
            key = args[0] if args else None
            if not is_static(key):
                return unknown_value(node, "dict key is not static")
            if key not in target and len(args) < 2:
                return target.get("**", unknown_value(node, f"{key!r} is not a key here"))
            return target.pop(key, args[1] if len(args) > 1 else None)
        if name == "get" and isinstance(target, dict):
            key = args[0] if args else None
            if not is_static(key):
                return unknown_value(node, "dict key is not static")
            return target.get(key, args[1] if len(args) > 1 else None)
        if name == "copy":
            return type(target)(target)
        if all(is_static(a) for a in args) and all(is_static(v) for v in kwargs.values()):
            if too_large_call(target, name, [*args, *kwargs.values()]):
                return unknown_value(node, "value too large to compute statically")
            try:
                return getattr(target, name)(*args, **kwargs)
            except Exception:  # noqa: BLE001 - a failing pure method means "not static"
                return unknown_value(node, f"cannot compute {unparse(node)} statically")
        unknown = next((a for a in [*args, *kwargs.values()] if isinstance(a, Unknown)), None)
        return unknown or unknown_value(node, f"{unparse(node)} is not static")


def tasks_in(value: Any) -> list[TaskObj]:
    if isinstance(value, TaskObj):
        return [value]
    if isinstance(value, Instance) and isinstance(value.task, TaskObj):
        return [value.task]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tasks_in(item)]
    return []


def attach_together(values: list[Any]) -> None:
    """Tasks linked with each other share a DAG: those without one get the first found."""
    tasks = tasks_in(values)
    dag = _first_dag(tasks)
    if dag is not None:
        for task in tasks:
            if task.dag is None:
                task.dag = dag


def _first_dag(tasks: list[TaskObj]) -> DagObj | None:
    for task in tasks:  # a loop, not next(): tasks are linked (`a >> b`) all over a DAG file
        if task.dag is not None:
            return task.dag
    return None


def _is_dataset_like(value: Any) -> bool:
    return isinstance(value, (DatasetObj, DatasetCondition))


def datasets_of(value: Any) -> tuple[Any, ...]:
    if isinstance(value, DatasetObj):
        return (value,)
    if isinstance(value, DatasetCondition):
        return value.datasets
    if isinstance(value, (list, tuple)):
        return tuple(d for v in value for d in datasets_of(v))
    return ()


def timedelta_value(args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    units = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
    values = dict(zip(units, args))
    values.update(kwargs)
    seconds = 0.0
    for unit, amount in values.items():
        if not isinstance(amount, (int, float)) or isinstance(amount, bool):
            return unknown_value(node, "timedelta with values that are not static")
        seconds += amount * (_TIMEDELTA_UNITS.get(unit) or (1e-6 if unit == "microseconds" else 0))
    return Timedelta(seconds)


def pure_builtin(name: str, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    func = _PURE_BUILTINS.get(name)
    if func is None:
        return unknown_value(node, f"calls {name}(), which is not static")
    unknown = next((a for a in [*args, *kwargs.values()] if isinstance(a, Unknown)), None)
    if unknown:
        return unknown
    if not all(is_static(a) for a in args) or not all(is_static(v) for v in kwargs.values()):
        return unknown_value(node, f"{name}() of values that are not static")
    if name == "range" and args and any(isinstance(a, int) and abs(a) > MAX_LOOP_ITEMS * 10 for a in args):
        return unknown_value(node, "range too large to unroll")
    try:
        return func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a failing builtin means "not static"
        return unknown_value(node, f"{name}() fails on these values")
