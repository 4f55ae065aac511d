"""What the parts of the static interpreter share.

`Interpreter` is made of mixins, one per concern (statements, calls, imports, expressions);
each calls methods another defines and uses state `Interpreter.__init__` sets. This class
declares that state and those methods once, so each part is checked on its own: the
methods are implemented by the part named beside them, and exist here for type checkers only.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Callable, ClassVar

if TYPE_CHECKING:
    from ..rulepack import RulePack
    from .extractor import Workspace
    from .interpreter import ModuleState
    from .recorder import Recorder
    from .values import BoundBuiltin, DagObj, Function, MappedPartial, ModuleRef, Scope, Unknown


class InterpreterBase:
    """The state and the shared methods of `Interpreter` (set up in its `__init__`)."""

    ws: Workspace
    rec: Recorder
    rules: RulePack
    import_depth: int  # > 0 while running a module the analyzed file imports
    call_depth: int
    steps: int  # work done by the current module-level statement (see MAX_STEPS)
    dag_stack: list[DagObj]
    group_stack: list[tuple[str, bool]]  # (group id, prefix_group_id), outermost first
    # The top module's current statement or call, where facts found in helpers are placed.
    # Kept as the node, its place read only when a fact needs it: it moves at every statement.
    top_node: ast.stmt | ast.expr | None
    functions: list[Function]  # the repository functions running, innermost last
    yields: list[list[Any]]  # one list per generator running
    tainted: dict[int, tuple[Any, Unknown]]  # see Evaluator.taint
    uncertain: int  # > 0 while running a branch that may not run
    branches: list[tuple[int, int, Any]]  # (branch point, branch taken, why unsure)
    branch_points: int

    # The method for each node class (`_eval_Call`, `_exec_If`; None: not handled), per
    # interpreter class and found on first use: looking it up by name for every node cost
    # a tenth of the interpretation.
    _eval_handlers: ClassVar[dict[type, Callable[..., Any] | None]] = {}
    _exec_handlers: ClassVar[dict[type, Callable[..., Any] | None]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._eval_handlers = {}
        cls._exec_handlers = {}

    @property
    def top_line(self) -> int:
        return self.top_node.lineno if self.top_node is not None else 0

    @property
    def top_col(self) -> int:
        return self.top_node.col_offset if self.top_node is not None else 0

    @property
    def top_end(self) -> tuple[int, int]:
        """Where the top module's current statement or call ends."""
        node = self.top_node
        return (node.end_lineno or 0, node.end_col_offset or 0) if node is not None else (0, 0)

    @classmethod
    def _find_handler(cls, handlers: dict[type, Callable[..., Any] | None], prefix: str, kind: type) -> Callable[..., Any] | None:
        """The method named PREFIX + the node class's name, remembered in HANDLERS."""
        handler = handlers[kind] = getattr(cls, f"{prefix}{kind.__name__}", None)
        return handler

    if TYPE_CHECKING:
        # interpreter.py
        @property
        def module(self) -> ModuleState | None: ...
        @module.setter
        def module(self, state: ModuleState | None) -> None: ...
        @property
        def recording(self) -> bool: ...
        def in_top_module(self) -> bool: ...
        def run_module(self, state: ModuleState) -> None: ...

        # statements.py
        def exec_block(self, body: list[ast.stmt], scope: Scope) -> None: ...
        def assign(self, target: ast.expr, value: Any, scope: Scope) -> None: ...
        def _is_task_decorator(self, qualname: str) -> bool: ...

        # expressions.py
        def eval(self, node: ast.expr | None, scope: Scope) -> Any: ...
        def _lookup(self, node: ast.Name, scope: Scope) -> Any: ...
        def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any: ...
        def truth(self, value: Any) -> bool | None: ...
        def iterate(self, value: Any, node: ast.AST) -> list[Any] | Unknown: ...
        def taint(self, container: Any, node: ast.AST, reason: str) -> None: ...
        def note_mutation(self, container: Any, node: ast.AST) -> None: ...
        def call_builtin_method(self, func: BoundBuiltin, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any: ...

        # calls.py
        def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST] | None = None) -> Any: ...
        def call_external(self, qualname: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST], direct: bool = True) -> Any: ...
        def call_function(self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any: ...
        def expand(self, mapped: MappedPartial, how: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any: ...

        # imports.py
        def module_attribute(self, ref: ModuleRef, name: str, node: ast.AST) -> Any: ...
