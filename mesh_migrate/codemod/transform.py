"""Rewriting the selected calls of one file with libcst, so everything else stays byte for byte.

One function per rewrite (sensor, trigger, marker) builds the new call from the original's
arguments: the arguments the new operator shares with the old one are the original nodes,
comments and formatting included; new arguments take the original's layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from string import Template
from typing import TypeGuard

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import PositionProvider

from ..extract.modules import source_lines
from ..rulepack import RulePack
from .dates import Untranslatable, shifted_date
from .sites import Site
from .templates import Templates

SENSOR_ONLY = {
    "external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id", "allowed_states",
    "failed_states", "skipped_states", "execution_delta", "execution_date_fn", "check_existence", "poll_interval",
}
TRIGGER_ONLY = {"trigger_dag_id", "conf", "trigger_run_id", "logical_date", "execution_date", "deferrable"}
TRIGGER_WAITING = {"wait_for_completion", "poke_interval", "allowed_states", "failed_states"}
TRIGGER_UNTRANSLATED = {"reset_dag_run", "skip_when_already_exists", "python_callable", "fail_when_dag_is_paused", "run_after", "note"}
MARKER_ONLY = {"external_dag_id", "external_task_id", "execution_date", "logical_date", "recursion_depth"}
# Which new argument takes over from a removed one (and the comment that followed it).
SUCCESSORS = {
    "external_dag_id": "endpoint", "trigger_dag_id": "endpoint", "conf": "data",
    "execution_delta": "request_params", "execution_date_fn": "request_params",
    "external_task_id": "response_check", "external_task_ids": "response_check",
    "external_task_group_id": "response_check", "allowed_states": "response_check",
    "failed_states": "response_check", "skipped_states": "response_check",
}


class Refused(Exception):
    """This call cannot be rewritten faithfully; the message says why."""


@dataclass
class Outcome:
    applied: list[tuple[Site, str]] = field(default_factory=list)
    refused: list[tuple[Site, str]] = field(default_factory=list)


def code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def literal(value: object) -> str:
    return json.dumps(value)


def interpolate(template: str, values: dict[str, cst.BaseExpression | str]) -> str:
    """Source code for a template with ${name} placeholders filled by Python expressions
    (or plain strings): one string literal when everything is literal, else a concatenation."""
    pieces: list[tuple[bool, str]] = []  # (is_literal, text or code)
    rest = template
    while "${" in rest:
        before, _, after = rest.partition("${")
        name, _, rest = after.partition("}")
        pieces.append((True, before))
        value = values[name]
        if isinstance(value, str):
            pieces.append((True, value))
        elif isinstance(value, cst.SimpleString) and "\\" not in value.value:
            text = value.evaluated_value
            assert isinstance(text, str), "sites are chosen for DAG ids that are strings, never bytes"
            pieces.append((True, text))
        else:
            inner = code(value)
            simple = isinstance(value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call, cst.FormattedString, cst.SimpleString))
            pieces.append((False, inner if simple else f"({inner})"))
    pieces.append((True, rest))
    merged: list[tuple[bool, str]] = []
    for is_literal, text in pieces:
        if is_literal and merged and merged[-1][0]:
            merged[-1] = (True, merged[-1][1] + text)
        elif not (is_literal and text == ""):
            merged.append((is_literal, text))
    return " + ".join(literal(text) if is_literal else text for is_literal, text in merged) or literal("")


class CallRewriter(VisitorBasedCodemodCommand):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, context: CodemodContext, source: str, sites: list[Site], rules: RulePack, templates: Templates, remove_markers: bool):
        super().__init__(context)
        self.rules = rules
        self.templates = templates
        self.remove_markers = remove_markers
        lines = source_lines(source)
        # The analysis reports columns in UTF-8 bytes; libcst in characters.
        self.sites = {(s.line, _char_column(lines, s.line, s.column)): s for s in sites}
        self.outcome = Outcome()
        self.statement_comments: list[list[str]] = []

    # ---- statements: where a kept marker gets its comment ------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement_comments.append([])

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        comments = self.statement_comments.pop()
        existing = {line.comment.value for line in updated.leading_lines if line.comment}
        new = [cst.EmptyLine(comment=cst.Comment(c)) for c in comments if c not in existing]
        return updated.with_changes(leading_lines=[*updated.leading_lines, *new]) if new else updated

    # ---- calls ---------------------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        position = self.get_metadata(PositionProvider, original).start
        site = self.sites.get((position.line, position.column))
        if site is None:
            return updated
        # The analysis already resolved the callee through the imports (aliases included)
        # and only selects direct calls of the operator, so position identifies the call.
        try:
            if site.rewrite == "sensor":
                new, description = self.sensor(site, updated)
            elif site.rewrite == "trigger":
                new, description = self.trigger(site, updated)
            else:
                new, description = self.marker(site, updated)
        except (Refused, Untranslatable) as reason:
            self.outcome.refused.append((site, str(reason)))
            return updated
        if new is not updated:
            RemoveImportsVisitor.remove_unused_import_by_node(self.context, original)
        self.outcome.applied.append((site, description))
        return new

    def _arguments(self, call: cst.Call, naming: str | None = None) -> dict[str, cst.Arg]:
        """The keyword arguments; NAMING, the one that names the other DAG, must be one of them."""
        by_name: dict[str, cst.Arg] = {}
        for arg in call.args:
            if arg.star or arg.keyword is None:
                raise Refused("positional or ** arguments: rewrite by hand")
            by_name[arg.keyword.value] = arg
        if naming is not None and naming not in by_name:
            # Not the call the analysis saw at this place: the file changed since.
            raise Refused(f"the call here has no {naming}: analyze again, or rewrite by hand")
        return by_name

    def sensor(self, site: Site, call: cst.Call) -> tuple[cst.Call, str]:
        t = self.templates
        args = self._arguments(call, "external_dag_id")
        api = t.sensor_api.get(site.instance.api_version)
        if api is None:
            raise Refused(f"no sensor template for API version {site.instance.api_version}")
        dep = site.first
        date = t.date_expression(shifted_date(t.date_base, dep.argument("execution_delta"), dep.argument("execution_date_fn")))
        states: dict[str, str] = {k: code(args[k].value) for k in ("allowed_states", "failed_states", "skipped_states") if k in args}
        params = {api.date_from: literal(date), api.date_to: literal(date)}
        task_level = [k for k in ("external_task_id", "external_task_ids", "external_task_group_id") if k in args and code(args[k].value) != "None"]
        if task_level:
            endpoint = interpolate(api.task_endpoint, {"dag_id": args["external_dag_id"].value})
            params.update({k: literal(v) for k, v in api.task_params.items()})
            key = task_level[0]
            if key == "external_task_id":
                check_args = {"task_ids": f"[{code(args[key].value)}]"}
            elif key == "external_task_ids":
                check_args = {"task_ids": code(args[key].value)}
            else:
                check_args = {"task_group_id": code(args[key].value)}
            check = t.task_check
            what = f"tasks {code(args[key].value)}"
        else:
            endpoint = interpolate(api.dag_endpoint, {"dag_id": args["external_dag_id"].value})
            check, check_args, what = t.dag_check, {}, "the DAG run"
        check_args.update(states)
        self._need(t.sensor_operator)
        self._need(f"{t.helper_module}.{check}")
        new_args = {
            "http_conn_id": literal(site.instance.http_conn_id),
            "endpoint": endpoint,
            "request_params": dict_code(params, argument_indent(call)),
            "response_check": f"{check}(" + ", ".join(f"{k}={v}" for k, v in check_args.items()) + ")",
        }
        if "check_existence" in args and code(args["check_existence"].value) == "True":
            new_args["response_error_codes_allowlist"] = "[]"  # a missing DAG fails, as check_existence did
        name = t.sensor_operator.rsplit(".", 1)[1]
        new = _rebuild(call, name, SENSOR_ONLY, new_args)
        return new, f"HttpSensor on {what} of {site.first.source} via {site.instance.http_conn_id} (Airflow {site.instance.api_version} REST API)"

    def trigger(self, site: Site, call: cst.Call) -> tuple[cst.Call, str]:
        t = self.templates
        args = self._arguments(call, "trigger_dag_id")
        untranslated = sorted(set(args) & TRIGGER_UNTRANSLATED)
        if untranslated:
            raise Refused(f"{', '.join(untranslated)} has no HTTP equivalent: rewrite by hand")
        api = t.trigger_api.get(site.instance.api_version)
        if api is None:
            raise Refused(f"no trigger template for API version {site.instance.api_version}")
        waiting = "wait_for_completion" in args and code(args["wait_for_completion"].value) != "False"
        body_args = {"conf": code(args["conf"].value)} if "conf" in args else {}
        body_args["api_version"] = str(site.instance.api_version)
        for key in ("logical_date", "execution_date"):
            if key in args:
                body_args["logical_date"] = code(args[key].value)
        run_id: cst.BaseExpression | str = args["trigger_run_id"].value if "trigger_run_id" in args else t.run_id
        if waiting or "trigger_run_id" in args:
            body_args["dag_run_id"] = code(run_id) if not isinstance(run_id, str) else literal(run_id)
        dag = args["trigger_dag_id"].value
        new_args = {
            "http_conn_id": literal(site.instance.http_conn_id),
            "endpoint": interpolate(api.endpoint, {"dag_id": dag}),
            "method": literal("POST"),
            "headers": '{"Content-Type": "application/json"}',
            "data": f"{t.body}(" + ", ".join(f"{k}={v}" for k, v in body_args.items()) + ")",
        }
        self._need(f"{t.helper_module}.{t.body}")
        removed = set(TRIGGER_ONLY) | ({"wait_for_completion"} if not waiting else set())
        if waiting:
            new_args["run_endpoint"] = interpolate(api.run_endpoint, {"dag_id": dag, "run_id": run_id})
            self._need(f"{t.helper_module}.{t.waiting_operator}")
            name = t.waiting_operator
        else:
            removed |= TRIGGER_WAITING
            self._need(t.trigger_operator)
            name = t.trigger_operator.rsplit(".", 1)[1]
        new = _rebuild(call, name, removed, new_args)
        how = " and waits for the run" if waiting else ""
        return new, f"{name} POSTing a run of {site.first.target}{how} via {site.instance.http_conn_id} (Airflow {site.instance.api_version} REST API)"

    def marker(self, site: Site, call: cst.Call) -> tuple[cst.Call, str]:
        t = self.templates
        if not self.remove_markers:
            text = Template(t.marker_comment).safe_substitute(dag_id=site.first.target, team=site.other_team)
            if self.statement_comments:
                self.statement_comments[-1].append(f"# {text}")
            return call, f"kept ExternalTaskMarker on {site.first.target}, with a comment (--remove-markers replaces it)"
        self._arguments(call)
        self._need(t.marker_replacement)
        name = t.marker_replacement.rsplit(".", 1)[1]
        return _rebuild(call, name, MARKER_ONLY, {}), f"replaced ExternalTaskMarker on {site.first.target} by {name} (clearing cannot cross instances)"

    def _need(self, qualified: str) -> None:
        module, _, name = qualified.rpartition(".")
        AddImportsVisitor.add_needed_import(self.context, module, name)


def argument_indent(call: cst.Call) -> str | None:
    """The indentation of a call's arguments when they stand one per line, else None."""
    for arg in call.args:
        if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
            return arg.comma.whitespace_after.last_line.value
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args.last_line.value
    return None


def dict_code(items: dict[str, str], indent: str | None) -> str:
    """A dict literal: on one line, or one entry per line when the call is laid out so."""
    if indent is None:
        return "{" + ", ".join(f"{literal(k)}: {v}" for k, v in items.items()) + "}"
    inner = indent + "    "
    return "{\n" + "".join(f"{inner}{literal(k)}: {v},\n" for k, v in items.items()) + indent + "}"


def _rebuild(call: cst.Call, name: str, removed: set[str], new_args: dict[str, str]) -> cst.Call:
    """The call with another callee, `removed` arguments dropped and `new_args` inserted
    where the first dropped one stood, in the layout of the original arguments."""
    args = list(call.args)
    dropped = [i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value in removed]
    at = dropped[0] if dropped else len(args)
    separator = next((a.comma for a in args if isinstance(a.comma, cst.Comma)), cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    equal = next((a.equal for a in args if a.keyword is not None), cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    commas = {key: separator for key in new_args}
    for index in dropped:  # a comment after a removed argument moves to the one replacing it
        old = args[index]
        successor = SUCCESSORS.get(old.keyword.value) if old.keyword is not None else None  # dropped: keyword arguments
        if successor in commas and commas[successor] is separator and _has_comment(old.comma):
            commas[successor] = old.comma
    fresh = [
        cst.Arg(value=cst.parse_expression(text), keyword=cst.Name(key), equal=equal, comma=commas[key])
        for key, text in new_args.items()
    ]
    kept_before = [a for i, a in enumerate(args[:at]) if i not in dropped]
    kept_after = [a for i, a in enumerate(args[at:], start=at) if i not in dropped]
    result = kept_before + fresh + kept_after
    for index in range(len(result) - 1):
        if not isinstance(result[index].comma, cst.Comma):
            result[index] = result[index].with_changes(comma=separator)
    if result:
        result[-1] = result[-1].with_changes(comma=args[-1].comma if args else cst.MaybeSentinel.DEFAULT)
    return call.with_changes(func=cst.Name(name), args=result)


def _has_comment(comma: cst.Comma | cst.MaybeSentinel) -> TypeGuard[cst.Comma]:
    return (
        isinstance(comma, cst.Comma)
        and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)
        and comma.whitespace_after.first_line.comment is not None
    )


def _char_column(lines: list[str], line: int, byte_column: int) -> int:
    if not 1 <= line <= len(lines):
        return byte_column
    return len(lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


class Unfaithful(Exception):
    """libcst would not give this file back byte for byte; it is left unchanged."""


BOM = "\ufeff"


def rewrite_source(source: str, sites: list[Site], rules: RulePack, templates: Templates, remove_markers: bool) -> tuple[str, Outcome]:
    """The new source of one file and what was (and was not) rewritten in it.

    Every character outside the rewritten calls and imports is kept: libcst drops a BOM
    and the last line break of a file with CR line endings, so they are put back.
    """
    bom = BOM if source.startswith(BOM) else ""
    body = source[len(bom):]
    module = cst.parse_module(body)
    if not body.startswith(module.code):
        raise Unfaithful("libcst would not keep this file byte for byte; rewrite it by hand")
    lost = body[len(module.code):]
    context = CodemodContext()
    command = CallRewriter(context, body, sites, rules, templates, remove_markers)
    new = command.transform_module(module).code
    newline = module.default_newline
    if not body.startswith(newline):
        while new.startswith(newline):  # a removed first import leaves the blank lines that followed it
            new = new[len(newline):]
    return bom + new + lost, command.outcome
