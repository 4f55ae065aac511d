"""What the codemod writes, from the rule pack's `rewrites` (checked when the pack loads)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..rewrite_rules import RewriteRules
from ..rulepack import RulePack, shipped_folder
from ..yamlio import ConfigError, ConfigProblem

DEFAULT_MODULE = "mesh_http"


@dataclass(frozen=True)
class Templates:
    rules: RewriteRules
    helper_source: str  # the helper module's text

    @property
    def helper_module(self) -> str:
        return self.rules.helper_module

    def marker_comment(self, dag_id: str, team: str | None) -> str:
        return Template(self.rules.marker_comment).safe_substitute(dag_id=dag_id, team=team or "unowned")


def helper_module_name(rules: RulePack) -> str:
    """The dotted name of the module the rewritten files import."""
    return rules.rewrites.helper_module if rules.rewrites is not None else DEFAULT_MODULE


def load_templates(rules: RulePack, root: Path) -> Templates:
    found = rules.rewrites
    if found is None:
        raise ConfigError([ConfigProblem("rules/rewrites.yaml", 0, "no rule file gives the rewrites section")])
    origin = found.helper_origin
    try:
        if origin.startswith("rules/"):
            helper = shipped_folder().joinpath(found.helper_source).read_text(encoding="utf-8")
        else:
            helper = (root / Path(origin).parent / found.helper_source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(origin, 0, f"rewrites: cannot read helper_source {found.helper_source!r}: {exc}")]) from None
    return Templates(found, helper)
