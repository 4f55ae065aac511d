"""Rewriting one file with libcst, so everything outside the changes stays byte for byte.

Two passes over the file: the call sites (markers, dataset producers), found by their whole
span, then the references to Airflow's classes that the helper module replaces. New
imports join their isort section (see imports.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..extract.modules import source_lines
from ..rewrite_rules import DATASET_HOOK, ReplacedClass
from .imports import add_from_import, dotted
from .references import Unreachable, drop_unused_module_imports, rewrite_references
from .sites import CallSite
from .templates import Templates

MARKER_ONLY = {"external_dag_id", "external_task_id", "execution_date", "logical_date", "recursion_depth"}
TASK_DECORATOR_NAMES = ("task",)  # `@task`, `@task(...)`, `@task.python(...)` and friends


class Refused(Exception):
    """This call cannot be rewritten faithfully; the message says why."""


@dataclass
class Outcome:
    applied: list[tuple[CallSite, str]] = field(default_factory=list)
    refused: list[tuple[CallSite, str]] = field(default_factory=list)
    references: set[str] = field(default_factory=set)  # the helper's classes now referenced
    unreachable: str | None = None  # why the references could not be rewritten


def code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


Place = tuple[int, int, int, int]  # start line, start column, end line, end column (characters)


class CallRewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, source: str, sites: Sequence[CallSite], templates: Templates, remove_markers: bool):
        super().__init__()
        self.templates = templates
        self.remove_markers = remove_markers
        lines = source_lines(source)
        # The analysis reports columns in UTF-8 bytes; libcst in characters.
        self.sites: dict[Place, CallSite] = {}
        self.by_start: dict[tuple[int, int], CallSite] = {}  # sites whose end the analysis did not give
        for site in sites:
            s = site.span
            start = (s.line, _char_column(lines, s.line, s.column))
            if s.end_line:
                self.sites[(*start, s.end_line, _char_column(lines, s.end_line, s.end_column))] = site
            else:
                self.by_start[start] = site
        self.outcome = Outcome()
        self.statement_comments: list[list[str]] = []
        self.imports: list[tuple[str, str]] = []  # (module, name) the new code uses
        self.unbound: set[str] = set()  # names the rewritten calls no longer use
        self.decorators: dict[str, CallSite] = {}  # task functions whose decorator gets the hook
        self.matched: set[int] = set()  # id() of the sites found in the file

    # ---- statements: where a kept marker gets its comment ------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement_comments.append([])

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        comments = self.statement_comments.pop()
        existing = {line.comment.value for line in updated.leading_lines if line.comment}
        new = [cst.EmptyLine(comment=cst.Comment(c)) for c in comments if c not in existing]
        return updated.with_changes(leading_lines=[*updated.leading_lines, *new]) if new else updated

    # ---- calls ---------------------------------------------------------------------
    def place_unended(self, positions: Mapping[cst.CSTNode, CodeRange]) -> None:
        """Sites known by their start only: the outermost call starting there."""
        if not self.by_start:
            return
        ends: dict[tuple[int, int], tuple[int, int]] = {}
        for node, where in positions.items():
            if isinstance(node, cst.Call):
                start, end = (where.start.line, where.start.column), (where.end.line, where.end.column)
                if start in self.by_start and end > ends.get(start, (0, 0)):
                    ends[start] = end
        for start, end in ends.items():
            self.sites[(*start, *end)] = self.by_start.pop(start)

    def _site(self, original: cst.Call) -> CallSite | None:
        where = self.get_metadata(PositionProvider, original)
        return self.sites.get((where.start.line, where.start.column, where.end.line, where.end.column))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        site = self._site(original)
        if site is None:
            return updated
        try:
            if site.rewrite == DATASET_HOOK:
                new, description = self.dataset(site, updated)
            else:
                new, description = self.marker(site, updated)
        except Refused as reason:
            self.matched.add(id(site))
            self.outcome.refused.append((site, str(reason)))
            return updated
        self.matched.add(id(site))
        if description is not None:
            self.outcome.applied.append((site, description))
        return new

    def marker(self, site: CallSite, call: cst.Call) -> tuple[cst.Call, str]:
        t = self.templates
        if not self.remove_markers:
            text = t.marker_comment(site.first.target, ", ".join(site.other_teams))
            if self.statement_comments:
                self.statement_comments[-1].append(f"# {text}")
            return call, f"kept ExternalTaskMarker on {site.first.target}, with a comment (--remove-markers replaces it)"
        if _partial_of(call) is not None:
            raise Refused("a mapped ExternalTaskMarker (.partial().expand()): replace it by hand, EmptyOperator takes none of its arguments")
        if not _arguments_by_keyword(call):
            raise Refused("positional or ** arguments: replace the marker by hand")
        module, _, name = t.rules.marker_replacement.rpartition(".")
        if isinstance(call.func, cst.Name):
            self.unbound.add(call.func.value)
        elif isinstance(call.func, cst.Attribute):
            self.unbound.add(dotted(call.func).partition(".")[0])
        else:
            raise Refused("the marker class is not called by name: replace it by hand")
        self.imports.append((module, name))
        return _rebuild(call, name, MARKER_ONLY), f"replaced ExternalTaskMarker on {site.first.target} by {name} (clearing cannot cross instances)"

    def dataset(self, site: CallSite, call: cst.Call) -> tuple[cst.Call, str | None]:
        """The call with the hook, and what was done (None: it has the hook already)."""
        rules = self.templates.rules
        keyword, hook = rules.hook_keyword, rules.hook_function
        target = _partial_of(call) or call
        given = next((a for a in target.args if a.keyword is not None and a.keyword.value == keyword), None)
        uris = ", ".join(sorted({d.dataset for d in site.dependencies if d.dataset}))
        teams = ", ".join(site.other_teams)
        if given is not None:
            if _is_hook_call(given.value, hook):
                return call, None
            raise Refused(f"the task already has {keyword}={code(given.value)}: call {rules.helper_module}.{hook}() from it by hand")
        if any(a.star == "**" for a in target.args):
            raise Refused(f"** arguments may hold {keyword}: add {keyword}={hook}() by hand")
        if not _passes_outlets(target) and isinstance(call.func, cst.Name):
            # A call of a @task function: the decorator takes the hook.
            self.decorators[call.func.value] = site
            return call, f"{hook}() posts {uris} to {teams}"
        if not _passes_outlets(target):
            raise Refused(f"the producing task is built by {code(call.func)}: add {keyword}={hook}() where its outlets are set")
        self.imports.append((rules.helper_module, hook))
        new_target = _with_keyword(target, keyword, f"{hook}()")
        new = _replace_partial(call, new_target) if target is not call else new_target
        return new, f"{hook}() posts {uris} to {teams}"

    # ---- @task(...) decorators of producing task functions (a second pass) ----------
    def hook_decorator(self, updated: cst.FunctionDef) -> cst.FunctionDef:
        site = self.decorators.pop(updated.name.value, None)
        if site is None:
            return updated
        rules = self.templates.rules
        keyword, hook = rules.hook_keyword, rules.hook_function
        for index, decorator in enumerate(updated.decorators):
            expression = decorator.decorator
            callee = expression.func if isinstance(expression, cst.Call) else expression
            if dotted(callee).partition(".")[0] not in TASK_DECORATOR_NAMES:
                continue
            if isinstance(expression, cst.Call):
                given = next((a for a in expression.args if a.keyword is not None and a.keyword.value == keyword), None)
                if given is not None:
                    if not _is_hook_call(given.value, hook):
                        self._refuse_decorated(site, f"the task already has {keyword}={code(given.value)}: call {rules.helper_module}.{hook}() from it by hand")
                    return updated
                new_expression: cst.BaseExpression = _with_keyword(expression, keyword, f"{hook}()")
            else:
                new_expression = cst.Call(func=expression, args=[_keyword_arg(keyword, f"{hook}()")])
            self.imports.append((rules.helper_module, hook))
            decorators = list(updated.decorators)
            decorators[index] = decorator.with_changes(decorator=new_expression)
            return updated.with_changes(decorators=decorators)
        self._refuse_decorated(site, f"the producing task function {updated.name.value} has no @task decorator here: add {keyword}={hook}() by hand")
        return updated

    def _refuse_decorated(self, site: CallSite, why: str) -> None:
        self.outcome.applied = [(s, d) for s, d in self.outcome.applied if s is not site]
        self.outcome.refused.append((site, why))

    def finish(self) -> None:
        """Sites not found (the file changed since the analysis) and task functions not
        defined in this file (their decorator is elsewhere) are refused."""
        for site in [*self.sites.values(), *self.by_start.values()]:
            if id(site) not in self.matched:
                where = f"{site.span.line}:{site.span.column}"
                self.outcome.refused.append((site, f"no call spans {where} as the analysis saw it: the file changed since; analyze again"))
        rules = self.templates.rules
        for name, site in self.decorators.items():
            self._refuse_decorated(site, f"{name} is not defined in this file: add {rules.hook_keyword}={rules.hook_function}() to its @task decorator by hand")
        self.decorators.clear()


class _Decorators(cst.CSTTransformer):
    """The decorators of the task functions whose calls produce a cross-team dataset."""

    def __init__(self, rewriter: CallRewriter):
        super().__init__()
        self.rewriter = rewriter

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self.rewriter.hook_decorator(updated)


def _arguments_by_keyword(call: cst.Call) -> bool:
    return all(arg.keyword is not None and not arg.star for arg in call.args)


def _partial_of(call: cst.Call) -> cst.Call | None:
    """In `Op.partial(...).expand(...)`, the partial call: it takes the unmapped arguments."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("expand", "expand_kwargs") and isinstance(func.value, cst.Call):
        inner = func.value
        if isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "partial":
            return inner
    return None


def _replace_partial(call: cst.Call, partial: cst.Call) -> cst.Call:
    assert isinstance(call.func, cst.Attribute)
    return call.with_changes(func=call.func.with_changes(value=partial))


def _passes_outlets(call: cst.Call) -> bool:
    return any(a.keyword is not None and a.keyword.value == "outlets" for a in call.args)


def _is_hook_call(value: cst.BaseExpression, hook: str) -> bool:
    return isinstance(value, cst.Call) and dotted(value.func).rpartition(".")[2] == hook


def _keyword_arg(keyword: str, value: str) -> cst.Arg:
    return cst.Arg(value=cst.parse_expression(value), keyword=cst.Name(keyword), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))


def _with_keyword(call: cst.Call, keyword: str, value: str) -> cst.Call:
    """CALL with one more keyword argument at the end, in the layout of the others."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[_keyword_arg(keyword, value)])
    last = args[-1]
    between = next((a.comma for a in args[:-1] if isinstance(a.comma, cst.Comma)), None)
    if between is None:  # a single argument: its line layout comes from the open parenthesis
        opened = call.whitespace_before_args
        between = cst.Comma(whitespace_after=opened if isinstance(opened, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" "))
    equal = last.equal if last.keyword is not None else cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    new = cst.Arg(
        value=cst.parse_expression(value),
        keyword=cst.Name(keyword),
        equal=equal,
        comma=last.comma,  # a trailing comma stays trailing
        whitespace_after_arg=last.whitespace_after_arg,
    )
    args[-1] = last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*args, new])


def _rebuild(call: cst.Call, name: str, removed: set[str]) -> cst.Call:
    """The call with another callee and the REMOVED arguments dropped, layout kept."""
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value in removed)]
    if args:
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
    return call.with_changes(func=cst.Name(name), args=args)


def _char_column(lines: list[str], line: int, byte_column: int) -> int:
    if not 1 <= line <= len(lines):
        return byte_column
    return len(lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


class Unfaithful(Exception):
    """libcst would not give this file back byte for byte; it is left unchanged."""


BOM = "\ufeff"


def rewrite_source(
    source: str,
    sites: Sequence[CallSite],
    classes: Sequence[ReplacedClass],
    templates: Templates,
    remove_markers: bool,
    first_party: Callable[[str], bool],
) -> tuple[str, Outcome]:
    """The new source of one file and what was (and was not) rewritten in it.

    Every character outside the rewritten calls and imports is kept: libcst drops a BOM
    and the last line break of a file with CR line endings, so they are put back.
    """
    bom = BOM if source.startswith(BOM) else ""
    body = source[len(bom):]
    module = cst.parse_module(body)
    kept = module.code  # generated anew on each access
    if not body.startswith(kept):
        raise Unfaithful("libcst would not keep this file byte for byte; rewrite it by hand")
    lost = body[len(kept):]
    rewriter = CallRewriter(body, sites, templates, remove_markers)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # the tree was just parsed: nothing else holds it
    rewriter.place_unended(wrapper.resolve(PositionProvider))
    new = wrapper.visit(rewriter)
    if rewriter.decorators:
        new = new.visit(_Decorators(rewriter))
    rewriter.finish()
    outcome = rewriter.outcome
    for module_name, name in dict.fromkeys(rewriter.imports):
        new = add_from_import(new, module_name, [(name, None)], first_party)
    if rewriter.unbound:
        new = drop_unused_module_imports(new, rewriter.unbound)
    if classes:
        try:
            new, references = rewrite_references(new, templates.helper_module, classes, first_party)
            outcome.references = references.rewritten
        except Unreachable as reason:
            outcome.unreachable = str(reason)
    text = new.code
    newline = module.default_newline
    if not body.startswith(newline):
        while text.startswith(newline):  # a removed first import leaves the blank lines that followed it
            text = text[len(newline):]
    return bom + text + lost, outcome
