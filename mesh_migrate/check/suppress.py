"""Inline suppressions: `# mesh: ignore[MM101]`, `# mesh: ignore[MM101,MM102]`, `# mesh: ignore`.

A comment suppresses the findings of its own line (for a call, the line it starts on).
Comments are read with `tokenize`, so a `#` inside a string is never taken for one; a
comment that suppresses nothing is itself a finding (MM900).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from ..codes import CODES, UNUSED_SUPPRESSION
from .findings import Finding, fingerprint

DIRECTIVE = re.compile(r"#\s*mesh\s*:\s*ignore(?![\w-])(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
# Cheap test on the bytes before tokenizing: most files have no directive at all.
_PREFILTER = re.compile(rb"mesh\s*:\s*ignore", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    file: str
    line: int
    codes: tuple[str, ...]  # empty: every finding of the line
    source: str  # the line as written, stripped (fingerprints the unused-suppression finding)


def suppressions_in(path: str, data: bytes) -> tuple[Suppression, ...]:
    """The directives in one file's comments; a file that does not tokenize keeps those before the error."""
    if not _PREFILTER.search(data):
        return ()
    found: list[Suppression] = []
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = DIRECTIVE.search(token.string)
            if match:
                codes = tuple(dict.fromkeys(c.strip().upper() for c in (match["codes"] or "").split(",") if c.strip()))
                found.append(Suppression(path, token.start[0], codes, token.line.strip()))
    except (tokenize.TokenError, SyntaxError):
        pass
    return tuple(found)


def read_suppressions(root: Path | None, paths: Iterable[str]) -> tuple[Suppression, ...]:
    if root is None:
        return ()
    found: list[Suppression] = []
    for path in paths:
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue  # the analysis already reported the unreadable file
        found.extend(suppressions_in(path, data))
    return tuple(found)


def apply_suppressions(findings: Iterable[Finding], suppressions: Iterable[Suppression]) -> tuple[Finding, ...]:
    """FINDINGS with the suppressed ones marked, then one MM900 per comment (or code) left unused."""
    at = {(s.file, s.line): s for s in suppressions}
    used: dict[tuple[str, int], set[str]] = {place: set() for place in at}
    out: list[Finding] = []
    for finding in findings:
        directive = at.get((finding.file, finding.line))
        if directive and finding.code != UNUSED_SUPPRESSION and (not directive.codes or finding.code in directive.codes):
            used[(finding.file, finding.line)].add(finding.code)
            finding = replace(finding, suppressed=True)
        out.append(finding)
    for place, directive in at.items():
        unused = _unused(directive, used[place])
        if unused:
            out.append(unused)
    return tuple(out)


def _unused(directive: Suppression, used: set[str]) -> Finding | None:
    if not directive.codes:
        if used:
            return None
        message = "`# mesh: ignore` suppresses nothing on this line; remove it"
        codes = ""
    else:
        left = [c for c in directive.codes if c not in used]
        if not left:
            return None
        unknown = [c for c in left if c not in CODES]
        reasons = [f"no {c} finding on this line" for c in left if c in CODES] + [f"{c} is not a mesh-migrate code" for c in unknown]
        message = f"`# mesh: ignore[{','.join(directive.codes)}]`: " + "; ".join(reasons) + f"; remove {', '.join(left)} from the comment"
        codes = ",".join(left)
    return Finding(UNUSED_SUPPRESSION, directive.file, directive.line, message, None, fingerprint(directive.source, codes))
