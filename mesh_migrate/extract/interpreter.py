"""A static interpreter for the module level of DAG files.

It walks a module's statements the way Python would run them, but over abstract values:
literals, constants and f-strings are computed, loops over literal collections are
unrolled, in-repo functions and classes are inlined with their arguments bound, and names
imported from outside the repository stay symbolic (`ExternalRef`). Nothing is imported
or executed. Whatever depends on run-time input becomes `Unknown` with a reason.

Calls that matter (DAG constructors, operators, datasets, connection getters) are handed
to a `Recorder`, which turns them into facts. Expressions are evaluated by `Evaluator`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..facts import Diagnostic, SourceSpan
from .calls import CallsMixin
from .control import BreakSignal, ContinueSignal, ReturnSignal
from .expressions import (
    BudgetExceeded,
    Evaluator,
    unknown_value,
)
from .imports import ImportsMixin
from .patterns import assigned_names
from .statements import StatementsMixin
from .values import (
    RUNNING,
    DagObj,
    Function,
    Scope,
    Unknown,
)

if TYPE_CHECKING:
    from .extractor import Recorder, Workspace


class ModuleState:
    def __init__(self, name: str, path: str, tree: ast.Module | None, file: str | None = None):
        self.name = name
        self.path = path
        self.tree = tree
        self.scope = Scope({"__name__": name}, module=self)
        if file is not None:  # as Python sets it: the module's absolute path
            self.scope.vars["__file__"] = file
        self.done = False
        self.running = False
        self.imports: set[str] = set()  # paths of repository modules this one imports
        self.outside_loop: ast.stmt | None = None  # a `break` or `continue` Python would refuse

    @property
    def package(self) -> str:
        if self.path.endswith("__init__.py"):
            return self.name
        return self.name.rpartition(".")[0]


class Interpreter(StatementsMixin, CallsMixin, ImportsMixin, Evaluator):
    def __init__(self, workspace: Workspace, recorder: Recorder):
        self.ws = workspace
        self.rec = recorder
        self.rules = workspace.rules
        self._module: ModuleState | None = None
        self._in_top_file = False
        self.import_depth = 0
        self.call_depth = 0
        self.steps = 0
        self.dag_stack: list[DagObj] = []
        self.group_stack: list[tuple[str, bool]] = []
        self.top_node: ast.stmt | ast.expr | None = None
        self.functions: list[Function] = []
        self.yields: list[list[Any]] = []  # one list per generator running
        self.tainted: dict[int, tuple[Any, Unknown]] = {}  # see Evaluator.taint
        self.uncertain = 0  # > 0 while running a branch that may not run
        self.branches: list[tuple[int, int, Any]] = []  # (branch point, branch taken, why unsure)
        self.branch_points = 0

    @property
    def module(self) -> ModuleState | None:
        return self._module

    @module.setter
    def module(self, state: ModuleState | None) -> None:
        self._module = state
        self._in_top_file = state is not None and state.path == self.rec.path
        RUNNING.path = state.path if state is not None else None

    # ---- modules -------------------------------------------------------------------
    def run_module(self, state: ModuleState) -> None:
        assert state.tree is not None, "only parsed modules are run"
        previous, self.module = self.module, state
        try:
            for stmt in state.tree.body:
                self.run_module_statement(stmt, state)
        except ReturnSignal:
            pass
        except (BreakSignal, ContinueSignal) as escaped:  # Python refuses such a module
            state.outside_loop = escaped.args[0]
        finally:
            state.done = True
            self.module = previous

    def run_module_statement(self, stmt: ast.stmt, state: ModuleState) -> None:
        """One module-level statement, on a budget of its own: a statement that does too
        much work is given up (what it assigns becomes unknown) and the module goes on."""
        outer, self.steps = self.steps, 0
        try:
            self.exec_stmt(stmt, state.scope)
        except BudgetExceeded:
            reason = "does too much work to follow statically"
            for name in assigned_names(stmt):
                state.scope.vars[name] = unknown_value(stmt, reason)
            if self.in_top_module():
                self.rec.diagnostics.append(Diagnostic("warning", "analysis-budget", f"gave up this statement: it {reason}", SourceSpan(self.rec.path, stmt.lineno, stmt.col_offset)))
        finally:
            self.steps = outer

    @property
    def recording(self) -> bool:
        return self.import_depth == 0

    def in_top_module(self) -> bool:
        return self.import_depth == 0 and self._in_top_file
