"""`mesh-migrate check`: the CI and pre-commit gate that keeps a migration from regressing.

findings (the codes in ..codes, findings.py) -> suppressions (suppress.py) -> baseline (baseline.py)
-> report (formats.py); run.py ties them together for one Analysis.
"""

from .baseline import BaselineEntry, BaselineError, baseline_text, read_baseline
from ..codes import CODES
from .findings import Finding, collect
from .formats import FORMATS, render
from .run import EVERYTHING, CheckResult, Scope, run_check, scope_of

__all__ = [
    "BaselineEntry",
    "BaselineError",
    "CODES",
    "CheckResult",
    "EVERYTHING",
    "FORMATS",
    "Finding",
    "Scope",
    "baseline_text",
    "collect",
    "read_baseline",
    "render",
    "run_check",
    "scope_of",
]
