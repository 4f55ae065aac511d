"""Abstract values the static interpreter computes in place of real Python objects.

Plain str/int/float/bool/None, lists, tuples and dicts stand for themselves; everything
else is one of the classes below. `Unknown` is what a value becomes when it cannot be
known without running the code: it keeps the original expression and the reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable

from ..frozen import direct_init
from .modules import ModuleRef  # noqa: F401  a value too: the interpreter imports it from here


class Unknown:
    """A value known only when the code runs. Its source text is built only when a report
    needs it: unparsing every unknown up front cost a third of the analysis time."""

    __slots__ = ("_source", "_reason", "container", "origin")

    def __init__(self, expression: str | ast.AST, reason: str | Callable[[], str], container: Any = None, origin: tuple[str, int] | None = None):
        self._source = expression
        self._reason = reason  # or a function that writes it, when that costs an unparse
        self.container = container  # the dict or list an unknown key was looked up in
        self.origin = origin  # (module path, line) where the cause is, for reports

    @property
    def expression(self) -> str:
        if not isinstance(self._source, str):
            self._source = unparse(self._source)
        return self._source

    @property
    def reason(self) -> str:
        if not isinstance(self._reason, str):
            self._reason = self._reason()
        return self._reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and (self.expression, self.reason) == (other.expression, other.reason)

    def __hash__(self) -> int:
        return hash(self.reason)

    def __repr__(self) -> str:
        return f"Unknown({self.expression!r}, {self.reason!r})"


def unparse(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "<expression>"
    return text if len(text) <= 200 else text[:197] + "..."


class _Running:
    """The module whose code the interpreter runs now (set by the interpreter), so an
    unknown value knows the file its cause is in without being told at every call."""

    path: str | None = None


RUNNING = _Running()


def unknown_value(node: ast.AST, reason: str | Callable[[], str]) -> Unknown:
    return Unknown(node, reason, origin=(RUNNING.path, getattr(node, "lineno", 0)) if RUNNING.path else None)


@direct_init  # made for most names a file imports
@dataclass(frozen=True)
class ExternalRef:
    """A name imported from outside the repository, by qualified name (never imported)."""

    qualname: str

    def attr(self, name: str) -> ExternalRef:
        return ExternalRef(f"{self.qualname}.{name}")


@dataclass(eq=False)
class Scope:
    vars: dict[str, Any]
    parent: Scope | None = None
    module: Any = None  # the ModuleState the code of this scope belongs to

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        raise KeyError(name)


@dataclass(eq=False)
class Function:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    closure: Scope
    name: str
    bound_self: Any = None
    owner_class: Any = None  # the ClassValue whose body defined it (for super())
    qualname: str = ""

    def bind(self, instance: Any) -> Function:
        return Function(self.node, self.closure, self.name, instance, self.owner_class, self.qualname)


@dataclass(eq=False)
class ClassValue:
    name: str
    bases: list[Any]
    namespace: dict[str, Any]
    dataclass_fields: list[tuple[str, Any]] | None = None  # (name, default or MISSING) for @dataclass
    qualname: str = ""
    record: bool = False  # a namedtuple: instances also iterate and index by position
    enum_members: dict[str, Any] | None = None  # an Enum: member name -> EnumMember
    # Computed once: a class's bases are fixed when it is made, and so are theirs.
    _mro: tuple[Any, ...] | None = field(default=None, init=False, repr=False)

    def mro(self) -> tuple[Any, ...]:
        """In-repo classes depth first, then the first external base (enough for operators)."""
        if self._mro is None:
            self._mro = self._linearize()
        return self._mro

    def _linearize(self) -> tuple[Any, ...]:
        order: list[Any] = [self]
        for base in self.bases:
            if isinstance(base, ClassValue):
                order.extend(c for c in base.mro() if c not in order)
            elif base not in order:
                order.append(base)
        return tuple(order)

    def member(self, name: str) -> Any:
        """The class attribute NAME, from the first class of the MRO that has it, or MISSING
        (no exception: most attributes read through an instance are not class attributes)."""
        for cls in self.mro():
            if isinstance(cls, ClassValue) and name in cls.namespace:
                return cls.namespace[name]
        return MISSING

    def lookup(self, name: str) -> Any:
        found = self.member(name)
        if found is MISSING:
            raise KeyError(name)
        return found


MISSING = object()


@dataclass(eq=False)
class Instance:
    cls: ClassValue | None
    attrs: dict[str, Any] = field(default_factory=dict)
    task: Any = None  # the TaskObj when the class is an operator


@dataclass(eq=False)
class SuperProxy:
    instance: Instance
    after: ClassValue  # look up attributes in the MRO after this class


@dataclass(eq=False)
class DagObj:
    dag_id: Any
    line: int
    defined_by: str
    default_args: Any = None
    owners: list[Any] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    schedule: str | None = None
    tasks: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group id -> the ids of its tasks
    extent: tuple[int, int] | None = None  # lines of a `with` block or @dag function body
    recorded: bool = False
    branch: tuple[tuple[int, int, str | Callable[[], str]], ...] = ()  # the branches that may not run it was made in (why: text, or made when reported)

    def exclusive_with(self, other: DagObj) -> bool:
        """Made in different branches of one condition: both never exist in one deployment."""
        return any(p == q and i != j for p, i, _ in self.branch for q, j, _ in other.branch)


@dataclass(eq=False)
class TaskObj:
    task_id: Any
    dag: DagObj | None
    operator: str


@dataclass(eq=False)
class TaskGroupObj:
    group_id: Any
    prefix: bool = True  # prefix_group_id: its tasks' ids start with the group id


@dataclass(eq=False)
class Partial:
    func: Any
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False)
class DagDecorator:
    """`@dag` or `@dag(...)`: the decorator with its arguments."""

    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False)
class DagFunction:
    function: Function
    decorator: DagDecorator
    line: int


@dataclass(eq=False)
class TaskDecorator:
    kwargs: dict[str, Any]


@dataclass(eq=False)
class TaskFunction:
    function: Function
    kwargs: dict[str, Any]


@dataclass(eq=False)
class TaskGroupFunction:
    """A function decorated with @task_group: calling it runs its body inside the group."""

    function: Function
    kwargs: dict[str, Any]


@dataclass(eq=False)
class TaskGroupDecorator:
    kwargs: dict[str, Any]


@dataclass(eq=False)
class MappedPartial:
    """`Operator.partial(...)`, waiting for `.expand(...)` (dynamic task mapping)."""

    operator: Any  # a qualified name, or a repository operator class
    kwargs: dict[str, Any]
    arg_nodes: dict[str, Any]


@dataclass(frozen=True)
class DatasetEventHook:
    """The rule pack's dataset hook (`mesh_http.publish_dataset_events()`): a task given it
    posts its dataset events to the consuming instances."""


@dataclass(frozen=True)
class DatasetObj:
    """A dataset (Airflow 2) or asset (Airflow 3); `key` is how producers and consumers pair."""

    uri: str
    name: str | None = None

    @property
    def key(self) -> str:
        # Airflow 3 tells assets apart by name and URI together; Airflow 2 datasets have a URI only.
        return self.uri if self.name in (None, self.uri) else f"{self.uri} (asset {self.name})"


@dataclass(frozen=True)
class DatasetCondition:
    datasets: tuple[Any, ...]


@dataclass(frozen=True)
class Timedelta:
    seconds: float


class Opaque:
    """A real object that exists at parse time but whose value does not matter here
    (`datetime(2024, 1, 1)`). Like Unknown's, its text is written only when a report shows it."""

    __slots__ = ("_source",)

    def __init__(self, description: str | ast.AST):
        self._source = description

    @property
    def description(self) -> str:
        if not isinstance(self._source, str):
            self._source = unparse(self._source)
        return self._source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and self.description == other.description

    def __hash__(self) -> int:
        return hash((self.description,))

    def __repr__(self) -> str:
        return f"Opaque(description={self.description!r})"


@dataclass(eq=False)
class BoundBuiltin:
    """A method of a static value, e.g. "{}_{}".format or a dict's .items."""

    target: Any
    name: str


def is_static(value: Any) -> bool:
    """True when the value is fully known plain data."""
    if isinstance(value, (str, int, float, bool, type(None), DatasetObj, Timedelta, EnumMember)):
        return True
    if getattr(value, "static", False):  # a path: plain data too
        return True
    # Loops, not all(): asked of nearly every value, a generator each time cost more than the test.
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            if not is_static(item):
                return False
        return True
    if isinstance(value, dict):
        for key, item in value.items():
            if not (is_static(key) and is_static(item)):
                return False
        return True
    return False


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found = first_unknown(item)
            if found:
                return found
    if isinstance(value, dict):
        for item in value.values():
            found = first_unknown(item)
            if found:
                return found
    return None


@dataclass(frozen=True)
class Maybe:
    """An item a comprehension keeps only under a condition that is not static: a loop over
    it runs its body as a branch that may not run."""

    value: Any
    reason: str


class ModelValue:
    """A library object a model stands in for (a path, an open file, a parsed config).
    Its attributes and methods are answered by the value itself."""

    def get_attribute(self, name: str) -> Any:
        """The attribute's value; a method is returned as BoundBuiltin(self, name)."""
        return MISSING

    def call_method(self, name: str, call: Any) -> Any:
        return MISSING


@dataclass(frozen=True)
class EnumMember:
    """A member of an Enum class of the repository."""

    owner: str  # the class name
    name: str
    value: Any
    mixin: bool = False  # str/int mixed in: formats as its value, like Python 3.11

    def __str__(self) -> str:
        return str(self.value) if self.mixin else f"{self.owner}.{self.name}"

    def __format__(self, spec: str) -> str:
        return format(self.value if self.mixin else str(self), spec)


@dataclass(eq=False)
class Property:
    """`@property` (and its `.setter`) on a repository class."""

    fget: Any
    fset: Any = None


@dataclass(eq=False)
class ClassMethod:
    function: Any


@dataclass(eq=False)
class StaticMethod:
    function: Any
