"""mesh.yaml: the analyzed repository's own configuration, as typed, validated objects.

Every problem is collected and reported together with its file and line (ConfigError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import describe
from .globs import glob_problem
from .yamlio import ConfigError, ConfigProblem, Located, read_yaml

CONFIG_NAME = "mesh.yaml"
SYNTAXES = ("regexp", "glob")
API_VERSIONS = (2, 3)


@dataclass(frozen=True)
class Instance:
    url: str | None = None
    http_conn_id: str | None = None
    api_version: int = 2


@dataclass(frozen=True)
class Team:
    name: str
    description: str = ""
    paths: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    codeowners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    dag_ids: tuple[str, ...] = ()
    instance: Instance = field(default_factory=Instance)
    line: int = 0


@dataclass(frozen=True)
class Monolith:
    """mesh.yaml `monolith`: the instance that runs every DAG today, and the teams whose
    DAGs still run there (they have not moved yet). Other teams reach their DAGs on it."""

    instance: Instance = field(default_factory=lambda: Instance(http_conn_id=MONOLITH_CONN))
    teams: tuple[str, ...] = ()
    line: int = 0


MONOLITH = "monolith"  # the monolith's name among the instances
MONOLITH_CONN = "airflow_monolith"


@dataclass(frozen=True)
class Environment:
    """The deployment whose DAGs are analyzed: values of the environment variables and
    Airflow Variables that DAG files read at parse time (e.g. the production ones)."""

    variables: tuple[tuple[str, str], ...] = ()
    airflow_variables: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Identity:
    """What each team's own instance runs as (mesh.yaml `identity`)."""

    service_account: str = "airflow-{team}@{project}.iam.gserviceaccount.com"
    project: str = "PROJECT"  # a placeholder until mesh.yaml names it
    configured: bool = False

    def account(self, slug: str) -> str:
        """The team's account; `_` and `.` become `-`, the only separator account ids allow."""
        return self.service_account.format(team=slug.replace("_", "-").replace(".", "-"), project=self.project)


@dataclass(frozen=True)
class Sizing:
    """mesh.yaml `sizing`: the constants of the instance-size formula (README, Sizing each team's instance)."""

    headroom: float = 1.5  # worker slots per task running at the peak
    slots_per_vcpu: float = 4.0  # task slots one worker vCPU runs (mostly waiting on I/O)
    gb_per_vcpu: float = 4.0  # memory per vCPU, workers and scheduler alike
    dags_per_scheduler_vcpu: float = 100.0
    parse_mb_per_scheduler_vcpu: float = 2.0  # DAG file source parsed per scheduler vCPU
    vcpu_month: float = 24.0  # unit price of one vCPU for a month
    gb_month: float = 3.2  # unit price of one GB of memory for a month
    monolith_monthly_cost: float | None = None  # what the monolith costs now, for comparison


@dataclass(frozen=True)
class MeshConfig:
    path: str | None = None  # None when the repository has no mesh.yaml
    python_paths: tuple[str, ...] | None = None  # None: found from the repository's layout
    dags_folders: tuple[str, ...] | None = None  # None: found from the repository's layout
    environment: Environment = field(default_factory=lambda: Environment())
    rules: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    airflowignore_syntax: str = "regexp"
    folders_are_teams: str | None = None
    people: dict[str, str] = field(default_factory=dict)
    teams: tuple[Team, ...] = ()
    identity: Identity = field(default_factory=Identity)
    sizing: Sizing = field(default_factory=Sizing)
    monolith: Monolith | None = None

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def on_monolith(self, team: str | None) -> bool:
        """Whether TEAM's DAGs still run on the monolith (mesh.yaml `monolith.teams`)."""
        return self.monolith is not None and team in self.monolith.teams


_TOP = {"version", "python_paths", "dags_folders", "environment", "rules", "exclude", "airflowignore_syntax", "ownership", "people", "teams", "identity", "sizing", "monolith"}
_MONOLITH = {"instance", "teams"}
_IDENTITY = {"service_account", "project"}
_OWNERSHIP = {"folders_are_teams"}
_ENVIRONMENT = {"variables", "airflow_variables"}
_TEAM = {"description", "paths", "owners", "codeowners", "tags", "dag_ids", "instance"}
_INSTANCE = {"url", "http_conn_id", "api_version"}


def load_config(root: Path) -> MeshConfig:
    """Read ROOT/mesh.yaml; a missing file gives the defaults (import roots guessed),
    anything else that is not a file (a folder, a dangling symlink) is a ConfigError."""
    path = root / CONFIG_NAME
    kind = describe(path)
    if kind == "missing":
        return MeshConfig()
    if kind != "a file":  # never read as absent: its excludes and rules would be dropped
        raise ConfigError([ConfigProblem(CONFIG_NAME, 0, f"must be a file, not {kind}")])
    data = read_yaml(path, CONFIG_NAME)
    problems: list[ConfigProblem] = []
    config = _build(data, root, problems)
    if problems:
        raise ConfigError(problems)
    return config


class _Checker:
    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems

    def error(self, line: int, message: str) -> None:
        self.problems.append(ConfigProblem(CONFIG_NAME, line, message))

    def keys(self, mapping: Located, allowed: set[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                hint = f"; expected one of: {', '.join(sorted(allowed))}"
                self.error(mapping.line_of(key), f"unknown key {key!r} in {where}{hint}")

    def strings(self, mapping: Located, key: str) -> tuple[str, ...]:
        value = mapping.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(mapping.line_of(key), f"{key} must be a list of strings")
            return ()
        return tuple(value)

    def mapping(self, parent: Located, key: str) -> Located:
        value = parent.get(key)
        if value is None:
            return Located({}, {}, parent.line_of(key))
        if not isinstance(value, Located):
            self.error(parent.line_of(key), f"{key} must be a mapping")
            return Located({}, {}, parent.line_of(key))
        return value


def _build(data: Any, root: Path, problems: list[ConfigProblem]) -> MeshConfig:
    check = _Checker(problems)
    if data is None:
        return MeshConfig(path=CONFIG_NAME)
    if not isinstance(data, Located):
        check.error(1, "mesh.yaml must be a mapping")
        return MeshConfig()
    check.keys(data, _TOP, "mesh.yaml")
    version = data.get("version", 1)
    if version != 1:
        check.error(data.line_of("version"), f"unsupported version {version!r}; this tool reads version 1")
    syntax = data.get("airflowignore_syntax", "regexp")
    if syntax not in SYNTAXES:
        check.error(data.line_of("airflowignore_syntax"), f"airflowignore_syntax must be one of {', '.join(SYNTAXES)}")
    layout = {key: check.strings(data, key) if key in data else None for key in ("python_paths", "dags_folders")}
    for key, items in layout.items():
        for index, item in enumerate(items or ()):
            if not (root / item).is_dir():
                check.error(_item_line(data, key, index), f"{key} entry {item!r} is not a folder of the repository")
    rules = check.strings(data, "rules")
    for index, item in enumerate(rules):
        if not (root / item).is_file():
            check.error(_item_line(data, "rules", index), f"rule file {item!r} does not exist")
    exclude = check.strings(data, "exclude")
    for index, pattern in enumerate(exclude):
        if problem := glob_problem(pattern):
            check.error(_item_line(data, "exclude", index), problem)
    environment = _environment(check, check.mapping(data, "environment"))
    ownership = check.mapping(data, "ownership")
    check.keys(ownership, _OWNERSHIP, "ownership")
    folders = ownership.get("folders_are_teams")
    if folders is not None and not isinstance(folders, str):
        check.error(ownership.line_of("folders_are_teams"), "folders_are_teams must be a folder path")
        folders = None
    people = check.mapping(data, "people")
    for person, team in people.items():
        if not isinstance(team, str):
            check.error(people.line_of(person), f"people.{person} must name a team")
    teams = _teams(check, check.mapping(data, "teams"))
    names = {t.name for t in teams}
    for person, team in people.items():
        if isinstance(team, str) and teams and team not in names:
            check.error(people.line_of(person), f"people.{person} names unknown team {team!r}")
    monolith = _monolith(check, data, names) if "monolith" in data else None
    return MeshConfig(
        path=CONFIG_NAME,
        python_paths=layout["python_paths"],
        dags_folders=layout["dags_folders"],
        environment=environment,
        rules=rules,
        exclude=exclude,
        airflowignore_syntax=syntax if syntax in SYNTAXES else "regexp",
        folders_are_teams=folders,
        people={str(k): v for k, v in people.items() if isinstance(v, str)},
        teams=teams,
        identity=_identity(check, data),
        sizing=_sizing(check, data),
        monolith=monolith,
    )


def _monolith(check: _Checker, data: Located, names: set[str]) -> Monolith:
    section = check.mapping(data, "monolith")
    check.keys(section, _MONOLITH, "monolith")
    instance = _instance(check, check.mapping(section, "instance"), "the monolith")
    if instance.http_conn_id is None:
        instance = Instance(url=instance.url, http_conn_id=MONOLITH_CONN, api_version=instance.api_version)
    teams = check.strings(section, "teams")
    for index, team in enumerate(teams):
        if names and team not in names:
            check.error(_item_line(section, "teams", index), f"monolith.teams names unknown team {team!r}")
    return Monolith(instance, teams, data.line_of("monolith"))


_SIZING_AT_LEAST = {"headroom": 1.0}  # fewer slots than the peak would queue tasks


def _sizing(check: _Checker, data: Located) -> Sizing:
    section = check.mapping(data, "sizing")
    allowed = {f for f in Sizing.__dataclass_fields__}
    check.keys(section, allowed, "sizing")
    values: dict[str, float] = {}
    for key in sorted(allowed & set(section)):
        value: Any = section.get(key)
        if key == "monolith_monthly_cost" and value is None:
            continue
        floor = _SIZING_AT_LEAST.get(key)
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not is_number or (value < floor if floor is not None else value <= 0):
            bound = f"at least {floor:g}" if floor is not None else "greater than 0"
            check.error(section.line_of(key), f"sizing.{key} must be a number {bound}")
            continue
        values[key] = float(value)
    return Sizing(**values)


def _identity(check: _Checker, data: Located) -> Identity:
    if "identity" not in data:
        return Identity()
    section = check.mapping(data, "identity")
    check.keys(section, _IDENTITY, "identity")
    values = {}
    for key in _IDENTITY:
        value = section.get(key, getattr(Identity, key))
        if not isinstance(value, str) or not value:
            check.error(section.line_of(key), f"identity.{key} must be a string")
            continue
        values[key] = value
    template = values.get("service_account")
    if template is not None:
        try:
            account = template.format(team="team", project="project")
        except (KeyError, IndexError, ValueError) as exc:
            check.error(section.line_of("service_account"), f"identity.service_account may use only {{team}} and {{project}}: {exc}")
            values.pop("service_account")
        else:
            if "{team}" not in template or "@" not in account:
                check.error(section.line_of("service_account"), "identity.service_account must be an email address with {team} in it")
                values.pop("service_account")
    return Identity(**values, configured=True)


def _environment(check: _Checker, section: Located) -> Environment:
    check.keys(section, _ENVIRONMENT, "environment")
    variables = check.mapping(section, "variables")
    for name, value in variables.items():
        if not isinstance(value, (str, int, float, bool)):
            check.error(variables.line_of(name), f"environment.variables.{name} must be a string")
    airflow = check.mapping(section, "airflow_variables")
    return Environment(
        variables=tuple(sorted((str(k), str(v)) for k, v in variables.items() if isinstance(v, (str, int, float, bool)))),
        airflow_variables=tuple(sorted((str(k), _plain(v)) for k, v in airflow.items())),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _item_line(mapping: Located, key: str, index: int) -> int:
    value = mapping.get(key)
    lines = getattr(value, "lines", [])
    return lines[index] if index < len(lines) else mapping.line_of(key)


def _teams(check: _Checker, teams: Located) -> tuple[Team, ...]:
    out: list[Team] = []
    for name, body in teams.items():
        line = teams.line_of(name)
        if body is None:
            body = Located({}, {}, line)
        if not isinstance(body, Located):
            check.error(line, f"team {name!r} must be a mapping")
            continue
        check.keys(body, _TEAM, f"team {name!r}")
        paths = check.strings(body, "paths")
        for index, pattern in enumerate(paths):
            if problem := glob_problem(pattern):
                check.error(_item_line(body, "paths", index), f"team {name!r}: {problem}")
        description = body.get("description", "")
        out.append(
            Team(
                name=str(name),
                description=description if isinstance(description, str) else "",
                paths=paths,
                owners=check.strings(body, "owners"),
                codeowners=check.strings(body, "codeowners"),
                tags=check.strings(body, "tags"),
                dag_ids=check.strings(body, "dag_ids"),
                instance=_instance(check, check.mapping(body, "instance"), f"team {name!r}"),
                line=line,
            )
        )
    return tuple(out)


def _instance(check: _Checker, instance: Located, owner: str) -> Instance:
    check.keys(instance, _INSTANCE, f"instance of {owner}")
    api_version = instance.get("api_version", 2)
    if api_version not in API_VERSIONS:
        check.error(instance.line_of("api_version"), f"api_version of {owner} must be 2 or 3")
        api_version = 2
    for key in ("url", "http_conn_id"):
        if key in instance and not isinstance(instance[key], str):
            check.error(instance.line_of(key), f"{key} of {owner} must be a string")
    return Instance(
        url=instance.get("url") if isinstance(instance.get("url"), str) else None,
        http_conn_id=instance.get("http_conn_id") if isinstance(instance.get("http_conn_id"), str) else None,
        api_version=api_version,
    )
