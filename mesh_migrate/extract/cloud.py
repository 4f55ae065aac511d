"""Cloud resources a call names through its keyword arguments, by the rule pack's
`cloud_resources` section: buckets, datasets, projects, service accounts, roles, secrets.

Pure functions over the values the interpreter computed (or the literals of code that runs
only at task time), so both callers share one reading of the rules.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from ..rulepack import RulePack
from .values import ExternalRef

SERVICE_ACCOUNT = "gcp_service_account"
# Positions in an impersonation chain: the caller needs the token creator role on the first.
IMPERSONATED, DELEGATE = "impersonate", "delegate"
_URI = re.compile(r"\b([a-z][a-z0-9+.-]*)://((?:\{\{.*?\}\}|[^/\s'\"`;,)])*)")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}$")


@dataclass(frozen=True)
class CloudUse:
    kind: str
    name: str
    access: str | None  # "read" | "write"; for service accounts "impersonate" | "delegate"
    identity: str | None  # the account the call impersonates (the last of its chain), if any


@dataclass(frozen=True)
class CloudGap:
    """A keyword that names a cloud resource whose value is not known statically."""

    what: str  # "gcs_bucket (bucket)"
    value: Any  # the value: an Unknown, or a string with a Jinja template in it


def cloud_uses(rules: RulePack, qualname: str | None, kwargs: dict[str, Any], identity: str | None = None) -> tuple[list[CloudUse], list[CloudGap]]:
    """The cloud resources one call names, and the values that could not be read; IDENTITY:
    the account the object called was made with (`bq = BigQueryHook(impersonation_chain=...)`)."""
    found: list[tuple[str, str, str | None]] = []
    gaps: list[CloudGap] = []
    naming = rules.cloud_rules_naming
    for key, value in kwargs.items():
        if key == "**":
            continue
        rule = rules.cloud_keyword_rule(key, qualname) if naming[key] else None
        if rule is None:
            if isinstance(value, (list, tuple)) or (isinstance(value, str) and "://" in value):  # what can hold a URI
                found += [(kind, name, _access(rules, key, qualname)) for kind, name in _uris(rules, value, key, gaps)]
            continue
        names = _strings(value)
        if names is None:
            gaps.append(CloudGap(f"{rule.kind} ({key})", value))
            continue
        if any("{{" in name for name in names):
            gaps.append(CloudGap(f"{rule.kind} ({key})", next(n for n in names if "{{" in n)))
            names = [n for n in names if "{{" not in n]
        if rule.kind == SERVICE_ACCOUNT:
            found += [(rule.kind, name, IMPERSONATED if i == 0 else DELEGATE) for i, name in enumerate(names)]
            identity = names[-1] if names else identity
            continue
        project = _project(rule.project_keywords, kwargs)
        access = _access(rules, key, qualname)
        for name in names:
            found.append((rule.kind, _qualified(rule.kind, name, project), access))
    if not found:
        return [], gaps
    uses = [CloudUse(kind, name, access, None if kind == SERVICE_ACCOUNT else identity) for kind, name, access in found]
    return list(dict.fromkeys(uses)), gaps


def text_uses(rules: RulePack, text: str) -> tuple[list[CloudUse], list[CloudGap]]:
    """Buckets named by URIs in a string of code that runs at task time."""
    gaps: list[CloudGap] = []
    return [CloudUse(kind, name, None, None) for kind, name in _uris(rules, text, "", gaps)], gaps


def _access(rules: RulePack, keyword: str, qualname: str | None) -> str | None:
    return rules.cloud_access_of(keyword, qualname)


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v for v in value if v]
    return None


def _project(keywords: tuple[str, ...], kwargs: dict[str, Any]) -> str | None:
    for key in keywords:
        value = kwargs.get(key)
        if isinstance(value, str) and value and "{{" not in value:
            return value
    return None


def _qualified(kind: str, name: str, project: str | None) -> str:
    if kind == "bigquery_table":
        return name.replace(":", ".", 1).split("$", 1)[0]  # project:dataset.table, partition decorator
    if not kind.startswith("bigquery"):
        return name
    if project and "." not in name and ":" not in name:
        return f"{project}.{name}"
    return name.replace(":", ".", 1)


def _uris(rules: RulePack, value: Any, key: str, gaps: list[CloudGap]) -> list[tuple[str, str]]:
    """(kind, bucket) of every URI with a scheme the rules name, in a string or list of strings."""
    texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []
    texts = [text for text in texts if "://" in text]
    if not texts:  # nearly every keyword of every call: no mapping of the schemes built for it
        return []
    schemes = dict(rules.cloud_uri_schemes)
    found: list[tuple[str, str]] = []
    for text in texts:
        for scheme, bucket in _URI.findall(text):
            kind = schemes.get(scheme)
            if kind is None:
                continue
            if "{" in bucket or "}" in bucket:
                gaps.append(CloudGap(f"{kind} ({key or 'URI'})", f"{scheme}://{bucket}"))
            elif _BUCKET.match(bucket):
                found.append((kind, bucket))
    return found


def qualname_of(node: ast.expr, scope: Any, local: dict[str, str] | None = None) -> str | None:
    """The qualified name a call's function resolves to without running anything: a name
    imported from outside the repository, its attributes, or a method of an object made by
    such a call (`S3Hook(...).load_string`, or `s3.list_keys` after `s3 = S3Hook(...)`)."""
    if isinstance(node, ast.Name):
        if local and node.id in local:
            return local[node.id]
        value = scope.vars.get(node.id)
        return value.qualname if isinstance(value, ExternalRef) else None
    if isinstance(node, ast.Attribute):
        base = qualname_of(node.value, scope, local)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        return qualname_of(node.func, scope, local)
    return None
