"""Turns the calls the interpreter evaluates into facts about one file."""

from __future__ import annotations

import ast
import re
import weakref
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..facts import (
    DagFact,
    DatasetUse,
    DependencyFact,
    Diagnostic,
    ResourceUse,
    SourceSpan,
    Unresolved,
)
from ..rulepack import DependencyRule, RulePack
from .cloud import CloudGap, CloudUse, cloud_uses, qualname_of
from .values import (
    DagObj,
    DatasetCondition,
    DatasetEventHook,
    DatasetObj,
    Instance,
    Opaque,
    TaskObj,
    Timedelta,
    Unknown,
    first_unknown,
    is_static,
)

if TYPE_CHECKING:
    from .interpreter import ModuleState

_VALID_DAG_ID = re.compile(r"^[\w.-]{1,250}$")  # Airflow's KEY_REGEX and ID length
_JINJA_BLOCK = re.compile(r"\{\{(.*?)\}\}", re.S)
# (kind, text the pattern cannot match without, pattern): most blocks hold neither text
# (`{{ ds }}`), and looking for it costs far less than a search.
_JINJA_USES = (
    ("connection", "conn.", re.compile(r"\bconn\.(?!get\b)([A-Za-z_]\w*)")),
    ("connection", "conn.", re.compile(r"\bconn\.get\(\s*['\"]([^'\"]+)['\"]")),
    ("variable", "var.", re.compile(r"\bvar\.(?:value|json)\.(?!get\b)([A-Za-z_]\w*)")),
    ("variable", "var.", re.compile(r"\bvar\.(?:value|json)\.get\(\s*['\"]([^'\"]+)['\"]")),
)


def jinja_uses(text: str) -> list[tuple[str, str]]:
    """(kind, name) of every connection and variable a Jinja template reads."""
    found: list[tuple[str, str]] = []
    if "conn." not in text and "var." not in text:
        return found
    for block in _JINJA_BLOCK.findall(text):
        for kind, needed, pattern in _JINJA_USES:
            if needed in block:
                found.extend((kind, name) for name in pattern.findall(block))
    return found


_PLAIN_LITERALS = frozenset({str, int, bool, type(None)})


# The code of each node unparsed, for as long as the node lives: a helper's call to an
# operator (`wait_for(...)` building a sensor) is written once per worker, not once per call.
_UNPARSED: weakref.WeakKeyDictionary[ast.AST, str] = weakref.WeakKeyDictionary()


def source_text(node: ast.AST) -> str:
    """A node's code, as ast.unparse writes it. Most arguments are plain literals and names,
    whose code is their repr or their name: the unparser's machinery is for the rest."""
    if isinstance(node, ast.Constant) and type(node.value) in _PLAIN_LITERALS and node.kind is None:
        return repr(node.value)
    if isinstance(node, ast.Name):
        return node.id
    text = _UNPARSED.get(node)
    if text is None:
        text = _UNPARSED[node] = ast.unparse(node)
    return text


def render_value(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.expression
    if isinstance(value, Timedelta):
        return f"timedelta(seconds={value.seconds:g})"
    if isinstance(value, DatasetObj):
        return f"Dataset({value.uri!r})"
    if isinstance(value, Opaque):
        return value.description
    if is_static(value):
        return repr(value)
    return f"<{type(value).__name__}>"


class Context(Protocol):
    """What the recorder reads of the interpreter: where the analysis is and what is open
    there (the DAG and task-group stacks, the branches that may not run)."""

    dag_stack: list[DagObj]
    group_stack: list[tuple[str, bool]]
    @property
    def top_line(self) -> int: ...

    @property
    def top_col(self) -> int: ...

    @property
    def top_end(self) -> tuple[int, int]: ...
    branches: list[tuple[int, int, str | Callable[[], str]]]

    @property
    def module(self) -> ModuleState | None: ...

    @property
    def recording(self) -> bool: ...

    def in_top_module(self) -> bool: ...


class Recorder:
    """Collects the facts of the one file being analyzed (the "top" file)."""

    def __init__(self, path: str, rules: RulePack):
        self.path = path
        self.rules = rules
        self.dags: list[DagObj] = []
        self.dependencies: list[tuple[DagObj, dict[str, Any]]] = []
        self.dataset_uses: list[tuple[str, str, DagObj, str | None, SourceSpan]] = []
        self.resource_uses: list[tuple[str, str, DagObj | None, SourceSpan]] = []
        self.cloud_uses: list[tuple[CloudUse, DagObj | None, SourceSpan]] = []
        self.unresolved: list[Unresolved] = []
        self.diagnostics: list[Diagnostic] = []
        self.imports: list[tuple[str, int]] = []
        self.seen_calls: set[int] = set()
        self.executed: set[int] = set()  # function definitions the interpreter ran
        self.unknown_dag_calls: list[tuple[SourceSpan, Unknown]] = []
        self.detached: list[Any] = []  # tasks created without a DAG, recorded by finish()
        self.unfollowed: set[str] = set()  # statement kinds already reported as not followed

    # ---- places --------------------------------------------------------------------
    def place(self, ctx: Context, node: ast.expr) -> tuple[SourceSpan, SourceSpan | None]:
        """Where a fact shows in the analyzed file, and where a helper built it (if elsewhere)."""
        if ctx.in_top_module():
            return SourceSpan(self.path, node.lineno, node.col_offset, node.end_lineno or 0, node.end_col_offset or 0), None
        here = SourceSpan(self.path, ctx.top_line, ctx.top_col, *ctx.top_end)
        module = ctx.module.path if ctx.module is not None else self.path
        return here, SourceSpan(module, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)

    def unresolved_value(self, what: str, value: Any, span: SourceSpan, fallback: str = "") -> None:
        unknown = first_unknown(value)
        if unknown is not None:
            origin = unknown.origin
            elsewhere = SourceSpan(origin[0], origin[1]) if origin and origin[0] != self.path else None
            self.unresolved.append(Unresolved(what, unknown.expression, unknown.reason, span, elsewhere))
        else:
            self.unresolved.append(Unresolved(what, fallback or render_value(value), "not a string", span))

    # ---- callbacks from the interpreter --------------------------------------------
    def call_seen(self, node: ast.Call) -> None:
        self.seen_calls.add(id(node))

    def dag_call_unknown(self, node: ast.Call, value: Unknown) -> None:
        """A call that reads as a DAG definition gave no DAG: reported unless a DAG is
        recorded at the same line (a factory that also returns something unknown)."""
        self.unknown_dag_calls.append((SourceSpan(self.path, node.lineno, node.col_offset), value))

    def template(self, ctx: Context, text: str, node: ast.expr) -> None:
        """Connections and variables a Jinja template reads, in code that runs at parse time."""
        uses = jinja_uses(text)
        if not uses:
            return
        dag = ctx.dag_stack[-1] if ctx.dag_stack else None
        span = SourceSpan(self.path, node.lineno, node.col_offset)
        for kind, name in uses:
            self.resource_uses.append((kind, name, dag, span))

    def module_import(self, module: str, stmt: ast.stmt) -> None:
        self.imports.append((module, stmt.lineno))

    def dag(self, ctx: Context, args: list[Any], kwargs: dict[str, Any], node: ast.expr, defined_by: str, line: int | None = None) -> DagObj:
        dag_id = args[0] if args else kwargs.get("dag_id", Unknown("DAG()", "no dag_id given"))
        span, via = self.place(ctx, node)
        if via is not None and defined_by == "assignment":
            defined_by = "factory"
        dag = DagObj(dag_id, line or span.line, defined_by, branch=tuple(ctx.branches))
        dag.default_args = kwargs.get("default_args")
        tags = kwargs.get("tags") or []
        dag.tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, (list, tuple, set)) else []
        if not ctx.recording:
            return dag
        dag.recorded = True
        self.dags.append(dag)
        owner = _owner_of(dag.default_args)
        if owner is not None:
            dag.owners.append(owner)
        schedule = next((kwargs[k] for k in ("schedule", "schedule_interval", "timetable") if k in kwargs), None)
        dag.schedule = self._schedule(schedule, dag, span)
        return dag

    def _schedule(self, value: Any, dag: DagObj, span: SourceSpan) -> str | None:
        datasets = _datasets(value)
        if datasets:
            for uri in datasets:
                self.dataset_uses.append(("consumer", uri, dag, None, span))
            return "datasets: " + ", ".join(datasets)
        if value is None:
            return None
        return value if isinstance(value, str) else render_value(value)

    def dataset(self, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        """Dataset(uri) in Airflow 2; Asset(name, uri=name) in Airflow 3."""
        name = kwargs.get("name", args[0] if args else None)
        uri = kwargs.get("uri", args[1] if len(args) > 1 else None) or name
        if "uri" in kwargs and "name" not in kwargs and not args:
            name = None
        for value in (uri, name):
            if value is not None and not isinstance(value, str):
                return value if isinstance(value, Unknown) else Unknown(ast.unparse(node), "dataset URI is not static")
        if not isinstance(uri, str):
            return Unknown(ast.unparse(node), "dataset URI is not static")
        return DatasetObj(normalize_uri(uri), name if name != uri else None)

    def getter(self, ctx: Context, qualname: str, args: list[Any], kwargs: dict[str, Any], node: ast.expr) -> None:
        if not ctx.recording:
            return
        kind = "connection" if qualname in self.rules.connection_getters else "variable"
        value = args[0] if args else kwargs.get("conn_id", kwargs.get("key"))
        span, _ = self.place(ctx, node)
        self._resource(kind, value, ctx.dag_stack[-1] if ctx.dag_stack else None, span)

    def keywords(self, ctx: Context, kwargs: dict[str, Any], node: ast.expr, dag: DagObj | None = None, operator: str | None = None, span: SourceSpan | None = None) -> None:
        """The resources a call's keywords name; SPAN: the call's place, when known already."""
        if not ctx.recording:
            return
        if dag is None and ctx.dag_stack:
            dag = ctx.dag_stack[-1]
        kinds = self.rules.resource_keyword_kinds
        named = [(kind, value) for key, value in kwargs.items() if (kind := kinds[key]) is not None]
        if operator is None and isinstance(node, ast.Call) and ctx.module is not None:
            operator = qualname_of(node.func, ctx.module.scope)
        uses, gaps = cloud_uses(self.rules, operator, kwargs)
        if not (named or uses or gaps):
            return  # most calls name no resource: no place to work out
        if span is None:
            span, _ = self.place(ctx, node)
        for kind, value in named:
            self._resource(kind, value, dag, span)
        self.cloud(uses, gaps, dag, span)

    def cloud(self, uses: list[CloudUse], gaps: list[CloudGap], dag: DagObj | None, span: SourceSpan) -> None:
        """Cloud resources a call names (see extract/cloud.py), and the values not known statically."""
        self.cloud_uses.extend((use, dag, span) for use in uses)
        for gap in gaps:
            if isinstance(gap.value, str):
                self.unresolved.append(Unresolved(gap.what, gap.value, "Jinja template, rendered only at run time", span))
            else:
                self.unresolved_value(gap.what, gap.value, span)

    def _resource(self, kind: str, value: Any, dag: DagObj | None, span: SourceSpan) -> None:
        if value is None:
            return
        if isinstance(value, str) and "{{" in value:
            for used_kind, name in jinja_uses(value):
                self.resource_uses.append((used_kind, name, dag, span))
            self.unresolved.append(Unresolved(kind, value, "Jinja template, rendered only at run time", span))
        elif isinstance(value, str):
            self.resource_uses.append((kind, value, dag, span))
        else:
            self.unresolved_value(kind, value, span)

    def task(self, ctx: Context, operator: str, task_id: Any, kwargs: dict[str, Any], node: ast.expr, arg_nodes: dict[str, ast.AST], args: Sequence[Any] = (), rule: DependencyRule | None = None, direct: bool = True) -> TaskObj:
        dag = kwargs.get("dag")
        if isinstance(dag, Instance) and isinstance(dag.attrs.get("dag"), DagObj):
            dag = dag.attrs["dag"]
        if not isinstance(dag, DagObj):
            dag = ctx.dag_stack[-1] if ctx.dag_stack else None
        groups: list[str] = []
        if isinstance(task_id, str) and ctx.group_stack:
            task_id, groups = grouped_task_id(ctx.group_stack, task_id)
        task = TaskObj(task_id, dag, operator)
        if isinstance(dag, DagObj) and isinstance(task_id, str) and ctx.recording:
            for group in groups:
                dag.groups.setdefault(group, []).append(task_id)
        if not ctx.recording:
            return task
        span, via = self.place(ctx, node)
        self.keywords(ctx, kwargs, node, dag, operator, span)

        def attached() -> None:
            self._attached(task, kwargs, args, arg_nodes, rule, span, via, direct)

        # Airflow attaches a task to a DAG later too (`>>`, `chain`, `task.dag = d`): decided
        # when the module has run.
        self.detached.append(attached) if dag is None else attached()
        return task

    def finish(self) -> None:
        """Record the tasks created without a DAG, now that the module has run."""
        for attached in self.detached:
            attached()
        self.detached.clear()

    def _attached(self, task: TaskObj, kwargs: dict[str, Any], args: Any, arg_nodes: dict[str, ast.AST], rule: DependencyRule | None, span: SourceSpan, via: SourceSpan | None, direct: bool) -> None:
        dag, task_id = task.dag, task.task_id
        if dag is not None and isinstance(task_id, str):
            dag.tasks.append(task_id)
        owner = kwargs.get("owner")
        if dag is not None and owner is not None:
            dag.owners.append(owner)
        role = "producer"
        hook = self.rules.rewrites.hook_keyword if self.rules.rewrites is not None else None
        if hook is not None and isinstance(kwargs.get(hook), DatasetEventHook):
            role = "posting producer"  # its events reach the consuming instances
        for uri in _datasets(kwargs.get("outlets")):
            if dag is not None:
                self.dataset_uses.append((role, uri, dag, task_id if isinstance(task_id, str) else None, span))
        if rule is not None:
            self._dependency(rule, task, args, kwargs, arg_nodes, span, via, direct)

    def _dependency(self, rule: DependencyRule, task: TaskObj, args: list[Any], kwargs: dict[str, Any], arg_nodes: dict[str, ast.AST], span: SourceSpan, via: SourceSpan | None, direct: bool) -> None:
        label = task.task_id if isinstance(task.task_id, str) else "?"
        named = kwargs.get(rule.dag_keyword)
        if named is None and rule.dag_position is not None and len(args) > rule.dag_position:
            named = args[rule.dag_position]
        if named is None and "**" in kwargs:
            named = kwargs["**"]
        what = f"{rule.dag_keyword} of {rule.name} {label!r}"
        if rule.dag_pattern is not None:
            # Only calls whose argument names a DAG this way are dependencies at all.
            found = rule.dag_pattern.search(named) if isinstance(named, str) else None
            if found is None:
                return
            named = found.groupdict().get("dag_id") or found.group(1)
        if task.dag is None:
            self.unresolved.append(Unresolved(f"DAG of {rule.name} {label!r}", rule.name, "the task is not attached to a DAG statically", span))
            return
        if not isinstance(task.dag.dag_id, str):
            self.unresolved_value(f"DAG of {rule.name} {label!r}", task.dag.dag_id, span)
            return
        if isinstance(named, str) and "{{" in named:
            self.unresolved.append(Unresolved(what, named, "Jinja template, rendered only at run time", span))
            return
        if not isinstance(named, str):
            self.unresolved_value(what, named, span, fallback=f"{rule.dag_keyword} missing")
            return
        if not isinstance(task.task_id, str):
            self.unresolved_value(f"task_id of {rule.name} in {task.dag.dag_id}", task.task_id, span)
        source_tasks: list[str] = []
        given = False
        for name in rule.task_arguments:
            value = kwargs.get(name)
            if value is None:
                continue
            given = True
            if isinstance(value, str):
                source_tasks.append(value)
            elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                source_tasks.extend(value)
            else:
                self.unresolved_value(f"{name} of {rule.name} {label!r}", value, span)
        group = kwargs.get(rule.group_argument) if rule.group_argument else None
        if group is not None and not isinstance(group, str):
            self.unresolved_value(f"{rule.group_argument} of {rule.name} {label!r}", group, span)
            group = None
        holder = task.dag.dag_id
        source, target = (named, holder) if rule.direction == "upstream" else (holder, named)
        arguments = tuple(
            (key, source_text(arg_nodes[key]) if key in arg_nodes else render_value(value))
            for key, value in kwargs.items()
            if key not in ("dag", "**")
        )
        self.dependencies.append(
            (
                task.dag,
                dict(
                    kind=rule.kind,
                    source=source,
                    target=target,
                    dag=holder,
                    task_id=task.task_id if isinstance(task.task_id, str) else None,
                    span=span,
                    operator=task.operator,
                    source_tasks=tuple(source_tasks) if given else None,
                    task_group=group,
                    arguments=arguments,
                    via=via,
                    direct=direct and via is None,
                ),
            )
        )

    # ---- results -------------------------------------------------------------------
    def dag_facts(self) -> list[DagFact]:
        lines = {dag.line for dag in self.dags}
        reported: set[int] = set()
        for span, value in self.unknown_dag_calls:
            if span.line not in lines and span.line not in reported:
                reported.add(span.line)
                self.unresolved.append(Unresolved("DAG", value.expression, value.reason, span))
        facts: list[DagFact] = []
        kept: list[DagObj] = []
        for dag in self.dags:
            span = SourceSpan(self.path, dag.line)
            if not isinstance(dag.dag_id, str):
                self.unresolved_value("dag_id", dag.dag_id, span)
                continue
            if any(k.dag_id == dag.dag_id and k.exclusive_with(dag) for k in kept):
                continue  # the same DAG in the other branch of an environment switch
            kept.append(dag)
            if dag.branch:
                why = dag.branch[0][2]
                message = f"DAG {dag.dag_id!r} exists only when a branch runs that is not decided statically: {why() if callable(why) else why}"
                self.diagnostics.append(Diagnostic("info", "conditional-dag", message, span))
            if not _VALID_DAG_ID.match(dag.dag_id):
                message = f"Airflow refuses dag id {dag.dag_id!r}: only letters, digits, '_', '.' and '-', at most 250 characters"
                self.diagnostics.append(Diagnostic("error", "invalid-dag-id", message, span))
                continue
            if dag.default_args is not None and not isinstance(dag.default_args, (dict, Instance)):
                self.unresolved_value(f"default_args of {dag.dag_id}", dag.default_args, span)
            owners: list[str] = []
            for owner in dag.owners:
                if isinstance(owner, str):
                    if owner not in owners:
                        owners.append(owner)
                else:
                    self.unresolved_value(f"owner of {dag.dag_id}", owner, span)
            facts.append(
                DagFact(
                    dag_id=dag.dag_id,
                    span=span,
                    defined_by=dag.defined_by,
                    owners=tuple(owners),
                    tags=tuple(dag.tags),
                    schedule=dag.schedule,
                    tasks=tuple(dict.fromkeys(dag.tasks)),
                    groups=tuple((group, tuple(dict.fromkeys(ids))) for group, ids in sorted(dag.groups.items())),
                )
            )
        return facts

    def dependency_facts(self) -> list[DependencyFact]:
        return [DependencyFact(**fields) for _, fields in self.dependencies]

    def dataset_facts(self) -> list[DatasetUse]:
        return [
            DatasetUse(uri, role, dag.dag_id, task_id, span)
            for role, uri, dag, task_id, span in self.dataset_uses
            if isinstance(dag.dag_id, str)
        ]

    def resource_facts(self) -> list[ResourceUse]:
        named_dags = [d for d in self.dags if isinstance(d.dag_id, str)]
        out: dict[tuple, ResourceUse] = {}
        # Once per (DAG, resource), at its first use: a use seen before makes no fact.
        for kind, name, dag, span in self.resource_uses:
            for dag_id in _holder_ids(dag, span, named_dags):
                key: tuple = (kind, name, dag_id)
                if key not in out:
                    out[key] = ResourceUse(kind, name, dag_id, span)
        for cloud, dag, span in self.cloud_uses:
            for dag_id in _holder_ids(dag, span, named_dags):
                key = (cloud.kind, cloud.name, dag_id, cloud.access, cloud.identity)
                if key not in out:
                    out[key] = ResourceUse(cloud.kind, cloud.name, dag_id, span, cloud.access, cloud.identity)
        # A URI seen as text, and again as an argument that says read or write: the latter.
        stated = {(u.kind, u.name, u.dag, u.identity) for u in out.values() if u.access is not None}
        return [u for key, u in out.items() if not (len(key) == 5 and u.access is None and (u.kind, u.name, u.dag, u.identity) in stated)]


def _holder_ids(dag: DagObj | None, span: SourceSpan, named_dags: list[DagObj]) -> list[str | None]:
    """The ids of the DAGs a use belongs to: its own DAG, else those enclosing its line
    (None: no DAG, or one whose id is not known)."""
    holders: Sequence[DagObj | None] = [dag] if dag is not None else _enclosing(named_dags, span.line)
    return [holder.dag_id if holder is not None and isinstance(holder.dag_id, str) else None for holder in holders or [None]]


def _enclosing(dags: list[DagObj], line: int) -> list[DagObj]:
    """The DAGs a line of the file belongs to: the one whose block holds it, else all of them."""
    inside = [d for d in dags if d.extent and d.extent[0] <= line <= d.extent[1]]
    return inside[-1:] if inside else dags


def _owner_of(default_args: Any) -> Any:
    if isinstance(default_args, dict):
        return default_args.get("owner")
    if isinstance(default_args, Instance):
        return default_args.attrs.get("owner")
    return None


# Ports Airflow's URI normalisation fills in, so `postgres://h/db` and `postgres://h:5432/db` pair.
DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mssql": 1433}


def normalize_uri(uri: str) -> str:
    """Lower-case scheme and host and the default port, as Airflow normalises dataset URIs."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if not parts.scheme or not parts.netloc or "{{" in uri:
        return uri
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    host = parts.hostname or ""
    if "@" not in netloc and host:
        port = parts.port if parts.port is not None else DEFAULT_PORTS.get(scheme)
        netloc = host.lower() + (f":{port}" if port is not None else "")
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def _datasets(value: Any) -> list[str]:
    if isinstance(value, DatasetObj):
        return [value.key]
    if isinstance(value, DatasetCondition):
        return [d.key for d in value.datasets if isinstance(d, DatasetObj)]
    if isinstance(value, (list, tuple)):
        return [uri for item in value for uri in _datasets(item)]
    return []


def grouped_task_id(stack: Sequence[tuple[str, bool]], task_id: str) -> tuple[str, list[str]]:
    """A task's id inside nested task groups, and the ids of the groups holding it, as Airflow
    makes them: a group prefixes its children's ids only with prefix_group_id (the default)."""
    groups: list[str] = []
    parent: tuple[str, bool] | None = None
    for group_id, prefix in stack:
        full = f"{parent[0]}.{group_id}" if parent is not None and parent[1] else group_id
        groups.append(full)
        parent = (full, prefix)
    assert parent is not None
    return (f"{parent[0]}.{task_id}" if parent[1] else task_id), groups
