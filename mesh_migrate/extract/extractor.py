"""Per-file extraction: parse one file, interpret its module level, return FileFacts."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from ..facts import DagFact, Diagnostic, FileFacts, ResourceUse, SourceSpan
from ..rulepack import RulePack
from .interpreter import BudgetExceeded, Interpreter, ModuleState
from .models.paths import module_file
from .modules import MAX_FILE_BYTES, ModuleFinder, parse_source
from .callables import CallableScanner
from .recorder import Recorder
from .values import ModuleRef


class Workspace:
    """What extraction shares across the files of one process: rules and imported modules."""

    def __init__(self, root: Path, rules: RulePack, python_paths: list[str]):
        self.root = root
        self.rules = rules
        self.finder = ModuleFinder(root, python_paths)
        self.callables = CallableScanner(rules)
        self._states: dict[str, ModuleState | None] = {}
        self.repo_files: Any = None  # the repository listing models read paths through, made on first use
        self._read_errors: dict[str, str] = {}  # module path -> why it could not be read

    def module_state(self, ref: ModuleRef) -> ModuleState | None:
        if ref.name not in self._states:
            self._states[ref.name] = self._load(ref)
        return self._states[ref.name]

    def _load(self, ref: ModuleRef) -> ModuleState | None:
        if ref.path is None:
            state = ModuleState(ref.name, "", None)
            state.done = True
            return state
        try:
            data = (self.root / ref.path).read_bytes()
        except OSError as exc:
            self._read_errors[ref.path] = exc.strerror or str(exc)
            return None
        parsed = parse_source(data, ref.path) if len(data) <= MAX_FILE_BYTES else None
        state = ModuleState(ref.name, ref.path, parsed.tree if parsed else None, module_file(self.root, ref.path))
        if state.tree is None:
            state.done = True
        return state

    def unreadable_import(self, ref: ModuleRef, recorder: Recorder, line: int) -> None:
        """Report, once per analyzed file, an imported module that could not be read:
        what the file takes from it is unknown, and that must never pass silently."""
        why = self._read_errors.get(ref.path or "", "unreadable")
        message = f"cannot read imported module {ref.path}: {why}; what this file uses from it is unknown"
        if not any(d.code == "unreadable-import" and d.message == message for d in recorder.diagnostics):
            recorder.diagnostics.append(Diagnostic("error", "unreadable-import", message, SourceSpan(recorder.path, max(line, 1))))

    def depends_on(self, direct: set[str]) -> tuple[str, ...]:
        """Every repository module reachable through imports from `direct` (paths)."""
        by_path = {s.path: s for s in self._states.values() if s is not None and s.path}
        seen: set[str] = set()
        todo = list(direct)
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            state = by_path.get(path)
            if state is not None:
                todo.extend(state.imports)
        return tuple(sorted(seen))

    def extract(self, path: str, data: bytes | None = None) -> FileFacts:
        """The facts of one file (posix path relative to root). Never raises."""
        try:
            return self._extract(path, data)
        except Exception as exc:  # noqa: BLE001 - a bug costs this file, never the whole run
            return _failed(path, 1, "internal-error", f"analysis failed: {type(exc).__name__}: {exc}")

    def _extract(self, path: str, data: bytes | None) -> FileFacts:
        if data is None:
            try:
                data = (self.root / path).read_bytes()
            except OSError as exc:
                return _failed(path, 1, "unreadable", f"cannot read file: {exc.strerror or exc}")
        if len(data) > MAX_FILE_BYTES:
            return _failed(path, 1, "file-too-large", f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB; not analyzed")
        parsed = parse_source(data, path)
        if parsed.tree is None:
            return _failed(path, parsed.line, "parse-error", f"cannot parse: {parsed.error}")
        recorder = Recorder(path, self.rules)
        state = ModuleState(self.finder.module_name(path), path, parsed.tree, module_file(self.root, path))
        interp = Interpreter(self, recorder)
        try:
            interp.run_module(state)
        except BudgetExceeded:
            recorder.diagnostics.append(
                Diagnostic("warning", "analysis-budget", "stopped interpreting: the module level does too much work to follow statically", SourceSpan(path, interp.top_line))
            )
        except RecursionError:
            recorder.diagnostics.append(
                Diagnostic("warning", "too-deep", "stopped interpreting: code nested too deeply", SourceSpan(path, interp.top_line))
            )
        except Exception as exc:  # noqa: BLE001 - keep what was found before the failure
            recorder.diagnostics.append(
                Diagnostic("error", "internal-error", f"stopped interpreting: {type(exc).__name__}: {exc}", SourceSpan(path, interp.top_line))
            )
        recorder.finish()
        if state.outside_loop is not None:
            keyword = "break" if isinstance(state.outside_loop, ast.Break) else "continue"
            return _failed(path, state.outside_loop.lineno, "parse-error", f"cannot parse: syntax error: '{keyword}' outside loop")
        self.callables.scan(parsed.tree, parsed.lines, state.scope, recorder)
        # Scopes, functions and the module refer to each other; breaking those cycles frees
        # the tree without the garbage collector.
        state.scope.vars.clear()
        state.scope.module = None
        dags = recorder.dag_facts()
        resources = recorder.resource_facts()
        resources += _module_uses(recorder, dags)
        return FileFacts(
            path=path,
            dags=tuple(dags),
            dependencies=tuple(recorder.dependency_facts()),
            datasets=tuple(recorder.dataset_facts()),
            resources=tuple(resources),
            unresolved=tuple(recorder.unresolved),
            diagnostics=tuple(recorder.diagnostics),
            depends_on=self.depends_on(state.imports),
        )


def _failed(path: str, line: int, code: str, message: str) -> FileFacts:
    return FileFacts(path=path, diagnostics=(Diagnostic("error", code, message, SourceSpan(path, line)),))


def _module_uses(recorder: Recorder, dags: list[DagFact]) -> list[ResourceUse]:
    uses = []
    seen: set[tuple[str, str | None]] = set()
    holders: list[str | None] = [d.dag_id for d in dags] or [None]
    for module, line in recorder.imports:
        for dag_id in holders:
            if (module, dag_id) not in seen:
                seen.add((module, dag_id))
                uses.append(ResourceUse("module", module, dag_id, SourceSpan(recorder.path, line)))
    return uses
