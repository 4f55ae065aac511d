"""Per-file extraction: parse one file, interpret its module level, return FileFacts."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..facts import DagFact, Diagnostic, FileFacts, ResourceUse, SourceSpan
from ..rulepack import RulePack
from .interpreter import BudgetExceeded, Interpreter, ModuleState
from .models.paths import module_file
from .modules import MAX_FILE_BYTES, ModuleFinder, parse_source
from .cloud import SERVICE_ACCOUNT, cloud_uses, qualname_of, text_uses
from .recorder import Recorder, jinja_uses
from .values import ExternalRef, ModuleRef, Unknown, is_static

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class Workspace:
    """What extraction shares across the files of one process: rules and imported modules."""

    def __init__(self, root: Path, rules: RulePack, python_paths: list[str]):
        self.root = root
        self.rules = rules
        self.finder = ModuleFinder(root, python_paths)
        self._states: dict[str, ModuleState | None] = {}
        self.repo_files: Any = None  # the repository listing models read paths through, made on first use
        self._read_errors: dict[str, str] = {}  # module path -> why it could not be read

    def module_state(self, ref: ModuleRef) -> ModuleState | None:
        if ref.name not in self._states:
            self._states[ref.name] = self._load(ref)
        return self._states[ref.name]

    def _load(self, ref: ModuleRef) -> ModuleState | None:
        if ref.path is None:
            state = ModuleState(ref.name, "", None)
            state.done = True
            return state
        try:
            data = (self.root / ref.path).read_bytes()
        except OSError as exc:
            self._read_errors[ref.path] = exc.strerror or str(exc)
            return None
        parsed = parse_source(data, ref.path) if len(data) <= MAX_FILE_BYTES else None
        state = ModuleState(ref.name, ref.path, parsed.tree if parsed else None, module_file(self.root, ref.path))
        if state.tree is None:
            state.done = True
        return state

    def unreadable_import(self, ref: ModuleRef, recorder: Recorder, line: int) -> None:
        """Report, once per analyzed file, an imported module that could not be read:
        what the file takes from it is unknown, and that must never pass silently."""
        why = self._read_errors.get(ref.path or "", "unreadable")
        message = f"cannot read imported module {ref.path}: {why}; what this file uses from it is unknown"
        if not any(d.code == "unreadable-import" and d.message == message for d in recorder.diagnostics):
            recorder.diagnostics.append(Diagnostic("error", "unreadable-import", message, SourceSpan(recorder.path, max(line, 1))))

    def depends_on(self, direct: set[str]) -> tuple[str, ...]:
        """Every repository module reachable through imports from `direct` (paths)."""
        by_path = {s.path: s for s in self._states.values() if s is not None and s.path}
        seen: set[str] = set()
        todo = list(direct)
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            state = by_path.get(path)
            if state is not None:
                todo.extend(state.imports)
        return tuple(sorted(seen))

    def extract(self, path: str, data: bytes | None = None) -> FileFacts:
        """The facts of one file (posix path relative to root). Never raises."""
        try:
            return self._extract(path, data)
        except Exception as exc:  # noqa: BLE001 - a bug costs this file, never the whole run
            return _failed(path, 1, "internal-error", f"analysis failed: {type(exc).__name__}: {exc}")

    def _extract(self, path: str, data: bytes | None) -> FileFacts:
        if data is None:
            try:
                data = (self.root / path).read_bytes()
            except OSError as exc:
                return _failed(path, 1, "unreadable", f"cannot read file: {exc.strerror or exc}")
        if len(data) > MAX_FILE_BYTES:
            return _failed(path, 1, "file-too-large", f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB; not analyzed")
        parsed = parse_source(data, path)
        if parsed.tree is None:
            return _failed(path, parsed.line, "parse-error", f"cannot parse: {parsed.error}")
        recorder = Recorder(path, self.rules)
        state = ModuleState(self.finder.module_name(path), path, parsed.tree, module_file(self.root, path))
        interp = Interpreter(self, recorder)
        try:
            interp.run_module(state)
        except BudgetExceeded:
            recorder.diagnostics.append(
                Diagnostic("warning", "analysis-budget", "stopped interpreting: the module level does too much work to follow statically", SourceSpan(path, interp.top_line))
            )
        except RecursionError:
            recorder.diagnostics.append(
                Diagnostic("warning", "too-deep", "stopped interpreting: code nested too deeply", SourceSpan(path, interp.top_line))
            )
        except Exception as exc:  # noqa: BLE001 - keep what was found before the failure
            recorder.diagnostics.append(
                Diagnostic("error", "internal-error", f"stopped interpreting: {type(exc).__name__}: {exc}", SourceSpan(path, interp.top_line))
            )
        recorder.finish()
        if state.outside_loop is not None:
            keyword = "break" if isinstance(state.outside_loop, ast.Break) else "continue"
            return _failed(path, state.outside_loop.lineno, "parse-error", f"cannot parse: syntax error: '{keyword}' outside loop")
        scan_unexecuted(parsed.tree, parsed.lines, state, recorder, self.rules)
        # Scopes and functions refer to each other; clearing frees the tree without the GC.
        state.scope.vars.clear()
        dags = recorder.dag_facts()
        resources = recorder.resource_facts()
        resources += _module_uses(recorder, dags)
        return FileFacts(
            path=path,
            dags=tuple(dags),
            dependencies=tuple(recorder.dependency_facts()),
            datasets=tuple(recorder.dataset_facts()),
            resources=tuple(resources),
            unresolved=tuple(recorder.unresolved),
            diagnostics=tuple(recorder.diagnostics),
            depends_on=self.depends_on(state.imports),
        )


def _failed(path: str, line: int, code: str, message: str) -> FileFacts:
    return FileFacts(path=path, diagnostics=(Diagnostic("error", code, message, SourceSpan(path, line)),))


def _module_uses(recorder: Recorder, dags: list[DagFact]) -> list[ResourceUse]:
    uses = []
    seen: set[tuple[str, str | None]] = set()
    holders: list[str | None] = [d.dag_id for d in dags] or [None]
    for module, line in recorder.imports:
        for dag_id in holders:
            if (module, dag_id) not in seen:
                seen.add((module, dag_id))
                uses.append(ResourceUse("module", module, dag_id, SourceSpan(recorder.path, line)))
    return uses


_RESOURCE_MARKERS = ("conn", "pool", "Variable", "{{", "get_connection", "://")


def _markers(rules: RulePack) -> tuple[str, ...]:
    """Text without which a function names no resource: the cheap test before scanning it."""
    cloud = (k.strip("*") for rule in rules.cloud_keywords for k in rule.keywords)
    return _RESOURCE_MARKERS + tuple(sorted({k for k in cloud if len(k) > 2}))


def scan_unexecuted(tree: ast.Module, lines: list[str], state: ModuleState, recorder: Recorder, rules: RulePack) -> None:
    """Resources used in functions that never run at parse time (task callables, helpers)."""
    scope = state.scope
    markers = _markers(rules)
    for function in _unexecuted_functions(tree.body, recorder.executed):
        body = "\n".join(lines[function.lineno - 1 : function.end_lineno])
        if not any(marker in body for marker in markers):
            continue  # cheap: most callables use no connection, variable, pool, template or cloud resource
        try:
            _scan_function(function, scope, recorder, rules)
        except RecursionError:
            span = SourceSpan(recorder.path, function.lineno, function.col_offset)
            recorder.diagnostics.append(Diagnostic("warning", "too-deep", "stopped scanning this function: code nested too deeply", span))


@dataclass
class _CallableScope:
    """What a task callable's code sees: the module's static names, and the local names it
    reads from Airflow Variables or the environment when the task runs (for the reason)."""

    vars: dict[str, Any]
    reads: dict[str, str] = field(default_factory=dict)


def _scan_function(function: FunctionNode, module_scope: Any, recorder: Recorder, rules: RulePack) -> None:
    made: dict[str, str] = {}  # local names bound to objects of known classes: s3 = S3Hook(...)
    accounts: dict[str, str] = {}  # ... and those made with an impersonation chain: its last account
    scope = _CallableScope(module_scope.vars)
    nodes = list(_nodes(function))  # walked twice: what names stand for, then what is used
    for node in nodes:
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
                account = _account(node.value, scope, rules, qualname)
                if account:
                    accounts[node.targets[0].id] = account
    for node in nodes:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and "{{" in node.value:
                span = SourceSpan(recorder.path, node.lineno, node.col_offset)
                for kind, name in jinja_uses(node.value):
                    recorder.resource_uses.append((kind, name, None, span))
            if isinstance(node.value, str) and "://" in node.value:
                recorder.cloud(*text_uses(rules, node.value), None, SourceSpan(recorder.path, node.lineno, node.col_offset))
        elif isinstance(node, ast.JoinedStr):
            value = _plain_value(node, scope)
            if isinstance(value, str) and "://" in value:
                recorder.cloud(*text_uses(rules, value), None, SourceSpan(recorder.path, node.lineno, node.col_offset))
        elif isinstance(node, ast.Call) and id(node) not in recorder.seen_calls:
            _scan_call(node, scope, recorder, rules, made, accounts)


def _nodes(root: ast.AST):
    """Every node below root (like ast.walk, without its per-node generator overhead)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


def _unexecuted_functions(body: list[ast.stmt], executed: set[int]) -> list[FunctionNode]:
    """Function definitions whose bodies the interpreter never ran, outermost first."""
    found: list[FunctionNode] = []
    todo = list(body)
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if id(stmt) in executed:
                todo.extend(stmt.body)
            else:
                found.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            todo.extend(stmt.body)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(stmt, field, ()))
    return found


def _account(call: ast.Call, scope: Any, rules: RulePack, qualname: str | None) -> str | None:
    """The account a call impersonates: the last of its impersonation chain."""
    kwargs = {k.arg: _keyword_value(k.value, scope) for k in call.keywords if k.arg is not None}
    uses, _ = cloud_uses(rules, qualname, kwargs)
    chain = [u.name for u in uses if u.kind == SERVICE_ACCOUNT]
    return chain[-1] if chain else None


def _scan_call(node: ast.Call, scope: Any, recorder: Recorder, rules: RulePack, made: dict[str, str], accounts: dict[str, str]) -> None:
    span = SourceSpan(recorder.path, node.lineno, node.col_offset)
    kwargs = {k.arg: _keyword_value(k.value, scope) for k in node.keywords if k.arg is not None}
    qualname = qualname_of(node.func, scope, made)
    owner = node.func.value if isinstance(node.func, ast.Attribute) else None
    if isinstance(owner, ast.Name):
        account = accounts.get(owner.id)
    elif isinstance(owner, ast.Call):  # GCSHook(impersonation_chain=...).upload(...)
        account = _account(owner, scope, rules, qualname_of(owner.func, scope, made))
    else:
        account = None
    recorder.cloud(*cloud_uses(rules, qualname, kwargs, account), None, span)
    for keyword in node.keywords:
        if keyword.arg is None:
            continue
        if rules.is_connection_keyword(keyword.arg):
            kind = "connection"
        elif keyword.arg in rules.pool_keywords:
            kind = "pool"
        else:
            continue
        _record_plain(recorder, kind, _plain_value(keyword.value, scope), span)
    qualname = qualname_of(node.func, scope)
    if qualname in rules.connection_getters or qualname in rules.variable_getters:
        kind = "connection" if qualname in rules.connection_getters else "variable"
        argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("conn_id", "key")), None)
        if argument is not None:
            _record_plain(recorder, kind, _plain_value(argument, scope), span)


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
        parts = [_plain_value(v.value if isinstance(v, ast.FormattedValue) and v.format_spec is None and v.conversion == -1 else v, scope) for v in node.values]
        if all(isinstance(p, (str, int)) for p in parts):
            return "".join(str(p) for p in parts)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_plain_value(item, scope) for item in node.elts]
        if all(isinstance(item, str) for item in items):
            return items
    if isinstance(node, ast.JoinedStr):  # the common case: its text is written only if reported
        return Unknown(node, "known only at run time")
    return Unknown(ast.unparse(node), "known only at run time")  # too deep to unparse: reported here
