"""Check reports: text for people, JSON for scripts, GitHub workflow commands, SARIF 2.1.0.

JSON keeps file paths relative to the analyzed root, like `analyze --format json`; the
others prefix them with the PATH the user gave, so that they open from where the check ran.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from .. import __version__
from .baseline import BaselineEntry
from ..codes import CODES, Code
from .findings import Finding
from .run import CheckResult

SCHEMA = "mesh-migrate/check@1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FORMATS = ("text", "json", "sarif", "github")


def shown(repo: str, file: str) -> str:
    base = posixpath.normpath(repo.replace("\\", "/"))
    return file if base == "." else posixpath.join(base, file)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(result: CheckResult) -> str:
    failing = result.failing
    accepted = sum(f.baselined for f in result.findings)
    suppressed = sum(f.suppressed for f in result.findings)
    aside = [f"{accepted} accepted in the baseline"] if result.baseline else []
    aside += [f"{suppressed} suppressed"] if suppressed else []
    head = _plural(len(failing), "new finding" if result.baseline else "finding") if failing else "no findings"
    if failing:
        counts = Counter(f.code for f in failing)
        head += " (" + ", ".join(f"{code} x{n}" for code, n in sorted(counts.items())) + ")"
    line = head + (f"; {', '.join(aside)}" if aside else "")
    if result.stale:
        count = len(result.stale)
        line += f"; {count} stale baseline {'entry' if count == 1 else 'entries'}"
    return line


def _stale_text(entry: BaselineEntry) -> str:
    return f"stale baseline entry {entry.code} ({entry.message or entry.fingerprint}): no longer found; rewrite the baseline with --write-baseline"


# Control characters, line separators and bidirectional overrides: in a file name (or a
# dag id) they would break a line in two, and a CI log reads a line that starts with
# "::" as a workflow command.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """TEXT with every unprintable character escaped as Python would write it."""
    return _UNPRINTABLE.sub(lambda match: _escape(match.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def text_report(result: CheckResult, repo: str, *, verbose: bool = False, quiet: bool = False) -> str:
    """One line per finding and per stale entry, then the summary; nothing in them can
    start another line."""
    lines = []
    if not quiet:
        for finding in result.findings:
            if finding.failing or verbose:
                note = " [suppressed]" if finding.suppressed else " [baseline]" if finding.baselined else ""
                lines.append(f"{shown(repo, finding.file)}:{finding.line}: {finding.code} {finding.message}{note}")
        lines += [f"{shown(repo, entry.file)}: {_stale_text(entry)}" for entry in result.stale]
    lines.append(summary_line(result))
    return "\n".join(printable(line) for line in lines) + "\n"


def finding_record(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "title": finding.title,
        "severity": finding.severity,
        "message": finding.message,
        "file": finding.file,
        "line": finding.line,
        "team": finding.team,
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppressed,
        "baselined": finding.baselined,
    }


def json_document(result: CheckResult) -> dict[str, Any]:
    failing = result.failing
    return {
        "schema": SCHEMA,
        "tool": {"name": "mesh-migrate", "version": __version__},
        "root": ".",
        "findings": [finding_record(f) for f in result.findings],
        "stale_baseline": [{"code": e.code, "file": e.file, "fingerprint": e.fingerprint, "message": e.message} for e in result.stale],
        "summary": {
            "clean": result.clean,
            "failing": len(failing),
            "baselined": sum(f.baselined for f in result.findings),
            "suppressed": sum(f.suppressed for f in result.findings),
            "stale_baseline": len(result.stale),
            "by_code": dict(sorted(Counter(f.code for f in failing).items())),
        },
    }


def json_report(result: CheckResult) -> str:
    return json.dumps(json_document(result), indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_report(result: CheckResult, repo: str) -> str:
    """Workflow commands: each failing finding becomes an annotation on its line."""
    lines = []
    for finding in result.failing:
        where = f"file={_escape_property(shown(repo, finding.file))},line={finding.line}"
        title = _escape_property(f"{finding.code} {finding.title}")
        lines.append(f"::{finding.severity} {where},title={title}::{_escape_data(finding.message)}")
    for entry in result.stale:
        where = f"file={_escape_property(shown(repo, entry.file))}"
        lines.append(f"::warning {where},title={_escape_property('stale baseline entry')}::{_escape_data(_stale_text(entry))}")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def sarif_document(result: CheckResult, repo: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log; suppressed and accepted findings are kept, marked as suppressed."""
    order = list(CODES)
    results = []
    for finding in result.findings:
        item: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": order.index(finding.code),
            "level": finding.severity,
            "message": {"text": finding.message},
            "locations": [_location(shown(repo, finding.file), finding.line)],
            "partialFingerprints": {"meshMigrate/v1": finding.fingerprint},
        }
        if finding.suppressed:
            item["suppressions"] = [{"kind": "inSource", "justification": "# mesh: ignore comment"}]
        elif finding.baselined:
            item["suppressions"] = [{"kind": "external", "justification": "accepted in the baseline"}]
        if result.baseline:
            item["baselineState"] = "unchanged" if finding.baselined else "new"
        if finding.team:
            item["properties"] = {"team": finding.team}
        results.append(item)
    notifications = [
        {"level": "warning", "message": {"text": _stale_text(entry)}, "locations": [_location(shown(repo, entry.file), 0)]}
        for entry in result.stale
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mesh-migrate", "version": __version__, "rules": [_rule(CODES[c]) for c in order]}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }


def _rule(code: Code) -> dict[str, Any]:
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": code.fix},
        "help": {"text": code.fix},
        "defaultConfiguration": {"level": code.severity},
    }


def _location(path: str, line: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(path), "uriBaseId": "%SRCROOT%"}}
    if line >= 1:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def sarif_report(result: CheckResult, repo: str) -> str:
    return json.dumps(sarif_document(result, repo), indent=2) + "\n"


def render(result: CheckResult, fmt: str, repo: str, *, verbose: bool = False, quiet: bool = False) -> str:
    if fmt == "json":
        return json_report(result)
    if fmt == "sarif":
        return sarif_report(result, repo)
    if fmt == "github":
        return github_report(result, repo)
    return text_report(result, repo, verbose=verbose, quiet=quiet)
