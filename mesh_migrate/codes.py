"""The stable finding codes of `mesh-migrate check`: never renumbered, never reused.

Below the rule pack, which names the code each dependency kind is reported with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str  # kebab-case, for SARIF rule names and the README
    title: str
    severity: str  # "error" | "warning"; every unaccepted finding fails the check either way
    fix: str


UNUSED_SUPPRESSION = "MM900"

CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("MM101", "cross-team-sensor", "cross-team sensor", "error",
             "Point it at mesh_http's ExternalTaskSensor, which polls the other team's instance: mesh-migrate codemod PATH --team TEAM --diff."),
        Code("MM102", "cross-team-trigger", "cross-team trigger", "error",
             "Point it at mesh_http's TriggerDagRunOperator, which starts the DAG run on the other instance: mesh-migrate codemod PATH --team TEAM --diff."),
        Code("MM103", "cross-team-marker", "cross-team marker", "error",
             "An ExternalTaskMarker cannot clear tasks on another instance: remove it, or agree a replacement with the other team."),
        Code("MM104", "cross-team-dataset", "cross-team dataset", "error",
             "Dataset events do not cross instances by themselves: the codemod, run for the producing team, makes the producing task post them to the consuming instance."),
        Code("MM105", "cross-team-custom-dependency", "cross-team custom dependency", "error",
             "A company sensor from a rule pack: replace it by mesh_http's ExternalTaskSensor on the same DAG, or declare a drop-in class for its kind in the rule pack's rewrites."),
        Code("MM106", "cross-team-cloud-resource", "cross-team cloud resource", "error",
             "Another team's DAGs write this resource: agree the grant for our instance's service account with them (see iam/<team>.yaml), or reach it through an account they own (impersonation_chain)."),
        Code("MM201", "unowned-dag", "unowned DAG", "error",
             "Give the DAG a team: add its folder to a team's paths (or a dag_ids pattern) in mesh.yaml, or a CODEOWNERS entry."),
        Code("MM301", "team-cycle", "team cycle", "error",
             "Teams that wait on each other must migrate together: break one dependency of the cycle, or plan them in one wave."),
        Code("MM401", "dangling-dependency", "dangling dependency", "warning",
             "The DAG named is defined in no analyzed file: fix the dag_id, or stop excluding the file that defines it."),
        Code("MM402", "duplicate-dag-id", "duplicate dag id", "error",
             "Airflow loads only one DAG per id: rename one of them."),
        Code("MM403", "missing-helper-module", "missing helper module", "error",
             "The module the rewritten calls import is gone: restore it from git, or rerun the codemod with --apply to write it again."),
        Code("MM501", "dependency-not-seen-at-runtime", "dependency not seen at runtime", "warning",
             "The metadata database (check --airflow-db) has no such edge: remove the dependency if it is dead, fix the DAG that never parsed, or suppress it where Airflow cannot record it."),
        Code("MM502", "runtime-only-dependency", "runtime-only dependency", "error",
             "Airflow recorded an edge of this DAG that the static analysis does not see, so no plan accounts for it: name the other DAG literally, or add a rule for the operator that makes it."),
        Code(UNUSED_SUPPRESSION, "unused-suppression", "unused suppression", "warning",
             "The comment suppresses nothing on its line: remove it, or the codes that no longer apply."),
    )
}

# The codes a dependency kind of the rule pack may be reported with (its `check.code`).
DEPENDENCY_CODES = ("MM101", "MM102", "MM103", "MM104", "MM105")
