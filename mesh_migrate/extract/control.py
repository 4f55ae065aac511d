"""How statements end early: return, break and continue, as exceptions the interpreter catches."""

from __future__ import annotations

from typing import Any


class ReturnSignal(Exception):
    def __init__(self, value: Any):
        self.value = value


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
    pass
