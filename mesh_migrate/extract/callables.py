"""Resources named in functions the module level never runs: task callables and helpers.

A DAG file's callables run only when the task runs, so the interpreter never enters them;
their connections, variables, pools, templates and cloud resources are read from the
syntax instead, with the module's static names (`AWS_CONN_ID`) resolved.

Nearly every callable of a real monolith names some resource, so the scan must be cheap
per node: a function is scanned only when its text holds a marker of a resource, the names
its code binds are read from its statements alone, and the walk of its expressions visits
only what can name a resource (calls, strings, f-strings), never names or their contexts.
A call that no rule can read (no keyword, not a getter) is passed over before its
arguments are looked at.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ..facts import Diagnostic, SourceSpan
from ..rulepack import RulePack
from .cloud import SERVICE_ACCOUNT, cloud_uses, qualname_of, text_uses
from .patterns import CHILD_FIELDS, child_fields
from .recorder import Recorder, jinja_uses
from .values import Unknown, is_static

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_RESOURCE_MARKERS = ("conn", "pool", "Variable", "{{", "get_connection", "://")
# Statement fields that hold statements (an except handler's and a match case's body too),
# and per node class those it has, in the order of its fields.
_BLOCKS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_BLOCK_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass
class _CallableScope:
    """What a task callable's code sees: the module's static names, and the local names it
    reads from Airflow Variables or the environment when the task runs (for the reason)."""

    vars: dict[str, Any]
    reads: dict[str, str] = field(default_factory=dict)


class CallableScanner:
    """The scan of one rule pack, shared by the files of one process."""

    def __init__(self, rules: RulePack):
        self.rules = rules
        self._markers = _markers(rules)
        self.getters = rules.connection_getters | rules.variable_getters
        self._getter_attrs = frozenset(name.rsplit(".", 1)[-1] for name in self.getters)
        # Accounts come from keyword rules, unless a rule pack maps a URI scheme to them.
        self._accounts_by_keyword_only = all(kind != SERVICE_ACCOUNT for _, kind in rules.cloud_uri_schemes)

    def scan(self, tree: ast.Module, lines: list[str], scope: Any, recorder: Recorder) -> None:
        """Record what the functions of TREE that never ran use (SCOPE: the module's names)."""
        for function in _unexecuted_functions(tree.body, recorder.executed):
            body = "\n".join(lines[function.lineno - 1 : function.end_lineno])
            if not any(marker in body for marker in self._markers):  # text search: a regex of alternatives is 7x slower
                continue  # most callables use no connection, variable, pool, template or cloud resource
            try:
                self._scan_function(function, scope, recorder)
            except RecursionError:
                span = SourceSpan(recorder.path, function.lineno, function.col_offset)
                recorder.diagnostics.append(Diagnostic("warning", "too-deep", "stopped scanning this function: code nested too deeply", span))

    def _scan_function(self, function: FunctionNode, module_scope: Any, recorder: Recorder) -> None:
        rules = self.rules
        made: dict[str, str] = {}  # local names bound to objects of known classes: s3 = S3Hook(...)
        accounts: dict[str, str] = {}  # ... and those made with an impersonation chain: its last account
        scope = _CallableScope(module_scope.vars)
        for node in _statements(function):  # what names stand for, before what is used
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:  # imports inside the callable
                made.update({(alias.asname or alias.name): f"{node.module}.{alias.name}" for alias in node.names})
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call):
                qualname = qualname_of(node.value.func, scope, made)
                key = node.value.args[0] if node.value.args else None
                if qualname and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if qualname in rules.variable_getters:
                        scope.reads[node.targets[0].id] = f"read from Airflow Variable {key.value} when the task runs"
                    elif qualname in ("os.environ.get", "os.getenv"):
                        scope.reads[node.targets[0].id] = f"read from environment variable {key.value} when the task runs"
                if qualname:
                    made[node.targets[0].id] = qualname
                    account = self._account(node.value, scope, qualname)
                    if account:
                        accounts[node.targets[0].id] = account
        seen = recorder.seen_calls
        for node in _readable_nodes(function):
            kind = type(node)
            if kind is ast.Constant:
                text = node.value  # a string: _readable_nodes passes over other constants
                if "{{" in text:
                    span = SourceSpan(recorder.path, node.lineno, node.col_offset)
                    for used, name in jinja_uses(text):
                        recorder.resource_uses.append((used, name, None, span))
                if "://" in text:
                    recorder.cloud(*text_uses(rules, text), None, SourceSpan(recorder.path, node.lineno, node.col_offset))
            elif kind is ast.JoinedStr:
                value = _plain_value(node, scope)
                if isinstance(value, str) and "://" in value:
                    recorder.cloud(*text_uses(rules, value), None, SourceSpan(recorder.path, node.lineno, node.col_offset))
            elif id(node) not in seen and self._may_name_resources(node, scope):  # a call
                self._scan_call(node, scope, recorder, made, accounts)

    def _may_name_resources(self, node: ast.Call, scope: Any) -> bool:
        """False for a call no rule reads: without keywords, the rules read only the getters."""
        for keyword in node.keywords:  # a loop, not any(): asked of nearly every call scanned
            if keyword.arg is not None:
                return True
        return self._getter(node.func, scope) is not None

    def _getter(self, func: ast.expr, scope: Any) -> str | None:
        """The connection or variable getter a call's function is (`Variable.get`), or None."""
        if isinstance(func, ast.Attribute) and func.attr not in self._getter_attrs:
            return None  # the cheap test first: nearly every method called is no getter
        qualname = qualname_of(func, scope)
        return qualname if qualname in self.getters else None

    def _account(self, call: ast.Call, scope: Any, qualname: str | None) -> str | None:
        """The account a call impersonates: the last of its impersonation chain."""
        rules = self.rules
        if self._accounts_by_keyword_only and not self._names_an_account(call, qualname):
            return None  # no keyword names an account: the values need not be read
        kwargs = {k.arg: _keyword_value(k.value, scope) for k in call.keywords if k.arg is not None}
        uses, _ = cloud_uses(rules, qualname, kwargs)
        chain = [u.name for u in uses if u.kind == SERVICE_ACCOUNT]
        return chain[-1] if chain else None

    def _names_an_account(self, call: ast.Call, qualname: str | None) -> bool:
        """Whether a keyword rule reads an account from one of the call's keywords."""
        for keyword in call.keywords:  # a loop, not any(): asked of every object a callable makes
            if keyword.arg is not None and _is_account_rule(self.rules.cloud_keyword_rule(keyword.arg, qualname)):
                return True
        return False

    def _scan_call(self, node: ast.Call, scope: Any, recorder: Recorder, made: dict[str, str], accounts: dict[str, str]) -> None:
        rules = self.rules
        span = SourceSpan(recorder.path, node.lineno, node.col_offset)
        kwargs = {k.arg: _keyword_value(k.value, scope) for k in node.keywords if k.arg is not None}
        qualname = qualname_of(node.func, scope, made)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(owner, ast.Name):
            account = accounts.get(owner.id)
        elif isinstance(owner, ast.Call):  # GCSHook(impersonation_chain=...).upload(...)
            account = self._account(owner, scope, qualname_of(owner.func, scope, made))
        else:
            account = None
        recorder.cloud(*cloud_uses(rules, qualname, kwargs, account), None, span)
        kinds = rules.resource_keyword_kinds
        for keyword in node.keywords:
            kind = kinds[keyword.arg] if keyword.arg is not None else None
            if kind is not None:
                _record_plain(recorder, kind, _plain_value(keyword.value, scope), span)
        getter = self._getter(node.func, scope)
        if getter is not None:
            kind = "connection" if getter in rules.connection_getters else "variable"
            argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("conn_id", "key")), None)
            if argument is not None:
                _record_plain(recorder, kind, _plain_value(argument, scope), span)


def _markers(rules: RulePack) -> tuple[str, ...]:
    """Text without which a function names no resource: the cheap test before scanning it.
    A marker that holds another ("bucket_name", "bucket") adds nothing and is left out."""
    cloud = (k.strip("*") for rule in rules.cloud_keywords for k in rule.keywords)
    markers = _RESOURCE_MARKERS + tuple(sorted({k for k in cloud if len(k) > 2}))
    return tuple(m for m in markers if not any(other in m for other in markers if other != m))


def _is_account_rule(rule: Any) -> bool:
    return rule is not None and rule.kind == SERVICE_ACCOUNT


_NESTING = ("body", "orelse", "finalbody", "handlers")
_NESTING_FIELDS: dict[type, tuple[str, ...]] = {}


def _unexecuted_functions(body: list[ast.stmt], executed: set[int]) -> list[FunctionNode]:
    """Function definitions whose bodies the interpreter never ran, outermost first."""
    found: list[FunctionNode] = []
    todo = list(body)
    while todo:
        stmt = todo.pop()
        kind = type(stmt)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if id(stmt) in executed:
                todo.extend(stmt.body)  # type: ignore[attr-defined]
            else:
                found.append(stmt)  # type: ignore[arg-type]
        elif kind is ast.ClassDef:
            todo.extend(stmt.body)  # type: ignore[attr-defined]
        else:
            nesting = _NESTING_FIELDS.get(kind)
            if nesting is None:
                nesting = _NESTING_FIELDS[kind] = tuple(name for name in _NESTING if name in kind._fields)
            for name in nesting:
                todo.extend(getattr(stmt, name))
    return found


def _statements(function: FunctionNode) -> Iterator[ast.AST]:
    """The statements of FUNCTION, nested ones too, in the order a walk of every node meets
    them (the last child first): where a name is bound twice, the same binding wins."""
    stack: list[ast.AST] = [function]
    blocks_of = _BLOCK_FIELDS
    while stack:
        node = stack.pop()
        yield node
        kind = type(node)
        blocks = blocks_of.get(kind)
        if blocks is None:
            blocks = blocks_of[kind] = tuple(name for name in kind._fields if name in _BLOCKS)
        for name in blocks:
            block = getattr(node, name, None)
            if type(block) is list:
                stack.extend(block)


def _readable_nodes(root: ast.AST) -> Iterator[Any]:
    """The calls, string constants and f-strings below ROOT, depth first (the last child
    first), without a generator per node; names, other constants and contexts yield nothing."""
    stack: list[Any] = [root]
    fields_of = CHILD_FIELDS
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Constant:
            if type(node.value) is str:
                yield node
            continue
        if kind is ast.Call or kind is ast.JoinedStr:
            yield node
        fields = fields_of.get(kind)
        if fields is None:
            fields = child_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(value)
            elif value is not None and type(value) is not ast.Name:  # names: nothing inside
                stack.append(value)


def _record_plain(recorder: Recorder, kind: str, value: Any, span: SourceSpan) -> None:
    if isinstance(value, str) and "{{" not in value:
        recorder.resource_uses.append((kind, value, None, span))
    elif isinstance(value, str):
        for used_kind, name in jinja_uses(value):
            recorder.resource_uses.append((used_kind, name, None, span))
        recorder.unresolved_value(kind, Unknown(value, "Jinja template, rendered only at run time"), span)
    elif value is not None:
        recorder.unresolved_value(kind, value, span)


_CHEAP = (ast.Constant, ast.Name, ast.JoinedStr, ast.List, ast.Tuple)


def _keyword_value(node: ast.expr, scope: Any) -> Any:
    """A keyword's plain value for the cloud rules, which read most keywords only to skip
    them: other expressions stay unknown without writing their text."""
    return _plain_value(node, scope) if isinstance(node, _CHEAP) else Unknown(node, "known only at run time")


def _plain_items(nodes: Iterable[ast.expr], scope: Any, types: type | tuple[type, ...]) -> list[Any] | None:
    """The plain values of NODES when each is an instance of TYPES, else None. The first
    that is not ends the reading: the value is then unknown whatever the rest are, and an
    expression read to no purpose would have its text written (an unparse)."""
    items: list[Any] = []
    for node in nodes:
        value = _plain_value(node, scope)
        if not isinstance(value, types):
            return None
        items.append(value)
    return items


def _formatted(part: ast.expr) -> ast.expr:
    """What an f-string part shows: the expression of a plain `{name}`, else the part."""
    if isinstance(part, ast.FormattedValue) and part.format_spec is None and part.conversion == -1:
        return part.value
    return part


def _plain_value(node: ast.expr, scope: Any) -> Any:
    """A value known without running anything: a literal or a static module constant."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in scope.vars and is_static(scope.vars[node.id]):
            return scope.vars[node.id]
        read = getattr(scope, "reads", {}).get(node.id)
        return Unknown(node.id, read or f"{node.id} is known only at run time")
    if isinstance(node, ast.JoinedStr):
        parts = _plain_items(map(_formatted, node.values), scope, (str, int))
        if parts is not None:
            return "".join(map(str, parts))
    if isinstance(node, (ast.List, ast.Tuple)):
        items = _plain_items(node.elts, scope, str)
        if items is not None:
            return items
    if isinstance(node, ast.JoinedStr):  # the common case: its text is written only if reported
        return Unknown(node, "known only at run time")
    return Unknown(ast.unparse(node), "known only at run time")  # too deep to unparse: reported here
