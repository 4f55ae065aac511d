"""Import statements: repository modules found through the import roots and run once,
names from outside the repository kept as qualified names."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .base import InterpreterBase
from .expressions import unknown_value
from .models import external
from .values import (
    ExternalRef,
    ModuleRef,
    Scope,
    Unknown,
)

if TYPE_CHECKING:
    from .interpreter import ModuleState


class ImportsMixin(InterpreterBase):
    """Import statements and module attributes, for the Interpreter."""

    def import_module(self, ref: ModuleRef) -> ModuleState | None:
        state = self.ws.module_state(ref)
        if self.module is not None and ref.path:
            # Whatever module the code reaches (star import, `pkg.sub.name`) is a dependency.
            self.module.imports.add(ref.path)
        if state is None:
            self.ws.unreadable_import(ref, self.rec, self.top_line)
        if state is None or state.done or state.tree is None:
            return state
        if state.running:  # an import cycle: Python sees the partial module too
            return state
        state.running = True
        saved = (self.dag_stack, self.group_stack, self.call_depth)
        self.dag_stack, self.group_stack, self.call_depth = [], [], 0
        self.import_depth += 1
        try:
            self.run_module(state)
        except RecursionError:
            pass  # its names stay partial; the module's own analysis reports where
        finally:
            self.import_depth -= 1
            self.dag_stack, self.group_stack, self.call_depth = saved
            state.running = False
        return state

    def _exec_Import(self, stmt: ast.Import, scope: Scope) -> None:
        for alias in stmt.names:
            ref = self.ws.finder.find(alias.name)
            if ref is not None:
                self._import_packages(alias.name)
                self._note_import(ref, stmt)
            if alias.asname:
                scope.vars[alias.asname] = ref if ref is not None else ExternalRef(alias.name)
            else:
                top = alias.name.split(".")[0]
                top_ref = self.ws.finder.find(top)
                scope.vars[top] = top_ref if top_ref is not None else ExternalRef(top)

    def _exec_ImportFrom(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        base = self._absolute_module(stmt)
        ref = self.ws.finder.find(base) if base else None
        if ref is not None:
            self._import_packages(base)
        for alias in stmt.names:
            if alias.name == "*":
                if ref is not None:
                    state = self.import_module(ref)
                    if state is not None:
                        scope.vars.update({k: v for k, v in state.scope.vars.items() if not k.startswith("_")})
                continue
            name = alias.asname or alias.name
            if ref is None:
                scope.vars[name] = external(f"{base}.{alias.name}")
                continue
            sub = self.ws.finder.find(f"{ref.name}.{alias.name}")
            value = self.module_attribute(ref, alias.name, stmt)
            if isinstance(value, Unknown) and sub is not None:
                value = sub
            self._note_import(sub if isinstance(value, ModuleRef) and sub else ref, stmt)
            scope.vars[name] = value

    def _import_packages(self, dotted: str) -> None:
        """Python runs every enclosing package's __init__.py before the module itself."""
        parts = dotted.split(".")
        for end in range(1, len(parts)):
            package = self.ws.finder.find(".".join(parts[:end]))
            if package is not None and package.path:
                self.import_module(package)

    def _note_import(self, ref: ModuleRef, stmt: ast.stmt) -> None:
        if self.module is not None and ref.path:
            self.module.imports.add(ref.path)
        if self.in_top_module():
            self.rec.module_import(ref.name, stmt)

    def _absolute_module(self, stmt: ast.ImportFrom) -> str:
        if not stmt.level:
            return stmt.module or ""
        package = self.module.package if self.module else ""
        parts = package.split(".") if package else []
        if stmt.level > 1:
            parts = parts[: len(parts) - (stmt.level - 1)]
        if stmt.module:
            parts.append(stmt.module)
        return ".".join(parts)

    def module_attribute(self, ref: ModuleRef, name: str, node: ast.AST) -> Any:
        if ref.path is not None:
            state = self.import_module(ref)
            if state is not None and name in state.scope.vars:
                return state.scope.vars[name]
        sub = self.ws.finder.find(f"{ref.name}.{name}")
        if sub is not None:
            return sub
        qualname = f"{ref.name}.{name}"
        if self.rules.dependency_rule(qualname) or self.rules.is_dataset_hook(qualname):
            return ExternalRef(qualname)  # named by the rule pack: known without following the module
        return unknown_value(node, f"{ref.name}.{name} is not defined statically in the repository")
