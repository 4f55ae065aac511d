"""The baseline: findings accepted today, so that a check fails only on new ones.

Entries are (code, file, fingerprint), never lines: inserting code above a sensor leaves
it accepted. Entries are counted, so two identical findings need two entries. An entry
that matches nothing any more is stale and reported, so the baseline only shrinks.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from .. import __version__
from .findings import Finding

SCHEMA = "mesh-migrate/baseline@1"


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class BaselineEntry:
    code: str
    file: str
    fingerprint: str
    message: str = ""  # for the reader of the file and of stale reports; not matched

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.file, self.fingerprint)


def baseline_document(findings: Iterable[Finding]) -> dict[str, Any]:
    """The accepted findings (suppressed ones need no entry), sorted so that diffs stay small."""
    entries = sorted((f.file, f.code, f.fingerprint, f.message) for f in findings if not f.suppressed)
    return {
        "schema": SCHEMA,
        "tool": {"name": "mesh-migrate", "version": __version__},
        "findings": [{"code": code, "file": file, "fingerprint": print_, "message": message} for file, code, print_, message in entries],
    }


def baseline_text(findings: Iterable[Finding]) -> str:
    return json.dumps(baseline_document(findings), indent=2) + "\n"


def parse_baseline(text: str, name: str) -> tuple[BaselineEntry, ...]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BaselineError(f"{name}: not a JSON document ({error})") from None
    except RecursionError:
        raise BaselineError(f"{name}: not a baseline (nested too deeply to read)") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise BaselineError(f"{name}: not a mesh-migrate baseline (expected \"schema\": \"{SCHEMA}\"); write one with --write-baseline")
    items = data.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"{name}: \"findings\" must be a list")
    entries = []
    for index, item in enumerate(items):
        fields = ("code", "file", "fingerprint")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item.get(k) for k in fields):
            raise BaselineError(f"{name}: findings[{index}] needs the strings code, file and fingerprint")
        message = item.get("message")
        entries.append(BaselineEntry(item["code"], item["file"], item["fingerprint"], message if isinstance(message, str) else ""))
    return tuple(entries)


def read_baseline(path: Path) -> tuple[BaselineEntry, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot read baseline {path}: {getattr(error, 'strerror', None) or error}") from None
    return parse_baseline(text, str(path))


def apply_baseline(findings: Iterable[Finding], entries: Iterable[BaselineEntry]) -> tuple[tuple[Finding, ...], tuple[BaselineEntry, ...]]:
    """FINDINGS with the accepted ones marked, and the entries that matched nothing (stale)."""
    entries = tuple(entries)
    left = Counter(entry.key for entry in entries)
    out = []
    for finding in findings:
        if not finding.suppressed and left[finding.key] > 0:
            left[finding.key] -= 1
            finding = replace(finding, baselined=True)
        out.append(finding)
    stale = []
    for entry in entries:
        if left[entry.key] > 0:
            left[entry.key] -= 1
            stale.append(entry)
    return tuple(out), tuple(stale)
