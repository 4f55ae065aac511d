"""Calls: repository functions and classes inlined with their arguments bound, Airflow
callables handed to the recorder, library callables answered by their models."""

from __future__ import annotations

import ast
from typing import Any

from .base import InterpreterBase
from .classes import AutoValue, enum_call
from .control import BreakSignal, ContinueSignal, ReturnSignal
from .expressions import (
    MAX_CALL_DEPTH,
    datasets_of,
    pure_builtin,
    timedelta_value,
    unknown_value,
    unparse,
)
from .models import Call as ModelCall
from .models import find_model
from .patterns import is_generator
from .values import (
    MISSING,
    BoundBuiltin,
    ClassValue,
    DagDecorator,
    DagFunction,
    DatasetCondition,
    DatasetEventHook,
    ExternalRef,
    Function,
    Instance,
    MappedPartial,
    Opaque,
    Partial,
    Scope,
    SuperProxy,
    TaskDecorator,
    TaskFunction,
    TaskGroupDecorator,
    TaskGroupFunction,
    TaskGroupObj,
    TaskObj,
    Unknown,
)


def _looks_like_a_dag(node: ast.Call) -> bool:
    """A call a reader takes for a DAG definition: `DAG(...)`, `create_dag(...)`, `dag_id=`."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
    return name.lower().endswith(("dag", "dags")) or any(k.arg == "dag_id" for k in node.keywords)


class CallsMixin(InterpreterBase):
    """Calls, for the Interpreter."""

    # ---- calls ---------------------------------------------------------------------
    def _eval_Call(self, node: ast.Call, scope: Scope) -> Any:
        in_top_module = self.in_top_module()  # the same after the arguments and the call
        if in_top_module:
            self.top_node = node
        if isinstance(node.func, ast.Name) and node.func.id == "super":
            return self._super(node, scope)
        func = self.eval(node.func, scope)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        arg_nodes: dict[str, ast.AST] = {}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                items = self.iterate(self.eval(arg.value, scope), arg.value)
                if isinstance(items, Unknown):
                    args.append(items)
                else:
                    args.extend(items)
            else:
                args.append(self.eval(arg, scope))
        for keyword in node.keywords:
            value = self.eval(keyword.value, scope)
            if keyword.arg is None:
                if isinstance(value, dict):
                    kwargs.update({str(k): v for k, v in value.items()})
                else:
                    kwargs["**"] = value if isinstance(value, Unknown) else unknown_value(keyword.value, "keyword arguments are not static")
            else:
                kwargs[keyword.arg] = value
                arg_nodes[keyword.arg] = keyword.value
        self.rec.call_seen(node)
        if in_top_module:  # the arguments' own calls moved it: facts point at this call
            self.top_node = node
        result = self.call(func, args, kwargs, node, arg_nodes)
        if isinstance(result, Unknown) and in_top_module and _looks_like_a_dag(node):
            self.rec.dag_call_unknown(node, result)
        return result

    def _super(self, node: ast.Call, scope: Scope) -> Any:
        if len(node.args) == 2:
            cls, instance = self.eval(node.args[0], scope), self.eval(node.args[1], scope)
        elif self.functions:
            current = self.functions[-1]
            cls, instance = current.owner_class, current.bound_self
        else:
            cls = instance = None
        if isinstance(cls, ClassValue) and isinstance(instance, Instance):
            return SuperProxy(instance, cls)
        return unknown_value(node, "super() outside a method of a repository class")

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST] | None = None) -> Any:
        arg_nodes = arg_nodes or {}
        # The commonest callees are tested first: no value is an instance of two of these classes.
        if isinstance(func, ExternalRef):
            return self.call_external(func.qualname, args, kwargs, node, arg_nodes)
        if isinstance(func, Unknown):
            return func
        if isinstance(func, Partial):
            merged = {**func.kwargs, **kwargs}
            if isinstance(func.func, ExternalRef):
                return self.call_external(func.func.qualname, func.args + args, merged, node, arg_nodes, direct=False)
            return self.call(func.func, func.args + args, merged, node, arg_nodes)
        if isinstance(func, DagFunction):
            return self.call_dag_function(func, args, kwargs, node)
        if isinstance(func, TaskGroupFunction):
            group_id = func.kwargs.get("group_id", func.function.name)
            self.group_stack.append((group_id if isinstance(group_id, str) else "?", func.kwargs.get("prefix_group_id", True) is not False))
            try:
                self.call_function(func.function, args, kwargs, node)
            finally:
                self.group_stack.pop()
            return TaskGroupObj(group_id, func.kwargs.get("prefix_group_id", True) is not False)
        if isinstance(func, TaskFunction):
            task_id = func.kwargs.get("task_id", func.function.name)
            return self.rec.task(self, "airflow.decorators.task", task_id, {**func.kwargs, **kwargs}, node, arg_nodes)
        if isinstance(func, (Function, ClassValue)) and (self.rules.dependency_rule(func.qualname) or self.rules.is_dataset_hook(func.qualname)):
            return self.call_external(func.qualname, args, kwargs, node, arg_nodes)
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, ClassValue) and func.enum_members is not None:
            member = enum_call(func, args[0]) if len(args) == 1 else MISSING
            return member if member is not MISSING else unknown_value(node, f"no member of {func.name} has this value statically")
        if isinstance(func, ClassValue):
            return self.instantiate(func, args, kwargs, node, arg_nodes)
        if isinstance(func, BoundBuiltin):
            return self.call_builtin_method(func, args, kwargs, node, arg_nodes)
        if isinstance(func, DagDecorator):  # @dag(...)(fn) written as a call
            return func
        return unknown_value(node, f"calls {unparse(node.func)}, which is not static")

    def call_external(self, qualname: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST], direct: bool = True) -> Any:
        rules = self.rules
        if qualname == "functools.partial" and args:
            return Partial(args[0], args[1:], kwargs)
        if qualname.endswith(".partial") and not args:
            return MappedPartial(qualname[: -len(".partial")], kwargs, dict(arg_nodes))
        role = rules.call_roles[qualname]
        if role is not None:
            return self.call_with_role(role, args, kwargs, node)
        if qualname in ("datetime.timedelta", "pendulum.duration"):
            return timedelta_value(args, kwargs, node)
        if qualname == "enum.auto":
            return AutoValue()
        if qualname in ("types.SimpleNamespace",):
            return Instance(None, dict(kwargs))
        if qualname in rules.connection_getters or qualname in rules.variable_getters:
            self.rec.getter(self, qualname, args, kwargs, node)
        library = find_model(qualname)
        if library is not None:
            return library(ModelCall(self, qualname, args, kwargs, node, arg_nodes))
        reason = rules.parse_time_reason(qualname)
        if reason:
            return unknown_value(node, reason)
        if qualname.startswith("builtins."):
            return pure_builtin(qualname[len("builtins.") :], args, kwargs, node)
        rule = rules.dependency_rule(qualname)
        if rule is not None or "task_id" in kwargs:
            return self.rec.task(self, qualname, kwargs.get("task_id"), kwargs, node, arg_nodes, args=args, rule=rule, direct=direct)
        self.rec.keywords(self, kwargs, node)
        if qualname.startswith(("datetime.", "pendulum.", "airflow.utils.dates.")):
            return Opaque(node)
        return unknown_value(node, f"calls {qualname}(), which is not static")

    def call_with_role(self, role: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        """A call of what the rule pack gives a role (see RulePack.call_roles)."""
        if role == "task group decorator":
            return TaskGroupDecorator(kwargs)
        if role == "dag":
            return self.rec.dag(self, args, kwargs, node, "assignment")
        if role == "dag decorator":
            return DagDecorator(args, kwargs)
        if role == "task decorator":
            return TaskDecorator(kwargs)
        if role == "task group":
            group_id = args[0] if args else kwargs.get("group_id")
            return TaskGroupObj(group_id, kwargs.get("prefix_group_id", True) is not False)
        if role == "dataset":
            return self.rec.dataset(args, kwargs, node)
        if role == "dataset condition":
            return DatasetCondition(tuple(d for a in args for d in datasets_of(a)))
        assert role == "dataset hook", role
        return DatasetEventHook()

    def expand(self, mapped: MappedPartial, how: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        """Dynamic task mapping: one task whose expanded arguments are lists. A DAG named
        in the expanded arguments gives one dependency per item when the list is static."""
        merged_nodes = {**mapped.arg_nodes, **arg_nodes}
        operator = ExternalRef(mapped.operator) if isinstance(mapped.operator, str) else mapped.operator

        def build(extra: dict[str, Any]) -> Any:
            return self.call(operator, [], {**mapped.kwargs, **extra}, node, merged_nodes)

        if how == "expand_kwargs":
            return build({"**": Unknown(unparse(node), "mapped over arguments known only at run time")})
        rule = self.dependency_rule_of(operator)
        key = rule.dag_keyword if rule is not None else None
        if key in kwargs:
            items = self.iterate(kwargs[key], node)
            if isinstance(items, list):
                result = None
                for item in items:
                    result = build({**kwargs, key: item})
                return result
        return build(kwargs)

    def dependency_rule_of(self, operator: Any) -> Any:
        """The rule of an operator named directly or of the first ruled class it derives from."""
        if isinstance(operator, ExternalRef):
            return self.rules.dependency_rule(operator.qualname)
        for cls in operator.mro() if isinstance(operator, ClassValue) else ():
            name = cls.qualname if isinstance(cls, (ClassValue, ExternalRef)) else None
            if name and self.rules.dependency_rule(name):
                return self.rules.dependency_rule(name)
        return None

    def call_function(self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if self.call_depth >= MAX_CALL_DEPTH:
            return unknown_value(node, "calls nested too deeply to follow")
        scope = Scope({}, func.closure, func.closure.module)
        self.bind_arguments(func, args, kwargs, scope, node)
        if isinstance(func.node, ast.Lambda):
            self.call_depth += 1
            try:
                return self.eval(func.node.body, scope)
            finally:
                self.call_depth -= 1
        if self._running(func) and any(isinstance(a, Unknown) for a in [*args, *kwargs.values()]):
            return unknown_value(node, f"recursion in {func.name}() on values that are not static")
        generator = is_generator(func.node)
        previous_module = self.module
        self.module = func.closure.module or self.module
        self.call_depth += 1
        self.functions.append(func)
        self.yields.append([]) if generator else None
        self.rec.executed.add(id(func.node))
        try:
            self.exec_block(func.node.body, scope)
        except ReturnSignal as ret:
            if not generator:
                return ret.value
        except (BreakSignal, ContinueSignal):
            pass
        finally:
            self.functions.pop()
            self.call_depth -= 1
            self.module = previous_module
            produced = self.yields.pop() if generator else None
        return produced  # a generator runs eagerly: the list of what it yields

    def _running(self, func: Function) -> bool:
        """Whether FUNC's code runs already (a recursion): a loop, not any(), for every call."""
        for running in self.functions:
            if running.node is func.node:
                return True
        return False

    def _eval_Yield(self, node: ast.Yield, scope: Scope) -> Any:
        if not self.yields:
            return unknown_value(node, "yield outside a function")
        self.yields[-1].append(self.eval(node.value, scope))
        return None  # what a caller would send in: generators here are only iterated

    def _eval_YieldFrom(self, node: ast.YieldFrom, scope: Scope) -> Any:
        items = self.iterate(self.eval(node.value, scope), node.value)
        if not self.yields or isinstance(items, Unknown):
            return items if isinstance(items, Unknown) else unknown_value(node, "yield outside a function")
        self.yields[-1].extend(items)
        return None

    def bind_arguments(self, func: Function, args: list[Any], kwargs: dict[str, Any], scope: Scope, node: ast.AST) -> None:
        spec = func.node.args
        positional = spec.posonlyargs + spec.args
        args = list(args)
        if func.bound_self is not None:
            args.insert(0, func.bound_self)
        defaults = spec.defaults
        first_default = len(positional) - len(defaults)
        remaining = dict(kwargs)
        given = len(args)
        for index, param in enumerate(positional):
            if index < given:
                scope.vars[param.arg] = args[index]
            elif param.arg in remaining:
                scope.vars[param.arg] = remaining.pop(param.arg)
            elif "**" in remaining:  # keyword arguments known only at run time may set it
                scope.vars[param.arg] = remaining["**"]
            elif index >= first_default:
                scope.vars[param.arg] = self.eval(defaults[index - first_default], func.closure)
            else:
                scope.vars[param.arg] = remaining.get("**") or unknown_value(node, f"parameter {param.arg!r} has no value at this call")
        if spec.vararg:
            scope.vars[spec.vararg.arg] = tuple(args[len(positional) :])
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults):
            if param.arg in remaining:
                scope.vars[param.arg] = remaining.pop(param.arg)
            elif "**" in remaining:
                scope.vars[param.arg] = remaining["**"]
            elif default is not None:
                scope.vars[param.arg] = self.eval(default, func.closure)
            else:
                scope.vars[param.arg] = remaining.get("**") or unknown_value(node, f"parameter {param.arg!r} has no value at this call")
        if spec.kwarg:
            scope.vars[spec.kwarg.arg] = remaining

    def call_dag_function(self, func: DagFunction, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        decorator = func.decorator
        dag_kwargs = dict(decorator.kwargs)
        if "dag_id" not in dag_kwargs and not decorator.args:
            dag_kwargs["dag_id"] = func.function.name
        dag = self.rec.dag(self, list(decorator.args), dag_kwargs, node, "decorator", line=func.line)
        body = func.function.node
        dag.extent = (body.lineno, getattr(body, "end_lineno", body.lineno) or body.lineno)
        self.dag_stack.append(dag)
        try:
            self.call_function(func.function, args, kwargs, node)
        finally:
            self.dag_stack.pop()
        return dag

    def instantiate(self, cls: ClassValue, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        instance = Instance(cls)
        if cls.dataclass_fields is not None:
            for index, (name, default) in enumerate(cls.dataclass_fields):
                if index < len(args):
                    instance.attrs[name] = args[index]
                elif name in kwargs:
                    instance.attrs[name] = kwargs[name]
                elif "**" in kwargs:  # keyword arguments known only at run time may set it
                    instance.attrs[name] = kwargs["**"]
                elif default is not MISSING:
                    instance.attrs[name] = default
            post_init = cls.namespace.get("__post_init__") if not cls.record else None
            if isinstance(post_init, Function):
                self.call_function(post_init.bind(instance), [], {}, node)
            return instance
        for candidate in cls.mro():
            if isinstance(candidate, ClassValue) and self.rules.dependency_rule(candidate.qualname):
                boundary = candidate.qualname
            elif isinstance(candidate, ExternalRef):
                boundary = candidate.qualname
            elif isinstance(candidate, ClassValue) and "__init__" in candidate.namespace:
                init = candidate.namespace["__init__"]
                if isinstance(init, Function):
                    self.call_function(init.bind(instance), args, kwargs, node)
                break
            else:
                continue
            result = self.call_external(boundary, args, kwargs, node, arg_nodes, direct=candidate is cls)
            if isinstance(result, TaskObj):
                instance.task = result
            break
        return instance.task or instance
